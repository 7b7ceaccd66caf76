// Dependency download (302 to object storage, injected failures) and safe extraction refusals.
#include "gitlab/runner/dependency_download.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/core/detail/base64.hpp>
#include <fstream>
#include <thread>

#include "gitlab/runner/fake_gitlab_process_test.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

struct TestEntry {
  std::string name;
  mode_t type = AE_IFREG;
  std::string data;  // file contents, or the symlink target
};

// Builds a zip in memory with libarchive: the test controls every name and type.
std::string MakeZip(const std::vector<TestEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* user, const void* data, size_t n) -> la_ssize_t {
        static_cast<std::string*>(user)->append(static_cast<const char*>(data), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.data.c_str());
    if (e.type == AE_IFREG) archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
    EXPECT_GE(archive_write_header(a, entry), ARCHIVE_WARN) << archive_error_string(a);
    if (e.type == AE_IFREG) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// libarchive's zip writer refuses FIFOs and devices, as it should; a hostile archive can still
// carry one in the Unix mode of the central directory (external attributes, high 16 bits).
std::string WithUnixMode(std::string zip, const std::string& name, uint32_t mode) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos;
       at = zip.find("PK\x01\x02", at + 4)) {
    uint16_t name_length = static_cast<uint8_t>(zip[at + 28]) | static_cast<uint8_t>(zip[at + 29])
                                                                    << 8;
    if (zip.compare(at + 46, name_length, name) != 0) continue;
    zip[at + 5] = 3;  // made by Unix, so the mode is read
    uint32_t attributes = mode << 16;
    for (int i = 0; i < 4; ++i) zip[at + 38 + i] = static_cast<char>(attributes >> (8 * i));
  }
  return zip;
}

