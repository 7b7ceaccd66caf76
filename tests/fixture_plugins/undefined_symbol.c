/* undefined_symbol: references a function no library defines. Linked without -z defs (see
 * CMakeLists.txt) but with -z now, so loading with RTLD_NOW fails in dlopen with dlerror's
 * "undefined symbol: stagehost_fixture_no_such_function" instead of crashing mid-run. */
#include "fixture_common.h"

extern int stagehost_fixture_no_such_function(int);

static stagehost_status run_calls_missing(stagehost_instance* handle,
                                          const stagehost_run_input* input, stagehost_error* err) {
  (void)handle;
  (void)input;
  (void)err;
  return stagehost_fixture_no_such_function(1) == 0 ? STAGEHOST_OK : STAGEHOST_STAGE_FAILED;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "undefined-symbol",
                   "1.0.0", FIXTURE_SCHEMA, fixture_create, run_calls_missing, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
