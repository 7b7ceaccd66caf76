import pathlib

import pytest

from irisclf.data import read_csv

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def dataset():
    return read_csv(ROOT / "data" / "iris.csv")
