# The example pipeline's jobs (as gitlab-ci-local resolves them, with `executor: stagehost`) run
# through the custom executor driver: the driver runs each job's stage after its script, and
# every report the job declares under artifacts:reports is there and parses as its type.
import json
import pathlib

import gitlab_ci_local
from custom_executor import CustomExecutorJob
from pipeline_repo import make_repo, set_component_inputs
from reports import check_reports
from test_gitlab_ci_local import BASELINE_PATH, failing_test

JOBS = ("unit-test", "model-validation", "security-scan", "deploy")


def resolved_jobs(gitlab_ci_local_bin, stagehost, repo):
    set_component_inputs(repo, executor="stagehost")
    pipeline = gitlab_ci_local.preview(gitlab_ci_local_bin, stagehost, repo)
    assert all(job in pipeline for job in JOBS), pipeline
    return pipeline


def job_variables(name, job, repo, api, signing_key):
    # What GitLab sends for the job: predefined variables, the job's own, the project's secrets.
    variables = {
        "CI": "true", "GITLAB_CI": "true", "CI_JOB_NAME": name, "CI_PROJECT_ID": "1217",
        "CI_PROJECT_PATH": "stagehost/ci-components", "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_REF_PROTECTED": "false",
        "CI_SERVER_URL": api.server_url, "CI_API_V4_URL": api.server_url + "/api/v4",
        "CI_JOB_TOKEN": api.token, "CI_REPOSITORY_URL": str(repo),
        "DEPLOY_SIGNING_KEY": str(signing_key),
    }
    variables.update({k: str(v) for k, v in job.get("variables", {}).items()})
    return variables


def run_job(stagehost, root, job_id, name, job, variables):
    """config, prepare, get_sources (a clone), build_script (before_script + script); returns
    the job and the build_script call. The caller checks, then cleans up."""
    runner = CustomExecutorJob(stagehost, root, job_id, variables)
    runner.config()
    prepared = runner.prepare()
    assert prepared.code == 0, prepared
    sources = runner.run("get_sources", ['git clone -q "$CI_REPOSITORY_URL" "$CI_PROJECT_DIR"'])
    assert sources.code == 0, sources
    build = runner.run("build_script", job.get("before_script", []) + job["script"])
    return runner, build


def test_every_job_runs_its_stage_through_the_driver(
        gitlab_ci_local, stagehost, tmp_path, artifacts_api, signing_key, baseline):
    repo = make_repo(tmp_path / "project")
    pipeline = resolved_jobs(gitlab_ci_local, stagehost, repo)
    artifacts_api.serve("main", BASELINE_PATH, "model-validation", json.dumps(baseline).encode())

    for job_id, name in enumerate(JOBS, start=101):
        job = pipeline[name]
        variables = job_variables(name, job, repo, artifacts_api, signing_key)
        runner, build = run_job(stagehost, tmp_path / "runner", job_id, name, job, variables)
        assert build.code == 0, f"{name}: {build}"
        # The script only announced the stage; the driver ran it (its run record says so).
        assert f"stagehost runs the {name} stage after this script" in build.out, build
        project = runner.project_dir
        record = json.loads(open(f"{project}/stagehost-reports/{name}/stagehost-run.json").read())
        assert record["status"] == "passed", record
        check_reports(name, job["artifacts"]["reports"], pathlib.Path(project))
        if name == "model-validation":
            assert "baseline: model-validation's result" in build.out, build
            result = json.loads(pathlib.Path(project, BASELINE_PATH).read_text())
            assert result["baseline"], result.keys()
        cleaned = runner.cleanup()
        assert cleaned.code == 0, cleaned
        assert not pathlib.Path(project).exists(), f"{name}: cleanup left {project}"
    assert len(artifacts_api.requests) == 1, artifacts_api.requests


def test_a_failing_test_is_a_build_failure_with_its_report(
        gitlab_ci_local, stagehost, tmp_path, artifacts_api, signing_key):
    repo = make_repo(tmp_path / "project", failing_test)
    job = resolved_jobs(gitlab_ci_local, stagehost, repo)["unit-test"]
    variables = job_variables("unit-test", job, repo, artifacts_api, signing_key)
    runner, build = run_job(stagehost, tmp_path / "runner", 201, "unit-test", job, variables)
    # BUILD_FAILURE_EXIT_CODE, with the stage's own exit code for allow_failure: exit_codes.
    assert build.code == 1, build
    assert runner.build_exit_code() == "1", build
    reports = check_reports("unit-test", job["artifacts"]["reports"], pathlib.Path(runner.project_dir))
    assert reports["junit"]["failures"] == 1, reports
    assert runner.cleanup().code == 0


def test_the_overrides_input_reaches_the_stage_the_driver_runs(
        gitlab_ci_local, stagehost, tmp_path, artifacts_api, signing_key):
    repo = make_repo(tmp_path / "project")
    set_component_inputs(repo, "unit-test", overrides="min_tests=1000")
    job = resolved_jobs(gitlab_ci_local, stagehost, repo)["unit-test"]
    assert job["variables"]["STAGEHOST_SET"] == "min_tests=1000", job["variables"]
    variables = job_variables("unit-test", job, repo, artifacts_api, signing_key)
    runner, build = run_job(stagehost, tmp_path / "runner", 301, "unit-test", job, variables)
    # The example's tests all pass: only the raised threshold fails the stage.
    assert build.code == 1, build
    assert "min_tests is 1000" in build.out, build
    assert runner.cleanup().code == 0
