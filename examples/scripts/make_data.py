#!/usr/bin/env python3
"""Writes data/iris.csv: 150 iris-like rows (50 per class, 15 per class held out for testing).

Deterministic: run it again and the file does not change. The output is committed; a test checks
that it still matches what this script would write.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from irisclf.data import generate, write_csv  # noqa: E402

SEED = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "data" / "iris.csv")
    args = parser.parse_args()
    dataset = generate(seed=SEED)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(dataset, args.out)
    print(f"wrote {args.out} ({len(dataset)} rows, seed {SEED})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
