# Runs gitlab-ci-local with its shell executor and reads each job's verdict from its summary.
import os
import re
import subprocess

import yaml

SUMMARY = re.compile(r"^\s*(PASS|FAIL|WARN)\s+(\S+)\s*$")


class Pipeline:
    def __init__(self, returncode, output):
        self.returncode = returncode
        self.output = output
        self.jobs = {}  # job -> PASS / FAIL / WARN; jobs that never started are absent
        for line in output.splitlines():
            match = SUMMARY.match(line)
            if match:
                self.jobs[match.group(2)] = match.group(1)

    def log(self, job):
        """The lines job printed (gitlab-ci-local prefixes them with the padded job name)."""
        return "\n".join(line.split(">", 1)[1] for line in self.output.splitlines()
                         if line.startswith(job + " ") and ">" in line)


def environment(stagehost):
    env = dict(os.environ)
    # The jobs call `stagehost`, as on a runner with it installed: this build's binary first.
    env["PATH"] = f"{stagehost.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("STAGEHOST_PLUGIN_PATH", None)
    env["NO_COLOR"] = "1"
    return env


def run(gitlab_ci_local, stagehost, repo, variables, timeout=300):
    args = [str(gitlab_ci_local), "--shell-executor-no-image", "--shell-isolation", "--no-color",
            "--json-schema-validation"]
    for key, value in variables.items():
        args += ["--variable", f"{key}={value}"]
    done = subprocess.run(args, cwd=repo, env=environment(stagehost), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return Pipeline(done.returncode, done.stdout)


def preview(gitlab_ci_local, stagehost, repo):
    """The pipeline with includes, inputs and extends resolved (`--preview`)."""
    done = subprocess.run([str(gitlab_ci_local), "--preview", "--no-color"], cwd=repo,
                          env=environment(stagehost), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return yaml.safe_load(done.stdout)
