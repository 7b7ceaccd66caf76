// Compiles config schemas with valijson and turns its errors into one readable line per problem.
#include "plugin/config_schema.h"

// Without this valijson reports a bad schema by printing and calling abort().
#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

namespace stagehost {

// A member function named json() hides the type inside the class, hence the alias.
using Json = nlohmann::json;

struct ConfigSchema::Compiled {
  Json given;
  Json closed;  // `given` with open object schemas closed; what `schema` was built from
  valijson::Schema schema;
};

namespace {

constexpr int kMaxSchemaDepth = 256;
// Each round of unknown-key discovery finds at least one more key per object; see Validate.
constexpr int kMaxUnknownKeyRounds = 100;
// Bounds the schemas consulted while explaining one error ($ref cycles, combinator fan-out).
constexpr size_t kMaxCandidates = 256;
constexpr int kMaxRefDepth = 32;

constexpr std::string_view kUnknownKeyPrefix =
    "Object contains a property that could not be validated using 'properties' or "
    "'additionalProperties' constraints: '";

// Closes open object schemas and checks the regexes valijson would otherwise only compile (and
// throw on) in the middle of a validation. `close_self` is false for subschemas that add
// constraints to an object described elsewhere (then/else/dependencies): closing those would
// reject every key they do not repeat.
Status Prepare(Json& schema, int depth, bool close_self) {
  if (!schema.is_object()) return Status::Ok();
  if (depth > kMaxSchemaDepth) return InvalidArgument("config schema is nested too deeply");
  if (close_self && schema.contains("properties") && !schema.contains("additionalProperties") &&
      !schema.contains("patternProperties")) {
    schema["additionalProperties"] = false;
  }
  std::vector<std::string> patterns;
  if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
    patterns.push_back(it->get<std::string>());
  }
  if (auto it = schema.find("patternProperties"); it != schema.end() && it->is_object()) {
    for (const auto& [pattern, unused] : it->items()) patterns.push_back(pattern);
  }
  for (const std::string& pattern : patterns) {
    try {
      std::regex compiled(pattern);
    } catch (const std::regex_error& e) {
      return InvalidArgument("config schema has an invalid regular expression \"" + pattern +
                             "\": " + e.what());
    }
  }
  // Keywords whose value is a schema, an array of schemas, or a map of name -> schema. Data
  // ("enum", "const", "default") is left alone, and so are the tests "if" and "not", whose
  // meaning closing would invert.
  struct Keyword {
    std::string_view name;
    bool is_map;
    bool close;
  };
  static constexpr Keyword kKeywords[] = {
      {"properties", true, true},
      {"patternProperties", true, true},
      {"additionalProperties", false, true},
      {"items", false, true},
      {"additionalItems", false, true},
      {"contains", false, true},
      {"definitions", true, true},
      {"$defs", true, true},
      {"allOf", false, true},
      {"anyOf", false, true},
      {"oneOf", false, true},
      {"then", false, false},
      {"else", false, false},
      {"dependencies", true, false},
  };
  for (const Keyword& keyword : kKeywords) {
    auto it = schema.find(keyword.name);
    if (it == schema.end()) continue;
    if (keyword.is_map ? it->is_object() : it->is_array()) {
      for (Json& child : *it) STAGEHOST_RETURN_IF_ERROR(Prepare(child, depth + 1, keyword.close));
    } else {
      STAGEHOST_RETURN_IF_ERROR(Prepare(*it, depth + 1, keyword.close));
    }
  }
  return Status::Ok();
}

// The subschemas that apply at one place of the config, gathered to explain an error with the
// schema's own words (expected type, enum values, bounds). Best effort: valijson does not say
// which subschema failed, so this follows properties/items/$ref/combinators.
class SchemaWalk {
 public:
  explicit SchemaWalk(const Json& root) : root_(root) { Expand(root, 0, schemas_); }

  void StepKey(const std::string& key) {
    std::vector<const Json*> next;
    for (const Json* s : schemas_) {
      bool matched = false;
      if (auto it = s->find("properties"); it != s->end() && it->is_object()) {
        if (auto prop = it->find(key); prop != it->end()) {
          Expand(*prop, 0, next);
          matched = true;
        }
      }
      if (auto it = s->find("patternProperties"); it != s->end() && it->is_object()) {
        for (const auto& [pattern, sub] : it->items()) {
          if (std::regex_search(key, std::regex(pattern))) {  // checked by Prepare
            Expand(sub, 0, next);
            matched = true;
          }
        }
      }
      if (auto it = s->find("additionalProperties"); !matched && it != s->end()) {
        Expand(*it, 0, next);
      }
    }
    schemas_ = std::move(next);
  }

