"""The native runner against the fake GitLab: job flow, trace rules and reliability.md faults.

Each test checks reliability.md §1: the server's trace equals what the job printed, masked (no
byte lost), accepted ranges are contiguous (none duplicated), one correct final state, bounded
request counts (check_job) and bounded memory (conftest's runner_process checks every runner's
peak RSS). The fake records protocol violations; every test asserts there are none."""

import os
import re
import signal
import stat
import subprocess
import time
import tomllib

import pytest

from conftest import SANITIZED, STAGEHOST, peak_rss_mib, wait_until, write_config
from fake_gitlab import FakeGitLab, assert_ranges_contiguous

TOKEN = "glrt-test-runner-token"
STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z 00O ", re.M)
SECTION = re.compile(rb"section_(start|end):\d+:")


@pytest.fixture
def fake():
    with FakeGitLab(interval="1") as server:
        server.add_runner(TOKEN)
        yield server


def enqueue(fake, *args, **kwargs):
    return fake.job(fake.enqueue_job(*args, **kwargs))


def check_job(fake, job, state="success"):
    final = fake.wait_final(job, timeout=60)
    assert final is not None, "no final state"
    assert final["state"] == state, final
    assert len(job.finals) == 1
    assert fake.check() == []
    assert_ranges_contiguous(job)
    assert job.after_terminal == 0, "requests after the final state"
    assert_no_request_flood(job)
    return final


def assert_no_request_flood(job):
    """Bounded request counts: updates tick every >= 200 ms, retries back off from 200 ms, and a
    PATCH carries up to 1 MiB, so a job makes a few requests a second at most; a hot loop makes
    hundreds."""
    seconds = job.final_updates[-1]["time"] - job.history[0][0]
    bound = 10 + 6 * seconds + job.trace_length / 65536
    requests = job.patch_count + job.put_count
    assert requests <= bound, f"{requests} requests in {seconds:.1f} s (bound {bound:.0f})"


def plain(job):
    """The trace without per-line stamps and section times: what the job printed, masked."""
    return SECTION.sub(rb"section_\1:T:", STAMP.sub(b"", bytes(job.trace)))


def start(fake, tmp_path, runner_process, once=True, **options):
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, **options)
    return runner_process(config, once=once)


