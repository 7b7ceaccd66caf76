/* abi_major_mismatch: built against ABI major + 1. The host must refuse it before create(), naming
 * both versions: "plugin needs ABI 2.0, host provides 1.0: major versions differ". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "abi-major-mismatch: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR + 1, 0, "abi-major-mismatch", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
