// Reads stage configs from files or inline text (JSON or YAML) and applies --set overrides.
#include "plugin/config_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace stagehost {
namespace {

using nlohmann::json;

// A config is a few kilobytes; the caps stop a runaway file or a YAML alias bomb from exhausting
// the runner, and the depth cap keeps the recursive conversion off the end of the stack.
constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;
constexpr size_t kMaxYamlNodes = 1'000'000;
constexpr int kMaxDepth = 256;

enum class Format { kJson, kYaml, kAuto };

std::string_view TrimLeft(std::string_view s) {
  size_t i = s.find_first_not_of(" \t\r\n");
  return i == std::string_view::npos ? std::string_view() : s.substr(i);
}

std::string TypeName(const json& j) {
  if (j.is_number()) return "number";
  return j.type_name();  // null, boolean, string, array, object
}

// nlohmann reports the byte offset of the last character it read (1-based); users need line:col.
std::string LineColumn(std::string_view text, size_t byte) {
  size_t pos = std::min(byte > 0 ? byte - 1 : 0, text.size());
  size_t line = 1 + std::count(text.begin(), text.begin() + pos, '\n');
  size_t newline = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
  size_t column = newline == std::string_view::npos ? pos + 1 : pos - newline;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Offset of the first byte that is not part of valid UTF-8, or npos. nlohmann checks JSON input
// itself, but yaml-cpp passes any bytes through, and json::dump() would throw on them later.
size_t InvalidUtf8At(std::string_view s) {
  static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};  // rejects overlong forms
  for (size_t i = 0; i < s.size();) {
    auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t extra = (lead & 0xE0) == 0xC0   ? 1
                   : (lead & 0xF0) == 0xE0 ? 2
                   : (lead & 0xF8) == 0xF0 ? 3
                                           : 0;
    if (extra == 0 || extra >= s.size() - i) return i;
    uint32_t code = lead & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < kMinimum[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += extra + 1;
  }
  return std::string_view::npos;
}

Result<json> ParseJson(std::string_view text, const std::string& origin) {
  // nlohmann parses any depth, but validation and conversions downstream recurse.
  bool too_deep = false;
  auto guard = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > kMaxDepth;
    return !too_deep;
  };
  try {
    json parsed = json::parse(text.begin(), text.end(), guard);
    if (too_deep) {
      return InvalidConfig(origin + ": invalid JSON: nested deeper than " +
                           std::to_string(kMaxDepth) + " levels");
    }
    return parsed;
  } catch (const json::parse_error& e) {
    // Keep nlohmann's reason but not its "[json.exception...] parse error at ..." preamble.
    std::string reason = e.what();
    if (size_t at = reason.find("column "); at != std::string::npos) {
      if (size_t colon = reason.find(": ", at); colon != std::string::npos) {
        reason = reason.substr(colon + 2);
      }
    }
    return InvalidConfig(origin + ": invalid JSON at " + LineColumn(text, e.byte) + ": " + reason);
  } catch (const json::exception& e) {
    return InvalidConfig(origin + ": invalid JSON: " + e.what());
  }
}

// Converts yaml-cpp nodes to JSON with YAML 1.2 core-schema typing, which yaml-cpp leaves to us:
// it hands back every scalar as text plus a tag ("?" plain, "!" quoted, or an explicit tag).
class YamlToJson {
 public:
  explicit YamlToJson(const std::string& origin) : origin_(origin) {}

