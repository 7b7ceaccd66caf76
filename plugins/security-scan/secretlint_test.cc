// secretlint_test.cc -- runs secretlint 9.3.4 (recommend preset, installed by npm ci) on the same
// generated tree and checks that every planted secret it finds, we find too.
#include <gtest/gtest.h>

#include <set>

#include "planted_tree.h"
#include "test_helpers.h"
#include "testutil/run_process.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::security_scan::testing {
namespace {

using stagehost::testutil::TempDir;

TEST(Secretlint, OurRecallIsAtLeastSecretlints) {
  const std::string bin = STAGEHOST_SOURCE_DIR "/node_modules/.bin/secretlint";
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << bin << " missing: run scripts/install-deps.sh";
  TempDir dir;
  const PlantedTree tree = WritePlantedTree(dir.path());
  WriteText(dir.path() + "/.secretlintrc.json",
            R"({"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]})");
  stagehost::testutil::ProcessOptions opt;
  opt.argv = {bin,         "**/*",           "--format",
              "json",      "--secretlintrc", dir.path() + "/.secretlintrc.json",
              "--no-color"};
  opt.cwd = dir.path();
  opt.env["NODE_PATH"] = STAGEHOST_SOURCE_DIR "/node_modules";
  opt.timeout = std::chrono::milliseconds(60000);
  const auto r = stagehost::testutil::RunProcess(opt);
  ASSERT_TRUE(r.exited) << r.Describe();
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.Describe();  // 1: it found something
  const auto out = nlohmann::json::parse(r.out);
  // secretlint's locations: file path + 1-based line of the start of each message.
  std::set<std::string> theirs;
  for (const auto& file : out) {
    std::string path = file["filePath"].get<std::string>();
    if (path.rfind(dir.path() + "/", 0) == 0) path = path.substr(dir.path().size() + 1);
    for (const auto& m : file["messages"]) {
      theirs.insert(path + ":" + std::to_string(m["loc"]["start"]["line"].get<int>()));
    }
  }
  std::set<std::string> ours;
  for (const auto& f : ScanDir(dir.path()).findings)
    ours.insert(f.path + ":" + std::to_string(f.line));
  std::size_t they_found = 0, we_found = 0;
  for (const auto& p : tree.secrets) {
    const std::string where = p.path + ":" + std::to_string(p.line);
    const bool by_them = theirs.count(where) > 0, by_us = ours.count(where) > 0;
    they_found += by_them;
    we_found += by_us;
    if (by_them)
      EXPECT_TRUE(by_us) << "secretlint found " << p.rule << " at " << where << ", we did not";
  }
  // secretlint's recommend preset knows a subset of the kinds; it must still find several, or the
  // comparison is vacuous (e.g. the preset did not load).
  EXPECT_GE(they_found, 8u);
  EXPECT_EQ(we_found, tree.secrets.size());
  RecordProperty("secretlint_found", static_cast<int>(they_found));
  RecordProperty("stagehost_found", static_cast<int>(we_found));
  std::cout << "planted " << tree.secrets.size() << ": secretlint found " << they_found
            << ", stagehost found " << we_found << "\n";
}

}  // namespace
}  // namespace stagehost::security_scan::testing
