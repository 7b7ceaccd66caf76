// osv_test.cc -- OSV range evaluation on hand-written advisories with tricky ranges, the CVSS v3
// score, manifests and lockfiles, and the dependency findings of a whole scan.
#include "osv.h"

#include <gtest/gtest.h>

#include <map>

#include "manifests.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::security_scan::testing {
namespace {

using json = nlohmann::json;
using stagehost::testutil::TempDir;

json Advisory(const std::string& id, const std::string& eco, const std::string& name, json ranges,
              json versions = json::array()) {
  return {{"id", id},
          {"modified", "2024-01-01T00:00:00Z"},
          {"affected", json::array({{{"package", {{"ecosystem", eco}, {"name", name}}},
                                     {"ranges", ranges},
                                     {"versions", versions}}})}};
}

json Range(const std::string& type, json events) { return {{"type", type}, {"events", events}}; }

class OsvMatching : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Add(Advisory("PYSEC-1", "PyPI", "Django_Foo",
                     json::array({Range("ECOSYSTEM", json::array({{{"introduced", "0"}},
                                                                  {{"fixed", "2.0.0rc1"}}}))})),
            "t");
    db_.Add(
        Advisory("PYSEC-2", "PyPI", "lastpkg",
                 json::array({Range("ECOSYSTEM", json::array({{{"introduced", "1.0"}},
                                                              {{"last_affected", "1.4.2"}}}))})),
        "t");
    // Two affected windows in one range, events deliberately out of order.
    db_.Add(Advisory("PYSEC-3", "PyPI", "twowin",
                     json::array({Range("ECOSYSTEM", json::array({{{"fixed", "2.1.3"}},
                                                                  {{"introduced", "1.0"}},
                                                                  {{"introduced", "2.0"}},
                                                                  {{"fixed", "1.2"}}}))})),
            "t");
    db_.Add(Advisory("PYSEC-4", "PyPI", "listed", json::array(), json::array({"3.0.0", "3.1"})),
            "t");
    db_.Add(Advisory("GHSA-npm1", "npm", "lodash",
                     json::array({Range(
                         "SEMVER", json::array({{{"introduced", "0"}}, {{"fixed", "4.17.21"}}}))})),
            "t");
    db_.Add(Advisory("PYSEC-5", "PyPI", "limited",
                     json::array({Range(
                         "ECOSYSTEM", json::array({{{"introduced", "0"}}, {{"limit", "2.0"}}}))})),
            "t");
    db_.Add(Advisory("PYSEC-6", "PyPI", "epochal",
                     json::array({Range("ECOSYSTEM", json::array({{{"introduced", "1!0"}}}))})),
            "t");
    db_.Add(Advisory("PYSEC-7", "PyPI", "gitonly",
                     json::array({Range(
                         "GIT", json::array({{{"introduced", "0"}}, {{"fixed", "abcdef0"}}}))})),
            "t");
    json withdrawn =
        Advisory("PYSEC-8", "PyPI", "gone",
                 json::array({Range("ECOSYSTEM", json::array({{{"introduced", "0"}}}))}));
    withdrawn["withdrawn"] = "2024-02-01T00:00:00Z";
    db_.Add(withdrawn, "t");
  }
  std::string Hit(Ecosystem e, const std::string& name, const std::string& version) {
    auto m = db_.Lookup(e, name, version);
    return m.empty() ? "" : m[0].advisory->id + (m[0].fixed.empty() ? "" : " fixed " + m[0].fixed);
  }
  OsvDatabase db_;
};

TEST_F(OsvMatching, IntroducedZeroAndPreReleaseOfTheFix) {
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "django-foo", "1.9"), "PYSEC-1 fixed 2.0.0rc1");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "Django.Foo", "2.0.0b1"), "PYSEC-1 fixed 2.0.0rc1");  // b1 < rc1
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "django_foo", "2.0rc1"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "django_foo", "2.0"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "django_foo", "0.0.1.dev0"), "PYSEC-1 fixed 2.0.0rc1");
}

