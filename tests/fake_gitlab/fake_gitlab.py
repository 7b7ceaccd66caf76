#!/usr/bin/env python3
"""A protocol-faithful fake GitLab for stagehost's native runner: tests, benchmarks, fault injection.

It speaks the runner job API of `../shared/reference/gitlab-runner-api.md` (runner registration and
verification, `jobs/request`, `PUT jobs/:id`, `PATCH jobs/:id/trace`, artifact upload/download) and
enforces the rules of its §13 checklist. Every rule a client breaks is appended to
`FakeGitLab.violations`; a test passes only when that list is empty. Where this fake is stricter
than GitLab (checksum mismatch, inclusive Content-Range end, resending acknowledged bytes …) the
README says so.

Fault hooks (reliability.md §3: 5xx/429 scripts, outages, commit-then-drop, 416 lies, RST mid-body,
stalls, throttles, bogus interval headers, persistent 404s) are settable at runtime from any thread.

Two ways to use it:
  * in-process from pytest:  `with FakeGitLab(interval="1") as fake: fake.add_runner(...)`;
  * standalone for benchmarks: `python3 fake_gitlab.py --port 0 [--state-dir DIR]` prints the bound
    port on its first stdout line and offers a JSON control API under `/__fake/`.

Python 3.11 standard library only. The trace of each job lives in a temp file (never a growing
bytes object) and every per-request cost is O(body), so a 1 GiB trace in 1 MiB PATCHes is cheap.
"""

import argparse
import base64
import collections
import hashlib
import http
import io
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler

API = "/api/v4"
MIB = 1 << 20
TRACE_PATCH_LIMIT = MIB                 # DefaultTracePatchLimit: a PATCH body above this is a violation
DEFAULT_TRACE_SIZE_LIMIT = 100 * 1000 * 1000   # ci_jobs_trace_size_limit (100 MB)
LONG_POLL_BODY_LIMIT = 32 * 1024        # Workhorse reads at most 32 KiB of jobs/request body
REPLAY_CHECK_LIMIT = 64 * MIB           # tails kept to check that resent bytes are identical
SYSTEM_ID = re.compile(r"^[sr]_[0-9A-Za-z]{12}$")
CONTENT_RANGE = re.compile(r"^(\d+)-(\d+)$")
ALWAYS_SENDABLE_REASONS = {"script_failure", "runner_system_failure", "job_execution_timeout"}
DEFAULT_FAILURE_REASONS = ["unknown_failure", "script_failure", "runner_system_failure",
                           "job_execution_timeout"]
API_ENDPOINTS = ("verify", "register", "reset_token", "unregister", "unregister_manager", "request",
                 "update", "final", "trace", "artifacts_upload", "artifacts_download",
                 "object_storage")
JOB_ENDPOINTS = ("update", "final", "trace", "artifacts_upload", "artifacts_download")
ACTIVE = ("running", "canceling")
TERMINAL = ("success", "failed", "canceled")
LOGGED_REQUEST_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Transfer-Encoding",
                          "User-Agent", "X-Request-Id", "Accept", "Location")
LOGGED_RESPONSE_HEADERS = ("Job-Status", "Range", "X-GitLab-Trace-Update-Interval",
                           "X-GitLab-Last-Update", "Retry-After", "Location",
                           "Gitlab-Ci-Builds-Polling")


class TraceRange(tuple):
    """An accepted trace append: `start`, `end` (exclusive) and the monotonic `time` of acceptance."""

    __slots__ = ()

    def __new__(cls, start, end, when):
        return super().__new__(cls, (start, end, when))

    start = property(lambda self: self[0])
    end = property(lambda self: self[1])
    time = property(lambda self: self[2])


class RequestRecord:
    """One request as the server saw it (for assertions on counts, timing and headers)."""

    __slots__ = ("time", "method", "path", "endpoint", "status", "job_id", "body_length",
                 "headers", "response_headers", "duration")

    def __init__(self, when, method, path, endpoint, status, job_id, body_length, headers,
                 response_headers, duration):
        self.time, self.method, self.path, self.endpoint = when, method, path, endpoint
        self.status, self.job_id, self.body_length = status, job_id, body_length
        self.headers, self.response_headers, self.duration = headers, response_headers, duration

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __iter__(self):
        # `for t, method, path, status in fake.requests` (the interim fake's tuple shape)
        return iter((self.time, self.method, self.path, self.status))

    def __repr__(self):
        return f"<{self.method} {self.path} -> {self.status} ({self.endpoint})>"


class Runner:
    """A runner (authentication token) and the managers (`system_id`s) that used it."""

    def __init__(self, runner_id, token, paused):
        self.id = runner_id
        self.token = token
        self.paused = paused
        self.version = 1                # the opaque queue value is derived from it
        self.managers = {}              # system_id -> last `info` sent
        self.infos = []                 # every `info` received (verify, request, PUT)
        self.verified = 0

    @property
    def queue_value(self):
        return f"{self.id}-{self.version}"

    def features(self, system_id=None):
        info = self.managers.get(system_id) if system_id else (self.infos[-1] if self.infos else None)
        return dict((info or {}).get("features") or {})


