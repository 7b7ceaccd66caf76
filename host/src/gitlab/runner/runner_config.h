// RunnerConfig: the native runner's config.toml, shaped like gitlab-runner's, read and written.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace stagehost::gitlab {

// One [[runners]] entry. gitlab-runner's key names and units (output_limit in KiB).
struct RunnerEntry {
  std::string name;
  std::string url;    // GitLab base URL, e.g. https://gitlab.example.com
  std::string token;  // glrt-…: never logged
  int64_t id = 0;     // from runners/verify
  std::string token_expires_at;
  uint64_t limit = 0;  // jobs at once for this entry; 0 = only `concurrent` applies
  uint64_t output_limit_kib = 4096;
  std::filesystem::path builds_dir;  // default: <config dir>/builds
  std::filesystem::path cache_dir;   // local job caches; default: <config dir>/cache
  uint64_t request_concurrency = 1;
  std::filesystem::path tls_ca_file;
  std::vector<std::string> environment;  // "KEY=VALUE" added to every job

  // [runners.stagehost]: what gitlab-runner has no key for.
  bool timestamps = true;  // gitlab-runner 19's default (FF_TIMESTAMPS)
  std::chrono::milliseconds kill_grace{10'000};
  std::chrono::milliseconds after_script_timeout{300'000};
  // How long the final state is retried through an outage (gitlab-runner gives up after ~9 min).
  std::chrono::milliseconds final_update_horizon{7'200'000};
  // A job that printed nothing for this long asks GitLab for its status (cancel detection).
  std::chrono::milliseconds cancel_check_interval{1'500};
  // Per-request stall timeout: no byte moved for this long fails the request.
  std::chrono::milliseconds request_idle_timeout{30'000};
  // A PATCH answer with a 404 that lasts this long aborts the job (a proxy may 404 briefly).
  std::chrono::milliseconds not_found_horizon{120'000};
  // Bounds for X-GitLab-Trace-Update-Interval, and the interval before the server names one.
  std::chrono::milliseconds trace_interval_min{200};
  std::chrono::milliseconds trace_interval_max{900'000};
  std::chrono::milliseconds trace_interval_initial{3'000};
};

struct RunnerConfig {
  uint64_t concurrent = 1;
  std::chrono::milliseconds check_interval{3'000};
  std::chrono::milliseconds shutdown_timeout{30'000};
  std::string listen_address;  // Prometheus metrics (issue 5); empty = off
  // Status checks of silent jobs (cancel detection), all jobs together; 0 = no cap.
  uint64_t status_checks_per_second = 20;
  std::vector<RunnerEntry> runners;
  std::filesystem::path file;  // where it was read from
};

// Reads and checks the file; every problem is reported at once with its line. Refuses a file
// that others can read (it holds tokens).
Result<RunnerConfig> LoadRunnerConfig(const std::filesystem::path& file);

// Appends `entry` to the file's [[runners]] (creating the file, or replacing an entry with the
// same url and token), written atomically with mode 0600.
Status AddRunnerToConfig(const std::filesystem::path& file, const RunnerEntry& entry);

// $STAGEHOST_RUNNER_CONFIG, else /etc/stagehost/config.toml for root, else
// ~/.stagehost/config.toml.
std::filesystem::path DefaultRunnerConfigPath();

}  // namespace stagehost::gitlab
