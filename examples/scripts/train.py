#!/usr/bin/env python3
"""Trains the classifier on the train split of data/iris.csv and writes the deployable model
(model/model.json) and its predictions on the test split (model/predictions.csv).

Deterministic: no randomness in training, fixed hyperparameters, sorted output. Both outputs are
committed; tests check that they are what this script produces.
"""

import argparse
import csv
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from irisclf import __version__  # noqa: E402
from irisclf.data import read_csv  # noqa: E402
from irisclf.metrics import accuracy, log_loss, macro_f1  # noqa: E402
from irisclf.model import SoftmaxRegression  # noqa: E402

PROBABILITY_DECIMALS = 6


def train(data_path: pathlib.Path):
    dataset = read_csv(data_path)
    train_set, test_set = dataset.subset("train"), dataset.subset("test")
    model = SoftmaxRegression().fit(train_set.x, train_set.y)
    return model, train_set, test_set


def _display_path(path: pathlib.Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def model_document(model, data_path, train_set, test_set) -> dict:
    probs = model.predict_proba(test_set.x)
    predicted = model.predict(test_set.x)
    doc = model.to_dict()
    doc["training"] = {
        "package": f"irisclf {__version__}",
        "data": _display_path(data_path),
        "data_sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
        "train_rows": len(train_set),
        "test_rows": len(test_set),
    }
    doc["metrics"] = {
        "train_accuracy": round(accuracy(train_set.y, model.predict(train_set.x)), 6),
        "test_accuracy": round(accuracy(test_set.y, predicted), 6),
        "test_macro_f1": round(macro_f1(test_set.y, predicted, model.classes), 6),
        "test_log_loss": round(log_loss(test_set.y, probs, model.classes), 6),
    }
    return doc


def write_predictions(model, test_set, path: pathlib.Path) -> None:
    rows = sorted(
        zip(test_set.ids, test_set.y, model.predict(test_set.x), model.predict_proba(test_set.x))
    )
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "label", "prediction"] + [f"prob_{c}" for c in model.classes])
        for sample_id, label, prediction, probs in rows:
            cells = [f"{p:.{PROBABILITY_DECIMALS}f}" for p in probs]
            writer.writerow([sample_id, label, prediction] + cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=ROOT / "data" / "iris.csv")
    parser.add_argument("--out-dir", type=pathlib.Path, default=ROOT / "model")
    args = parser.parse_args()
    data_path = args.data.resolve()

    model, train_set, test_set = train(data_path)
    doc = model_document(model, data_path, train_set, test_set)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "model.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    write_predictions(model, test_set, args.out_dir / "predictions.csv")
    print(f"wrote {args.out_dir / 'model.json'} and {args.out_dir / 'predictions.csv'}")
    print(json.dumps(doc["metrics"], sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
