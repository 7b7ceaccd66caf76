// reports_test.cc -- the GitLab reports validate against the vendored official schemas (15.0.6),
// SARIF against the SARIF 2.1.0 schema with stable rule ids and fingerprints, no report carries a
// secret, the log table adds up.
#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif
#include "reports.h"

#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "planted_tree.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::security_scan::testing {

std::string SchemaErrors(const std::string& schema_path, const nlohmann::json& doc) {
  const nlohmann::json schema_json = nlohmann::json::parse(ReadText(schema_path));
  valijson::Schema schema;
  // GitLab's report schemas are draft-07; SARIF 2.1.0's is draft-04.
  const bool draft4 = schema_json.value("$schema", "").find("draft-04") != std::string::npos;
  valijson::SchemaParser parser(draft4 ? valijson::SchemaParser::kDraft4
                                       : valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter doc_adapter(doc);
  if (validator.validate(schema, doc_adapter, &results)) return "";
  std::string out;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    std::string where;
    for (const auto& c : e.context) where += c;
    out += where + ": " + e.description + "\n";
  }
  return out.empty() ? "invalid" : out;
}

namespace {

using json = nlohmann::json;
using stagehost::testutil::TempDir;

const std::string kSecretSchema =
    std::string(SS_TESTDATA_DIR) + "/schemas/secret-detection-report-format-15.0.6.json";
const std::string kDependencySchema =
    std::string(SS_TESTDATA_DIR) + "/schemas/dependency-scanning-report-format-15.0.6.json";
// The SARIF 2.1.0 JSON schema (rtm.5) from the pinned npm package @microsoft/jest-sarif.
const std::string kSarifSchema = SS_SARIF_SCHEMA;

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = WritePlantedTree(dir_.path());
    WriteText(dir_.path() + "/requirements.txt", "jinja2==2.10\n");
    WriteText(dir_.path() + "/osvdb/a.json",
              json{{"id", "GHSA-test-0001"},
                   {"aliases", {"CVE-2019-10906"}},
                   {"summary", "Sandbox escape"},
                   {"database_specific", {{"severity", "HIGH"}}},
                   {"affected",
                    {{{"package", {{"ecosystem", "PyPI"}, {"name", "jinja2"}}},
                      {"ranges",
                       {{{"type", "ECOSYSTEM"},
                         {"events", {{{"introduced", "0"}}, {{"fixed", "2.10.1"}}}}}}}}}}}
                  .dump());
    WriteText(dir_.path() + "/models/evil.pkl",
              std::string("\x80\x02", 2) + "cposix\nsystem\n" + ".");
    config_ = ParseConfig({{"dependencies", {{"osv_db", "osvdb"}}}});
    result_ = RunScan(config_, dir_.path());
    ctx_.tool_version = "0.1.0";
    ctx_.commit_sha = "0123456789abcdef0123456789abcdef01234567";
  }
  TempDir dir_;
  PlantedTree tree_;
  Config config_;
  ScanResult result_;
  ReportContext ctx_;
};

TEST_F(Reports, SecretDetectionReportIsValid) {
  const json report = SecretDetectionReport(result_, ctx_);
  EXPECT_EQ(SchemaErrors(kSecretSchema, report), "");
  EXPECT_EQ(report["vulnerabilities"].size(), tree_.secrets.size());
  EXPECT_EQ(report["scan"]["type"], "secret_detection");
  const json& v = report["vulnerabilities"][0];
  EXPECT_EQ(v["location"]["commit"]["sha"], ctx_.commit_sha);
  EXPECT_EQ(v["identifiers"][0]["type"], "stagehost_secret_rule");
}

TEST_F(Reports, DependencyScanningReportIsValid) {
  const json report = DependencyScanningReport(result_, ctx_);
  EXPECT_EQ(SchemaErrors(kDependencySchema, report), "");
  ASSERT_EQ(report["vulnerabilities"].size(), 1u);
  const json& v = report["vulnerabilities"][0];
  EXPECT_EQ(v["severity"], "High");
  EXPECT_EQ(v["identifiers"][0]["value"], "GHSA-test-0001");
  EXPECT_EQ(v["identifiers"][1]["type"], "cve");
  EXPECT_EQ(v["location"]["dependency"]["package"]["name"], "jinja2");
  EXPECT_EQ(report["dependency_files"][0]["package_manager"], "pip");
}

