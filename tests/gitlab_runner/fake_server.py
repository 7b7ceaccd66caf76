"""A GitLab runner-API server for the native runner's tests, with the faults of reliability.md.

Enforces the rules of gitlab-runner-api.md §13 that the runner's tests depend on: runner and job
token auth, contiguous trace appends with 416 + Range, Content-Range inclusive, Job-Status on
every job answer, checksum/bytesize checked against the stored trace, one final state. Every rule
broken by the client is appended to `violations`, which each test asserts is empty."""

import collections
import hashlib
import json
import random
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Job:
    def __init__(self, job_id, payload):
        self.id = job_id
        self.token = payload["token"]
        self.payload = payload
        self.state = "pending"
        self.trace = bytearray()
        self.ranges = []            # accepted (start, end-exclusive)
        self.finals = []            # accepted final PUT bodies
        self.final_attempts = []    # every final PUT body, accepted or not
        self.patch_count = 0
        self.put_count = 0
        self.after_terminal = 0     # requests received after the job ended
        self.first_byte_times = []  # (offset, monotonic time) of each accepted PATCH

    def sha256(self):
        return hashlib.sha256(bytes(self.trace)).hexdigest()


class FakeGitLab:
    """Threaded server on 127.0.0.1; `url` is the GitLab base URL (without /api/v4)."""

    def __init__(self, interval="1"):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.runners = set()
        self.jobs = {}
        self.queue = collections.deque()
        self.queue_version = 1
        self.next_id = 1000
        self.violations = []
        self.requests = []          # (monotonic time, method, path, status)
        self.interval = interval    # X-GitLab-Trace-Update-Interval value (str) or None
        self.scripts = collections.defaultdict(collections.deque)  # endpoint -> responses
        self.outage_until = 0.0
        self.errors_until = 0.0     # every job call answers a 5xx until then (a burst)
        self.random_5xx = 0.0
        self.rng = random.Random(1)
        self.final_202 = 0          # answer this many final PUTs with 202 first
        self.final_412_once = False
        self.trace_limit = None
        self.stalled = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        for conn in self.stalled:
            try:
                conn.close()
            except OSError:
                pass
        self.server.server_close()

    # ---- test API -------------------------------------------------------------------------
    def add_runner(self, token):
        with self.lock:
            self.runners.add(token)

    def enqueue_job(self, script, after_script=None, variables=(), timeout=3600, features=None):
        with self.lock:
            self.next_id += 1
            job_id = self.next_id
            token = f"glcbt-{job_id}x{self.rng.getrandbits(48):012x}"
            steps = [{"name": "script", "script": list(script), "timeout": timeout,
                      "when": "on_success", "allow_failure": False}]
            if after_script:
                steps.append({"name": "after_script", "script": list(after_script),
                              "timeout": timeout, "when": "always", "allow_failure": True})
            payload = {
                "id": job_id, "token": token, "allow_git_fetch": True,
                "job_info": {"name": f"job{job_id}", "stage": "test", "project_id": 4,
                             "project_name": "demo", "project_full_path": "group/demo"},
                "git_info": {"repo_url": f"https://gitlab-ci-token:{token}@fake/demo.git",
                             "ref": "main", "sha": "0" * 40, "ref_type": "branch",
                             "refspecs": ["+refs/heads/main:refs/remotes/origin/main"], "depth": 20},
                "runner_info": {"timeout": timeout},
                "variables": [{"key": "CI_JOB_TOKEN", "value": token, "public": False,
                               "masked": True}] + [dict(v) for v in variables],
                "steps": steps, "image": None, "services": [], "artifacts": [], "cache": [],
                "credentials": [], "dependencies": [],
                "features": features or {"trace_sections": True, "failure_reasons": [
                    "unknown_failure", "script_failure", "runner_system_failure",
                    "job_execution_timeout"]},
            }
            job = Job(job_id, payload)
            self.jobs[job_id] = job
            self.queue.append(job_id)
            self.queue_version += 1
            return job

    def cancel(self, job, graceful=True):
        with self.lock:
            job.state = "canceling" if graceful else "canceled"
            self.changed.notify_all()

    def script(self, endpoint, *responses):
        """Queue responses for `trace`, `update`, `final` or `request`: a status, or a dict with
        status/headers/action (`drop_after_commit`, `rst`, `stall`, `lose_tail`)."""
        with self.lock:
            self.scripts[endpoint].extend(responses)

    def burst(self, seconds, then_random=0.0):
        """100 % 5xx on job calls for `seconds`, then that share of random 5xx."""
        with self.lock:
            self.errors_until = time.monotonic() + seconds
            self.random_5xx = then_random

    def outage(self, seconds):
        with self.lock:
            self.outage_until = time.monotonic() + seconds

    def wait_final(self, job, timeout=60):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not job.finals and time.monotonic() < deadline:
                self.changed.wait(0.1)
            return job.finals[0] if job.finals else None

    def count(self, method, path_part):
        with self.lock:
            return sum(1 for r in self.requests if r[1] == method and path_part in r[2])

    # ---- protocol -------------------------------------------------------------------------
    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status, body=b"", headers=None):
                with fake.lock:
                    fake.requests.append((time.monotonic(), self.command, self.path, status))
                self.send_response(status)
                for key, value in (headers or {}).items():
                    if value is not None:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _fault(self, endpoint, job=None):
                """Applies an outage or the next scripted response; returns (handled, action)."""
                with fake.lock:
                    if time.monotonic() < fake.outage_until:
                        fake.requests.append((time.monotonic(), self.command, self.path, "down"))
                        self.close_connection = True
                        self._reset()
                        return True, None
                    queue = fake.scripts.get(endpoint)
                    item = queue.popleft() if queue else None
                    burst = endpoint != "request" and time.monotonic() < fake.errors_until
                    if item is None and (burst or (fake.random_5xx and endpoint != "request" and
                                                   fake.rng.random() < fake.random_5xx)):
                        item = fake.rng.choice([500, 502, 503, 504])
                if item is None:
                    return False, None
                if isinstance(item, int):
                    item = {"status": item}
                action = item.get("action")
                if action in ("drop_after_commit", "lose_tail", "pass"):
                    return False, item
                if action == "rst":
                    self._reset()
                    return True, None
                if action == "stall":
                    with fake.lock:
                        fake.stalled.append(self.connection)
                    time.sleep(item.get("seconds", 3600))
                    return True, None
                self._send(item["status"], b"", item.get("headers"))
                return True, None

            def _reset(self):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                try:
                    self.connection.close()
                except OSError:
                    pass

            def _job(self, path_id):
                job = fake.jobs.get(int(path_id))
                if job is None or self.headers.get("JOB-TOKEN") != job.token:
                    return None
                return job

            def _job_headers(self, job):
                return {"Job-Status": job.state, "X-GitLab-Trace-Update-Interval": fake.interval}

            def do_POST(self):
                body = self._body()
                if self.headers.get("Content-Type") != "application/json":
                    fake.violations.append(f"POST {self.path} without application/json")
                data = json.loads(body or b"{}")
                if self.path == "/api/v4/runners/verify":
                    if data.get("token") not in fake.runners:
                        return self._send(403)
                    return self._send(200, json.dumps({"id": 12, "token": data["token"],
                                                       "token_expires_at": None}).encode(),
                                      {"Content-Type": "application/json"})
                if self.path == "/api/v4/jobs/request":
                    handled, _ = self._fault("request")
                    if handled:
                        return None
                    if data.get("token") not in fake.runners:
                        return self._send(403)
                    system_id = data.get("system_id", "")
                    if len(system_id) != 14 or system_id[:2] not in ("s_", "r_"):
                        fake.violations.append(f"bad system_id {system_id!r}")
                    if not data.get("info", {}).get("features", {}).get("refspecs"):
                        fake.violations.append("info.features.refspecs not advertised")
                    with fake.lock:
                        version = str(fake.queue_version)
                        if data.get("last_update") == version or not fake.queue:
                            return self._send(204, b"", {"X-GitLab-Last-Update": version})
                        job = fake.jobs[fake.queue.popleft()]
                        job.state = "running"
                    return self._send(201, json.dumps(job.payload).encode(),
                                      {"Content-Type": "application/json"})
                return self._send(404)

            def do_PUT(self):
                parts = self.path.strip("/").split("/")
                body = json.loads(self._body() or b"{}")
                if len(parts) != 4 or parts[2] != "jobs":
                    return self._send(404)
                job = self._job(parts[3])
                if job is None:
                    return self._send(403)
                final = body.get("state") in ("success", "failed")
                handled, _ = self._fault("final" if final else "update", job)
                if handled:
                    return None
                if body.get("token") != job.token:
                    fake.violations.append("PUT without the job token in the body")
                with fake.lock:
                    job.put_count += 1
                    if job.state not in ("running", "canceling"):
                        job.after_terminal += 1
                        return self._send(403, b"", self._job_headers(job))
                    state = body.get("state")
                    if state == "running":
                        return self._send(200, b"200", self._job_headers(job))
                    if state not in ("success", "failed"):
                        return self._send(400)
                    job.final_attempts.append(body)
                    if fake.final_412_once:
                        fake.final_412_once = False
                        # The server lost the trace: the runner must send it all again.
                        job.trace = bytearray()
                        job.ranges.append(("reset",))
                        return self._send(412, b"", self._job_headers(job))
                    if fake.final_202 > 0:
                        fake.final_202 -= 1
                        return self._send(202, b"202", self._job_headers(job))
                    output = body.get("output", {})
                    expected = "crc32:%08x" % (zlib.crc32(bytes(job.trace)) & 0xFFFFFFFF)
                    if output.get("checksum") != expected or output.get("bytesize") != len(job.trace):
                        fake.violations.append(
                            f"job {job.id}: final checksum {output} != {expected}/{len(job.trace)}")
                    job.state = "canceled" if job.state == "canceling" else state
                    job.finals.append(body)
                    fake.changed.notify_all()
                    return self._send(200, b"200", self._job_headers(job))

            def do_PATCH(self):
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 5 or parts[4] != "trace":
                    return self._send(404)
                data = self._body()
                job = self._job(parts[3])
                if job is None:
                    return self._send(403)
                handled, action = self._fault("trace", job)
                if handled:
                    return None
                with fake.lock:
                    job.patch_count += 1
                    if job.state not in ("running", "canceling"):
                        job.after_terminal += 1
                        return self._send(403, b"", self._job_headers(job))
                    if self.headers.get("Content-Type") != "text/plain":
                        fake.violations.append("PATCH without Content-Type: text/plain")
                    content_range = self.headers.get("Content-Range")
                    if not content_range:
                        return self._send(400)
                    if not data:
                        fake.violations.append("empty PATCH")
                    start, end = (int(x) for x in content_range.split("-"))
                    if end != start + len(data) - 1:
                        fake.violations.append(f"Content-Range {content_range} for {len(data)} bytes")
                    if action and action.get("action") == "lose_tail":
                        del job.trace[action["keep"]:]
                        job.ranges.append(("truncate", action["keep"]))
                        return self._send(416, b"", {"Range": f"0-{len(job.trace)}",
                                                     **self._job_headers(job)})
                    if start != len(job.trace):
                        return self._send(416, b"", {"Range": f"0-{len(job.trace)}",
                                                     **self._job_headers(job)})
                    if fake.trace_limit is not None and start + len(data) > fake.trace_limit:
                        job.state = "failed"
                        return self._send(403, b"", self._job_headers(job))
                    job.trace.extend(data)
                    job.ranges.append((start, start + len(data)))
                    job.first_byte_times.append((start, time.monotonic()))
                    if action and action.get("action") == "drop_after_commit":
                        self._reset()
                        return None
                    return self._send(202, b"", {"Range": f"0-{len(job.trace)}",
                                                 **self._job_headers(job)})

        return Handler


def assert_ranges_contiguous(job):
    """Accepted ranges follow each other exactly (resets and truncations restart the count)."""
    position = 0
    for entry in job.ranges:
        if entry[0] == "reset":
            position = 0
            continue
        if entry[0] == "truncate":
            position = entry[1]
            continue
        start, end = entry
        assert start == position, f"range {entry} does not continue at {position}"
        position = end
    assert position == len(job.trace)
