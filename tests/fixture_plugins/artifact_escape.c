/* artifact_escape: tries to announce artifacts the host must refuse, and one it must accept:
 *   ../escape.txt      a real file, but outside the artifact dir        -> path escapes ...
 *   /etc/passwd        absolute path                                    -> path escapes ...
 *   link-out           symlink inside the dir pointing to /etc/passwd   -> path escapes ...
 *   up/escape.txt      through a symlinked directory up -> ..           -> path escapes ...
 *   pipe.fifo          a FIFO (opening it for reading would block)      -> not a regular file
 *   legit.txt          a regular file with known content                -> accepted
 * Logs "artifact-escape: emit <path>: status <n>" for each call and returns OK. */
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_common.h"

#define LEGIT_CONTENT "legitimate artifact from artifact_escape\n"

static void write_file(const char* path, const char* content) {
  FILE* out = fopen(path, "w");
  if (out == NULL) return;
  fputs(content, out);
  fclose(out);
}

static stagehost_status emit(fixture_instance* instance, const char* rel_path, const char* name,
                             const char* media_type) {
  stagehost_status status = instance->api->artifact_emit(
      instance->ctx, fixture_str(rel_path), fixture_str(name), fixture_str(media_type));
  char line[512];
  snprintf(line, sizeof(line), "artifact-escape: emit %s: status %d\n", rel_path, (int)status);
  fixture_log(instance, line);
  return status;
}

static stagehost_status run_escape(stagehost_instance* handle, const stagehost_run_input* input,
                                   stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  char dir[3800];
  char path[4096];
  fixture_copy_str(input->artifact_dir, dir, sizeof(dir));

  snprintf(path, sizeof(path), "%s/../escape.txt", dir);
  write_file(path, "outside the artifact directory\n");
  snprintf(path, sizeof(path), "%s/link-out", dir);
  unlink(path);
  if (symlink("/etc/passwd", path) != 0) {
    fixture_fail(err, "artifact-escape: symlink failed");
    return STAGEHOST_PLUGIN_ERROR;
  }
  snprintf(path, sizeof(path), "%s/up", dir);
  unlink(path);
  if (symlink("..", path) != 0) {
    fixture_fail(err, "artifact-escape: symlink failed");
    return STAGEHOST_PLUGIN_ERROR;
  }
  snprintf(path, sizeof(path), "%s/pipe.fifo", dir);
  unlink(path);
  if (mkfifo(path, 0600) != 0) {
    fixture_fail(err, "artifact-escape: mkfifo failed");
    return STAGEHOST_PLUGIN_ERROR;
  }
  snprintf(path, sizeof(path), "%s/legit.txt", dir);
  write_file(path, LEGIT_CONTENT);

  emit(instance, "../escape.txt", "escape", "text/plain");
  emit(instance, "/etc/passwd", "passwd", "text/plain");
  emit(instance, "link-out", "link", "text/plain");
  emit(instance, "up/escape.txt", "up", "text/plain");
  emit(instance, "pipe.fifo", "fifo", "application/octet-stream");
  emit(instance, "legit.txt", "legit", "text/plain");
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "artifact-escape", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_escape, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
