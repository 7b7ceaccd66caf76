/* log_flood: writes 200 MiB through log_write in 64 KiB chunks of mixed bytes -- NULs, control
 * characters, invalid UTF-8 (lone continuation bytes, truncated sequences, 0xFE/0xFF) -- and no
 * newline at all, then returns OK. The host must cap the log (one "log truncated" notice) and keep
 * its memory bounded. Stops early if log_write says CANCELLED. */
#include "fixture_common.h"

#define CHUNK_SIZE (64u * 1024u)
#define TOTAL_SIZE (200ull * 1024u * 1024u)

static stagehost_status run_flood(stagehost_instance* handle, const stagehost_run_input* input,
                                  stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  (void)input;
  static const uint8_t kInvalidUtf8[] = {0xC3, 0x28, 0x80, 0xBF, 0xE2,
                                         0x82, 0xFE, 0xFF, 0xF0, 0x9F};
  uint8_t* chunk = (uint8_t*)malloc(CHUNK_SIZE);
  if (chunk == NULL) {
    fixture_fail(err, "log-flood: cannot allocate a chunk");
    return STAGEHOST_PLUGIN_ERROR;
  }
  const char* ascii = "log-flood: mixed bytes follow ";
  size_t ascii_len = strlen(ascii);
  for (size_t i = 0; i < CHUNK_SIZE; ++i) {
    uint8_t byte;
    switch (i % 7) {
      case 0:
      case 1:
      case 2:
        byte = (uint8_t)ascii[i % ascii_len];
        break;
      case 3:
        byte = kInvalidUtf8[(i / 7) % sizeof(kInvalidUtf8)];
        break;
      case 4:
        byte = (uint8_t)(i & 0xFF);
        break;
      default:
        byte = (uint8_t)('a' + (i % 26));
        break;
    }
    if (byte == '\n') byte = 0xFF; /* no newline anywhere */
    chunk[i] = byte;
  }
  unsigned long long written = 0;
  while (written < TOTAL_SIZE) {
    stagehost_status status = instance->api->log_write(instance->ctx, STAGEHOST_STREAM_STDOUT,
                                                       STAGEHOST_LEVEL_INFO, chunk, CHUNK_SIZE);
    if (status == STAGEHOST_CANCELLED) {
      free(chunk);
      fixture_fail(err, "log-flood: cancelled");
      return STAGEHOST_CANCELLED;
    }
    written += CHUNK_SIZE;
  }
  free(chunk);
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "log-flood", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_flood, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
