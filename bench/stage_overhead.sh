#!/usr/bin/env bash
# Times whole commands with hyperfine: one complete `stagehost run` of a plugin that does nothing
# but log a line (CLI, plugin discovery, file checks, worker spawn, load, run, run record), against
# the process gitlab-runner's shell executor starts for every stage of a job (`bash --login`,
# performance.md §4) and a bare `bash -c`. Same machine, same run; prints hyperfine's ratios.
#   bench/stage_overhead.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
stagehost=$build/bin/stagehost
plugin_dir=$build/sdk-examples/hello_stage
[[ -x $stagehost && -d $plugin_dir ]] || {
  echo "build first: cmake --preset release && cmake --build --preset release --target stagehost_runtime" >&2
  exit 2
}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# Only the one plugin on the search path; the default folder beside the binary is searched too.
export STAGEHOST_PLUGIN_PATH=$plugin_dir
hyperfine -N --warmup 20 --runs 300 --export-json "$work/result.json" \
  "$stagehost run hello-stage --workspace $work --artifacts $work/out" \
  "bash --login -c true" \
  "bash -c true"
/usr/bin/python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
ours = results[0]
print(f"\nstagehost run (complete stage, empty plugin): median {ours['median']*1e3:.2f} ms")
for other in results[1:]:
    print(f"  vs {other['command']!r}: median {other['median']*1e3:.2f} ms "
          f"(ratio {ours['median']/other['median']:.2f})")
PY
