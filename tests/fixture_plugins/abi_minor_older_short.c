/* abi_minor_older_short: a hand-written descriptor that declares exactly the ABI 1.0 layout, as a
 * plugin built against the oldest header of this major would. It must load and run: the host may
 * read no member beyond struct_size (under ASan a read past this global object is reported). */
#include <stddef.h>

#include "fixture_common.h"

/* The ABI 1.0 descriptor, spelled out member by member instead of taken from the header. */
typedef struct descriptor_v1_0 {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* name;
  const char* version;
  stagehost_stage_type stage_type;
  const char* description;
  const char* vendor;
  const char* license;
  const char* config_schema_json;
  stagehost_create_fn create;
  stagehost_run_fn run;
  stagehost_request_cancel_fn request_cancel;
  stagehost_destroy_fn destroy;
} descriptor_v1_0;

#define V1_0_SIZE (offsetof(descriptor_v1_0, destroy) + sizeof(stagehost_destroy_fn))

_Static_assert(V1_0_SIZE <= sizeof(stagehost_plugin_descriptor),
               "the 1.0 layout is a prefix of the current descriptor");

FIXTURE_DEFINE_OK_RUN(run_ok, "abi-minor-older-short: ran with a 1.0-sized descriptor")

static const descriptor_v1_0 descriptor = {
    (uint32_t)V1_0_SIZE,
    1,
    0,
    "abi-minor-older-short",
    "0.9.1",
    STAGEHOST_STAGE_UNIT_TEST,
    "stagehost fixture: abi-minor-older-short",
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
  return (const stagehost_plugin_descriptor*)&descriptor;
}
