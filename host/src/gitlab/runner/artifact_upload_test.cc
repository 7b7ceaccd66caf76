// UploadArtifact against the fake GitLab: bytes, 503 retries without re-archiving, 413, 307, R5.
#include "gitlab/runner/artifact_upload.h"

#include <gtest/gtest.h>

#include <fstream>

#include "artifacts/archive_builder.h"
#include "gitlab/runner/fake_gitlab_process_test.h"
#include "testutil/stagehost_cli.h"
#include "util/sha256.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

TEST(ArtifactFileNameTest, PerFormatAndDefaults) {
  EXPECT_EQ(ArtifactFileName("", "zip"), "artifacts.zip");
  EXPECT_EQ(ArtifactFileName("reports/junit", "gzip"), "junit.gz");
  EXPECT_EQ(ArtifactFileName("out.txt", "raw"), "out.txt");
  EXPECT_EQ(ArtifactFileName("dir/", "zip"), "dir.zip");
  EXPECT_EQ(ArtifactFileName("..", "zip"), "default.zip");
}

TEST(RetargetTest, KeepsPathAndQuery) {
  EXPECT_EQ(Retarget("http://a:1/api/v4/jobs/1/artifacts?x=1", "https://b:2/other"),
            "https://b:2/api/v4/jobs/1/artifacts?x=1");
  EXPECT_FALSE(Retarget("http://a/x", "/relative").has_value());
  EXPECT_FALSE(Retarget("http://a/x", "ftp://b/x").has_value());
}

class ArtifactUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "state");
    fs::create_directories(tmp_ / "project/out");
    fake_ = std::make_unique<testutil::FakeGitLabProcess>(tmp_ / "state");
    ASSERT_TRUE(fake_->running());
    // Half compressible text, half noise: both entry kinds travel.
    std::string text;
    for (int i = 0; i < 40000; ++i) text += "result " + std::to_string(i) + "\n";
    std::ofstream(tmp_ / "project/out/result.txt") << text;
    std::string noise(512 * 1024, '\0');
    uint32_t x = 12345;
    for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
    std::ofstream(tmp_ / "project/out/blob.bin", std::ios::binary) << noise;
    artifacts::ArchiveSpec spec;
    spec.project_dir = tmp_ / "project";
    spec.paths = {"out"};
    spec.output = tmp_ / "staged.zip";
    Result<artifacts::StagedArchive> staged = artifacts::BuildArchive(spec);
    ASSERT_TRUE(staged.ok()) << staged.status().ToString();
    staged_ = *staged;
    auto [id, token] = fake_->StartJob();
    ASSERT_GT(id, 0);
    job_id_ = id;
    job_token_ = token;
  }

  ArtifactUpload Upload() {
    ArtifactUpload upload;
    upload.base = fake_->base();
    upload.job_id = job_id_;
    upload.job_token = job_token_;
    upload.expire_in = "1 week";
    upload.staged_file = staged_.path;
    upload.initial_backoff = std::chrono::milliseconds(20);
    upload.max_backoff = std::chrono::milliseconds(50);
    return upload;
  }
  nlohmann::json Attempts() { return fake_->Job(job_id_)["upload_attempts"]; }

  testutil::TempDir temp_;  // removed after every other member
  fs::path tmp_ = temp_.path();
  std::unique_ptr<testutil::FakeGitLabProcess> fake_;
  artifacts::StagedArchive staged_;
  int64_t job_id_ = 0;
  std::string job_token_;
  net::HttpClient http_;
};

