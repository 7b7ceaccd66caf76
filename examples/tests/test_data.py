from collections import Counter

import pytest

from irisclf.data import CLASSES, FEATURES, generate, parse_rows, write_csv


def test_dataset_shape(dataset):
    assert len(dataset) == 150
    assert sorted(dataset.ids) == list(range(1, 151))
    assert all(len(row) == len(FEATURES) for row in dataset.x)
    assert Counter(dataset.y) == {c: 50 for c in CLASSES}
    # stratified hold-out: 15 per class for testing, 35 per class for training
    assert Counter(dataset.subset("test").y) == {c: 15 for c in CLASSES}
    assert len(dataset.subset("train")) == 105


def test_committed_csv_matches_generator(root, tmp_path):
    out = tmp_path / "iris.csv"
    write_csv(generate(seed=4), out)
    assert out.read_bytes() == (root / "data" / "iris.csv").read_bytes(), (
        "data/iris.csv is stale: run scripts/make_data.py"
    )


def test_bad_rows_name_the_line():
    row = {"id": "1", "sepal_length": "5.1", "sepal_width": "3.5", "petal_length": "1.4",
           "petal_width": "0.2", "species": "rose", "split": "train"}
    with pytest.raises(ValueError, match="line 2: unknown species 'rose'"):
        parse_rows([row])