TEST_F(Reports, TheValidatorRejectsBrokenReports) {
  // The schema check is real: a report without the commit, or with a bad severity, fails.
  json report = SecretDetectionReport(result_, ctx_);
  report["vulnerabilities"][0]["location"].erase("commit");
  EXPECT_NE(SchemaErrors(kSecretSchema, report), "");
  json dep = DependencyScanningReport(result_, ctx_);
  dep["vulnerabilities"][0]["severity"] = "Severe";
  EXPECT_NE(SchemaErrors(kDependencySchema, dep), "");
  dep = DependencyScanningReport(result_, ctx_);
  dep.erase("dependency_files");
  EXPECT_NE(SchemaErrors(kDependencySchema, dep), "");
}

TEST_F(Reports, SarifHasStableRulesAndFingerprints) {
  const json sarif = Sarif(result_, ctx_);
  EXPECT_EQ(sarif["version"], "2.1.0");
  const json& run = sarif["runs"][0];
  const json& rules = run["tool"]["driver"]["rules"];
  ASSERT_EQ(run["results"].size(), result_.findings.size());
  std::set<std::string> ids;
  for (const auto& r : rules) ids.insert(r["id"].get<std::string>());
  EXPECT_EQ(ids.size(), rules.size());  // unique
  EXPECT_TRUE(ids.count("secret/github-pat"));
  EXPECT_TRUE(ids.count("model/pickle-dangerous-global"));
  EXPECT_TRUE(ids.count("dependency/GHSA-test-0001"));
  for (const auto& res : run["results"]) {
    const std::size_t idx = res["ruleIndex"].get<std::size_t>();
    EXPECT_EQ(rules[idx]["id"], res["ruleId"]);
    EXPECT_EQ(res["partialFingerprints"]["stagehostFingerprint/v1"].get<std::string>().size(), 16u);
    EXPECT_GE(res["locations"][0]["physicalLocation"]["region"]["startLine"].get<int>(), 1);
    EXPECT_TRUE(res["level"] == "error" || res["level"] == "warning" || res["level"] == "note");
  }
  // Same input, same SARIF results (ids and fingerprints are stable).
  EXPECT_EQ(Sarif(RunScan(config_, dir_.path()), ctx_)["runs"][0]["results"], run["results"]);
}

TEST_F(Reports, SarifIsValidAgainstTheSarif210Schema) {
  ASSERT_TRUE(stagehost::testutil::FileExists(kSarifSchema))
      << kSarifSchema << " is missing: scripts/install-deps.sh installs it (npm ci)";
  const json sarif = Sarif(result_, ctx_);
  ASSERT_GT(sarif["runs"][0]["results"].size(), 2u);  // secrets, a model and a dependency
  EXPECT_EQ(SchemaErrors(kSarifSchema, sarif), "");
  EXPECT_EQ(SchemaErrors(kSarifSchema, Sarif(ScanResult{}, ctx_)), "");  // a clean scan too

  // The check is real: a level SARIF does not define, a 0 start line, a stray property.
  json broken = sarif;
  broken["runs"][0]["results"][0]["level"] = "critical";
  EXPECT_NE(SchemaErrors(kSarifSchema, broken), "");
  broken = sarif;
  broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0;
  EXPECT_NE(SchemaErrors(kSarifSchema, broken), "");
  broken = sarif;
  broken["runs"][0]["tool"]["driver"]["severity"] = "high";
  EXPECT_NE(SchemaErrors(kSarifSchema, broken), "");
}

TEST_F(Reports, NoReportContainsASecret) {
  const std::string all = SecretDetectionReport(result_, ctx_).dump() +
                          DependencyScanningReport(result_, ctx_).dump() +
                          Sarif(result_, ctx_).dump() + ResultJson(result_, config_, ctx_).dump() +
                          SummaryTable(result_, config_);
  for (const auto& p : tree_.secrets) {
    EXPECT_EQ(all.find(p.value), std::string::npos) << p.rule;
    EXPECT_EQ(all.find(p.value.substr(p.value.size() / 3)), std::string::npos) << p.rule;
  }
}

TEST_F(Reports, SummaryTableCountsAndThreshold) {
  const std::string table = SummaryTable(result_, config_);
  std::size_t critical = 0;
  for (const auto& f : result_.findings) critical += f.severity == Severity::kCritical;
  EXPECT_NE(table.find("findings: " + std::to_string(result_.findings.size()) + " (critical " +
                       std::to_string(critical)),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("threshold high: " + std::to_string(result_.failing) + " failing"),
            std::string::npos);
  EXPECT_NE(table.find("models/evil.pkl"), std::string::npos);
  EXPECT_GT(result_.failing, 0u);
}

}  // namespace
}  // namespace stagehost::security_scan::testing