def test_register_verifies_writes_0600_and_never_prints_the_token(fake, tmp_path):
    config = tmp_path / "etc" / "config.toml"
    done = subprocess.run([STAGEHOST, "gitlab", "register", "--url", fake.url, "--token", TOKEN,
                           "--config", str(config), "--name", "gpu-1"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    written = tomllib.loads(config.read_text())
    assert written["concurrent"] >= 1
    assert written["runners"][0]["name"] == "gpu-1"
    assert written["runners"][0]["token"] == TOKEN and written["runners"][0]["id"] > 0
    bad = subprocess.run([STAGEHOST, "gitlab", "register", "--url", fake.url, "--token",
                          "glrt-unknown-token", "--config", str(tmp_path / "x.toml")],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "403" in bad.stderr and "glrt-unknown" not in bad.stderr
    legacy = subprocess.run([STAGEHOST, "gitlab", "register", "--url", fake.url, "--token",
                             "GR1348941abc", "--config", str(tmp_path / "y.toml")],
                            capture_output=True, text=True, timeout=30)
    assert legacy.returncode == 2 and "glrt-" in legacy.stderr


def test_job_runs_script_and_after_script_with_masked_sections(fake, tmp_path, runner_process):
    secret = "s3cr3t-Value-42x"
    job = enqueue(fake, 
        ["echo \"value=$MY_SECRET\"", "echo token glpat-AbCdEf123456", "echo dir=$CI_PROJECT_DIR",
         "printf 'no newline'"],
        after_script=["echo after $CI_JOB_ID"],
        variables=[{"key": "MY_SECRET", "value": secret, "public": False, "masked": True}])
    runner = start(fake, tmp_path, runner_process)
    assert runner.wait() == 0, runner.log()
    final = check_job(fake, job)
    assert final["output"]["bytesize"] == len(job.trace)
    text = plain(job)
    assert secret.encode() not in bytes(job.trace)
    assert job.token.encode() not in bytes(job.trace)
    assert b"value=[MASKED]\n" in text
    assert b"token glpat-[MASKED]\n" in text
    assert f"dir={tmp_path / 'builds' / 'group/demo'}".encode() in text
    assert f"after {job.id}\n".encode() in text
    for name in (b"prepare_executor", b"get_sources", b"step_script", b"after_script"):
        assert b"section_start:T:" + name in text and b"section_end:T:" + name in text
    assert STAMP.match(bytes(job.trace)), "lines carry timestamps"
    assert TOKEN not in runner.log()


def test_script_failure_reports_exit_code_and_still_runs_after_script(fake, tmp_path, runner_process):
    job = enqueue(fake, ["echo before", "exit 7", "echo never"], after_script=["echo cleanup"])
    runner = start(fake, tmp_path, runner_process)
    runner.wait()
    final = check_job(fake, job, state="failed")
    assert final["failure_reason"] == "script_failure" and final["exit_code"] == 7
    text = plain(job)
    assert b"before\n" in text and b"never\n" not in text and b"cleanup\n" in text


def test_live_trace_arrives_while_the_job_runs(fake, tmp_path, runner_process):
    job = enqueue(fake, ["for i in $(seq 1 20); do echo tick $i; sleep 0.1; done"])
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    wait_until(lambda: b"tick 5\n" in bytes(job.trace), timeout=20)
    assert not job.finals, "the first lines arrived before the job ended"
    runner.wait()
    check_job(fake, job)
    assert re.findall(rb"^tick (\d+)$", plain(job), re.M) == [str(i).encode() for i in range(1, 21)]


def test_r1_5xx_burst_and_random_errors_lose_nothing(fake, tmp_path, runner_process):
    script = ["for i in $(seq 1 60); do echo line $i; sleep 0.1; done"]
    # The same job without faults first: how many requests it needs.
    calm = enqueue(fake, script)
    start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2).wait(timeout=60)
    check_job(fake, calm)
    calm_requests = len(fake.requests_for(job_id=calm.id))

    job = enqueue(fake, script)
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    wait_until(lambda: b"line 3" in bytes(job.trace), timeout=20)
    fake.burst(4, then_random=0.2)
    burst_end = time.monotonic() + 4
    runner.wait(timeout=60)
    check_job(fake, job)
    rows = re.findall(rb"^line (\d+)$", plain(job), re.M)
    assert [int(r) for r in rows] == list(range(1, 61))
    after = [t for t, m, p, s in fake.requests if m == "PATCH" and s == 202 and t > burst_end]
    assert after and after[0] - burst_end <= 5, "caught up within 5 s of the burst"
    requests = len(fake.requests_for(job_id=job.id))
    assert requests <= 2 * calm_requests, f"{requests} requests, {calm_requests} without faults"


def test_r2_retry_after_is_honoured(fake, tmp_path, runner_process):
    fake.script("trace", {"status": 429, "headers": {"Retry-After": "2"}})
    job = enqueue(fake, ["echo first", "sleep 3", "echo second"])
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    runner.wait()
    check_job(fake, job)
    times = [t for t, method, path, status in fake.requests if method == "PATCH"]
    refused = [t for t, method, path, status in fake.requests if status == 429]
    assert len(refused) == 1
    later = [t for t in times if t > refused[0]]
    assert later and later[0] - refused[0] >= 1.9, "a request came before Retry-After expired"


def test_r3_r4_416_in_both_directions(fake, tmp_path, runner_process):
    # R3: the server lost its tail (shorter Range); R4: a PATCH was applied but its answer lost.
    fake.script("trace", "pass", {"lose_tail": 10}, "commit_drop")
    job = enqueue(fake, ["for i in $(seq 1 30); do echo row $i; sleep 0.05; done"])
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    runner.wait()
    check_job(fake, job)
    rows = re.findall(rb"^row (\d+)$", plain(job), re.M)
    assert [int(r) for r in rows] == list(range(1, 31))


def test_r6_stalled_request_times_out_and_recovers(fake, tmp_path, runner_process):
    fake.script("trace", {"stall": 30})
    job = enqueue(fake, ["echo one", "sleep 1", "echo two"])
    began = time.monotonic()
    runner = start(fake, tmp_path, runner_process, request_idle_timeout_seconds=2,
                   trace_interval_initial_seconds=0.2)
    runner.wait(timeout=60)
    check_job(fake, job)
    assert time.monotonic() - began < 20, "recovered well before the stall ended"
    assert b"one\n" in plain(job) and b"two\n" in plain(job)


def open_fds_and_threads(pid):
    with open(f"/proc/{pid}/status") as f:
        threads = int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))
    return len(os.listdir(f"/proc/{pid}/fd")), threads


