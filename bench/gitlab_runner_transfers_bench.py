#!/usr/bin/env python3
"""Native runner, part 2 figures against the fake GitLab (performance.md P6, P7, P9):

  artifact W3 (scaled): a tree of one incompressible file and many small text files, uploaded as
           a zip artifact by the runner; wall time of the upload step, runner peak RSS, MB/s —
           against `zip -1 -r` + `curl -F file=@…` to the same endpoint, in the same run
  noop     W5: N sequential `true` jobs on one runner; per-job overhead = job handed out -> final
           state accepted (script time included), p50/p99
  fanout   W4 (shortened): N concurrent jobs printing 10 KB/s; live line latency p99 per N, runner
           RSS per job; reports the largest N whose p99 stays <= 1.5 s

Usage: bench/gitlab_runner_transfers_bench.py STAGEHOST [--artifact-mib 2048] [--noop-jobs 500]
       [--fanout 50,100,200] [--fanout-seconds 30]
Needs the release build's stagehost, zip and curl. Prints each figure with its goal."""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fake_gitlab"))
from fake_gitlab import FakeGitLab  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gitlab_runner_bench import config, percentile, run_runner  # noqa: E402

TOKEN = "glrt-bench-runner"


def make_tree(root, mib):
    """3/4 of `mib` in one incompressible file, 1/4 in 8 KiB text files (as W3's 4 GiB + 1 GiB)."""
    root.mkdir(parents=True)
    big = mib * 3 // 4
    with open(root / "weights.bin", "wb") as f:
        for _ in range(big):
            f.write(os.urandom(1 << 20))
    small_dir = root / "texts"
    small_dir.mkdir()
    line = b"step=%06d loss=0.%06d accuracy=0.%06d lr=0.000300 note=lorem ipsum dolor sit amet\n"
    count = (mib - big) * 128  # 8 KiB each
    for i in range(count):
        body = b"".join(line % (i, (i * 7 + j) % 999999, (i * 13 + j) % 999999) for j in range(90))
        (small_dir / f"log-{i:06d}.txt").write_bytes(body[:8192])
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def artifact(binary, work, mib):
    tree = work / "tree"
    total = make_tree(tree, mib)
    subprocess.run(["sync"], check=False)
    results = {"tree_bytes": total}
    with FakeGitLab(interval="3", state_dir=str(work / "fake")) as fake:
        fake.add_runner(TOKEN)
        job = fake.job(fake.enqueue_job([f"cp -al {tree}/. ."],
                                        artifacts=[{"paths": ["weights.bin", "texts/"]}]))
        cfg = config(work / "artifact.toml", fake.url, timestamps=False)
        began = time.monotonic()
        code, rss = run_runner(binary, cfg)
        fake.wait_final(job, timeout=1800)
        wall = time.monotonic() - began
        log = bytes(job.trace).decode(errors="replace")
        upload = job.uploads[0] if job.uploads else None
        results.update(stagehost_wall=wall, stagehost_rss_kib=rss, exit=code,
                       stagehost_archive=upload.size if upload else 0,
                       stored="Staged" in log)
        for u in job.uploads:
            os.unlink(u.path)

        # The reference: zip -1 then curl -F to the same endpoint, with a running job's token.
        ref_job = fake.job(fake.enqueue_job(["true"]))
        with fake.lock:
            fake.queue.remove(ref_job.id)
            fake._set_state(ref_job, "running")
        archive = work / "ref.zip"
        began = time.monotonic()
        zipped = subprocess.run(["/usr/bin/time", "-v", "zip", "-q", "-1", "-r", str(archive),
                                 "weights.bin", "texts"], cwd=tree, capture_output=True, text=True)
        zip_rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                zipped.stderr).group(1))
        curl = subprocess.run(["/usr/bin/time", "-v", "curl", "-sS", "-o", "/dev/null", "-w",
                               "%{http_code}", "-H", f"JOB-TOKEN: {ref_job.token}", "-F",
                               f"file=@{archive};filename=artifacts.zip",
                               f"{fake.url}/api/v4/jobs/{ref_job.id}/artifacts?artifact_format=zip"
                               "&artifact_type=archive"], capture_output=True, text=True)
        curl_rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                 curl.stderr).group(1))
        results.update(reference_wall=time.monotonic() - began, reference_status=curl.stdout,
                       reference_archive=archive.stat().st_size,
                       reference_rss_kib=max(zip_rss, curl_rss))
    shutil.rmtree(tree, ignore_errors=True)
    return results


def noop(binary, work, jobs):
    with FakeGitLab(interval="3", request_log_limit=1000) as fake:
        fake.add_runner(TOKEN)
        ids = [fake.enqueue_job(["true"]) for _ in range(jobs)]
        cfg = config(work / "noop.toml", fake.url)
        proc = subprocess.Popen([binary, "gitlab", "runner", "--config", str(cfg)],
                                stderr=subprocess.DEVNULL)
        try:
            for job_id in ids:
                fake.wait_final(fake.job(job_id), timeout=120)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        overheads = []
        for job_id in ids:
            job = fake.job(job_id)
            handed = next(t for t, state in job.history if state == "running")
            accepted = [u["time"] for u in job.final_updates if u.get("accepted")]
            overheads.append(accepted[0] - handed)
        return percentile(overheads, 50), percentile(overheads, 99)


