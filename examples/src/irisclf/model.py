"""Multinomial logistic regression (softmax) on standardised features, trained by full-batch
gradient descent from zero weights: no randomness, so training is exactly reproducible."""

import json
import math
from typing import Dict, List, Sequence

from irisclf.data import CLASSES, FEATURES

MODEL_FORMAT = "irisclf.softmax-regression/1"


class Standardizer:
    """Centres each feature on its training mean and scales it to unit (population) variance."""

    def __init__(self, mean: Sequence[float] = (), scale: Sequence[float] = ()):
        self.mean = list(mean)
        self.scale = list(scale)

    def fit(self, x: List[List[float]]) -> "Standardizer":
        if not x:
            raise ValueError("cannot fit on an empty dataset")
        n, d = len(x), len(x[0])
        self.mean = [sum(row[j] for row in x) / n for j in range(d)]
        self.scale = []
        for j in range(d):
            var = sum((row[j] - self.mean[j]) ** 2 for row in x) / n
            self.scale.append(math.sqrt(var) if var > 0 else 1.0)
        return self

    def transform(self, x: List[List[float]]) -> List[List[float]]:
        return [[(v - m) / s for v, m, s in zip(row, self.mean, self.scale)] for row in x]


def softmax(scores: Sequence[float]) -> List[float]:
    """Numerically stable softmax: subtracts the maximum before exponentiating."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


class SoftmaxRegression:
    def __init__(self, learning_rate: float = 0.5, epochs: int = 300, l2: float = 1e-3):
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.l2 = l2
        self.classes: List[str] = list(CLASSES)
        self.features: List[str] = list(FEATURES)
        self.scaler = Standardizer()
        self.weights: List[List[float]] = []
        self.bias: List[float] = []

    def fit(self, x: List[List[float]], y: List[str]) -> "SoftmaxRegression":
        if len(x) != len(y) or not x:
            raise ValueError("x and y must be non-empty and of equal length")
        unknown = sorted(set(y) - set(self.classes))
        if unknown:
            raise ValueError(f"unknown labels: {unknown}")
        self._check_width(x)
        z = self.scaler.fit(x).transform(x)
        k, d, n = len(self.classes), len(self.features), len(z)
        index = {c: i for i, c in enumerate(self.classes)}
        targets = [index[label] for label in y]
        self.weights = [[0.0] * d for _ in range(k)]
        self.bias = [0.0] * k
        for _ in range(self.epochs):
            grad_w = [[0.0] * d for _ in range(k)]
            grad_b = [0.0] * k
            for row, t in zip(z, targets):
                probs = softmax(self._scores(row))
                for c in range(k):
                    g = probs[c] - (1.0 if c == t else 0.0)
                    grad_b[c] += g
                    for j in range(d):
                        grad_w[c][j] += g * row[j]
            for c in range(k):
                self.bias[c] -= self.learning_rate * grad_b[c] / n
                for j in range(d):
                    step = grad_w[c][j] / n + self.l2 * self.weights[c][j]
                    self.weights[c][j] -= self.learning_rate * step
        return self

    def predict_proba(self, x: List[List[float]]) -> List[List[float]]:
        if not self.weights:
            raise RuntimeError("model is not trained")
        self._check_width(x)
        return [softmax(self._scores(row)) for row in self.scaler.transform(x)]

    def predict(self, x: List[List[float]]) -> List[str]:
        return [self.classes[max(range(len(p)), key=p.__getitem__)] for p in self.predict_proba(x)]

    def to_dict(self) -> Dict:
        return {
            "format": MODEL_FORMAT,
            "classes": self.classes,
            "features": self.features,
            "scaler": {"mean": self.scaler.mean, "scale": self.scaler.scale},
            "weights": self.weights,
            "bias": self.bias,
            "hyperparameters": {
                "learning_rate": self.learning_rate,
                "epochs": self.epochs,
                "l2": self.l2,
            },
        }

    @classmethod
    def from_dict(cls, data: Dict) -> "SoftmaxRegression":
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not an {MODEL_FORMAT} model: format={data.get('format')!r}")
        hp = data["hyperparameters"]
        model = cls(hp["learning_rate"], hp["epochs"], hp["l2"])
        model.classes = list(data["classes"])
        model.features = list(data["features"])
        model.scaler = Standardizer(data["scaler"]["mean"], data["scaler"]["scale"])
        model.weights = [list(row) for row in data["weights"]]
        model.bias = list(data["bias"])
        return model

    @classmethod
    def load(cls, path) -> "SoftmaxRegression":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def _scores(self, row: List[float]) -> List[float]:
        return [b + sum(w * v for w, v in zip(ws, row)) for ws, b in zip(self.weights, self.bias)]

    def _check_width(self, x: List[List[float]]) -> None:
        for i, row in enumerate(x):
            if len(row) != len(self.features):
                raise ValueError(f"row {i}: expected {len(self.features)} features, got {len(row)}")
