// SchemaMarkdownTable: flattens a JSON Schema's properties into a Markdown table.
#include "cli/schema_markdown.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

namespace stagehost::cli {
namespace {

using json = nlohmann::ordered_json;

// Follows "#/definitions/x"-style pointers; anything else is left as it is (shown as "object").
const json& Resolve(const json& root, const json& node) {
  const json* current = &node;
  for (int depth = 0; depth < 8 && current->is_object() && current->contains("$ref"); ++depth) {
    const json& ref = (*current)["$ref"];
    if (!ref.is_string() || ref.get<std::string>().rfind("#/", 0) != 0) break;
    json::json_pointer pointer(ref.get<std::string>().substr(1));
    if (!root.contains(pointer)) break;
    current = &root.at(pointer);
  }
  return *current;
}

// Table cells are one line; a literal | would end the cell.
std::string Cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Code(const json& value) { return "`" + value.dump() + "`"; }

std::string TypeOf(const json& root, const json& node) {
  const json& s = Resolve(root, node);
  if (!s.is_object()) return "any";
  if (s.contains("const")) return Code(s["const"]);
  if (s.contains("enum") && s["enum"].is_array()) {
    std::vector<std::string> values;
    for (const json& v : s["enum"]) values.push_back(Code(v));
    return fmt::format("{}", fmt::join(values, ", "));
  }
  for (const char* combinator : {"oneOf", "anyOf"}) {
    if (s.contains(combinator) && s[combinator].is_array()) {
      std::vector<std::string> types;
      for (const json& alternative : s[combinator]) {
        std::string t = TypeOf(root, alternative);
        if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
      }
      return fmt::format("{}", fmt::join(types, " or "));
    }
  }
  std::string type = "any";
  if (s.contains("type")) {
    if (s["type"].is_string()) {
      type = s["type"].get<std::string>();
    } else if (s["type"].is_array()) {
      std::vector<std::string> types;
      for (const json& t : s["type"]) types.push_back(t.is_string() ? t.get<std::string>() : "any");
      type = fmt::format("{}", fmt::join(types, " or "));
    }
  } else if (s.contains("properties")) {
    type = "object";
  }
  if (type == "array" && s.contains("items") && s["items"].is_object()) {
    const json& items = Resolve(root, s["items"]);
    if (!items.contains("properties")) type = "array of " + TypeOf(root, items);
  }
  if (type == "object" && s.contains("additionalProperties") &&
      s["additionalProperties"].is_object() && !s.contains("properties")) {
    type = "object of " + TypeOf(root, s["additionalProperties"]);
  }
  return type;
}

// Bounds and patterns a reader needs to write a valid value, appended to the description.
std::string Limits(const json& s) {
  std::vector<std::string> parts;
  auto add = [&](const char* key, const char* label) {
    if (s.contains(key)) parts.push_back(fmt::format("{} {}", label, s[key].dump()));
  };
  add("minimum", "min");
  add("exclusiveMinimum", "greater than");
  add("maximum", "max");
  add("exclusiveMaximum", "less than");
  add("minItems", "at least");
  add("minLength", "min length");
  if (s.contains("pattern") && s["pattern"].is_string()) {
    parts.push_back("pattern `" + s["pattern"].get<std::string>() + "`");
  }
  if (parts.empty()) return "";
  return fmt::format(" ({})", fmt::join(parts, "; "));
}

void Rows(const json& root, const json& object, const std::string& prefix,
          std::vector<std::string>& out) {
  const json& s = Resolve(root, object);
  if (!s.is_object() || !s.contains("properties") || !s["properties"].is_object()) return;
  const json required = s.value("required", json::array());
  for (const auto& [name, raw] : s["properties"].items()) {
    const json& property = Resolve(root, raw);
    const std::string key = prefix + name;
    const bool is_required =
        std::find(required.begin(), required.end(), json(name)) != required.end();
    const std::string description = property.is_object() ? property.value("description", "") : "";
    std::string default_cell = "–";
    if (property.is_object() && property.contains("default"))
      default_cell = Code(property["default"]);
    out.push_back(fmt::format("| `{}` | {} | {} | {}{} | {} |", key, Cell(TypeOf(root, property)),
                              Cell(default_cell), Cell(description),
                              property.is_object() ? Cell(Limits(property)) : "",
                              is_required ? "yes" : ""));
    if (!property.is_object()) continue;
    Rows(root, property, key + ".", out);
    if (property.contains("items") && property["items"].is_object()) {
      Rows(root, property["items"], key + "[].", out);
    }
  }
}

}  // namespace

std::string SchemaMarkdownTable(const json& schema) {
  std::vector<std::string> rows;
  Rows(schema, schema, "", rows);
  if (rows.empty()) return "This plugin takes no configuration keys.\n";
  std::string out = "| key | type | default | description | required |\n|---|---|---|---|---|\n";
  for (const std::string& row : rows) out += row + "\n";
  return out;
}

}  // namespace stagehost::cli
