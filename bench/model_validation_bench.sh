#!/usr/bin/env bash
# model_validation_bench.sh -- 10 million rows of binary predictions: every metric (ROC AUC and
# average precision included) through `stagehost run model-validation`, side by side with pandas +
# scikit-learn on the same file, in the same run. Prints wall time, peak RSS and the speed-up
# (goal: >= 10x). Exits non-zero when the goal is missed.
#
#   bench/model_validation_bench.sh [BUILD_DIR] [ROWS]      # default build/mv-release, 10000000
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/mv-release}
rows=${2:-10000000}
bin=$build/bin/stagehost
plugins=$build/lib/stagehost/plugins
[[ -x $bin && -f $plugins/model_validation.so ]] || {
  echo "build first: cmake --build $build --target stagehost model_validation" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mv-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "generating $rows rows into $work/predictions.csv ..."
/usr/bin/python3 - "$work/predictions.csv" "$rows" <<'PY'
import sys, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(12345)
with open(path, "w") as f:
    f.write("label,prediction,probability\n")
    for start in range(0, n, 1_000_000):
        m = min(1_000_000, n - start)
        y = rng.integers(0, 2, m)
        p = 1 / (1 + np.exp(-(rng.normal(0, 1.5, m) + 1.2 * (2 * y - 1))))
        p = np.round(p, 6)              # 6 decimals: realistic, and many tied scores
        pred = (p > 0.5).astype(int)
        lines = np.char.add(np.char.add(np.char.add(np.char.add(y.astype(str), ","), pred.astype(str)), ","),
                            np.char.mod("%.6f", p))
        f.write("\n".join(lines.tolist()) + "\n")
PY
ls -l "$work/predictions.csv" | awk '{printf "file: %.0f MB\n", $5/1e6}'

cat > "$work/config.json" <<'JSON'
{"predictions": {"path": "predictions.csv", "probability_column": "probability"},
 "gates": [{"metric": "roc_auc", "min": 0.5}]}
JSON

measure() {  # measure NAME CMD... -> prints "wall_s rss_mib"
  local log=$work/$1.time; shift
  /usr/bin/time -v "$@" > "$work/out.log" 2> "$log" || { cat "$work/out.log" "$log" >&2; exit 2; }
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
              /Maximum resident set size/ {r=$2/1024} END {printf "%.2f %.0f\n", w, r}' "$log"
}

echo "stagehost run model-validation ..."
read -r ours_s ours_mib < <(measure ours "$bin" run model-validation --workspace "$work" \
  --artifacts "$work/out" --config "$work/config.json")
echo "pandas + scikit-learn ..."
cat > "$work/sk.py" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn import metrics
from sklearn.calibration import calibration_curve
d = pd.read_csv(sys.argv[1])
y, yp, p = d["label"].values, d["prediction"].values, d["probability"].values
r = {"accuracy": metrics.accuracy_score(y, yp), "balanced_accuracy": metrics.balanced_accuracy_score(y, yp),
     "precision": metrics.precision_score(y, yp), "recall": metrics.recall_score(y, yp), "f1": metrics.f1_score(y, yp)}
for avg in ["macro", "micro", "weighted"]:
    r[f"precision_{avg}"], r[f"recall_{avg}"], r[f"f1_{avg}"], _ = metrics.precision_recall_fscore_support(y, yp, average=avg)
r["confusion"] = metrics.confusion_matrix(y, yp).tolist()
r["roc_auc"] = metrics.roc_auc_score(y, p)
r["average_precision"] = metrics.average_precision_score(y, p)
r["log_loss"] = metrics.log_loss(y, p)
r["brier"] = metrics.brier_score_loss(y, p)
pt, pp = calibration_curve(y, p, n_bins=10)
json.dump(r, open(sys.argv[2], "w"))
PY
read -r sk_s sk_mib < <(measure sklearn /usr/bin/python3 "$work/sk.py" "$work/predictions.csv" "$work/sk.json")

# Same numbers? (the benchmark is void if the two sides disagree)
/usr/bin/python3 - "$work/out/model-validation.json" "$work/sk.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["metrics"]; sk = json.load(open(sys.argv[2]))
bad = [k for k in ["accuracy", "balanced_accuracy", "f1", "f1_macro", "roc_auc", "average_precision", "log_loss", "brier"]
       if abs(ours[k] - sk[k]) > 1e-9 * max(abs(sk[k]), 1e-12)]
print("metrics agree with scikit-learn within 1e-9 relative" if not bad else f"DISAGREE: {bad}")
sys.exit(1 if bad else 0)
PY

ratio=$(awk -v a="$sk_s" -v b="$ours_s" 'BEGIN {printf "%.1f", a / b}')
printf '\n%-28s %10s %10s\n' "" "wall (s)" "RSS (MiB)"
printf '%-28s %10s %10s\n' "stagehost model-validation" "$ours_s" "$ours_mib"
printf '%-28s %10s %10s\n' "pandas + scikit-learn" "$sk_s" "$sk_mib"
echo "speed-up: ${ratio}x (goal >= 10x)"
if awk -v r="$ratio" 'BEGIN {exit !(r >= 10)}'; then echo PASS; else echo FAIL; exit 1; fi
