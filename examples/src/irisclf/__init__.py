"""irisclf: a tiny iris classifier written with the Python standard library only.

It exists so that stagehost's stage plugins have a small, realistic ML project to work on: a
dataset, a training script, a deployable model file, predictions with class probabilities and a
pytest suite. See ../../README.md.
"""

from irisclf.data import CLASSES, FEATURES, Dataset, generate, read_csv, write_csv
from irisclf.metrics import accuracy, confusion_matrix, log_loss, macro_f1
from irisclf.model import SoftmaxRegression, Standardizer

__version__ = "0.1.0"

__all__ = [
    "CLASSES",
    "FEATURES",
    "Dataset",
    "SoftmaxRegression",
    "Standardizer",
    "accuracy",
    "confusion_matrix",
    "generate",
    "log_loss",
    "macro_f1",
    "read_csv",
    "write_csv",
]
