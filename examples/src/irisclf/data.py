"""The dataset: an iris-like table generated from a fixed seed, stored as CSV.

Each class is drawn from independent-noise Gaussians around the per-class means and standard
deviations of Fisher's iris data, plus a shared "plant size" factor so that the features are
correlated the way real measurements are. Versicolor and virginica overlap, so a good model still
makes a few mistakes on the test split.
"""

import csv
import math
import random
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
CLASSES = ("setosa", "versicolor", "virginica")
COLUMNS = ("id",) + FEATURES + ("species", "split")

# (mean, standard deviation) per feature, from Fisher's iris data (Anderson, 1935).
_CLASS_STATS: Dict[str, Sequence[tuple]] = {
    "setosa": ((5.006, 0.352), (3.428, 0.379), (1.462, 0.174), (0.246, 0.105)),
    "versicolor": ((5.936, 0.516), (2.770, 0.314), (4.260, 0.470), (1.326, 0.198)),
    "virginica": ((6.588, 0.636), (2.974, 0.322), (5.552, 0.552), (2.026, 0.275)),
}
_SIZE_CORRELATION = 0.5


@dataclass(frozen=True)
class Sample:
    id: int
    features: tuple
    species: str
    split: str


@dataclass
class Dataset:
    samples: List[Sample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def subset(self, split: str) -> "Dataset":
        return Dataset([s for s in self.samples if s.split == split])

    @property
    def x(self) -> List[List[float]]:
        return [list(s.features) for s in self.samples]

    @property
    def y(self) -> List[str]:
        return [s.species for s in self.samples]

    @property
    def ids(self) -> List[int]:
        return [s.id for s in self.samples]


def generate(seed: int = 4, per_class: int = 50, test_per_class: int = 15) -> Dataset:
    """Draws a stratified dataset; the same seed always gives the same rows, ids and splits."""
    if not 0 < test_per_class < per_class:
        raise ValueError("test_per_class must be between 1 and per_class - 1")
    rng = random.Random(seed)
    rows = []
    for species in CLASSES:
        for i in range(per_class):
            size = rng.gauss(0.0, 1.0)
            values = []
            for mean, std in _CLASS_STATS[species]:
                noise = rng.gauss(0.0, 1.0)
                z = _SIZE_CORRELATION * size + math.sqrt(1.0 - _SIZE_CORRELATION**2) * noise
                values.append(max(0.1, round(mean + std * z, 1)))
            split = "test" if i >= per_class - test_per_class else "train"
            rows.append((tuple(values), species, split))
    rng.shuffle(rows)
    return Dataset([Sample(i + 1, f, s, sp) for i, (f, s, sp) in enumerate(rows)])


def write_csv(dataset: Dataset, path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for s in dataset.samples:
            writer.writerow([s.id, *(f"{v:.1f}" for v in s.features), s.species, s.split])


def read_csv(path) -> Dataset:
    with open(path, newline="", encoding="utf-8") as f:
        return parse_rows(csv.DictReader(f))


def parse_rows(rows: Iterable[dict]) -> Dataset:
    samples = []
    for line, row in enumerate(rows, start=2):
        try:
            species = row["species"]
            if species not in CLASSES:
                raise ValueError(f"unknown species {species!r}")
            split = row["split"]
            if split not in ("train", "test"):
                raise ValueError(f"unknown split {split!r}")
            features = tuple(float(row[name]) for name in FEATURES)
            samples.append(Sample(int(row["id"]), features, species, split))
        except (KeyError, ValueError) as e:
            raise ValueError(f"line {line}: {e}") from e
    return Dataset(samples)
