// JobJournal: one small JSON file per running job, written atomically next to its spool.
#include "gitlab/runner/job_journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "util/unique_fd.h"

namespace stagehost::gitlab {
namespace fs = std::filesystem;

fs::path JournalDir(const RunnerEntry& runner) { return runner.builds_dir / ".stagehost-journal"; }

Result<JournalEntry> BeginJournal(const RunnerEntry& runner, int64_t job_id,
                                  const std::string& token) {
  const fs::path dir = JournalDir(runner);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument(fmt::format("creating {}: {}", dir.string(), ec.message()));
  // The entry holds a job token: nobody else may list or read the directory.
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("chmod " + dir.string(), errno);
  JournalEntry entry;
  entry.job_id = job_id;
  entry.token = token;
  entry.file = dir / fmt::format("{}.json", job_id);
  entry.spool = dir / fmt::format("{}.trace", job_id);
  // A leftover of the same job (GitLab handed it out again) is stale: start afresh.
  fs::remove(entry.spool, ec);
  const std::string text =
      nlohmann::json{{"job_id", job_id}, {"token", token}, {"runner", runner.name}}.dump();
  const fs::path temp = dir / fmt::format(".{}.json.tmp", job_id);
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoStatus("writing " + temp.string(), errno);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd.get()) != 0) {
      return ErrnoStatus("writing " + temp.string(), errno);
    }
  }
  if (::rename(temp.c_str(), entry.file.c_str()) != 0) {
    return ErrnoStatus("renaming " + temp.string(), errno);
  }
  return entry;
}

void EndJournal(const JournalEntry& entry) {
  std::error_code ec;
  fs::remove(entry.file, ec);
  fs::remove(entry.spool, ec);
}

std::vector<JournalEntry> FindJournaledJobs(const RunnerEntry& runner,
                                            std::vector<std::string>* problems) {
  std::vector<JournalEntry> found;
  std::error_code ec;
  fs::directory_iterator it(JournalDir(runner), ec);
  if (ec) return found;  // no journal yet
  for (const fs::directory_entry& file : it) {
    if (file.path().extension() != ".json" || file.path().filename().string()[0] == '.') continue;
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
    bool valid = json.is_object() && json.contains("job_id") &&
                 json["job_id"].is_number_integer() && json.contains("token") &&
                 json["token"].is_string() && json.contains("runner") && json["runner"].is_string();
    if (!valid) {
      problems->push_back(fmt::format("unreadable journal entry {}", file.path().string()));
      continue;
    }
    if (json["runner"].get<std::string>() != runner.name) continue;  // another entry's job
    JournalEntry entry;
    entry.job_id = json["job_id"].get<int64_t>();
    entry.token = json["token"].get<std::string>();
    entry.file = file.path();
    entry.spool = file.path().parent_path() / fmt::format("{}.trace", entry.job_id);
    found.push_back(std::move(entry));
  }
  return found;
}

}  // namespace stagehost::gitlab
