/* segv_in_run: dereferences NULL inside run(). The worker dies by SIGSEGV; the host must survive
 * and report "plugin crashed: SIGSEGV". */
#include "fixture_common.h"

static stagehost_status run_segv(stagehost_instance* handle, const stagehost_run_input* input,
                                 stagehost_error* err) {
  (void)input;
  (void)err;
  fixture_log((fixture_instance*)handle, "segv-in-run: about to dereference NULL\n");
  /* Through a volatile pointer the compiler cannot prove NULL, so it emits a real store (a
   * literal NULL store may be turned into a trap instruction, i.e. SIGILL). */
  int* volatile target = NULL;
  *target = 42;
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "segv-in-run", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_segv, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
