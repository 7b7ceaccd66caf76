/* stagehost/plugin_abi.h -- the C ABI between the stagehost host and a stage plugin.
 *
 * This header is the specification of the plugin boundary. It is pure C (C99), includes only
 * <stddef.h> and <stdint.h>, and is the only thing a plugin and the host share. Plugins written in
 * C++ normally use <stagehost/plugin.h>, which implements every rule below once.
 *
 * OVERVIEW
 *   A plugin is a shared library exporting exactly one symbol, stagehost_plugin_entry. The host
 *   calls it with its own ABI version; the plugin returns a pointer to a constant descriptor (or
 *   NULL to decline). The descriptor names the plugin, declares its stage type and the JSON Schema
 *   of its configuration, and holds the four lifecycle functions create / run / request_cancel /
 *   destroy. While running, the plugin talks back through the host callbacks in stagehost_host_api.
 *
 * VERSIONING
 *   STAGEHOST_ABI_MAJOR / STAGEHOST_ABI_MINOR describe this header, independent of the stagehost
 *   release number. The host accepts a plugin iff
 *       plugin.abi_major == host major  AND  plugin.abi_minor <= host minor
 *   and otherwise refuses it with a message naming both versions and the rule broken.
 *   - Major bump: any change of layout, meaning, threading or ownership of anything below.
 *   - Minor bump: a member appended to a struct, or a new callback appended to stagehost_host_api.
 *
 * GROWTH
 *   Every struct that crosses the boundary starts with uint32_t struct_size, the sizeof() the
 *   writer compiled. Members are only ever appended. A reader uses a member only when
 *   offsetof(member) + sizeof(member) <= struct_size (STAGEHOST_HAS_MEMBER below). The host refuses
 *   a descriptor smaller than the 1.0 layout.
 *
 * STRINGS AND OWNERSHIP
 *   - Strings passed through callbacks and run input are stagehost_str {ptr, len}: UTF-8, NOT
 *     NUL-terminated, len may be 0 (ptr may then be NULL).
 *   - Descriptor strings are NUL-terminated and must live as long as the library is loaded
 *     (string literals are the usual choice).
 *   - Memory passed by the host (host_api, run input, config, error buffers) belongs to the host.
 *     The plugin reads it only during the call that received it -- except host_api and host_ctx,
 *     which stay valid until destroy() returns -- and never frees it.
 *   - Memory the plugin allocates, the plugin frees. Callbacks copy what they are given before
 *     returning, so the plugin may free or reuse its buffers right after a callback returns.
 *
 * THREADING
 *   - The host calls create, run and destroy of one instance from one thread, in that order.
 *   - request_cancel may be called from any thread, at any time between create and destroy, and
 *     possibly more than once. It must only set a flag (or equivalent) and return promptly.
 *   - Every stagehost_host_api callback is thread-safe: plugin threads may call them concurrently.
 *   - When destroy returns, the plugin has joined all of its threads and makes no more host calls.
 *
 * ERRORS
 *   Functions report failure through a stagehost_status and a host-allocated stagehost_error whose
 *   message the plugin fills (NUL-terminated, truncated to fit). No C++ exception, longjmp or other
 *   non-local exit may cross any function of this ABI. STAGEHOST_STAGE_FAILED ("the thing under
 *   test failed") is deliberately distinct from PLUGIN_ERROR / INFRA_ERROR ("something broke"):
 *   only the latter are system failures, and only INFRA_ERROR is worth retrying.
 *
 * ISOLATION
 *   The host normally loads a plugin in a dedicated worker process per stage run; the worker's
 *   exit is the unload (the host never dlclose()s). A plugin must still not rely on process exit
 *   for correctness: static destructors may not run.
 */
#ifndef STAGEHOST_PLUGIN_ABI_H_
#define STAGEHOST_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STAGEHOST_ABI_MAJOR 1u
#define STAGEHOST_ABI_MINOR 0u

#if defined(_WIN32)
#define STAGEHOST_EXPORT __declspec(dllexport)
#else
#define STAGEHOST_EXPORT __attribute__((visibility("default")))
#endif

/* True iff a struct whose struct_size field says `size` holds `member` entirely. */
#define STAGEHOST_HAS_MEMBER(type, member, size) \
  (offsetof(type, member) + sizeof(((type*)0)->member) <= (size))

/* A UTF-8 string view: not NUL-terminated; ptr may be NULL when len == 0. */
typedef struct stagehost_str {
  const char* ptr;
  size_t len;
} stagehost_str;

