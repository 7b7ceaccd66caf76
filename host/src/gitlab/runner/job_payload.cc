// Parsing of the job payload, tolerant of what GitLab leaves out, strict on types.
#include "gitlab/runner/job_payload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace stagehost::gitlab {
namespace {

using nlohmann::json;

std::string StringOr(const json& object, const char* key, std::string fallback = {}) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

bool BoolOr(const json& object, const char* key, bool fallback = false) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

std::vector<std::string> Strings(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const json& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<std::string> JobPayload::Variable(const std::string& key) const {
  for (auto it = variables.rbegin(); it != variables.rend(); ++it) {
    if (it->key == key) return it->value;
  }
  return std::nullopt;
}

std::vector<std::string> JobPayload::SecretValues() const {
  std::vector<std::string> secrets;
  for (const PayloadVariable& variable : variables) {
    if (variable.masked && !variable.value.empty()) secrets.push_back(variable.value);
  }
  if (!token.empty()) secrets.push_back(token);
  return secrets;
}

const PayloadStep* JobPayload::Step(const std::string& step_name) const {
  for (const PayloadStep& step : steps) {
    if (step.name == step_name) return &step;
  }
  return nullptr;
}

Result<JobPayload> ParseJobPayload(const json& body) {
  if (!body.is_object()) return InvalidArgument("job payload: not a JSON object");
  JobPayload job;
  auto id = body.find("id");
  if (id == body.end() || !id->is_number_integer()) {
    return InvalidArgument("job payload: `id` missing or not an integer");
  }
  job.id = id->get<int64_t>();
  job.token = StringOr(body, "token");
  if (job.token.empty()) return InvalidArgument("job payload: `token` missing");

  const json info = body.value("job_info", json::object());
  if (info.is_object()) {
    job.name = StringOr(info, "name");
    job.stage = StringOr(info, "stage");
    if (auto p = info.find("project_id"); p != info.end() && p->is_number_integer()) {
      job.project_id = p->get<int64_t>();
    }
    job.project_path = StringOr(info, "project_full_path", StringOr(info, "project_name"));
  }
  const json runner_info = body.value("runner_info", json::object());
  if (runner_info.is_object()) {
    if (auto t = runner_info.find("timeout"); t != runner_info.end() && t->is_number()) {
      long long seconds = t->get<long long>();
      // gitlab-runner's rule: no positive timeout means the default two hours.
      job.timeout = std::chrono::seconds(seconds > 0 ? seconds : 7200);
    }
  }
  if (auto vars = body.find("variables"); vars != body.end() && vars->is_array()) {
    for (const json& item : *vars) {
      if (!item.is_object()) continue;
      PayloadVariable variable;
      variable.key = StringOr(item, "key");
      if (variable.key.empty()) continue;
      if (auto v = item.find("value"); v != item.end()) {
        variable.value = v->is_string() ? v->get<std::string>() : v->dump();
      }
      variable.masked = BoolOr(item, "masked");
      variable.file = BoolOr(item, "file");
      variable.raw = BoolOr(item, "raw");
      job.variables.push_back(std::move(variable));
    }
  }
  if (auto steps = body.find("steps"); steps != body.end() && steps->is_array()) {
    for (const json& item : *steps) {
      if (!item.is_object()) continue;
      PayloadStep step;
      step.name = StringOr(item, "name");
      step.script = Strings(item, "script");
      if (auto t = item.find("timeout"); t != item.end() && t->is_number()) {
        step.timeout = std::chrono::seconds(std::max<long long>(0, t->get<long long>()));
      }
      step.when = StringOr(item, "when", "on_success");
      if (step.when.empty()) step.when = "on_success";
      step.allow_failure = BoolOr(item, "allow_failure");
      job.steps.push_back(std::move(step));
    }
  }
  const json features = body.value("features", json::object());
  if (features.is_object()) {
    job.token_mask_prefixes = Strings(features, "token_mask_prefixes");
    job.failure_reasons = Strings(features, "failure_reasons");
    job.trace_sections = BoolOr(features, "trace_sections", true);
  }
  job.git_info = body.value("git_info", json::object());
  job.artifacts = body.value("artifacts", json::array());
  job.cache = body.value("cache", json::array());
  job.dependencies = body.value("dependencies", json::array());
  return job;
}

std::string SendableFailureReason(const JobPayload& job, const std::string& reason) {
  if (reason.empty()) return "script_failure";
  static const char* kAlwaysKnown[] = {"script_failure", "runner_system_failure",
                                       "job_execution_timeout"};
  for (const char* known : kAlwaysKnown) {
    if (reason == known) return reason;
  }
  if (std::find(job.failure_reasons.begin(), job.failure_reasons.end(), reason) !=
      job.failure_reasons.end()) {
    return reason;
  }
  if (reason == "image_pull_failure" || reason == "runner_external_dependency_failure") {
    return "runner_system_failure";
  }
  if (reason == "runner_configuration_error") return "script_failure";
  return "unknown_failure";
}

std::string ExpandVariableReferences(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    bool braced = text[i + 1] == '{';
    size_t start = i + (braced ? 2 : 1);
    size_t end = start;
    while (end < text.size() && is_name(text[end])) ++end;
    if (end == start || (braced && (end >= text.size() || text[end] != '}'))) {
      out += text[i];
      continue;
    }
    out += lookup(text.substr(start, end - start)).value_or("");
    i = braced ? end : end - 1;
  }
  return out;
}

std::string ExpandJobVariables(std::string_view text, const JobPayload& job) {
  return ExpandVariableReferences(
      text, [&job](std::string_view key) { return job.Variable(std::string(key)); });
}

}  // namespace stagehost::gitlab
