// Job steps that move files: sources, caches, dependency artifacts and the job's own artifacts.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gitlab/runner/job_payload.h"
#include "gitlab/runner/runner_config.h"
#include "util/status.h"

namespace stagehost::gitlab {

class RunnerMetrics;

struct TransferContext {
  const JobPayload* job = nullptr;
  const RunnerEntry* runner = nullptr;
  std::filesystem::path project_dir;  // CI_PROJECT_DIR
  std::filesystem::path temp_dir;     // private to the job (0700), removed after it
  std::vector<std::string> env;       // the job's environment: git runs with it
  int cancel_fd = -1;                 // readable: stop the running git (cancel, timeout, abort)
  const std::atomic<bool>* abort = nullptr;  // true: end HTTP transfers at once
  RunnerMetrics* metrics = nullptr;          // may be null
  // Formatted lines, newline included, for the job log.
  std::function<void(std::string_view)> log;
};

// get_sources: FetchSources, tried GET_SOURCES_ATTEMPTS times (1–10, default 1).
Status GetSources(const TransferContext& context);

// restore_cache / archive_cache against the runner's local cache_dir. Cache problems never fail a
// job (as in gitlab-runner): they become warnings in the log.
void RestoreJobCaches(const TransferContext& context);
void SaveJobCaches(const TransferContext& context, bool job_succeeded);

// download_artifacts: each dependency that has an artifacts_file, extracted into the project;
// the whole step is tried ARTIFACT_DOWNLOAD_ATTEMPTS times (1–10, default 1).
Status DownloadDependencies(const TransferContext& context);

// upload_artifacts_on_success / _on_failure: every artifacts[] entry whose `when` matches, staged
// once in temp_dir and uploaded. An entry whose paths match nothing is a warning, as in
// gitlab-runner; any other failure fails the step (after the remaining entries were tried).
Status UploadArtifacts(const TransferContext& context, bool job_succeeded);

}  // namespace stagehost::gitlab