def peak_rss_kib(pid):
    """VmHWM of a running process (the runner keeps running between jobs)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))


def fanout(binary, work, n, seconds):
    script = work / "fanout.py"
    script.write_text(
        "import sys,time\n"
        f"end=time.monotonic()+{seconds}\n"
        "i=0\n"
        "while time.monotonic()<end:\n"
        "    sys.stdout.write('L%06d %.6f %s\\n' % (i, time.monotonic(), 'x'*80)); sys.stdout.flush()\n"
        "    i+=1; time.sleep(0.01)\n")  # ~100 lines of 100 B per second = 10 KB/s
    with FakeGitLab(interval=None) as fake:
        fake.add_runner(TOKEN)
        ids = [fake.enqueue_job([f"/usr/bin/python3 {script}"]) for _ in range(n)]
        cfg = work / "fanout.toml"
        config(cfg, fake.url, trace_interval_initial_seconds=0.2, trace_interval_min_seconds=0.2,
               timestamps=False)
        text = cfg.read_text().replace("concurrent = 4", f"concurrent = {n}")
        text = text.replace('name = "bench"', f'name = "bench"\nlimit = {n}\nrequest_concurrency = 4')
        cfg.write_text(text)
        proc = subprocess.Popen([binary, "gitlab", "runner", "--config", str(cfg)],
                                stderr=subprocess.DEVNULL)
        try:
            for job_id in ids:
                fake.wait_final(fake.job(job_id), timeout=seconds + 300)
            rss = peak_rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        latencies = []
        for job_id in ids:
            job = fake.job(job_id)
            arrivals = sorted(job.first_byte_times)
            trace = bytes(job.trace)
            k = 0
            for match in re.finditer(rb"L(\d{6}) (\d+\.\d+) ", trace):
                while k + 1 < len(arrivals) and arrivals[k + 1][0] <= match.start():
                    k += 1
                latencies.append(arrivals[k][1] - float(match.group(2)))
        return percentile(latencies, 50), percentile(latencies, 99), rss, len(latencies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--artifact-mib", type=int, default=2048)
    parser.add_argument("--noop-jobs", type=int, default=500)
    parser.add_argument("--fanout", default="50,100,200")
    parser.add_argument("--fanout-seconds", type=float, default=30)
    parser.add_argument("--only", choices=["artifact", "noop", "fanout"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "noop"):
            p50, p99 = noop(args.binary, work, args.noop_jobs)
            print(f"P7 {args.noop_jobs} no-op jobs, handed out -> final state accepted: "
                  f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (goal p50 <= 30, p99 <= 100) "
                  f"{'PASS' if p50 <= 0.03 and p99 <= 0.1 else 'FAIL'}")
        if args.only in (None, "artifact"):
            a = artifact(args.binary, work, args.artifact_mib)
            mb = a["tree_bytes"] / 1e6
            print(f"P6 artifact {a['tree_bytes'] >> 20} MiB tree: stagehost {a['stagehost_wall']:.1f} s "
                  f"({mb / a['stagehost_wall']:.0f} MB/s, archive {a['stagehost_archive'] >> 20} MiB, "
                  f"peak RSS {a['stagehost_rss_kib'] / 1024:.1f} MiB, goal <= 64) vs zip -1 + curl -F "
                  f"{a['reference_wall']:.1f} s ({mb / a['reference_wall']:.0f} MB/s, archive "
                  f"{a['reference_archive'] >> 20} MiB, HTTP {a['reference_status']}, peak RSS "
                  f"{a['reference_rss_kib'] / 1024:.1f} MiB): ratio "
                  f"{a['reference_wall'] / a['stagehost_wall']:.2f}x "
                  f"{'PASS' if a['stagehost_rss_kib'] <= 64 * 1024 else 'FAIL'}")
        if args.only in (None, "fanout"):
            best = 0
            for n in [int(x) for x in args.fanout.split(",")]:
                p50, p99, rss, lines = fanout(args.binary, work, n, args.fanout_seconds)
                ok = p99 <= 1.5
                best = n if ok else best
                print(f"P9 fan-out {n} jobs x 10 KB/s for {args.fanout_seconds:.0f} s: {lines} lines, "
                      f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (goal <= 1500), runner RSS "
                      f"{rss / 1024:.1f} MiB ({rss / n:.0f} KiB per job) {'PASS' if ok else 'FAIL'}")
            print(f"P9 largest N with p99 <= 1.5 s: {best} (goal >= 200) "
                  f"{'PASS' if best >= 200 else 'FAIL'}")


if __name__ == "__main__":
    main()