def test_r6_ten_stalls_leak_no_connection_or_thread(fake, tmp_path, runner_process):
    # Ten trace PATCHes of two concurrent jobs stall (a success between them keeps the backoff
    # short); each times out, and afterwards the idle runner holds no more descriptors or threads
    # than before the jobs.
    fake.script("trace", [{"action": "stall", "stall": 3}, "pass"] * 10)
    fake.set_interval("0.2")  # a PATCH every 0.2 s while output flows
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, concurrent=2,
                          request_idle_timeout_seconds=1, trace_interval_initial_seconds=0.2)
    runner = runner_process(config, once=False)
    wait_until(lambda: fake.count("request") >= 2, timeout=20)
    fds_before, threads_before = open_fds_and_threads(runner.proc.pid)
    jobs = [enqueue(fake, ["for i in $(seq 1 150); do echo line $i; sleep 0.1; done"])
            for _ in range(2)]
    for job in jobs:
        check_job(fake, job)
        assert [int(n) for n in re.findall(rb"^line (\d+)$", plain(job), re.M)] == \
            list(range(1, 151))
    # The server hangs up a stalled request 3 s after it began (the runner gave up before).
    wait_until(lambda: [r.status for r in fake.requests_for("trace")].count("stall") == 10,
               timeout=10)
    # Job threads and an extra poller end shortly after the final states; a leak never does.
    # One more descriptor is allowed for a kept-alive connection.
    def settled():
        fds, threads = open_fds_and_threads(runner.proc.pid)
        return fds <= fds_before + 1 and threads <= threads_before
    try:
        wait_until(settled, timeout=5, interval=0.1)
    except AssertionError:
        raise AssertionError(f"before: {(fds_before, threads_before)} fds/threads, "
                             f"after: {open_fds_and_threads(runner.proc.pid)}") from None
    runner.signal(signal.SIGQUIT)
    assert runner.wait(timeout=30) == 0


def test_r8_outage_across_job_end_still_reports(fake, tmp_path, runner_process):
    job = enqueue(fake, ["echo start", "sleep 1", "echo end"])
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    wait_until(lambda: b"start" in bytes(job.trace), timeout=20)
    fake.outage(6)
    back = time.monotonic() + 6
    runner.wait(timeout=90)
    check_job(fake, job)
    assert b"end\n" in plain(job)
    caught_up = job.final_updates[-1]["time"] - back
    assert caught_up <= 30, f"final state {caught_up:.1f} s after the server returned"
    assert any(status == "down" for _, _, _, status in fake.requests)


def test_r10_graceful_cancel_of_a_silent_job(fake, tmp_path, runner_process):
    marker = tmp_path / "term"
    job = enqueue(fake, [f"trap 'echo got-term > {marker}; exit 143' TERM", "echo waiting",
                            "sleep 60 & wait"], after_script=["echo after-cancel"])
    runner = start(fake, tmp_path, runner_process, cancel_check_seconds=1.0)
    wait_until(lambda: b"waiting" in bytes(job.trace), timeout=20)
    time.sleep(0.5)
    asked = time.monotonic()
    fake.cancel(job, graceful=True)
    wait_until(marker.exists, timeout=10)
    latency = time.monotonic() - asked
    assert latency <= 2.5, f"SIGTERM {latency:.2f} s after the cancel"
    runner.wait()
    check_job(fake, job, state="failed")
    assert job.state == "canceled"
    assert b"after-cancel\n" in plain(job)


