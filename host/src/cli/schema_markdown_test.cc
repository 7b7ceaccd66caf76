// SchemaMarkdownTable: flattening, $ref, required, defaults and cell escaping.
#include "cli/schema_markdown.h"

#include <gtest/gtest.h>

namespace stagehost::cli {
namespace {

using json = nlohmann::ordered_json;

// The rows of the table, header lines dropped.
std::vector<std::string> Rows(const std::string& table) {
  std::vector<std::string> rows;
  size_t start = 0;
  int line = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (end == std::string::npos) end = table.size();
    if (line++ >= 2) rows.push_back(table.substr(start, end - start));
    start = end + 1;
  }
  return rows;
}

TEST(SchemaMarkdown, FlattensNestedObjectsArraysAndRefs) {
  json schema = json::parse(R"({
    "type": "object", "required": ["publish"],
    "properties": {
      "publish": {"type": "object", "description": "Where to.", "required": ["store"],
        "properties": {
          "store": {"enum": ["s3", "directory"], "description": "Kind."},
          "s3": {"type": "object", "properties": {"bucket": {"type": "string", "minLength": 1}}}}},
      "commands": {"type": "array", "items": {"type": "object", "required": ["argv"],
        "properties": {"argv": {"type": "array", "items": {"type": "string"}}}}},
      "check": {"$ref": "#/definitions/check"},
      "retries": {"type": "integer", "default": 0, "maximum": 10, "description": "a | b"}
    },
    "definitions": {"check": {"type": "object", "properties": {"url": {"type": "string"}}}}
  })");
  const std::vector<std::string> rows = Rows(SchemaMarkdownTable(schema));
  const std::vector<std::string> expected = {
      "| `publish` | object | – | Where to. | yes |",
      "| `publish.store` | `\"s3\"`, `\"directory\"` | – | Kind. | yes |",
      "| `publish.s3` | object | – |  |  |",
      "| `publish.s3.bucket` | string | – |  (min length 1) |  |",
      "| `commands` | array | – |  |  |",
      "| `commands[].argv` | array of string | – |  | yes |",
      "| `check` | object | – |  |  |",
      "| `check.url` | string | – |  |  |",
      "| `retries` | integer | `0` | a \\| b (max 10) |  |",
  };
  EXPECT_EQ(rows, expected) << SchemaMarkdownTable(schema);
}

TEST(SchemaMarkdown, HeaderNamesTheColumns) {
  json schema = json::parse(R"({"properties": {"a": {"type": "boolean", "default": true}}})");
  const std::string table = SchemaMarkdownTable(schema);
  EXPECT_EQ(table.rfind("| key | type | default | description | required |\n", 0), 0u) << table;
  EXPECT_NE(table.find("| `a` | boolean | `true` |  |  |"), std::string::npos) << table;
}

TEST(SchemaMarkdown, NoPropertiesSaysSo) {
  EXPECT_EQ(SchemaMarkdownTable(json::object()), "This plugin takes no configuration keys.\n");
}

}  // namespace
}  // namespace stagehost::cli
