#!/usr/bin/env python3
"""Native GitLab runner figures against the fake GitLab (performance.md P2-P4, P8, P10-P12):

  trickle  W2: one 60-byte line every 100 ms; line -> server latency p50/p99 (fast and protocol mode)
  firehose W1: N MiB of ~100-byte lines (1 in 7 with ANSI, 5 % multibyte), 20 masked variables,
           timestamps on; ingest MB/s, exit -> all bytes on the server, runner peak RSS
  cancel   P10: a silent job cancelled by the server; cancel -> SIGTERM latency p50/p99
  pickup   P8: a job queued while the runner's request is held by a long-polling server;
           enqueue -> job handed out, p50/max
  timeout  P11: a silent job with a 3 s timeout; how far from the deadline SIGTERM lands
  idle     P12: a runner with nothing to do for 30 s; RSS and CPU

Usage: bench/gitlab_runner_bench.py STAGEHOST_BINARY [--only trickle,firehose,...]
       [--firehose-mib 1024] [--trickle-seconds 30]
Prints each figure with the goal and PASS/FAIL. Needs the build's stagehost (release build)."""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fake_gitlab"))
from fake_gitlab import FakeGitLab  # noqa: E402

TOKEN = "glrt-bench-runner"


def config(path, url, **stagehost):
    values = {"cancel_check_seconds": 1.0, "timestamps": True}
    values.update(stagehost)
    lines = ["concurrent = 4", "check_interval = 0.2", "[[runners]]", 'name = "bench"',
             f'url = "{url}"', f'token = "{TOKEN}"', f'builds_dir = "{path.parent / "builds"}"',
             "output_limit = 4194304", "[runners.stagehost]"]
    for key, value in values.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def run_runner(binary, cfg, extra_env=None):
    """Runs `runner --once` under /usr/bin/time -v; returns (exit code, peak RSS KiB)."""
    timing = cfg.with_suffix(".time")
    env = dict(os.environ, **(extra_env or {}))
    with open(cfg.with_suffix(".log"), "wb") as log:  # the runner's own log, for post-mortems
        code = subprocess.call(["/usr/bin/time", "-v", "-o", str(timing), binary, "gitlab",
                                "runner", "--config", str(cfg), "--once"], stderr=log, env=env)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing.read_text()).group(1))
    return code, rss


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def trickle(binary, work, seconds, interval_header, initial):
    with FakeGitLab(interval=interval_header) as fake:
        fake.add_runner(TOKEN)
        script = ("import time,sys\n"
                  f"for i in range({int(seconds * 10)}):\n"
                  "    sys.stdout.write('L%06d %.6f %s\\n' % (i, time.monotonic(), 'x' * 30)); sys.stdout.flush()\n"
                  "    time.sleep(0.1)\n")
        (work / "trickle.py").write_text(script)
        job = fake.job(fake.enqueue_job([f"/usr/bin/python3 {work / 'trickle.py'}"]))
        cfg = config(work / "trickle.toml", fake.url, trace_interval_initial_seconds=initial,
                     trace_interval_min_seconds=0.2)
        run_runner(binary, cfg)
        fake.wait_final(job)
        # Arrival of each byte offset: the time of the PATCH that carried it.
        arrivals = sorted(job.first_byte_times)
        trace = bytes(job.trace)
        latencies = []
        for match in re.finditer(rb"L(\d{6}) (\d+\.\d+) ", trace):
            offset = match.start()
            arrived = None
            for start, when in arrivals:
                if start <= offset:
                    arrived = when
                else:
                    break
            latencies.append(arrived - float(match.group(2)))
        return percentile(latencies, 50), percentile(latencies, 99), len(latencies)


