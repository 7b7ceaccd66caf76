#!/usr/bin/env bash
# Per-invocation overhead of the custom executor driver, as gitlab-runner calls it: `config`, and
# `run` with an empty script, against `bash empty.sh` on the same machine in the same hyperfine
# run (goal: <= 3 ms added, median). Prints hyperfine's table and the added milliseconds.
#   bench/custom_executor_overhead.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
stagehost=${1:-build/release}/bin/stagehost
[[ -x $stagehost ]] || { echo "build first: cmake --build --preset release --target stagehost" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
printf '{"id":7,"token":"glcbt-x","variables":[{"key":"SECRET","value":"abcdefgh12345678","masked":true}]}' >"$work/response.json"
printf 'builds_dir = "%s/builds"\ncache_dir = "%s/cache"\n' "$work" "$work" >"$work/driver.toml"
printf '#!/usr/bin/env bash\n' >"$work/empty.sh"
chmod 0700 "$work/empty.sh"
export TMPDIR=$work BUILD_FAILURE_EXIT_CODE=1 SYSTEM_FAILURE_EXIT_CODE=2 \
  BUILD_EXIT_CODE_FILE=$work/build_exit_code JOB_RESPONSE_FILE=$work/response.json \
  STAGEHOST_CUSTOM_CONFIG=$work/driver.toml STAGEHOST_JOB_DIR=$work/builds/job-7
"$stagehost" gitlab custom prepare >/dev/null
hyperfine -N --warmup 20 --runs 300 --export-json "$work/result.json" \
  "$stagehost gitlab custom config" \
  "$stagehost gitlab custom run $work/empty.sh build_script" \
  "bash $work/empty.sh"
/usr/bin/python3 - "$work/result.json" <<'PY'
import json, sys
config, run, bash = (r["median"] for r in json.load(open(sys.argv[1]))["results"])
print(f"\nconfig: median {config*1e3:.2f} ms (the whole call)")
print(f"run with an empty script: median {run*1e3:.2f} ms; bash empty.sh {bash*1e3:.2f} ms; "
      f"added by the driver {(run - bash)*1e3:.2f} ms (goal <= 3 ms)")
PY
