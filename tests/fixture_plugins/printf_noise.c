/* printf_noise: writes straight to fds 1 and 2 (printf, fprintf, write), including text that looks
 * like a protocol frame, and also logs through the callback. The worker's fds 1/2 are a raw output
 * stream to the host, so none of this may corrupt the host<->worker channel; all of it reaches
 * stagehost's stdout (the raw fd 2 text may also land on stagehost's stderr). Returns OK. */
#include <unistd.h>

#include "fixture_common.h"

static void write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n <= 0) return;
    data += n;
    len -= (size_t)n;
  }
}

static stagehost_status run_noise(stagehost_instance* handle, const stagehost_run_input* input,
                                  stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  (void)input;
  (void)err;
  printf("printf-noise: raw stdout via printf\n");
  printf("{\"type\":\"RESULT\",\"status\":\"failed\"}\n");
  fflush(stdout);
  fprintf(stderr, "printf-noise: raw stderr via fprintf\n");
  fflush(stderr);
  static const char kFrameLike[] = "\x00\x00\x00\x10\x07RESULT{\"status\":3}\n";
  write_all(1, kFrameLike, sizeof(kFrameLike) - 1);
  static const char kWrite1[] = "printf-noise: raw stdout via write(1)\n";
  write_all(1, kWrite1, sizeof(kWrite1) - 1);
  static const char kWrite2[] = "printf-noise: raw stderr via write(2)\n";
  write_all(2, kWrite2, sizeof(kWrite2) - 1);
  fixture_log(instance, "printf-noise: via the log callback\n");
  /* Left in stdio's buffer on purpose: only flushed if the worker exits through exit(). */
  printf("printf-noise: unflushed tail\n");
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "printf-noise", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_noise, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