def firehose(binary, work, mib):
    # GitLab's default 100 MB trace limit would end the job early: lift it for the firehose.
    with FakeGitLab(interval="3", trace_size_limit=None) as fake:
        fake.add_runner(TOKEN)
        secrets = [f"masked-value-{i:02d}-" + "k" * (8 + (i * 3) % 48) for i in range(20)]
        generator = work / "firehose.py"
        generator.write_text(
            "import os,sys,time\n"
            "lines=[]\n"
            "for i in range(10000):\n"
            "    text='line %07d payload ' % i + 'abcdefghij' * 7\n"
            "    if i % 7 == 0: text='\\x1b[32;1m'+text[:60]+'\\x1b[0;m'\n"
            "    if i % 20 == 0: text=text[:50]+' héllo wörld ✓'\n"
            "    if i % 5000 == 0: text+=' '+os.environ['S3']\n"
            "    lines.append(text[:100]+'\\n')\n"
            "block=''.join(lines).encode()\n"
            f"total={mib}<<20\n"
            "out=sys.stdout.buffer\n"
            "start=time.monotonic(); sent=0\n"
            "while sent<total:\n"
            "    out.write(block); sent+=len(block)\n"
            "out.flush()\n"
            "sys.stderr.write('GEN %.6f %.6f %d\\n' % (start, time.monotonic(), sent))\n")
        variables = [{"key": f"S{i}", "value": s, "public": False, "masked": True}
                     for i, s in enumerate(secrets)]
        marker = work / "firehose.end"
        job = fake.job(fake.enqueue_job([f"/usr/bin/python3 {generator} 2>{marker}"],
                                        variables=variables))
        cfg = config(work / "firehose.toml", fake.url, timestamps=True)
        began = time.monotonic()
        code, rss = run_runner(binary, cfg)
        fake.wait_final(job, timeout=600)
        _, start, end, sent = marker.read_text().split()
        child_seconds = float(end) - float(start)
        last_patch = max(t for _, t in job.first_byte_times)
        trace = bytes(job.trace)  # read the server's copy once (1.3 GiB with stamps)
        leaked = any(s.encode() in trace for s in secrets)
        return {"bytes": int(sent), "child_seconds": child_seconds,
                "ingest_mb_s": int(sent) / child_seconds / 1e6,
                "exit_to_server": last_patch - float(end), "rss_kib": rss,
                "server_bytes": len(trace), "leaked": leaked, "exit": code,
                "wall": time.monotonic() - began, "violations": fake.check()}


def cancel(binary, work, rounds):
    latencies = []
    with FakeGitLab(interval="3") as fake:
        fake.add_runner(TOKEN)
        for i in range(rounds):
            marker = work / f"term-{i}"
            job = fake.job(fake.enqueue_job([f"trap 'date +%s.%N > {marker}; exit 143' TERM",
                                             "echo ready", "sleep 120 & wait"]))
            cfg = config(work / "cancel.toml", fake.url)
            proc = subprocess.Popen([binary, "gitlab", "runner", "--config", str(cfg), "--once"],
                                    stderr=subprocess.DEVNULL)
            while b"ready" not in bytes(job.trace):
                time.sleep(0.01)
            time.sleep(0.3 + (i % 5) * 0.2)  # spread the cancel over the check period
            asked = time.time()
            fake.cancel(job, graceful=True)
            while not marker.exists() or not marker.read_text().strip():
                time.sleep(0.005)
            latencies.append(float(marker.read_text()) - asked)
            proc.wait(timeout=60)
    return percentile(latencies, 50), percentile(latencies, 99)


def pickup(binary, work, rounds):
    latencies = []
    with FakeGitLab(interval="3", long_poll=20) as fake:
        fake.add_runner(TOKEN)
        cfg = config(work / "pickup.toml", fake.url)
        cfg.write_text(cfg.read_text().replace("check_interval = 0.2", "check_interval = 3"))
        proc = subprocess.Popen([binary, "gitlab", "runner", "--config", str(cfg)],
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(rounds):
                # P8 is about a request the server holds: enqueue only once one is held.
                fake.wait_until(lambda: fake.held_requests > 0, timeout=30)
                time.sleep(0.5)
                queued = time.monotonic()
                job = fake.job(fake.enqueue_job(["true"]))
                fake.wait_final(job)
                handed = [r.time for r in fake.requests_for("request")
                          if r.status == 201 and r.time >= queued]
                latencies.append(handed[0] - queued)
        finally:
            proc.send_signal(signal.SIGQUIT)
            proc.wait(timeout=30)
    return percentile(latencies, 50), max(latencies)


def job_timeout(binary, work, rounds, seconds=3):
    errors, reasons = [], set()
    with FakeGitLab(interval="3") as fake:
        fake.add_runner(TOKEN)
        for i in range(rounds):
            marker = work / f"timeout-{i}"
            # The script's start and its SIGTERM, on the fake's clock (CLOCK_MONOTONIC).
            now = '/usr/bin/python3 -c "import time; print(time.monotonic())"'
            job = fake.job(fake.enqueue_job(
                [f"trap '{now} >> {marker}; exit 143' TERM", f"{now} > {marker}",
                 "sleep 120 & wait"], timeout=seconds))
            run_runner(binary, config(work / "timeout.toml", fake.url))
            final = fake.wait_final(job, timeout=60)
            reasons.add(final.get("failure_reason") if final else None)
            started, termed = (float(x) for x in marker.read_text().split())
            errors.append(termed - started - seconds)
    return min(errors), max(errors), reasons


def idle(binary, work, seconds):
    with FakeGitLab(interval="3") as fake:
        fake.add_runner(TOKEN)
        cfg = config(work / "idle.toml", fake.url)
        cfg.write_text(cfg.read_text().replace("check_interval = 0.2", "check_interval = 3"))
        proc = subprocess.Popen([binary, "gitlab", "runner", "--config", str(cfg)],
                                stderr=subprocess.DEVNULL)
        time.sleep(2)  # past start-up
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu():
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

        before, began = cpu(), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu() - before, time.monotonic() - began
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        anon = int(re.search(r"RssAnon:\s+(\d+)", status).group(1))  # the private part
        threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        polls = fake.count("request")
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=30)
    return rss, anon, used / elapsed * 100, threads, polls


