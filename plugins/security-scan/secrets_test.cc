// secrets_test.cc -- the secret scanner on a generated tree: exact recall and no false positives,
// redaction, base64 and notebooks, allow comments, gitleaks TOML configs, baselines.
#include "secrets.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "planted_tree.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::security_scan::testing {
namespace {

using stagehost::testutil::TempDir;

std::vector<Finding> Secrets(const ScanResult& r) {
  std::vector<Finding> out;
  for (const auto& f : r.findings) {
    if (f.kind == FindingKind::kSecret) out.push_back(f);
  }
  return out;
}

TEST(PlantedTree, FindsEveryPlantedSecretAtItsLineAndNothingElse) {
  TempDir dir;
  const PlantedTree tree = WritePlantedTree(dir.path());
  const ScanResult r = ScanDir(dir.path());
  const auto found = Secrets(r);
  std::set<std::string> expected, got;
  for (const auto& p : tree.secrets)
    expected.insert(p.rule + " " + p.path + ":" + std::to_string(p.line));
  for (const auto& f : found) got.insert(f.rule_id + " " + f.path + ":" + std::to_string(f.line));
  for (const auto& e : expected) EXPECT_TRUE(got.count(e)) << "missed: " << e;
  for (const auto& g : got) EXPECT_TRUE(expected.count(g)) << "false positive: " << g;
  EXPECT_EQ(found.size(), tree.secrets.size());
  // Every kind of the issue is represented in the planted set.
  std::set<std::string> rules;
  for (const auto& p : tree.secrets) rules.insert(p.rule);
  EXPECT_GE(rules.size(), 18u);
  // Decoy lines are never reported, whatever the rule.
  for (const auto& d : tree.decoys) {
    for (const auto& f : found) EXPECT_NE(f.path + ":" + std::to_string(f.line), d) << f.rule_id;
  }
  EXPECT_GE(r.stats.dirs_skipped, 2u);  // node_modules and build
}

TEST(PlantedTree, ReportsNeverContainTheSecret) {
  TempDir dir;
  const PlantedTree tree = WritePlantedTree(dir.path());
  const ScanResult r = ScanDir(dir.path());
  for (const auto& f : r.findings) {
    for (const auto& p : tree.secrets) {
      EXPECT_EQ(f.message.find(p.value), std::string::npos) << f.rule_id;
      EXPECT_EQ(f.redacted.find(p.value), std::string::npos) << f.rule_id;
      // Not even the second half of it.
      EXPECT_EQ(f.redacted.find(p.value.substr(p.value.size() / 2)), std::string::npos)
          << f.rule_id;
    }
    EXPECT_EQ(f.fingerprint.size(), 16u);
  }
}

TEST(PlantedTree, FingerprintsAreStableAcrossRuns) {
  TempDir a, b;
  WritePlantedTree(a.path());
  WritePlantedTree(b.path());
  const auto ra = Secrets(ScanDir(a.path())), rb = Secrets(ScanDir(b.path()));
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].fingerprint, rb[i].fingerprint);
}

TEST(PlantedTree, DecodedAndNotebookFindingsAreTagged) {
  TempDir dir;
  WritePlantedTree(dir.path());
  std::map<std::string, std::vector<std::string>> tags;
  for (const auto& f : Secrets(ScanDir(dir.path()))) tags[f.path] = f.tags;
  EXPECT_EQ(tags["k8s/ci.yaml"], std::vector<std::string>{"decoded:base64"});
  EXPECT_EQ(tags["notebooks/train.ipynb"], std::vector<std::string>{"notebook"});
  // Without decoding, the wrapped token is invisible.
  const auto plain = Secrets(ScanDir(dir.path(), {{"secrets", {{"decode_base64", false}}}}));
  for (const auto& f : plain) EXPECT_NE(f.path, "k8s/ci.yaml");
}

