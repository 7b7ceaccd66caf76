#!/usr/bin/python3
"""sklearn_oracle.py OUTDIR -- writes predictions files from Debian's scikit-learn datasets and
the metrics scikit-learn computes on them (OUTDIR/<case>.csv, OUTDIR/<case>.json).

Models are trained with fixed seeds on the datasets python3-sklearn ships (no network). Weighted
and tied-score variants exercise sample_weight and tie handling."""
import json
import sys

import numpy as np
from sklearn import datasets, metrics
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]


def ece_binary(y, p, w, bins=10):
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], p)
    total = 0.0
    for b in range(bins):
        m = ids == b
        if w[m].sum() == 0:
            continue
        total += abs((w[m] * y[m]).sum() - (w[m] * p[m]).sum())
    return total / w.sum()


def ece_top(y_idx, P, w, bins=10):
    conf = P.max(axis=1)
    top = P.argmax(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], conf)
    total = 0.0
    for b in range(bins):
        m = ids == b
        if w[m].sum() == 0:
            continue
        total += abs((w[m] * (top[m] == y_idx[m])).sum() - (w[m] * conf[m]).sum())
    return total / w.sum()


def classification(name, X, y, class_names, weighted=False, round_probs=None, seed=0):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    model.fit(Xtr, ytr)
    P = model.predict_proba(Xte)
    if round_probs is not None:  # many tied scores
        P = np.round(P, round_probs)
        P = P / P.sum(axis=1, keepdims=True)
        P = np.round(P, 12)
    pred = model.classes_[P.argmax(axis=1)]
    rng = np.random.RandomState(seed + 7)
    w = rng.uniform(0.1, 3.0, size=len(yte)).round(3) if weighted else None
    wv = w if weighted else np.ones(len(yte))
    labels = [class_names[i] for i in yte]
    preds = [class_names[i] for i in pred]
    k = len(class_names)
    cols = ["label", "prediction"] + [f"p_{c}" for c in class_names] + (["weight"] if weighted else [])
    with open(f"{out}/{name}.csv", "w") as f:
        f.write(",".join(cols) + "\n")
        for i in range(len(yte)):
            row = [labels[i], preds[i]] + [repr(float(v)) for v in P[i]]
            if weighted:
                row.append(repr(float(w[i])))
            f.write(",".join(row) + "\n")
    yl = np.array(labels)
    pl = np.array(preds)
    sw = w
    e = {}
    e["accuracy"] = metrics.accuracy_score(yl, pl, sample_weight=sw)
    e["balanced_accuracy"] = metrics.balanced_accuracy_score(yl, pl, sample_weight=sw)
    for avg in ["macro", "micro", "weighted"]:
        p, r, f, _ = metrics.precision_recall_fscore_support(yl, pl, average=avg, sample_weight=sw, zero_division=0)
        e[f"precision_{avg}"], e[f"recall_{avg}"], e[f"f1_{avg}"] = p, r, f
    order = sorted(class_names)
    idx = [class_names.index(c) for c in order]
    Ps = P[:, idx]
    y_idx = np.array([order.index(c) for c in labels])
    if k == 2:
        pos = order[1]
        e["precision"] = metrics.precision_score(yl, pl, pos_label=pos, sample_weight=sw, zero_division=0)
        e["recall"] = metrics.recall_score(yl, pl, pos_label=pos, sample_weight=sw, zero_division=0)
        e["f1"] = metrics.f1_score(yl, pl, pos_label=pos, sample_weight=sw, zero_division=0)
        yb = (yl == pos).astype(int)
        e["roc_auc"] = metrics.roc_auc_score(yb, Ps[:, 1], sample_weight=sw)
        e["average_precision"] = metrics.average_precision_score(yb, Ps[:, 1], sample_weight=sw)
        e["brier"] = metrics.brier_score_loss(yb, Ps[:, 1], sample_weight=sw)
        e["ece"] = ece_binary(yb, Ps[:, 1], wv)
        if not weighted:
            # calibration_curve agrees with our binning (no weights in sklearn's function).
            prob_true, prob_pred = calibration_curve(yb, Ps[:, 1], n_bins=10)
            e["calibration_bins"] = len(prob_true)
    else:
        e["roc_auc"] = metrics.roc_auc_score(yl, Ps, multi_class="ovr", average="macro", labels=order, sample_weight=sw)
        yb = np.zeros_like(Ps)
        yb[np.arange(len(yl)), y_idx] = 1
        e["average_precision"] = metrics.average_precision_score(yb, Ps, average="macro", sample_weight=sw)
        e["brier"] = float(np.average(((Ps - yb) ** 2).sum(axis=1), weights=wv))
        e["ece"] = ece_top(y_idx, Ps, wv)
    e["log_loss"] = metrics.log_loss(yl, Ps, labels=order, sample_weight=sw)
    cm = metrics.confusion_matrix(yl, pl, labels=order, sample_weight=sw)
    e["confusion_matrix"] = cm.tolist()
    e["classes"] = order
    spec = {"class_names": class_names, "weighted": weighted, "rows": len(yte), "expected": e}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(spec, f, indent=1)


