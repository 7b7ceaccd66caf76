"""Fidelity of the fake Jenkins: Debian's python3-jenkins and raw HTTP agree with jenkins-api.md."""

import base64
import gzip
import http.client
import json
import os
import sys
import time
import urllib.parse

import jenkins
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fake_jenkins import FakeJenkins, console_note  # noqa: E402

USER, TOKEN, PASSWORD = "admin", "11aa22bb33cc44dd55ee66ff77889900aa", "secret"


@pytest.fixture
def fj():
    with FakeJenkins() as f:
        yield f


def client(fj, secret=TOKEN):
    return jenkins.Jenkins(fj.url, username=USER, password=secret, timeout=10)


def raw(fj, method, path, headers=None, body=None, auth=(USER, TOKEN)):
    conn = http.client.HTTPConnection("127.0.0.1", fj.port, timeout=10)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r, data


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met")


def test_version_and_auth(fj):
    j = client(fj)
    # python-jenkins resolves auth on its first jenkins_open; get_version alone would go out
    # anonymously, which a secured controller answers with 403, as this one does.
    assert j.get_whoami()["id"] == USER
    assert j.get_version() == "2.570"
    with pytest.raises(jenkins.JenkinsException):
        client(fj, "wrong").get_version()
    r, body = raw(fj, "GET", "/api/json", auth=("admin", "wrong"))
    assert r.status == 401 and r.getheader("WWW-Authenticate") == 'Basic realm="Jenkins"'
    assert b"Invalid password/token for user: admin" in body
    r, _ = raw(fj, "GET", "/api/json", auth=None)
    assert r.status == 403
    assert r.getheader("X-You-Are-Authenticated-As") == "anonymous"
    assert r.getheader("X-Required-Permission") == "hudson.model.Hudson.Read"


def test_build_queue_console_and_report_with_python_jenkins(fj):
    fj.add_job("plain", script={"chunks": ["one\n", "two\n"], "result": "UNSTABLE",
                                "test_report": {"passCount": 1, "failCount": 1, "skipCount": 0,
                                                "duration": 0.5, "suites": []}})
    j = client(fj)
    info = j.get_job_info("plain")
    assert info["name"] == "plain" and info["property"] == []
    qid = j.build_job("plain")
    item = wait_for(lambda: j.get_queue_item(qid).get("executable"))
    number = item["number"]
    assert item["url"].endswith(f"/job/plain/{number}/")
    build = wait_for(lambda: (lambda b: b if not b["building"] else None)(
        j.get_build_info("plain", number)))
    assert build["result"] == "UNSTABLE" and build["queueId"] == qid and build["duration"] > 0
    assert j.get_build_console_output("plain", number) == "one\ntwo\n"
    report = j.get_build_test_report("plain", number)
    assert report["_class"] == "hudson.tasks.junit.TestResult" and report["failCount"] == 1


def test_parameterised_job_and_folders(fj):
    fj.add_job("team/svc/deploy", params=[{"name": "ENV", "default": "staging"},
                                          {"name": "V", "default": "1"}],
               script={"manual": True})
    j = client(fj)
    info = j.get_job_info("team/svc/deploy")
    defs = info["property"][0]["parameterDefinitions"]
    assert [d["name"] for d in defs] == ["ENV", "V"]
    assert defs[0]["defaultParameterValue"]["value"] == "staging"
    qid = j.build_job("team/svc/deploy", {"ENV": "prod", "IGNORED": "x"})
    item = j.get_queue_item(qid)
    assert "\nENV=prod\nV=1" == item["params"]
    # The folder itself lists its children.
    r, body = raw(fj, "GET", "/job/team/job/svc/api/json")
    assert json.loads(body)["jobs"][0]["name"] == "deploy"


