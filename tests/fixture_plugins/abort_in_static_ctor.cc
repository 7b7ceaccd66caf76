// abort_in_static_ctor: a C++ static object whose constructor calls abort(), i.e. the plugin dies
// inside dlopen() before any ABI function is reached. This is why dlopen belongs in the worker:
// the host must report "plugin crashed while loading: SIGABRT" and survive.
#include <cstdlib>

#include "fixture_common.h"

namespace {

struct AbortOnLoad {
  AbortOnLoad() { std::abort(); }
};

AbortOnLoad abort_on_load;

FIXTURE_DEFINE_OK_RUN(run_ok, "abort-in-static-ctor: run must never be called")

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "abort-in-static-ctor",
                   "1.0.0", FIXTURE_SCHEMA, fixture_create, run_ok, nullptr);

}  // namespace

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
