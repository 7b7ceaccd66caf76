// create -> run -> destroy of one plugin instance.
#include "plugin/plugin_call.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace stagehost {
namespace {

bool IsKnownStatus(int value) { return value >= STAGEHOST_OK && value <= STAGEHOST_TIMEOUT; }

std::string MessageOf(stagehost_error& error) {
  error.message[sizeof(error.message) - 1] = '\0';
  return std::string(error.message);
}

stagehost_error FreshError() {
  stagehost_error error{};
  error.struct_size = sizeof(stagehost_error);
  return error;
}

stagehost_str Str(const std::string& s) { return stagehost_str{s.data(), s.size()}; }

}  // namespace

void to_json(nlohmann::json& j, const RunRequest& r) {
  j = nlohmann::json{{"config", r.config_json},
                     {"workspace_dir", r.workspace_dir},
                     {"artifact_dir", r.artifact_dir},
                     {"deadline_unix_ms", r.deadline_unix_ms},
                     {"env", r.env}};
}

void from_json(const nlohmann::json& j, RunRequest& r) {
  r.config_json = j.at("config").get<std::string>();
  r.workspace_dir = j.at("workspace_dir").get<std::string>();
  r.artifact_dir = j.at("artifact_dir").get<std::string>();
  r.deadline_unix_ms = j.at("deadline_unix_ms").get<uint64_t>();
  r.env = j.at("env").get<std::vector<std::string>>();
}

PluginVerdict CallPlugin(const stagehost_plugin_descriptor* descriptor, const RunRequest& request,
                         HostContext& context) {
  stagehost_error error = FreshError();
  stagehost_instance* instance =
      descriptor->create(context.api(), context.ctx(), Str(request.config_json), &error);
  if (instance == nullptr) {
    PluginVerdict verdict{STAGEHOST_PLUGIN_ERROR, MessageOf(error), "create"};
    if (IsKnownStatus(error.code) && error.code != STAGEHOST_OK) {
      verdict.status = static_cast<stagehost_status>(error.code);
    }
    if (verdict.message.empty()) verdict.message = "create() returned NULL without a message";
    return verdict;
  }
  context.SetInstance(descriptor, instance);
  // A cancel that arrived before the instance existed is passed on now.
  if (context.cancelled() && descriptor->request_cancel != nullptr) {
    descriptor->request_cancel(instance);
  }

  std::vector<stagehost_str> env;
  env.reserve(request.env.size());
  for (const std::string& entry : request.env) env.push_back(Str(entry));
  stagehost_run_input input{};
  input.struct_size = sizeof(stagehost_run_input);
  input.workspace_dir = Str(request.workspace_dir);
  input.artifact_dir = Str(request.artifact_dir);
  input.deadline_unix_ms = request.deadline_unix_ms;
  input.env = env.data();
  input.env_count = env.size();

  error = FreshError();
  int status = descriptor->run(instance, &input, &error);
  PluginVerdict verdict{STAGEHOST_PLUGIN_ERROR, MessageOf(error), "run"};
  if (IsKnownStatus(status)) {
    verdict.status = static_cast<stagehost_status>(status);
  } else {
    verdict.message = fmt::format("plugin returned unknown status {}", status);
  }

  context.SetInstance(descriptor, nullptr);
  descriptor->destroy(instance);
  context.Invalidate();
  return verdict;
}

}  // namespace stagehost
