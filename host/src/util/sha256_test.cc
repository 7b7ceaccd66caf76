// Tests for util/sha256: known vectors, fd hashing across chunk boundaries, hex parsing.
#include "util/sha256.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#include "util/unique_fd.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

constexpr char kEmptyDigest[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcDigest[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

class Sha256Test : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = testing::TempDir() + "sha256_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& content) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  fs::path dir_;
};

TEST_F(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), kEmptyDigest);
  EXPECT_EQ(Sha256Hex("abc"), kAbcDigest);
}

TEST_F(Sha256Test, FilesMatchKnownVectors) {
  Result<std::string> empty = Sha256HexOfFile(Write("empty", ""));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, kEmptyDigest);
  Result<std::string> abc = Sha256HexOfFile(Write("abc", "abc"));
  ASSERT_TRUE(abc.ok()) << abc.status().ToString();
  EXPECT_EQ(*abc, kAbcDigest);
}

TEST_F(Sha256Test, FdHashesWholeFileAcrossChunksAndKeepsOffset) {
  std::string content;
  for (int i = 0; content.size() < 3 * 64 * 1024 + 7; ++i) content += std::to_string(i) + ",";
  fs::path path = Write("big", content);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::lseek(fd.get(), 100, SEEK_SET), 100);  // pread must ignore the file offset
  Result<std::string> hex = Sha256HexOfFd(fd.get());
  ASSERT_TRUE(hex.ok()) << hex.status().ToString();
  EXPECT_EQ(*hex, Sha256Hex(content));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 100);
}

TEST_F(Sha256Test, MissingFileIsNotFound) {
  Result<std::string> hex = Sha256HexOfFile(dir_ / "nope");
  ASSERT_FALSE(hex.ok());
  EXPECT_EQ(hex.status().code(), StatusCode::kNotFound);
  EXPECT_NE(hex.status().message().find("nope"), std::string::npos);
}

TEST_F(Sha256Test, FifoFailsInsteadOfHanging) {
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(Sha256HexOfFile(fifo).ok());
}

TEST_F(Sha256Test, HexRoundTripAndRejects) {
  std::string upper = kAbcDigest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<Sha256Digest> digest = HexToDigest(upper);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ((*digest)[0], 0xba);
  EXPECT_EQ(DigestToHex(*digest), kAbcDigest);

  EXPECT_EQ(HexToDigest("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(HexToDigest(std::string(kAbcDigest).substr(1)).ok());
  EXPECT_FALSE(HexToDigest(std::string(kAbcDigest) + "0").ok());
  std::string bad = kAbcDigest;
  bad[10] = 'g';
  EXPECT_FALSE(HexToDigest(bad).ok());
}

}  // namespace
}  // namespace stagehost