class Upload:
    """An accepted artifact upload; the file part is kept on disk at `path`."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def data(self):
        with open(self.path, "rb") as f:
            return f.read()

    def files(self):
        """The uploaded files by name, unpacked as GitLab would: zip entries (directories end in
        '/'), each gzip member under the name in its header, or the raw body under `filename`."""
        data = self.data()
        if self.artifact_format == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return {info.filename: archive.read(info) for info in archive.infolist()}
        if self.artifact_format == "gzip":
            return _gzip_members(data)
        return {self.filename: data}

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items()}


def _gzip_members(data):
    """{name: bytes} of a multi-member gzip stream (RFC 1952); raises ValueError when malformed."""
    members, pos = {}, 0
    while pos < len(data):
        if data[pos:pos + 3] != b"\x1f\x8b\x08":
            raise ValueError(f"no gzip member at offset {pos}")
        flags = data[pos + 3]
        pos += 10
        if flags & 4:                   # FEXTRA
            pos += 2 + int.from_bytes(data[pos:pos + 2], "little")
        name = ""
        if flags & 8:                   # FNAME
            end = data.index(b"\0", pos)
            name = data[pos:end].decode("latin-1")
            pos = end + 1
        if flags & 16:                  # FCOMMENT
            pos = data.index(b"\0", pos) + 1
        if flags & 2:                   # FHCRC
            pos += 2
        inflater = zlib.decompressobj(-15)
        body = inflater.decompress(data[pos:])
        if not inflater.eof:
            raise ValueError("truncated gzip member")
        trailer = inflater.unused_data[:8]
        if zlib.crc32(body) != int.from_bytes(trailer[:4], "little"):
            raise ValueError(f"gzip member {name!r}: CRC mismatch")
        members[name] = body
        pos = len(data) - len(inflater.unused_data) + 8
    return members

    def __repr__(self):
        return f"<Upload {self.artifact_type}/{self.artifact_format} {self.filename} {self.size} B>"


class Job:
    """One job: payload, state, trace file and everything the tests want to assert on."""

    def __init__(self, fake, job_id, token, payload, trace_path):
        self.fake = fake
        self.id = job_id
        self.token = token
        self.payload = payload
        self.state = "pending"
        self.history = [(time.monotonic(), "pending")]
        self.runner = None              # token of the runner that picked it
        self.system_id = None
        self.runner_only = None         # only this runner token may pick it
        self.needs_features = ()
        self.acked = False
        self.trace_path = trace_path
        self._fd = None
        self.trace_length = 0
        self._crc = 0
        self._crc_valid = True
        self._sha_cache = None
        self.accepted_ranges = []       # TraceRange, in order
        self.trace_events = []          # (time, kind, detail): truncations, 412 resets, lies
        self.patch_count = 0
        self.put_count = 0
        self.heartbeats = 0
        self.final_updates = []         # dicts: time, status, accepted, body, checksum_ok, note
        self.final_body = None
        self.failure_reason = None
        self.exit_code = None
        self.final_202_left = fake._final_202_default
        self.final_412_pending = fake._final_412_default
        self.final_answer_lost = False
        self.told_length = 0            # the trace length last reported to the client
        self.told_terminal_at = None    # when the client was last told the job is over
        self.late_requests = []         # (time, method, endpoint, told) after a terminal state
        self.replay = None              # (start, bytes) previously held: resends must match
        self.plain_403 = False          # answer 403 without Job-Status (token invalidated)
        self.token_expired = False
        self.uploads = []               # accepted artifact uploads (Upload)
        self.upload_attempts = []       # every upload attempt: status, sha256, size, params
        self.download_count = 0

    # ---- trace storage (a file; crc32 incremental, sha256 on demand) --------------------------
    def _append(self, start, data):
        if self._fd is None:
            self._fd = os.open(self.trace_path, os.O_RDWR | os.O_CREAT, 0o600)
        view = memoryview(data)
        offset = start
        while view:
            written = os.pwrite(self._fd, view, offset)
            view = view[written:]
            offset += written
        if self._crc_valid:
            self._crc = zlib.crc32(data, self._crc)
        self.trace_length = start + len(data)
        self._sha_cache = None

    def _truncate(self, keep):
        """Drops the stored tail beyond `keep`; remembers it so a resend can be compared."""
        keep = max(0, min(keep, self.trace_length))
        lost = self.trace_length - keep
        if lost and lost <= REPLAY_CHECK_LIMIT:
            self.replay = (keep, self._read(keep, lost))
        else:
            self.replay = None
        if self._fd is not None:
            os.ftruncate(self._fd, keep)
        self.trace_length = keep
        self._crc_valid = False
        self._sha_cache = None
        self.told_length = min(self.told_length, keep)

    def _read(self, offset, length):
        if length <= 0 or not os.path.exists(self.trace_path):
            return b""
        with open(self.trace_path, "rb") as f:
            f.seek(offset)
            return f.read(length)

    def _close_trace(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def trace_bytes(self):
        """The stored trace (the whole file: use trace_sha256/trace_length for huge logs)."""
        with self.fake.lock:
            return self._read(0, self.trace_length)

    @property
    def trace(self):
        return self.trace_bytes()

    def trace_crc32(self):
        with self.fake.lock:
            if not self._crc_valid:
                crc = 0
                for chunk in self._chunks():
                    crc = zlib.crc32(chunk, crc)
                self._crc, self._crc_valid = crc, True
            return self._crc & 0xFFFFFFFF

    def trace_checksum(self):
        return "crc32:%08x" % self.trace_crc32()

    def trace_sha256(self):
        with self.fake.lock:
            if self._sha_cache and self._sha_cache[0] == self.trace_length:
                return self._sha_cache[1]
            digest = hashlib.sha256()
            for chunk in self._chunks():
                digest.update(chunk)
            self._sha_cache = (self.trace_length, digest.hexdigest())
            return self._sha_cache[1]

    def _chunks(self, size=4 * MIB):
        if not self.trace_length:
            return
        with open(self.trace_path, "rb") as f:
            remaining = self.trace_length
            while remaining:
                chunk = f.read(min(size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    # ---- convenience views ---------------------------------------------------------------------
    @property
    def finals(self):
        """Accepted final PUT bodies (exactly one when the job ended through the runner)."""
        return [u["body"] for u in self.final_updates if u["accepted"]]

    @property
    def final_attempts(self):
        return [u["body"] for u in self.final_updates]

    @property
    def after_terminal(self):
        """Number of calls received after the job reached a terminal state."""
        return len(self.late_requests)

    @property
    def first_byte_times(self):
        """(start offset, monotonic arrival time) of each accepted PATCH."""
        return [(r.start, r.time) for r in self.accepted_ranges]

    def check_ranges(self):
        """Accepted ranges replayed with the server's own truncations give the stored length and
        never overlap or leave a gap; returns a list of problems (empty when all is well)."""
        problems = []
        position = 0
        events = sorted([(r.time, 1, r) for r in self.accepted_ranges] +
                        [(t, 0, (kind, detail)) for t, kind, detail in self.trace_events
                         if kind in ("truncate", "reset")], key=lambda e: (e[0], e[1]))
        for _, is_range, item in events:
            if not is_range:
                position = item[1]
                continue
            if item.start != position:
                problems.append(f"range {item.start}-{item.end} does not continue at {position}")
            position = item.end
        if position != self.trace_length:
            problems.append(f"ranges end at {position}, stored length {self.trace_length}")
        return problems

    def summary(self):
        with self.fake.lock:
            return {
                "id": self.id, "token": self.token, "state": self.state, "runner": self.runner,
                "acked": self.acked, "trace_length": self.trace_length,
                "trace_sha256": self.trace_sha256(), "trace_checksum": self.trace_checksum(),
                "accepted_ranges": [list(r) for r in self.accepted_ranges],
                "trace_events": [list(e) for e in self.trace_events],
                "final_updates": self.final_updates, "failure_reason": self.failure_reason,
                "exit_code": self.exit_code, "patch_count": self.patch_count,
                "put_count": self.put_count, "heartbeats": self.heartbeats,
                "late_requests": [list(r) for r in self.late_requests],
                "uploads": [u.as_dict() for u in self.uploads],
                "upload_attempts": self.upload_attempts, "history": self.history,
                "range_problems": self.check_ranges(),
            }

    def __repr__(self):
        return f"<Job {self.id} {self.state} {self.trace_length} B>"


class Faults:
    """Runtime-settable fault hooks. All access happens under FakeGitLab.lock."""

    def __init__(self):
        self.scripts = collections.defaultdict(collections.deque)
        self.random = None              # (rate, rng, endpoints, statuses)
        self.outage = None              # (until, mode, endpoints, status)
        self.not_found = None           # (until, endpoints)
        self.throttle = None            # (bytes_per_second, latency, endpoints)
        self.stall_connections_until = 0.0

    @staticmethod
    def matches(endpoints, endpoint):
        return endpoints is None or endpoint in endpoints

    def take(self, *endpoints):
        for endpoint in endpoints:
            queue = self.scripts.get(endpoint)
            if queue:
                return normalize_item(queue.popleft())
        return None

    def outage_mode(self, endpoint):
        if self.outage and time.monotonic() < self.outage[0] and self.matches(self.outage[2], endpoint):
            return self.outage[1], self.outage[3]
        return None, None

    def refusing(self):
        return bool(self.outage and self.outage[1] == "refuse" and time.monotonic() < self.outage[0])

    def not_found_now(self, endpoint):
        return bool(self.not_found and time.monotonic() < self.not_found[0]
                    and self.matches(self.not_found[1], endpoint))

    def random_status(self, endpoint):
        if not self.random:
            return None
        rate, rng, endpoints, statuses = self.random
        if self.matches(endpoints, endpoint) and rng.random() < rate:
            return rng.choice(statuses)
        return None

    def throttle_for(self, endpoint):
        if self.throttle and self.matches(self.throttle[2], endpoint):
            return self.throttle[0], self.throttle[1]
        return None, 0.0


def normalize_item(item):
    """A scripted response: 503, (429, {"Retry-After": "7"}), "commit_drop", or a dict with
    `status`/`headers`/`body` and/or `action` (see FakeGitLab.script)."""
    if isinstance(item, int):
        return {"status": item}
    if isinstance(item, str):
        return {"action": {"drop_after_commit": "commit_drop"}.get(item, item)}
    if isinstance(item, (tuple, list)):
        out = {"status": int(item[0])}
        if len(item) > 1:
            out["headers"] = dict(item[1])
        if len(item) > 2:
            out["body"] = item[2]
        return out
    out = dict(item)
    if out.get("action") == "drop_after_commit":
        out["action"] = "commit_drop"
    return out


def assert_ranges_contiguous(job):
    """Asserts the job's accepted ranges are contiguous, non-overlapping and end at its length."""
    problems = job.check_ranges()
    assert not problems, problems


