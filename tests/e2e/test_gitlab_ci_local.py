# examples/.gitlab-ci.yml run by gitlab-ci-local (shell executor, GitLab's JSON schema checked):
# every job passes on the example project, and each broken variant fails exactly the job that
# should catch it, while deploy, which needs all three checks, never starts.
import json
import random
import socket
import string

import pytest
import yaml

import gitlab_ci_local
from fake_artifacts_api import FakeArtifactsApi
from pipeline_repo import SOURCE_DIR, make_repo, set_component_inputs
from reports import check_reports

CHECKS = ("unit-test", "model-validation", "security-scan")
BASELINE_PATH = "stagehost-reports/model-validation/model-validation.json"


def run_pipeline(tools, repo, api, signing_key):
    gcl, stagehost = tools
    return gitlab_ci_local.run(gcl, stagehost, repo, {
        "DEPLOY_SIGNING_KEY": str(signing_key),
        # CI_API_V4_URL follows CI_SERVER_URL: the baseline comes from the fake API.
        "CI_SERVER_URL": api.server_url,
        "CI_JOB_TOKEN": api.token,
    })


@pytest.fixture
def tools(gitlab_ci_local, stagehost):
    return gitlab_ci_local, stagehost


def declared_reports(repo, job):
    expanded = yaml.safe_load((repo / ".gitlab-ci-local/expanded-gitlab-ci.yml").read_text())
    return expanded[job]["artifacts"]["reports"]


def test_example_pipeline_passes_with_the_last_good_result_as_baseline(
        tools, tmp_path, artifacts_api, signing_key, baseline):
    repo = make_repo(tmp_path / "project")
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(baseline).encode())
    pipeline = run_pipeline(tools, repo, artifacts_api, signing_key)
    assert "json schema validated" in pipeline.output, pipeline.output
    assert pipeline.jobs == {job: "PASS" for job in (*CHECKS, "deploy")}, pipeline.output
    assert pipeline.returncode == 0, pipeline.output

    # The baseline was fetched with the job token from the default branch and used.
    assert [(path, query["job"]) for path, query, _ in artifacts_api.requests] == [
        (f"/api/v4/projects/1217/jobs/artifacts/main/raw/{BASELINE_PATH}", "model-validation")]
    result = json.loads((repo / BASELINE_PATH).read_text())
    change_checks = [c for c in result["checks"] if "baseline" in c.get("name", "")]
    assert change_checks and all(c["status"] == "passed" for c in change_checks), result["checks"]

    # Every declared report came back as a job artifact and parses as its type.
    for job in (*CHECKS, "deploy"):
        check_reports(job, declared_reports(repo, job), repo)
    dotenv = (repo / "stagehost-reports/deploy/deploy.env").read_text()
    assert "DEPLOY_OUTCOME=succeeded" in dotenv, dotenv


def test_without_a_baseline_change_gates_are_skipped(tools, tmp_path, artifacts_api, signing_key):
    repo = make_repo(tmp_path / "project")  # the API has nothing: the first pipeline
    pipeline = run_pipeline(tools, repo, artifacts_api, signing_key)
    assert pipeline.jobs.get("model-validation") == "PASS", pipeline.output
    assert "baseline: none from main" in pipeline.log("model-validation"), pipeline.output
    assert len(artifacts_api.requests) == 1, artifacts_api.requests


def failing_test(repo):
    (repo / "tests/test_regression.py").write_text(
        "def test_predictions_are_probabilities():\n    assert 0.5 + 0.6 <= 1.0\n")


def planted_secret(repo):
    token = "glpat-" + "".join(random.choices(string.ascii_letters + string.digits, k=20))
    (repo / "config").mkdir()
    (repo / "config/service.env").write_text(f"GITLAB_TOKEN={token}\n")


def failing_canary(repo):
    # The canary's health endpoint is down (nothing listens): the 20 % step fails its analysis.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = repo / "stagehost/deploy.yml"
    config.write_text(config.read_text() + (
        "analysis:\n  interval_seconds: 0\n  count: 1\n  health_checks:\n"
        f"    - {{name: model, url: 'http://127.0.0.1:{port}/healthz', timeout_seconds: 0.5}}\n"))