  void StepIndex(size_t index) {
    std::vector<const Json*> next;
    for (const Json* s : schemas_) {
      auto items = s->find("items");
      if (items == s->end()) continue;
      if (items->is_object()) {
        Expand(*items, 0, next);
      } else if (items->is_array() && index < items->size()) {
        Expand((*items)[index], 0, next);
      } else if (auto extra = s->find("additionalItems"); extra != s->end()) {
        Expand(*extra, 0, next);
      }
    }
    schemas_ = std::move(next);
  }

  // The first value of `keyword` among the applicable schemas for which `accept` holds.
  template <typename Pred>
  const Json* Find(std::string_view keyword, Pred accept) const {
    for (const Json* s : schemas_) {
      auto it = s->find(keyword);
      if (it != s->end() && accept(*it)) return &*it;
    }
    return nullptr;
  }

  // Types named by "type" anywhere among the applicable schemas, in order, once each.
  std::vector<std::string> Types() const {
    std::vector<std::string> types;
    auto add = [&types](const Json& t) {
      if (t.is_string() && std::find(types.begin(), types.end(), t) == types.end()) {
        types.push_back(t.get<std::string>());
      }
    };
    for (const Json* s : schemas_) {
      auto it = s->find("type");
      if (it == s->end()) continue;
      if (it->is_array()) {
        for (const Json& t : *it) add(t);
      } else {
        add(*it);
      }
    }
    return types;
  }

 private:
  void Expand(const Json& schema, int depth, std::vector<const Json*>& out) const {
    if (!schema.is_object() || depth > kMaxRefDepth || out.size() >= kMaxCandidates) return;
    out.push_back(&schema);
    if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
      const std::string& target = ref->get_ref<const std::string&>();
      if (!target.empty() && target[0] == '#') {
        try {
          Expand(root_.at(Json::json_pointer(target.substr(1))), depth + 1, out);
        } catch (const Json::exception&) {
          // Not a plain local pointer (an $id anchor, say): nothing more to learn here.
        }
      }
    }
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      if (auto it = schema.find(keyword); it != schema.end() && it->is_array()) {
        for (const Json& sub : *it) Expand(sub, depth + 1, out);
      }
    }
    for (const char* keyword : {"then", "else"}) {
      if (auto it = schema.find(keyword); it != schema.end()) Expand(*it, depth + 1, out);
    }
  }

  const Json& root_;
  std::vector<const Json*> schemas_;
};

// Where a valijson error points: its context is {"<root>", "[key]", "[0]", ...}, which cannot
// tell key "0" from index 0, so it is resolved against the document it came from.
struct Location {
  Json::json_pointer pointer;
  const Json* value = nullptr;  // null when the context does not resolve (should not happen)
};

Location Locate(const std::vector<std::string>& context, const Json& doc, SchemaWalk* walk) {
  Location loc;
  loc.value = &doc;
  for (size_t i = 1; i < context.size(); ++i) {
    std::string segment = context[i];
    if (segment.size() >= 2 && segment.front() == '[' && segment.back() == ']') {
      segment = segment.substr(1, segment.size() - 2);
    }
    const Json* node = loc.value;
    size_t index = 0;
    auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
    if (node != nullptr && node->is_array() && ec == std::errc() &&
        end == segment.data() + segment.size()) {
      loc.pointer /= index;
      loc.value = index < node->size() ? &(*node)[index] : nullptr;
      if (walk) walk->StepIndex(index);
    } else {
      loc.pointer /= segment;
      loc.value = nullptr;
      if (node != nullptr && node->is_object()) {
        if (auto it = node->find(segment); it != node->end()) loc.value = &*it;
      }
      if (walk) walk->StepKey(segment);
    }
  }
  return loc;
}

std::string PointerText(const Json::json_pointer& pointer) {
  std::string text = pointer.to_string();
  return text.empty() ? "/" : text;
}

std::string TypeName(const Json& value) { return value.is_number() ? "number" : value.type_name(); }

