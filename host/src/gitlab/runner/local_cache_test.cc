// Local cache: key sanitising, round trips, policies, `when`, fallbacks and refused archives.
#include "gitlab/runner/local_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "artifacts/zip_fixture_test.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

class LocalCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::canonical(temp_.path());
    cache_.cache_dir = root_ / "cache";
    cache_.project = "group/demo";
    cache_.project_dir = root_ / "project";
    fs::create_directories(cache_.project_dir);
  }
  CacheLog Log() {
    return [this](std::string_view text) { log_.append(text); };
  }
  bool Logged(const std::string& text) const { return log_.find(text) != std::string::npos; }
  // A second checkout of the same project, as the next job gets it.
  void FreshProjectDir() {
    cache_.project_dir = root_ / ("project-" + std::to_string(++dirs_));
    fs::create_directories(cache_.project_dir);
  }

  testutil::TempDir temp_;
  fs::path root_;
  LocalCache cache_;
  std::string log_;
  int dirs_ = 0;
};

TEST(SanitizeCacheKeyTest, EncodesSeparatorsAndRefusesDotNames) {
  EXPECT_EQ(*SanitizeCacheKey("main"), "main");
  EXPECT_EQ(*SanitizeCacheKey("  build-1.2_x  "), "build-1.2_x");
  EXPECT_EQ(*SanitizeCacheKey("feature/x"), "feature%2Fx");
  EXPECT_EQ(*SanitizeCacheKey("a\\b"), "a%5Cb");
  EXPECT_EQ(*SanitizeCacheKey("../../etc"), "..%2F..%2Fetc");
  EXPECT_EQ(*SanitizeCacheKey("100%"), "100%25");
  // Distinct keys stay distinct (no collapsing of / into -).
  EXPECT_NE(*SanitizeCacheKey("a/b"), *SanitizeCacheKey("a-b"));
  for (const std::string& bad :
       std::vector<std::string>{"", "   ", ".", "..", std::string(300, 'k')}) {
    Result<std::string> r = SanitizeCacheKey(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(LocalCacheTest, ArchivePathKeepsEverythingUnderTheCacheDir) {
  EXPECT_EQ(*CacheArchivePath(cache_, "feature/x"),
            cache_.cache_dir / "group" / "demo" / "feature%2Fx" / "cache.zip");
  cache_.project = "group/../../etc";
  EXPECT_FALSE(CacheArchivePath(cache_, "k").ok());
  cache_.project = "";
  EXPECT_FALSE(CacheArchivePath(cache_, "k").ok());
}

TEST(ParseCacheSpecsTest, ReadsEntriesAndRefusesUnknownValues) {
  nlohmann::json cache = nlohmann::json::parse(R"([
    {"key":"deps","untracked":true,"policy":"pull","paths":["vendor/","**/*.o"],
     "when":"always","fallback_keys":["deps-main",""]},
    {"key":"","paths":["x"]}])");
  Result<std::vector<CacheSpec>> specs = ParseCacheSpecs(cache);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 2u);
  const CacheSpec& a = (*specs)[0];
  EXPECT_EQ(a.key, "deps");
  EXPECT_TRUE(a.untracked);
  EXPECT_EQ(a.policy, CachePolicy::kPull);
  EXPECT_EQ(a.when, CacheWhen::kAlways);
  EXPECT_EQ(a.paths, (std::vector<std::string>{"vendor/", "**/*.o"}));
  EXPECT_EQ(a.fallback_keys, std::vector<std::string>{"deps-main"});
  const CacheSpec& b = (*specs)[1];
  EXPECT_EQ(b.key, "default");
  EXPECT_EQ(b.policy, CachePolicy::kPullPush);
  EXPECT_EQ(b.when, CacheWhen::kOnSuccess);
  EXPECT_TRUE(ParseCacheSpecs(nlohmann::json()).ok());

  Result<std::vector<CacheSpec>> bad =
      ParseCacheSpecs(nlohmann::json::parse(R"([{"key":"k","policy":"pushpull"}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
  EXPECT_NE(bad.status().message().find("cache[0].policy"), std::string::npos);
  EXPECT_FALSE(ParseCacheSpecs(nlohmann::json::parse(R"([{"when":"never"}])")).ok());
}

TEST_F(LocalCacheTest, SavesAndRestoresTheMatchingPaths) {
  testutil::WriteFile(cache_.project_dir / "vendor" / "a" / "b" / "lib.txt", "lib");
  testutil::WriteFile(cache_.project_dir / "vendor" / "a" / "skip.bin", "bin");
  testutil::WriteFile(cache_.project_dir / "node_modules" / "x" / "index.js", "js");
  testutil::WriteFile(cache_.project_dir / "other.txt", "not cached");
  CacheSpec spec;
  spec.key = "deps/main";
  spec.paths = {"vendor/**/*.txt", "node_modules"};
  Result<bool> saved = SaveCache(cache_, spec, /*job_succeeded=*/true, Log());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString() << "\n" << log_;
  EXPECT_TRUE(*saved);
  EXPECT_TRUE(Logged("Creating cache deps/main...")) << log_;
  EXPECT_TRUE(Logged("Created cache"));
  fs::path archive = *CacheArchivePath(cache_, "deps/main");
  EXPECT_TRUE(fs::is_regular_file(archive));
  // No temporary file left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(archive.parent_path()), fs::directory_iterator()),
            1);

  FreshProjectDir();
  log_.clear();
  Result<std::optional<std::string>> restored = RestoreCache(cache_, spec, Log());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString() << "\n" << log_;
  EXPECT_EQ(restored->value_or(""), "deps/main");
  EXPECT_TRUE(Logged("Checking cache for deps/main...")) << log_;
  EXPECT_TRUE(Logged("Successfully extracted cache"));
  EXPECT_EQ(testutil::ReadFile(cache_.project_dir / "vendor" / "a" / "b" / "lib.txt"), "lib");
  EXPECT_EQ(testutil::ReadFile(cache_.project_dir / "node_modules" / "x" / "index.js"), "js");
  EXPECT_FALSE(fs::exists(cache_.project_dir / "vendor" / "a" / "skip.bin"));
  EXPECT_FALSE(fs::exists(cache_.project_dir / "other.txt"));
}

TEST_F(LocalCacheTest, UntrackedOutsideGitTakesEveryFile) {
  testutil::WriteFile(cache_.project_dir / "a.txt", "a");
  testutil::WriteFile(cache_.project_dir / "d" / "b.txt", "b");
  CacheSpec spec;
  spec.key = "u";
  spec.untracked = true;
  ASSERT_TRUE(*SaveCache(cache_, spec, true, Log())) << log_;
  FreshProjectDir();
  ASSERT_TRUE(RestoreCache(cache_, spec, Log()).ok());
  EXPECT_EQ(testutil::ReadFile(cache_.project_dir / "d" / "b.txt"), "b");
}

TEST_F(LocalCacheTest, PoliciesDecideWhatRuns) {
  testutil::WriteFile(cache_.project_dir / "f.txt", "f");
  CacheSpec pull;
  pull.key = "k";
  pull.paths = {"f.txt"};
  pull.policy = CachePolicy::kPull;
  EXPECT_FALSE(*SaveCache(cache_, pull, true, Log()));
  EXPECT_TRUE(Logged("Not uploading cache k due to policy")) << log_;
  EXPECT_FALSE(fs::exists(*CacheArchivePath(cache_, "k")));

  CacheSpec push = pull;
  push.policy = CachePolicy::kPush;
  EXPECT_TRUE(*SaveCache(cache_, push, true, Log()));
  FreshProjectDir();
  Result<std::optional<std::string>> restored = RestoreCache(cache_, push, Log());
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(restored->has_value());
  EXPECT_TRUE(Logged("Not downloading cache k due to policy"));
  EXPECT_FALSE(fs::exists(cache_.project_dir / "f.txt"));

  // pull restores what push stored.
  restored = RestoreCache(cache_, pull, Log());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->value_or(""), "k");
  EXPECT_EQ(testutil::ReadFile(cache_.project_dir / "f.txt"), "f");
}

TEST_F(LocalCacheTest, WhenFollowsTheJobOutcome) {
  testutil::WriteFile(cache_.project_dir / "f.txt", "f");
  struct Case {
    CacheWhen when;
    bool succeeded;
    bool saved;
  };
  int n = 0;
  for (Case c : {Case{CacheWhen::kOnSuccess, true, true}, Case{CacheWhen::kOnSuccess, false, false},
                 Case{CacheWhen::kOnFailure, true, false}, Case{CacheWhen::kOnFailure, false, true},
                 Case{CacheWhen::kAlways, true, true}, Case{CacheWhen::kAlways, false, true}}) {
    CacheSpec spec;
    spec.key = "when-" + std::to_string(n++);
    spec.paths = {"f.txt"};
    spec.when = c.when;
    Result<bool> saved = SaveCache(cache_, spec, c.succeeded, Log());
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
    EXPECT_EQ(*saved, c.saved) << spec.key;
    EXPECT_EQ(fs::exists(*CacheArchivePath(cache_, spec.key)), c.saved) << spec.key;
  }
  EXPECT_TRUE(Logged("Not uploading cache when-1 due to when: on_success (the job failed)"))
      << log_;
}

TEST_F(LocalCacheTest, FallbackKeysAreTriedInOrder) {
  testutil::WriteFile(cache_.project_dir / "f.txt", "from main");
  CacheSpec main_spec;
  main_spec.key = "deps-main";
  main_spec.paths = {"f.txt"};
  ASSERT_TRUE(*SaveCache(cache_, main_spec, true, Log()));

  FreshProjectDir();
  log_.clear();
  CacheSpec branch;
  branch.key = "deps-feature";
  branch.paths = {"f.txt"};
  branch.fallback_keys = {"deps-other", "deps-main"};
  Result<std::optional<std::string>> restored = RestoreCache(cache_, branch, Log());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->value_or(""), "deps-main");
  EXPECT_TRUE(Logged("Checking cache for deps-feature...")) << log_;
  EXPECT_TRUE(Logged("Checking cache for deps-other..."));
  EXPECT_TRUE(Logged("file does not exist"));
  EXPECT_EQ(testutil::ReadFile(cache_.project_dir / "f.txt"), "from main");

  CacheSpec none;
  none.key = "nothing";
  restored = RestoreCache(cache_, none, Log());
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(restored->has_value());
}