TEST(Secrets, SizeCapAndBinaryFilesAreSkipped) {
  TempDir dir;
  std::uint64_t st = 7;
  const std::string tok =
      std::string("gh") + "p_" + RandomString(st, 36, "abcdefghijKLMNOP0123456789");
  WriteText(dir.path() + "/big.txt", std::string(4096, 'x') + "\n" + tok + "\n");
  WriteText(dir.path() + "/blob.bin", std::string("\0\1\2", 3) + tok);
  WriteText(dir.path() + "/small.txt", tok + "\n");
  const ScanResult r = ScanDir(dir.path(), {{"max_file_bytes", 2048}});
  const auto found = Secrets(r);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "small.txt");
  EXPECT_EQ(r.stats.skipped_large, 1u);
  EXPECT_EQ(r.stats.skipped_binary, 1u);
}

TEST(Secrets, InlineAllowCommentsAndConfigAllowlist) {
  TempDir dir;
  std::uint64_t st = 9;
  auto tok = [&] {
    return std::string("gh") + "p_" + RandomString(st, 36, "abcdefghijKLMNOP0123456789");
  };
  WriteText(dir.path() + "/a.py", "x = '" + tok() + "'  # gitleaks:allow\ny = '" + tok() +
                                      "'  # stagehost:allow\nz = '" + tok() + "'\n");
  WriteText(dir.path() + "/fixtures/b.py", "x = '" + tok() + "'\n");
  const auto found =
      Secrets(ScanDir(dir.path(), {{"secrets", {{"allowlist", {{"paths", {"^fixtures/"}}}}}}}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "a.py");
  EXPECT_EQ(found[0].line, 3u);
}

TEST(Secrets, SameSecretTwiceInAFileIsOneFindingPerLine) {
  TempDir dir;
  std::uint64_t st = 11;
  const std::string tok =
      std::string("gh") + "p_" + RandomString(st, 36, "abcdefghijKLMNOP0123456789");
  WriteText(dir.path() + "/a.py", "a = 1\nx = '" + tok + "'\nb = 2\n\ny = '" + tok + "'\n");
  const auto found = Secrets(ScanDir(dir.path()));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].line, 2u);
  EXPECT_EQ(found[1].line, 5u);
  EXPECT_NE(found[0].fingerprint, found[1].fingerprint);
  // Baselining the first leaves the second failing.
  WriteText(dir.path() + "/baseline.json",
            nlohmann::json{{"fingerprints", {found[0].fingerprint}}}.dump());
  const ScanResult r = ScanDir(dir.path(), {{"baseline", {{"path", "baseline.json"}}}});
  EXPECT_EQ(r.baselined, 1u);
  EXPECT_EQ(r.failing, 1u);
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

TEST(Secrets, Base64BlobsAreDecodedWhereverTheyStartAndEnd) {
  TempDir dir;
  std::uint64_t st = 13;
  auto blob = [&] {
    const std::string line = std::string("GITHUB_TOKEN = gh") + "p_" +
                             RandomString(st, 36, "abcdefghijKLMNOP0123456789") + "\n";
    std::string b = Base64(line);
    while (!b.empty() && b.back() == '=') b.pop_back();  // no padding: the run ends the file
    return b;
  };
  // At offset 0; after short identifiers on the same line; as the last bytes without a newline.
  WriteText(dir.path() + "/start.txt", blob() + "\nrest\n");
  WriteText(dir.path() + "/middle.txt", "one two three\nid_a id_b: " + blob() + " tail\n");
  WriteText(dir.path() + "/end.txt", "first line\nsecond line\nkey:" + blob());
  std::map<std::string, std::uint32_t> lines;
  for (const auto& f : Secrets(ScanDir(dir.path()))) {
    EXPECT_EQ(f.tags.front(), "decoded:base64") << f.path;
    lines[f.path] = f.line;
  }
  EXPECT_EQ(lines, (std::map<std::string, std::uint32_t>{
                       {"start.txt", 1}, {"middle.txt", 2}, {"end.txt", 3}}));
}