TEST_F(OsvMatching, LastAffectedIsInclusive) {
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "0.9"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "1.0"), "PYSEC-2");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "1.4.2"), "PYSEC-2");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "1.4.2+local"), "");  // after 1.4.2 in PEP 440
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "1.4.2.post1"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lastpkg", "1.4.3.dev0"), "");
}

TEST_F(OsvMatching, SeveralWindowsInOneRange) {
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "twowin", "0.9"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "twowin", "1.1"), "PYSEC-3 fixed 1.2");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "twowin", "1.5"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "twowin", "2.1.2"), "PYSEC-3 fixed 2.1.3");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "twowin", "2.1.3"), "");
}

TEST_F(OsvMatching, ExplicitVersionsUseEcosystemEquality) {
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "listed", "3.0"), "PYSEC-4");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "listed", "3.1.0"), "PYSEC-4");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "listed", "3.0.1"), "");
}

TEST_F(OsvMatching, SemverRangesForNpm) {
  EXPECT_EQ(Hit(Ecosystem::kNpm, "lodash", "4.17.20"), "GHSA-npm1 fixed 4.17.21");
  EXPECT_EQ(Hit(Ecosystem::kNpm, "lodash", "4.17.21-beta.1"), "GHSA-npm1 fixed 4.17.21");
  EXPECT_EQ(Hit(Ecosystem::kNpm, "lodash", "4.17.21"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "lodash", "1.0"), "");  // wrong ecosystem
}

TEST_F(OsvMatching, LimitEpochGitAndWithdrawn) {
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "limited", "1.9"), "PYSEC-5");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "limited", "2.0"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "epochal", "5.0"), "");  // epoch 0 < epoch 1
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "epochal", "1!0.1"), "PYSEC-6");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "gitonly", "1.0"), "");
  EXPECT_EQ(Hit(Ecosystem::kPyPI, "gone", "1.0"), "");
  EXPECT_EQ(db_.size(), 8u);  // the withdrawn record is not kept
}

TEST(Osv, MalformedRecordsNameTheProblem) {
  OsvDatabase db;
  try {
    db.Add(Advisory("X-1", "PyPI", "p",
                    json::array({Range("ECOSYSTEM", json::array({{{"introduce", "0"}}}))})),
           "db/x.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "db/x.json: X-1: unknown event \"introduce\"");
  }
  EXPECT_THROW(db.Add(json{{"affected", json::array()}}, "y.json"), std::runtime_error);
}

TEST(Osv, CvssV3BaseScores) {
  EXPECT_DOUBLE_EQ(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8);
  EXPECT_DOUBLE_EQ(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), 7.5);
  EXPECT_DOUBLE_EQ(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"), 6.4);
  EXPECT_DOUBLE_EQ(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), 0.0);
  EXPECT_LT(CvssV3BaseScore("CVSS:2.0/AV:N"), 0);
  EXPECT_LT(CvssV3BaseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 0);
}

TEST(Manifests, RequirementsFiles) {
  const Manifest m = ParseManifest("requirements-dev.txt",
                                   "# tools\n"
                                   "numpy==1.24.2  # pinned\n"
                                   "Requests[socks] == 2.31.0 ; python_version >= '3.8'\n"
                                   "-r base.txt\n"
                                   "scipy>=1.10\n"
                                   "pandas===1.5.3 \\\n    --hash=sha256:abc\n"
                                   "https://example.com/pkg.whl\n");
  ASSERT_EQ(m.dependencies.size(), 3u);
  EXPECT_EQ(m.dependencies[0].name + " " + m.dependencies[0].version, "numpy 1.24.2");
  EXPECT_EQ(m.dependencies[0].line, 2u);
  EXPECT_EQ(m.dependencies[1].name + " " + m.dependencies[1].version, "Requests 2.31.0");
  EXPECT_EQ(m.dependencies[2].name + " " + m.dependencies[2].version, "pandas 1.5.3");
  EXPECT_EQ(m.dependencies[2].line, 6u);
  EXPECT_EQ(m.unpinned, std::vector<std::string>{"scipy >=1.10"});
  EXPECT_FALSE(ManifestKind("src/requirements.py"));
}

