"""Classification metrics, with scikit-learn's conventions (so sklearn.metrics can be the oracle)."""

import math
from typing import Dict, List, Sequence


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    _check(y_true, y_pred)
    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> List[List[int]]:
    """Rows are true labels, columns predicted labels, both in the order of `labels`."""
    _check(y_true, y_pred)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred):
        matrix[index[t]][index[p]] += 1
    return matrix


def per_class_f1(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> Dict[str, float]:
    """F1 per class; a class with no true and no predicted sample scores 0.0 (zero_division=0)."""
    m = confusion_matrix(y_true, y_pred, labels)
    scores = {}
    for i, label in enumerate(labels):
        tp = m[i][i]
        fp = sum(m[r][i] for r in range(len(labels))) - tp
        fn = sum(m[i]) - tp
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return scores


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    scores = per_class_f1(y_true, y_pred, labels)
    return sum(scores.values()) / len(scores)


def log_loss(
    y_true: Sequence[str], probabilities: Sequence[Sequence[float]], labels: Sequence[str],
    eps: float = 1e-15,
) -> float:
    """Mean negative log-likelihood; probabilities are clipped to [eps, 1 - eps] and renormalised."""
    _check(y_true, probabilities)
    index = {label: i for i, label in enumerate(labels)}
    total = 0.0
    for t, row in zip(y_true, probabilities):
        clipped = [min(max(p, eps), 1 - eps) for p in row]
        total -= math.log(clipped[index[t]] / sum(clipped))
    return total / len(y_true)


def _check(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b) or not a:
        raise ValueError("inputs must be non-empty and of equal length")