// dump() throws on invalid UTF-8 (yaml-cpp does not check); an error report must not.
std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Shown(const Json& value) {
  if (value.is_object() || value.is_array()) return TypeName(value);
  std::string text = Dump(value);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// valijson's "property X failed" / "item N failed" / "child schema failed" notes, which only
// repeat the context of the errors reported beneath them.
bool IsWrapper(std::string_view description) {
  for (std::string_view prefix :
       {"Failed to validate against schema associated with property name",
        "Failed to validate against schema associated with pattern",
        "Failed to validate against additional properties schema", "Failed to validate item #",
        "Failed to validate against child schema #", "Failed to validate against dependent schema",
        "Failed to validate against a conditional schema"}) {
    if (StartsWith(description, prefix)) return true;
  }
  return false;
}

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// The text between `prefix` and a closing "'." — how valijson quotes property names.
std::string Quoted(std::string_view description, std::string_view prefix) {
  std::string_view rest = description.substr(prefix.size());
  if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "'.") rest.remove_suffix(2);
  return std::string(rest);
}

// valijson prints bounds with std::to_string ("0.500000"); show the schema's own number instead.
std::string Bound(const SchemaWalk& walk, bool lower, const std::string& printed) {
  static constexpr const char* kLower[] = {"minimum", "exclusiveMinimum"};
  static constexpr const char* kUpper[] = {"maximum", "exclusiveMaximum"};
  for (const char* keyword : lower ? kLower : kUpper) {
    const Json* bound = walk.Find(keyword, [&printed](const Json& b) {
      return b.is_number() && std::to_string(b.get<double>()) == printed;
    });
    if (bound) return Dump(*bound);
  }
  return printed;
}

std::string Explain(const std::string& description, const SchemaWalk& walk, const Json* value) {
  std::string got = value ? ", got " + Shown(*value) : "";
  if (description == "Value type not permitted by 'type' constraint.") {
    std::vector<std::string> types = walk.Types();
    std::string expected;
    for (size_t i = 0; i < types.size(); ++i) expected += (i ? " or " : "") + types[i];
    if (expected.empty()) return "type not allowed here" + (value ? ": " + TypeName(*value) : "");
    return "expected " + expected + (value ? ", got " + TypeName(*value) : "");
  }
  // Left only when nothing was said beneath it: the property's schema is `false`.
  if (std::string_view p = "Failed to validate against schema associated with property name '";
      StartsWith(description, p)) {
    return "key \"" + Quoted(description, p) + "\" is not allowed";
  }
  if (std::string_view p = "Missing required property '"; StartsWith(description, p)) {
    return "missing required key \"" + Quoted(description, p) + "\"";
  }
  if (description == "Failed to match against any enum values.") {
    const Json* values = walk.Find("enum", [](const Json& e) { return e.is_array(); });
    if (!values) return "not one of the allowed values" + got;
    std::string list;
    for (const Json& v : *values) list += (list.empty() ? "" : ", ") + Dump(v);
    return "must be one of " + list + got;
  }
  static const std::regex kBound("Expected number (greater|less) than( or equal to)? (.*)");
  if (std::smatch m; std::regex_match(description, m, kBound)) {
    bool lower = m[1] == "greater";
    bool inclusive = m[2].matched;
    std::string relation = lower ? (inclusive ? "at least " : "greater than ")
                                 : (inclusive ? "at most " : "less than ");
    return "must be " + relation + Bound(walk, lower, m[3]) + got;
  }
  if (description == "Failed to match regex specified by 'pattern' constraint.") {
    const Json* pattern = walk.Find("pattern", [](const Json& p) { return p.is_string(); });
    return "must match " + (pattern ? Dump(*pattern) : std::string("the pattern")) + got;
  }
  if (description == "Failed to match expected value set by 'const' constraint.") {
    const Json* expected = walk.Find("const", [](const Json&) { return true; });
    return expected ? "must be " + Dump(*expected) + got : "not the required value" + got;
  }
  if (StartsWith(description, "Failed to validate against any schemas allowed by anyOf")) {
    return "matches none of the allowed alternatives (anyOf)";
  }
  if (StartsWith(description, "Failed to validate against any child schemas allowed by oneOf")) {
    return "matches none of the allowed alternatives (oneOf)";
  }
  if (description == "Failed to validate against exactly one child schema.") {
    return "matches more than one alternative (oneOf)";
  }
  if (description == "Target should not validate against schema specified in 'not' constraint.") {
    return "matches a schema it must not match (not)" + got;
  }
  // Anything else: valijson's own sentence, in the lower-case style of the lines around it.
  std::string text = description;
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

Result<ConfigSchema> ConfigSchema::Parse(std::string_view schema_json) {
  auto compiled = std::make_shared<Compiled>();
  try {
    compiled->given = Json::parse(schema_json.begin(), schema_json.end());
  } catch (const Json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string_view reason = e.what();
    if (size_t end = reason.find("] "); reason.substr(0, 1) == "[" && end != reason.npos) {
      reason.remove_prefix(end + 2);
    }
    return InvalidArgument("config schema is not valid JSON: " + std::string(reason));
  }
  if (!compiled->given.is_object()) {
    return InvalidArgument("config schema must be a JSON object, got " + TypeName(compiled->given));
  }
  compiled->closed = compiled->given;
  STAGEHOST_RETURN_IF_ERROR(Prepare(compiled->closed, 0, /*close_self=*/true));
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(compiled->closed);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("config schema is not a valid JSON Schema: ") + e.what());
  }
  return ConfigSchema(std::move(compiled));
}

