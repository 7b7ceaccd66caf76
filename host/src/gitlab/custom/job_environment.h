// JobEnvironment: what gitlab-runner hands each driver call (custom-executor.md §5, §6).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace stagehost::gitlab {

// A job variable from JOB_RESPONSE_FILE (the trusted copy; CUSTOM_ENV_* can be overridden by
// users through variable precedence).
struct JobVariable {
  std::string key;
  std::string value;
  bool masked = false;
  bool file = false;
};

struct JobEnvironment {
  int build_failure_exit_code = 1;
  int system_failure_exit_code = 2;
  std::optional<std::filesystem::path> build_exit_code_file;
  std::filesystem::path job_response_file;
  int64_t job_id = 0;
  std::string job_token;
  std::vector<JobVariable> variables;  // last wins on duplicate keys, as in gitlab-runner
  // CUSTOM_ENV_<KEY> values with the prefix removed: gitlab-runner's computed variables such as
  // CI_PROJECT_DIR and CI_BUILDS_DIR exist only here.
  std::map<std::string, std::string> custom_env;

  // The value of a job variable, or of CUSTOM_ENV_<key>, the trusted copy first.
  std::optional<std::string> Variable(const std::string& key) const;
  // Values to mask: every masked variable and the job token.
  std::vector<std::string> SecretValues() const;
  // The job's variables as "KEY=VALUE": CUSTOM_ENV_* then the trusted ones on top.
  std::vector<std::string> JobEnv() const;
};

// Reads the exit-code variables (falling back to GitLab's 1 and 2 so that even a broken call can
// report a system failure), then JOB_RESPONSE_FILE. Errors name the variable or file at fault.
Result<JobEnvironment> ReadJobEnvironment();

// The failure exit code to use before (or without) a readable environment.
int SystemFailureExitCode();

}  // namespace stagehost::gitlab
