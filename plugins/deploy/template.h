// template.h -- "{name}" placeholders in command argv, URLs and PromQL queries.
//
// A placeholder is '{' + identifier ([a-z_][a-z0-9_]*) + '}'. Any other brace is literal, so PromQL
// selectors such as {code=~"5.."} pass through untouched; "{{" is a literal '{' for the rare case
// of a literal "{identifier}". An unknown placeholder is an error, caught when the config is read.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::deploy {

using TemplateVars = std::map<std::string, std::string>;

// The placeholders `text` uses, in order of first use.
std::vector<std::string> TemplatePlaceholders(std::string_view text);

// Throws std::invalid_argument naming the first placeholder not in `allowed`.
void CheckTemplate(std::string_view text, const std::set<std::string>& allowed);

// Replaces every placeholder by its value; throws std::invalid_argument for one not in `vars`.
std::string ExpandTemplate(std::string_view text, const TemplateVars& vars);

std::vector<std::string> ExpandArgv(const std::vector<std::string>& argv, const TemplateVars& vars);

}  // namespace stagehost::deploy
