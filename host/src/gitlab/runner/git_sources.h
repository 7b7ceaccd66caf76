// FetchSources: gets a job's sources into the project directory with git, as gitlab-runner does.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::gitlab {

struct JobPayload;

// What FetchSources needs; MakeGitSourcesRequest fills it from a job payload.
struct GitSourcesRequest {
  std::filesystem::path project_dir;  // created if missing
  // The payload's git_info: repo_url (may embed user:token@), repo_object_format, ref, sha,
  // ref_type, refspecs[], depth.
  nlohmann::json git_info;
  // Job variables read here: GIT_STRATEGY, GIT_DEPTH, GIT_SUBMODULE_STRATEGY, GIT_CHECKOUT,
  // GIT_CLEAN_FLAGS, GIT_LFS_SKIP_SMUDGE. Duplicates already resolved (the last wins).
  std::map<std::string, std::string> variables;
  // The job token: masked in every line logged or put in an error. The credentials embedded in
  // repo_url are masked too, whether or not this is set.
  std::string job_token;
  // The environment git runs with, "KEY=VALUE"; empty = the host's own environment.
  std::vector<std::string> base_env;
  std::chrono::milliseconds kill_grace{10000};
};

enum class GitStrategy { kFetch, kClone, kNone };

struct SourcesReport {
  GitStrategy strategy = GitStrategy::kFetch;
  bool fresh_repository = false;  // git init created it (clone, or fetch without a checkout)
  int depth = 0;                  // 0 = full history
  bool checked_out = false;       // false with GIT_CHECKOUT=false or the none strategy
  std::string sha;                // what HEAD is after the checkout
};

// The request for `job`'s sources in `project_dir`.
GitSourcesRequest MakeGitSourcesRequest(const JobPayload& job, std::filesystem::path project_dir);

// Brings `project_dir` to git_info.sha:
//  - strategy `none` (or an empty GIT_STRATEGY): nothing is touched;
//  - `clone`: the directory is emptied first, then as `fetch`;
//  - `fetch` (default): an existing repository is reused (stale lock files removed), else
//    `git init`; then origin's URL is set *without* credentials, `git fetch --prune` of the
//    refspecs (with --depth unless 0), `git checkout -f -q <sha>`, `git clean <GIT_CLEAN_FLAGS>`
//    (`none` skips it) and the submodules (sync + update --init, --recursive when asked).
// Credentials of an http(s) repo_url reach git only through the environment of the git
// processes (a credential helper scoped to that host, reading two environment variables): never
// argv, never .git/config, never the log. Progress lines, shaped like gitlab-runner's, and git's
// own output (masked) go to `log`. `cancel_fd` (may be -1) readable = stop the running git
// (kCancelled). A failed git command gives kUnavailable naming the command, with its masked
// output; bad variables give kInvalidConfig.
Result<SourcesReport> FetchSources(const GitSourcesRequest& request,
                                   const std::function<void(std::string_view)>& log, int cancel_fd);

// `url` without the user:password@ part ("" stays ""); `user`/`password` receive it when given.
std::string StripUrlCredentials(const std::string& url, std::string* user = nullptr,
                                std::string* password = nullptr);

}  // namespace stagehost::gitlab
