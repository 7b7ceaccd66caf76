/* cooperative_cancel: loops polling is_cancelled() (and its own request_cancel flag) every 10 ms
 * and returns STAGEHOST_CANCELLED promptly once either is set. Gives up after 60 s. */
#include "fixture_common.h"

static stagehost_status run_until_cancelled(stagehost_instance* handle,
                                            const stagehost_run_input* input,
                                            stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  (void)input;
  fixture_log(instance, "cooperative-cancel: waiting for a cancel request\n");
  for (int i = 0; i < 6000; ++i) {
    if (fixture_cancelled(instance)) {
      fixture_log(instance, "cooperative-cancel: cancel seen, stopping\n");
      fixture_fail(err, "cooperative-cancel: stopped on request");
      return STAGEHOST_CANCELLED;
    }
    fixture_sleep_ms(10);
  }
  fixture_log(instance, "cooperative-cancel: no cancel request within 60 s\n");
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "cooperative-cancel",
                   "1.0.0", FIXTURE_SCHEMA, fixture_create, run_until_cancelled,
                   fixture_request_cancel);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
