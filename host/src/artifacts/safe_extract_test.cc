// Safe extraction of untrusted zips: zip-slip, symlink escapes, special files and caps refused.
#include "artifacts/safe_extract.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "artifacts/zip_fixture_test.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::artifacts {
namespace {
namespace fs = std::filesystem;
using testutil::FdWith;
using testutil::MakeZip;
using testutil::WithUnixMode;
using testutil::ZipEntry;

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = tmp_ / "project";
    fs::create_directories(project_);
  }

  Result<ExtractSummary> Extract(const std::vector<ZipEntry>& entries, ExtractLimits limits = {}) {
    UniqueFd fd = FdWith(MakeZip(entries));
    return ExtractArchiveSafely(fd.get(), project_, limits);
  }
  void ExpectRefused(const std::vector<ZipEntry>& entries, const std::string& entry,
                     const std::string& why) {
    Result<ExtractSummary> done = Extract(entries);
    ASSERT_FALSE(done.ok()) << "expected '" << entry << "' to be refused";
    EXPECT_EQ(done.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(done.status().message().find("'" + entry + "' refused"), std::string::npos)
        << done.status().message();
    EXPECT_NE(done.status().message().find(why), std::string::npos) << done.status().message();
  }

  testutil::TempDir temp_;  // removed after every other member
  fs::path tmp_ = temp_.path();
  fs::path project_;
};

TEST_F(ExtractTest, ExtractsFilesDirectoriesAndInsideSymlinks) {
  Result<ExtractSummary> done = Extract({{"dist/", AE_IFDIR, ""},
                                         {"dist/app.txt", AE_IFREG, "app"},
                                         {"dist/sub/deep.txt", AE_IFREG, "deep"},
                                         {"dist/current", AE_IFLNK, "sub/deep.txt"}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->entries, 4u);
  EXPECT_EQ(testutil::ReadFile(project_ / "dist/app.txt"), "app");
  EXPECT_EQ(testutil::ReadFile(project_ / "dist/sub/deep.txt"), "deep");
  EXPECT_EQ(fs::read_symlink(project_ / "dist/current"), "sub/deep.txt");
}

TEST_F(ExtractTest, ZipSlipAndAbsolutePathsRefusedBeforeAnythingIsWritten) {
  ExpectRefused({{"ok.txt", AE_IFREG, "ok"}, {"../evil.txt", AE_IFREG, "x"}}, "../evil.txt",
                "'..'");
  EXPECT_FALSE(fs::exists(project_ / "ok.txt"));  // checked from the headers first
  EXPECT_FALSE(fs::exists(tmp_ / "evil.txt"));
  ExpectRefused({{"a/../../evil.txt", AE_IFREG, "x"}}, "a/../../evil.txt", "'..'");
  ExpectRefused({{"/tmp/abs.txt", AE_IFREG, "x"}}, "/tmp/abs.txt", "absolute path");
}

TEST_F(ExtractTest, SymlinkEscapesRefused) {
  ExpectRefused({{"up", AE_IFLNK, "../../outside"}}, "up", "leaves the project");
  ExpectRefused({{"a/b/up", AE_IFLNK, "../../.."}}, "a/b/up", "leaves the project");
  ExpectRefused({{"abs", AE_IFLNK, "/etc"}}, "abs", "absolute path");
  // An inside symlink is fine by itself but nothing may be written through it.
  ExpectRefused({{"sub/", AE_IFDIR, ""}, {"link", AE_IFLNK, "sub"}, {"link/x.txt", AE_IFREG, "x"}},
                "link/x.txt", "symlink 'link' of the archive");
  EXPECT_FALSE(fs::exists(project_ / "sub/x.txt"));
}

TEST_F(ExtractTest, SymlinkOnDiskIsNeverWrittenThrough) {
  fs::create_directories(tmp_ / "outside");
  fs::create_directory_symlink(tmp_ / "outside", project_ / "cache");
  ExpectRefused({{"cache/payload.txt", AE_IFREG, "x"}}, "cache/payload.txt",
                "'cache' on disk is a symlink");
  EXPECT_FALSE(fs::exists(tmp_ / "outside/payload.txt"));
  // A symlinked leaf is replaced, not followed.
  std::ofstream(tmp_ / "outside/target") << "keep";
  fs::create_symlink(tmp_ / "outside/target", project_ / "file.txt");
  Result<ExtractSummary> done = Extract({{"file.txt", AE_IFREG, "new"}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(testutil::ReadFile(tmp_ / "outside/target"), "keep");
  EXPECT_FALSE(fs::is_symlink(project_ / "file.txt"));
  EXPECT_EQ(testutil::ReadFile(project_ / "file.txt"), "new");
}

// libarchive 3.6's zip reader already turns a FIFO/device/socket mode into a regular file (checked
// with a hand-patched central directory); the extractor's own type refusal is the second line for
// other readers. Either way no special file may appear on disk.
TEST_F(ExtractTest, DevicesAndFifosNeverBecomeSpecialFiles) {
  for (auto [name, mode] : {std::pair<std::string, uint32_t>{"pipe", S_IFIFO | 0644},
                            {"dev", S_IFCHR | 0644},
                            {"sock", S_IFSOCK | 0644}}) {
    std::string zip = WithUnixMode(MakeZip({{name, AE_IFREG, ""}}), name, mode);
    UniqueFd fd = FdWith(zip);
    Result<ExtractSummary> done = ExtractArchiveSafely(fd.get(), project_, {});
    if (!done.ok()) {
      EXPECT_NE(done.status().message().find("'" + name + "' refused"), std::string::npos)
          << done.status().message();
      EXPECT_FALSE(fs::exists(fs::symlink_status(project_ / name)));
    } else {
      EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(project_ / name))) << name;
    }
  }
}

TEST_F(ExtractTest, SizeAndEntryCapsEnforced) {
  ExtractLimits small;
  small.max_total_bytes = 10;
  Result<ExtractSummary> done =
      Extract({{"a.txt", AE_IFREG, "123456"}, {"b.txt", AE_IFREG, "123456"}}, small);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("'b.txt' refused"), std::string::npos)
      << done.status().message();
  ExtractLimits few;
  few.max_entries = 2;
  done = Extract({{"1", AE_IFREG, ""}, {"2", AE_IFREG, ""}, {"3", AE_IFREG, ""}}, few);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("'3' refused"), std::string::npos);
  EXPECT_NE(done.status().message().find("more than 2 entries"), std::string::npos);
}

}  // namespace
}  // namespace stagehost::artifacts