TEST_F(ArtifactUploadTest, ServerStoresExactlyTheStagedBytesWithParams) {
  uint64_t last_sent = 0, last_total = 0;
  ArtifactUpload upload = Upload();
  upload.on_progress = [&](uint64_t sent, uint64_t total) {
    last_sent = sent;
    last_total = total;
  };
  Result<ArtifactUploadResult> done = UploadArtifact(http_, upload);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->attempts, 1);
  EXPECT_EQ(last_sent, staged_.size);
  EXPECT_EQ(last_total, staged_.size);
  nlohmann::json job = fake_->Job(job_id_);
  ASSERT_EQ(job["uploads"].size(), 1u);
  const nlohmann::json& stored = job["uploads"][0];
  EXPECT_EQ(stored["filename"], "artifacts.zip");
  EXPECT_EQ(stored["artifact_type"], "archive");
  EXPECT_EQ(stored["artifact_format"], "zip");
  EXPECT_EQ(stored["expire_in"], "1 week");
  EXPECT_EQ(stored["sha256"], staged_.sha256);
  // The server's copy unpacks to the source files.
  fs::path copy = stored["path"].get<std::string>();
  fs::create_directories(tmp_ / "unpacked");
  ASSERT_EQ(system(("unzip -q " + copy.string() + " -d " + (tmp_ / "unpacked").string()).c_str()),
            0);
  EXPECT_EQ(testutil::ReadFile(tmp_ / "unpacked/out/result.txt"),
            testutil::ReadFile(tmp_ / "project/out/result.txt"));
  EXPECT_EQ(testutil::ReadFile(tmp_ / "unpacked/out/blob.bin"),
            testutil::ReadFile(tmp_ / "project/out/blob.bin"));
  EXPECT_EQ(fake_->Get("violations"), nlohmann::json::array());
}

TEST_F(ArtifactUploadTest, Three503sThen201SendIdenticalBytes) {
  fake_->Call("script", {"artifacts_upload", 503, 503, 503});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->attempts, 4);
  nlohmann::json attempts = Attempts();
  ASSERT_EQ(attempts.size(), 4u);
  for (const auto& attempt : attempts) {
    EXPECT_EQ(attempt["sha256"], staged_.sha256);  // R12: never re-compressed
    EXPECT_EQ(attempt["size"], staged_.size);
  }
  EXPECT_EQ(attempts[3]["status"], 201);
  EXPECT_EQ(fake_->Get("violations"), nlohmann::json::array());
}

TEST_F(ArtifactUploadTest, Persistent503StopsAfterSixTries) {
  fake_->Call("script", {"artifacts_upload", 503, 503, 503, 503, 503, 503, 503});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Attempts().size(), 6u);
}

TEST_F(ArtifactUploadTest, Other5xxStopsAfterThreeTries) {
  fake_->Call("script", {"artifacts_upload", 502, 500, 502, 502});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(Attempts().size(), 3u);
  EXPECT_NE(done.status().message().find("HTTP 502"), std::string::npos);
}

TEST_F(ArtifactUploadTest, TooLargeFailsOnceNamingTheSize) {
  fake_->Call("set_artifact_size_limit", {1024});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(done.status().message().find("413"), std::string::npos);
  EXPECT_NE(done.status().message().find(std::to_string(staged_.size) + " bytes"),
            std::string::npos)
      << done.status().message();
  EXPECT_EQ(Attempts().size(), 1u);
}

TEST_F(ArtifactUploadTest, ForbiddenIsNotRetried) {
  ArtifactUpload upload = Upload();
  upload.job_token = "glcbt-wrong";
  Result<ArtifactUploadResult> done = UploadArtifact(http_, upload);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Attempts().size(), 1u);
}

TEST_F(ArtifactUploadTest, TemporaryRedirectMovesToTheNewHost) {
  // Same fake, other host name: the retry must go to "localhost", keeping path and query.
  std::string location = "http://localhost:" + std::to_string(fake_->port()) + "/elsewhere";
  fake_->Call("script",
              {"artifacts_upload", {{"status", 307}, {"headers", {{"Location", location}}}}});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->attempts, 2);
  EXPECT_TRUE(done->url.starts_with("http://localhost:")) << done->url;
  EXPECT_NE(done->url.find("/api/v4/jobs/" + std::to_string(job_id_) + "/artifacts?"),
            std::string::npos);
  EXPECT_EQ(fake_->Job(job_id_)["uploads"][0]["sha256"], staged_.sha256);
}

TEST_F(ArtifactUploadTest, ResetMidBodyIsRetriedWithTheSameFile) {
  fake_->Call("script", {"artifacts_upload", {{"rst_after", 100000}}});
  Result<ArtifactUploadResult> done = UploadArtifact(http_, Upload());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->attempts, 2);
  nlohmann::json job = fake_->Job(job_id_);
  ASSERT_EQ(job["uploads"].size(), 1u);
  EXPECT_EQ(job["uploads"][0]["sha256"], staged_.sha256);
}

}  // namespace
}  // namespace stagehost::gitlab
