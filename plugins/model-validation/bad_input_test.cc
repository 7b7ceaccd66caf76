// bad_input_test.cc -- unusable input gives BadConfig naming file, line and column, or a
// documented undefined metric; never a wrong number.
#include "config_schema.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::model_validation::testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  std::string Error(const std::string& csv, const std::string& predictions_extra = "") {
    WriteText(dir_.path() + "/p.csv", csv);
    return BadConfigMessage([&] {
      RunJson(dir_.path(), R"({"predictions": {"path": "p.csv")" + predictions_extra + "}}");
    });
  }
  stagehost::testutil::TempDir dir_;
};

TEST_F(BadInput, MissingColumn) {
  std::string e = Error("label,pred\n1,1\n");
  EXPECT_CONTAINS(e, "p.csv:1: no column \"prediction\" (prediction_column)");
}

TEST_F(BadInput, NonNumericProbability) {
  std::string e = Error("label,prediction,p\n1,1,0.9\n0,0,abc\n", R"(, "probability_column": "p")");
  EXPECT_CONTAINS(e, "p.csv:3: column \"p\": \"abc\" is not a number");
}

TEST_F(BadInput, NaNProbability) {
  std::string e = Error("label,prediction,p\n1,1,nan\n", R"(, "probability_column": "p")");
  EXPECT_CONTAINS(e, "p.csv:2: column \"p\": \"nan\" is not a finite number");
}

TEST_F(BadInput, ProbabilityOutOfRange) {
  std::string e = Error("label,prediction,p\n1,1,1.5\n", R"(, "probability_column": "p")");
  EXPECT_CONTAINS(e, "outside [0, 1]");
}

TEST_F(BadInput, EmptyFile) { EXPECT_CONTAINS(Error(""), "p.csv: the file is empty"); }

TEST_F(BadInput, HeaderOnly) { EXPECT_CONTAINS(Error("label,prediction\n"), "no data rows"); }

TEST_F(BadInput, MismatchedRowLength) {
  EXPECT_CONTAINS(Error("label,prediction\n1,1\n0\n"), "p.csv:3: 1 fields, but the header has 2");
}

TEST_F(BadInput, EmptyLabel) {
  EXPECT_CONTAINS(Error("label,prediction\n1,1\n,0\n"), "p.csv:3: column \"label\": empty label");
}

TEST_F(BadInput, RegressionNonNumeric) {
  EXPECT_CONTAINS(Error("label,prediction\n1.5,x\n", R"(, "task": "regression")"),
                  "p.csv:2: column \"prediction\": \"x\" is not a number");
}

TEST_F(BadInput, NegativeWeight) {
  EXPECT_CONTAINS(Error("label,prediction,w\n1,1,-1\n", R"(, "weight_column": "w")"),
                  "negative weight");
}

TEST_F(BadInput, LabelWithoutProbabilityColumn) {
  EXPECT_CONTAINS(Error("label,pa,pb\na,0.5,0.5\nc,0.1,0.9\n",
                        R"(, "probability_columns": {"a": "pa", "b": "pb"})"),
                  "p.csv:3: column \"label\": label \"c\" has no probability column");
}

TEST_F(BadInput, QuotedFieldsAndCrlfAreRead) {
  WriteText(dir_.path() + "/p.csv", "\"label\",prediction\r\n\"a,1\",\"a,1\"\r\n\"b\"\"\",a,1\r\n");
  EXPECT_CONTAINS(
      BadConfigMessage([&] { RunJson(dir_.path(), R"({"predictions": {"path": "p.csv"}})"); }),
      "p.csv:3: 3 fields");
  WriteText(dir_.path() + "/p.csv",
            "\"label\",prediction\r\n\"a,1\",\"a,1\"\r\n\"b\"\"\",\"b\"\"\"\r\n");
  ValidationResult r = RunJson(dir_.path(), R"({"predictions": {"path": "p.csv"}})");
  EXPECT_EQ(Metric(r.metrics, "accuracy"), 1.0);
  EXPECT_EQ(r.details["classes"], nlohmann::json({"a,1", "b\""}));
}

