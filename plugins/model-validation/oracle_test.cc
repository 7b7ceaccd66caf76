// oracle_test.cc -- every metric against scikit-learn on Debian's shipped datasets (1e-9 relative).
#include <cstdlib>
#include <filesystem>

#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::model_validation::testing {
namespace {

class SklearnOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stagehost::testutil::TempDir();
    const std::string cmd = "/usr/bin/python3 " MV_TESTDATA_DIR "/sklearn_oracle.py " +
                            dir_->path() + " > " + dir_->path() + "/oracle.log 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(ok_) << "the scikit-learn oracle script failed: "
                     << ReadText(dir_->path() + "/oracle.log");
  }
  static nlohmann::json Spec(const std::string& name) {
    return nlohmann::json::parse(ReadText(dir_->path() + "/" + name + ".json"));
  }

  // Per-class probability columns "p_<class>", optional weight column.
  void CheckClassification(const std::string& name) {
    const nlohmann::json spec = Spec(name);
    nlohmann::json cfg = {{"predictions", {{"path", name + ".csv"}}}};
    for (const auto& c : spec["class_names"]) {
      cfg["predictions"]["probability_columns"][c.get<std::string>()] = "p_" + c.get<std::string>();
    }
    if (spec["weighted"].get<bool>()) cfg["predictions"]["weight_column"] = "weight";
    ValidationResult r = RunJson(dir_->path(), cfg.dump());
    const nlohmann::json& e = spec["expected"];
    int compared = 0;
    for (const auto& [metric, value] : e.items()) {
      if (!value.is_number_float() && !value.is_number_integer()) continue;
      if (metric == "calibration_bins") {
        EXPECT_EQ(r.details["reliability"]["bins"].size(), value.get<std::size_t>());
        continue;
      }
      EXPECT_TRUE(Near(name + " " + metric, Metric(r.metrics, metric), value.get<double>()));
      ++compared;
    }
    EXPECT_GE(compared, 15);
    EXPECT_EQ(r.details["classes"], e["classes"]);
    const auto& cm = r.details["confusion_matrix"]["values"];
    for (std::size_t i = 0; i < e["confusion_matrix"].size(); ++i) {
      for (std::size_t j = 0; j < e["confusion_matrix"][i].size(); ++j) {
        EXPECT_TRUE(Near(name + " confusion", cm[i][j].get<double>(),
                         e["confusion_matrix"][i][j].get<double>()));
      }
    }
    EXPECT_EQ(r.details["rows"].get<int>(), spec["rows"].get<int>());
  }

  static stagehost::testutil::TempDir* dir_;
  static bool ok_;
};
stagehost::testutil::TempDir* SklearnOracle::dir_ = nullptr;
bool SklearnOracle::ok_ = false;

TEST_F(SklearnOracle, BreastCancerBinary) { CheckClassification("breast_cancer"); }
TEST_F(SklearnOracle, BreastCancerWeighted) { CheckClassification("breast_cancer_weighted"); }
TEST_F(SklearnOracle, BreastCancerTiedScores) { CheckClassification("breast_cancer_ties"); }
TEST_F(SklearnOracle, IrisMulticlass) { CheckClassification("iris"); }
TEST_F(SklearnOracle, IrisTiedScores) { CheckClassification("iris_ties"); }
TEST_F(SklearnOracle, WineMulticlass) { CheckClassification("wine"); }
TEST_F(SklearnOracle, WineWeighted) { CheckClassification("wine_weighted"); }

TEST_F(SklearnOracle, BreastCancerSingleProbabilityColumnAndSlices) {
  const nlohmann::json spec = Spec("breast_cancer_single");
  ValidationResult r = RunJson(dir_->path(), R"({"predictions": {"path": "breast_cancer_single.csv",
      "probability_column": "score", "group_column": "group"}})");
  for (const auto& [metric, value] : spec["expected"].items()) {
    EXPECT_TRUE(Near(metric, Metric(r.metrics, metric), value.get<double>()));
  }
  ASSERT_EQ(r.slices.size(), 2u);
  for (const Slice& s : r.slices) {
    for (const auto& [metric, value] : spec["slices"][s.group].items()) {
      EXPECT_TRUE(Near(s.group + " " + metric, Metric(s.metrics, metric), value.get<double>()));
    }
  }
  EXPECT_EQ(r.details["positive_label"], "1");
}

TEST_F(SklearnOracle, DiabetesRegression) {
  for (const std::string name : {"diabetes", "diabetes_weighted"}) {
    const nlohmann::json spec = Spec(name);
    nlohmann::json cfg = {{"predictions",
                           {{"path", name + ".csv"},
                            {"task", "regression"},
                            {"label_column", "y"},
                            {"prediction_column", "yhat"}}}};
    if (name == "diabetes_weighted") cfg["predictions"]["weight_column"] = "w";
    ValidationResult r = RunJson(dir_->path(), cfg.dump());
    for (const auto& [metric, value] : spec["expected"].items()) {
      EXPECT_TRUE(Near(name + " " + metric, Metric(r.metrics, metric), value.get<double>()));
    }
  }
}

// The same file as JSON Lines gives the same numbers.
TEST_F(SklearnOracle, JsonLinesMatchesCsv) {
  const std::string csv = ReadText(dir_->path() + "/iris.csv");
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::string jsonl;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    nlohmann::json o = {{"label", f[0]},
                        {"prediction", f[1]},
                        {"p_setosa", std::stod(f[2])},
                        {"p_versicolor", std::stod(f[3])},
                        {"p_virginica", std::stod(f[4])}};
    jsonl += o.dump() + "\n";
  }
  WriteText(dir_->path() + "/iris.jsonl", jsonl);
  const std::string cols = R"("probability_columns": {"setosa": "p_setosa",
      "versicolor": "p_versicolor", "virginica": "p_virginica"})";
  ValidationResult a =
      RunJson(dir_->path(), R"({"predictions": {"path": "iris.csv", )" + cols + "}}");
  ValidationResult b =
      RunJson(dir_->path(), R"({"predictions": {"path": "iris.jsonl", )" + cols + "}}");
  for (const auto& [name, v] : a.metrics.items()) {
    EXPECT_TRUE(Near("jsonl " + name, Metric(b.metrics, name), *v.value, 1e-15));
  }
}

}  // namespace
}  // namespace stagehost::model_validation::testing
