// Stage configuration input: --config / STAGEHOST_CONFIG (file or inline JSON/YAML), --set and
// STAGEHOST_SET.
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

// Applies the assignments of STAGEHOST_SET: one KEY=VALUE per line, as ApplyOverride reads them.
// Surrounding whitespace (and a CR) is trimmed; blank lines and lines starting with '#' are
// skipped. CI variables and component inputs carry one string, so this is how they set several
// keys. All lines apply or none; errors are InvalidArgument and name the line
// ("STAGEHOST_SET line 2 ...").
Status ApplyOverrideLines(nlohmann::json& config, std::string_view lines);

}  // namespace stagehost
