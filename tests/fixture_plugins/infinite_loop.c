/* infinite_loop: never returns from run(). It ignores is_cancelled(), has no request_cancel, and
 * ignores SIGTERM (so only the host's final SIGKILL stops it). It also forks a grandchild that
 * stays in the worker's process group, and writes "<worker pid> <grandchild pid>\n" to
 * <workspace>/infinite_loop.pids so a test can check that the whole group is gone afterwards.
 *
 * Safety net for a broken host: both processes give up on their own after 120 s. */
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "fixture_common.h"

#define GIVE_UP_AFTER_S 120

static void ignore_signal(int sig) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, NULL);
}

static stagehost_status run_forever(stagehost_instance* handle, const stagehost_run_input* input,
                                    stagehost_error* err) {
  fixture_instance* instance = (fixture_instance*)handle;
  (void)err;
  ignore_signal(SIGTERM);
  ignore_signal(SIGINT);
  ignore_signal(SIGHUP);

  pid_t grandchild = fork();
  if (grandchild == 0) {
    /* Only async-signal-safe calls from here: the worker may have had other threads. */
    for (int i = 0; i < GIVE_UP_AFTER_S * 10; ++i) {
      struct timespec ts = {0, 100 * 1000000L};
      nanosleep(&ts, NULL);
    }
    _exit(0);
  }

  char path[4096];
  char workspace[4000];
  fixture_copy_str(input->workspace_dir, workspace, sizeof(workspace));
  snprintf(path, sizeof(path), "%s/infinite_loop.pids", workspace);
  FILE* out = fopen(path, "w");
  if (out != NULL) {
    fprintf(out, "%ld %ld\n", (long)getpid(), (long)grandchild);
    fclose(out);
  }
  fixture_log(instance, "infinite-loop: looping forever, ignoring cancel and SIGTERM\n");

  time_t start = time(NULL);
  volatile unsigned long spins = 0;
  while (time(NULL) - start < GIVE_UP_AFTER_S) {
    /* Mostly sleeping: the point is ignoring cancel, not burning the CI machine's CPU. */
    for (int i = 0; i < 100000; ++i) spins = spins + 1;
    fixture_sleep_ms(1);
  }
  return STAGEHOST_OK;
}

FIXTURE_DESCRIPTOR(descriptor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR, "infinite-loop", "1.0.0",
                   FIXTURE_SCHEMA, fixture_create, run_forever, NULL);

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return &descriptor;
}
