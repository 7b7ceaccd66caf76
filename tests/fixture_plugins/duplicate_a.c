/* duplicate_a: one of two plugins named "dup", each in its own fixture folder. With both folders
 * on STAGEHOST_PLUGIN_PATH the host keeps the first one found and refuses the other:
 * duplicate plugin name "dup". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "dup: I am duplicate_a")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "dup", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
