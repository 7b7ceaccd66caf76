// throws_raw: a C++ plugin written against the raw C ABI (no SDK) whose run() lets an exception
// escape through the C boundary. That is undefined behaviour by the ABI's rules; in the worker it
// ends in std::terminate (SIGABRT) and the host must report "plugin crashed: SIGABRT".
#include <stdexcept>

#include "fixture_common.h"

namespace {

stagehost_status RunThrows(stagehost_instance* handle, const stagehost_run_input* /*input*/,
                           stagehost_error* /*err*/) {
  fixture_log(reinterpret_cast<fixture_instance*>(handle), "throws-raw: throwing from run\n");
  throw std::runtime_error("throws-raw: exception escaped through the C ABI");
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "throws-raw", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, RunThrows, nullptr);

}  // namespace

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