def test_status_checks_of_many_silent_jobs_share_a_budget(fake, tmp_path, runner_process):
    # 12 silent jobs with a 0.5 s check floor would ask ~24 times a second; capped at 4 a second
    # together, each asks every 12 / 4 = 3 s, and a cancel still lands within that.
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, concurrent=12,
                          cancel_check_seconds=0.5)
    config.write_text("status_checks_per_second = 4\n" + config.read_text())
    marker = tmp_path / "term"
    jobs = [enqueue(fake, ["echo started", "sleep 8"]) for _ in range(11)]
    jobs.append(enqueue(fake, [f"trap 'echo got-term > {marker}; exit 143' TERM",
                               "echo started", "sleep 60 & wait"]))
    runner = runner_process(config, once=False)
    wait_until(lambda: all(b"started" in bytes(job.trace) for job in jobs), timeout=20)
    before = sum(job.heartbeats for job in jobs)
    time.sleep(6)
    checks = sum(job.heartbeats for job in jobs) - before
    assert 12 <= checks <= 4 * 6 * 1.5, f"{checks} status checks in 6 s"
    asked = time.monotonic()
    fake.cancel(jobs[-1], graceful=True)
    wait_until(marker.exists, timeout=10)
    assert time.monotonic() - asked <= 4.5
    for job in jobs[:-1]:
        check_job(fake, job)
    check_job(fake, jobs[-1], state="failed")
    runner.signal(signal.SIGQUIT)
    assert runner.wait(timeout=30) == 0


def test_r9_sigkill_mid_job_then_restart_delivers_the_rest(fake, tmp_path, runner_process):
    # The runner is SIGKILLed while GitLab refuses trace PATCHes, so part of the log exists only
    # in the runner's spool. The restarted runner finds the job in its journal, sends every byte
    # the dead process had spooled, and reports the job failed (runner_system_failure).
    pgid_file = tmp_path / "pgid"
    job = enqueue(fake, [
        f"echo $$ > {pgid_file}",
        "for i in $(seq -w 0 49); do echo L$i; sleep 0.02; done",
        "echo END-OF-PART-1",
        "sleep 60"])
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN)
    first = runner_process(config, once=False)
    wait_until(lambda: b"L10" in bytes(job.trace), timeout=20)
    fake.outage(60, mode=503, endpoints=("trace", "update", "final"))
    journal = tmp_path / "builds" / ".stagehost-journal"
    spool = journal / f"{job.id}.trace"
    wait_until(lambda: spool.exists() and b"END-OF-PART-1" in spool.read_bytes(), timeout=20)
    time.sleep(0.5)
    on_server = len(bytes(job.trace))
    assert on_server < spool.stat().st_size, "the outage should leave bytes only in the spool"
    assert oct(journal.stat().st_mode & 0o777) == "0o700"
    first.signal(signal.SIGKILL)
    first.wait(timeout=10)
    os.killpg(int(pgid_file.read_text()), signal.SIGKILL)  # the orphaned script
    fake.clear_faults()

    second = runner_process(config, once=False)
    final = check_job(fake, job, state="failed")
    assert final["failure_reason"] == "runner_system_failure"
    text = plain(job)
    lines = [line for line in text.split(b"\n") if line.startswith(b"L")]
    assert lines == [b"L%02d" % i for i in range(50)], "every line once, in order"
    assert text.count(b"END-OF-PART-1\n") == 1
    assert b"ended without reporting it" in text
    assert job.token.encode() not in bytes(job.trace)
    wait_until(lambda: not any(journal.iterdir()), timeout=10)
    second.signal(signal.SIGQUIT)
    assert second.wait(timeout=30) == 0


def test_final_state_not_delivered_at_shutdown_is_sent_by_the_next_start(fake, tmp_path,
                                                                         runner_process):
    # SIGTERM during an outage: the job is aborted but its final state cannot be delivered within
    # shutdown_timeout. The journal keeps it, and the next start delivers it.
    job = enqueue(fake, ["echo working", "sleep 60"])
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, shutdown_timeout=2)
    first = runner_process(config, once=False)
    wait_until(lambda: b"working" in bytes(job.trace), timeout=20)
    fake.outage(60, mode=503, endpoints=("trace", "update", "final"))
    first.signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 1
    assert "kept in the journal" in first.log()
    assert not job.finals
    fake.clear_faults()
    second = runner_process(config, once=False)
    final = check_job(fake, job, state="failed")
    assert final["failure_reason"] == "runner_system_failure"
    assert plain(job).count(b"working\n") == 1
    wait_until(lambda: not any((tmp_path / "builds" / ".stagehost-journal").iterdir()), timeout=10)
    second.signal(signal.SIGQUIT)
    assert second.wait(timeout=30) == 0


