// Tests for LoadConfig (files, inline text, JSON and YAML typing, errors), ApplyOverride and
// ApplyOverrideLines.
#include "plugin/config_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace stagehost {
namespace {

using nlohmann::json;

// gmock is not linked; this is HasSubstr with a readable failure.
::testing::AssertionResult HasText(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "stagehost-cfg-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(LoadConfigTest, JsonFile) {
  std::string path =
      Write("c.json", R"({"name": "x", "n": 3, "f": 0.5, "ok": true, "l": [1, "a"]})");
  Result<json> config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, json::parse(R"({"name": "x", "n": 3, "f": 0.5, "ok": true, "l": [1, "a"]})"));
}

TEST_F(LoadConfigTest, YamlFileIsTypedByTheCoreSchema) {
  std::string path = Write("c.yaml",
                           "int: 42\n"
                           "neg: -7\n"
                           "float: 0.9\n"
                           "exp: 1e3\n"
                           "yes_bool: true\n"
                           "no_bool: False\n"
                           "nothing: null\n"
                           "tilde: ~\n"
                           "empty:\n"
                           "quoted_int: '42'\n"
                           "quoted_bool: \"true\"\n"
                           "quoted_null: 'null'\n"
                           "tagged_str: !!str 5\n"
                           "yes_is_a_string: yes\n"
                           "version: 1.2.3\n"
                           "hex: 0x1F\n"
                           "list: [1, two, 3.5]\n"
                           "nested:\n"
                           "  deeper:\n"
                           "    - a: 1\n");
  Result<json> config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const json& c = *config;
  EXPECT_TRUE(c["int"].is_number_integer());
  EXPECT_EQ(c["int"], 42);
  EXPECT_EQ(c["neg"], -7);
  EXPECT_TRUE(c["float"].is_number_float());
  EXPECT_DOUBLE_EQ(c["float"].get<double>(), 0.9);
  EXPECT_TRUE(c["exp"].is_number_float());
  EXPECT_EQ(c["yes_bool"], true);
  EXPECT_EQ(c["no_bool"], false);
  EXPECT_TRUE(c["nothing"].is_null());
  EXPECT_TRUE(c["tilde"].is_null());
  EXPECT_TRUE(c["empty"].is_null());
  EXPECT_EQ(c["quoted_int"], "42");
  EXPECT_EQ(c["quoted_bool"], "true");
  EXPECT_EQ(c["quoted_null"], "null");
  EXPECT_EQ(c["tagged_str"], "5");
  EXPECT_EQ(c["yes_is_a_string"], "yes");  // YAML 1.2, not 1.1
  EXPECT_EQ(c["version"], "1.2.3");
  EXPECT_EQ(c["hex"], 31);
  EXPECT_EQ(c["list"], json::parse(R"([1, "two", 3.5])"));
  EXPECT_EQ(c["nested"], json::parse(R"({"deeper": [{"a": 1}]})"));
}

TEST_F(LoadConfigTest, YmlExtensionAndUnknownExtensionFallBackToYaml) {
  Result<json> yml = LoadConfig(Write("c.yml", "a: 1\n"));
  ASSERT_TRUE(yml.ok()) << yml.status().ToString();
  EXPECT_EQ(*yml, json::parse(R"({"a": 1})"));

  Result<json> conf_yaml = LoadConfig(Write("stage.conf", "a: [x]\n"));
  ASSERT_TRUE(conf_yaml.ok()) << conf_yaml.status().ToString();
  EXPECT_EQ(*conf_yaml, json::parse(R"({"a": ["x"]})"));

  Result<json> conf_json = LoadConfig(Write("stage.cfg", R"({"a": 1.5})"));
  ASSERT_TRUE(conf_json.ok()) << conf_json.status().ToString();
  EXPECT_EQ(*conf_json, json::parse(R"({"a": 1.5})"));
}

