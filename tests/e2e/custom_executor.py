# gitlab-runner's side of the custom executor contract (../shared/reference/custom-executor.md),
# played against `stagehost gitlab custom`: JOB_RESPONSE_FILE, CUSTOM_ENV_*, job_env from config,
# one 0700 script per sub-stage, exit codes and BUILD_EXIT_CODE_FILE.
import json
import os
import re
import shlex
import subprocess

VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand(variables):
    """Expands $VAR / ${VAR} in values the way gitlab-runner does before a job runs."""
    out = dict(variables)
    for _ in range(5):
        out = {k: VARIABLE.sub(lambda m: out.get(m.group(1) or m.group(2), ""), str(v))
               for k, v in out.items()}
    return out


class Call:
    def __init__(self, done):
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class CustomExecutorJob:
    """One job through config -> prepare -> run (per sub-stage) -> cleanup."""

    def __init__(self, stagehost, root, job_id, variables, project_path="stagehost/ci-components"):
        self.stagehost = stagehost
        self.job_id = job_id
        self.tmp = root / f"runner-tmp-{job_id}" / "custom-executor1234"
        self.tmp.mkdir(parents=True, mode=0o700)
        self.driver_config = root / "driver.toml"
        if not self.driver_config.exists():
            self.driver_config.write_text(
                f'builds_dir = "{root}/builds"\ncache_dir = "{root}/cache"\nkill_grace_seconds = 2\n')
        self.variables = dict(variables, CI_JOB_ID=str(job_id))
        self.project_path = project_path
        self.job_env = {}
        self.project_dir = None
        self.scripts = 0

    def _write_response(self):
        # gitlab-runner writes the job JSON it received; values here are already expanded.
        variables = [{"key": k, "value": v, "public": k.startswith("CI_") and k != "CI_JOB_TOKEN",
                      "masked": k == "CI_JOB_TOKEN"} for k, v in self.variables.items()]
        job = {"id": self.job_id, "token": self.variables.get("CI_JOB_TOKEN", ""),
               "job_info": {"name": self.variables.get("CI_JOB_NAME", ""), "stage": "test",
                            "project_id": int(self.variables.get("CI_PROJECT_ID", "1"))},
               "runner_info": {"timeout": 3600}, "variables": variables, "steps": []}
        path = self.tmp / "response.json"
        path.write_text(json.dumps(job))
        path.chmod(0o600)

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTOM_ENV_", "STAGEHOST_"))}
        env.update(TMPDIR=str(self.tmp), BUILD_FAILURE_EXIT_CODE="1", SYSTEM_FAILURE_EXIT_CODE="2",
                   BUILD_EXIT_CODE_FILE=str(self.tmp / "build_exit_code"),
                   JOB_RESPONSE_FILE=str(self.tmp / "response.json"),
                   STAGEHOST_CUSTOM_CONFIG=str(self.driver_config))
        env.update(self.job_env)
        env.update({"CUSTOM_ENV_" + k: v for k, v in self.variables.items()})
        return env

    def _driver(self, *args):
        self._write_response()
        done = subprocess.run([str(self.stagehost), "gitlab", "custom", *args], cwd=self.tmp,
                              env=self._env(), capture_output=True, text=True, timeout=300)
        return Call(done)

    def config(self):
        call = self._driver("config")
        assert call.code == 0, call
        out = json.loads(call.out)  # stdout must be exactly one JSON document
        self.job_env = out.get("job_env", {})
        self.project_dir = f"{out['builds_dir']}/{self.project_path}"
        self.variables.update(CI_BUILDS_DIR=out["builds_dir"], CI_PROJECT_DIR=self.project_dir)
        self.variables = expand(self.variables)
        return out

    def prepare(self):
        return self._driver("prepare")

    def run(self, substage, commands):
        """One sub-stage script the way gitlab-runner's bash shell writes it: the job's variables
        exported, then the commands in CI_PROJECT_DIR."""
        self.scripts += 1
        script_dir = self.tmp / f"script{self.scripts}"
        script_dir.mkdir(mode=0o700)
        lines = ["#!/usr/bin/env bash", "set -eo pipefail", "set +o noclobber"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in self.variables.items()]
        if substage != "get_sources":
            lines.append('cd "$CI_PROJECT_DIR"')
        lines += commands
        script = script_dir / "script."
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o700)
        return self._driver("run", str(script), substage)

    def build_exit_code(self):
        path = self.tmp / "build_exit_code"
        return path.read_text().strip() if path.exists() else None

    def cleanup(self):
        return self._driver("cleanup")
