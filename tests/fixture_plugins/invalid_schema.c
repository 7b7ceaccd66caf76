/* invalid_schema: config_schema_json is not JSON at all. Expected: "invalid config schema". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "invalid-schema: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "invalid-schema", "1.0.0",
                   "{\"type\": \"object\", \"properties\": {\"x\": {\"type\": ", fixture_create,
                   run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