def test_r10_hard_cancel_and_plain_403_stop_everything(fake, tmp_path, runner_process):
    job = enqueue(fake, ["for i in $(seq 1 200); do echo x $i; sleep 0.05; done"],
                           after_script=["echo should-not-run"])
    runner = start(fake, tmp_path, runner_process, trace_interval_initial_seconds=0.2)
    wait_until(lambda: b"x 3\n" in bytes(job.trace), timeout=20)
    fake.cancel(job, graceful=False)
    assert runner.wait(timeout=30) == 1
    time.sleep(0.5)
    assert not job.finals
    assert job.after_terminal <= 1, "nothing but the request that learned of it"
    assert b"should-not-run" not in bytes(job.trace)


def test_r10_persistent_404_aborts_after_the_horizon(fake, tmp_path, runner_process):
    fake.not_found(60, endpoints=("trace",))
    job = enqueue(fake, ["for i in $(seq 1 100); do echo y $i; sleep 0.1; done"])
    began = time.monotonic()
    runner = start(fake, tmp_path, runner_process, not_found_horizon_seconds=2,
                   trace_interval_initial_seconds=0.2)
    assert runner.wait(timeout=30) == 1
    assert time.monotonic() - began < 9, "aborted after the horizon, not at the job's end"
    assert "404" in runner.log()


def test_r5_reset_mid_body_on_patch_and_final_put(fake, tmp_path, runner_process):
    # The connection is reset after part of a PATCH body (twice), and again on the final PUT:
    # retried like any transport error, every byte arrives once and the final state once.
    fake.script("trace", [{"action": "rst_after", "rst_after": 1000},
                          {"action": "rst_after", "rst_after": 10}])
    fake.script("final", [{"action": "rst"}])
    job = enqueue(fake, ["seq 1 5000"])
    runner = start(fake, tmp_path, runner_process)
    assert runner.wait() == 0, runner.log()
    check_job(fake, job)
    assert [r.status for r in fake.requests_for("trace")].count("rst") == 2
    assert [r.status for r in fake.requests_for("final")].count("rst") == 1
    assert [int(n) for n in re.findall(rb"^(\d+)$", plain(job), re.M)] == list(range(1, 5001))


def test_r7_slow_server_never_blocks_the_job_and_the_spool_absorbs_it(
        fake, tmp_path, runner_process):
    # The server reads trace bodies at 64 KB/s and answers 2 s late; the job prints ~6 MiB at
    # once. The job must not wait for the server, the bytes wait on disk (not in memory), and
    # everything arrives once the server is fast again.
    fake.throttle(bytes_per_second=65536, latency=2, endpoints=["trace"])
    started, elapsed = tmp_path / "started", tmp_path / "elapsed-ms"
    job = enqueue(fake, [f"touch {started}; sleep 0.5", "s=$(date +%s%N); seq 1 900000",
                         f"echo $(( ($(date +%s%N) - s) / 1000000 )) > {elapsed}"])
    runner = start(fake, tmp_path, runner_process, timestamps=False, _entry={"output_limit": 16384})
    wait_until(started.exists, timeout=30)
    before = peak_rss_mib(runner.proc.pid)
    wait_until(elapsed.exists, timeout=30)
    time.sleep(0.5)  # the job has ended; the runner is still draining its pipe into the spool
    assert int(elapsed.read_text()) < 3000, "the job waited for the slow server"
    assert job.trace_length < 1 << 20, "the server cannot have taken 6 MiB at 64 KB/s"
    growth = peak_rss_mib(runner.proc.pid) - before
    # (AddressSanitizer's quarantine keeps freed buffers resident, so RSS says nothing there.)
    assert growth <= 4 or SANITIZED, f"RSS grew {growth:.1f} MiB: the trace is held in memory"
    fake.throttle()
    assert runner.wait(timeout=60) == 0, runner.log()
    check_job(fake, job)
    assert [int(n) for n in re.findall(rb"^(\d+)$", plain(job), re.M)] == list(range(1, 900001))


def test_r11_412_resends_the_whole_trace(fake, tmp_path, runner_process):
    fake.final_412_once()
    job = enqueue(fake, ["seq 1 2000"])
    runner = start(fake, tmp_path, runner_process)
    runner.wait()
    check_job(fake, job)
    assert any(kind == "reset" for _, kind, _ in job.trace_events)
    assert [int(n) for n in re.findall(rb"^(\d+)$", plain(job), re.M)] == list(range(1, 2001))