/* Result of a plugin function or host callback. Values outside this list returned by a plugin are
 * treated by the host as STAGEHOST_PLUGIN_ERROR. */
typedef enum stagehost_status {
  STAGEHOST_OK = 0,           /* the stage passed / the call succeeded */
  STAGEHOST_STAGE_FAILED = 1, /* the project under test failed: tests, threshold, finding, ... */
  STAGEHOST_BAD_CONFIG = 2,   /* config or input unusable (missing file, conflict, bad data) */
  STAGEHOST_PLUGIN_ERROR = 3, /* bug or unexpected state in the plugin (also crash, abort) */
  STAGEHOST_INFRA_ERROR = 4,  /* transient outside failure (network, registry); retryable */
  STAGEHOST_CANCELLED = 5,    /* stopped after a cancel request */
  STAGEHOST_TIMEOUT = 6       /* deadline reached */
} stagehost_status;

/* The stage a plugin implements. The host selects plugins by this value, never by file name. */
typedef enum stagehost_stage_type {
  STAGEHOST_STAGE_UNIT_TEST = 1,
  STAGEHOST_STAGE_MODEL_VALIDATION = 2,
  STAGEHOST_STAGE_SECURITY_SCAN = 3,
  STAGEHOST_STAGE_DEPLOY = 4
} stagehost_stage_type;

/* Log streams for log_write. */
enum {
  STAGEHOST_STREAM_STDOUT = 1,    /* the stage's main output */
  STAGEHOST_STREAM_STDERR = 2,    /* warnings and errors meant for the job log */
  STAGEHOST_STREAM_DIAGNOSTIC = 3 /* plugin diagnostics; shown, but may be filtered by level */
};

/* Log levels for log_write. The host may drop levels below its configured threshold. */
enum {
  STAGEHOST_LEVEL_ERROR = 1,
  STAGEHOST_LEVEL_WARNING = 2,
  STAGEHOST_LEVEL_INFO = 3,
  STAGEHOST_LEVEL_DEBUG = 4
};

#define STAGEHOST_ERROR_MESSAGE_SIZE 1024

/* Error details. Allocated and zeroed by the HOST for each call that takes one; the plugin fills
 * `message` (NUL-terminated, truncated to fit) and optionally `code` (plugin-specific detail). */
typedef struct stagehost_error {
  uint32_t struct_size;
  int32_t code;
  char message[STAGEHOST_ERROR_MESSAGE_SIZE];
} stagehost_error;

/* Opaque, host-owned, one per stage run. Passed back to every callback. */
typedef struct stagehost_host_ctx stagehost_host_ctx;
/* Opaque, plugin-owned: whatever create() returns. */
typedef struct stagehost_instance stagehost_instance;

/* Host -> plugin callbacks. Owned by the host; valid from create() until destroy() returns.
 * Every callback is thread-safe and copies its arguments before returning. */
typedef struct stagehost_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Appends raw bytes to the stage log: no line or encoding requirement; the host splits lines,
   * masks secrets and caps the volume (past the cap it writes one truncation notice and drops the
   * rest). `stream` is a STAGEHOST_STREAM_*, `level` a STAGEHOST_LEVEL_*.
   * Returns OK, or CANCELLED once the run is cancelled: the bytes are still logged (a plugin may
   * say why it stops), and the status tells it to stop producing. May block briefly while the
   * host drains its pipe. */
  stagehost_status (*log_write)(stagehost_host_ctx* ctx, uint32_t stream, uint32_t level,
                                const uint8_t* bytes, size_t len);

  /* Announces an artifact: a file the plugin has ALREADY written and closed under the run's
   * artifact_dir. `rel_path` is relative to artifact_dir; `name` is a short human label (may be
   * empty); `media_type` an IANA type such as "application/xml" (may be empty). The host resolves
   * the path, refuses anything outside artifact_dir (.., absolute paths, symlinks leading out),
   * and anything but a regular file, then records its size and SHA-256 itself.
   * Returns OK, BAD_CONFIG for a refused path (the message explains through the log), or
   * CANCELLED. */
  stagehost_status (*artifact_emit)(stagehost_host_ctx* ctx, stagehost_str rel_path,
                                    stagehost_str name, stagehost_str media_type);

  /* Reports progress, 0..1000 per mille, with a short message. Advisory; rate-limited by the
   * host. */
  stagehost_status (*progress)(stagehost_host_ctx* ctx, uint32_t permille, stagehost_str message);

  /* Sets a small structured output: `key` matches [A-Za-z0-9_.-]+, `json` is one JSON value.
   * Setting a key again replaces it. Returns BAD_CONFIG for an invalid key or JSON text. */
  stagehost_status (*set_output)(stagehost_host_ctx* ctx, stagehost_str key, stagehost_str json);

  /* Non-zero once the run has been cancelled or has timed out. Cheap and lock-free: poll it in
   * loops. */
  int (*is_cancelled)(stagehost_host_ctx* ctx);
  /* New callbacks are appended here only (minor version bump). */
} stagehost_host_api;

