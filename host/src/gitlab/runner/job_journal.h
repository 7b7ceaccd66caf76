// JobJournal: what a restarted runner needs to finish the jobs its previous process left behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gitlab/runner/runner_config.h"
#include "util/status.h"

namespace stagehost::gitlab {

// One journaled job: <builds_dir>/.stagehost-journal/<id>.json beside its spool <id>.trace.
// The spool holds the job's log exactly as it was to go to GitLab (masked, stamped); the entry
// holds the job token, so both are 0600 in a 0700 directory, and both go when the job's final
// state was delivered or GitLab dropped the job (reliability.md R9).
struct JournalEntry {
  int64_t job_id = 0;
  std::string token;
  std::filesystem::path file;   // the .json
  std::filesystem::path spool;  // the .trace
};

std::filesystem::path JournalDir(const RunnerEntry& runner);

// Records a job that is about to start; its spool path is returned in the entry (not created).
Result<JournalEntry> BeginJournal(const RunnerEntry& runner, int64_t job_id,
                                  const std::string& token);

// Forgets a job: removes the entry and its spool.
void EndJournal(const JournalEntry& entry);

// The jobs a previous process of this runner entry left unfinished. Unreadable entries are
// skipped and named in `problems`.
std::vector<JournalEntry> FindJournaledJobs(const RunnerEntry& runner,
                                            std::vector<std::string>* problems);

}  // namespace stagehost::gitlab