const Json& ConfigSchema::json() const { return compiled_->given; }

Status ConfigSchema::Validate(const Json& config) const {
  // (pointer, message), sorted so the report reads top-down through the config.
  std::set<std::pair<std::string, std::string>> problems;
  // valijson names only the first unknown key of an object. To report them all, each round drops
  // the keys found so far from a working copy and validates again, until no new key turns up.
  std::set<std::pair<std::string, std::string>> unknown;
  Json working = config;
  bool truncated = false;
  bool valid = true;
  for (int round = 0;; ++round) {
    const Json& doc = round == 0 ? config : working;
    valijson::ValidationResults results;
    try {
      valijson::Validator validator(valijson::Validator::kStrongTypes);
      valijson::adapters::NlohmannJsonAdapter target(doc);
      if (validator.validate(compiled_->schema, target, &results)) break;
      valid = false;
    } catch (const std::exception& e) {
      return Internal(std::string("validating config: ") + e.what());
    }
    std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
    std::vector<std::pair<Json::json_pointer, std::string>> to_remove;
    for (const auto& error : errors) {
      if (!StartsWith(error.description, kUnknownKeyPrefix)) continue;
      Location loc = Locate(error.context, doc, nullptr);
      std::string key = Quoted(error.description, kUnknownKeyPrefix);
      if (unknown.emplace(PointerText(loc.pointer), key).second) {
        to_remove.emplace_back(loc.pointer, key);
      }
    }
    if (round == 0) {
      for (const auto& error : errors) {
        if (StartsWith(error.description, kUnknownKeyPrefix)) continue;
        if (IsWrapper(error.description)) {
          // Dropped when a real problem sits at or below it, or anything sits deeper.
          bool covered = std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
            if (&other == &error || !IsPrefix(error.context, other.context)) return false;
            return other.context.size() > error.context.size() || !IsWrapper(other.description);
          });
          if (covered) continue;
        }
        SchemaWalk walk(compiled_->closed);
        Location loc = Locate(error.context, doc, &walk);
        problems.emplace(PointerText(loc.pointer), Explain(error.description, walk, loc.value));
      }
    }
    if (to_remove.empty()) break;
    if (round + 1 >= kMaxUnknownKeyRounds) {
      truncated = true;
      break;
    }
    for (const auto& [pointer, key] : to_remove) {
      if (working.contains(pointer) && working.at(pointer).is_object()) {
        working.at(pointer).erase(key);
      }
    }
  }
  for (const auto& [pointer, key] : unknown) {
    problems.emplace(pointer, "unknown key " + Dump(Json(key)));
  }
  if (valid) return Status::Ok();
  // A `false` schema fails without a word from valijson.
  if (problems.empty()) problems.emplace("/", "not allowed by the schema");
  std::string message = "config does not match the plugin's schema (" +
                        std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem):" : " problems):");
  for (const auto& [pointer, what] : problems) message += "\n" + pointer + ": " + what;
  if (truncated) message += "\n(more unknown keys not listed)";
  return InvalidConfig(std::move(message));
}

}  // namespace stagehost
