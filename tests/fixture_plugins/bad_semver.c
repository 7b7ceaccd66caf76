/* bad_semver: version "1.x" is not semver. Expected: invalid plugin version "1.x". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "bad-semver: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "bad-semver", "1.x",
                   FIXTURE_SCHEMA, fixture_create, run_ok, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
