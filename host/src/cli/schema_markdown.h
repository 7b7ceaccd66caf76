// SchemaMarkdown: a plugin's config JSON Schema as a Markdown key table (docs/stages.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace stagehost::cli {

// One row per key: key, type, default, description, required. Nested objects are flattened with
// dotted keys (`publish.s3.bucket`), objects inside arrays with `[]` (`commands[].argv`); local
// `$ref`s (`#/definitions/...`) are followed. The output depends on the schema alone, so it can
// be committed and checked for drift. Keys keep the schema's order (ordered_json).
std::string SchemaMarkdownTable(const nlohmann::ordered_json& schema);

}  // namespace stagehost::cli