  Result<json> Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxYamlNodes) return Error(node.Mark(), "too many nodes (alias expansion?)");
    if (depth > kMaxDepth) return Error(node.Mark(), "nested too deeply");
    switch (node.Type()) {
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        json array = json::array();
        for (const YAML::Node& item : node) {
          STAGEHOST_ASSIGN_OR_RETURN(json value, Convert(item, depth + 1));
          array.push_back(std::move(value));
        }
        return array;
      }
      case YAML::NodeType::Map: {
        json object = json::object();
        for (const auto& member : node) {
          if (!member.first.IsScalar()) {
            return Error(member.first.Mark(), "map keys must be strings");
          }
          const std::string& key = member.first.Scalar();
          if (object.contains(key))
            return Error(member.first.Mark(), "duplicate key \"" + key + "\"");
          STAGEHOST_ASSIGN_OR_RETURN(json value, Convert(member.second, depth + 1));
          object[key] = std::move(value);
        }
        return object;
      }
      case YAML::NodeType::Undefined:
        break;
    }
    return Error(node.Mark(), "undefined node");
  }

  Status Error(const YAML::Mark& mark, const std::string& what) const {
    std::string where = mark.is_null() ? std::string()
                                       : " at line " + std::to_string(mark.line + 1) + ", column " +
                                             std::to_string(mark.column + 1);
    return InvalidConfig(origin_ + ": invalid YAML" + where + ": " + what);
  }

 private:
  Result<json> Scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return json(text);
    if (tag != "?" && tag.rfind("tag:yaml.org,2002:", 0) != 0) {
      return Error(node.Mark(), "unsupported tag \"" + tag + "\"");
    }
    std::optional<json> value = ResolvePlain(text);
    if (!value) return Error(node.Mark(), "\"" + text + "\" cannot be represented in JSON");
    if (tag == "?") return *value;
    // An explicit core tag (!!int, !!float, !!bool, !!null) must agree with the text.
    std::string_view want = std::string_view(tag).substr(std::strlen("tag:yaml.org,2002:"));
    bool matches = (want == "int" && value->is_number_integer()) ||
                   (want == "float" && value->is_number()) ||
                   (want == "bool" && value->is_boolean()) || (want == "null" && value->is_null());
    if (!matches) {
      return Error(node.Mark(), "\"" + text + "\" is not a valid !!" + std::string(want));
    }
    if (want == "float") return json(value->get<double>());
    return *value;
  }

  // YAML 1.2 core schema resolution of a plain scalar; nullopt for .inf/.nan, which JSON lacks.
  static std::optional<json> ResolvePlain(const std::string& s) {
    static const std::regex kInt("[-+]?[0-9]+");
    static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
    static const std::regex kSpecial("[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return json(nullptr);
    if (s == "true" || s == "True" || s == "TRUE") return json(true);
    if (s == "false" || s == "False" || s == "FALSE") return json(false);
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    const char* end = s.data() + s.size();
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
      uint64_t u = 0;
      auto [ptr, ec] = std::from_chars(s.data() + 2, end, u, s[1] == 'o' ? 8 : 16);
      if (ec == std::errc() && ptr == end) return json(u);
      return json(s);
    }
    if (std::regex_match(s, kInt)) {
      int64_t i = 0;
      if (auto [ptr, ec] = std::from_chars(begin, end, i); ec == std::errc() && ptr == end) {
        return json(i);
      }
      uint64_t u = 0;
      if (auto [ptr, ec] = std::from_chars(begin, end, u); ec == std::errc() && ptr == end) {
        return json(u);
      }
      // Too large for 64 bits: a double, as nlohmann does for JSON text.
    }
    if (std::regex_match(s, kFloat)) {
      double d = 0;
      auto [ptr, ec] = std::from_chars(begin, end, d);
      if (ec == std::errc() && ptr == end && std::isfinite(d)) return json(d);
      return std::nullopt;  // overflows to infinity
    }
    if (std::regex_match(s, kSpecial)) return std::nullopt;
    return json(s);
  }

  const std::string& origin_;
  size_t nodes_ = 0;
};

Result<json> ParseYaml(std::string_view text, const std::string& origin) {
  YamlToJson converter(origin);
  if (size_t bad = InvalidUtf8At(text); bad != std::string_view::npos) {
    return InvalidConfig(origin + ": invalid YAML at " + LineColumn(text, bad + 1) +
                         ": not valid UTF-8");
  }
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      return converter.Error(docs[1].Mark(),
                             "expected one document, found " + std::to_string(docs.size()));
    }
    // Comments only, or a bare "---": as empty as an empty file.
    if (docs.empty() || docs[0].IsNull()) return json::object();
    return converter.Convert(docs[0], 0);
  } catch (const YAML::Exception& e) {
    return converter.Error(e.mark, e.msg);
  } catch (const std::exception& e) {
    return InvalidConfig(origin + ": invalid YAML: " + e.what());
  }
}