// A single class: AUC is undefined (documented), a gate on it is an error, other metrics stand.
TEST_F(BadInput, SingleClassAucUndefined) {
  WriteText(dir_.path() + "/p.csv", "label,prediction,p\n1,1,0.9\n1,0,0.2\n");
  ValidationResult r =
      RunJson(dir_.path(), R"({"predictions": {"path": "p.csv", "probability_column": "p"}})");
  const MetricValue* auc = r.metrics.Find("roc_auc");
  ASSERT_NE(auc, nullptr);
  EXPECT_FALSE(auc->value.has_value());
  EXPECT_CONTAINS(auc->undefined_reason, "only one class present");
  EXPECT_EQ(Metric(r.metrics, "accuracy"), 0.5);
  std::string e = BadConfigMessage([&] {
    RunJson(dir_.path(), R"({"predictions": {"path": "p.csv", "probability_column": "p"},
                            "gates": [{"metric": "roc_auc", "min": 0.5}]})");
  });
  EXPECT_CONTAINS(e, "gates[0]: metric roc_auc is undefined: only one class present");
}

TEST_F(BadInput, UnknownGateMetric) {
  std::string e = BadConfigMessage([] {
    ParseConfig(nlohmann::json::parse(
        R"({"predictions": {"path": "p.csv"}, "gates": [{"metric": "rmse", "max": 1}]})"));
  });
  EXPECT_CONTAINS(e, "gates[0].metric \"rmse\": not a classification metric");
}

TEST_F(BadInput, MissingFile) {
  EXPECT_CONTAINS(
      BadConfigMessage([&] { RunJson(dir_.path(), R"({"predictions": {"path": "nope.csv"}})"); }),
      "nope.csv: cannot open");
}

TEST_F(BadInput, JsonLinesErrors) {
  WriteText(dir_.path() + "/p.jsonl",
            "{\"label\": 1, \"prediction\": 1}\n{\"label\": null, \"prediction\": 1}\n");
  EXPECT_CONTAINS(
      BadConfigMessage([&] { RunJson(dir_.path(), R"({"predictions": {"path": "p.jsonl"}})"); }),
      "p.jsonl:2: key \"label\" is null");
  WriteText(dir_.path() + "/p.jsonl", "{\"label\": 1, \"prediction\": 1}\n{oops\n");
  EXPECT_CONTAINS(
      BadConfigMessage([&] { RunJson(dir_.path(), R"({"predictions": {"path": "p.jsonl"}})"); }),
      "p.jsonl:2: invalid JSON");
}

// Labels "1" and "1.0" are one class; ranking with ties is exact on a tiny hand-checked case.
TEST(Metrics, HandCheckedTiesAndLabelCanonicalisation) {
  stagehost::testutil::TempDir dir;
  // Scores: pos {0.8, 0.5}, neg {0.5, 0.2}: AUC = (1 + 1 + 0.5 + 1) / 4 = 0.875.
  // AP: threshold 0.8 -> P=1, R=0.5; threshold 0.5 -> P=2/3, R=1: AP = 0.5 + 0.5 * 2/3.
  WriteText(dir.path() + "/p.csv", "label,prediction,p\n1.0,1,0.8\n1,1,0.5\n0,1,0.5\n0.0,0,0.2\n");
  ValidationResult r =
      RunJson(dir.path(), R"({"predictions": {"path": "p.csv", "probability_column": "p"}})");
  EXPECT_DOUBLE_EQ(Metric(r.metrics, "roc_auc"), 0.875);
  EXPECT_DOUBLE_EQ(Metric(r.metrics, "average_precision"), 0.5 + 0.5 * 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(Metric(r.metrics, "accuracy"), 0.75);
  EXPECT_EQ(r.details["classes"], nlohmann::json({"0", "1"}));
}

TEST(Metrics, EveryConfigPropertyHasADescription) {
  std::function<void(const nlohmann::json&, const std::string&)> walk =
      [&](const nlohmann::json& s, const std::string& where) {
        if (!s.is_object()) return;
        if (s.contains("properties")) {
          for (const auto& [k, v] : s["properties"].items()) {
            EXPECT_TRUE(v.contains("description")) << where << "/" << k;
            walk(v, where + "/" + k);
          }
        }
        if (s.contains("items")) walk(s["items"], where + "[]");
        if (s.contains("additionalProperties")) walk(s["additionalProperties"], where + "/*");
      };
  walk(nlohmann::json::parse(kConfigSchema), "");
}

}  // namespace
}  // namespace stagehost::model_validation::testing
