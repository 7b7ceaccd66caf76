// stagehost/internal/trampolines.h -- the machinery behind STAGEHOST_PLUGIN. Not API: it may
// change in any release; include <stagehost/plugin.h> instead.
#pragma once

#include <stagehost/plugin_abi.h>
#include <stagehost/stage.h>

#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace stagehost::sdk::internal {

template <typename T, typename = void>
struct HasRequestCancel : std::false_type {};
template <typename T>
struct HasRequestCancel<T, std::void_t<decltype(std::declval<T&>().RequestCancel())>>
    : std::true_type {};

template <typename T, typename = void>
struct HasRun : std::false_type {};
template <typename T>
struct HasRun<T, std::enable_if_t<std::is_same_v<
                     decltype(std::declval<T&>().Run(std::declval<const RunInput&>())), Outcome>>>
    : std::true_type {};

// What an instance handle points to: the context outlives the plugin object it was given to.
template <typename T>
struct Instance {
  Context context;
  std::optional<T> plugin;
};

inline void Fill(stagehost_error* err, stagehost_status status, const char* message) noexcept {
  if (err == nullptr) return;
  err->code = static_cast<int32_t>(status);
  std::size_t n = std::strlen(message);
  if (n >= sizeof(err->message)) n = sizeof(err->message) - 1;
  std::memcpy(err->message, message, n);
  err->message[n] = '\0';
}

// Runs `body`, turning any exception into a status and a message in `err`.
template <typename Body>
stagehost_status Guard(stagehost_error* err, Body&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    Fill(err, e.status(), e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    Fill(err, STAGEHOST_PLUGIN_ERROR, "out of memory");
    return STAGEHOST_PLUGIN_ERROR;
  } catch (const std::exception& e) {
    Fill(err, STAGEHOST_PLUGIN_ERROR, e.what());
    return STAGEHOST_PLUGIN_ERROR;
  } catch (...) {
    Fill(err, STAGEHOST_PLUGIN_ERROR, "unknown exception (not derived from std::exception)");
    return STAGEHOST_PLUGIN_ERROR;
  }
}

template <typename T>
stagehost_instance* Create(const stagehost_host_api* api, stagehost_host_ctx* ctx,
                           stagehost_str config, stagehost_error* err) noexcept {
  Instance<T>* instance = nullptr;
  stagehost_status status = Guard(err, [&] {
    auto owned = new Instance<T>{Context(api, ctx), std::nullopt};
    try {
      owned->plugin.emplace(owned->context, std::string_view(config.ptr, config.len));
    } catch (...) {
      delete owned;
      throw;
    }
    instance = owned;
    return STAGEHOST_OK;
  });
  (void)status;  // already in err->code
  return reinterpret_cast<stagehost_instance*>(instance);
}

template <typename T>
stagehost_status Run(stagehost_instance* handle, const stagehost_run_input* input,
                     stagehost_error* err) noexcept {
  auto* instance = reinterpret_cast<Instance<T>*>(handle);
  return Guard(err, [&] {
    Outcome outcome = instance->plugin->Run(RunInput(input));
    return outcome == Outcome::kPassed ? STAGEHOST_OK : STAGEHOST_STAGE_FAILED;
  });
}

template <typename T>
void RequestCancel(stagehost_instance* handle) noexcept {
  auto* instance = reinterpret_cast<Instance<T>*>(handle);
  try {
    instance->plugin->RequestCancel();
  } catch (...) {
    // A cancel request has nowhere to report failure; the host escalates to signals anyway.
  }
}

template <typename T>
constexpr stagehost_request_cancel_fn RequestCancelFn() noexcept {
  if constexpr (HasRequestCancel<T>::value) {
    return &RequestCancel<T>;
  } else {
    return nullptr;
  }
}

template <typename T>
void Destroy(stagehost_instance* handle) noexcept {
  try {
    delete reinterpret_cast<Instance<T>*>(handle);
  } catch (...) {
    // Destructors should not throw; if one does, the worker's exit still frees everything.
  }
}

template <typename T>
const stagehost_plugin_descriptor* Descriptor(uint16_t /*host_major*/,
                                              uint16_t /*host_minor*/) noexcept {
  static_assert(std::is_convertible_v<decltype(T::kName), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kName`");
  static_assert(std::is_convertible_v<decltype(T::kVersion), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kVersion` (semver)");
  static_assert(
      std::is_same_v<std::remove_cv_t<decltype(T::kStageType)>, StageType>,
      "STAGEHOST_PLUGIN: expected `static constexpr stagehost::sdk::StageType kStageType`");
  static_assert(std::is_convertible_v<decltype(T::kDescription), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kDescription`");
  static_assert(std::is_convertible_v<decltype(T::kVendor), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kVendor`");
  static_assert(std::is_convertible_v<decltype(T::kLicense), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kLicense` (SPDX)");
  static_assert(std::is_convertible_v<decltype(T::kConfigSchema), const char*>,
                "STAGEHOST_PLUGIN: expected `static constexpr const char* kConfigSchema`");
  static_assert(std::is_constructible_v<T, const Context&, std::string_view>,
                "STAGEHOST_PLUGIN: expected constructor T(const stagehost::sdk::Context&, "
                "std::string_view config_json)");
  static_assert(HasRun<T>::value,
                "STAGEHOST_PLUGIN: expected `stagehost::sdk::Outcome Run(const "
                "stagehost::sdk::RunInput&)`");

  // The host refuses an incompatible host version itself, with a message naming both versions;
  // declining here would only make that message vaguer.
  static const stagehost_plugin_descriptor descriptor = {
      sizeof(stagehost_plugin_descriptor),
      STAGEHOST_ABI_MAJOR,
      STAGEHOST_ABI_MINOR,
      T::kName,
      T::kVersion,
      static_cast<stagehost_stage_type>(T::kStageType),
      T::kDescription,
      T::kVendor,
      T::kLicense,
      T::kConfigSchema,
      &Create<T>,
      &Run<T>,
      RequestCancelFn<T>(),
      &Destroy<T>,
  };
  return &descriptor;
}

}  // namespace stagehost::sdk::internal
