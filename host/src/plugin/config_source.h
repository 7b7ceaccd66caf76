// Stage configuration input: --config / STAGEHOST_CONFIG (file or inline JSON/YAML) and --set.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "util/status.h"

namespace stagehost {

// Loads a stage config from `value`, which is inline text when, after leading whitespace, it starts
// with '{' or contains a newline, and otherwise a file path. Files ending in .json are JSON, .yaml
// and .yml are YAML, anything else (and inline text) is tried as JSON, then YAML. YAML follows the
// 1.2 core schema (quoted scalars stay strings). Empty input yields {}; a root that is not an
// object is an error. Errors are InvalidConfig and name the file and the line:column.
Result<nlohmann::json> LoadConfig(std::string_view value);

// Applies one --set assignment "KEY=VALUE" to `config` (an object). KEY is a dotted path whose
// missing intermediate objects are created; VALUE is taken as JSON when it parses as JSON and as a
// plain string otherwise. Errors are InvalidArgument.
Status ApplyOverride(nlohmann::json& config, std::string_view assignment);

}  // namespace stagehost
