// JobTrace: the chain order, the exact output-limit notice, the spool and its CRC.
#include "gitlab/runner/job_trace.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

namespace stagehost::gitlab {
namespace {

std::string SpoolBytes(const JobTrace& trace) {
  std::string out(trace.size(), '\0');
  EXPECT_EQ(::pread(trace.spool_fd(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
  return out;
}

std::unique_ptr<JobTrace> MakeTrace(JobTrace::Options options) {
  options.spool_dir = ::testing::TempDir();
  Result<std::unique_ptr<JobTrace>> trace = JobTrace::Create(options);
  EXPECT_TRUE(trace.ok()) << trace.status().ToString();
  return std::move(trace).value();
}

TEST(JobTraceTest, MasksSecretsAndTokensAcrossSourcesAndWrites) {
  JobTrace::Options options;
  options.secrets = {"hunter2-very-secret"};
  options.timestamps = false;
  auto trace = MakeTrace(options);
  trace->Write(1, "pass=hunter2-ve");
  trace->Write(0, "runner line\n");  // another source between the halves of the secret
  trace->Write(1, "ry-secret token glpat-abcDEF123 url?private_token=zz&x=1\n");
  trace->Close();
  std::string text = SpoolBytes(*trace);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("abcDEF123"), std::string::npos) << text;
  // Source 1 held back its partial match while source 0 wrote a line.
  EXPECT_NE(text.find("pass=runner line\n[MASKED] token"), std::string::npos) << text;
  EXPECT_NE(text.find("glpat-[MASKED]"), std::string::npos) << text;
  EXPECT_NE(text.find("?private_token=[MASKED]&x=1"), std::string::npos) << text;
}

TEST(JobTraceTest, CrcAndSizeCoverExactlyTheSpooledBytes) {
  JobTrace::Options options;
  options.timestamps = true;
  auto trace = MakeTrace(options);
  for (int i = 0; i < 1000; ++i) trace->Write(1, "line " + std::to_string(i) + "\n");
  trace->Close();
  std::string bytes = SpoolBytes(*trace);
  EXPECT_EQ(bytes.size(), trace->size());
  uint32_t crc = static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
  EXPECT_EQ(trace->crc32(), crc);
  // Every line carries the 32-byte stamp.
  EXPECT_EQ(bytes.size(), 1000 * 32 + std::string("line 0\n").size() * 10 +
                              std::string("line 10\n").size() * 90 +
                              std::string("line 100\n").size() * 900);
}

TEST(JobTraceTest, OutputLimitCutsOnUtf8BoundaryWithGitlabNotice) {
  JobTrace::Options options;
  options.timestamps = false;
  options.output_limit_bytes = 10;
  auto trace = MakeTrace(options);
  trace->Write(1, "12345678\xc3\xa9\xc3\xa9 and more");  // é straddles the limit
  trace->Write(1, "still running, dropped\n");
  trace->Close();
  std::string notice =
      "\n\x1b[33;1mJob's log exceeded limit of 10 bytes.\nJob execution will continue but no "
      "more output will be collected.\x1b[0;m\n";
  EXPECT_EQ(OutputLimitNotice(10), notice);
  EXPECT_EQ(SpoolBytes(*trace), "12345678\xc3\xa9" + notice);
  EXPECT_TRUE(trace->truncated());
}

// A restarted runner reopens a named spool: the old bytes count, a cut line is ended, new bytes
// are appended, and size and CRC cover the whole file.
TEST(JobTraceTest, ResumedSpoolContinuesSizeAndCrc) {
  const std::string path = ::testing::TempDir() + "/resume-" + std::to_string(::getpid());
  JobTrace::Options options;
  options.timestamps = false;
  options.spool_path = path;
  {
    Result<std::unique_ptr<JobTrace>> first = JobTrace::Create(options);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    (*first)->Write(1, "complete line\npartial");
    (*first)->Close();
  }
  // A second trace on the same name is refused: a fresh job never appends to another's spool.
  EXPECT_FALSE(JobTrace::Create(options).ok());
  options.resume = true;
  Result<std::unique_ptr<JobTrace>> resumed = JobTrace::Create(options);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ((*resumed)->size(), std::string("complete line\npartial\n").size());
  (*resumed)->Write(0, "notice\n");
  (*resumed)->Close();
  const std::string expected = "complete line\npartial\nnotice\n";
  EXPECT_EQ(SpoolBytes(**resumed), expected);
  EXPECT_EQ((*resumed)->crc32(),
            ::crc32_z(0, reinterpret_cast<const Bytef*>(expected.data()), expected.size()));
  ::unlink(path.c_str());
}

TEST(JobTraceTest, NothingAcceptedAfterClose) {
  JobTrace::Options options;
  options.timestamps = false;
  auto trace = MakeTrace(options);
  trace->Write(1, "a");
  trace->Close();
  trace->Write(1, "b");
  EXPECT_EQ(SpoolBytes(*trace), "a");
  EXPECT_TRUE(trace->closed());
}

}  // namespace
}  // namespace stagehost::gitlab
