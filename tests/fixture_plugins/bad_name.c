/* bad_name: a name outside [a-z0-9][a-z0-9._-]*. Expected: invalid plugin name "Bad Name!". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "bad-name: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "Bad Name!", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