TEST(Secrets, CompiledRulesAreCachedAcrossRuns) {
  TempDir dir;
  std::uint64_t st = 17;
  WriteText(dir.path() + "/a.py", std::string("x = 'gh") + "p_" +
                                      RandomString(st, 36, "abcdefghijKLMNOP0123456789") + "'\n");
  const nlohmann::json cfg = {{"cache_dir", ".cache/security-scan"}};
  const ScanResult first = ScanDir(dir.path(), cfg);
  EXPECT_FALSE(first.stats.rules_cached);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/.cache/security-scan")) {
    EXPECT_EQ(e.path().filename().string().rfind("hyperscan-", 0), 0u);
    ++files;
  }
  EXPECT_EQ(files, 1u);
  const ScanResult second = ScanDir(dir.path(), cfg);
  EXPECT_TRUE(second.stats.rules_cached);
  EXPECT_EQ(second.stats.files_seen, 1u);  // the cache dir itself is not scanned
  ASSERT_EQ(Secrets(second).size(), 1u);
  EXPECT_EQ(Secrets(second)[0].fingerprint, Secrets(first)[0].fingerprint);
  // Another rule set has another key: compiled, not the cached database.
  const ScanResult other = ScanDir(dir.path(), {{"cache_dir", ".cache/security-scan"},
                                                {"secrets", {{"disabled_rules", {"jwt"}}}}});
  EXPECT_FALSE(other.stats.rules_cached);
  EXPECT_EQ(Secrets(other).size(), 1u);
  // A damaged cache file is ignored and rewritten.
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/.cache/security-scan")) {
    WriteText(e.path().string(), "not a database");
  }
  const ScanResult damaged = ScanDir(dir.path(), cfg);
  EXPECT_FALSE(damaged.stats.rules_cached);
  EXPECT_EQ(Secrets(damaged).size(), 1u);
  EXPECT_TRUE(ScanDir(dir.path(), cfg).stats.rules_cached);
}

TEST(Secrets, RedactionKeepsOnlyAPrefix) {
  EXPECT_EQ(Redact("abc"), "***");
  const std::string r = Redact(std::string("gh") + "p_abcdefghijklmnopqrstuvwxyz0123456789");
  EXPECT_EQ(r.substr(0, 4), "ghp_");
  EXPECT_EQ(r.find("abcdef"), std::string::npos);
  EXPECT_NE(r.find("(40 chars)"), std::string::npos);
}

TEST(Secrets, EntropyMinimumDropsLowEntropyValues) {
  TempDir dir;
  WriteText(dir.path() + "/a.cfg", "api_key = \"aaaaaaaaaaaaaaaaaaaa11\"\n");
  EXPECT_TRUE(Secrets(ScanDir(dir.path())).empty());
  EXPECT_NEAR(ShannonEntropy("abcd"), 2.0, 1e-12);
  EXPECT_NEAR(ShannonEntropy("aaaa"), 0.0, 1e-12);
}