Result<json> Parse(std::string_view text, Format format, const std::string& origin) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (TrimLeft(text).empty()) return json::object();
  Result<json> parsed = json(nullptr);
  switch (format) {
    case Format::kJson:
      parsed = ParseJson(text, origin);
      break;
    case Format::kYaml:
      parsed = ParseYaml(text, origin);
      break;
    case Format::kAuto: {
      parsed = ParseJson(text, origin);
      if (parsed.ok()) break;
      Result<json> yaml = ParseYaml(text, origin);
      // When neither parses, explain with the syntax the text was evidently meant to be in.
      char first = TrimLeft(text)[0];
      if (yaml.ok() || (first != '{' && first != '[')) parsed = std::move(yaml);
      break;
    }
  }
  if (!parsed.ok()) return parsed;
  const json& config = parsed.value();
  if (!config.is_object()) {
    return InvalidConfig(origin + ": the config must be an object of keys, got " +
                         TypeName(config));
  }
  return parsed;
}

Result<std::string> ReadFile(const std::string& path, const std::string& origin) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InvalidConfig(origin + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  std::string data;
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = InvalidConfig(origin + ": cannot stat: " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = InvalidConfig(origin + ": not a regular file");
  } else if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) {
    status = InvalidConfig(origin + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  } else {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = InvalidConfig(origin + ": cannot read: " + std::strerror(errno));
        break;
      }
      data.append(buffer, static_cast<size_t>(n));
      if (data.size() > kMaxConfigBytes) {
        status =
            InvalidConfig(origin + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes");
        break;
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return data;
}

}  // namespace

Result<json> LoadConfig(std::string_view value) {
  std::string_view trimmed = TrimLeft(value);
  if (trimmed.empty() || trimmed[0] == '{' || value.find('\n') != std::string_view::npos) {
    return Parse(value, Format::kAuto, "inline config");
  }
  std::string path(value);
  std::string origin = "config file \"" + path + "\"";
  STAGEHOST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, origin));
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Format format = ext == ".json"                      ? Format::kJson
                  : (ext == ".yaml" || ext == ".yml") ? Format::kYaml
                                                      : Format::kAuto;
  return Parse(text, format, origin);
}

namespace {

// ApplyOverride with `origin` ("--set", "STAGEHOST_SET line 3") leading every error message.
Status ApplyAssignment(json& config, std::string_view assignment, const std::string& origin) {
  if (InvalidUtf8At(assignment) != std::string_view::npos) {
    return InvalidArgument(origin + ": not valid UTF-8");
  }
  std::string context = origin + " \"" + std::string(assignment) + "\"";
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) return InvalidArgument(context + ": expected KEY=VALUE");
  std::string_view key = assignment.substr(0, eq);
  std::string_view text = assignment.substr(eq + 1);
  if (key.empty()) return InvalidArgument(context + ": empty key");

  std::vector<std::string> segments;
  for (size_t start = 0;;) {
    size_t dot = key.find('.', start);
    std::string_view segment = key.substr(start, dot - start);
    if (segment.empty()) return InvalidArgument(context + ": empty segment in key");
    segments.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }

  if (config.is_null()) config = json::object();
  json* node = &config;
  std::string walked;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!node->is_object()) {
      std::string what = walked.empty() ? "the config" : "\"" + walked + "\"";
      return InvalidArgument(context + ": " + what + " is " + TypeName(*node) + ", not an object");
    }
    walked += (walked.empty() ? "" : ".") + segments[i];
    json& child = (*node)[segments[i]];
    if (i + 1 < segments.size() && child.is_null()) child = json::object();
    node = &child;
  }
  // "0.9", "true", "[1,2]" and "\"quoted\"" are JSON; anything else ("fast", "1.2.3") is a string.
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  *node = value.is_discarded() ? json(std::string(text)) : std::move(value);
  return Status::Ok();
}

}  // namespace

Status ApplyOverride(json& config, std::string_view assignment) {
  return ApplyAssignment(config, assignment, "--set");
}

Status ApplyOverrideLines(json& config, std::string_view lines) {
  constexpr std::string_view kBlank = " \t\r";
  json updated = config;  // all lines or none
  int number = 0;
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    ++number;
    size_t first = line.find_first_not_of(kBlank);
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(kBlank) - first + 1);
    Status applied = ApplyAssignment(updated, line, "STAGEHOST_SET line " + std::to_string(number));
    if (!applied.ok()) return applied;
  }
  config = std::move(updated);
  return Status::Ok();
}

}  // namespace stagehost
