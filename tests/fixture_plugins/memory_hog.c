/* memory_hog: allocates and touches 2 GiB in 64 MiB steps. Without a limit it passes. Under
 * `--memory-limit` either malloc fails (RLIMIT_AS) and it returns PLUGIN_ERROR saying
 * "out of memory after N MiB", or the kernel kills the worker (cgroup), which the host must report
 * as a memory problem itself. */
#include <unistd.h>

#include "fixture_common.h"

#define STEP (64ul * 1024ul * 1024ul)
#define STEPS 32

static stagehost_status run_hog(stagehost_instance* handle, const stagehost_run_input* input,
                                stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  (void)input;
  void* blocks[STEPS] = {0};
  long page = sysconf(_SC_PAGESIZE);
  stagehost_status status = STAGEHOST_OK;
  for (int i = 0; i < STEPS; ++i) {
    char* block = (char*)malloc(STEP);
    if (block == NULL) {
      char line[256];
      snprintf(line, sizeof(line), "out of memory after %lu MiB (malloc returned NULL)",
               (unsigned long)i * 64ul);
      fixture_fail(err, line);
      status = STAGEHOST_PLUGIN_ERROR;
      break;
    }
    for (unsigned long off = 0; off < STEP; off += (unsigned long)page) block[off] = (char)(i + 1);
    blocks[i] = block;
  }
  if (status == STAGEHOST_OK) fixture_log(instance, "memory-hog: touched 2 GiB\n");
  for (int i = 0; i < STEPS; ++i) free(blocks[i]);
  return status;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "memory-hog", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_hog, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