def test_final_state_202_waits_and_repeats(fake, tmp_path, runner_process):
    fake.final_202(2)
    job = enqueue(fake, ["echo ok"])
    runner = start(fake, tmp_path, runner_process)
    runner.wait()
    check_job(fake, job)
    assert len(job.final_attempts) == 3


def test_r13_output_limit_cuts_on_utf8_and_the_job_continues(fake, tmp_path, runner_process):
    job = enqueue(fake, ["for i in $(seq 1 400); do echo 'héllo wörld ✓ ünïcödé'; done",
                            "echo finished > done.txt", "test -f done.txt"])
    runner = start(fake, tmp_path, runner_process, timestamps=False, _entry={"output_limit": 2})
    runner.wait()
    final = check_job(fake, job)
    notice = (b"\n\x1b[33;1mJob's log exceeded limit of 2048 bytes.\nJob execution will continue "
              b"but no more output will be collected.\x1b[0;m\n")
    trace = bytes(job.trace)
    assert trace.count(notice) == 1 and trace.endswith(notice)
    body = trace[: -len(notice)]
    assert 2048 - 3 <= len(body) <= 2048
    body.decode("utf-8")  # the cut never splits a character
    assert final["output"]["bytesize"] == len(trace)


def test_r14_secrets_split_across_writes_never_leak(fake, tmp_path, runner_process):
    secrets = ["abcabcabd-xyz", "s3cr3ts3cr3tX", "aaaaaaab"]
    # Each secret printed in 1-byte writes, after a partial copy of itself, on stdout and stderr.
    lines = []
    for s in secrets:
        pieces = " ".join(f"'{c}'" for c in s)
        lines.append(f"for c in {pieces}; do printf %s \"$c\"; sleep 0.01; done; echo")
        lines.append(f"printf '%s' '{s[:5]}'; for c in {pieces}; do printf %s \"$c\" >&2; done; echo")
    variables = [{"key": f"S{i}", "value": s, "public": False, "masked": True}
                 for i, s in enumerate(secrets)]
    job = enqueue(fake, lines, variables=variables)
    runner = start(fake, tmp_path, runner_process, timestamps=False)
    runner.wait()
    check_job(fake, job)
    trace = bytes(job.trace)
    for s in secrets:
        assert s.encode() not in trace
    assert trace.count(b"[MASKED]") >= 2 * len(secrets) + 0


def test_r16_bogus_interval_headers_neither_spin_nor_stall(fake, tmp_path, runner_process):
    for value in ("0", "-5", "1000000000", "abc"):
        fake.interval = value
        job = enqueue(fake, ["for i in $(seq 1 10); do echo v $i; sleep 0.1; done"])
        runner = start(fake, tmp_path, runner_process)
        began = time.monotonic()
        runner.wait(timeout=60)
        check_job(fake, job)
        assert time.monotonic() - began < 15, value
        assert job.patch_count + job.put_count < 40, f"{value}: {job.patch_count} PATCHes"
        assert "out of bounds" in runner.log() or value == "0"


def test_job_timeout_stops_the_script_and_runs_after_script(fake, tmp_path, runner_process):
    job = enqueue(fake, ["echo start", "sleep 30"], after_script=["echo after-timeout"],
                           timeout=2)
    began = time.monotonic()
    runner = start(fake, tmp_path, runner_process)
    runner.wait(timeout=60)
    final = check_job(fake, job, state="failed")
    assert final["failure_reason"] == "job_execution_timeout"
    assert time.monotonic() - began < 12
    assert b"after-timeout\n" in plain(job)


def test_403_on_job_request_backs_off_instead_of_spinning(fake, tmp_path, runner_process):
    config = write_config(tmp_path / "config.toml", fake.url, "glrt-not-registered",
                          check_interval=0.1)
    runner = runner_process(config, once=False)
    time.sleep(3)
    runner.signal(signal.SIGQUIT)
    assert runner.wait(timeout=10) == 0
    assert 1 <= fake.count("request") <= 6
    assert "unhealthy" in runner.log()


