/* fixture_common.h -- shared plumbing for the hand-written C fixture plugins.
 *
 * Not a plugin itself (only *.c / *.cc files in this folder become plugins). Everything here is
 * `static` so each fixture gets a private copy and exports nothing but what it defines itself.
 * The fixtures deliberately use the raw C ABI (no SDK) so that each one can break exactly one rule.
 */
#ifndef STAGEHOST_TESTS_FIXTURE_COMMON_H_
#define STAGEHOST_TESTS_FIXTURE_COMMON_H_

#include <stagehost/plugin_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURE_UNUSED __attribute__((unused))

#define FIXTURE_VENDOR "stagehost test suite"
#define FIXTURE_LICENSE "Apache-2.0"
#define FIXTURE_SCHEMA "{\"type\": \"object\", \"properties\": {}}"

/* What create() returns for every C fixture. */
typedef struct fixture_instance {
  const stagehost_host_api* api;
  stagehost_host_ctx* ctx;
  int cancel_requested; /* accessed with __atomic builtins */
} fixture_instance;

static FIXTURE_UNUSED stagehost_instance* fixture_create(const stagehost_host_api* api,
                                                         stagehost_host_ctx* ctx,
                                                         stagehost_str config_json,
                                                         stagehost_error* err) {
  (void)config_json;
  fixture_instance* instance = (fixture_instance*)calloc(1, sizeof(fixture_instance));
  if (instance == NULL) {
    if (err != NULL) {
      err->code = STAGEHOST_PLUGIN_ERROR;
      snprintf(err->message, sizeof(err->message), "fixture: out of memory in create");
    }
    return NULL;
  }
  instance->api = api;
  instance->ctx = ctx;
  return (stagehost_instance*)instance;
}

static FIXTURE_UNUSED void fixture_destroy(stagehost_instance* handle) { free(handle); }

static FIXTURE_UNUSED void fixture_request_cancel(stagehost_instance* handle) {
  fixture_instance* instance = (fixture_instance*)handle;
  __atomic_store_n(&instance->cancel_requested, 1, __ATOMIC_SEQ_CST);
}

static FIXTURE_UNUSED int fixture_cancelled(fixture_instance* instance) {
  return __atomic_load_n(&instance->cancel_requested, __ATOMIC_SEQ_CST) != 0 ||
         instance->api->is_cancelled(instance->ctx) != 0;
}

/* Logs a NUL-terminated string to the stage's stdout stream; returns the host's status. */
static FIXTURE_UNUSED stagehost_status fixture_log(fixture_instance* instance, const char* text) {
  return instance->api->log_write(instance->ctx, STAGEHOST_STREAM_STDOUT, STAGEHOST_LEVEL_INFO,
                                  (const uint8_t*)text, strlen(text));
}

static FIXTURE_UNUSED stagehost_str fixture_str(const char* s) {
  stagehost_str out;
  out.ptr = s;
  out.len = s == NULL ? 0 : strlen(s);
  return out;
}

/* Copies a stagehost_str into a NUL-terminated buffer (truncating). */
static FIXTURE_UNUSED void fixture_copy_str(stagehost_str s, char* out, size_t out_size) {
  size_t n = s.len < out_size - 1 ? s.len : out_size - 1;
  if (n > 0) memcpy(out, s.ptr, n);
  out[n] = '\0';
}

static FIXTURE_UNUSED void fixture_sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static FIXTURE_UNUSED void fixture_fail(stagehost_error* err, const char* message) {
  if (err == NULL) return;
  snprintf(err->message, sizeof(err->message), "%s", message);
}

/* A run that logs one line and passes. */
#define FIXTURE_DEFINE_OK_RUN(fn_name, line)                                                    \
  static stagehost_status fn_name(stagehost_instance* handle, const stagehost_run_input* input, \
                                  stagehost_error* err) {                                       \
    (void)input;                                                                                \
    (void)err;                                                                                  \
    fixture_log((fixture_instance*)handle, line "\n");                                          \
    return STAGEHOST_OK;                                                                        \
  }

/* Defines `static const stagehost_plugin_descriptor var` with the common fields filled in. */
#define FIXTURE_DESCRIPTOR(var, abi_major_, abi_minor_, name_, version_, schema_, create_, run_, \
                           cancel_)                                                              \
  static const stagehost_plugin_descriptor var = {                                               \
      sizeof(stagehost_plugin_descriptor),                                                       \
      (abi_major_),                                                                              \
      (abi_minor_),                                                                              \
      (name_),                                                                                   \
      (version_),                                                                                \
      STAGEHOST_STAGE_UNIT_TEST,                                                                 \
      "stagehost fixture: " name_,                                                               \
      FIXTURE_VENDOR,                                                                            \
      FIXTURE_LICENSE,                                                                           \
      (schema_),                                                                                 \
      (create_),                                                                                 \
      (run_),                                                                                    \
      (cancel_),                                                                                 \
      fixture_destroy,                                                                           \
  }

#endif /* STAGEHOST_TESTS_FIXTURE_COMMON_H_ */
