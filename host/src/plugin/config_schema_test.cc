// Tests for ConfigSchema: parsing, closing of object schemas, and the all-at-once error report.
#include "plugin/config_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace stagehost {
namespace {

using nlohmann::json;

// gmock is not linked; this is HasSubstr with a readable failure.
::testing::AssertionResult HasText(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

// Lines after the summary line, each "<pointer>: <problem>".
std::vector<std::string> ProblemLines(const Status& status) {
  std::vector<std::string> lines;
  const std::string& m = status.message();
  for (size_t start = m.find('\n'); start != std::string::npos;) {
    size_t end = m.find('\n', start + 1);
    lines.push_back(m.substr(start + 1, end == std::string::npos ? end : end - start - 1));
    start = end;
  }
  return lines;
}

constexpr const char* kModelSchema = R"({
  "type": "object",
  "required": ["model"],
  "properties": {
    "model": {"type": "string"},
    "mode": {"enum": ["fast", "thorough"]},
    "retries": {"type": "integer", "minimum": 0, "maximum": 5},
    "thresholds": {
      "type": "object",
      "properties": {
        "accuracy": {"type": "number", "minimum": 0, "maximum": 1},
        "loss": {"type": "number"}
      }
    },
    "datasets": {
      "type": "array",
      "items": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}
    },
    "labels": {"type": "object", "additionalProperties": true, "properties": {"team": {}}},
    "baseline": {"$ref": "#/definitions/baseline"}
  },
  "definitions": {
    "baseline": {"type": "object", "properties": {"url": {"type": "string"}}}
  }
})";

ConfigSchema ModelSchema() {
  Result<ConfigSchema> schema = ConfigSchema::Parse(kModelSchema);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return std::move(schema).value();
}

TEST(ConfigSchemaTest, ValidConfigPasses) {
  ConfigSchema schema = ModelSchema();
  json config = json::parse(R"({
    "model": "resnet", "mode": "fast", "retries": 2,
    "thresholds": {"accuracy": 0.9, "loss": 3},
    "datasets": [{"path": "a.csv"}],
    "labels": {"team": "ml", "anything": [1, 2]},
    "baseline": {"url": "https://example.com/b.json"}
  })");
  Status status = schema.Validate(config);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(ConfigSchemaTest, EveryProblemIsReportedAtOnce) {
  ConfigSchema schema = ModelSchema();
  json config = json::parse(R"({
    "mode": "medium", "retries": -1, "colour": "red",
    "thresholds": {"accuracy": "high"},
    "datasets": [{"path": "a.csv"}, {"file": "b.csv"}]
  })");
  Status status = schema.Validate(config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  for (const char* line :
       {"/: missing required key \"model\"", "/: unknown key \"colour\"",
        "/mode: must be one of \"fast\", \"thorough\", got \"medium\"",
        "/retries: must be at least 0, got -1", "/thresholds/accuracy: expected number, got string",
        "/datasets/1: missing required key \"path\"", "/datasets/1: unknown key \"file\""}) {
    std::vector<std::string> lines = ProblemLines(status);
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end())
        << "missing line: " << line << "\nin: " << status.message();
  }
  // valijson's parent notes ("Failed to validate against schema associated with property name
  // ...") are folded into the leaf problems above.
  EXPECT_EQ(ProblemLines(status).size(), 7u) << status.message();
  EXPECT_EQ(status.message().find("Failed to validate"), std::string::npos) << status.message();
  EXPECT_TRUE(HasText(status.message(), "(7 problems)"));
}

TEST(ConfigSchemaTest, UnknownRootKeyIsNamed) {
  Status status = ModelSchema().Validate(json::parse(R"({"model": "m", "colour": "red"})"));
  ASSERT_FALSE(status.ok());
  ASSERT_EQ(ProblemLines(status), std::vector<std::string>{"/: unknown key \"colour\""});
}

