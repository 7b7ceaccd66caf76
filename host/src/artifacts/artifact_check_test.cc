// Tests for artifacts/artifact_check: containment, file types and host-side digests (§16 row 18).
#include "artifacts/artifact_check.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "util/sha256.h"
#include "util/unique_fd.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

constexpr char kJunit[] = "<testsuites tests=\"1\"/>\n";

testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

class ArtifactCheckTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = testing::TempDir() + "artifact_check_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    art_ = root_ / "art";
    fs::create_directories(art_ / "reports");
    fs::create_directories(root_ / "outside");
    fs::create_directories(root_ / "art-sibling");
    Write(art_ / "reports" / "junit.xml", kJunit);
    Write(root_ / "outside" / "secret", "secret");
    Write(root_ / "art-sibling" / "secret", "secret");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  // Expects a refusal of `rel_path` whose message contains `why`.
  void ExpectRefused(std::string_view rel_path, std::string_view why,
                     StatusCode code = StatusCode::kInvalidArgument) {
    Result<ArtifactRecord> record = CheckArtifact(art_, rel_path, "n", "text/plain");
    ASSERT_FALSE(record.ok()) << rel_path;
    EXPECT_EQ(record.status().code(), code) << record.status().ToString();
    EXPECT_TRUE(Contains(record.status().message(), why));
  }

  fs::path root_;
  fs::path art_;
};

TEST_F(ArtifactCheckTest, RegularFileMeasuredAndHashedByTheHost) {
  Write(art_ / "metrics.txt", "accuracy 0.93\n");
  Result<ArtifactRecord> record = CheckArtifact(art_, "metrics.txt", "metrics", "text/plain");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->rel_path, "metrics.txt");
  EXPECT_EQ(record->name, "metrics");
  EXPECT_EQ(record->media_type, "text/plain");
  EXPECT_EQ(record->size, 14u);
  EXPECT_EQ(record->sha256, Sha256Hex("accuracy 0.93\n"));
}

TEST_F(ArtifactCheckTest, NestedPathIsNormalised) {
  for (std::string_view path : {"reports/junit.xml", "./reports//../reports/./junit.xml"}) {
    Result<ArtifactRecord> record = CheckArtifact(art_, path, "junit", "application/xml");
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->rel_path, "reports/junit.xml");
    EXPECT_EQ(record->size, sizeof(kJunit) - 1);
    EXPECT_EQ(record->sha256, Sha256Hex(kJunit));
  }
}

TEST_F(ArtifactCheckTest, DotDotEscapeRefused) {
  ExpectRefused("../outside/secret", "artifact \"../outside/secret\": path escapes the artifact");
  ExpectRefused("reports/../../outside/secret", "path escapes the artifact directory");
  ExpectRefused("../does-not-exist", "path escapes the artifact directory");
}

TEST_F(ArtifactCheckTest, AbsoluteEmptyAndNulPathsRefused) {
  ExpectRefused((art_ / "reports" / "junit.xml").string(), "absolute path");
  ExpectRefused("", "empty path");
  ExpectRefused(std::string_view("reports/junit.xml\0x", 19), "NUL byte");
}

TEST_F(ArtifactCheckTest, SymlinkOutRefused) {
  fs::create_symlink(root_ / "outside" / "secret", art_ / "abs-link");
  fs::create_symlink("../outside/secret", art_ / "rel-link");
  fs::create_symlink("../art-sibling/secret", art_ / "sibling-link");  // shares the "art" prefix
  ExpectRefused("abs-link", "path escapes the artifact directory");
  ExpectRefused("rel-link", "path escapes the artifact directory");
  ExpectRefused("sibling-link", "path escapes the artifact directory");
}

TEST_F(ArtifactCheckTest, SymlinkInsideAccepted) {
  fs::create_symlink("reports/junit.xml", art_ / "rel-link");
  fs::create_symlink(art_ / "reports" / "junit.xml", art_ / "abs-link");
  for (std::string_view link : {"rel-link", "abs-link"}) {
    Result<ArtifactRecord> record = CheckArtifact(art_, link, "junit", "application/xml");
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->rel_path, link);
    EXPECT_EQ(record->sha256, Sha256Hex(kJunit));
  }
}

TEST_F(ArtifactCheckTest, SymlinkedDirectoryOutRefused) {
  fs::create_directory_symlink(root_ / "outside", art_ / "linked-dir");
  ExpectRefused("linked-dir/secret", "path escapes the artifact directory");
}

TEST_F(ArtifactCheckTest, SymlinkedArtifactDirectoryItselfIsFine) {
  fs::create_directory_symlink(art_, root_ / "art-link");
  Result<ArtifactRecord> record =
      CheckArtifact(root_ / "art-link", "reports/junit.xml", "junit", "application/xml");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
}

TEST_F(ArtifactCheckTest, FifoRefusedWithoutHanging) {
  ASSERT_EQ(::mkfifo((art_ / "fifo").c_str(), 0644), 0);
  fs::create_symlink("fifo", art_ / "fifo-link");
  ExpectRefused("fifo", "artifact \"fifo\": not a regular file (fifo)");
  ExpectRefused("fifo-link", "not a regular file (fifo)");
}

TEST_F(ArtifactCheckTest, SocketRefused) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = (art_ / "sock").string();
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ExpectRefused("sock", "not a regular file (socket)");
}

TEST_F(ArtifactCheckTest, DeviceRefused) {
  fs::create_symlink("/dev/null", art_ / "null");  // a device reached through a link stays out
  ExpectRefused("null", "path escapes the artifact directory");
  if (::mknod((art_ / "zero").c_str(), S_IFCHR | 0644, makedev(1, 5)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  }
  ExpectRefused("zero", "not a regular file (character device)");
}

TEST_F(ArtifactCheckTest, DirectoryRefused) {
  ExpectRefused("reports", "not a regular file (directory)");
  ExpectRefused(".", "not a regular file (directory)");
  ExpectRefused("reports/..", "not a regular file (directory)");
}

TEST_F(ArtifactCheckTest, NonexistentIsNotFound) {
  ExpectRefused("reports/missing.xml", "artifact \"reports/missing.xml\": no such file",
                StatusCode::kNotFound);
}

TEST_F(ArtifactCheckTest, ControlBytesInPathsAreEscapedInMessages) {
  ExpectRefused("../x\n[INFO] forged", "artifact \"../x\\x0a[INFO] forged\"");
}

}  // namespace
}  // namespace stagehost
