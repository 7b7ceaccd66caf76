#!/usr/bin/env python3
"""Native GitLab runner figures against the fake GitLab (performance.md P2, P3, P4, P10):

  trickle  W2: one 60-byte line every 100 ms; line -> server latency p50/p99 (fast and protocol mode)
  firehose W1: N MiB of ~100-byte lines (1 in 7 with ANSI, 5 % multibyte), 20 masked variables,
           timestamps on; ingest MB/s, exit -> all bytes on the server, runner peak RSS
  cancel   P10: a silent job cancelled by the server; cancel -> SIGTERM latency p50/p99

Usage: bench/gitlab_runner_bench.py STAGEHOST_BINARY [--firehose-mib 1024] [--trickle-seconds 30]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--firehose-mib", type=int, default=1024)
    parser.add_argument("--trickle-seconds", type=float, default=30)
    parser.add_argument("--cancel-rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        p50, p99, n = trickle(args.binary, work, args.trickle_seconds, None, 0.2)
        print(f"P3 trickle, fast mode (no interval header, 200 ms flush): {n} lines, "
              f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
              f"(goal p50 <= 250, p99 <= 500) {'PASS' if p50 <= 0.25 and p99 <= 0.5 else 'FAIL'}")
        p50, p99, n = trickle(args.binary, work, args.trickle_seconds, "1", 0.2)
        print(f"P3 trickle, protocol mode (server interval 1 s): p50 {p50 * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms (goal p99 <= 1150) {'PASS' if p99 <= 1.15 else 'FAIL'}")
        f = firehose(args.binary, work, args.firehose_mib)
        ok = f["ingest_mb_s"] >= 150 and f["exit_to_server"] <= 1.0 and not f["leaked"]
        print(f"P2 firehose {f['bytes'] >> 20} MiB: child ingest {f['ingest_mb_s']:.0f} MB/s "
              f"(goal >= 150), exit -> all bytes on the server {f['exit_to_server']:.2f} s "
              f"(goal <= 1), server copy {f['server_bytes'] >> 20} MiB with stamps, secrets leaked: "
              f"{f['leaked']}, violations: {len(f['violations'])} {'PASS' if ok else 'FAIL'}")
        print(f"P4 runner peak RSS during the firehose: {f['rss_kib'] / 1024:.1f} MiB (goal <= 32) "
              f"{'PASS' if f['rss_kib'] <= 32 * 1024 else 'FAIL'}")
        p50, p99 = cancel(args.binary, work, args.cancel_rounds)
        print(f"P10 cancel -> SIGTERM of a silent job: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
              f"(goal p99 <= 2000) {'PASS' if p99 <= 2.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
