// JobJournal: entries written 0600 in a 0700 directory, found per runner entry, removed at the end.
#include "gitlab/runner/job_journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testutil/stagehost_cli.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

TEST(JobJournalTest, BeginFindEnd) {
  testutil::TempDir temp;
  RunnerEntry runner;
  runner.name = "gpu-1";
  runner.builds_dir = temp.path();
  RunnerEntry other = runner;
  other.name = "cpu-1";  // shares builds_dir

  Result<JournalEntry> entry = BeginJournal(runner, 42, "glcbt-secret-token");
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  std::ofstream(entry->spool) << "log";
  ASSERT_TRUE(BeginJournal(other, 43, "glcbt-other").ok());
  struct stat st;
  ASSERT_EQ(::stat(JournalDir(runner).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(entry->file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::ofstream(JournalDir(runner) / "7.json") << "{not json";
  std::vector<std::string> problems;
  std::vector<JournalEntry> found = FindJournaledJobs(runner, &problems);
  ASSERT_EQ(found.size(), 1u);  // 43 is cpu-1's
  EXPECT_EQ(found[0].job_id, 42);
  EXPECT_EQ(found[0].token, "glcbt-secret-token");
  EXPECT_EQ(found[0].spool, entry->spool);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("7.json"), std::string::npos);

  EndJournal(found[0]);
  EXPECT_FALSE(fs::exists(entry->file));
  EXPECT_FALSE(fs::exists(entry->spool));
  EXPECT_TRUE(FindJournaledJobs(runner, &problems).empty());
  EXPECT_EQ(FindJournaledJobs(other, &problems).size(), 1u);
}

}  // namespace
}  // namespace stagehost::gitlab
