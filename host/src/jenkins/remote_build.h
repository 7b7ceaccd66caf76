// Following a Jenkins build from outside: queue item to build, console mirror, final result,
// artifacts. The caller (cli/jenkins.cc) decides what the outcome means as an exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jenkins/client.h"
#include "util/status.h"

namespace stagehost::jenkins {

struct FollowOptions {
  std::chrono::milliseconds poll{1000};      // while output flows
  std::chrono::milliseconds poll_max{5000};  // idle polls back off up to this
  int cancel_fd = -1;                        // readable = the user asked to cancel
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // The mirrored console (stdout) and stagehost's own messages (stderr).
  std::function<Status(std::string_view)> write_log;
  std::function<void(const std::string&)> message;
};

enum class FollowEnd {
  kFinished,        // the build has a final result (and, when mirrored, a complete log)
  kQueueCancelled,  // the queue item was cancelled in Jenkins: no build ran
  kLocalCancel,     // SIGINT/SIGTERM here
  kTimedOut,        // --timeout here
};

struct FollowResult {
  FollowEnd end = FollowEnd::kFinished;
  std::int64_t number = 0;  // 0 while no build is known
  BuildInfo build;
};

// Polls the queue item until it names its build; an item gone from the queue (404 after the
// first few polls, or a LeftItem without `executable`) is resolved through the job's builds'
// queueId (jenkins-api.md §5).
Result<FollowResult> WaitForBuild(Client& client, const std::string& job_path,
                                  std::int64_t queue_id, const FollowOptions& options);

// Polls the build until it is finished; with `mirror_log` streams its console through
// write_log (X-Text-Size offsets only, notes stripped, CRLF -> LF) until the log is complete,
// then checks the mirror against consoleText and prints what the stream missed.
Result<FollowResult> FollowBuild(Client& client, const std::string& job_path, std::int64_t number,
                                 bool mirror_log, const FollowOptions& options);

// Prints the console as it is now (no waiting for the build).
Status PrintLogOnce(Client& client, const std::string& job_path, std::int64_t number,
                    const FollowOptions& options);

// Downloads every artifact into `dir`, refusing paths that would leave it.
Status DownloadArtifacts(Client& client, const std::string& job_path, const BuildInfo& build,
                         const std::filesystem::path& dir, const FollowOptions& options);

// "team/a b/../x" style paths are refused; returns dir/relative otherwise.
Result<std::filesystem::path> ConfinedPath(const std::filesystem::path& dir,
                                           const std::string& relative);

}  // namespace stagehost::jenkins