def report_trickle(args, work):
    p50, p99, n = trickle(args.binary, work, args.trickle_seconds, None, 0.2)
    print(f"P3 trickle, fast mode (no interval header, 200 ms flush): {n} lines, "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
          f"(goal p50 <= 250, p99 <= 500) {'PASS' if p50 <= 0.25 and p99 <= 0.5 else 'FAIL'}")
    p50, p99, n = trickle(args.binary, work, args.trickle_seconds, "1", 0.2)
    print(f"P3 trickle, protocol mode (server interval 1 s): p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms (goal p99 <= 1150) {'PASS' if p99 <= 1.15 else 'FAIL'}")


def report_firehose(args, work):
    f = firehose(args.binary, work, args.firehose_mib)
    ok = f["ingest_mb_s"] >= 150 and f["exit_to_server"] <= 1.0 and not f["leaked"]
    print(f"P2 firehose {f['bytes'] >> 20} MiB: child ingest {f['ingest_mb_s']:.0f} MB/s "
          f"(goal >= 150), exit -> all bytes on the server {f['exit_to_server']:.2f} s "
          f"(goal <= 1), server copy {f['server_bytes'] >> 20} MiB with stamps, secrets leaked: "
          f"{f['leaked']}, violations: {len(f['violations'])} {'PASS' if ok else 'FAIL'}")
    print(f"P4 runner peak RSS during the firehose: {f['rss_kib'] / 1024:.1f} MiB (goal <= 32) "
          f"{'PASS' if f['rss_kib'] <= 32 * 1024 else 'FAIL'}")


def report_cancel(args, work):
    p50, p99 = cancel(args.binary, work, args.cancel_rounds)
    print(f"P10 cancel -> SIGTERM of a silent job: p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms (goal p99 <= 2000) {'PASS' if p99 <= 2.0 else 'FAIL'}")


def report_pickup(args, work):
    p50, worst = pickup(args.binary, work, args.pickup_rounds)
    print(f"P8 pickup while the request is held (long poll): p50 {p50 * 1000:.0f} ms, "
          f"max {worst * 1000:.0f} ms (goal <= 50) {'PASS' if worst <= 0.05 else 'FAIL'}")


def report_timeout(args, work):
    low, high, reasons = job_timeout(args.binary, work, args.timeout_rounds)
    ok = -1.0 <= low and high <= 1.0 and reasons == {"job_execution_timeout"}
    print(f"P11 job timeout (3 s): SIGTERM {low * 1000:+.0f} to {high * 1000:+.0f} ms from the "
          f"deadline, failure_reason {sorted(map(str, reasons))} (goal within +-1 s, "
          f"job_execution_timeout) {'PASS' if ok else 'FAIL'}")


def report_idle(args, work):
    rss, anon, cpu, threads, polls = idle(args.binary, work, args.idle_seconds)
    print(f"P12 idle runner for {args.idle_seconds:.0f} s: RSS {rss / 1024:.1f} MiB "
          f"({anon / 1024:.1f} MiB anonymous, the rest shared library pages), "
          f"CPU {cpu:.2f} %, {threads} threads, {polls} polls (goal RSS <= 8 MiB, CPU <= 0.1 %) "
          f"{'PASS' if rss <= 8 * 1024 and cpu <= 0.1 else 'FAIL'}")


FIGURES = {"trickle": report_trickle, "firehose": report_firehose, "cancel": report_cancel,
           "pickup": report_pickup, "timeout": report_timeout, "idle": report_idle}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--only", default=",".join(FIGURES),
                        help=f"comma-separated subset of {','.join(FIGURES)}")
    parser.add_argument("--firehose-mib", type=int, default=1024)
    parser.add_argument("--trickle-seconds", type=float, default=30)
    parser.add_argument("--cancel-rounds", type=int, default=10)
    parser.add_argument("--pickup-rounds", type=int, default=5)
    parser.add_argument("--timeout-rounds", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=30)
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            FIGURES[name](args, Path(tmp))


if __name__ == "__main__":
    main()