def test_build_endpoint_rules(fj):
    fj.add_job("p", params=[{"name": "A", "default": "1"}], script={"manual": True})
    fj.add_job("np", script={"manual": True})
    fj.add_job("off", disabled=True)
    r, body = raw(fj, "POST", "/job/p/build")
    assert r.status == 400 and b"Nothing is submitted" in body
    r, body = raw(fj, "POST", "/job/np/buildWithParameters?A=1")
    assert r.status == 400 and b"np is not parameterized" in body
    r, _ = raw(fj, "GET", "/job/np/build")
    assert r.status == 405 and r.getheader("Allow") == "POST"
    r, _ = raw(fj, "POST", "/job/off/build")
    assert r.status == 409
    form = urllib.parse.urlencode({"json": json.dumps({"parameter": [{"name": "A", "value": "2"}]})})
    r, _ = raw(fj, "POST", "/job/p/build", {"Content-Type": "application/x-www-form-urlencoded"},
               form)
    assert r.status == 201 and r.getheader("Location").endswith("/job/p/")
    r, body = raw(fj, "POST", "/job/p/buildWithParameters?A=1&A=2")
    assert r.status == 400 and b"Illegal number of parameter values for A: 2" in body
    # Folding: a second identical trigger while the first waits lands on the same item.
    fj.state.config["quiet_period_s"] = 30
    r1, _ = raw(fj, "POST", "/job/p/buildWithParameters?A=9")
    r2, _ = raw(fj, "POST", "/job/p/buildWithParameters?A=9")
    assert r1.status == 201 and r2.status == 303
    assert r1.getheader("Location") == r2.getheader("Location")
    r1, _ = raw(fj, "POST", "/job/np/build")
    r2, _ = raw(fj, "POST", "/job/np/build")
    assert r1.status == r2.status == 201 and r1.getheader("Location") == r2.getheader("Location")


def test_queue_cancel_and_expiry(fj):
    fj.add_job("held", hold_in_queue=True)
    j = client(fj)
    qid = j.build_job("held")
    item = j.get_queue_item(qid)
    assert item["_class"] == "hudson.model.Queue$BlockedItem" and item["why"]
    r, _ = raw(fj, "GET", f"/queue/cancelItem?id={qid}")
    assert r.status == 405
    r, _ = raw(fj, "POST", f"/queue/cancelItem?id={qid}")
    assert r.status == 204
    left = j.get_queue_item(qid)
    assert left["cancelled"] is True and left["executable"] is None
    r, body = raw(fj, "POST", f"/queue/cancelItem?id={qid}")
    assert r.status == 404 and f"Provided id ({qid}) not found".encode() in body
    fj.state.config["left_expiry_s"] = 0.2
    time.sleep(0.3)
    with pytest.raises(jenkins.JenkinsException):
        j.get_queue_item(qid)


def test_crumbs_with_password_session(fj):
    fj.add_job("np", script={"manual": True})
    # python-jenkins fetches a crumb and keeps the session cookie: the POST passes.
    j = client(fj, PASSWORD)
    assert j.build_job("np") > 0
    # A password POST without a crumb is refused; an API-token POST is exempt.
    r, body = raw(fj, "POST", "/job/np/build", auth=(USER, PASSWORD))
    assert r.status == 403 and b"No valid crumb was included in the request" in body
    r, body = raw(fj, "GET", "/crumbIssuer/api/json", auth=(USER, PASSWORD))
    crumb = json.loads(body)
    cookie = r.getheader("Set-Cookie").split(";")[0]
    assert cookie.startswith("JSESSIONID.") and crumb["crumbRequestField"] == "Jenkins-Crumb"
    r, _ = raw(fj, "POST", "/job/np/build", {"Jenkins-Crumb": crumb["crumb"]}, auth=(USER, PASSWORD))
    assert r.status == 403  # crumb without its session cookie
    r, _ = raw(fj, "POST", "/job/np/build", {"Jenkins-Crumb": crumb["crumb"], "Cookie": cookie},
               auth=(USER, PASSWORD))
    assert r.status == 201
    fj.state.config["csrf"] = False
    r, _ = raw(fj, "GET", "/crumbIssuer/api/json")
    assert r.status == 404


def test_stop_build(fj):
    fj.add_job("long", script={"manual": True})
    j = client(fj)
    qid = j.build_job("long")
    number = wait_for(lambda: j.get_queue_item(qid).get("executable"))["number"]
    j.stop_build("long", number)
    info = j.get_build_info("long", number)
    assert info["result"] == "ABORTED" and info["building"] is False
    assert "Aborted by admin" in j.get_build_console_output("long", number)


def test_stop_term_kill_on_a_resisting_pipeline(fj):
    fj.add_job("stuck", pipeline=True, script={"manual": True, "resists": ["stop", "term"]})
    fj.add_job("free", script={"manual": True, "resists": ["stop"]})
    j = client(fj)
    for name in ("stuck", "free"):
        qid = j.build_job(name)
        wait_for(lambda: j.get_queue_item(qid).get("executable"))
    assert raw(fj, "GET", "/job/stuck/1/stop")[0].status == 405         # @RequirePOST
    for action in ("stop", "term"):
        assert raw(fj, "POST", f"/job/stuck/1/{action}")[0].status == 302
        assert j.get_build_info("stuck", 1)["building"] is True           # ignored
    assert raw(fj, "POST", "/job/stuck/1/kill")[0].status == 302
    info = j.get_build_info("stuck", 1)
    assert info["result"] == "ABORTED" and info["building"] is False
    assert j.get_build_console_output("stuck", 1).endswith("Hard kill!\n")
    assert raw(fj, "POST", "/job/free/1/stop")[0].status == 302
    assert raw(fj, "POST", "/job/free/1/term")[0].status == 404          # Pipelines only
    assert j.get_build_info("free", 1)["building"] is True
    assert fj.state.stats["stop_requests"] == ["stop", "term", "kill", "stop"]


