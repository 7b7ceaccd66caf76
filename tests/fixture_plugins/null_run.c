/* null_run: required member run is NULL. Expected: "descriptor member 'run' is NULL". */
#include "fixture_common.h"

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "null-run", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, NULL, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