class FakeGitLab:
    """Threaded fake GitLab on 127.0.0.1. `url` is the base URL without `/api/v4`.

    Main options: `interval` = X-GitLab-Trace-Update-Interval value (str/int, None = omitted),
    `state_dir` (trace and artifact files; a temp dir removed on stop() when not given),
    `long_poll` (seconds, None = off), `trace_size_limit`, `artifact_size_limit`,
    `object_storage` (second listener for 302 downloads), `required_features` (jobs are given
    only to runners advertising them; missing `refspecs` is also a violation), `require_ack`
    (a PATCH before `PUT state=running` is a violation), `late_grace` (seconds a client may
    keep sending after being told a job is over before it counts as a violation)."""

    def __init__(self, interval="3", state_dir=None, long_poll=None, port=0, host="127.0.0.1",
                 trace_size_limit=DEFAULT_TRACE_SIZE_LIMIT, artifact_size_limit=None,
                 object_storage=False, required_features=("refspecs",), require_ack=True,
                 late_grace=1.0, request_log_limit=None, plain_403_after_completion=False,
                 repository=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.interval = None if interval is None else str(interval)
        self.long_poll = long_poll
        self.held_requests = 0              # job requests being held by the long poll right now
        self.trace_size_limit = trace_size_limit
        self.artifact_size_limit = artifact_size_limit
        self.required_features = tuple(required_features)
        self.require_ack = require_ack
        self.late_grace = late_grace
        self.plain_403_after_completion = plain_403_after_completion
        # A git work tree served as group/demo.git over smart HTTP (git http-backend), cloned with
        # the job token as GitLab expects; without one, jobs get GIT_STRATEGY=none.
        self.repository = None if repository is None else os.path.abspath(repository)
        self.git_requests = []          # (method, path, user) of every git HTTP request
        self.registration_tokens = set()
        self.registration_gone = False
        self.runners = {}               # token -> Runner
        self.jobs = {}                  # id -> Job
        self.queue = collections.deque()    # pending job ids, in order
        self.violations = []
        self.requests = collections.deque(maxlen=request_log_limit)
        self.counts = collections.Counter()   # endpoint and (endpoint, status)
        self.faults = Faults()
        self.final_202_interval = "1"
        self._final_202_default = 0
        self._final_412_default = False
        self._next_job_id = 1000
        self._next_runner_id = 10
        self._objects = {}              # object-storage key -> (path, filename)
        self._rng = random.Random(4)
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="fake-gitlab-")
        os.makedirs(self.state_dir, exist_ok=True)
        self._stopping = threading.Event()
        self._host = host
        self._main = _Listener(self, host, port, "api")
        self._storage = _Listener(self, host, 0, "storage") if object_storage else None
        self.started = False

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self):
        if not self.started:
            self._main.start()
            if self._storage:
                self._storage.start()
            self.started = True
        return self

    def stop(self):
        self._stopping.set()
        self._main.stop()
        if self._storage:
            self._storage.stop()
        with self.lock:
            for job in self.jobs.values():
                job._close_trace()
            self.cond.notify_all()
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._main.port

    @property
    def url(self):
        return f"http://{self._host}:{self._main.port}"

    @property
    def api_url(self):
        return self.url + API

    @property
    def object_storage_url(self):
        return f"http://{self._host}:{self._storage.port}" if self._storage else None

    def enable_object_storage(self):
        """Starts the second ("object storage") listener used for 302 artifact downloads."""
        with self.lock:
            if self._storage is None:
                self._storage = _Listener(self, self._host, 0, "storage")
                if self.started:
                    self._storage.start()
        return self.object_storage_url

    # ---- runners -------------------------------------------------------------------------------
    def add_runner(self, token=None, paused=False):
        """Registers a runner authentication token (`glrt-…`); returns the token."""
        with self.lock:
            token = token or "glrt-" + secrets.token_urlsafe(15)
            self._next_runner_id += 1
            self.runners[token] = Runner(self._next_runner_id, token, paused)
            return token

    def runner(self, token):
        with self.lock:
            return self.runners[token]

    def pause_runner(self, token, paused=True):
        with self.lock:
            runner = self.runners[token]
            runner.paused = paused
            runner.version += 1
            self.cond.notify_all()

    def remove_runner(self, token):
        with self.lock:
            self.runners.pop(token, None)

    def add_registration_token(self, token):
        """Enables the legacy `POST /runners` flow for this registration token."""
        with self.lock:
            self.registration_tokens.add(token)

    # ---- jobs ----------------------------------------------------------------------------------
    def enqueue_job(self, script=None, *, after_script=None, steps=None, variables=(),
                    timeout=3600, artifacts=(), dependencies=(), features=None, needs_features=(),
                    runner=None, dependency_token="running", final_202=None, final_412=None,
                    **overrides):
        """Queues a pending job with a realistic §5 payload; returns its id.

        `script`/`after_script` are lists of shell lines (or pass `steps` verbatim); `variables`
        are appended after the predefined ones (CI_JOB_TOKEN masked …); `artifacts` entries get
        GitLab's defaults; `dependencies` are job ids (or full dicts); `features` replaces the
        payload's `features`; `needs_features` names runner features the job requires;
        `runner` restricts pickup to one runner token; other keyword arguments replace top-level
        payload fields (`image`, `services`, `cache`, `job_info`, `git_info` …)."""
        with self.lock:
            self._next_job_id += 1
            job_id = self._next_job_id
            token = f"glcbt-{secrets.token_hex(10)}"
            payload = self._payload(job_id, token, script, after_script, steps, variables, timeout,
                                    artifacts, dependencies, features, dependency_token)
            for key, value in overrides.items():
                if isinstance(value, dict) and isinstance(payload.get(key), dict):
                    payload[key] = {**payload[key], **value}
                else:
                    payload[key] = value
            job = Job(self, job_id, token, payload, os.path.join(self.state_dir, f"trace-{job_id}"))
            job.needs_features = tuple(needs_features)
            job.runner_only = runner
            if final_202 is not None:
                job.final_202_left = final_202
            if final_412 is not None:
                job.final_412_pending = final_412
            self.jobs[job_id] = job
            self.queue.append(job_id)
            for r in self.runners.values():
                if runner is None or r.token == runner:
                    r.version += 1
            self.cond.notify_all()
            return job_id

    def _payload(self, job_id, token, script, after_script, steps, variables, timeout, artifacts,
                 dependencies, features, dependency_token):
        sha = hashlib.sha1(f"commit-{job_id}".encode()).hexdigest()
        if self.repository:
            sha = subprocess.run(["git", "-C", self.repository, "rev-parse", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        before = hashlib.sha1(f"before-{job_id}".encode()).hexdigest()
        repo_url = f"http://gitlab-ci-token:{token}@127.0.0.1:{self.port}/group/demo.git"
        if steps is None:
            steps = [{"name": "script", "script": list(script or ["echo hello"]), "timeout": timeout,
                      "when": "on_success", "allow_failure": False}]
            if after_script:
                steps.append({"name": "after_script", "script": list(after_script),
                              "timeout": timeout, "when": "always", "allow_failure": True})
        predefined = [
            ("CI", "true", True, False), ("GITLAB_CI", "true", True, False),
            ("CI_SERVER_URL", self.url, True, False), ("CI_SERVER_HOST", self._host, True, False),
            ("CI_JOB_ID", str(job_id), True, False), ("CI_JOB_NAME", "test", True, False),
            ("CI_JOB_STAGE", "test", True, False), ("CI_JOB_TOKEN", token, False, True),
            ("CI_JOB_URL", f"{self.url}/group/demo/-/jobs/{job_id}", True, False),
            ("CI_PIPELINE_ID", "77", True, False), ("CI_PROJECT_ID", "4", True, False),
            ("CI_PROJECT_NAME", "demo", True, False), ("CI_PROJECT_PATH", "group/demo", True, False),
            ("CI_COMMIT_SHA", sha, True, False), ("CI_COMMIT_REF_NAME", "main", True, False),
            ("CI_REPOSITORY_URL", repo_url, False, False),
            ("CI_REGISTRY_PASSWORD", token, False, True),
        ]
        all_variables = []
        for key, value, public, masked in predefined:
            entry = {"key": key, "value": value, "public": public}
            if masked:
                entry["masked"] = True
            all_variables.append(entry)
        if not self.repository:
            all_variables.append({"key": "GIT_STRATEGY", "value": "none", "public": True})
        all_variables += [dict(v) for v in variables]
        deps = []
        for dep in dependencies:
            if isinstance(dep, dict):
                deps.append(dict(dep))
                continue
            dep_job = self.jobs[int(dep)]
            entry = {"id": dep_job.id, "name": f"job{dep_job.id}",
                     "token": token if dependency_token == "running" else dep_job.token}
            archive = self._archive_of(dep_job)
            if archive:
                entry["artifacts_file"] = {"filename": archive.filename, "size": archive.size}
            deps.append(entry)
        return {
            "id": job_id, "token": token, "allow_git_fetch": True,
            "job_info": {"id": job_id, "name": "test", "stage": "test", "pipeline_id": 77,
                         "project_id": 4, "project_name": "demo",
                         "project_full_path": "group/demo", "namespace_id": 2,
                         "root_namespace_id": 2, "time_in_queue_seconds": 0, "queue_size": 0,
                         "queue_depth": 0},
            "git_info": {"repo_url": repo_url, "repo_object_format": "sha1", "ref": "main",
                         "sha": sha, "before_sha": before, "ref_type": "branch",
                         "refspecs": ["+refs/heads/main:refs/remotes/origin/main"], "depth": 20,
                         "protected": False},
            "runner_info": {"timeout": timeout, "runner_session_url": None},
            "variables": all_variables,
            "steps": steps,
            "image": None, "services": [],
            "artifacts": [self._artifact_defaults(a) for a in artifacts],
            "cache": [], "credentials": [], "dependencies": deps,
            "features": features if features is not None else {
                "trace_sections": True, "token_mask_prefixes": [],
                "failure_reasons": list(DEFAULT_FAILURE_REASONS)},
        }

    @staticmethod
    def _artifact_defaults(entry):
        out = {"name": None, "untracked": False, "paths": [], "when": "on_success",
               "expire_in": None, "artifact_type": "archive", "artifact_format": "zip"}
        out.update(entry)
        return out

    def job(self, job_id):
        """The Job object (accepts a Job too)."""
        if isinstance(job_id, Job):
            return job_id
        with self.lock:
            return self.jobs[int(job_id)]

    def cancel(self, job_id, graceful=True, plain_403=False):
        """Graceful: `canceling` (only if the picking runner advertised `cancel_gracefully`, as in
        GitLab; otherwise like hard). Hard: `canceled`, next call gets 403 + Job-Status: canceled.
        `plain_403`: the next calls get a plain 403 without Job-Status (token invalidated)."""
        with self.lock:
            job = self.job(job_id)
            if job.state in TERMINAL:
                return job.state
            if job.state == "pending":
                self._drop_pending(job)
                self._set_state(job, "canceled")
                return job.state
            runner = self.runners.get(job.runner)
            graceful_ok = bool(runner and runner.features(job.system_id).get("cancel_gracefully"))
            if graceful and graceful_ok and not plain_403:
                self._set_state(job, "canceling")
            else:
                if graceful and not graceful_ok:
                    job.trace_events.append((time.monotonic(), "note",
                                             "cancel_gracefully not advertised: hard cancel"))
                job.plain_403 = plain_403
                self._set_state(job, "canceled")
            return job.state

    def drop(self, job_id, failure_reason="unknown_failure", plain_403=False):
        """Server-side failure of a running job (e.g. stuck, data_integrity_failure)."""
        with self.lock:
            job = self.job(job_id)
            job.failure_reason = failure_reason
            job.plain_403 = plain_403
            self._drop_pending(job)
            self._set_state(job, "failed")

    def expire_job_token(self, job_id):
        """Next PUT/PATCH gets 403 `Job token has expired` and the job fails `job_token_expired`."""
        with self.lock:
            self.job(job_id).token_expired = True

    def set_artifact(self, job_id, data, filename="artifacts.zip", artifact_type="archive",
                     artifact_format="zip"):
        """Seeds an artifact for `job_id` (as if uploaded) so it can be a dependency."""
        with self.lock:
            job = self.job(job_id)
            path = os.path.join(self.state_dir, f"artifact-{job.id}-{len(job.uploads)}")
            with open(path, "wb") as f:
                f.write(data)
            upload = Upload(job_id=job.id, artifact_type=artifact_type,
                            artifact_format=artifact_format, expire_in=None, accessibility=None,
                            filename=filename, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), path=path, params={},
                            params_source={}, time=time.monotonic())
            job.uploads.append(upload)
            return upload

    def set_artifact_b64(self, job_id, data_b64, **kwargs):
        """set_artifact for control-API callers: JSON carries the bytes as base64."""
        upload = self.set_artifact(job_id, base64.b64decode(data_b64), **kwargs)
        return {"size": upload.size, "sha256": upload.sha256}

    def set_artifact_size_limit(self, limit):
        """Uploads larger than `limit` bytes get 413 (None: no limit)."""
        with self.lock:
            self.artifact_size_limit = limit

    def _archive_of(self, job):
        archives = [u for u in job.uploads if u.artifact_type == "archive"]
        return archives[-1] if archives else None

    def _drop_pending(self, job):
        try:
            self.queue.remove(job.id)
        except ValueError:
            pass

    def _set_state(self, job, state):
        job.state = state
        job.history.append((time.monotonic(), state))
        if state in TERMINAL:
            job._close_trace()
        self.cond.notify_all()

    # ---- observability -------------------------------------------------------------------------
    def trace_bytes(self, job_id):
        return self.job(job_id).trace_bytes()

    def trace_sha256(self, job_id):
        return self.job(job_id).trace_sha256()

    def state(self, job_id):
        return self.job(job_id).state

    def accepted_ranges(self, job_id):
        return list(self.job(job_id).accepted_ranges)

    def final_updates(self, job_id):
        return list(self.job(job_id).final_updates)

    def count(self, endpoint, status=None):
        """Number of requests to `endpoint` (optionally with that status). Also accepts the
        interim fake's form count("POST", "/jobs/request"): method + path substring."""
        with self.lock:
            if isinstance(status, str) and status.startswith("/"):
                return sum(1 for r in self.requests if r.method == endpoint and status in r.path)
            return self.counts[(endpoint, status)] if status is not None else self.counts[endpoint]

    def requests_for(self, endpoint=None, job_id=None):
        with self.lock:
            return [r for r in self.requests if (endpoint is None or r.endpoint == endpoint)
                    and (job_id is None or r.job_id == job_id)]

    def wait_until(self, predicate, timeout=30.0, interval=0.05):
        """Waits until predicate() is truthy (re-checked on every request and every `interval`);
        returns its value or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self.cond.wait(min(interval, left))

    def wait_for_state(self, job_id, states, timeout=30.0):
        """Waits until the job is in one of `states` (a str or a collection); returns the state."""
        job = self.job(job_id)
        states = (states,) if isinstance(states, str) else tuple(states)
        return self.wait_until(lambda: job.state if job.state in states else None, timeout)

    def wait_final(self, job_id, timeout=30.0):
        """Waits for an accepted final PUT; returns its body (None on timeout)."""
        job = self.job(job_id)
        try:
            return self.wait_until(lambda: job.finals[0] if job.finals else None, timeout)
        except TimeoutError:
            return None

    def violation(self, text):
        with self.lock:
            self.violations.append(text)

    def check(self, job_ids=None):
        """All violations plus range problems of the given (default: all) jobs, as a list."""
        with self.lock:
            problems = list(self.violations)
            for job in (self.jobs.values() if job_ids is None else [self.job(j) for j in job_ids]):
                problems += [f"job {job.id}: {p}" for p in job.check_ranges()]
            return problems

    # ---- fault hooks ---------------------------------------------------------------------------
    def script(self, endpoint, *items):
        """Queues scripted responses for an endpoint, consumed one per request, e.g.
        `script("trace", [500, 502, (429, {"Retry-After": "7"}), 412, "commit_drop"])`.

        Endpoints: verify register reset_token unregister unregister_manager request update
        (PUT running/pending) final (PUT success/failed) put (any PUT, after final/update)
        trace artifacts_upload artifacts_download object_storage.
        Items: a status int; (status, headers[, body]); an action string; or a dict with
        `status`/`headers`/`body` or `action` plus its argument:
          pass               no fault (consumes one request)
          delay: s           answer normally after s seconds
          stall: s           stop reading/answering after the headers, hold the socket s seconds
          rst                RST before reading the body; rst_after: n = RST after n body bytes
          close              read the body, close without answering, apply nothing
          commit_drop        apply the request, then close without answering (rst: true = RST)
          lie_416: n         (trace) answer 416 with Range 0-n, apply nothing
          lose_tail: n       (trace) truncate the stored trace to n bytes, then handle normally
          truncate_body: n   (downloads) send the headers and only n body bytes, then close"""
        if len(items) == 1 and isinstance(items[0], list):
            items = items[0]
        with self.lock:
            self.faults.scripts[endpoint].extend(items)

    def clear_faults(self):
        with self.lock:
            self.faults = Faults()
            self.cond.notify_all()

    def random_errors(self, rate, seed=1, endpoints=None, statuses=(500, 502, 503, 504)):
        """Answers a share `rate` of requests (to `endpoints`, default all) with a random status."""
        with self.lock:
            self.faults.random = ((rate, random.Random(seed), _endpoint_set(endpoints),
                                   tuple(statuses)) if rate else None)

    def burst(self, seconds, then_random=0.0, seed=1, endpoints=JOB_ENDPOINTS):
        """R1: 100 % 5xx for `seconds`, then `then_random` random 5xx."""
        with self.lock:
            self.faults.outage = (time.monotonic() + seconds, "status", _endpoint_set(endpoints),
                                  None)
        self.random_errors(then_random, seed=seed, endpoints=endpoints)

    def outage(self, seconds, mode="reset", endpoints=None):
        """Makes the server unavailable for `seconds`. mode: "refuse" (listener closed: connection
        refused), "reset" (RST at once), "close" (close without answering), or a status (502)."""
        with self.lock:
            status = None
            if isinstance(mode, int) or (isinstance(mode, str) and mode.isdigit()):
                status, mode = int(mode), "status"
            self.faults.outage = (time.monotonic() + seconds, mode, _endpoint_set(endpoints), status)

    def not_found(self, seconds, endpoints=("trace", "update", "final")):
        """Answers 404 on these endpoints for `seconds` (a proxy losing the route)."""
        with self.lock:
            self.faults.not_found = (time.monotonic() + seconds, _endpoint_set(endpoints))

    def throttle(self, bytes_per_second=None, latency=0.0, endpoints=None):
        """Reads request bodies at `bytes_per_second` and delays every answer by `latency` s;
        throttle() with no arguments removes it."""
        with self.lock:
            self.faults.throttle = ((bytes_per_second, latency, _endpoint_set(endpoints))
                                    if bytes_per_second or latency else None)

    def stall_connections(self, seconds):
        """New TCP connections are accepted but never read or answered for `seconds`."""
        with self.lock:
            self.faults.stall_connections_until = time.monotonic() + seconds

    def set_interval(self, value):
        """X-GitLab-Trace-Update-Interval on PUT/PATCH answers; any string (bogus values welcome),
        None omits the header."""
        with self.lock:
            self.interval = None if value is None else str(value)

    def final_202(self, count, interval="1", job_id=None):
        """Answers the next `count` final PUTs of a job with 202 + X-GitLab-Trace-Update-Interval =
        `interval` (for job_id, or for every unfinished and future job)."""
        with self.lock:
            self.final_202_interval = str(interval)
            for job in self._targets(job_id):
                job.final_202_left = count
            if job_id is None:
                self._final_202_default = count

    def final_412_once(self, job_id=None):
        """The next final PUT gets 412 and the stored trace is reset: the client must resend it all."""
        with self.lock:
            for job in self._targets(job_id):
                job.final_412_pending = True
            if job_id is None:
                self._final_412_default = True

    def _targets(self, job_id):
        if job_id is not None:
            return [self.job(job_id)]
        return [j for j in self.jobs.values() if j.state not in TERMINAL]

    # ---- request handling (called from handler threads) ----------------------------------------
    def _record(self, record):
        with self.lock:
            self.requests.append(record)
            self.counts[record.endpoint] += 1
            self.counts[(record.endpoint, record.status)] += 1
            self.cond.notify_all()

    def _job_headers(self, job):
        headers = {"Job-Status": job.state}
        if self.interval is not None:
            headers["X-GitLab-Trace-Update-Interval"] = self.interval
        return headers


def _endpoint_set(endpoints):
    if endpoints is None:
        return None
    if isinstance(endpoints, str):
        return frozenset([endpoints])
    return frozenset(endpoints)


# ---- HTTP plumbing -------------------------------------------------------------------------------
class _Listener:
    """Accept loop with a thread per connection; can close and re-open its port (outage "refuse")
    and hold new connections without reading them (stall_connections)."""

    def __init__(self, fake, host, port, kind):
        self.fake = fake
        self.host = host
        self.port = port
        self.kind = kind
        self.sock = None
        self.thread = None
        self.connections = set()
        self.conn_lock = threading.Lock()
        self._bind()                    # so `url` is known before start()

    def _bind(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(256)
        self.port = sock.getsockname()[1]
        self.sock = sock

    def start(self):
        self.thread = threading.Thread(target=self._loop, name=f"fake-gitlab-{self.kind}",
                                       daemon=True)
        self.thread.start()

    def _loop(self):
        fake = self.fake
        while not fake._stopping.is_set():
            with fake.lock:
                refusing = self.kind == "api" and fake.faults.refusing()
                stall = time.monotonic() < fake.faults.stall_connections_until
            if refusing:
                if self.sock is not None:
                    self.sock.close()       # connection refused from now on
                    self.sock = None
                time.sleep(0.01)
                continue
            if self.sock is None:
                try:
                    self._bind()
                except OSError:
                    time.sleep(0.01)
                    continue
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.05)
                if not ready:
                    continue
                conn, addr = self.sock.accept()
            except OSError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            target = self._hold if stall else self._serve
            threading.Thread(target=target, args=(conn, addr), daemon=True).start()

    def _track(self, conn, add):
        with self.conn_lock:
            (self.connections.add if add else self.connections.discard)(conn)

    def _hold(self, conn, addr):
        """Accept-then-stall: never read, never answer, until the stall ends or stop()."""
        self._track(conn, True)
        until = self.fake.faults.stall_connections_until
        self.fake._stopping.wait(max(0.0, until - time.monotonic()))
        self._close(conn)

    def _serve(self, conn, addr):
        self._track(conn, True)
        try:
            _Handler(conn, addr, self)
        except OSError:                 # a client vanishing mid-request is not our failure
            pass
        except Exception:               # a bug in the fake must fail the test, not look like a fault
            self.fake.violation("fake GitLab handler crashed:\n" + traceback.format_exc())
        finally:
            self._close(conn)

    def _close(self, conn):
        self._track(conn, False)
        try:
            conn.close()
        except OSError:
            pass

    def stop(self):
        if self.thread:
            self.thread.join(timeout=2)
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        with self.conn_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Drop(Exception):
    """Raised to end a request without an answer (the connection is already closed)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300                       # idle keep-alive connections are closed eventually
    server_version = "fake-gitlab"
    sys_version = ""

    def __init__(self, conn, addr, listener):
        self.listener = listener
        self.fake = listener.fake
        super().__init__(conn, addr, listener)

    def log_message(self, *args):
        pass

    # every method goes through one dispatcher
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # ---- per-request state ---------------------------------------------------------------------
    def _dispatch(self):
        self.t0 = time.monotonic()
        self.endpoint, self.job_id, self.body_length = "unknown", None, 0
        self.item = None
        self.drop_action = None
        self.response_headers = {}
        parsed = urllib.parse.urlsplit(self.path)
        self.route = parsed.path
        self.query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        try:
            if self.listener.kind == "storage":
                self.endpoint = "object_storage"
                return self._guarded(self._object_storage)
            if self.route.startswith("/__fake/"):
                self.endpoint = "control"
                return self._control()
            if self.route.startswith("/group/demo.git/"):
                self.endpoint = "git"
                return self._git()
            handler = self._route()
            if handler is None:
                self._read_body()
                return self._respond(404, b'{"message":"404 Not Found"}', json_body=True)
            return self._guarded(handler)
        except _Drop:
            self.close_connection = True

    def _route(self):
        method, path = self.command, self.route
        if not path.startswith(API + "/"):
            return None
        path = path[len(API):]
        table = [
            ("POST", r"/runners/verify", "verify", self._verify),
            ("POST", r"/runners/reset_authentication_token", "reset_token", self._reset_token),
            ("POST", r"/runners", "register", self._register),
            ("DELETE", r"/runners/managers", "unregister_manager", self._unregister_manager),
            ("DELETE", r"/runners", "unregister", self._unregister),
            ("POST", r"/jobs/request", "request", self._request_job),
            ("PUT", r"/jobs/(\d+)", "update", self._update),
            ("PATCH", r"/jobs/(\d+)/trace", "trace", self._trace),
            ("POST", r"/jobs/(\d+)/artifacts", "artifacts_upload", self._upload),
            ("GET", r"/jobs/(\d+)/artifacts", "artifacts_download", self._download),
        ]
        for m, pattern, endpoint, handler in table:
            match = re.fullmatch(pattern, path)
            if match and m == method:
                self.endpoint = endpoint
                if match.groups():
                    self.job_id = int(match.group(1))
                return handler
        return None

    def _guarded(self, handler):
        """Connection-level faults first (outage, pre-body script actions), then the handler."""
        fake = self.fake
        with fake.lock:
            mode, status = fake.faults.outage_mode(self.endpoint)
            if not mode and self.endpoint == "update":
                mode, status = fake.faults.outage_mode("final")
            if mode == "status" and status is None:
                status = fake._rng.choice((500, 502, 503, 504))
            if not mode and self.endpoint != "update":      # PUT scripts need the body's state
                self.item = fake.faults.take(self.endpoint)
        if mode in ("reset", "refuse"):
            self._reset("down")
        if mode == "close":
            self._read_body()
            self._hangup("down")
        if mode == "status":
            self._read_body()
            return self._respond(status, b"<html><body>502 Bad Gateway</body></html>",
                                 {"Content-Type": "text/html"})
        self._pre_body_action(self.item)
        with fake.lock:
            _, latency = fake.faults.throttle_for(self.endpoint)
        if latency:
            time.sleep(latency)         # R7: every answer comes `latency` seconds late
        handler()

    def _pre_body_action(self, item):
        if not item:
            return
        action = item.get("action")
        if action == "stall":
            self._stall(item.get("seconds", item.get("stall", 3600)))
        if action == "rst":
            self._reset("rst")
        if "rst_after" in item:
            self._read_body(limit=int(item["rst_after"]))
            self._reset("rst")
        if action == "delay" or "delay" in item:
            time.sleep(float(item.get("seconds", item.get("delay", 1))))

    def _post_body_faults(self, job=None):
        """After the body was read: persistent 404, scripted statuses, random errors, close."""
        fake = self.fake
        with fake.lock:
            if fake.faults.not_found_now(self.endpoint):
                status, headers, body = 404, {}, b'{"message":"404 Not Found"}'
            elif self.item and "status" in self.item:
                status = self.item["status"]
                headers = dict(self.item.get("headers") or {})
                body = self.item.get("body", b"")
                if status == 412 and job is not None and self.endpoint == "final":
                    job._truncate(0)
                    job.trace_events.append((time.monotonic(), "reset", 0))
            else:
                status = fake.faults.random_status(self.endpoint)
                headers, body = {}, b""
        if self.item and self.item.get("action") == "close":
            self._hangup("close")
        if status is None:
            return False
        if isinstance(body, str):
            body = body.encode()
        self._respond(status, body, headers)
        return True

    def _stall(self, seconds):
        self.fake._stopping.wait(float(seconds))
        self._hangup("stall")

    def _reset(self, status):
        """Closes the connection with RST (SO_LINGER 0) and ends the request unanswered."""
        self._log(status)               # before the close, so a test sees it once the client fails
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())
        except OSError:
            pass
        raise _Drop()

    def _hangup(self, status):
        self._log(status)
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Drop()

    # ---- body reading --------------------------------------------------------------------------
    def _body_chunks(self, limit=None, chunk=256 * 1024):
        """Yields the request body (Content-Length or chunked), throttled when asked. Stops after
        `limit` bytes when given."""
        with self.fake.lock:
            rate, _ = self.fake.faults.throttle_for(self.endpoint)
        if rate:
            chunk = max(1024, min(chunk, int(rate) // 10 or 1024))
        started = time.monotonic()
        delivered = 0
        for piece in self._raw_body(chunk):
            if limit is not None and delivered + len(piece) >= limit:
                piece = piece[:limit - delivered]
                delivered += len(piece)
                self.body_length = delivered
                yield piece
                return
            delivered += len(piece)
            self.body_length = delivered
            if rate:
                ahead = delivered / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            yield piece

    def _raw_body(self, chunk):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                remaining = size
                while remaining:
                    data = self.rfile.read(min(chunk, remaining))
                    if not data:
                        raise _Drop()
                    remaining -= len(data)
                    yield data
                self.rfile.readline(16)
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining:
            data = self.rfile.read(min(chunk, remaining))
            if not data:
                self.close_connection = True
                raise _Drop()
            remaining -= len(data)
            yield data

    def _read_body(self, limit=None):
        if self.command in ("GET", "HEAD", "DELETE") and not self.headers.get("Content-Length") \
                and not self.headers.get("Transfer-Encoding"):
            return b""
        length = int(self.headers.get("Content-Length") or 0)
        if limit is None and length and not self.headers.get("Transfer-Encoding"):
            with self.fake.lock:
                rate, _ = self.fake.faults.throttle_for(self.endpoint)
            if not rate:
                # The fast path for 1 MiB PATCHes: one buffer, filled in place.
                buf = bytearray(length)
                view = memoryview(buf)
                got = 0
                while got < length:
                    n = self.rfile.readinto(view[got:])
                    if not n:
                        self.close_connection = True
                        raise _Drop()
                    got += n
                self.body_length = length
                return buf
        return b"".join(self._body_chunks(limit=limit))

    def _json_body(self, require_json=True):
        body = self._read_body()
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if require_json and ctype != "application/json":
            self.fake.violation(f"{self.command} {self.route}: Content-Type {ctype or 'missing'}, "
                                "expected application/json")
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return body, None
        return body, data if isinstance(data, dict) else None

    # ---- answers -------------------------------------------------------------------------------
    def _respond(self, status, body=b"", headers=None, json_body=False):
        headers = dict(headers or {})
        if self.fake.long_poll and self.endpoint == "request":
            # Workhorse's long-poll handler marks every answer it handles, Rails' ones included.
            headers.setdefault("Gitlab-Ci-Builds-Polling", "yes")
        if json_body:
            headers.setdefault("Content-Type", "application/json")
        if self.drop_action:
            # commit_drop: the request was applied; the answer never reaches the client.
            self.response_headers = headers
            if self.drop_action.get("rst"):
                self._reset(f"dropped:{status}")
            self._hangup(f"dropped:{status}")
        lines = [f"HTTP/1.1 {status} {_reason(status)}",
                 "Server: fake-gitlab", f"Content-Length: {len(body)}"]
        for key, value in headers.items():
            if value is not None:
                lines.append(f"{key}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        self.response_headers = headers
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self._log(status)
        return True

    def _log(self, status):
        headers = {k: self.headers.get(k) for k in LOGGED_REQUEST_HEADERS if self.headers.get(k)}
        if self.headers.get("JOB-TOKEN"):
            headers["JOB-TOKEN"] = "present"
        response = {k: v for k, v in self.response_headers.items() if k in LOGGED_RESPONSE_HEADERS}
        now = time.monotonic()
        self.fake._record(RequestRecord(now, self.command, self.path, self.endpoint, status,
                                        self.job_id, self.body_length, headers, response,
                                        now - self.t0))

    # ---- runners -------------------------------------------------------------------------------
    def _check_identity(self, data, runner):
        system_id = data.get("system_id")
        if system_id is not None and not SYSTEM_ID.match(str(system_id)):
            self.fake.violation(f"{self.route}: bad system_id {system_id!r}")
        info = data.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("features"), dict):
            self.fake.violation(f"{self.route}: no info.features sent")
            return
        with self.fake.lock:
            runner.infos.append(info)
            if system_id:
                runner.managers[system_id] = info

    def _verify(self):
        _, data = self._json_body()
        if data is None:
            return self._respond(400, b'{"error":"invalid JSON"}', json_body=True)
        if self._post_body_faults():
            return None
        with self.fake.lock:
            runner = self.fake.runners.get(data.get("token"))
        if runner is None:
            return self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
        if not data.get("system_id"):
            self.fake.violation("runners/verify without system_id")
        self._check_identity(data, runner)
        with self.fake.lock:
            runner.verified += 1
        body = json.dumps({"id": runner.id, "token": runner.token, "token_expires_at": None})
        return self._respond(200, body.encode(), json_body=True)

    def _register(self):
        _, data = self._json_body()
        if data is None:
            return self._respond(400, b'{"error":"invalid JSON"}', json_body=True)
        if self._post_body_faults():
            return None
        fake = self.fake
        if fake.registration_gone:
            return self._respond(410, b'{"message":"410 Gone"}', json_body=True)
        with fake.lock:
            known = data.get("token") in fake.registration_tokens
        if not known:
            return self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
        token = fake.add_runner(paused=bool(data.get("paused")))
        runner = fake.runner(token)
        if isinstance(data.get("info"), dict):
            runner.infos.append(data["info"])
        body = json.dumps({"id": runner.id, "token": token, "token_expires_at": None})
        return self._respond(201, body.encode(), json_body=True)

    def _reset_token(self):
        _, data = self._json_body()
        if self._post_body_faults():
            return None
        fake = self.fake
        with fake.lock:
            runner = fake.runners.pop((data or {}).get("token"), None)
            if runner is None:
                return self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
            runner.token = "glrt-" + secrets.token_urlsafe(15)
            fake.runners[runner.token] = runner
        body = json.dumps({"token": runner.token, "token_expires_at": None})
        return self._respond(201, body.encode(), json_body=True)

    def _unregister(self):
        _, data = self._json_body()
        if self._post_body_faults():
            return None
        with self.fake.lock:
            runner = self.fake.runners.pop((data or {}).get("token"), None)
        return self._respond(204 if runner else 403)

    def _unregister_manager(self):
        _, data = self._json_body()
        if self._post_body_faults():
            return None
        data = data or {}
        with self.fake.lock:
            runner = self.fake.runners.get(data.get("token"))
            if runner is None:
                return self._respond(403)
            if runner.managers.pop(data.get("system_id"), None) is None:
                return self._respond(404)
        return self._respond(204)

    # ---- jobs/request --------------------------------------------------------------------------
    def _request_job(self):
        fake = self.fake
        raw, data = self._json_body()
        if data is None:
            return self._respond(400, b'{"error":"invalid JSON"}', json_body=True)
        if fake.long_poll and len(raw) > LONG_POLL_BODY_LIMIT:
            return self._respond(413)           # Workhorse refuses a big body when long polling
        if self._post_body_faults():
            return None
        with fake.lock:
            runner = fake.runners.get(data.get("token"))
        if runner is None:
            return self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
        self._check_identity(data, runner)
        features = (data.get("info") or {}).get("features") or {}
        if "refspecs" in fake.required_features and not features.get("refspecs"):
            fake.violation("jobs/request: info.features.refspecs not advertised")
        last_update = data.get("last_update")
        if fake.long_poll and data.get("token") and last_update:
            if self._long_poll(runner, last_update):
                return self._respond(204)       # changed or timed out: no X-GitLab-Last-Update
        with fake.lock:
            value = runner.queue_value
            if runner.paused or last_update == value:
                return self._respond(204, b"", {"X-GitLab-Last-Update": value})
            job = self._pick(runner, data, features)
            if job is None:
                return self._respond(204, b"", {"X-GitLab-Last-Update": value})
            body = json.dumps(job.payload).encode()
        self.job_id = job.id
        return self._respond(201, body, json_body=True)

    def _long_poll(self, runner, last_update):
        """Workhorse: hold while the queue value equals `last_update`; True = answer 204 now."""
        fake = self.fake
        deadline = time.monotonic() + fake.long_poll
        with fake.cond:
            if runner.queue_value != last_update:
                return False                    # already different: straight to Rails
            fake.held_requests += 1
            fake.cond.notify_all()
            try:
                while runner.queue_value == last_update and not fake._stopping.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    fake.cond.wait(left)
            finally:
                fake.held_requests -= 1
            return True

    def _pick(self, runner, data, features):
        """Atomic assignment under the lock: the first eligible pending job, to this request only."""
        fake = self.fake
        for job_id in list(fake.queue):
            job = fake.jobs[job_id]
            if job.runner_only and job.runner_only != runner.token:
                continue
            needed = set(fake.required_features) | set(job.needs_features)
            if any(not features.get(name) for name in needed):
                continue
            fake.queue.remove(job_id)
            job.runner = runner.token
            job.system_id = data.get("system_id")
            fake._set_state(job, "running")
            return job
        return None

    # ---- job-token auth ------------------------------------------------------------------------
    def _auth_job(self, body_token=None):
        """Returns the job when the call may proceed; otherwise answers 403 and returns None."""
        fake = self.fake
        token = self.headers.get("JOB-TOKEN") or self.query.get("token") or body_token
        with fake.lock:
            job = fake.jobs.get(self.job_id)
            if job is None or token != job.token:
                self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
                return None
            if job.token_expired and job.state in ACTIVE:
                job.failure_reason = "job_token_expired"
                fake._set_state(job, "failed")
                job.plain_403 = True
                job.told_terminal_at = time.monotonic()
                self._respond(403, b'{"message":"403 Forbidden - Job token has expired"}',
                              json_body=True)
                return None
            if job.state not in ACTIVE:
                self._late(job)
                return None
        return job

    def _late(self, job):
        """A call for a job that is over: 403 (+ Job-Status unless the token is invalidated)."""
        fake = self.fake
        now = time.monotonic()
        told = job.told_terminal_at
        job.late_requests.append((now, self.command, self.endpoint, told is not None))
        if self.endpoint == "final" and job.final_body is not None:
            job.final_updates.append({"time": now, "body": getattr(self, "put_body", None),
                                      "accepted": False, "status": 403, "checksum_ok": None,
                                      "note": "after the final state was accepted"})
            if job.final_answer_lost:
                job.final_answer_lost = False   # the first retry after a lost 200 is fine
            else:
                fake.violations.append(f"job {job.id}: final state sent again after it was "
                                       "accepted")
            told = None                 # judged above; not twice
        if told is not None and now - told > fake.late_grace:
            fake.violations.append(f"job {job.id}: {self.command} {self.endpoint} "
                                   f"{now - told:.2f} s after being told the job is {job.state}")
        if told is None:
            job.told_terminal_at = now
        plain = job.plain_403 or (fake.plain_403_after_completion and job.final_body is not None)
        headers = {} if plain else fake._job_headers(job)
        self._respond(403, b'{"message":"403 Forbidden - Job is not processing on runner"}',
                      {**headers, "Content-Type": "application/json"})

    # ---- PUT jobs/:id --------------------------------------------------------------------------
    def _update(self):
        fake = self.fake
        raw, data = self._json_body()
        if data is None:
            return self._respond(400, b'{"error":"invalid JSON"}', json_body=True)
        state = data.get("state")
        self.put_body = data
        if state in ("success", "failed"):
            self.endpoint = "final"
        with fake.lock:
            self.item = fake.faults.take(self.endpoint, "put")
        item = self.item or {}
        if item.get("action") == "rst" or "rst_after" in item:
            self._reset("rst")          # the small JSON body is already read: RST instead of answer
        if item.get("action") in ("stall",) or "delay" in item or item.get("action") == "delay":
            self._pre_body_action(item)
        if item.get("action") == "commit_drop":
            self.drop_action = item
        if "token" not in data:
            fake.violation(f"PUT jobs/{self.job_id} without `token` in the body")
            return self._respond(400, b'{"error":"token is missing"}', json_body=True)
        job = self._auth_job(body_token=data.get("token"))
        if job is None:
            return None
        if self._post_body_faults(job if self.endpoint == "final" else None):
            return None
        with fake.lock:
            job.put_count += 1
            headers = fake._job_headers(job)
            if state == "running":
                job.acked = True
                job.heartbeats += 1
                return self._respond(200, b"200", headers)
            if state == "pending":
                return self._respond(200 if not job.acked else 409, b"", headers)
            if state not in ("success", "failed"):
                fake.violations.append(f"PUT jobs/{job.id}: unknown state {state!r}")
                return self._respond(400, b'{"error":"state does not have a valid value"}',
                                     json_body=True)
            return self._final(job, data, state)

    def _final(self, job, data, state):
        fake = self.fake
        entry = {"time": time.monotonic(), "body": data, "accepted": False, "status": None,
                 "checksum_ok": None, "note": ""}
        job.final_updates.append(entry)
        if job.final_412_pending:
            job.final_412_pending = False
            job._truncate(0)
            job.trace_events.append((time.monotonic(), "reset", 0))
            entry.update(status=412, note="412: trace reset, full resend expected")
            return self._respond(412, b'{"message":"412 Precondition Failed"}',
                                 {**fake._job_headers(job), "Content-Type": "application/json"})
        if job.final_202_left > 0:
            job.final_202_left -= 1
            entry.update(status=202, note="202: trace migration pending")
            headers = {**fake._job_headers(job),
                       "X-GitLab-Trace-Update-Interval": fake.final_202_interval}
            return self._respond(202, b"202", headers)
        self._check_final(job, data, entry)
        job.final_body = data
        job.failure_reason = data.get("failure_reason") if state == "failed" else None
        job.exit_code = data.get("exit_code")
        entry.update(status=200, accepted=True)
        fake._set_state(job, "canceled" if job.state == "canceling" else state)
        if self.drop_action:
            job.final_answer_lost = True    # a retry of this final PUT is legitimate
        else:
            job.told_terminal_at = time.monotonic()
        return self._respond(200, b"200", fake._job_headers(job))

    def _check_final(self, job, data, entry):
        """Stricter than GitLab: a wrong checksum/bytesize or an unsendable reason is a violation."""
        fake = self.fake
        output = data.get("output") or {}
        checksum = output.get("checksum") or data.get("checksum")
        bytesize = output.get("bytesize", 0)
        expected = job.trace_checksum()
        ok = True
        if checksum is None:
            ok = job.trace_length == 0
            if not ok:
                fake.violations.append(f"job {job.id}: final PUT without output.checksum")
        elif checksum != expected or bytesize != job.trace_length:
            ok = False
            fake.violations.append(f"job {job.id}: final output {checksum}/{bytesize} but the "
                                   f"server holds {expected}/{job.trace_length}")
        entry["checksum_ok"] = ok
        if data.get("state") == "failed":
            reason = data.get("failure_reason")
            sendable = set(job.payload.get("features", {}).get("failure_reasons") or [])
            if reason and reason not in sendable | ALWAYS_SENDABLE_REASONS:
                fake.violations.append(f"job {job.id}: failure_reason {reason!r} is not in the "
                                       "job's features.failure_reasons")
            if "exit_code" in data and not isinstance(data["exit_code"], int):
                fake.violations.append(f"job {job.id}: exit_code {data['exit_code']!r} not an int")

    # ---- PATCH jobs/:id/trace ------------------------------------------------------------------
    def _trace(self):
        fake = self.fake
        data = self._read_body()
        if self.item and self.item.get("action") == "commit_drop":
            self.drop_action = self.item
        job = self._auth_job()
        if job is None:
            return None
        if self._post_body_faults():
            return None
        content_range = self.headers.get("Content-Range")
        if not content_range:
            return self._respond(400, b'{"message":"400 Bad request - Missing header Content-Range"}',
                                 json_body=True)
        match = CONTENT_RANGE.match(content_range.strip())
        if not match:
            fake.violation(f"job {job.id}: malformed Content-Range {content_range!r}")
            return self._respond(400, b'{"message":"400 Bad request - Content-Range"}',
                                 json_body=True)
        start, end_inclusive = int(match.group(1)), int(match.group(2))
        self._check_patch(job, data, start, end_inclusive)
        with fake.lock:
            job.patch_count += 1
            if job.state not in ACTIVE:     # finished while we read the body
                self._late(job)
                return None
            action = (self.item or {}).get("action")
            if action == "lose_tail" or (self.item and "lose_tail" in self.item):
                keep = int(self.item.get("lose_tail", self.item.get("keep", 0)))
                job._truncate(keep)
                job.trace_events.append((time.monotonic(), "truncate", job.trace_length))
            if action == "lie_416" or (self.item and "lie_416" in self.item):
                length = int(self.item.get("lie_416", self.item.get("length", 0)))
                job.trace_events.append((time.monotonic(), "lie_416", length))
                job.told_length = length
                return self._respond(416, b"", {"Range": f"0-{length}", **fake._job_headers(job)})
            end = start + len(data)
            if fake.trace_size_limit is not None and end > fake.trace_size_limit:
                job.failure_reason = "trace_size_exceeded"
                fake._set_state(job, "failed")
                job.told_terminal_at = time.monotonic()
                return self._respond(403, b'{"message":"403 Forbidden - trace size exceeded"}',
                                     {**fake._job_headers(job), "Content-Type": "application/json"})
            if start < job.told_length and start < job.trace_length:
                fake.violations.append(f"job {job.id}: PATCH at {start} resends bytes the server "
                                       f"acknowledged up to {job.told_length}")
            if start < job.trace_length and data:
                self._compare_stored(job, start, data)
            if start == job.trace_length and data:
                self._compare_replay(job, start, data)
                job._append(start, data)
                job.accepted_ranges.append(TraceRange(start, end, time.monotonic()))
            status = 202 if job.trace_length == end else 416
            headers = {"Range": f"0-{job.trace_length}", **fake._job_headers(job)}
            if not self.drop_action:
                job.told_length = job.trace_length
            return self._respond(status, b"", headers)

    def _check_patch(self, job, data, start, end_inclusive):
        fake = self.fake
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        problems = []
        if ctype != "text/plain":
            problems.append(f"Content-Type {ctype or 'missing'} (expected text/plain)")
        if not data:
            problems.append("empty PATCH")
        elif end_inclusive != start + len(data) - 1:
            problems.append(f"Content-Range {start}-{end_inclusive} for {len(data)} bytes "
                            "(end must be inclusive)")
        if len(data) > TRACE_PATCH_LIMIT:
            problems.append(f"PATCH of {len(data)} bytes (> 1 MiB)")
        if "debug_trace" not in self.query:
            problems.append("no ?debug_trace= query")
        with fake.lock:
            if fake.require_ack and not job.acked:
                problems.append("PATCH before the PUT state=running ack")
            fake.violations.extend(f"job {job.id}: {p}" for p in problems)

    def _compare_stored(self, job, start, data):
        """A resend overlapping stored bytes must carry the same bytes (no rewritten history)."""
        hi = min(start + len(data), job.trace_length)
        if data[:hi - start] != job._read(start, hi - start):
            self.fake.violations.append(f"job {job.id}: PATCH {start}-{start + len(data) - 1} "
                                        f"overlaps stored bytes {start}-{hi - 1} with different "
                                        "content")

    def _compare_replay(self, job, start, data):
        """After a truncation or 412 the resent bytes must equal what the server held before."""
        if not job.replay:
            return
        r_start, old = job.replay
        lo, hi = max(start, r_start), min(start + len(data), r_start + len(old))
        if lo < hi and data[lo - start:hi - start] != old[lo - r_start:hi - r_start]:
            self.fake.violations.append(f"job {job.id}: resent bytes {lo}-{hi} differ from the "
                                        "bytes first sent for that range")
        if start + len(data) >= r_start + len(old):
            job.replay = None

    # ---- git over smart HTTP ---------------------------------------------------------------------
    def _git(self):
        """group/demo.git through `git http-backend`: Basic auth gitlab-ci-token:<running job's
        token>, as GitLab checks it; 401 with a challenge first, as git expects."""
        fake = self.fake
        data = self._read_body()
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, password = None, None
        with fake.lock:
            fake.git_requests.append((self.command, self.path, user))
            allowed = user == "gitlab-ci-token" and any(
                j.token == password and j.state in ACTIVE for j in fake.jobs.values())
        if fake.repository is None:
            return self._respond(404, b"no repository")
        if not allowed:
            return self._respond(401, b"HTTP Basic: Access denied",
                                 {"WWW-Authenticate": 'Basic realm="GitLab"'})
        path_info = "/" + os.path.basename(fake.repository) + "/.git" + \
            self.route[len("/group/demo.git"):]
        env = {"GIT_PROJECT_ROOT": os.path.dirname(fake.repository), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path_info, "REQUEST_METHOD": self.command,
               "QUERY_STRING": urllib.parse.urlsplit(self.path).query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(data)), "REMOTE_USER": user,
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if self.headers.get("Content-Encoding") == "gzip":
            env["HTTP_CONTENT_ENCODING"] = "gzip"
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True).stdout
        head, _, body = out.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key and key.strip().lower() != "content-length":
                headers[key.strip()] = value.strip()
        return self._respond(status, body, headers)

    # ---- artifacts -----------------------------------------------------------------------------
    def _upload(self):
        fake = self.fake
        if self.item and self.item.get("action") == "commit_drop":
            self.drop_action = self.item
        with fake.lock:
            job = fake.jobs.get(self.job_id)
        ctype = self.headers.get("Content-Type", "")
        boundary = _boundary(ctype)
        if boundary is None:
            self._read_body()
            fake.violation(f"artifacts upload: Content-Type {ctype!r} is not multipart/form-data")
            return self._respond(400, b'{"error":"file is missing"}', json_body=True)
        path = os.path.join(fake.state_dir, f"upload-{self.job_id}-{time.monotonic_ns()}")
        parser = _Multipart(boundary, path)
        for piece in self._body_chunks():
            parser.feed(piece)
        parser.close()
        params = {k: self.query[k] for k in ("artifact_type", "artifact_format", "expire_in",
                                               "accessibility") if k in self.query}
        form = {k: v for k, v in parser.fields.items()}
        merged = {"artifact_type": "archive", "artifact_format": "zip", **params, **form}
        attempt = {"time": time.monotonic(), "sha256": parser.sha256(), "size": parser.file_size,
                   "filename": parser.filename, "params": merged, "query": params, "form": form,
                   "status": None}
        if job is not None:
            with fake.lock:
                job.upload_attempts.append(attempt)
        problems = list(parser.problems)
        if parser.file_parts != 1:
            problems.append(f"{parser.file_parts} `file` parts (exactly one expected)")
        if "metadata" in parser.other_parts:
            problems.append("a `metadata` part (Workhorse generates it)")
        for problem in problems:
            fake.violation(f"artifacts upload job {self.job_id}: {problem}")
        job = self._auth_job()
        if job is None:
            attempt["status"] = 403
            return self._discard(path)
        if self._post_body_faults():
            attempt["status"] = self.item.get("status") if self.item else "fault"
            return self._discard(path)
        if parser.file_parts == 0:
            attempt["status"] = 400
            self._discard(path)
            return self._respond(400, b'{"error":"file is missing"}', json_body=True)
        if fake.artifact_size_limit is not None and parser.file_size > fake.artifact_size_limit:
            attempt["status"] = 413
            self._discard(path)
            return self._respond(413, b'{"message":"413 Request Entity Too Large"}', json_body=True)
        upload = Upload(job_id=job.id, artifact_type=merged["artifact_type"],
                        artifact_format=merged["artifact_format"],
                        expire_in=merged.get("expire_in"), accessibility=merged.get("accessibility"),
                        filename=parser.filename, size=parser.file_size, sha256=parser.sha256(),
                        path=path, params=merged, params_source={"query": params, "form": form},
                        time=time.monotonic())
        with fake.lock:
            job.uploads.append(upload)
        attempt["status"] = 201
        return self._respond(201, b"201", {"Content-Type": "application/json"})

    @staticmethod
    def _discard(path):
        try:
            os.unlink(path)
        except OSError:
            pass

    def _download(self):
        fake = self.fake
        self._read_body()
        token = self.headers.get("JOB-TOKEN") or self.query.get("token")
        with fake.lock:
            target = fake.jobs.get(self.job_id)
            reader = next((j for j in fake.jobs.values() if j.token == token), None)
            allowed = reader is not None and reader.state in ACTIVE
            archive = fake._archive_of(target) if target else None
        if not allowed:
            return self._respond(403, b'{"message":"403 Forbidden"}', json_body=True)
        if self._post_body_faults():
            return None
        if target is None or archive is None:
            return self._respond(404, b'{"message":"404 Not Found"}', json_body=True)
        with fake.lock:
            target.download_count += 1
            storage = fake._storage
        if self.query.get("direct_download") == "true" and storage is not None:
            key = secrets.token_hex(8)
            with fake.lock:
                fake._objects[key] = (archive.path, archive.filename)
            location = (f"http://{fake._host}:{storage.port}/artifacts/{key}/{archive.filename}"
                        f"?X-Amz-Expires=3600&X-Amz-Signature={secrets.token_hex(16)}")
            return self._respond(302, b"", {"Location": location})
        return self._send_file(archive.path, archive.filename)

    def _object_storage(self):
        fake = self.fake
        self._read_body()
        if self.headers.get("JOB-TOKEN") or self.headers.get("PRIVATE-TOKEN"):
            fake.violation("object storage received a JOB-TOKEN header (token leaked off-host)")
        if self._post_body_faults():
            return None
        parts = self.route.strip("/").split("/")
        with fake.lock:
            found = fake._objects.get(parts[1]) if len(parts) >= 2 else None
        if found is None or "X-Amz-Signature" not in self.query:
            return self._respond(403, b"<Error><Code>AccessDenied</Code></Error>",
                                 {"Content-Type": "application/xml"})
        return self._send_file(*found)

    def _send_file(self, path, filename):
        size = os.path.getsize(path)
        truncate = None
        if self.item and "truncate_body" in self.item:
            truncate = int(self.item["truncate_body"])
        head = (f"HTTP/1.1 200 OK\r\nServer: fake-gitlab\r\nContent-Length: {size}\r\n"
                f"Content-Type: application/octet-stream\r\n"
                f"Content-Disposition: attachment; filename=\"{filename}\"\r\n\r\n")
        self.wfile.write(head.encode("latin-1"))
        sent = 0
        with open(path, "rb") as f:
            while True:
                limit = 256 * 1024 if truncate is None else min(256 * 1024, truncate - sent)
                chunk = f.read(limit) if limit > 0 else b""
                if not chunk:
                    break
                self.wfile.write(chunk)
                sent += len(chunk)
        if truncate is not None:
            self._hangup("truncated")
        self._log(200)
        return True

    # ---- control API (standalone use) ----------------------------------------------------------
    def _control(self):
        fake = self.fake
        raw = self._read_body()
        try:
            data = json.loads(raw) if raw else {}
            result = _control(fake, self.command, self.route[len("/__fake/"):], self.query, data)
        except KeyError as e:
            return self._respond(404, json.dumps({"error": f"unknown {e}"}).encode(), json_body=True)
        except Exception as e:          # the control API reports, never crashes the server
            return self._respond(400, json.dumps({"error": repr(e)}).encode(), json_body=True)
        if isinstance(result, bytes):
            return self._respond(200, result, {"Content-Type": "application/octet-stream"})
        return self._respond(200, json.dumps(result, default=_jsonable).encode(), json_body=True)


CONTROL_METHODS = {
    "add_runner", "pause_runner", "remove_runner", "add_registration_token", "enqueue_job", "cancel",
    "drop", "expire_job_token", "script", "clear_faults", "random_errors", "burst", "outage",
    "not_found", "throttle", "stall_connections", "set_interval", "final_202", "final_412_once",
    "enable_object_storage", "count", "set_artifact_b64", "set_artifact_size_limit",
}


def _control(fake, method, what, query, data):
    """JSON control API: POST /__fake/call {"method", "args", "kwargs"} for the whitelisted
    FakeGitLab methods, plus read-only views."""
    parts = what.strip("/").split("/")
    if method == "POST" and parts == ["call"]:
        name = data["method"]
        if name not in CONTROL_METHODS:
            raise KeyError(name)
        return {"result": getattr(fake, name)(*data.get("args", []), **data.get("kwargs", {}))}
    if method == "POST" and parts == ["runners"]:
        return {"token": fake.add_runner(data.get("token"), data.get("paused", False))}
    if method == "POST" and parts == ["jobs"]:
        job_id = fake.enqueue_job(**data)
        return {"id": job_id, "token": fake.job(job_id).token}
    if method == "GET" and parts == ["violations"]:
        return fake.check()
    if method == "GET" and parts == ["counts"]:
        with fake.lock:
            return {(k if isinstance(k, str) else f"{k[0]} {k[1]}"): v
                    for k, v in fake.counts.items()}
    if method == "GET" and parts == ["requests"]:
        since = int(query.get("since", 0))
        with fake.lock:
            return [r.as_dict() for r in list(fake.requests)[since:]]
    if method == "GET" and parts[0] == "jobs" and len(parts) >= 2:
        job = fake.job(int(parts[1]))
        if len(parts) == 2:
            return job.summary()
        if parts[2] == "trace":
            return job.trace_bytes()
        if parts[2] == "wait":
            states = query.get("states", "success,failed,canceled").split(",")
            state = fake.wait_for_state(job.id, states, float(query.get("timeout", 30)))
            return {"state": state}
    if method == "GET" and parts == ["health"]:
        return {"ok": True}
    raise KeyError(what)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return repr(value)


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _boundary(content_type):
    main, _, rest = content_type.partition(";")
    if main.strip().lower() != "multipart/form-data":
        return None
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', rest)
    if not match:
        return None
    return (match.group(1) or match.group(2)).encode("latin-1")


class _Multipart:
    """Streaming multipart/form-data parser: the `file` part goes to disk (sha256 on the fly),
    small text fields stay in memory. O(body), never holds the whole upload."""

    FIELD_LIMIT = 64 * 1024

    def __init__(self, boundary, path):
        self.delimiter = b"\r\n--" + boundary
        self.buf = b"\r\n"              # lets the first delimiter match like the others
        self.state = "preamble"
        self.path = path
        self.fields = {}
        self.other_parts = []
        self.problems = []
        self.file_parts = 0
        self.file_size = 0
        self.filename = None
        self._digest = hashlib.sha256()
        self._file = None
        self._part = None               # (name, filename) of the current part
        self._field = bytearray()

    def sha256(self):
        return self._digest.hexdigest() if self.file_parts else None

    def feed(self, data):
        self.buf += data
        while self._step():
            pass

    def _step(self):
        if self.state == "preamble":
            index = self.buf.find(self.delimiter)
            if index < 0:
                self.buf = self.buf[-len(self.delimiter):]
                return False
            self.buf = self.buf[index + len(self.delimiter):]
            self.state = "after_delimiter"
            return True
        if self.state == "after_delimiter":
            if len(self.buf) < 2:
                return False
            if self.buf.startswith(b"--"):
                self.state = "done"
                return False
            if not self.buf.startswith(b"\r\n"):
                self.problems.append("malformed boundary line")
                self.state = "done"
                return False
            self.buf = self.buf[2:]
            self.state = "headers"
            return True
        if self.state == "headers":
            index = self.buf.find(b"\r\n\r\n")
            if index < 0:
                if len(self.buf) > 16384:
                    self.problems.append("part headers too long")
                    self.state = "done"
                return False
            self._begin_part(self.buf[:index].decode("utf-8", "replace"))
            self.buf = self.buf[index + 4:]
            self.state = "body"
            return True
        if self.state == "body":
            index = self.buf.find(self.delimiter)
            if index < 0:
                keep = len(self.delimiter) - 1
                if len(self.buf) > keep:
                    self._emit(self.buf[:-keep])
                    self.buf = self.buf[-keep:]
                return False
            self._emit(self.buf[:index])
            self._end_part()
            self.buf = self.buf[index + len(self.delimiter):]
            self.state = "after_delimiter"
            return True
        return False

    def _begin_part(self, header_text):
        disposition = ""
        for line in header_text.split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        self._part = (name.group(1) if name else None, filename.group(1) if filename else None)
        if self._part[0] == "file":
            self.file_parts += 1
            if self.file_parts == 1:
                self.filename = self._part[1]
                self._file = open(self.path, "wb")
        self._field = bytearray()

    def _emit(self, data):
        if not data or self._part is None:
            return
        if self._part[0] == "file":
            if self.file_parts == 1:
                self._file.write(data)
                self._digest.update(data)
                self.file_size += len(data)
        elif len(self._field) < self.FIELD_LIMIT:
            self._field += data

    def _end_part(self):
        name = self._part[0] if self._part else None
        if name == "file":
            if self._file is not None and self.file_parts == 1:
                self._file.close()
        elif name is not None:
            if name in ("artifact_type", "artifact_format", "expire_in", "accessibility"):
                self.fields[name] = self._field.decode("utf-8", "replace")
            else:
                self.other_parts.append(name)
        self._part = None

    def close(self):
        if self.state != "done":
            self.problems.append("multipart body ended without the closing boundary")
        if self._file is not None and not self._file.closed:
            self._file.close()


# ---- standalone -----------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description="Fake GitLab runner API server (see README.md).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-dir", help="trace/artifact files (default: a temp dir)")
    parser.add_argument("--interval", default="3", help="X-GitLab-Trace-Update-Interval value")
    parser.add_argument("--long-poll", type=float, default=None, help="long-poll seconds")
    parser.add_argument("--object-storage", action="store_true")
    parser.add_argument("--trace-size-limit", type=int, default=DEFAULT_TRACE_SIZE_LIMIT)
    parser.add_argument("--artifact-size-limit", type=int, default=None)
    parser.add_argument("--request-log-limit", type=int, default=None)
    parser.add_argument("--runner", action="append", default=[], help="runner token to add")
    args = parser.parse_args(argv)
    fake = FakeGitLab(interval=args.interval, state_dir=args.state_dir, long_poll=args.long_poll,
                      port=args.port, host=args.host, trace_size_limit=args.trace_size_limit,
                      artifact_size_limit=args.artifact_size_limit,
                      object_storage=args.object_storage, request_log_limit=args.request_log_limit)
    for token in args.runner:
        fake.add_runner(token)
    fake.start()
    print(fake.port, flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