def progressive(fj, path, start, headers=None):
    r, body = raw(fj, "GET", f"{path}/logText/progressiveText?start={start}", headers)
    if r.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return r, body


def test_progressive_text_quirks(fj):
    fj.add_job("log", script={"manual": True})
    st = fj.state
    with st.lock:
        item, _ = st.schedule(st.jobs["log"], {}, 0)
        st.start_build(item)
        build = item.build
    path = "/job/log/1"
    r, body = progressive(fj, path, 0)  # no log yet
    assert body == b"" and r.getheader("X-Text-Size") == "0" and r.getheader("X-More-Data") == "true"
    note = console_note()
    build.append(b"first " + note + b"line\nsecond li")
    r, body = progressive(fj, path, 0)
    size = int(r.getheader("X-Text-Size"))
    assert body == b"first " + note + b"line\r\n"  # notes leak, LF -> CRLF, complete lines only
    assert size == len(b"first " + note + b"line\n")  # raw offset, not body length
    r, body = progressive(fj, path, size + 1000)  # start beyond length: resent from 0
    assert body.startswith(b"first ") and st.stats["start_beyond_length"] == 1
    build.append(b"ne\n" + b"x" * 5000 + b"\n")
    build.finish("SUCCESS")
    r, body = progressive(fj, path, size, {"Accept-Encoding": "gzip"})
    assert r.getheader("X-More-Data") is None
    assert body == b"second line\r\n" + b"x" * 5000 + b"\r\n"
    r, gz = raw(fj, "GET", f"{path}/logText/progressiveText?start={size}",
                {"Accept-Encoding": "gzip"})
    assert r.getheader("Content-Encoding") == "gzip" and len(gz) < 5000
    r, text = raw(fj, "GET", f"{path}/consoleText")
    assert text == b"first line\nsecond line\n" + b"x" * 5000 + b"\n"  # notes stripped, LF kept


def test_tree_and_artifacts(fj):
    fj.add_job("art", script={"artifacts": {"out/a.bin": {"b64": base64.b64encode(
        bytes(range(256))).decode()}}})
    j = client(fj)
    qid = j.build_job("art")
    number = wait_for(lambda: j.get_queue_item(qid).get("executable"))["number"]
    r, body = raw(fj, "GET", f"/job/art/{number}/api/json?tree=artifacts[relativePath],result")
    data = json.loads(body)
    assert set(data) == {"_class", "artifacts", "result"}
    assert data["artifacts"] == [{"relativePath": "out/a.bin"}]
    r, body = raw(fj, "GET", f"/job/art/{number}/artifact/out/a.bin")
    assert r.status == 200 and body == bytes(range(256))
    r, _ = raw(fj, "GET", f"/job/art/{number}/artifact/missing")
    assert r.status == 404
    r, body = raw(fj, "GET", "/job/art/api/json?tree=allBuilds[number,queueId]")
    assert json.loads(body)["allBuilds"] == [{"_class": "hudson.model.FreeStyleBuild",
                                              "number": number, "queueId": qid}]
    r, body = raw(fj, "GET", "/job/art/api/json")
    assert set(json.loads(body)["builds"][0]) == {"_class", "number", "url"}  # depth 0
    r, body = raw(fj, "GET", "/job/art/api/json?tree=builds[number")
    assert r.status == 400 and b"Malformed tree expression" in body


def test_faults(fj):
    fj.add_job("np")
    fj.state.faults.append({"path_regex": "/api/json", "status": 503, "count": 2})
    r1, _ = raw(fj, "GET", "/job/np/api/json")
    r2, _ = raw(fj, "GET", "/job/np/api/json")
    r3, _ = raw(fj, "GET", "/job/np/api/json")
    assert (r1.status, r2.status, r3.status) == (503, 503, 200)
    fj.state.faults.append({"path_regex": "/api/json", "kind": "reset", "count": 1})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw(fj, "GET", "/job/np/api/json")
