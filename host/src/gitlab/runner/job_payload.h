// JobPayload: the parts of a jobs/request 201 body the runner acts on (api reference §5).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::gitlab {

struct PayloadVariable {
  std::string key;
  std::string value;
  bool masked = false;
  bool file = false;
  bool raw = false;
};

struct PayloadStep {
  std::string name;  // script, after_script, release …
  std::vector<std::string> script;
  std::chrono::seconds timeout{0};
  std::string when = "on_success";  // on_success, on_failure, always
  bool allow_failure = false;
};

struct JobPayload {
  int64_t id = 0;
  std::string token;
  std::string name;
  std::string stage;
  int64_t project_id = 0;
  std::string project_path;  // job_info.project_full_path, or project_name
  std::chrono::seconds timeout{7200};
  std::vector<PayloadVariable> variables;  // in order; duplicates: the last wins
  std::vector<PayloadStep> steps;
  std::vector<std::string> token_mask_prefixes;  // features.token_mask_prefixes
  std::vector<std::string> failure_reasons;      // features.failure_reasons
  bool trace_sections = true;
  // Kept whole for the parts that come later (sources, artifacts, cache, dependencies).
  nlohmann::json git_info;
  nlohmann::json artifacts;
  nlohmann::json cache;
  nlohmann::json dependencies;

  // The last value of `key`, if any.
  std::optional<std::string> Variable(const std::string& key) const;
  // Values to mask: masked variables and the job token.
  std::vector<std::string> SecretValues() const;
  const PayloadStep* Step(const std::string& name) const;
};

// Parses a 201 body; errors name the field at fault. Only `id` and `token` are required.
Result<JobPayload> ParseJobPayload(const nlohmann::json& body);

// `$VAR` and `${VAR}` in `text` replaced by lookup(VAR) ("" when it has none), once: a value
// brought in is not expanded again, as gitlab-runner's ExpandValue (os.Expand). A `$` not
// followed by a name stays as it is.
std::string ExpandVariableReferences(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view)>& lookup);

// ExpandVariableReferences against the job's variables (the last value of each key): artifact
// names and paths and cache keys, which GitLab leaves for the runner to expand.
std::string ExpandJobVariables(std::string_view text, const JobPayload& job);

// The failure_reason GitLab accepts for `reason` (api reference §12): the job's list plus the
// three every GitLab knows; otherwise the documented fallbacks.
std::string SendableFailureReason(const JobPayload& job, const std::string& reason);

}  // namespace stagehost::gitlab