def test_concurrent_and_limit_are_honoured(fake, tmp_path, runner_process):
    jobs = [enqueue(fake, [f"echo start {i}", "sleep 1.2"]) for i in range(5)]
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, concurrent=2, runners=2)
    fake.add_runner(TOKEN + "-2")
    runner = runner_process(config, once=False)
    wait_until(lambda: all(j.finals for j in jobs), timeout=60)
    runner.signal(signal.SIGQUIT)
    assert runner.wait(timeout=20) == 0
    for job in jobs:
        check_job(fake, job)
    spans = []
    for job in jobs:
        starts = [t for t, m, p, s in fake.requests if m == "PUT" and p.endswith(f"/{job.id}")]
        spans.append((starts[0], starts[-1]))
    peak = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
    assert peak <= 2


def test_r17_sigquit_finishes_jobs_then_sigterm_aborts_and_reports(fake, tmp_path, runner_process):
    slow = [enqueue(fake, ["echo go", "sleep 2", "echo done"]) for _ in range(2)]
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, concurrent=2)
    runner = runner_process(config, once=False)
    wait_until(lambda: all(b"go" in bytes(j.trace) for j in slow), timeout=20)
    runner.signal(signal.SIGQUIT)
    quit_at = time.monotonic()
    assert runner.wait(timeout=30) == 0
    for job in slow:
        check_job(fake, job)
    polls = [t for t, m, p, s in fake.requests if p.endswith("/jobs/request") and t > quit_at + 0.1]
    assert polls == [], "polled after SIGQUIT"

    long_jobs = [enqueue(fake, ["echo go", "sleep 60"]) for _ in range(2)]
    runner = runner_process(config, once=False)
    wait_until(lambda: all(b"go" in bytes(j.trace) for j in long_jobs), timeout=20)
    runner.signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 1
    for job in long_jobs:
        final = check_job(fake, job, state="failed")
        assert final["failure_reason"] == "runner_system_failure"


def test_second_sigterm_exits_at_once(fake, tmp_path, runner_process):
    fake.script("final", *([503] * 100))
    job = enqueue(fake, ["echo go", "sleep 60"])
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, shutdown_timeout=60)
    runner = runner_process(config, once=False)
    wait_until(lambda: b"go" in bytes(job.trace), timeout=20)
    runner.signal(signal.SIGTERM)
    time.sleep(1.5)
    runner.signal(signal.SIGTERM)
    began = time.monotonic()
    assert runner.wait(timeout=10) == 2
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("into_hold", [0.2, 1.5])
def test_long_poll_picks_up_a_job_at_once(tmp_path, runner_process, into_hold):
    # Workhorse-style long polling: the server holds the request until the queue changes, then
    # answers 204 without X-GitLab-Last-Update (and with Gitlab-Ci-Builds-Polling: yes); the
    # runner must ask again at once (P8), also when the hold was short, never wait check_interval.
    with FakeGitLab(interval="1", long_poll=20) as fake:
        fake.add_runner(TOKEN)
        config = write_config(tmp_path / "config.toml", fake.url, TOKEN, check_interval=3)
        runner = runner_process(config, once=True)
        fake.wait_until(lambda: fake.held_requests > 0, timeout=20)
        time.sleep(into_hold)
        queued = time.monotonic()
        job = enqueue(fake, ["echo picked"])
        check_job(fake, job)
        handed = [r.time for r in fake.requests_for("request") if r.status == 201]
        assert len(handed) == 1
        assert handed[0] - queued < 0.5, f"handed out {handed[0] - queued:.2f} s after enqueue"
        assert runner.wait(timeout=30) == 0


def test_quick_bare_204s_do_not_make_a_hot_loop(tmp_path, runner_process):
    # A server whose long polls end at once (here a 0.1 s hold) gets one immediate retry per
    # check_interval, not a request every 0.1 s.
    with FakeGitLab(interval="1", long_poll=0.1) as fake:
        fake.add_runner(TOKEN)
        config = write_config(tmp_path / "config.toml", fake.url, TOKEN, check_interval=1)
        runner = runner_process(config, once=False)
        wait_until(lambda: fake.count("request") >= 1, timeout=20)
        first = fake.count("request")
        time.sleep(6)
        polls = fake.count("request") - first
        runner.signal(signal.SIGQUIT)
        assert runner.wait(timeout=30) == 0
        # Two requests per ~1 s interval (the held one and its immediate retry); a hot loop
        # would make about 60.
        assert 6 <= polls <= 16, polls
