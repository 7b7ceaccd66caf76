/* struct_size_small: struct_size = 8 covers only the version fields. The host must not read the
 * rest. Expected: "descriptor struct_size 8 is smaller than the ABI 1.0 layout". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "struct-size-small: run must never be called")

static const stagehost_plugin_descriptor descriptor = {
    8,
    STAGEHOST_ABI_MAJOR,
    STAGEHOST_ABI_MINOR,
    "struct-size-small",
    "1.0.0",
    STAGEHOST_STAGE_UNIT_TEST,
    "stagehost fixture: struct-size-small",
    FIXTURE_VENDOR,
    FIXTURE_LICENSE,
    FIXTURE_SCHEMA,
    fixture_create,
    run_ok,
    NULL,
    fixture_destroy,
};

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