TEST_F(LoadConfigTest, JsonExtensionIsJsonOnly) {
  Result<json> config = LoadConfig(Write("c.json", "a: 1\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
  EXPECT_TRUE(HasText(config.status().message(), "invalid JSON"));
}

TEST(LoadConfigInlineTest, InlineJson) {
  Result<json> config = LoadConfig(R"(  {"thresholds": {"accuracy": 0.9}})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, json::parse(R"({"thresholds": {"accuracy": 0.9}})"));
}

TEST(LoadConfigInlineTest, InlineYaml) {
  Result<json> config = LoadConfig("mode: fast\nretries: 2\nlabels:\n  - 'on'\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, json::parse(R"({"mode": "fast", "retries": 2, "labels": ["on"]})"));
}

TEST(LoadConfigInlineTest, InlineFlowYamlStartingWithBrace) {
  Result<json> config = LoadConfig("{mode: fast, n: 3}");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, json::parse(R"({"mode": "fast", "n": 3})"));
}

TEST(LoadConfigInlineTest, SingleLineWithoutBraceIsAPath) {
  Result<json> config = LoadConfig("mode: fast");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasText(config.status().message(), "config file \"mode: fast\""));
}

TEST_F(LoadConfigTest, EmptyInputsAreEmptyObjects) {
  for (const std::string& value : {std::string(), std::string("   "), std::string(" \n ")}) {
    Result<json> config = LoadConfig(value);
    ASSERT_TRUE(config.ok()) << "'" << value << "': " << config.status().ToString();
    EXPECT_EQ(*config, json::object());
  }
  for (const char* name : {"empty.json", "empty.yaml", "empty.txt"}) {
    Result<json> config = LoadConfig(Write(name, ""));
    ASSERT_TRUE(config.ok()) << name << ": " << config.status().ToString();
    EXPECT_EQ(*config, json::object());
  }
  for (const char* yaml : {"# nothing configured yet\n", "---\n"}) {
    Result<json> config = LoadConfig(Write("c.yaml", yaml));
    ASSERT_TRUE(config.ok()) << yaml << ": " << config.status().ToString();
    EXPECT_EQ(*config, json::object());
  }
}

TEST_F(LoadConfigTest, RootMustBeAnObject) {
  struct Case {
    std::string name, content, type;
  };
  for (const Case& c : {Case{"list.json", "[1, 2]", "array"}, Case{"num.json", "5", "number"},
                        Case{"null.json", "null", "null"}, Case{"list.yaml", "- a\n- b\n", "array"},
                        Case{"str.yaml", "just text\n", "string"}}) {
    Result<json> config = LoadConfig(Write(c.name, c.content));
    ASSERT_FALSE(config.ok()) << c.name;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
    EXPECT_TRUE(HasText(config.status().message(), "must be an object"));
    EXPECT_TRUE(HasText(config.status().message(), "got " + c.type));
    EXPECT_TRUE(HasText(config.status().message(), c.name));
  }
  Result<json> inline_list = LoadConfig("[1,\n 2]");
  ASSERT_FALSE(inline_list.ok());
  EXPECT_TRUE(HasText(inline_list.status().message(), "inline config"));
}

TEST_F(LoadConfigTest, JsonParseErrorNamesFileLineAndColumn) {
  std::string path = Write("bad.json", "{\n  \"a\": 1,\n  \"b\": x\n}\n");
  Result<json> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
  EXPECT_TRUE(HasText(config.status().message(), path));
  EXPECT_TRUE(HasText(config.status().message(), "line 3, column 8"));
  EXPECT_EQ(config.status().message().find("json.exception"), std::string::npos);
}

TEST_F(LoadConfigTest, YamlParseErrorNamesFileAndLine) {
  std::string path = Write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  Result<json> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
  EXPECT_TRUE(HasText(config.status().message(), path));
  EXPECT_TRUE(HasText(config.status().message(), "invalid YAML at line "));
}

TEST_F(LoadConfigTest, UnparsableInlineBraceTextReportsTheJsonError) {
  Result<json> config = LoadConfig("{\"a\": [1,\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasText(config.status().message(), "inline config: invalid JSON at line 2"));
}

TEST_F(LoadConfigTest, YamlThatJsonCannotHoldIsAnError) {
  struct Case {
    std::string content, expected;
  };
  for (const Case& c :
       {Case{"a: 1\na: 2\n", "line 2, column 1: duplicate key \"a\""},
        Case{"a: 1\n---\nb: 2\n", "expected one document"},
        Case{"a: .inf\n", "cannot be represented in JSON"},
        Case{"? [x, y]\n: 1\n", "map keys must be strings"},
        Case{"a: !!int abc\n", "not a valid !!int"}, Case{"a: !custom 1\n", "unsupported tag"},
        Case{"a: 1\nb: x\xC3(\n", "line 2, column 5: not valid UTF-8"},
        Case{"a: \xED\xA0\x80\n", "not valid UTF-8"},  // a UTF-16 surrogate
        Case{"a: \xC0\xAF\n", "not valid UTF-8"}}) {   // an overlong "/"
    Result<json> config = LoadConfig(Write("c.yaml", c.content));
    ASSERT_FALSE(config.ok()) << c.content;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
    EXPECT_TRUE(HasText(config.status().message(), c.expected)) << c.content;
  }
}

TEST_F(LoadConfigTest, Utf8TextIsKept) {
  Result<json> config =
      LoadConfig(Write("c.yaml", "name: caf\xC3\xA9 \xE2\x98\x95 \xF0\x9D\x84\x9E\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ((*config)["name"], "caf\xC3\xA9 \xE2\x98\x95 \xF0\x9D\x84\x9E");
}

TEST_F(LoadConfigTest, NestingAndAliasExpansionAreBounded) {
  std::string deep = std::string(300, '[') + std::string(300, ']');
  Result<json> json_config = LoadConfig(Write("deep.json", "{\"a\": " + deep + "}"));
  ASSERT_FALSE(json_config.ok());
  EXPECT_TRUE(HasText(json_config.status().message(), "nested deeper than"));
  Result<json> yaml_config = LoadConfig(Write("deep.yaml", "a: " + deep + "\n"));
  ASSERT_FALSE(yaml_config.ok());
  EXPECT_TRUE(HasText(yaml_config.status().message(), "nested too deeply"));

  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  Result<json> bombed = LoadConfig(Write("bomb.yaml", bomb));
  ASSERT_FALSE(bombed.ok());
  EXPECT_TRUE(HasText(bombed.status().message(), "too many nodes"));
}

TEST_F(LoadConfigTest, NonexistentFile) {
  std::string path = (dir_ / "missing.yaml").string();
  Result<json> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidConfig);
  EXPECT_TRUE(HasText(config.status().message(), path));
  EXPECT_TRUE(HasText(config.status().message(), "No such file"));
}

TEST_F(LoadConfigTest, DirectoryIsNotAConfigFile) {
  Result<json> config = LoadConfig(dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasText(config.status().message(), "not a regular file"));
}

TEST_F(LoadConfigTest, ByteOrderMarkIsIgnored) {
  Result<json> config = LoadConfig(Write("bom.json", "\xEF\xBB\xBF{\"a\": 1}"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, json::parse(R"({"a": 1})"));
}

TEST(ApplyOverrideTest, CreatesNestedObjectsAndKeepsSiblings) {
  json config = json::parse(R"({"thresholds": {"loss": 0.1}, "name": "x"})");
  ASSERT_TRUE(ApplyOverride(config, "thresholds.accuracy=0.9").ok());
  ASSERT_TRUE(ApplyOverride(config, "a.b.c=1").ok());
  EXPECT_EQ(config, json::parse(R"({"thresholds": {"loss": 0.1, "accuracy": 0.9}, "name": "x",
                                    "a": {"b": {"c": 1}}})"));
}

TEST(ApplyOverrideTest, ValuesAreJsonWhenTheyParse) {
  json config = json::object();
  for (const char* assignment :
       {"f=0.9", "i=42", "t=true", "n=null", "l=[1,2]", "o={\"a\":1}", "q=\"quoted\"", "ws= 7"}) {
    ASSERT_TRUE(ApplyOverride(config, assignment).ok()) << assignment;
  }
  EXPECT_EQ(config, json::parse(R"({"f": 0.9, "i": 42, "t": true, "n": null, "l": [1, 2],
                                    "o": {"a": 1}, "q": "quoted", "ws": 7})"));
  EXPECT_TRUE(config["i"].is_number_integer());
}

TEST(ApplyOverrideTest, OtherValuesAreStrings) {
  json config = json::object();
  for (const char* assignment :
       {"mode=fast", "version=1.2.3", "empty=", "zip=0123", "eq=a=b", "text=hello world"}) {
    ASSERT_TRUE(ApplyOverride(config, assignment).ok()) << assignment;
  }
  EXPECT_EQ(config, json::parse(R"({"mode": "fast", "version": "1.2.3", "empty": "",
                                    "zip": "0123", "eq": "a=b", "text": "hello world"})"));
}

TEST(ApplyOverrideTest, ReplacesExistingValues) {
  json config = json::parse(R"({"a": {"b": 1}, "c": [1]})");
  ASSERT_TRUE(ApplyOverride(config, "a=2").ok());
  EXPECT_FALSE(ApplyOverride(config, "c.d=3").ok());
  EXPECT_EQ(config, json::parse(R"({"a": 2, "c": [1]})"));
}

TEST(ApplyOverrideTest, Errors) {
  json original = json::parse(R"({"a": 5, "l": [1], "o": {"s": "x"}})");
  struct Case {
    std::string assignment, expected;
  };
  for (const Case& c :
       {Case{"novalue", "expected KEY=VALUE"}, Case{"=1", "empty key"},
        Case{"a..b=1", "empty segment"}, Case{".a=1", "empty segment"},
        Case{"a.=1", "empty segment"}, Case{"a.b=1", "\"a\" is number, not an object"},
        Case{"l.0=1", "\"l\" is array, not an object"},
        Case{"o.s.t=1", "\"o.s\" is string, not an object"}, Case{"a=\xFF", "not valid UTF-8"}}) {
    json config = original;
    Status status = ApplyOverride(config, c.assignment);
    ASSERT_FALSE(status.ok()) << c.assignment;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.assignment;
    EXPECT_TRUE(HasText(status.message(), c.expected)) << c.assignment;
    if (c.expected != "not valid UTF-8") {
      EXPECT_TRUE(HasText(status.message(), c.assignment)) << c.assignment;
    }
    EXPECT_EQ(config, original) << c.assignment;
  }
}

TEST(ApplyOverrideLinesTest, OneAssignmentPerLineSkippingBlanksAndComments) {
  json config = json::parse(R"({"fail_on": "high", "keep": 1})");
  ASSERT_TRUE(ApplyOverrideLines(config,
                                 "# thresholds\r\n  fail_on=critical \n\n\t\nmin_tests=50\r\n"
                                 "gates=[{\"metric\": \"accuracy\", \"min\": 0.9}]")
                  .ok());
  EXPECT_EQ(config, json::parse(R"({"fail_on": "critical", "keep": 1, "min_tests": 50,
                                    "gates": [{"metric": "accuracy", "min": 0.9}]})"));
  json empty = json::object();
  ASSERT_TRUE(ApplyOverrideLines(empty, "").ok());
  ASSERT_TRUE(ApplyOverrideLines(empty, "\n # only a comment\n").ok());
  EXPECT_EQ(empty, json::object());
}

TEST(ApplyOverrideLinesTest, AnErrorNamesItsLineAndChangesNothing) {
  json original = json::parse(R"({"a": 5})");
  json config = original;
  Status status = ApplyOverrideLines(config, "b=1\n\n# c\nnovalue\nd=2");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(status.message(), "STAGEHOST_SET line 4 \"novalue\": expected KEY=VALUE"));
  EXPECT_EQ(config, original);  // line 1 was not applied either

  status = ApplyOverrideLines(config, "a.b=1");
  EXPECT_TRUE(HasText(status.message(), "STAGEHOST_SET line 1 \"a.b=1\": \"a\" is number"));
  EXPECT_EQ(config, original);
}

}  // namespace
}  // namespace stagehost