TEST(Manifests, Lockfiles) {
  const Manifest poetry = ParseManifest("poetry.lock",
                                        "[[package]]\nname = \"urllib3\"\nversion = \"1.26.5\"\n\n"
                                        "[[package]]\nname = \"idna\"\nversion = \"3.4\"\n");
  ASSERT_EQ(poetry.dependencies.size(), 2u);
  EXPECT_EQ(poetry.dependencies[1].name, "idna");
  const Manifest pipenv = ParseManifest(
      "Pipfile.lock",
      R"({"default": {"jinja2": {"version": "==2.10"}}, "develop": {"pytest": {"version": "==7.2.1"}}})");
  ASSERT_EQ(pipenv.dependencies.size(), 2u);
  EXPECT_EQ(pipenv.dependencies[0].version, "2.10");
  EXPECT_FALSE(pipenv.dependencies[1].direct);
  const Manifest v3 = ParseManifest("web/package-lock.json", R"({"lockfileVersion": 3, "packages": {
      "": {"name": "web"}, "node_modules/lodash": {"version": "4.17.20"},
      "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"}}})");
  ASSERT_EQ(v3.dependencies.size(), 2u);
  std::map<std::string, Dependency> by_name;
  for (const auto& d : v3.dependencies) by_name[d.name] = d;
  EXPECT_EQ(by_name["@scope/b"].version, "1.0.0");
  EXPECT_FALSE(by_name["@scope/b"].direct);
  EXPECT_TRUE(by_name["lodash"].direct);
  const Manifest v1 = ParseManifest("package-lock.json", R"({"lockfileVersion": 1, "dependencies": {
      "x": {"version": "1.0.0", "dependencies": {"y": {"version": "2.0.0"}}}}})");
  EXPECT_EQ(v1.dependencies.size(), 2u);
  EXPECT_THROW(ParseManifest("package-lock.json", "{oops"), std::runtime_error);
  EXPECT_THROW(ParseManifest("poetry.lock", "[[package]\n"), std::runtime_error);
}

TEST(DependencyScan, ZipDatabaseAndFindings) {
  TempDir dir;
  WriteText(dir.path() + "/requirements.txt", "jinja2==2.10\nnumpy==1.24.2\n");
  json adv = Advisory(
      "GHSA-jjjj", "PyPI", "Jinja2",
      json::array(
          {Range("ECOSYSTEM", json::array({{{"introduced", "0"}}, {{"fixed", "2.10.1"}}}))}));
  adv["aliases"] = {"CVE-2019-10906"};
  adv["summary"] = "Sandbox escape";
  adv["severity"] = json::array(
      {{{"type", "CVSS_V3"}, {"score", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}});
  WriteText(dir.path() + "/osv/GHSA-jjjj.json", adv.dump());
  const std::string zip = dir.path() + "/osv.zip";
  auto r = stagehost::testutil::RunProcess(
      {{"/usr/bin/zip", "-qj", zip, dir.path() + "/osv/GHSA-jjjj.json"}});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const std::string db : {"osv", "osv.zip"}) {
    const ScanResult s =
        ScanDir(dir.path(), {{"dependencies", {{"osv_db", db}}}, {"exclude", {"^osv"}}});
    ASSERT_EQ(s.findings.size(), 1u) << db;
    const Finding& f = s.findings[0];
    EXPECT_EQ(f.rule_id, "GHSA-jjjj");
    EXPECT_EQ(f.severity, Severity::kCritical);
    EXPECT_EQ(f.fixed_version, "2.10.1");
    EXPECT_EQ(f.line, 1u);
    EXPECT_EQ(s.stats.advisories, 1u);
  }
  EXPECT_THROW(ScanDir(dir.path(), {{"dependencies", {{"osv_db", "nope"}}}}), sdk::BadConfig);
}

}  // namespace
}  // namespace stagehost::security_scan::testing
