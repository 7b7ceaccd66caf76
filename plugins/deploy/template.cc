// template.cc -- placeholder scanning and expansion (see template.h for the syntax).
#include "template.h"

#include <stdexcept>

namespace stagehost::deploy {

namespace {

bool IdentStart(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool IdentChar(char c) { return IdentStart(c) || (c >= '0' && c <= '9'); }

// Calls on_text for literal runs and on_placeholder for each placeholder name.
template <typename Text, typename Placeholder>
void Scan(std::string_view s, Text on_text, Placeholder on_placeholder) {
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') {
      on_text(std::string_view("{"));
      i += 2;
      continue;
    }
    if (s[i] == '{' && i + 1 < s.size() && IdentStart(s[i + 1])) {
      size_t j = i + 1;
      while (j < s.size() && IdentChar(s[j])) ++j;
      if (j < s.size() && s[j] == '}') {
        on_placeholder(std::string(s.substr(i + 1, j - i - 1)));
        i = j + 1;
        continue;
      }
    }
    on_text(s.substr(i, 1));
    ++i;
  }
}

}  // namespace

std::vector<std::string> TemplatePlaceholders(std::string_view text) {
  std::vector<std::string> names;
  Scan(
      text, [](std::string_view) {},
      [&](const std::string& name) {
        for (const std::string& n : names) {
          if (n == name) return;
        }
        names.push_back(name);
      });
  return names;
}

void CheckTemplate(std::string_view text, const std::set<std::string>& allowed) {
  for (const std::string& name : TemplatePlaceholders(text)) {
    if (!allowed.count(name)) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + ("{" + a + "}");
      throw std::invalid_argument("unknown placeholder {" + name + "} (known: " + list + ")");
    }
  }
}

std::string ExpandTemplate(std::string_view text, const TemplateVars& vars) {
  std::string out;
  Scan(
      text, [&](std::string_view t) { out.append(t); },
      [&](const std::string& name) {
        auto it = vars.find(name);
        if (it == vars.end()) throw std::invalid_argument("unknown placeholder {" + name + "}");
        out += it->second;
      });
  return out;
}

std::vector<std::string> ExpandArgv(const std::vector<std::string>& argv,
                                    const TemplateVars& vars) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& a : argv) out.push_back(ExpandTemplate(a, vars));
  return out;
}

}  // namespace stagehost::deploy
