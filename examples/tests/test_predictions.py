import csv

import pytest

from irisclf.data import CLASSES
from irisclf.metrics import accuracy, confusion_matrix, log_loss, macro_f1
from irisclf.model import SoftmaxRegression


@pytest.fixture(scope="module")
def predictions(root):
    with open(root / "model" / "predictions.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_predictions_cover_the_test_split(dataset, predictions):
    assert [int(r["id"]) for r in predictions] == sorted(dataset.subset("test").ids)
    prob_columns = [f"prob_{c}" for c in CLASSES]
    for row in predictions:
        probs = [float(row[c]) for c in prob_columns]
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)
        assert row["prediction"] == CLASSES[probs.index(max(probs))]


def test_predictions_match_the_committed_model(root, dataset, predictions):
    model = SoftmaxRegression.load(root / "model" / "model.json")
    by_id = {s.id: s for s in dataset.samples}
    x = [list(by_id[int(r["id"])].features) for r in predictions]
    assert model.predict(x) == [r["prediction"] for r in predictions]


def test_metrics_follow_sklearn_conventions():
    y_true = ["setosa", "versicolor", "virginica", "virginica"]
    y_pred = ["setosa", "virginica", "virginica", "virginica"]
    assert accuracy(y_true, y_pred) == 0.75
    assert confusion_matrix(y_true, y_pred, CLASSES) == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    # sklearn.metrics.f1_score(average="macro", zero_division=0): (1 + 0 + 0.8) / 3
    assert macro_f1(y_true, y_pred, CLASSES) == pytest.approx(0.6)
    # a confident wrong answer is clipped, not infinite
    assert log_loss(["setosa"], [[0.0, 1.0, 0.0]], CLASSES) == pytest.approx(34.538776, rel=1e-6)
