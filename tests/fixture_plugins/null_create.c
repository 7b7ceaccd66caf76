/* null_create: required member create is NULL. Expected: "descriptor member 'create' is NULL". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "null-create: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "null-create", "1.0.0",
                   FIXTURE_SCHEMA, NULL, run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
