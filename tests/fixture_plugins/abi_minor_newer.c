/* abi_minor_newer: built against ABI minor + 1, with the (hypothetical) longer descriptor such a
 * plugin would have. The host is too old for it and must refuse it:
 * "plugin needs ABI 1.1, host provides 1.0: host minor too old". */
#include "fixture_common.h"

FIXTURE_DEFINE_OK_RUN(run_ok, "abi-minor-newer: run must never be called")

/* What a 1.1 descriptor could look like: the 1.0 layout plus a member appended at the end. */
typedef struct descriptor_v1_1 {
  stagehost_plugin_descriptor v1_0;
  void (*future_callback)(void);
} descriptor_v1_1;

static const descriptor_v1_1 descriptor = {
    {
        sizeof(descriptor_v1_1),
        STAGEHOST_ABI_MAJOR,
        STAGEHOST_ABI_MINOR + 1,
        "abi-minor-newer",
        "1.0.0",
        STAGEHOST_STAGE_UNIT_TEST,
        "stagehost fixture: abi-minor-newer",
        FIXTURE_VENDOR,
        FIXTURE_LICENSE,
        FIXTURE_SCHEMA,
        fixture_create,
        run_ok,
        NULL,
        fixture_destroy,
    },
    NULL,
};

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor.v1_0;
}