@pytest.mark.parametrize("variant, change, failing", [
    ("failing-test", failing_test, "unit-test"),
    ("metric-regression", None, "model-validation"),
    ("planted-secret", planted_secret, "security-scan"),
    ("failing-canary", failing_canary, "deploy"),
])
def test_a_broken_variant_fails_only_its_job(
        tools, tmp_path, artifacts_api, signing_key, baseline, variant, change, failing):
    repo = make_repo(tmp_path / "project", change)
    served = baseline
    if variant == "metric-regression":
        # The last good model was clearly better than this one.
        served = json.loads(json.dumps(baseline))
        served["metrics"]["accuracy"] += 0.05
        served["metrics"]["f1_macro"] += 0.05
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(served).encode())
    pipeline = run_pipeline(tools, repo, artifacts_api, signing_key)

    expected = {job: "PASS" for job in CHECKS}
    expected[failing] = "FAIL"
    if failing == "deploy":
        expected["deploy"] = "FAIL"  # otherwise deploy needs a failed job and never starts
    assert pipeline.jobs == expected, pipeline.output
    assert pipeline.returncode != 0, pipeline.output

    # `when: always`: the failing job's reports are still artifacts, and say why.
    reports = check_reports(failing, declared_reports(repo, failing), repo)
    if failing == "unit-test":
        assert reports["junit"]["failures"] == 1, reports
    elif failing == "model-validation":
        assert reports["junit"]["failures"] >= 2, reports  # accuracy and f1_macro change gates
        assert "worsens" in pipeline.log("model-validation"), pipeline.output
    elif failing == "security-scan":
        files = [v["location"]["file"] for v in reports["secret_detection"]["vulnerabilities"]]
        assert files == ["config/service.env"], files
    else:
        assert reports["dotenv"]["DEPLOY_OUTCOME"] != "succeeded", reports
        assert "rolled back" in pipeline.log("deploy").lower(), pipeline.output


def test_overrides_input_sets_thresholds_over_the_config(
        tools, tmp_path, artifacts_api, signing_key, baseline):
    # One pipeline, both directions: a raised test-count threshold fails unit-test; a planted
    # secret passes security-scan whose threshold (two lines, with a comment) is "never".
    repo = make_repo(tmp_path / "project", planted_secret)
    set_component_inputs(repo, "unit-test", overrides="min_tests=1000")
    set_component_inputs(repo, "security-scan", overrides="# report only\nfail_on=never\n")
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(baseline).encode())
    pipeline = run_pipeline(tools, repo, artifacts_api, signing_key)
    assert "json schema validated" in pipeline.output, pipeline.output
    assert pipeline.jobs == {"unit-test": "FAIL", "model-validation": "PASS",
                             "security-scan": "PASS"}, pipeline.output
    assert "min_tests is 1000" in pipeline.log("unit-test"), pipeline.output
    reports = check_reports("security-scan", declared_reports(repo, "security-scan"), repo)
    files = [v["location"]["file"] for v in reports["secret_detection"]["vulnerabilities"]]
    assert files == ["config/service.env"], files  # found and reported, but not failing


def test_include_variant_runs_the_same_pipeline(tools, tmp_path, artifacts_api, signing_key, baseline):
    example = SOURCE_DIR / "ci-templates/gitlab/include/example.gitlab-ci.yml"

    def local_include(repo):
        # gitlab-ci-local would fetch `include: project:` from the server; this repo holds the file.
        doc = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
        assert doc["include"][0]["file"] == "/ci-templates/gitlab/include/stagehost.yml", doc
        doc["include"] = [{"local": doc["include"][0]["file"]}]
        (repo / ".gitlab-ci.yml").write_text(yaml.safe_dump(doc, sort_keys=False))

    repo = make_repo(tmp_path / "project", local_include, pipeline=example)
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(baseline).encode())
    pipeline = run_pipeline(tools, repo, artifacts_api, signing_key)
    assert "json schema validated" in pipeline.output, pipeline.output
    assert pipeline.jobs == {job: "PASS" for job in (*CHECKS, "deploy")}, pipeline.output
    assert len(artifacts_api.requests) == 1, artifacts_api.requests
    for job in (*CHECKS, "deploy"):
        check_reports(job, declared_reports(repo, job), repo)


def test_schema_validation_rejects_a_broken_template(tools, tmp_path):
    # Proves the validation the other tests rely on is really on: a wrong keyword is refused.
    def break_template(repo):
        path = repo / "templates/unit-test.yml"
        path.write_text(path.read_text().replace("when: always", "when: sometimes"))

    repo = make_repo(tmp_path / "project", break_template)
    pipeline = gitlab_ci_local.run(*tools, repo, {})
    assert pipeline.returncode != 0, pipeline.output
    assert "Invalid .gitlab-ci.yml configuration" in pipeline.output, pipeline.output
    assert "unit-test.artifacts.when" in pipeline.output and pipeline.jobs == {}, pipeline.output