def binary_single(name, X, y, seed=0):
    """One probability column (P(label == 1)), numeric labels 0/1, with the group column."""
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    model.fit(Xtr, ytr)
    p = model.predict_proba(Xte)[:, 1]
    pred = (p > 0.5).astype(int)
    groups = np.array(["a" if i % 3 else "b" for i in range(len(yte))])
    with open(f"{out}/{name}.csv", "w") as f:
        f.write("label,prediction,score,group\n")
        for i in range(len(yte)):
            f.write(f"{int(yte[i])},{int(pred[i])},{p[i]!r},{groups[i]}\n")
    def compute(mask):
        yy, pp, dd = yte[mask], pred[mask], p[mask]
        e = {"accuracy": metrics.accuracy_score(yy, pp),
             "precision": metrics.precision_score(yy, pp, zero_division=0),
             "recall": metrics.recall_score(yy, pp, zero_division=0),
             "f1": metrics.f1_score(yy, pp, zero_division=0),
             "roc_auc": metrics.roc_auc_score(yy, dd),
             "average_precision": metrics.average_precision_score(yy, dd),
             "log_loss": metrics.log_loss(yy, dd, labels=[0, 1]),
             "brier": metrics.brier_score_loss(yy, dd),
             "ece": ece_binary(yy, dd, np.ones(len(yy)))}
        for avg in ["macro", "micro", "weighted"]:
            pr, rc, f1, _ = metrics.precision_recall_fscore_support(yy, pp, average=avg, zero_division=0)
            e[f"precision_{avg}"], e[f"recall_{avg}"], e[f"f1_{avg}"] = pr, rc, f1
        e["balanced_accuracy"] = metrics.balanced_accuracy_score(yy, pp)
        return e
    spec = {"rows": len(yte), "expected": compute(np.ones(len(yte), bool)),
            "slices": {g: compute(groups == g) for g in ["a", "b"]}}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(spec, f, indent=1)


def regression(name, weighted=False):
    X, y = datasets.load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=3)
    pred = LinearRegression().fit(Xtr, ytr).predict(Xte)
    w = np.random.RandomState(5).uniform(0.5, 2.0, len(yte)).round(3) if weighted else None
    with open(f"{out}/{name}.csv", "w") as f:
        f.write("y,yhat" + (",w" if weighted else "") + "\n")
        for i in range(len(yte)):
            f.write(f"{yte[i]!r},{pred[i]!r}" + (f",{w[i]!r}" if weighted else "") + "\n")
    e = {"mae": metrics.mean_absolute_error(yte, pred, sample_weight=w),
         "mse": metrics.mean_squared_error(yte, pred, sample_weight=w),
         "rmse": metrics.mean_squared_error(yte, pred, sample_weight=w, squared=False),
         "r2": metrics.r2_score(yte, pred, sample_weight=w),
         "mape": metrics.mean_absolute_percentage_error(yte, pred, sample_weight=w)}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump({"rows": len(yte), "expected": e}, f, indent=1)


bc = datasets.load_breast_cancer()
classification("breast_cancer", bc.data, bc.target, ["malignant", "benign"])
classification("breast_cancer_weighted", bc.data, bc.target, ["malignant", "benign"], weighted=True)
classification("breast_cancer_ties", bc.data, bc.target, ["malignant", "benign"], round_probs=1)
binary_single("breast_cancer_single", bc.data, bc.target)
iris = datasets.load_iris()
classification("iris", iris.data, iris.target, ["setosa", "versicolor", "virginica"], seed=1)
classification("iris_ties", iris.data, iris.target, ["setosa", "versicolor", "virginica"], round_probs=1, seed=1)
wine = datasets.load_wine()
classification("wine", wine.data, wine.target, ["class_0", "class_1", "class_2"], seed=2)
classification("wine_weighted", wine.data, wine.target, ["class_0", "class_1", "class_2"], weighted=True, seed=2)
regression("diabetes")
regression("diabetes_weighted", weighted=True)
