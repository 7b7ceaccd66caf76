// Dependency download: 302 to object storage without the token, injected failures, caps, zip-slip.
#include "gitlab/runner/dependency_download.h"

#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <thread>

#include "artifacts/zip_fixture_test.h"
#include "gitlab/runner/fake_gitlab_process_test.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;
using artifacts::ExtractArchiveSafely;
using artifacts::ExtractSummary;
using testutil::MakeZip;

std::string Base64(const std::string& bytes) {
  std::string out(boost::beast::detail::base64::encoded_size(bytes.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

class DependencyDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = tmp_ / "project";
    fs::create_directories(project_);
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

  testutil::TempDir temp_;  // removed after every other member
  fs::path tmp_ = temp_.path();
  fs::path project_;
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
