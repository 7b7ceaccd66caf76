# Shared fixtures of the end-to-end pipeline tests: the build's stagehost, gitlab-ci-local, a
# signing key, the fake jobs/artifacts API and the baseline it serves.
import json
import os
import pathlib
import subprocess

import pytest

from fake_artifacts_api import FakeArtifactsApi

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]


def _required_file(variable):
    # These tests run in CI: a missing tool is a failure, never a skip.
    value = os.environ.get(variable, "")
    assert value, f"{variable} is not set (tests/CMakeLists.txt sets it)"
    path = pathlib.Path(value)
    assert path.is_file() and os.access(path, os.X_OK), (
        f"{variable}={value} is not an executable file"
        + (" (run scripts/install-deps.sh: npm ci installs gitlab-ci-local)" if "GITLAB" in variable else ""))
    return path


@pytest.fixture(scope="session")
def stagehost():
    return _required_file("STAGEHOST_BINARY")


@pytest.fixture(scope="session")
def gitlab_ci_local():
    return _required_file("GITLAB_CI_LOCAL")


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory):
    # Outside every project copy: the security scan must not find a private key in the workspace.
    path = tmp_path_factory.mktemp("keys") / "deploy-signing-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def baseline(stagehost, tmp_path_factory):
    """A previous model-validation.json: this model validated once by the build's stagehost."""
    out = tmp_path_factory.mktemp("baseline")
    subprocess.run([str(stagehost), "run", "model-validation", "--workspace", str(SOURCE_DIR / "examples"),
                    "--config", str(SOURCE_DIR / "examples/stagehost/model-validation.yml"),
                    "--artifacts", str(out)], check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "model-validation.json").read_text())


@pytest.fixture
def artifacts_api():
    api = FakeArtifactsApi()
    yield api
    api.close()