TEST(Gitleaks, ReadsRulesAllowlistsAndExtend) {
  TempDir dir;
  std::uint64_t st = 11;
  const std::string id = "ACME" + RandomString(st, 20, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789");
  WriteText(dir.path() + "/.gitleaks.toml", R"(title = "project rules"
[extend]
useDefault = true
disabledRules = ["jwt", "generic-api-key"]

[[rules]]
id = "acme-key"
description = "ACME internal key"
regex = '''(?i)acme_key\s*=\s*['"]?(ACME[A-Z0-9]{20})'''
secretGroup = 1
entropy = 2.0
keywords = ["acme_key"]
  [[rules.allowlists]]
  paths = ['''^testdata/''']

[[allowlists]]
description = "docs"
paths = ['''\.md$''']
)");
  WriteText(dir.path() + "/app.cfg", "acme_key = '" + id + "'\n");
  WriteText(dir.path() + "/testdata/app.cfg", "acme_key = '" + id + "'\n");
  WriteText(dir.path() + "/notes.md", "acme_key = '" + id + "'\n");
  std::uint64_t st2 = 5;
  const std::string ghp =
      std::string("gh") + "p_" + RandomString(st2, 36, "abcdefghijKLMNOP0123456789");
  WriteText(dir.path() + "/ci.sh", "T=" + ghp + "\n");
  const ScanResult r = ScanDir(dir.path());
  EXPECT_EQ(r.stats.rules_source, dir.path() + "/.gitleaks.toml");
  std::set<std::string> got;
  for (const auto& f : Secrets(r)) got.insert(f.rule_id + " " + f.path);
  EXPECT_EQ(got, (std::set<std::string>{"acme-key app.cfg", "github-pat ci.sh"}));
  for (const auto& f : Secrets(r)) {
    if (f.rule_id == "acme-key") EXPECT_EQ(f.redacted.substr(0, 4), "ACME");
  }
}

TEST(Gitleaks, RejectsBrokenConfigsWithTheFileAndLine) {
  TempDir dir;
  WriteText(dir.path() + "/bad.toml", "[[rules]]\nid = \"x\"\nregex = \"(unclosed\"\n");
  try {
    ScanDir(dir.path(), {{"secrets", {{"gitleaks_config", "bad.toml"}}}});
    FAIL() << "expected BadConfig";
  } catch (const sdk::BadConfig& e) {
    EXPECT_NE(std::string(e.what()).find("rule x: invalid regex"), std::string::npos) << e.what();
  }
  WriteText(dir.path() + "/syntax.toml", "[[rules]\nid = 1\n");
  try {
    ScanDir(dir.path(), {{"secrets", {{"gitleaks_config", "syntax.toml"}}}});
    FAIL() << "expected BadConfig";
  } catch (const sdk::BadConfig& e) {
    EXPECT_NE(std::string(e.what()).find("syntax.toml: line 1"), std::string::npos) << e.what();
  }
}

TEST(Gitleaks, RulesHyperscanRejectsFallBackToRe2OnKeywordLines) {
  TempDir dir;
  // A pattern that can match the empty string is valid RE2 that Hyperscan refuses.
  WriteText(dir.path() + "/g.toml", R"([[rules]]
id = "unicode-pass"
regex = '''(?:passcode=([a-z]{4}[0-9]{6}))?'''
secretGroup = 1
keywords = ["passcode"]
)");
  WriteText(dir.path() + "/a.txt", "x\npasscode=abcd123456\n");
  const ScanResult r = ScanDir(dir.path(), {{"secrets", {{"gitleaks_config", "g.toml"}}}});
  EXPECT_EQ(r.stats.fallback_rules, std::vector<std::string>{"unicode-pass"});
  const auto found = Secrets(r);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].line, 2u);
}

TEST(Baseline, BaselinedFindingsAreReportedButDoNotFail) {
  TempDir dir;
  std::uint64_t st = 13;
  const std::string tok =
      std::string("gh") + "p_" + RandomString(st, 36, "abcdefghijKLMNOP0123456789");
  WriteText(dir.path() + "/a.sh", "T=" + tok + "\n");
  const ScanResult first = ScanDir(dir.path());
  ASSERT_EQ(first.failing, 1u);
  WriteText(dir.path() + "/base.json",
            nlohmann::json{{"fingerprints", {first.findings.at(0).fingerprint}}}.dump());
  const ScanResult second = ScanDir(dir.path(), {{"baseline", {{"path", "base.json"}}}});
  EXPECT_EQ(second.failing, 0u);
  EXPECT_EQ(second.baselined, 1u);
  EXPECT_TRUE(second.findings.at(0).baselined);
  EXPECT_THROW(ScanDir(dir.path(), {{"baseline", {{"path", "missing.json"}, {"required", true}}}}),
               sdk::BadConfig);
}

}  // namespace
}  // namespace stagehost::security_scan::testing
