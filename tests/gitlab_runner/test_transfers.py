"""The native runner's file steps against the fake GitLab: sources over git smart HTTP, dependency
artifacts (302 to object storage, faults, hostile archives), artifacts of every format and report
type (unpacked by the fake and compared byte for byte), upload faults R5/R12, local cache, and the
Prometheus endpoint."""

import hashlib
import io
import os
import re
import socket
import subprocess
import urllib.request
import zipfile

import pytest

from conftest import wait_until, write_config
from fake_gitlab import FakeGitLab, assert_ranges_contiguous

TOKEN = "glrt-test-runner-token"
STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z 00O ", re.M)


def plain(job):
    return STAMP.sub(b"", bytes(job.trace))


def run_one(fake, tmp_path, runner_process, job_id, state="success", **options):
    config = write_config(tmp_path / "config.toml", fake.url, TOKEN, **options)
    process = runner_process(config)
    job = fake.job(job_id)
    final = fake.wait_final(job, timeout=120)
    process.wait(timeout=60)
    assert final is not None, process.log()
    assert final["state"] == state, (final, plain(job).decode(errors="replace")[-3000:])
    assert fake.check() == []
    assert_ranges_contiguous(job)
    return job


def zip_bytes(entries):
    """entries: (name, bytes) or (name, bytes, unix mode) with S_IFLNK for symlinks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            name, data = entry[0], entry[1]
            info = zipfile.ZipInfo(name)
            if len(entry) > 2:
                info.external_attr = entry[2] << 16
                info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.fixture
def files(tmp_path):
    """Source files a job copies into its project: the test keeps the bytes to compare with."""
    src = tmp_path / "src"
    content = {
        "out/model.bin": os.urandom(300_000),                       # incompressible: stored
        "out/log.txt": b"epoch loss\n" * 20_000,                     # compressible: deflated
        "out/skip.tmp": b"excluded",
        "reports/junit-a.xml": b'<testsuite name="a" tests="1"><testcase name="t"/></testsuite>\n',
        "reports/junit-b.xml": b'<testsuite name="b" tests="1"><testcase name="u"/></testsuite>\n',
        "metrics.txt": b"accuracy 0.956\nf1_macro 0.95\n",
        "build.env": b"MODEL_VERSION=1.2.3\n",
        "gl-secret-detection-report.json": b'{"version":"15.0.0","vulnerabilities":[]}',
        "gl-dependency-scanning-report.json": b'{"version":"15.0.0","vulnerabilities":[],'
                                              b'"dependency_files":[]}',
    }
    for name, data in content.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    return src, content


def test_artifacts_of_every_format_and_report_type_arrive_byte_correct(tmp_path, runner_process,
                                                                       files):
    src, content = files
    artifacts = [
        {"name": "bundle-$CI_JOB_ID", "paths": ["out/**"], "exclude": ["out/*.tmp"],
         "expire_in": "1 week"},
        {"artifact_type": "junit", "artifact_format": "gzip", "paths": ["reports/junit-*.xml"],
         "when": "always"},
        {"artifact_type": "metrics", "artifact_format": "gzip", "paths": ["metrics.txt"]},
        {"artifact_type": "dotenv", "artifact_format": "gzip", "paths": ["build.env"]},
        {"artifact_type": "secret_detection", "artifact_format": "raw",
         "paths": ["gl-secret-detection-report.json"]},
        {"artifact_type": "dependency_scanning", "artifact_format": "raw",
         "paths": ["gl-dependency-scanning-report.json"]},
        {"name": "debug", "paths": ["out/**"], "when": "on_failure"},
    ]
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        job_id = fake.enqueue_job([f"cp -r {src}/. ."], artifacts=artifacts)
        job = run_one(fake, tmp_path, runner_process, job_id)
        uploads = {u.artifact_type: u for u in job.uploads}
        assert sorted(uploads) == ["archive", "dependency_scanning", "dotenv", "junit", "metrics",
                                   "secret_detection"]
        assert len(job.uploads) == 6, "the on_failure entry must not be uploaded on success"

        archive = uploads["archive"]
        assert archive.filename == f"bundle-{job_id}.zip"
        assert archive.artifact_format == "zip" and archive.expire_in == "1 week"
        unpacked = archive.files()
        assert {k for k in unpacked if not k.endswith("/")} == {"out/model.bin", "out/log.txt"}
        assert unpacked["out/model.bin"] == content["out/model.bin"]
        assert unpacked["out/log.txt"] == content["out/log.txt"]
        with zipfile.ZipFile(io.BytesIO(archive.data())) as z:
            assert z.getinfo("out/model.bin").compress_type == zipfile.ZIP_STORED
            assert z.getinfo("out/log.txt").compress_type == zipfile.ZIP_DEFLATED

        junit = uploads["junit"]
        assert junit.filename == "artifacts.gz"
        assert junit.files() == {"reports/junit-a.xml": content["reports/junit-a.xml"],
                                 "reports/junit-b.xml": content["reports/junit-b.xml"]}
        assert uploads["metrics"].files() == {"metrics.txt": content["metrics.txt"]}
        assert uploads["dotenv"].files() == {"build.env": content["build.env"]}
        for kind, name in (("secret_detection", "gl-secret-detection-report.json"),
                           ("dependency_scanning", "gl-dependency-scanning-report.json")):
            assert uploads[kind].filename == "artifacts"
            assert uploads[kind].data() == content[name]
        assert b"Uploading artifacts" in plain(job)


def test_failed_job_uploads_only_on_failure_and_always_entries(tmp_path, runner_process, files):
    src, content = files
    artifacts = [{"name": "ok", "paths": ["out/log.txt"]},
                 {"name": "debug", "paths": ["out/log.txt"], "when": "on_failure"},
                 {"artifact_type": "junit", "artifact_format": "gzip",
                  "paths": ["reports/junit-a.xml"], "when": "always"}]
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        job_id = fake.enqueue_job([f"cp -r {src}/. .", "exit 3"], artifacts=artifacts)
        job = run_one(fake, tmp_path, runner_process, job_id, state="failed")
        assert sorted(u.filename for u in job.uploads) == ["artifacts.gz", "debug.zip"]
        assert job.final_body.get("exit_code") == 3


def test_dependency_via_object_storage_302_with_failures_then_extracted(tmp_path,
                                                                        runner_process):
    payload = {"model/weights.bin": os.urandom(50_000), "model/card.md": b"# model\n"}
    with FakeGitLab(interval="1", object_storage=True) as fake:
        fake.add_runner(TOKEN)
        producer = fake.enqueue_job(["true"])
        fake.set_artifact(producer, zip_bytes(list(payload.items())))
        # The first try is redirected to object storage, which cuts the body short; the second
        # (without direct_download, as gitlab-runner retries) gets a 502; the third works.
        fake.script("artifacts_download", ["pass", 502])
        fake.script("object_storage", [{"action": "truncate_body", "truncate_body": 1000}])
        digest = hashlib.sha256(payload["model/weights.bin"]).hexdigest()
        consumer = fake.enqueue_job(["sha256sum model/weights.bin", "cat model/card.md"],
                                    dependencies=[producer])
        # The producer never ran: only the consumer is picked (the runner takes the queue head).
        fake.job(producer).state = "success"
        fake.queue.remove(producer)
        job = run_one(fake, tmp_path, runner_process, consumer)
        trace = plain(job)
        assert digest.encode() in trace
        assert b"# model" in trace
        assert fake.counts["object_storage"] >= 1, "the 302 to object storage was not followed"
        assert fake.counts["artifacts_download"] == 3


@pytest.mark.parametrize("entries, refusal", [
    ([("../escape.txt", b"x")], b".."),
    ([("link", "/etc", 0o120777), ("link/passwd", b"x")], b"link"),
    ([("abs", "/tmp/somewhere", 0o120777)], b"abs"),
])
def test_hostile_dependency_archives_are_refused(tmp_path, runner_process, entries, refusal):
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        producer = fake.enqueue_job(["true"])
        fake.set_artifact(producer, zip_bytes(entries))
        consumer = fake.enqueue_job(["echo the script must not run"], dependencies=[producer])
        fake.job(producer).state = "success"
        fake.queue.remove(producer)
        job = run_one(fake, tmp_path, runner_process, consumer, state="failed")
        trace = plain(job)
        assert b"the script must not run\n" not in trace.replace(b"echo the script", b"")
        assert refusal in trace
        builds = tmp_path / "builds"
        assert not (builds / "group" / "escape.txt").exists()
        assert not (tmp_path / "escape.txt").exists()


def test_upload_413_fails_with_the_size_and_503_retries_send_identical_bytes(tmp_path,
                                                                             runner_process,
                                                                             files):
    src, _ = files
    with FakeGitLab(interval="1", artifact_size_limit=100_000) as fake:
        fake.add_runner(TOKEN)
        job_id = fake.enqueue_job([f"cp -r {src}/. ."], artifacts=[{"paths": ["out/model.bin"]}])
        job = run_one(fake, tmp_path, runner_process, job_id, state="failed")
        trace = plain(job)
        assert b"413" in trace and b"KiB" in trace, trace[-2000:]
        assert len(job.upload_attempts) == 1, "413 must not be retried"

    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        fake.script("artifacts_upload", [503, 503, 503])
        job_id = fake.enqueue_job([f"cp -r {src}/. ."], artifacts=[{"paths": ["out/**"]}])
        job = run_one(fake, tmp_path, runner_process, job_id)
        attempts = job.upload_attempts
        assert [a["status"] for a in attempts] == [503, 503, 503, 201]
        assert len({a["sha256"] for a in attempts}) == 1, "a retry re-compressed the archive"
        assert len(job.uploads) == 1


def test_upload_survives_a_reset_mid_body_and_a_slow_server(tmp_path, runner_process, files):
    src, content = files
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        fake.script("artifacts_upload", [{"action": "rst_after", "rst_after": 20_000}])
        fake.throttle(bytes_per_second=2_000_000, latency=0.3, endpoints=["artifacts_upload"])
        job_id = fake.enqueue_job([f"cp -r {src}/. ."], artifacts=[{"paths": ["out/model.bin"]}])
        job = run_one(fake, tmp_path, runner_process, job_id)
        assert len(job.uploads) == 1
        assert job.uploads[0].files()["out/model.bin"] == content["out/model.bin"]


def test_sources_are_fetched_over_http_with_the_job_token_never_shown(tmp_path, runner_process):
    repo = tmp_path / "demo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("first\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    (repo / "README.md").write_text("second\n")
    subprocess.run(git + ["commit", "-qam", "two"], check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    with FakeGitLab(interval="1", repository=repo) as fake:
        fake.add_runner(TOKEN)
        job_id = fake.enqueue_job(["git rev-parse HEAD", "cat README.md",
                                   "git config --get remote.origin.url"])
        job = run_one(fake, tmp_path, runner_process, job_id)
        trace = plain(job)
        assert head.encode() in trace
        assert b"second" in trace
        token = fake.job(job_id).token.encode()
        assert token not in trace
        project = tmp_path / "builds" / "group" / "demo"
        assert token not in (project / ".git" / "config").read_bytes()
        users = {user for _, _, user in fake.git_requests}
        assert "gitlab-ci-token" in users, fake.git_requests


def test_local_cache_is_saved_and_restored_by_the_next_job(tmp_path, runner_process):
    cache = [{"key": "deps-$CI_PROJECT_NAME", "paths": ["vendor/"], "policy": "pull-push",
              "when": "on_success", "untracked": False}]
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        first = fake.enqueue_job(["mkdir -p vendor", "echo cached-bytes > vendor/lib.txt"],
                                 cache=cache)
        run_one(fake, tmp_path, runner_process, first)
        archive = tmp_path / "cache" / "group" / "demo" / "deps-demo" / "cache.zip"
        assert archive.exists()
        second = fake.enqueue_job(["rm -rf vendor.seen", "cat vendor/lib.txt"], cache=cache)
        project = tmp_path / "builds" / "group" / "demo"
        (project / "vendor" / "lib.txt").unlink()
        job = run_one(fake, tmp_path, runner_process, second)
        assert b"cached-bytes" in plain(job)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_endpoint_counts_jobs_requests_and_trace_bytes(tmp_path, runner_process):
    port = free_port()
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        config = write_config(tmp_path / "config.toml", fake.url, TOKEN)
        text = config.read_text()
        config.write_text(f'listen_address = "127.0.0.1:{port}"\n' + text)
        config.chmod(0o600)
        process = runner_process(config, once=False)
        job = fake.job(fake.enqueue_job(["echo metrics-job"]))
        fake.wait_final(job, timeout=60)

        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()
        body = wait_until(lambda: 'jobs_finished_total{state="success"} 1' in scrape() and
                          scrape(), timeout=30)
        sent = re.search(r"^stagehost_runner_trace_bytes_sent_total (\d+)", body, re.M)
        assert sent and int(sent.group(1)) == job.trace_length
        assert re.search(r'api_requests_total\{endpoint="jobs/request",status="201"\} 1', body)
        assert re.search(r'api_requests_total\{endpoint="jobs/update",status="200"\} \d+', body)
        assert "stagehost_runner_jobs_running 0" in body
        process.signal(15)
        process.wait(timeout=30)


def test_variable_values_are_expanded_once_unless_raw(tmp_path, runner_process):
    variables = [{"key": "MODEL", "value": "iris", "public": True},
                 {"key": "OUT", "value": "models/$MODEL/${CI_JOB_ID}", "public": True},
                 {"key": "LITERAL", "value": "$MODEL", "public": True, "raw": True}]
    with FakeGitLab(interval="1") as fake:
        fake.add_runner(TOKEN)
        job_id = fake.enqueue_job(['echo "out=$OUT literal=$LITERAL"'], variables=variables)
        job = run_one(fake, tmp_path, runner_process, job_id)
        assert f"out=models/iris/{job_id} literal=$MODEL\n".encode() in plain(job)
