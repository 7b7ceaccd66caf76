// Parsing of gitlab-runner's driver environment and JOB_RESPONSE_FILE.
#include "gitlab/custom/job_environment.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace stagehost::gitlab {
namespace {

std::optional<int> IntFromEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  int parsed = 0;
  auto [end, ec] = std::from_chars(value, value + std::strlen(value), parsed);
  if (ec != std::errc() || *end != '\0') return std::nullopt;
  return parsed;
}

}  // namespace

int SystemFailureExitCode() { return IntFromEnv("SYSTEM_FAILURE_EXIT_CODE").value_or(2); }

std::optional<std::string> JobEnvironment::Variable(const std::string& key) const {
  for (auto it = variables.rbegin(); it != variables.rend(); ++it) {
    if (it->key == key) return it->value;
  }
  if (auto it = custom_env.find(key); it != custom_env.end()) return it->second;
  return std::nullopt;
}

std::vector<std::string> JobEnvironment::SecretValues() const {
  std::vector<std::string> secrets;
  for (const JobVariable& variable : variables) {
    if (variable.masked && !variable.value.empty()) secrets.push_back(variable.value);
  }
  if (!job_token.empty()) secrets.push_back(job_token);
  return secrets;
}

std::vector<std::string> JobEnvironment::JobEnv() const {
  std::map<std::string, std::string> merged = custom_env;
  for (const JobVariable& variable : variables) {
    // File-type variables arrive with their content; what the job sees is a path gitlab-runner
    // wrote, which only the CUSTOM_ENV_ copy knows.
    if (!variable.file) merged[variable.key] = variable.value;
  }
  std::vector<std::string> env;
  env.reserve(merged.size());
  for (const auto& [key, value] : merged) env.push_back(key + "=" + value);
  return env;
}

Result<JobEnvironment> ReadJobEnvironment() {
  JobEnvironment job;
  std::optional<int> build_failure = IntFromEnv("BUILD_FAILURE_EXIT_CODE");
  std::optional<int> system_failure = IntFromEnv("SYSTEM_FAILURE_EXIT_CODE");
  if (!build_failure || !system_failure) {
    return InvalidArgument(
        "BUILD_FAILURE_EXIT_CODE and SYSTEM_FAILURE_EXIT_CODE must be set to integers: "
        "stagehost gitlab custom is meant to be called by gitlab-runner's custom executor");
  }
  job.build_failure_exit_code = *build_failure;
  job.system_failure_exit_code = *system_failure;
  if (const char* file = std::getenv("BUILD_EXIT_CODE_FILE"); file != nullptr && *file != '\0') {
    job.build_exit_code_file = std::filesystem::path(file);
  }
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    constexpr std::string_view kPrefix = "CUSTOM_ENV_";
    if (item.substr(0, kPrefix.size()) != kPrefix) continue;
    size_t equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    job.custom_env[std::string(item.substr(kPrefix.size(), equals - kPrefix.size()))] =
        std::string(item.substr(equals + 1));
  }

  const char* response = std::getenv("JOB_RESPONSE_FILE");
  if (response == nullptr || *response == '\0') {
    return InvalidArgument("JOB_RESPONSE_FILE is not set");
  }
  job.job_response_file = response;
  std::ifstream in(job.job_response_file, std::ios::binary);
  if (!in) {
    return InvalidArgument(
        fmt::format("cannot read JOB_RESPONSE_FILE {}: {}", response, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json body = nlohmann::json::parse(text.str(), nullptr, false);
  if (!body.is_object()) {
    return InvalidArgument(fmt::format("JOB_RESPONSE_FILE {} is not a JSON object", response));
  }
  try {
    job.job_id = body.at("id").get<int64_t>();
    job.job_token = body.value("token", "");
    if (body.contains("variables") && !body["variables"].is_null()) {
      for (const nlohmann::json& v : body.at("variables")) {
        JobVariable variable;
        variable.key = v.at("key").get<std::string>();
        variable.value = v.value("value", "");
        variable.masked = v.value("masked", false);
        variable.file = v.value("file", false);
        job.variables.push_back(std::move(variable));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(fmt::format("JOB_RESPONSE_FILE {}: {}", response, e.what()));
  }
  return job;
}

}  // namespace stagehost::gitlab
