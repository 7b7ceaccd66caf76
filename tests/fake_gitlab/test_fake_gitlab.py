"""Self-tests of the fake GitLab: each rule of gitlab-runner-api.md §13 and each fault hook, driven
with plain http.client so a failure here is the fake's, never the runner's.

Run: /usr/bin/python3 -m pytest -q tests/fake_gitlab"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_gitlab import FakeGitLab  # noqa: E402

RUNNER = "glrt-test-runner-0001"
SYSTEM_ID = "s_0123456789ab"
FEATURES = {name: True for name in (
    "variables", "artifacts", "cache", "upload_multiple_artifacts", "upload_raw_artifacts",
    "refspecs", "masking", "raw_variables", "artifacts_exclude", "multi_build_steps", "trace_reset",
    "trace_checksum", "trace_size", "cancelable", "return_exit_code", "cancel_gracefully",
    "two_phase_job_commit")}
INFO = {"name": "stagehost", "version": "0.1", "features": FEATURES}


class Api:
    """A minimal runner-side client: one connection per call, so faults never leak across calls."""

    def __init__(self, fake, timeout=5):
        self.fake = fake
        self.timeout = timeout

    def call(self, method, path, body=b"", headers=None, port=None, timeout=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.fake.port,
                                          timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def post_json(self, path, data, headers=None):
        return self.call("POST", "/api/v4" + path, json.dumps(data).encode(),
                         {"Content-Type": "application/json", **(headers or {})})

    def request_job(self, token=RUNNER, last_update=None, info=INFO, system_id=SYSTEM_ID):
        body = {"token": token, "system_id": system_id, "info": info}
        if last_update is not None:
            body["last_update"] = last_update
        return self.post_json("/jobs/request", body)

    def put(self, job_id, token, state, header_token=True, **fields):
        body = {"token": token, "state": state, "info": INFO, **fields}
        headers = {"Content-Type": "application/json"}
        if header_token:
            headers["JOB-TOKEN"] = token
        return self.call("PUT", f"/api/v4/jobs/{job_id}", json.dumps(body).encode(), headers)

    def final(self, job_id, token, state, trace, **fields):
        output = {"checksum": "crc32:%08x" % zlib.crc32(trace), "bytesize": len(trace)}
        return self.put(job_id, token, state, output=output, **fields)

    def patch(self, job_id, token, data, start, end=None, content_type="text/plain",
              query="?debug_trace=false", content_range=True):
        headers = {"JOB-TOKEN": token}
        if content_type:
            headers["Content-Type"] = content_type
        if content_range:
            end = start + len(data) - 1 if end is None else end
            headers["Content-Range"] = f"{start}-{end}"
        return self.call("PATCH", f"/api/v4/jobs/{job_id}/trace{query}", data, headers)

    def upload(self, job_id, token, data, query="", fields=None, filename="artifacts.zip",
               file_parts=1, chunked=False):
        boundary = "----fakeboundary7f3a"
        parts = []
        for name, value in (fields or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{value}\r\n".encode())
        for _ in range(file_parts):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                         f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                         .encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"JOB-TOKEN": token, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        path = f"/api/v4/jobs/{job_id}/artifacts{query}"
        if chunked:
            pieces = [body[i:i + 1000] for i in range(0, len(body), 1000)]
            conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=self.timeout)
            conn.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
            response = conn.getresponse()
            result = response.status, dict(response.getheaders()), response.read()
            conn.close()
            return result
        return self.call("POST", path, body, headers)


@pytest.fixture
def fake():
    with FakeGitLab(interval="1", late_grace=0.2) as server:
        server.add_runner(RUNNER)
        yield server


@pytest.fixture
def api(fake):
    return Api(fake)


def start_job(fake, api, ack=True, **job):
    """Enqueue, pick up and (by default) acknowledge a job; returns (job id, job token)."""
    job_id = fake.enqueue_job(**job)
    status, headers, body = api.request_job()
    assert status == 201, (status, body)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["id"] == job_id
    if ack:
        assert api.put(job_id, payload["token"], "running")[0] == 200
    return job_id, payload["token"]


# ---- runners ---------------------------------------------------------------------------------
def test_verify_checks_token_content_type_and_system_id(fake, api):
    status, headers, body = api.post_json("/runners/verify", {"token": RUNNER, "system_id": SYSTEM_ID,
                                                              "info": INFO})
    assert status == 200 and headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["token"] == RUNNER and "id" in answer and "token_expires_at" in answer
    assert fake.runner(RUNNER).managers[SYSTEM_ID] == INFO
    assert api.post_json("/runners/verify", {"token": "glrt-nope", "system_id": SYSTEM_ID,
                                             "info": INFO})[0] == 403
    assert fake.violations == []
    api.post_json("/runners/verify", {"token": RUNNER, "system_id": "x_123", "info": INFO})
    api.call("POST", "/api/v4/runners/verify", json.dumps({"token": RUNNER}).encode(),
             {"Content-Type": "text/plain"})
    text = "\n".join(fake.violations)
    assert "system_id" in text and "application/json" in text


def test_legacy_register_reset_and_delete(fake, api):
    fake.add_registration_token("GR1348941reg")
    status, _, body = api.post_json("/runners", {"token": "GR1348941reg", "info": INFO})
    assert status == 201
    token = json.loads(body)["token"]
    assert token.startswith("glrt-")
    assert api.post_json("/runners", {"token": "bad"})[0] == 403
    status, _, body = api.post_json("/runners/reset_authentication_token", {"token": token})
    new = json.loads(body)["token"]
    assert status == 201 and new != token
    delete = {"Content-Type": "application/json"}
    assert api.call("DELETE", "/api/v4/runners", json.dumps({"token": token}).encode(), delete)[0] == 403
    assert api.call("DELETE", "/api/v4/runners", json.dumps({"token": new}).encode(), delete)[0] == 204
    fake.registration_gone = True
    assert api.post_json("/runners", {"token": "GR1348941reg"})[0] == 410


# ---- jobs/request ----------------------------------------------------------------------------
def test_request_auth_queue_value_echo_and_pause(fake, api):
    assert api.request_job(token="glrt-unknown")[0] == 403
    status, headers, _ = api.request_job()
    assert status == 204
    value = headers["X-GitLab-Last-Update"]
    status, headers, _ = api.request_job(last_update=value)
    assert status == 204 and headers["X-GitLab-Last-Update"] == value
    job_id = fake.enqueue_job()
    fake.pause_runner(RUNNER)
    status, headers, _ = api.request_job()
    assert status == 204 and headers["X-GitLab-Last-Update"] != value
    fake.pause_runner(RUNNER, paused=False)
    status, _, body = api.request_job(last_update=value)    # stale value: the queue is looked at
    assert status == 201 and json.loads(body)["id"] == job_id
    assert fake.state(job_id) == "running"
    assert fake.violations == []


def test_equal_last_update_does_not_look_for_jobs(fake, api):
    status, headers, _ = api.request_job()
    value = headers["X-GitLab-Last-Update"]
    with fake.lock:                 # a job that appeared without bumping the queue value
        job_id = fake.enqueue_job()
        fake.runner(RUNNER).version -= 1
    assert api.request_job(last_update=value)[0] == 204
    assert api.request_job()[0] == 201
    assert fake.state(job_id) == "running"


def test_assignment_is_atomic_under_concurrent_polls(fake, api):
    job_id = fake.enqueue_job()
    results = []
    barrier = threading.Barrier(16)

    def poll():
        barrier.wait()
        results.append(api.request_job()[0])

    threads = [threading.Thread(target=poll) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(201) == 1 and results.count(204) == 15
    assert fake.job(job_id).runner == RUNNER


def test_scripted_409_and_feature_refusal(fake, api):
    fake.script("request", 409)
    fake.enqueue_job(needs_features=["upload_multiple_artifacts"])
    assert api.request_job()[0] == 409
    lacking = {**INFO, "features": {**FEATURES, "upload_multiple_artifacts": False}}
    assert api.request_job(info=lacking)[0] == 204
    assert fake.violations == []
    no_refspecs = {**INFO, "features": {**FEATURES, "refspecs": False}}
    assert api.request_job(info=no_refspecs)[0] == 204
    assert any("refspecs" in v for v in fake.violations)
    assert api.request_job()[0] == 201


def test_payload_is_realistic(fake, api):
    job_id, token = start_job(fake, api, script=["make test"], after_script=["echo bye"],
                              variables=[{"key": "SECRET", "value": "s3cr3t-value", "public": False,
                                          "masked": True}], timeout=600,
                              artifacts=[{"paths": ["out/"]}])
    payload = fake.job(job_id).payload
    assert token.startswith("glcbt-") and payload["token"] == token
    variables = {v["key"]: v for v in payload["variables"]}
    assert variables["CI_JOB_TOKEN"] == {"key": "CI_JOB_TOKEN", "value": token, "public": False,
                                         "masked": True}
    assert variables["SECRET"]["masked"] and payload["variables"][-1]["key"] == "SECRET"
    assert [s["name"] for s in payload["steps"]] == ["script", "after_script"]
    assert payload["steps"][0]["script"] == ["make test"] and payload["runner_info"]["timeout"] == 600
    assert f"gitlab-ci-token:{token}@" in payload["git_info"]["repo_url"]
    assert payload["artifacts"][0]["artifact_type"] == "archive"
    assert "runner_system_failure" in payload["features"]["failure_reasons"]


def test_long_poll_holds_then_answers_without_header(api):
    with FakeGitLab(interval="1", long_poll=1.2) as fake:
        fake.add_runner(RUNNER)
        status, headers, _ = api.__class__(fake).request_job()     # no last_update: straight through
        assert status == 204
        value = headers["X-GitLab-Last-Update"]
        client = Api(fake)
        began = time.monotonic()
        status, headers, _ = client.request_job(last_update=value)     # held until timeout
        assert status == 204 and "X-GitLab-Last-Update" not in headers
        assert 1.1 <= time.monotonic() - began < 3
        assert headers.get("Gitlab-Ci-Builds-Polling") == "yes"        # Workhorse marks its answers
        held = []
        threading.Timer(0.2, lambda: (held.append(fake.held_requests), fake.enqueue_job())).start()
        began = time.monotonic()
        status, headers, _ = client.request_job(last_update=value)     # woken by the enqueue
        assert status == 204 and "X-GitLab-Last-Update" not in headers
        assert time.monotonic() - began < 0.9
        assert held == [1] and fake.held_requests == 0
        status, headers, _ = client.request_job(last_update=value)     # value differs: at once
        assert status == 201 and headers.get("Gitlab-Ci-Builds-Polling") == "yes"
        big = {"token": RUNNER, "last_update": "x", "pad": "y" * 40000, "info": INFO,
               "system_id": SYSTEM_ID}
        assert client.post_json("/jobs/request", big)[0] == 413


# ---- job token, ack, PUT ---------------------------------------------------------------------
def test_job_token_auth(fake, api):
    job_id, token = start_job(fake, api)
    other_id, other_token = start_job(fake, api)
    status, headers, _ = api.patch(job_id, other_token, b"x", 0)
    assert status == 403 and "Job-Status" not in headers
    assert api.put(999999, token, "running")[0] == 403
    status, headers, _ = api.call("PATCH", f"/api/v4/jobs/{job_id}/trace?debug_trace=false&token={token}",
                                  b"ab", {"Content-Type": "text/plain", "Content-Range": "0-1"})
    assert status == 202 and headers["Range"] == "0-2"
    assert api.put(job_id, token, "running", header_token=False)[0] == 200   # body token is enough
    status, _, _ = api.call("PUT", f"/api/v4/jobs/{job_id}", json.dumps({"state": "running"}).encode(),
                            {"Content-Type": "application/json", "JOB-TOKEN": token})
    assert status == 400 and any("without `token`" in v for v in fake.violations)


def test_put_running_pending_unknown_and_headers(fake, api):
    job_id, token = start_job(fake, api, ack=False)
    status, headers, body = api.put(job_id, token, "pending")
    assert status == 200
    status, headers, body = api.put(job_id, token, "running")
    assert (status, body) == (200, b"200")
    assert headers["Job-Status"] == "running" and headers["X-GitLab-Trace-Update-Interval"] == "1"
    assert api.put(job_id, token, "pending")[0] == 409
    assert api.put(job_id, token, "bogus")[0] == 400
    assert fake.job(job_id).acked and fake.job(job_id).heartbeats == 1


def test_patch_before_ack_is_a_violation(fake, api):
    job_id, token = start_job(fake, api, ack=False)
    assert api.patch(job_id, token, b"early", 0)[0] == 202
    assert any("before the PUT state=running ack" in v for v in fake.violations)


# ---- trace -----------------------------------------------------------------------------------
def test_trace_append_inclusive_range_and_416_both_ways(fake, api):
    job_id, token = start_job(fake, api)
    status, headers, _ = api.patch(job_id, token, b"hello ", 0)        # Content-Range 0-5
    assert status == 202 and headers["Range"] == "0-6"                  # exclusive end back
    assert headers["Job-Status"] == "running" and headers["X-GitLab-Trace-Update-Interval"] == "1"
    status, headers, _ = api.patch(job_id, token, b"later", 20)        # a gap: nothing written
    assert status == 416 and headers["Range"] == "0-6"
    status, headers, _ = api.patch(job_id, token, b"world\n", 6)
    assert status == 202 and headers["Range"] == "0-12"
    job = fake.job(job_id)
    assert fake.trace_bytes(job_id) == b"hello world\n"
    assert [(r.start, r.end) for r in job.accepted_ranges] == [(0, 6), (6, 12)]
    assert job.check_ranges() == [] and fake.violations == []
    status, headers, _ = api.patch(job_id, token, b"hello ", 0)        # resending acked bytes
    assert status == 416 and headers["Range"] == "0-12"
    assert any("resends bytes" in v for v in fake.violations)
    assert fake.trace_bytes(job_id) == b"hello world\n"


def test_trace_header_rules(fake, api):
    job_id, token = start_job(fake, api)
    status, _, body = api.patch(job_id, token, b"x", 0, content_range=False)
    assert status == 400 and b"Content-Range" in body
    assert api.patch(job_id, token, b"abc", 0, end=3)[0] == 202         # exclusive end: violation
    assert api.patch(job_id, token, b"def", 3, content_type=None)[0] == 202
    assert api.patch(job_id, token, b"", 6, end=5)[0] == 202
    assert api.patch(job_id, token, b"ghi", 6, query="")[0] == 202
    assert api.patch(job_id, token, b"x", 9, end=9, content_range=True)[0] == 202
    status = api.call("PATCH", f"/api/v4/jobs/{job_id}/trace?debug_trace=false", b"y",
                      {"JOB-TOKEN": token, "Content-Type": "text/plain",
                       "Content-Range": "bytes 10-10"})[0]
    assert status == 400
    text = "\n".join(fake.violations)
    for expected in ("end must be inclusive", "Content-Type missing", "empty PATCH",
                     "debug_trace", "malformed Content-Range"):
        assert expected in text, expected
    assert fake.trace_bytes(job_id) == b"abcdefghix"


def test_trace_size_limit_fails_the_job(api):
    with FakeGitLab(interval="1", trace_size_limit=10) as fake:
        fake.add_runner(RUNNER)
        client = Api(fake)
        job_id, token = start_job(fake, client)
        assert client.patch(job_id, token, b"12345678", 0)[0] == 202
        status, headers, _ = client.patch(job_id, token, b"90abc", 8)
        assert status == 403 and headers["Job-Status"] == "failed"
        assert fake.job(job_id).failure_reason == "trace_size_exceeded"


# ---- final state -----------------------------------------------------------------------------
def test_final_state_checksum_verified_and_accepted_exactly_once(fake, api):
    job_id, token = start_job(fake, api)
    api.patch(job_id, token, b"output\n", 0)
    status, headers, body = api.final(job_id, token, "failed", b"output\n",
                                      failure_reason="script_failure", exit_code=7)
    assert (status, body, headers["Job-Status"]) == (200, b"200", "failed")
    job = fake.job(job_id)
    assert job.failure_reason == "script_failure" and job.exit_code == 7 and job.state == "failed"
    assert fake.violations == []
    status, headers, _ = api.final(job_id, token, "failed", b"output\n")   # a second final
    assert status == 403 and headers["Job-Status"] == "failed"
    assert any("sent again" in v for v in fake.violations)
    assert len(job.finals) == 1 and [u["status"] for u in job.final_updates] == [200, 403]


def test_checksum_and_bytesize_mismatch_are_violations(fake, api):
    job_id, token = start_job(fake, api)
    api.patch(job_id, token, b"abc", 0)
    assert api.final(job_id, token, "success", b"abd")[0] == 200     # GitLab accepts; we complain
    assert fake.job(job_id).final_updates[0]["checksum_ok"] is False
    assert any("final output crc32" in v for v in fake.violations)


def test_unsendable_failure_reason_is_a_violation(fake, api):
    job_id, token = start_job(fake, api)
    api.final(job_id, token, "failed", b"", failure_reason="job_canceled")
    assert any("job_canceled" in v for v in fake.violations)


def test_final_202_then_200_and_412_resend(fake, api):
    fake.final_202(2, interval="2")
    job_id, token = start_job(fake, api)
    api.patch(job_id, token, b"abcdef", 0)
    for _ in range(2):
        status, headers, _ = api.final(job_id, token, "success", b"abcdef")
        assert status == 202 and headers["X-GitLab-Trace-Update-Interval"] == "2"
    assert api.final(job_id, token, "success", b"abcdef")[0] == 200
    assert [u["status"] for u in fake.job(job_id).final_updates] == [202, 202, 200]

    fake.final_202(0)
    fake.final_412_once()
    job_id, token = start_job(fake, api)
    api.patch(job_id, token, b"0123456789", 0)
    assert api.final(job_id, token, "success", b"0123456789")[0] == 412
    assert fake.job(job_id).trace_length == 0
    assert api.patch(job_id, token, b"01234", 0)[0] == 202               # resend from zero
    assert api.patch(job_id, token, b"56789", 5)[0] == 202
    assert api.final(job_id, token, "success", b"0123456789")[0] == 200
    assert fake.violations == [] and fake.job(job_id).check_ranges() == []


def test_412_resend_must_be_identical(fake, api):
    job_id, token = start_job(fake, api, final_412=True)
    api.patch(job_id, token, b"original", 0)
    api.final(job_id, token, "success", b"original")
    api.patch(job_id, token, b"changed!", 0)
    assert any("differ" in v for v in fake.violations)


def test_commit_drop_on_final_then_retry_is_not_a_violation(fake, api):
    job_id, token = start_job(fake, api)
    fake.script("final", "commit_drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.final(job_id, token, "success", b"")
    assert fake.state(job_id) == "success"
    status, headers, _ = api.final(job_id, token, "success", b"")
    assert status == 403 and headers["Job-Status"] == "success"
    assert fake.violations == []
    assert len(fake.job(job_id).finals) == 1


# ---- cancel ----------------------------------------------------------------------------------
def test_graceful_cancel_keeps_accepting_and_ends_canceled(fake, api):
    job_id, token = start_job(fake, api)
    assert fake.cancel(job_id) == "canceling"
    status, headers, _ = api.patch(job_id, token, b"after_script output\n", 0)
    assert status == 202 and headers["Job-Status"] == "canceling"
    assert api.put(job_id, token, "running")[1]["Job-Status"] == "canceling"
    status, headers, _ = api.final(job_id, token, "failed", b"after_script output\n",
                                   failure_reason="unknown_failure")
    assert status == 200 and headers["Job-Status"] == "canceled"
    assert fake.wait_for_state(job_id, "canceled", timeout=1) == "canceled"
    assert fake.violations == []


def test_graceful_cancel_needs_cancel_gracefully(fake, api):
    fake.enqueue_job()
    no_graceful = {**INFO, "features": {**FEATURES, "cancel_gracefully": False}}
    status, _, body = api.request_job(info=no_graceful)
    job_id = json.loads(body)["id"]
    assert fake.cancel(job_id, graceful=True) == "canceled"


def test_hard_cancel_plain_403_and_late_requests(fake, api):
    job_id, token = start_job(fake, api)
    fake.cancel(job_id, graceful=False)
    status, headers, _ = api.patch(job_id, token, b"x", 0)
    assert status == 403 and headers["Job-Status"] == "canceled"
    assert fake.violations == []
    time.sleep(0.3)                                 # beyond late_grace: the client ignored it
    api.patch(job_id, token, b"x", 0)
    assert any("after being told" in v for v in fake.violations)
    assert len(fake.job(job_id).late_requests) == 2

    other, other_token = start_job(fake, api)
    fake.cancel(other, graceful=False, plain_403=True)
    status, headers, _ = api.put(other, other_token, "running")
    assert status == 403 and "Job-Status" not in headers


def test_wait_helpers(fake, api):
    job_id, token = start_job(fake, api)
    threading.Timer(0.1, lambda: api.final(job_id, token, "success", b"")).start()
    assert fake.wait_for_state(job_id, ("success", "failed"), timeout=3) == "success"
    assert fake.wait_final(job_id, timeout=1)["state"] == "success"
    with pytest.raises(TimeoutError):
        fake.wait_until(lambda: False, timeout=0.1)
    assert fake.count("final", 200) == 1 and fake.count("trace") == 0
    assert fake.requests_for("update", job_id)[0].status == 200


# ---- artifacts -------------------------------------------------------------------------------
def test_upload_params_from_query_or_form_and_defaults(fake, api):
    job_id, token = start_job(fake, api)
    data = os.urandom(5000)
    status, _, body = api.upload(job_id, token, data,
                                 query="?artifact_format=gzip&artifact_type=junit&expire_in=1+week",
                                 filename="junit.xml.gz")
    assert (status, body) == (201, b"201")
    status, _, _ = api.upload(job_id, token, b"raw-data", fields={"artifact_type": "dotenv",
                                                                  "artifact_format": "raw"},
                              filename="build.env")
    assert status == 201
    assert api.upload(job_id, token, b"zipbytes", chunked=True)[0] == 201
    first, second, third = fake.job(job_id).uploads
    assert (first.artifact_type, first.artifact_format, first.expire_in) == ("junit", "gzip", "1 week")
    assert first.data() == data and first.filename == "junit.xml.gz"
    assert (second.artifact_type, second.artifact_format) == ("dotenv", "raw")
    assert second.params_source["form"]["artifact_type"] == "dotenv"
    assert (third.artifact_type, third.artifact_format) == ("archive", "zip")
    assert third.data() == b"zipbytes"
    assert fake.violations == []


def test_upload_rules_and_faults(api):
    with FakeGitLab(interval="1", artifact_size_limit=1000) as fake:
        fake.add_runner(RUNNER)
        client = Api(fake)
        job_id, token = start_job(fake, client)
        assert client.upload(job_id, token, b"x" * 1001)[0] == 413
        assert client.upload(job_id, token, b"", file_parts=0)[0] == 400
        assert any("`file` parts" in v for v in fake.violations)
        fake.violations.clear()
        fake.script("artifacts_upload", [503, 503, 503])
        data = os.urandom(900)
        assert [client.upload(job_id, token, data)[0] for _ in range(4)] == [503, 503, 503, 201]
        attempts = fake.job(job_id).upload_attempts[-4:]
        assert [a["status"] for a in attempts] == [503, 503, 503, 201]
        assert len({a["sha256"] for a in attempts}) == 1
        client.final(job_id, token, "success", b"")
        assert client.upload(job_id, token, data)[0] == 403
        assert fake.violations == []


def test_download_404_200_302_and_faults(api):
    with FakeGitLab(interval="1", object_storage=True) as fake:
        fake.add_runner(RUNNER)
        client = Api(fake)
        producer, producer_token = start_job(fake, client)
        archive = os.urandom(300_000)
        client.upload(producer, producer_token, archive)
        client.final(producer, producer_token, "success", b"")
        no_archive = fake.enqueue_job()
        fake.cancel(no_archive)                     # never picked; it has no archive
        consumer, token = start_job(fake, client, dependencies=[producer])
        dep = fake.job(consumer).payload["dependencies"][0]
        assert dep["token"] == token and dep["artifacts_file"]["size"] == len(archive)
        path = f"/api/v4/jobs/{producer}/artifacts"
        assert client.call("GET", path, headers={"JOB-TOKEN": producer_token})[0] == 403
        assert client.call("GET", f"/api/v4/jobs/{no_archive}/artifacts",
                           headers={"JOB-TOKEN": token})[0] == 404
        status, _, body = client.call("GET", path, headers={"JOB-TOKEN": token})
        assert status == 200 and body == archive
        status, headers, _ = client.call("GET", path + "?direct_download=true",
                                         headers={"JOB-TOKEN": token})
        assert status == 302
        location = urllib.parse.urlsplit(headers["Location"])
        assert location.port == urllib.parse.urlsplit(fake.object_storage_url).port
        target = location.path + "?" + location.query
        status, _, body = client.call("GET", target, port=location.port)
        assert status == 200 and body == archive and fake.violations == []
        client.call("GET", target, port=location.port, headers={"JOB-TOKEN": token})
        assert any("object storage received a JOB-TOKEN" in v for v in fake.violations)
        fake.script("artifacts_download", 500, {"truncate_body": 1000})
        assert client.call("GET", path, headers={"JOB-TOKEN": token})[0] == 500
        with pytest.raises(http.client.IncompleteRead):
            client.call("GET", path, headers={"JOB-TOKEN": token})


# ---- fault hooks -----------------------------------------------------------------------------
def test_scripted_statuses_with_headers(fake, api):
    job_id, token = start_job(fake, api)
    fake.script("trace", [500, 502, 503, 504, (429, {"Retry-After": "7"}),
                          {"status": 429, "headers": {"RateLimit-ResetTime": "Wed, 21 Oct 2015 07:28:00 GMT"}}])
    answers = [api.patch(job_id, token, b"a", 0) for _ in range(6)]
    assert [a[0] for a in answers] == [500, 502, 503, 504, 429, 429]
    assert answers[4][1]["Retry-After"] == "7" and "RateLimit-ResetTime" in answers[5][1]
    assert api.patch(job_id, token, b"a", 0)[0] == 202 and fake.trace_bytes(job_id) == b"a"


def test_random_errors_are_seeded_and_rate_limited(fake, api):
    job_id, token = start_job(fake, api)
    fake.random_errors(0.3, seed=7, endpoints=["update"])
    statuses = [api.put(job_id, token, "running")[0] for _ in range(200)]
    errors = [s for s in statuses if s != 200]
    assert 30 <= len(errors) <= 90 and set(errors) <= {500, 502, 503, 504}
    fake.random_errors(0)
    assert api.put(job_id, token, "running")[0] == 200


def test_outage_modes(fake, api):
    job_id, token = start_job(fake, api)
    fake.outage(0.4, mode=502)
    status, _, body = api.put(job_id, token, "running")
    assert status == 502 and b"Bad Gateway" in body
    fake.outage(0.4, mode="reset")
    with pytest.raises(ConnectionError):
        api.put(job_id, token, "running")
    time.sleep(0.45)
    assert api.put(job_id, token, "running")[0] == 200
    fake.outage(0.5, mode="refuse")
    time.sleep(0.15)
    with pytest.raises(ConnectionRefusedError):
        api.put(job_id, token, "running")
    fake.wait_until(lambda: not fake.faults.refusing(), timeout=2)
    fake.wait_until(lambda: _connects(fake.port), timeout=2)
    assert api.put(job_id, token, "running")[0] == 200
    assert fake.count("update", "down") == 1


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_commit_then_drop_leaves_the_bytes_and_416_points_forward(fake, api):
    job_id, token = start_job(fake, api)
    fake.script("trace", "commit_drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.patch(job_id, token, b"committed", 0)
    assert fake.trace_bytes(job_id) == b"committed"
    # GitLab's algorithm: a resend that also carries new bytes gets 416 pointing forward; an
    # identical resend ends where the stored trace ends, so it gets 202 and writes nothing.
    status, headers, _ = api.patch(job_id, token, b"committed + more", 0)
    assert status == 416 and headers["Range"] == "0-9"
    assert fake.trace_bytes(job_id) == b"committed"
    fake.script("trace", "commit_drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.patch(job_id, token, b" next", 9)
    status, headers, _ = api.patch(job_id, token, b" next", 9)
    assert status == 202 and headers["Range"] == "0-14"
    assert fake.trace_bytes(job_id) == b"committed next"
    assert fake.violations == []                                      # it could not know
    fake.script("trace", "commit_drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.patch(job_id, token, b" last", 14)
    api.patch(job_id, token, b" LAST", 14)                           # history rewritten
    assert any("different content" in v for v in fake.violations)


def test_416_lies_and_lost_tail(fake, api):
    job_id, token = start_job(fake, api)
    api.patch(job_id, token, b"0123456789", 0)
    fake.script("trace", {"lie_416": 4}, {"lose_tail": 6})
    status, headers, _ = api.patch(job_id, token, b"abc", 10)
    assert status == 416 and headers["Range"] == "0-4"            # a lie: nothing lost
    assert fake.trace_bytes(job_id) == b"0123456789"
    status, headers, _ = api.patch(job_id, token, b"abc", 10)
    assert status == 416 and headers["Range"] == "0-6"            # the server lost its tail
    assert fake.trace_bytes(job_id) == b"012345"
    assert api.patch(job_id, token, b"6789abc", 6)[0] == 202
    assert fake.violations == [] and fake.job(job_id).check_ranges() == []
    fake.script("trace", {"lose_tail": 8})
    api.patch(job_id, token, b"d", 13)
    api.patch(job_id, token, b"XY", 8)                            # resent bytes differ
    assert any("differ" in v for v in fake.violations)


def test_rst_after_n_body_bytes_applies_nothing(fake, api):
    job_id, token = start_job(fake, api)
    fake.script("trace", {"rst_after": 1000})
    with pytest.raises(ConnectionError):
        api.patch(job_id, token, b"z" * 500_000, 0)
    assert fake.trace_bytes(job_id) == b""
    assert fake.count("trace", "rst") == 1
    fake.script("final", "rst")
    with pytest.raises(ConnectionError):
        api.final(job_id, token, "success", b"")
    assert fake.state(job_id) == "running"


def test_stall_after_headers_and_at_accept(fake, api):
    job_id, token = start_job(fake, api)
    fake.script("trace", {"action": "stall", "seconds": 2})
    began = time.monotonic()
    with pytest.raises(socket.timeout):
        Api(fake, timeout=0.3).patch(job_id, token, b"x", 0)
    assert time.monotonic() - began < 1
    assert api.patch(job_id, token, b"x", 0)[0] == 202             # other connections still fine
    fake.stall_connections(0.5)
    time.sleep(0.1)
    with pytest.raises(socket.timeout):
        Api(fake, timeout=0.2).put(job_id, token, "running")
    time.sleep(0.5)
    assert api.put(job_id, token, "running")[0] == 200


def test_throttle_bandwidth_and_latency(fake, api):
    job_id, token = start_job(fake, api)
    fake.throttle(bytes_per_second=64 * 1024, endpoints=["trace"])
    began = time.monotonic()
    assert api.patch(job_id, token, b"t" * 32 * 1024, 0)[0] == 202
    assert 0.4 <= time.monotonic() - began < 1.5
    fake.throttle(latency=0.3)
    began = time.monotonic()
    assert api.put(job_id, token, "running")[0] == 200
    assert time.monotonic() - began >= 0.3
    fake.throttle()
    began = time.monotonic()
    api.put(job_id, token, "running")
    assert time.monotonic() - began < 0.2


def test_bogus_interval_headers_and_persistent_404(fake, api):
    job_id, token = start_job(fake, api)
    for value in ("0", "-5", "1000000000", "abc", ""):
        fake.set_interval(value)
        assert api.patch(job_id, token, b"a", 0)[1]["X-GitLab-Trace-Update-Interval"] == value
    fake.set_interval(None)
    assert "X-GitLab-Trace-Update-Interval" not in api.put(job_id, token, "running")[1]
    fake.violations.clear()
    fake.not_found(0.3)
    assert api.patch(job_id, token, b"b", 1)[0] == 404
    assert api.put(job_id, token, "running")[0] == 404
    time.sleep(0.35)
    assert api.patch(job_id, token, b"b", 1)[0] == 202


# ---- standalone ------------------------------------------------------------------------------
def test_standalone_server_and_control_api(tmp_path):
    script = Path(__file__).resolve().parent / "fake_gitlab.py"
    proc = subprocess.Popen([sys.executable, str(script), "--port", "0", "--state-dir",
                             str(tmp_path), "--interval", "1"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())

        def control(method, path, data=None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(method, "/__fake/" + path, json.dumps(data).encode() if data else b"",
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response.status, body

        token = json.loads(control("POST", "runners", {"token": RUNNER})[1])["token"]
        job = json.loads(control("POST", "jobs", {"script": ["echo hi"]})[1])
        control("POST", "call", {"method": "script", "args": ["trace", [503]]})

        class Remote:
            port = None

        Remote.port = port
        client = Api(Remote)
        assert client.request_job(token)[0] == 201
        client.put(job["id"], job["token"], "running")
        assert client.patch(job["id"], job["token"], b"hi\n", 0)[0] == 503
        assert client.patch(job["id"], job["token"], b"hi\n", 0)[0] == 202
        client.final(job["id"], job["token"], "success", b"hi\n")
        status, body = control("GET", f"jobs/{job['id']}/wait?timeout=5")
        assert json.loads(body)["state"] == "success"
        summary = json.loads(control("GET", f"jobs/{job['id']}")[1])
        assert summary["trace_length"] == 3 and summary["range_problems"] == []
        assert control("GET", f"jobs/{job['id']}/trace")[1] == b"hi\n"
        assert json.loads(control("GET", "violations")[1]) == []
        assert control("POST", "call", {"method": "stop"})[0] == 404
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


def test_interim_fake_compatibility(fake, api):
    """The shapes tests/gitlab_runner uses (Job attributes, tuple-like request records)."""
    job_id, token = start_job(fake, api)
    job = fake.job(job_id)
    fake.script("trace", {"action": "drop_after_commit"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.patch(job_id, token, b"abc", 0)
    assert job.trace == b"abc" and job.first_byte_times[0][0] == 0
    api.final(job_id, token, "success", b"abc")
    assert fake.wait_final(job)["state"] == "success" and len(job.finals) == 1
    assert fake.count("PUT", f"/jobs/{job_id}") == 2
    assert [s for t, m, p, s in fake.requests][-1] == 200
    assert job.after_terminal == 0
    from fake_gitlab import assert_ranges_contiguous
    assert_ranges_contiguous(job)
