import json
import math

import pytest

from irisclf.data import CLASSES
from irisclf.metrics import accuracy
from irisclf.model import SoftmaxRegression, Standardizer, softmax


@pytest.fixture(scope="module")
def trained(dataset):
    train = dataset.subset("train")
    return SoftmaxRegression().fit(train.x, train.y)


def test_standardizer_centres_and_scales():
    x = [[1.0, 10.0], [2.0, 10.0], [3.0, 10.0]]
    z = Standardizer().fit(x).transform(x)
    assert [row[0] for row in z] == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    assert [row[1] for row in z] == [0.0, 0.0, 0.0]  # a constant feature keeps scale 1


def test_softmax_is_stable_and_normalised():
    probs = softmax([1000.0, 1001.0, 999.0])
    assert sum(probs) == pytest.approx(1.0)
    assert probs[1] > probs[0] > probs[2]


def test_training_is_deterministic(dataset, trained):
    train = dataset.subset("train")
    again = SoftmaxRegression().fit(train.x, train.y)
    assert again.to_dict() == trained.to_dict()


def test_accuracy_on_held_out_split(dataset, trained):
    test = dataset.subset("test")
    assert accuracy(test.y, trained.predict(test.x)) >= 0.9


def test_wrong_feature_count_is_rejected(trained):
    with pytest.raises(ValueError, match="expected 4 features, got 3"):
        trained.predict([[5.1, 3.5, 1.4]])


def test_committed_model_is_reproducible(root, trained):
    committed = json.loads((root / "model" / "model.json").read_text())
    assert committed["classes"] == list(CLASSES)
    fresh = trained.to_dict()
    for key in ("weights", "bias"):
        assert _flatten(committed[key]) == pytest.approx(_flatten(fresh[key]), abs=1e-9), (
            "model/model.json is stale: run scripts/train.py"
        )


def _flatten(values):
    return [v for row in values for v in (row if isinstance(row, list) else [row])]
