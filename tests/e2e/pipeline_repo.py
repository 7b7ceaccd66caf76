# The example project as a git repository that also plays the component project, so
# gitlab-ci-local resolves examples/.gitlab-ci.yml's `include: component:` from local files.
import pathlib
import re
import shutil
import subprocess

import yaml

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
# gitlab-ci-local reads a component locally only when its project is this repository's origin and
# its version is HEAD; .invalid never resolves, so nothing reaches a real server.
ORIGIN = "https://gitlab.invalid/stagehost/ci-components.git"
COMPONENT = re.compile(r"^(\s*- component: \$CI_SERVER_FQDN/stagehost/ci-components/[a-z-]+)@\S+$", re.M)
LEFT_OUT = shutil.ignore_patterns("build", "stagehost-reports", "__pycache__", ".pytest_cache",
                                  "baseline.json")


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_repo(dest, change=None, pipeline=None):
    """Copies examples/ and the components' templates/ to dest, lets change(dest) break
    something, commits, and pins the components to the new HEAD. Returns dest."""
    shutil.copytree(SOURCE_DIR / "examples", dest, ignore=LEFT_OUT)
    shutil.copytree(SOURCE_DIR / "ci-templates/gitlab/templates", dest / "templates")
    shutil.copytree(SOURCE_DIR / "ci-templates/gitlab/include", dest / "ci-templates/gitlab/include")
    if pipeline is not None:
        shutil.copy(pipeline, dest / ".gitlab-ci.yml")
    if change is not None:
        change(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "e2e@stagehost.invalid")
    git(dest, "config", "user.name", "stagehost e2e")
    git(dest, "remote", "add", "origin", ORIGIN)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "example project")
    ci = dest / ".gitlab-ci.yml"
    text = ci.read_text()
    if pipeline is None:
        pinned, count = COMPONENT.subn(lambda m: m.group(1) + "@" + git(dest, "rev-parse", "HEAD"), text)
        assert count == 4, f"expected 4 component includes in examples/.gitlab-ci.yml, found {count}"
        ci.write_text(pinned)
    return dest


def set_component_inputs(repo, component=None, **inputs):
    """Adds inputs to every component include of the repo's pipeline, or to `component`'s."""
    ci = repo / ".gitlab-ci.yml"
    doc = yaml.safe_load(ci.read_text())
    includes = [i for i in doc["include"] if component is None or f"/{component}@" in i["component"]]
    assert includes, f"no component include named {component}"
    for include in includes:
        include.setdefault("inputs", {}).update(inputs)
    ci.write_text(yaml.safe_dump(doc, sort_keys=False))