TEST_F(LocalCacheTest, NothingMatchedSkipsTheArchive) {
  CacheSpec spec;
  spec.key = "empty";
  spec.paths = {"missing/**"};
  Result<bool> saved = SaveCache(cache_, spec, true, Log());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_FALSE(*saved);
  EXPECT_TRUE(Logged("Skipping cache archiving due to empty cache")) << log_;
}

TEST_F(LocalCacheTest, PathsLeavingTheProjectAreRefused) {
  testutil::WriteFile(root_ / "secret.txt", "outside");
  CacheSpec spec;
  spec.key = "escape";
  spec.paths = {"../secret.txt"};
  Result<bool> saved = SaveCache(cache_, spec, true, Log());
  EXPECT_FALSE(saved.ok());
  EXPECT_FALSE(fs::exists(*CacheArchivePath(cache_, "escape")));
  spec.paths = {"/etc/passwd"};
  EXPECT_FALSE(SaveCache(cache_, spec, true, Log()).ok());
  // The batch form turns it into a warning and goes on.
  EXPECT_EQ(SaveCaches(cache_, {spec}, true, Log()), 0);
  EXPECT_TRUE(Logged("WARNING: Failed to create cache escape")) << log_;
}

TEST_F(LocalCacheTest, ArchivesThatEscapeAreRefused) {
  fs::path outside = root_ / "outside";
  fs::create_directories(outside);
  struct Attack {
    std::string key;
    std::vector<testutil::ZipEntry> entries;
  };
  std::vector<Attack> attacks = {
      {"dotdot", {{"../escaped.txt", AE_IFREG, "x"}}},
      {"absolute", {{(outside / "abs.txt").string(), AE_IFREG, "x"}}},
      {"through-link", {{"link", AE_IFLNK, outside.string()}, {"link/evil.txt", AE_IFREG, "x"}}},
      {"link-out", {{"up", AE_IFLNK, "../../outside"}}},
  };
  for (const Attack& attack : attacks) {
    testutil::WriteFile(*CacheArchivePath(cache_, attack.key), testutil::MakeZip(attack.entries));
    CacheSpec spec;
    spec.key = attack.key;
    Result<std::optional<std::string>> restored = RestoreCache(cache_, spec, Log());
    EXPECT_FALSE(restored.ok()) << attack.key;
    if (!restored.ok()) {
      EXPECT_EQ(restored.status().code(), StatusCode::kInvalidArgument) << attack.key;
    }
  }
  EXPECT_FALSE(fs::exists(root_ / "escaped.txt"));
  EXPECT_FALSE(fs::exists(outside / "abs.txt"));
  EXPECT_FALSE(fs::exists(outside / "evil.txt"));
  EXPECT_TRUE(Logged("Failed to extract cache")) << log_;
  // The batch form: a warning, not a failure.
  CacheSpec spec;
  spec.key = "dotdot";
  EXPECT_EQ(RestoreCaches(cache_, {spec}, Log()), 0);
  EXPECT_TRUE(Logged("WARNING: Failed to restore cache dotdot")) << log_;
}

}  // namespace
}  // namespace stagehost::gitlab
