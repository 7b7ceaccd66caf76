#!/usr/bin/python3
"""A protocol-faithful fake Jenkins controller for stagehost's tests (reference: jenkins-api.md §12).

Python 3 stdlib only. Use in-process (`FakeJenkins().start()`) or standalone
(`fake_jenkins.py --port 0` prints `PORT <n>` once listening). Tests set it up through a small JSON
control API under `/__fake/` (no auth): jobs, builds, console text, results, faults and quirks.
State advances lazily on every request (queue items, scripted builds), so no timer threads run.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JENKINS_VERSION = "2.570"
NOTE_RE = re.compile(rb"\x1b\[8mha:.*?\x1b\[0m", re.S)
LONE_LF_RE = re.compile(rb"(?<!\r)\n")
MAX_LINES_READ = 10000
RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED")


def console_note(payload=b"hudson.console.HyperlinkNote"):
    """A console annotation as Jenkins embeds it in the raw log: ESC[8mha:<base64 gzip>ESC[0m."""
    return b"\x1b[8mha:" + base64.b64encode(gzip.compress(payload, mtime=0)) + b"\x1b[0m"


def strip_notes(raw):
    return NOTE_RE.sub(b"", raw)


def parse_delay(text):
    """jenkins/util/TimeDuration: a bare number is milliseconds, `Nsec(s)` seconds; whole seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*(sec|secs)?\s*", text or "")
    if not m:
        return None
    value = int(m.group(1))
    return value if m.group(2) else value // 1000


class TreeError(ValueError):
    pass


def parse_tree(text):
    """`a,b[c,d]{0,2}` -> {name: (subtree or None, (lo, hi) or None)}."""
    pos = 0

    def parse_list():
        nonlocal pos
        out = {}
        while True:
            m = re.compile(r"[A-Za-z_$][\w$]*").match(text, pos)
            if not m:
                raise TreeError("Malformed tree expression")
            name, pos = m.group(0), m.end()
            sub, rng = None, None
            if pos < len(text) and text[pos] == "[":
                pos += 1
                sub = parse_list()
                if pos >= len(text) or text[pos] != "]":
                    raise TreeError("Malformed tree expression")
                pos += 1
            if pos < len(text) and text[pos] == "{":
                m = re.compile(r"\{(\d*)(,?)(\d*)\}").match(text, pos)
                if not m:
                    raise TreeError("Malformed tree expression")
                lo = int(m.group(1)) if m.group(1) else 0
                if m.group(2):
                    hi = int(m.group(3)) if m.group(3) else None
                else:
                    hi = lo + 1
                rng, pos = (lo, hi), m.end()
            out[name] = (sub, rng)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return out

    result = parse_list()
    if pos != len(text):
        raise TreeError("Malformed tree expression")
    return result


def apply_tree(value, tree):
    if isinstance(value, list):
        return [apply_tree(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {"_class": value["_class"]} if "_class" in value else {}
    for name, (sub, rng) in tree.items():
        if name not in value:
            continue
        v = value[name]
        if rng and isinstance(v, list):
            v = v[rng[0]:rng[1]]
        out[name] = apply_tree(v, sub) if sub is not None else shallow(v)
    return out


def shallow(value):
    """Depth-0 export of a nested object: Jenkins shows only its identifying fields."""
    if isinstance(value, list):
        return [shallow(v) for v in value]
    if isinstance(value, dict) and "_ref" in value:
        return {k: value[k] for k in value["_ref"]}
    return value


class Build:
    """A build driven by its job's `script`: `chunks` of log every `interval_ms`, then `result`,
    then `tail_chunks` (freestyle post-production); `artifacts`, `test_report`; `manual` (only the
    control API moves it); `resists` (["stop"] or ["stop", "term"]: requests the build ignores)."""

    def __init__(self, job, number, queue_id, params, script):
        self.job, self.number, self.queue_id, self.params = job, number, queue_id, params
        self.script = script or {}
        self.log = bytearray()
        self.started = time.time()
        self.building = True
        self.result = None
        self.log_complete = False
        self.duration_ms = 0
        self.artifacts = {}
        self.test_report = None
        self.events = []  # (due time, callable), consumed by advance()
        self.stopped = False
        s = self.script
        if not s.get("manual"):
            interval = s.get("interval_ms", 50) / 1000.0
            t = self.started
            for chunk in s.get("chunks", []):
                t += interval
                self.events.append((t, lambda c=chunk: self.append(decode_chunk(c))))
            t += interval
            self.events.append((t, lambda: self.finish(s.get("result", "SUCCESS"),
                                                       complete=not s.get("tail_chunks"))))
            for chunk in s.get("tail_chunks", []):  # freestyle POST_PRODUCTION: result set, log grows
                t += interval
                self.events.append((t, lambda c=chunk: self.append(decode_chunk(c))))
            if s.get("tail_chunks"):
                t += interval
                self.events.append((t, self.complete_log))
        for path, content in s.get("artifacts", {}).items():
            self.artifacts[path] = decode_chunk(content)
        self.test_report = s.get("test_report")

    def advance(self, now):
        while self.events and self.events[0][0] <= now:
            self.events.pop(0)[1]()

    def append(self, data):
        self.log += data

    def finish(self, result, complete=True):
        self.building = False
        self.result = result
        self.duration_ms = max(1, int((time.time() - self.started) * 1000))
        if complete:
            self.complete_log()

    def complete_log(self):
        self.log_complete = True

    def stop(self, by="admin", note=None):
        self.stopped = True
        if self.building or not self.log_complete:
            self.events = []
            self.append((note or "Aborted by " + by).encode() + b"\n")
            self.finish("ABORTED")


def decode_chunk(c):
    if isinstance(c, dict):
        if "b64" in c:
            return base64.b64decode(c["b64"])
        if "note" in c:
            return console_note(c["note"].encode())
    return c.encode("utf-8") if isinstance(c, str) else bytes(c)


class Job:
    def __init__(self, full_name, spec):
        self.full_name = full_name
        self.name = full_name.rsplit("/", 1)[-1]
        self.params = spec.get("params", [])  # [{name, default, type}]
        self.disabled = spec.get("disabled", False)
        self.script = spec.get("script", {})
        self.hold_in_queue = spec.get("hold_in_queue", False)
        self.pipeline = spec.get("pipeline", False)
        self.token = spec.get("token")
        self.builds = {}
        self.next_build = spec.get("next_build", 1)


class QueueItem:
    def __init__(self, item_id, job, params, quiet_s):
        self.id, self.job, self.params = item_id, job, params
        self.since = time.time()
        self.timestamp = self.since + quiet_s
        self.state = "waiting"  # waiting -> buildable -> left
        self.buildable_since = None
        self.cancelled = False
        self.build = None
        self.left_at = None
        self.polls = 0
        self.hold = job.hold_in_queue
        self.causes = 1


class State:
    def __init__(self, user="admin", token="11aa22bb33cc44dd55ee66ff77889900aa", password="secret"):
        self.lock = threading.RLock()
        self.users = {user: {"token": token, "password": password}}
        self.config = {
            "quiet_period_s": 0, "buildable_ms": 0, "left_expiry_s": 300, "csrf": True,
            "first_poll_404": 0, "crumb_field": "Jenkins-Crumb", "gzip_threshold": 4096,
            # Quirks of progressiveText (jenkins-api.md §7.1, reliability.md R15):
            "size_is_file_length": False,  # X-Text-Size = file length while body stops at last LF
            "max_body_bytes": 0,  # cut each response after this many raw bytes (splits notes)
            "leak_notes": True,  # current servers leak console notes into progressiveText
        }
        self.jobs = {}
        self.folders = set()
        self.queue = {}
        self.next_queue_id = 100
        self.sessions = {}  # session id -> user
        self.salt = secrets.token_hex(8)
        self.cookie_name = "JSESSIONID." + secrets.token_hex(4)
        self.session_hash = secrets.token_hex(4)
        self.faults = []  # [{method, path_regex, status|kind (reset, stall + seconds), count}]
        self.stale_once = 0  # next N progressiveText answers pretend the file is shorter
        self.requests = []
        # stop_requests: the accepted stop/term/kill requests, in order.
        self.stats = {"start_beyond_length": 0, "stops": 0, "cancels": 0, "stop_requests": []}

    def crumb(self, user, session):
        return hashlib.sha256(f"{user}:{session}:{self.salt}".encode()).hexdigest()

    def add_job(self, full_name, spec):
        parts = full_name.split("/")
        for i in range(1, len(parts)):
            self.folders.add("/".join(parts[:i]))
        self.jobs[full_name] = Job(full_name, spec)
        return self.jobs[full_name]

    def advance(self):
        now = time.time()
        for item in self.queue.values():
            if item.state == "waiting" and now >= item.timestamp and not item.hold:
                item.state, item.buildable_since = "buildable", now
            if (item.state == "buildable" and not item.hold
                    and now - item.buildable_since >= self.config["buildable_ms"] / 1000.0):
                self.start_build(item)
        for job in self.jobs.values():
            for b in job.builds.values():
                b.advance(now)

    def start_build(self, item):
        job = item.job
        n = job.next_build
        job.next_build += 1
        job.builds[n] = Build(job, n, item.id, item.params, job.script)
        item.state, item.build, item.left_at = "left", job.builds[n], time.time()

    def schedule(self, job, params, quiet_s):
        """Returns (item, folded)."""
        for item in self.queue.values():
            if item.job is job and item.state != "left" and item.params == params:
                item.causes += 1
                return item, True
        item = QueueItem(self.next_queue_id, job, params, quiet_s)
        self.next_queue_id += 1
        self.queue[item.id] = item
        return item, False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Jetty(12.0.0)"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    @property
    def st(self):
        return self.server.state

    # ---- plumbing -------------------------------------------------------------------------------

    def base_url(self):
        return "http://" + (self.headers.get("Host") or "127.0.0.1")

    def send(self, status, body=b"", ctype="text/plain;charset=UTF-8", headers=(), api=True):
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ctype = "application/json;charset=utf-8"
        self.send_response(status)
        if api:
            self.send_header("X-Jenkins", JENKINS_VERSION)
            self.send_header("X-Jenkins-Session", self.st.session_hash)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "deny")
        for k, v in headers:
            self.send_header(k, v)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record["status"] = status

    def send_json(self, obj, query):
        if "jsonp" in query:
            return self.send(403, "jsonp is not allowed")
        if "tree" in query:
            try:
                obj = apply_tree(obj, parse_tree(query["tree"][0]))
            except TreeError as e:
                return self.send(400, str(e))
        else:
            obj = strip_refs(obj)
        body = json.dumps(obj, indent=2 if "pretty" in query else None).encode()
        self.send(200, body, "application/json;charset=utf-8")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def take_stall(self, path):
        """Seconds to hold this request unanswered, when a `stall` fault matches (under the lock)."""
        for f in self.st.faults:
            if f["count"] != 0 and f.get("kind") == "stall" and re.search(f["path_regex"], path) \
                    and f.get("method", self.command) == self.command:
                f["count"] -= 1
                self.record["status"] = "stall"
                self.st.requests.append(self.record)
                return float(f.get("seconds", 60))
        return None

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self.read_body() if self.command == "POST" else b""
        self.record = {"method": self.command, "path": url.path, "query": url.query,
                       "headers": {k: v for k, v in self.headers.items()}, "status": None}
        st = self.st
        if path.startswith("/__fake/"):
            with st.lock:
                return self.control(path[len("/__fake/"):], query, body)
        with st.lock:
            stall = self.take_stall(url.path)
        if stall is not None:
            # A server that accepted the request and went silent: only the client's own
            # timeout or abort ends it. The lock is not held, so other requests go on.
            time.sleep(stall)
            self.close_connection = True
            return
        with st.lock:
            st.requests.append(self.record)
            for f in st.faults:
                if f["count"] != 0 and f.get("kind") != "stall" and \
                        re.search(f["path_regex"], url.path) and \
                        f.get("method", self.command) == self.command:
                    f["count"] -= 1
                    if f.get("kind") == "reset":
                        self.record["status"] = "reset"
                        self.close_connection = True
                        return
                    return self.send(f.get("status", 503), "<html>Service Unavailable</html>",
                                     "text/html", api=False)
            st.advance()
            user, how = self.authenticate()
            if how == "bad":
                return
            if how == "anonymous" and not path.startswith("/login"):
                return self.send(403, "Authentication required", headers=[
                    ("X-You-Are-Authenticated-As", "anonymous"),
                    ("X-You-Are-In-Group-Disabled", "JENKINS-39402: use -Dhudson.security."
                     "AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose"),
                    ("X-Required-Permission", "hudson.model.Hudson.Read"),
                    ("X-Permission-Implied-By", "hudson.security.Permission.GenericRead"),
                    ("X-Permission-Implied-By", "hudson.model.Hudson.Administer"),
                    ("X-Hudson", "1.395")])
            if self.command == "POST" and st.config["csrf"] and how != "token" and \
                    not self.crumb_ok(user, query, body):
                return self.send(403, "No valid crumb was included in the request",
                                 "text/html;charset=utf-8")
            self.route(path, query, body, user)

    def authenticate(self):
        header = self.headers.get("Authorization")
        if not header:
            return None, "anonymous"
        try:
            scheme, value = header.split(" ", 1)
            user, secret = base64.b64decode(value, validate=True).decode().split(":", 1)
            if scheme.lower() != "basic":
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            self.send(401, "Malformed HTTP basic Authorization header",
                      headers=[("WWW-Authenticate", 'Basic realm="Jenkins"')])
            return None, "bad"
        creds = self.st.users.get(user)
        if creds and secret == creds["token"]:
            return user, "token"
        if creds and secret == creds["password"]:
            return user, "password"
        self.send(401, f"Invalid password/token for user: {user}",
                  headers=[("WWW-Authenticate", 'Basic realm="Jenkins"')])
        return None, "bad"

    def session(self):
        cookies = self.headers.get("Cookie") or ""
        for part in cookies.split(";"):
            k, _, v = part.strip().partition("=")
            if k == self.st.cookie_name and v in self.st.sessions:
                return v
        return None

    def crumb_ok(self, user, query, body):
        field = self.st.config["crumb_field"]
        given = self.headers.get(field)
        if given is None:
            form = urllib.parse.parse_qs(body.decode("latin-1")) if body else {}
            given = (query.get(field) or form.get(field) or [None])[0]
        sess = self.session()
        return given is not None and sess is not None and given == self.st.crumb(user, sess)

    # ---- routes -------------------------------------------------------------------------------

    def route(self, path, query, body, user):
        st = self.st
        if path in ("/", ""):
            return self.send(200, "<html><body>Dashboard [Jenkins]</body></html>", "text/html")
        if path == "/api/json":
            return self.send_json({"_class": "hudson.model.Hudson", "mode": "NORMAL",
                                   "nodeDescription": "the fake controller", "useSecurity": True,
                                   "jobs": [self.job_ref(j) for j in st.jobs.values()
                                            if "/" not in j.full_name]}, query)
        if path == "/me/api/json":
            return self.send_json({"_class": "hudson.model.User", "id": user, "fullName": user},
                                  query)
        if path == "/crumbIssuer/api/json":
            if not st.config["csrf"]:
                return self.send(404, "Not Found", "text/html")
            sess = self.session()
            headers = []
            if sess is None:
                sess = secrets.token_urlsafe(16)
                st.sessions[sess] = user
                headers.append(("Set-Cookie", f"{st.cookie_name}={sess}; Path=/; HttpOnly"))
            return self.send(200, {"_class": "hudson.security.csrf.DefaultCrumbIssuer",
                                   "crumb": st.crumb(user, sess),
                                   "crumbRequestField": st.config["crumb_field"]},
                             headers=headers)
        if path == "/queue/api/json":
            return self.send_json({"_class": "hudson.model.Queue", "discoverableItems": [],
                                   "items": [self.item_json(i) for i in st.queue.values()
                                             if i.state != "left"]}, query)
        if path == "/queue/cancelItem":
            if self.command != "POST":
                return self.send(405, "requires POST", headers=[("Allow", "POST")])
            item_id = int((query.get("id") or ["-1"])[0])
            item = st.queue.get(item_id)
            if item is None or item.state == "left":
                return self.send(404, f"Provided id ({item_id}) not found")
            self.cancel_item(item)
            return self.send(204)
        m = re.fullmatch(r"/queue/item/(\d+)/?(api/json)?", path)
        if m:
            item = st.queue.get(int(m.group(1)))
            if item is not None:
                item.polls += 1
            if item is None or item.polls <= st.config["first_poll_404"] or (
                    item.state == "left" and
                    time.time() - item.left_at > st.config["left_expiry_s"]):
                return self.send(404, "Not Found", "text/html")
            if not m.group(2):
                return self.send(200, "Queue item exists. For details check, for example, "
                                      f"{self.base_url()}/queue/item/{item.id}/api/json?tree=cancelled,executable[url]")
            return self.send_json(self.item_json(item), query)
        m = re.fullmatch(r"((?:/job/[^/]+)+)(/.*)?", path)
        if m:
            names = re.findall(r"/job/([^/]+)", m.group(1))
            return self.job_route("/".join(names), m.group(2) or "/", query, body, user)
        return self.send(404, "Not Found", "text/html")

    def cancel_item(self, item):
        item.state, item.cancelled, item.left_at = "left", True, time.time()
        self.st.stats["cancels"] += 1

    def job_route(self, name, rest, query, body, user):
        st = self.st
        job = st.jobs.get(name)
        if job is None and name in st.folders:
            if rest in ("/api/json",):
                kids = [self.job_ref(j) for j in st.jobs.values()
                        if j.full_name.rsplit("/", 1)[0] == name and "/" in j.full_name]
                kids += [{"_class": "com.cloudbees.hudson.plugins.folder.Folder",
                          "name": f.rsplit("/", 1)[-1], "url": self.job_url(f)}
                         for f in st.folders if f.rsplit("/", 1)[0] == name and "/" in f]
                return self.send_json({"_class": "com.cloudbees.hudson.plugins.folder.Folder",
                                       "name": name.rsplit("/", 1)[-1], "fullName": name,
                                       "url": self.job_url(name), "jobs": kids}, query)
            if rest == "/":
                return self.send(200, "<html>folder</html>", "text/html")
        if job is None:
            return self.send(404, "Not Found", "text/html")
        if rest in ("/", ""):
            return self.send(200, f"<html>{job.full_name}</html>", "text/html")
        if rest == "/api/json":
            return self.send_json(self.job_json(job), query)
        if rest in ("/build", "/buildWithParameters"):
            return self.trigger(job, rest[1:], query, body)
        m = re.fullmatch(r"/(\d+|lastBuild|lastCompletedBuild|lastSuccessfulBuild)(/.*)?", rest)
        if not m:
            return self.send(404, "Not Found", "text/html")
        build = self.find_build(job, m.group(1))
        if build is None:
            return self.send(404, "Not Found", "text/html")
        return self.build_route(job, build, m.group(2) or "/", query)

    def find_build(self, job, ref):
        if ref.isdigit():
            return job.builds.get(int(ref))
        order = sorted(job.builds.values(), key=lambda b: -b.number)
        for b in order:
            if ref == "lastBuild" or (not b.building and (
                    ref == "lastCompletedBuild" or b.result == "SUCCESS")):
                return b
        return None

    def trigger(self, job, kind, query, body):
        st = self.st
        token_ok = job.token is not None and (query.get("token") or [None])[0] == job.token
        if self.command != "POST" and not token_ok:
            if kind == "build" and job.params:
                return self.send(200, "<html><form>parameters</form></html>", "text/html")
            return self.send(405, "<html>This URL requires POST</html>", "text/html",
                             headers=[("Allow", "POST")])
        if job.disabled:
            return self.send(409, f"{job.name} is not buildable")
        form = {}
        ctype = self.headers.get("Content-Type") or ""
        if body and "application/x-www-form-urlencoded" in ctype:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        delay = parse_delay((query.get("delay") or form.get("delay") or [None])[0])
        quiet = st.config["quiet_period_s"] if delay is None else delay
        if kind == "build":
            if not job.params:
                item, _ = st.schedule(job, {}, quiet)
                return self.send(201, headers=[("Location", f"{self.base_url()}/queue/item/{item.id}/")])
            if "json" not in form:
                return self.send(400, "Nothing is submitted", "text/html")
            try:
                submitted = json.loads(form["json"][0])
                values = {p["name"]: str(p["value"]) for p in submitted.get("parameter", [])}
            except (ValueError, KeyError, TypeError):
                return self.send(400, "This page expects a form submission", "text/html")
            params = {p["name"]: values.get(p["name"], str(p.get("default", "")))
                      for p in job.params}
            item, folded = st.schedule(job, params, quiet)
            status = int(submitted.get("statusCode", 201)) if not folded else 302
            return self.send(status, headers=[("Location", self.job_url(job.full_name))])
        if not job.params:
            return self.send(400, f"{job.name} is not parameterized")
        params = {}
        for p in job.params:
            given = query.get(p["name"], []) + form.get(p["name"], [])
            if len(given) > 1:
                return self.send(400, f"Illegal number of parameter values for {p['name']}: "
                                      f"{len(given)}")
            params[p["name"]] = given[0] if given else str(p.get("default", ""))
        item, folded = st.schedule(job, params, quiet)
        return self.send(303 if folded else 201,
                         headers=[("Location", f"{self.base_url()}/queue/item/{item.id}/")])

    def build_route(self, job, build, rest, query):
        st = self.st
        if rest == "/":
            return self.send(200, f"<html>{job.full_name} #{build.number}</html>", "text/html")
        if rest == "/api/json":
            return self.send_json(self.build_json(build), query)
        if rest in ("/stop", "/term", "/kill"):
            if self.command != "POST":
                return self.send(405, "requires POST", headers=[("Allow", "POST")])
            if rest != "/stop" and not job.pipeline:
                return self.send(404, "Not Found", "text/html")
            st.stats["stops"] += 1
            action = rest[1:]
            st.stats["stop_requests"].append(action)
            # script "resists": a step that ignores the interrupt of stop (and of term): the
            # build keeps running until a stronger request; kill always ends it (§9).
            if action == "kill":
                build.stop(note="Hard kill!")
            elif action not in build.script.get("resists", []):
                build.stop()
            return self.send(302, headers=[("Location", self.build_url(build))])
        if rest == "/consoleText":
            return self.send(200, strip_notes(bytes(build.log)))
        if rest == "/logText/progressiveText":
            return self.progressive_text(build, query)
        if rest == "/testReport/api/json":
            if build.test_report is None:
                return self.send(404, "Not Found", "text/html")
            report = dict(build.test_report)
            report.setdefault("_class", "hudson.tasks.junit.TestResult")
            return self.send_json(report, query)
        if rest == "/artifact/*zip*/archive.zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for p, data in build.artifacts.items():
                    z.writestr("archive/" + p, data)
            return self.send(200, buf.getvalue(), "application/zip")
        if rest.startswith("/artifact/"):
            p = rest[len("/artifact/"):]
            if p in build.artifacts:
                return self.send(200, build.artifacts[p], "application/octet-stream", api=False)
            return self.send(404, "Not Found", "text/html")
        return self.send(404, "Not Found", "text/html")

    def progressive_text(self, build, query):
        """LargeText.doProgressText, buffered mode (jenkins-api.md §7.1)."""
        st, cfg = self.st, self.st.config
        try:
            start = int((query.get("start") or ["0"])[0])
        except ValueError:
            start = 0
        log = bytes(build.log)
        if st.stale_once > 0:  # a replica behind a proxy that has not seen the latest bytes
            st.stale_once -= 1
            log = log[:start // 2]
        if start > len(log):
            st.stats["start_beyond_length"] += 1
            start = 0
        running = not build.log_complete
        end = len(log)
        if running:
            last_lf = log.rfind(b"\n", start)
            end = last_lf + 1 if last_lf >= 0 else start
            lines = log[start:end].split(b"\n")
            if len(lines) > MAX_LINES_READ + 1:
                end = start + sum(len(line) + 1 for line in lines[:MAX_LINES_READ])
        if cfg["max_body_bytes"]:
            end = min(end, start + cfg["max_body_bytes"])
        chunk = log[start:end]
        size = len(log) if (running and cfg["size_is_file_length"]) else end
        if not cfg["leak_notes"]:
            chunk = strip_notes(chunk)
        body = LONE_LF_RE.sub(b"\r\n", chunk)
        headers = [("X-Text-Size", str(size))]
        if running:
            headers.append(("X-More-Data", "true"))
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and \
                len(body) > cfg["gzip_threshold"]:
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
            self.record["gzip"] = True
        self.send(200, body, "text/plain;charset=UTF-8", headers=headers)

    # ---- JSON views ---------------------------------------------------------------------------

    def job_url(self, full_name):
        return self.base_url() + "".join(
            "/job/" + urllib.parse.quote(p, safe="") for p in full_name.split("/")) + "/"

    def build_url(self, b):
        return f"{self.job_url(b.job.full_name)}{b.number}/"

    def job_class(self, job):
        return ("org.jenkinsci.plugins.workflow.job.WorkflowJob" if job.pipeline
                else "hudson.model.FreeStyleProject")

    def job_ref(self, job):
        return {"_class": self.job_class(job), "name": job.name, "url": self.job_url(job.full_name),
                "color": "blue"}

    def build_ref(self, b):
        d = self.build_json(b)
        d["_ref"] = ["_class", "number", "url"]
        return d

    def job_json(self, job):
        live = [i for i in self.st.queue.values() if i.job is job and i.state != "left"]
        builds = [self.build_ref(b) for b in sorted(job.builds.values(), key=lambda b: -b.number)]
        last = builds[0] if builds else None
        prop = []
        if job.params:
            prop.append({"_class": "hudson.model.ParametersDefinitionProperty",
                         "parameterDefinitions": [
                             {"_class": "hudson.model.StringParameterDefinition",
                              "name": p["name"], "type": p.get("type", "StringParameterDefinition"),
                              "description": p.get("description", ""),
                              "defaultParameterValue": {
                                  "_class": "hudson.model.StringParameterValue",
                                  "name": p["name"], "value": p.get("default", "")}}
                             for p in job.params]})
        return {"_class": self.job_class(job), "name": job.name, "fullName": job.full_name,
                "displayName": job.name, "url": self.job_url(job.full_name),
                "buildable": not job.disabled, "color": "disabled" if job.disabled else "blue",
                "inQueue": bool(live), "queueItem": self.item_json(live[0]) if live else None,
                "nextBuildNumber": job.next_build, "builds": builds[:100], "allBuilds": builds,
                "lastBuild": last, "property": prop, "healthReport": []}

    def build_json(self, b):
        actions = []
        if b.params:
            actions.append({"_class": "hudson.model.ParametersAction", "parameters": [
                {"_class": "hudson.model.StringParameterValue", "name": k, "value": v}
                for k, v in b.params.items()]})
        actions.append({"_class": "hudson.model.CauseAction", "causes": [
            {"_class": "hudson.model.Cause$UserIdCause", "shortDescription": "Started by user admin",
             "userId": "admin", "userName": "admin"}]})
        if b.test_report is not None:
            r = b.test_report
            actions.append({"_class": "hudson.tasks.junit.TestResultAction",
                            "failCount": r.get("failCount", 0), "skipCount": r.get("skipCount", 0),
                            "totalCount": r.get("passCount", 0) + r.get("failCount", 0) +
                            r.get("skipCount", 0), "urlName": "testReport"})
        in_progress = b.building or (not b.job.pipeline and not b.log_complete)
        return {"_class": ("org.jenkinsci.plugins.workflow.job.WorkflowRun" if b.job.pipeline
                           else "hudson.model.FreeStyleBuild"),
                "number": b.number, "id": str(b.number), "url": self.build_url(b),
                "displayName": f"#{b.number}", "fullDisplayName": f"{b.job.full_name} #{b.number}",
                "description": None, "timestamp": int(b.started * 1000),
                "duration": 0 if b.building else b.duration_ms, "estimatedDuration": -1,
                "building": b.building, "inProgress": in_progress, "result": b.result,
                "keepLog": False, "queueId": b.queue_id, "executor": {} if b.building else None,
                "artifacts": [{"displayPath": p.rsplit("/", 1)[-1], "fileName": p.rsplit("/", 1)[-1],
                               "relativePath": p} for p in b.artifacts],
                "actions": actions}

    def item_json(self, item):
        st = self.st
        d = {"_class": {"waiting": "hudson.model.Queue$WaitingItem",
                        "buildable": "hudson.model.Queue$BuildableItem",
                        "left": "hudson.model.Queue$LeftItem"}[item.state],
             "id": item.id, "url": f"queue/item/{item.id}/", "inQueueSince": int(item.since * 1000),
             "params": "".join(f"\n{k}={v}" for k, v in item.params.items()),
             "stuck": False, "blocked": False, "buildable": item.state == "buildable",
             "task": self.job_ref(item.job),
             "actions": [{"_class": "hudson.model.CauseAction", "causes": [
                 {"shortDescription": "Started by user admin" +
                  (f" ({item.causes} times)" if item.causes > 1 else ""), "userId": "admin"}]}]}
        if item.state == "waiting":
            left = max(0.0, item.timestamp - time.time())
            d["why"] = "In the quiet period. Expires in %.1f sec" % left
            d["timestamp"] = int(item.timestamp * 1000)
            if item.hold and left == 0:
                d["_class"], d["blocked"] = "hudson.model.Queue$BlockedItem", True
                d["why"] = "Waiting for next available executor"
        elif item.state == "buildable":
            d["why"] = "Waiting for next available executor"
            d["pending"] = False
            d["buildableStartMilliseconds"] = int(item.buildable_since * 1000)
        else:
            d["why"] = None
            d["cancelled"] = item.cancelled
            d["executable"] = None if item.build is None else {
                "_class": "hudson.model.FreeStyleBuild", "number": item.build.number,
                "url": self.build_url(item.build)}
        return d

    # ---- control API ----------------------------------------------------------------------------

    def control(self, what, query, body):
        st = self.st
        try:
            req = json.loads(body) if body else {}
        except ValueError as e:
            return self.send(400, f"bad JSON: {e}", api=False)
        st.advance()
        if what == "config":
            st.config.update(req)
            return self.send(200, st.config, api=False)
        if what == "jobs":
            st.add_job(req["name"], req)
            return self.send(200, {"ok": True}, api=False)
        if what == "builds":  # a build started directly (for `stagehost jenkins log`)
            job = st.jobs[req["job"]]
            item, _ = st.schedule(job, req.get("params", {}), 0)
            item.hold = False
            st.start_build(item)
            b = item.build
            if "script" in req:
                b.__init__(job, b.number, item.id, item.params, req["script"])
            return self.send(200, {"number": b.number, "queueId": item.id}, api=False)
        if what in ("append", "finish", "complete_log", "stop"):
            b = st.jobs[req["job"]].builds[int(req["number"])]
            if what == "append":
                b.append(decode_chunk(req["text"]))
            elif what == "finish":
                b.finish(req.get("result", "SUCCESS"), complete=req.get("complete", True))
            elif what == "complete_log":
                b.complete_log()
            else:
                b.stop()
            return self.send(200, {"ok": True}, api=False)
        if what == "queue/release":
            st.queue[int(req["id"])].hold = False
            st.advance()
            return self.send(200, {"ok": True}, api=False)
        if what == "queue/cancel":
            self.cancel_item(st.queue[int(req["id"])])
            return self.send(200, {"ok": True}, api=False)
        if what == "queue/expire":  # jump past the left-item cache's expiry
            for item in st.queue.values():
                if item.state == "left":
                    item.left_at -= st.config["left_expiry_s"] + 1
            return self.send(200, {"ok": True}, api=False)
        if what == "queue":
            return self.send(200, [{"id": i.id, "job": i.job.full_name, "state": i.state,
                                    "params": i.params, "cancelled": i.cancelled}
                                   for i in st.queue.values()], api=False)
        if what == "faults":
            req.setdefault("count", 1)
            st.faults.append(req)
            return self.send(200, {"ok": True}, api=False)
        if what == "stale_once":
            st.stale_once = int(req.get("count", 1))
            return self.send(200, {"ok": True}, api=False)
        if what == "rotate_crumbs":
            st.salt = secrets.token_hex(8)
            return self.send(200, {"ok": True}, api=False)
        if what == "requests":
            return self.send(200, st.requests, api=False)
        if what == "stats":
            return self.send(200, st.stats, api=False)
        if what == "console":
            b = st.jobs[query["job"][0]].builds[int(query["number"][0])]
            return self.send(200, bytes(b.log), "application/octet-stream", api=False)
        return self.send(404, "unknown control endpoint", api=False)


def strip_refs(value):
    """Default depth-0 export: nested builds show only their identifying fields."""
    if isinstance(value, list):
        return [strip_refs(v) for v in value]
    if isinstance(value, dict):
        if "_ref" in value:
            return {k: value[k] for k in value["_ref"]}
        return {k: strip_refs(v) for k, v in value.items()}
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeJenkins:
    """In-process handle: `with FakeJenkins() as fj: fj.url ...`."""

    def __init__(self, port=0, host="127.0.0.1", **state_args):
        self.state = State(**state_args)
        self.server = _Server((host, port), Handler)
        self.server.state = self.state
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/"
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def add_job(self, name, **spec):
        with self.state.lock:
            return self.state.add_job(name, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--token", default="11aa22bb33cc44dd55ee66ff77889900aa")
    ap.add_argument("--password", default="secret")
    args = ap.parse_args()
    fj = FakeJenkins(args.port, args.host, user=args.user, token=args.token,
                     password=args.password)
    print(f"PORT {fj.port}", flush=True)
    try:
        fj.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
