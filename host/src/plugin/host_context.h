// HostContext: the host side of the C callbacks a running plugin calls (stagehost_host_api).
#pragma once

#include <stagehost/plugin_abi.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "util/status.h"

namespace stagehost {

// Where a running plugin's callbacks end up: the worker forwards them to the host over the
// channel, in-process mode straight to the stage runner. Implementations must be thread-safe:
// plugin threads call concurrently.
class RunEvents {
 public:
  virtual ~RunEvents() = default;
  virtual void OnLog(uint32_t stream, uint32_t level, std::string_view bytes) = 0;
  // OK when accepted; otherwise the reason the artifact was refused.
  virtual Status OnArtifact(std::string_view rel_path, std::string_view name,
                            std::string_view media_type) = 0;
  virtual void OnProgress(uint32_t permille, std::string_view message) = 0;
  // `json` has already been checked to be one JSON value and `key` a valid output key.
  virtual void OnOutput(std::string_view key, std::string_view json) = 0;
};

// Owns the stagehost_host_api table and the per-run state behind the opaque stagehost_host_ctx
// pointer: the cancel flag and the instance to forward request_cancel to.
class HostContext {
 public:
  explicit HostContext(RunEvents* events);
  HostContext(const HostContext&) = delete;
  HostContext& operator=(const HostContext&) = delete;

  const stagehost_host_api* api() const { return &api_; }
  stagehost_host_ctx* ctx() { return reinterpret_cast<stagehost_host_ctx*>(this); }

  // Sets the flag behind is_cancelled() and calls the plugin's request_cancel, if any. Any thread.
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Registers the live instance (or nullptr once destroyed) so Cancel() can reach it.
  void SetInstance(const stagehost_plugin_descriptor* descriptor, stagehost_instance* instance);
  // After destroy(): callbacks from leftover plugin threads are refused.
  void Invalidate() { valid_.store(false); }

  static bool IsValidOutputKey(std::string_view key);

 private:
  static HostContext* From(stagehost_host_ctx* ctx) { return reinterpret_cast<HostContext*>(ctx); }
  static stagehost_status LogWrite(stagehost_host_ctx* ctx, uint32_t stream, uint32_t level,
                                   const uint8_t* bytes, size_t len);
  static stagehost_status ArtifactEmit(stagehost_host_ctx* ctx, stagehost_str rel_path,
                                       stagehost_str name, stagehost_str media_type);
  static stagehost_status Progress(stagehost_host_ctx* ctx, uint32_t permille,
                                   stagehost_str message);
  static stagehost_status SetOutput(stagehost_host_ctx* ctx, stagehost_str key, stagehost_str json);
  static int IsCancelled(stagehost_host_ctx* ctx);

  RunEvents* events_;
  stagehost_host_api api_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> valid_{true};
  std::mutex instance_mutex_;
  const stagehost_plugin_descriptor* descriptor_ = nullptr;
  stagehost_instance* instance_ = nullptr;
};

}  // namespace stagehost
