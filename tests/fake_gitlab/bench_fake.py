#!/usr/bin/env python3
"""How fast the fake GitLab accepts trace, so benchmarks know it is not their bottleneck.

Starts `fake_gitlab.py` as a separate process (own GIL), drives one job over one keep-alive
connection with plain http.client, and prints: MB/s for 1 MiB PATCHes, requests/s for small
PATCHes, and the time to verify the stored trace (crc32 check on the final PUT, sha256 on demand).

Usage: python3 tests/fake_gitlab/bench_fake.py [--mib 512] [--small-seconds 3]"""

import argparse
import http.client
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = "glrt-bench-fake-0001"
INFO = {"features": {"refspecs": True, "cancel_gracefully": True}}


def control(port, method, path, data=None):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(method, "/__fake/" + path, json.dumps(data or {}).encode(),
                 {"Content-Type": "application/json"})
    body = conn.getresponse().read()
    conn.close()
    return json.loads(body)


def start_job(port):
    job = control(port, "POST", "jobs", {"script": ["true"]})
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/api/v4/jobs/request", json.dumps(
        {"token": RUNNER, "system_id": "s_0123456789ab", "info": INFO}),
        {"Content-Type": "application/json"})
    assert conn.getresponse().read() and True
    conn.request("PUT", f"/api/v4/jobs/{job['id']}", json.dumps(
        {"token": job["token"], "state": "running", "info": INFO}),
        {"Content-Type": "application/json", "JOB-TOKEN": job["token"]})
    conn.getresponse().read()
    return conn, job


def patch(conn, job, offset, data):
    conn.request("PATCH", f"/api/v4/jobs/{job['id']}/trace?debug_trace=false", data,
                 {"Content-Type": "text/plain", "JOB-TOKEN": job["token"],
                  "Content-Range": f"{offset}-{offset + len(data) - 1}"})
    response = conn.getresponse()
    response.read()
    assert response.status == 202, response.status
    return offset + len(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--small-seconds", type=float, default=3.0)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(HERE / "fake_gitlab.py"), "--port", "0",
                               "--runner", RUNNER, "--trace-size-limit", str(1 << 40)],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        conn, job = start_job(port)
        block = (b"2024-01-01T00:00:00.000000Z 00O line of trace output with some text\n" * 16000)
        block = block[:1 << 20]
        offset, crc = 0, 0
        began = time.perf_counter()
        for _ in range(args.mib):
            offset = patch(conn, job, offset, block)
            crc = zlib.crc32(block, crc)
        seconds = time.perf_counter() - began
        print(f"1 MiB PATCHes: {args.mib} MiB in {seconds:.2f} s = "
              f"{offset / seconds / 1e6:.0f} MB/s ({args.mib / seconds:.0f} PATCH/s)")
        began = time.perf_counter()
        conn.request("PUT", f"/api/v4/jobs/{job['id']}", json.dumps(
            {"token": job["token"], "state": "success", "info": INFO,
             "output": {"checksum": "crc32:%08x" % crc, "bytesize": offset}}),
            {"Content-Type": "application/json", "JOB-TOKEN": job["token"]})
        status = conn.getresponse()
        status.read()
        print(f"final PUT (crc32 verified incrementally): {status.status} in "
              f"{(time.perf_counter() - began) * 1000:.1f} ms")
        began = time.perf_counter()
        summary = control(port, "GET", f"jobs/{job['id']}")
        print(f"job summary with sha256 of {offset >> 20} MiB: "
              f"{time.perf_counter() - began:.2f} s; range problems {summary['range_problems']}")

        conn, job = start_job(port)
        line = b"x" * 99 + b"\n"
        offset, count = 0, 0
        deadline = time.perf_counter() + args.small_seconds
        began = time.perf_counter()
        while time.perf_counter() < deadline:
            offset = patch(conn, job, offset, line)
            count += 1
        seconds = time.perf_counter() - began
        print(f"100-byte PATCHes, one connection: {count / seconds:.0f} requests/s")
        print(f"violations: {control(port, 'GET', 'violations')}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
