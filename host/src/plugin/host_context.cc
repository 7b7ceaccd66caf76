// The C callbacks of stagehost_host_api, forwarding to RunEvents.
#include "plugin/host_context.h"

#include <nlohmann/json.hpp>

namespace stagehost {
namespace {

std::string_view View(stagehost_str s) {
  return s.len == 0 || s.ptr == nullptr ? std::string_view() : std::string_view(s.ptr, s.len);
}

}  // namespace

HostContext::HostContext(RunEvents* events) : events_(events) {
  api_ = stagehost_host_api{};
  api_.struct_size = sizeof(stagehost_host_api);
  api_.abi_major = STAGEHOST_ABI_MAJOR;
  api_.abi_minor = STAGEHOST_ABI_MINOR;
  api_.log_write = &HostContext::LogWrite;
  api_.artifact_emit = &HostContext::ArtifactEmit;
  api_.progress = &HostContext::Progress;
  api_.set_output = &HostContext::SetOutput;
  api_.is_cancelled = &HostContext::IsCancelled;
}

void HostContext::Cancel() {
  cancelled_.store(true);
  std::lock_guard<std::mutex> lock(instance_mutex_);
  if (instance_ != nullptr && descriptor_->request_cancel != nullptr) {
    descriptor_->request_cancel(instance_);
  }
}

void HostContext::SetInstance(const stagehost_plugin_descriptor* descriptor,
                              stagehost_instance* instance) {
  std::lock_guard<std::mutex> lock(instance_mutex_);
  descriptor_ = descriptor;
  instance_ = instance;
}

bool HostContext::IsValidOutputKey(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

stagehost_status HostContext::LogWrite(stagehost_host_ctx* ctx, uint32_t stream, uint32_t level,
                                       const uint8_t* bytes, size_t len) {
  HostContext* self = From(ctx);
  if (!self->valid_.load()) return STAGEHOST_PLUGIN_ERROR;
  if (len > 0 && bytes != nullptr) {
    self->events_->OnLog(stream, level,
                         std::string_view(reinterpret_cast<const char*>(bytes), len));
  }
  // Logged either way: a plugin that is stopping may say why. The status tells it to stop.
  return self->cancelled() ? STAGEHOST_CANCELLED : STAGEHOST_OK;
}

stagehost_status HostContext::ArtifactEmit(stagehost_host_ctx* ctx, stagehost_str rel_path,
                                           stagehost_str name, stagehost_str media_type) {
  HostContext* self = From(ctx);
  if (!self->valid_.load()) return STAGEHOST_PLUGIN_ERROR;
  Status status = self->events_->OnArtifact(View(rel_path), View(name), View(media_type));
  if (status.ok()) return STAGEHOST_OK;
  if (status.code() == StatusCode::kCancelled) return STAGEHOST_CANCELLED;
  return STAGEHOST_BAD_CONFIG;
}

stagehost_status HostContext::Progress(stagehost_host_ctx* ctx, uint32_t permille,
                                       stagehost_str message) {
  HostContext* self = From(ctx);
  if (!self->valid_.load()) return STAGEHOST_PLUGIN_ERROR;
  self->events_->OnProgress(permille > 1000 ? 1000 : permille, View(message));
  return STAGEHOST_OK;
}

stagehost_status HostContext::SetOutput(stagehost_host_ctx* ctx, stagehost_str key,
                                        stagehost_str json) {
  HostContext* self = From(ctx);
  if (!self->valid_.load()) return STAGEHOST_PLUGIN_ERROR;
  std::string_view key_view = View(key);
  std::string_view json_view = View(json);
  if (!IsValidOutputKey(key_view) || !nlohmann::json::accept(json_view)) {
    return STAGEHOST_BAD_CONFIG;
  }
  self->events_->OnOutput(key_view, json_view);
  return STAGEHOST_OK;
}

int HostContext::IsCancelled(stagehost_host_ctx* ctx) { return From(ctx)->cancelled() ? 1 : 0; }

}  // namespace stagehost