/* What a run receives. Owned by the host; valid during run() only. */
typedef struct stagehost_run_input {
  uint32_t struct_size;
  stagehost_str workspace_dir; /* absolute; the project checkout, read-write */
  stagehost_str artifact_dir;  /* absolute; an existing directory owned by this run */
  uint64_t deadline_unix_ms;   /* 0 = none; the host enforces it anyway, see ISOLATION */
  const stagehost_str* env;    /* "KEY=VALUE" entries: the job's environment */
  size_t env_count;
  /* New members are appended here only. */
} stagehost_run_input;

/* Creates an instance from a configuration the host has already validated against
 * config_schema_json (JSON text, at least "{}"). On failure returns NULL and fills `err`; the
 * status is then taken from err->code when it is a stagehost_status value other than OK (use
 * STAGEHOST_BAD_CONFIG for unusable config), PLUGIN_ERROR otherwise. */
typedef stagehost_instance* (*stagehost_create_fn)(const stagehost_host_api* host,
                                                   stagehost_host_ctx* ctx,
                                                   stagehost_str config_json, stagehost_error* err);
/* Runs the stage once. Returns OK (passed), STAGE_FAILED (the project failed), or an error status
 * with `err` filled. */
typedef stagehost_status (*stagehost_run_fn)(stagehost_instance* instance,
                                             const stagehost_run_input* input,
                                             stagehost_error* err);
/* Asks a running stage to stop soon. Any thread; must only set a flag. Optional (may be NULL):
 * the host then relies on is_cancelled() and, after a grace period, on signals. */
typedef void (*stagehost_request_cancel_fn)(stagehost_instance* instance);
/* Frees the instance. Joins every plugin thread before returning. */
typedef void (*stagehost_destroy_fn)(stagehost_instance* instance);

/* The plugin's identity and entry points. Constant; lives as long as the library is loaded. */
typedef struct stagehost_plugin_descriptor {
  uint32_t struct_size; /* sizeof(stagehost_plugin_descriptor) as compiled by the plugin */
  uint16_t abi_major;   /* STAGEHOST_ABI_MAJOR the plugin was compiled against */
  uint16_t abi_minor;   /* STAGEHOST_ABI_MINOR the plugin was compiled against */
  const char* name;     /* required; unique per host; matches [a-z0-9][a-z0-9._-]* */
  const char* version;  /* required; the plugin's own semantic version, e.g. "1.4.0" */
  stagehost_stage_type stage_type; /* required */
  const char* description;         /* required, non-empty; one line */
  const char* vendor;              /* required, non-empty */
  const char* license;             /* required, non-empty; SPDX expression */
  /* Required: JSON Schema (draft-07) of the configuration object, as JSON text. Top-level and
   * nested object schemas that list "properties" and say nothing of "additionalProperties" are
   * closed by the host: unknown keys are errors. A plugin that takes no configuration declares
   * {"type": "object", "properties": {}} (the schema {} would accept anything). */
  const char* config_schema_json;
  stagehost_create_fn create;                 /* required */
  stagehost_run_fn run;                       /* required */
  stagehost_request_cancel_fn request_cancel; /* optional */
  stagehost_destroy_fn destroy;               /* required */
  /* New members are appended here only (minor version bump). */
} stagehost_plugin_descriptor;

/* The one exported symbol. Returns the descriptor, or NULL when the plugin cannot serve a host of
 * this ABI version. Called once per process, before anything else; must not call back. */
typedef const stagehost_plugin_descriptor* stagehost_plugin_entry_fn(uint16_t host_abi_major,
                                                                     uint16_t host_abi_minor);

#define STAGEHOST_PLUGIN_ENTRY_SYMBOL "stagehost_plugin_entry"

/* Declared here with default visibility so that a plugin built with -fvisibility=hidden still
 * exports its definition. The host never defines it. */
STAGEHOST_EXPORT const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                                           uint16_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STAGEHOST_PLUGIN_ABI_H_ */
