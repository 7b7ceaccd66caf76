/* missing_entry: a perfectly good descriptor, but no stagehost_plugin_entry is exported (the
 * entry point is misspelled, and the SDK's version script hides everything else).
 * Expected: "not a stagehost plugin: no stagehost_plugin_entry symbol". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "missing-entry: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "missing-entry", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_ok, NULL);

__attribute__((visibility("default"))) const stagehost_plugin_descriptor* stagehost_plugin_entri(
    uint16_t host_abi_major, uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