UniqueFd FdWith(const std::string& bytes) {
  UniqueFd fd(open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  EXPECT_EQ(write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  return fd;
}

std::string Base64(const std::string& bytes) {
  std::string out(boost::beast::detail::base64::encoded_size(bytes.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stagehost-extract-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    project_ = tmp_ / "project";
    fs::create_directories(project_);
  }
  void TearDown() override { fs::remove_all(tmp_); }

  Result<ExtractSummary> Extract(const std::vector<TestEntry>& entries, ExtractLimits limits = {}) {
    UniqueFd fd = FdWith(MakeZip(entries));
    return ExtractArchiveSafely(fd.get(), project_, limits);
  }
  void ExpectRefused(const std::vector<TestEntry>& entries, const std::string& entry,
                     const std::string& why) {
    Result<ExtractSummary> done = Extract(entries);
    ASSERT_FALSE(done.ok()) << "expected '" << entry << "' to be refused";
    EXPECT_EQ(done.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(done.status().message().find("'" + entry + "' refused"), std::string::npos)
        << done.status().message();
    EXPECT_NE(done.status().message().find(why), std::string::npos) << done.status().message();
  }

  fs::path tmp_;
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

class DependencyDownloadTest : public ExtractTest {
 protected:
  void SetUp() override {
    ExtractTest::SetUp();
    fs::create_directories(tmp_ / "state");
    fake_ = std::make_unique<testutil::FakeGitLabProcess>(tmp_ / "state");
    ASSERT_TRUE(fake_->running());
    auto [id, token] = fake_->StartJob();  // the running job that reads the dependency
    ASSERT_GT(id, 0);
    reader_token_ = token;
    dependency_id_ = fake_->EnqueueJob();
    zip_ = MakeZip({{"build/out.txt", AE_IFREG, "built"}, {"build/lib.so", AE_IFREG, "elf"}});
    fake_->Call("set_artifact_b64", {dependency_id_, Base64(zip_)});
  }
  void TearDown() override {
    fake_.reset();
    ExtractTest::TearDown();
  }
  DependencyDownload Download() {
    DependencyDownload d;
    d.base = fake_->base();
    d.dependency_id = dependency_id_;
    d.name = "build";
    d.token = reader_token_;
    d.temp_dir = tmp_;
    d.retry_delay = std::chrono::milliseconds(20);
    return d;
  }
  // The fake logs a request after answering it: wait briefly for the expected number, so a
  // lower count is a real miss and a higher one shows up too.
  int64_t Count(const std::string& endpoint, int64_t expected) {
    int64_t n = 0;
    for (int i = 0; i < 40; ++i) {
      n = fake_->Call("count", {endpoint})["result"].get<int64_t>();
      if (n >= expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return fake_->Call("count", {endpoint})["result"].get<int64_t>();
  }

  std::unique_ptr<testutil::FakeGitLabProcess> fake_;
  std::string reader_token_;
  int64_t dependency_id_ = 0;
  std::string zip_;
  net::HttpClient http_;
};

TEST_F(DependencyDownloadTest, FollowsRedirectToObjectStorageWithoutTheToken) {
  Result<DownloadedArchive> got = DownloadDependency(http_, Download());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->redirected);
  EXPECT_EQ(got->size, zip_.size());
  EXPECT_EQ(Count("object_storage", 1), 1);
  Result<ExtractSummary> done = ExtractArchiveSafely(got->fd.get(), project_, {});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(testutil::ReadFile(project_ / "build/out.txt"), "built");
  // The fake records a JOB-TOKEN reaching object storage as a violation.
  EXPECT_EQ(fake_->Get("violations"), nlohmann::json::array());
}

TEST_F(DependencyDownloadTest, InjectedFailuresAreRetriedThenSucceed) {
  // Try 1: 302, then object storage cuts the body short. Try 2 (no direct_download any more):
  // 502 from GitLab. Try 3: GitLab serves the archive itself.
  fake_->Call("script", {"object_storage", {{"truncate_body", 10}}});
  fake_->Call("script", {"artifacts_download", "pass", 502});
  Result<ExtractSummary> done = FetchDependency(http_, Download(), project_, {});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->entries, 2u);
  EXPECT_EQ(testutil::ReadFile(project_ / "build/lib.so"), "elf");
  EXPECT_EQ(Count("artifacts_download", 3), 3);
  EXPECT_EQ(Count("object_storage", 1), 1);
  EXPECT_EQ(fake_->Get("violations"), nlohmann::json::array());
}

TEST_F(DependencyDownloadTest, PersistentFailureStopsAfterTwoRetries) {
  fake_->Call("script", {"artifacts_download", 500, 502, 503, 504});
  Result<DownloadedArchive> got = DownloadDependency(http_, Download());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Count("artifacts_download", 3), 3);
}

TEST_F(DependencyDownloadTest, NotFoundAndForbiddenAreNotRetried) {
  DependencyDownload none = Download();
  none.dependency_id = fake_->EnqueueJob();  // a job without artifacts
  Result<DownloadedArchive> got = DownloadDependency(http_, none);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Count("artifacts_download", 1), 1);
  DependencyDownload bad = Download();
  bad.token = "glcbt-not-running";
  got = DownloadDependency(http_, bad);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Count("artifacts_download", 2), 2);
}

TEST_F(DependencyDownloadTest, SizeCapRefusesTheBody) {
  DependencyDownload capped = Download();
  capped.max_archive_bytes = 16;
  Result<DownloadedArchive> got = DownloadDependency(http_, capped);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("16 byte limit"), std::string::npos);
}

TEST_F(DependencyDownloadTest, ZipSlipFromTheServerIsRefused) {
  int64_t evil = fake_->EnqueueJob();
  fake_->Call("set_artifact_b64", {evil, Base64(MakeZip({{"../../pwned", AE_IFREG, "x"}}))});
  DependencyDownload d = Download();
  d.dependency_id = evil;
  Result<ExtractSummary> done = FetchDependency(http_, d, project_, {});
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("'../../pwned' refused"), std::string::npos)
      << done.status().message();
  EXPECT_FALSE(fs::exists(tmp_ / "pwned"));
}

}  // namespace
}  // namespace stagehost::gitlab
