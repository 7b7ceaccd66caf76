# The example pipeline's jobs (as gitlab-ci-local resolves them, with `executor: stagehost`) run by
# the native runner against the fake GitLab: sources cloned over git smart HTTP from the example
# repository, the stage run after each script, and every declared report uploaded as the artifact
# type and format GitLab asks for, parsing as that type once unpacked.
import json
import subprocess
import sys

from pipeline_repo import SOURCE_DIR, make_repo
from reports import CHECKERS
from test_custom_executor import JOBS, resolved_jobs
from test_gitlab_ci_local import BASELINE_PATH

sys.path.insert(0, str(SOURCE_DIR / "tests" / "fake_gitlab"))
from fake_gitlab import FakeGitLab, assert_ranges_contiguous  # noqa: E402

TOKEN = "glrt-e2e-native-runner"
# The artifact_format GitLab puts in the job payload for each report type
# (Ci::JobArtifact's type-and-format pairs): JUnit, metrics and dotenv are gzip, the security
# reports raw.
REPORT_FORMATS = {"junit": "gzip", "metrics": "gzip", "dotenv": "gzip",
                  "secret_detection": "raw", "dependency_scanning": "raw"}


def payload_artifacts(job):
    """artifacts[] as GitLab sends it for the job's `artifacts:` keyword."""
    artifacts = job.get("artifacts", {})
    when = artifacts.get("when", "on_success")
    entries = []
    if artifacts.get("paths"):
        entries.append({"name": artifacts.get("name"), "paths": artifacts["paths"],
                        "exclude": artifacts.get("exclude", []), "when": when,
                        "expire_in": artifacts.get("expire_in"), "artifact_type": "archive",
                        "artifact_format": "zip"})
    for kind, paths in artifacts.get("reports", {}).items():
        entries.append({"name": kind, "paths": [paths] if isinstance(paths, str) else paths,
                        "when": when, "expire_in": artifacts.get("expire_in"),
                        "artifact_type": kind, "artifact_format": REPORT_FORMATS[kind]})
    return entries


def write_config(path, url, builds):
    path.write_text("\n".join([
        "concurrent = 1", "check_interval = 0.2", "[[runners]]", 'name = "e2e"', f'url = "{url}"',
        f'token = "{TOKEN}"', f'builds_dir = "{builds}"', "[runners.stagehost]",
        "trace_interval_initial_seconds = 0.5", "cancel_check_seconds = 1.0"]) + "\n")
    path.chmod(0o600)
    return path


def test_the_pipeline_through_the_native_runner_uploads_typed_reports(
        gitlab_ci_local, stagehost, tmp_path, artifacts_api, signing_key, baseline):
    repo = make_repo(tmp_path / "project")
    pipeline = resolved_jobs(gitlab_ci_local, stagehost, repo)
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(baseline).encode())

    with FakeGitLab(interval="1", repository=repo) as fake:
        fake.add_runner(TOKEN)
        config = write_config(tmp_path / "config.toml", fake.url, tmp_path / "builds")
        for name in JOBS:
            job_def = pipeline[name]
            variables = dict(job_def.get("variables", {}))
            variables.update({
                "CI_JOB_NAME": name, "CI_DEFAULT_BRANCH": "main", "CI_PROJECT_ID": "1217",
                "CI_COMMIT_BRANCH": "main", "CI_API_V4_URL": artifacts_api.server_url + "/api/v4",
                "DEPLOY_SIGNING_KEY": str(signing_key)})
            steps = [{"name": "script", "when": "on_success", "allow_failure": False,
                      "timeout": 3600,
                      "script": job_def.get("before_script", []) + job_def["script"]}]
            job = fake.job(fake.enqueue_job(
                steps=steps, artifacts=payload_artifacts(job_def),
                variables=[{"key": k, "value": str(v), "public": True}
                           for k, v in variables.items()]))
            # The baseline API accepts this job's CI_JOB_TOKEN, as GitLab would.
            artifacts_api.token = job.token
            done = subprocess.run([str(stagehost), "gitlab", "runner", "--config", str(config),
                                   "--once"], capture_output=True, text=True, timeout=600)
            final = fake.wait_final(job, timeout=60)
            log = bytes(job.trace).decode(errors="replace")
            assert final is not None and final["state"] == "success", (name, done.stderr, log[-4000:])
            assert done.returncode == 0, done.stderr
            assert fake.check() == []
            assert_ranges_contiguous(job)
            # The stage ran under the runner, after the script that only announced it.
            assert f"Running the \"{name}\" stage plugin" in log, log[-3000:]
            assert job.token not in log

            declared = job_def["artifacts"]["reports"]
            uploads = {u.artifact_type: u for u in job.uploads}
            assert set(uploads) == {"archive", *declared}, (name, sorted(uploads))
            for kind, paths in declared.items():
                upload = uploads[kind]
                assert upload.artifact_format == REPORT_FORMATS[kind], upload
                files = upload.files()
                for rel in [paths] if isinstance(paths, str) else paths:
                    data = files.get(rel) if upload.artifact_format == "gzip" else upload.data()
                    assert data, f"{name}: {kind} upload lacks {rel}: {sorted(files)}"
                    unpacked = tmp_path / "unpacked" / name / rel
                    unpacked.parent.mkdir(parents=True, exist_ok=True)
                    unpacked.write_bytes(data)
                    CHECKERS[kind](unpacked)
            archive = uploads["archive"].files()
            reports_dir = f"stagehost-reports/{name}/stagehost-run.json"
            assert json.loads(archive[reports_dir])["status"] == "passed"
            if name == "model-validation":
                assert "baseline: model-validation's result" in log, log[-3000:]