TEST(ConfigSchemaTest, AllUnknownKeysOfAnObjectAreReported) {
  // valijson itself stops at the first unknown key of an object.
  Status status =
      ModelSchema().Validate(json::parse(R"({"model": "m", "a": 1, "b": 2, "c": {"d": 3}})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status),
            (std::vector<std::string>{"/: unknown key \"a\"", "/: unknown key \"b\"",
                                      "/: unknown key \"c\""}));
}

TEST(ConfigSchemaTest, NestedUnknownKeys) {
  Status status = ModelSchema().Validate(
      json::parse(R"({"model": "m", "thresholds": {"acurracy": 0.9}, "baseline": {"uri": "x"}})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status),
            (std::vector<std::string>{"/baseline: unknown key \"uri\"",
                                      "/thresholds: unknown key \"acurracy\""}));
}

TEST(ConfigSchemaTest, ExplicitAdditionalPropertiesIsRespected) {
  ConfigSchema schema = ModelSchema();
  EXPECT_TRUE(schema.Validate(json::parse(R"({"model": "m", "labels": {"x": 1}})")).ok());

  Result<ConfigSchema> typed = ConfigSchema::Parse(
      R"({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}})");
  ASSERT_TRUE(typed.ok()) << typed.status().ToString();
  EXPECT_TRUE(typed->Validate(json::parse(R"({"a": "x", "extra": 1})")).ok());
  Status status = typed->Validate(json::parse(R"({"extra": "one"})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status), std::vector<std::string>{"/extra: expected integer, got string"});
}

TEST(ConfigSchemaTest, PatternPropertiesLeaveTheObjectOpen) {
  Result<ConfigSchema> schema = ConfigSchema::Parse(
      R"({"properties": {"a": {}}, "patternProperties": {"^x-": {"type": "string"}}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE(schema->Validate(json::parse(R"({"a": 1, "x-note": "n", "other": 3})")).ok());
  EXPECT_FALSE(schema->Validate(json::parse(R"({"x-note": 1})")).ok());
}

TEST(ConfigSchemaTest, CombinatorBranchesAreClosedButConditionalsAreNot) {
  Result<ConfigSchema> any_of = ConfigSchema::Parse(
      R"({"properties": {"a": {"anyOf": [{"properties": {"x": {}}}, {"properties": {"y": {}}}]}}})");
  ASSERT_TRUE(any_of.ok()) << any_of.status().ToString();
  EXPECT_TRUE(any_of->Validate(json::parse(R"({"a": {"y": 1}})")).ok());
  Status status = any_of->Validate(json::parse(R"({"a": {"z": 1}})"));
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(HasText(status.message(), "/a: unknown key \"z\""));

  // "then" adds rules to the object described above it; closing it would reject "mode".
  Result<ConfigSchema> conditional = ConfigSchema::Parse(R"({
    "properties": {"mode": {"type": "string"}, "speed": {"type": "integer"}},
    "if": {"properties": {"mode": {"const": "fast"}}},
    "then": {"required": ["speed"], "properties": {"speed": {"minimum": 10}}}
  })");
  ASSERT_TRUE(conditional.ok()) << conditional.status().ToString();
  EXPECT_TRUE(conditional->Validate(json::parse(R"({"mode": "fast", "speed": 20})")).ok());
  EXPECT_TRUE(conditional->Validate(json::parse(R"({"mode": "slow"})")).ok());
  status = conditional->Validate(json::parse(R"({"mode": "fast", "speed": 3})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status), std::vector<std::string>{"/speed: must be at least 10, got 3"});
}

TEST(ConfigSchemaTest, EnumMinimumRequiredAndTypeViolations) {
  ConfigSchema schema = ModelSchema();
  struct Case {
    const char* config;
    const char* line;
  };
  for (const Case& c : {
           Case{R"({"model": "m", "mode": 3})",
                "/mode: must be one of \"fast\", \"thorough\", got 3"},
           Case{R"({"model": "m", "retries": 9})", "/retries: must be at most 5, got 9"},
           Case{R"({"model": "m", "thresholds": {"accuracy": -0.5}})",
                "/thresholds/accuracy: must be at least 0, got -0.5"},
           Case{R"({})", "/: missing required key \"model\""},
           Case{R"({"model": 7})", "/model: expected string, got number"},
           Case{R"({"model": "m", "retries": 1.5})", "/retries: expected integer, got number"},
       }) {
    Status status = schema.Validate(json::parse(c.config));
    ASSERT_FALSE(status.ok()) << c.config;
    EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
    EXPECT_EQ(ProblemLines(status), std::vector<std::string>{c.line}) << status.message();
  }
}

TEST(ConfigSchemaTest, ConfigThatIsNotAnObject) {
  Status status = ModelSchema().Validate(json::array());
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(HasText(status.message(), "/: expected object, got array"));
}

TEST(ConfigSchemaTest, PointersAreEscaped) {
  Result<ConfigSchema> schema = ConfigSchema::Parse(
      R"({"properties": {"a/b~c": {"properties": {"n": {"type": "integer"}}}}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  Status status = schema->Validate(json::parse(R"({"a/b~c": {"n": "x"}})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status),
            std::vector<std::string>{"/a~1b~0c/n: expected integer, got string"});
}

TEST(ConfigSchemaTest, FalsePropertySchema) {
  Result<ConfigSchema> schema = ConfigSchema::Parse(R"({"properties": {"legacy": false}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  Status status = schema->Validate(json::parse(R"({"legacy": 1})"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemLines(status), std::vector<std::string>{"/: key \"legacy\" is not allowed"});
}

TEST(ConfigSchemaTest, EmptyPropertiesAcceptsOnlyTheEmptyConfig) {
  // The SDK's example schema for a plugin without configuration.
  Result<ConfigSchema> schema = ConfigSchema::Parse(R"({"type": "object", "properties": {}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE(schema->Validate(json::object()).ok());
  EXPECT_FALSE(schema->Validate(json::parse(R"({"x": 1})")).ok());
}

TEST(ConfigSchemaTest, InvalidSchemaText) {
  Result<ConfigSchema> schema = ConfigSchema::Parse(R"({"type": "object",)");
  ASSERT_FALSE(schema.ok());
  EXPECT_TRUE(HasText(schema.status().message(), "config schema is not valid JSON"));
  EXPECT_TRUE(HasText(schema.status().message(), "line 1"));
  EXPECT_EQ(schema.status().message().find("json.exception"), std::string::npos);
}

TEST(ConfigSchemaTest, SchemaMustBeAnObject) {
  for (const char* text : {"[]", "true", "\"schema\"", "null"}) {
    Result<ConfigSchema> schema = ConfigSchema::Parse(text);
    ASSERT_FALSE(schema.ok()) << text;
    EXPECT_TRUE(HasText(schema.status().message(), "must be a JSON object")) << text;
  }
}

TEST(ConfigSchemaTest, SchemaRejectedByValijsonNamesTheReason) {
  struct Case {
    const char* schema;
    const char* reason;
  };
  for (const Case& c : {Case{R"({"type": "strnig"})", "strnig"},
                        Case{R"({"required": "a"})", "not a valid JSON Schema"},
                        Case{R"({"$ref": "https://example.com/s.json"})", "remote JSON References"},
                        Case{R"({"properties": {"a": {"pattern": "(["}}})", "invalid regular"},
                        Case{R"({"patternProperties": {"*": {}}})", "invalid regular"}}) {
    Result<ConfigSchema> schema = ConfigSchema::Parse(c.schema);
    ASSERT_FALSE(schema.ok()) << c.schema;
    EXPECT_TRUE(HasText(schema.status().message(), c.reason)) << c.schema;
  }
}

TEST(ConfigSchemaTest, JsonIsTheSchemaAsGiven) {
  ConfigSchema schema = ModelSchema();
  EXPECT_EQ(schema.json(), json::parse(kModelSchema));
  EXPECT_FALSE(schema.json().contains("additionalProperties"));
}

TEST(ConfigSchemaTest, CopiesAndMovesShareTheCompiledSchema) {
  ConfigSchema original = ModelSchema();
  ConfigSchema copy = original;
  ConfigSchema moved = std::move(original);
  EXPECT_EQ(&copy.json(), &moved.json());
  EXPECT_TRUE(copy.Validate(json::parse(R"({"model": "m"})")).ok());
  EXPECT_FALSE(moved.Validate(json::parse(R"({"model": "m", "x": 1})")).ok());
}

}  // namespace
}  // namespace stagehost
