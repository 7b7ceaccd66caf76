#!/usr/bin/env bash
# sdk_out_of_tree_test.sh SOURCE_DIR BUILD_DIR STAGEHOST_BINARY
#
# Builds the SDK examples the way a third-party author does -- against an installed SDK, with
# find_package(StagehostSDK) -- and runs them through the real host:
#   1. `cmake --install BUILD_DIR --component sdk --prefix TMP/prefix`: the SDK alone, as a
#      packager would ship it;
#   2. configures and builds SOURCE_DIR/sdk/examples out of tree with -DCMAKE_PREFIX_PATH=TMP/prefix;
#   3. `stagehost plugins inspect` and `stagehost run` on hello-stage and file-inventory, with
#      STAGEHOST_PLUGIN_PATH pointing at the freshly built plugins.
# Setup failures (install, configure, build) stop the script; every check after that is counted.
# Prints "sdk out-of-tree: N passed, M failed" last and exits non-zero when anything failed.
# Environment: CMAKE, the cmake to use (default: cmake on PATH; ctest passes ${CMAKE_COMMAND}).
set -euo pipefail

if (($# != 3)); then
  echo "usage: $0 SOURCE_DIR BUILD_DIR STAGEHOST_BINARY" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd -P)
build_dir=$(cd "$2" && pwd -P)
stagehost=$3
if [[ $stagehost != /* ]]; then stagehost=$PWD/$stagehost; fi
workspace=$source_dir/examples
cmake=${CMAKE:-cmake}

# The host refuses plugin files and folders that are group- or world-writable.
umask 022
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdk-out-of-tree.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

passed=0
failed=0
pass() {
  passed=$((passed + 1))
  echo "PASS: $1"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL: $1" >&2
}
die() {
  echo "FATAL: $1" >&2
  if [[ -n ${2:-} && -f $2 ]]; then tail -n 40 "$2" >&2; fi
  echo "sdk out-of-tree: $passed passed, $((failed + 1)) failed"
  exit 1
}
# Prints a command's captured output after a failed check.
show() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "--- $(basename "$f")" >&2
    tail -n 40 "$f" >&2
  done
}

[[ -x $stagehost ]] || die "no stagehost binary at $stagehost"

# ---- 1. Install the SDK ---------------------------------------------------------------------------
prefix=$tmp/prefix
"$cmake" --install "$build_dir" --component sdk --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  die "cmake --install $build_dir --component sdk --prefix $prefix failed" "$tmp/install.log"
sdk_config=$(find "$prefix" -name StagehostSDKConfig.cmake -print -quit)
[[ -n $sdk_config ]] || die "the install has no StagehostSDKConfig.cmake" "$tmp/install.log"
[[ -f $prefix/include/stagehost/plugin_abi.h ]] || die "the install has no stagehost/plugin_abi.h"

# ---- 2. Build the examples out of tree ------------------------------------------------------------
examples_build=$tmp/examples-build
configure=("$cmake" -S "$source_dir/sdk/examples" -B "$examples_build" -DCMAKE_PREFIX_PATH="$prefix"
  -DCMAKE_BUILD_TYPE=RelWithDebInfo)
# Same compiler as the main build, when it names one.
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [[ -n $cxx ]]; then configure+=(-DCMAKE_CXX_COMPILER="$cxx"); fi
"${configure[@]}" >"$tmp/configure.log" 2>&1 || die "configuring sdk/examples failed" "$tmp/configure.log"
found_dir=$(sed -n 's/^StagehostSDK_DIR:PATH=//p' "$examples_build/CMakeCache.txt")
[[ $found_dir == "$prefix"/* ]] ||
  die "find_package(StagehostSDK) found $found_dir, not the SDK installed in $prefix"
"$cmake" --build "$examples_build" --parallel >"$tmp/build.log" 2>&1 ||
  die "building sdk/examples failed" "$tmp/build.log"

hello_so=$examples_build/hello_stage/hello_stage.so
inventory_so=$examples_build/with_report/file_inventory.so
for so in "$hello_so" "$inventory_so"; do
  if [[ ! -f $so ]]; then
    fail "built $(basename "$so")"
  elif command -v nm >/dev/null &&
    [[ $(nm -D --defined-only "$so" | awk '{print $NF}') != stagehost_plugin_entry ]]; then
    fail "$(basename "$so") exports only stagehost_plugin_entry (exports: $(nm -D --defined-only "$so" | awk '{print $NF}' | tr '\n' ' '))"
  else
    pass "built $(basename "$so"), exporting only stagehost_plugin_entry"
  fi
done

# ---- 3. Run them through the host -----------------------------------------------------------------
plugin_path=$(dirname "$hello_so"):$(dirname "$inventory_so")
# Runs the host with only our plugins in view and no job settings inherited from a CI job that may
# be running this test. Stdout, stderr and the exit code go to $tmp/<name>.{out,err,rc}.
host() {
  local name=$1
  shift
  local rc=0
  env -u STAGEHOST_STAGE -u STAGEHOST_CONFIG STAGEHOST_PLUGIN_PATH="$plugin_path" \
    timeout 120 "$stagehost" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || rc=$?
  echo "$rc" >"$tmp/$name.rc"
}
rc_of() { cat "$tmp/$1.rc"; }

# plugins inspect: the author's check outside CI.
host inspect plugins inspect file-inventory
if [[ $(rc_of inspect) == 0 ]] && grep -q 'file-inventory' "$tmp/inspect.out" &&
  grep -q 'max_files' "$tmp/inspect.out"; then
  pass "plugins inspect file-inventory shows the plugin and its config schema"
else
  fail "plugins inspect file-inventory (exit $(rc_of inspect))"
  show "$tmp/inspect.out" "$tmp/inspect.err"
fi

# hello-stage passes and says hello on stdout.
host hello run hello-stage --workspace "$workspace" --artifacts "$tmp/out-hello"
if [[ $(rc_of hello) == 0 ]] && grep -q 'hello from' "$tmp/hello.out"; then
  pass "run hello-stage: exit 0, \"hello from\" on stdout"
else
  fail "run hello-stage (exit $(rc_of hello), want 0 and \"hello from\" on stdout)"
  show "$tmp/hello.out" "$tmp/hello.err"
fi

# file-inventory passes, writes its report, and the run record lists it.
out=$tmp/out
host inventory run file-inventory --workspace "$workspace" --artifacts "$out"
report=$out/file-inventory.json
if [[ $(rc_of inventory) == 0 ]]; then
  pass "run file-inventory: exit 0"
else
  fail "run file-inventory (exit $(rc_of inventory), want 0)"
  show "$tmp/inventory.out" "$tmp/inventory.err"
fi
if [[ -f $report ]] && python3 - "$report" <<'EOF'; then
import json, sys
report = json.load(open(sys.argv[1]))
paths = [f["path"] for f in report["files"]]
assert report["file_count"] == len(paths) > 0, report["file_count"]
assert "data/iris.csv" in paths and "model/model.json" in paths, paths
EOF
  pass "file-inventory.json lists the example project's files"
else
  fail "file-inventory.json missing or wrong ($report)"
fi
if [[ -f $out/stagehost-run.json ]] && python3 - "$out/stagehost-run.json" <<'EOF'; then
import json, sys
def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
record = json.load(open(sys.argv[1]))
sys.exit(0 if any(s == "file-inventory.json" or s.endswith("/file-inventory.json")
                  for s in strings(record)) else 1)
EOF
  pass "stagehost-run.json lists file-inventory.json"
else
  fail "stagehost-run.json missing, or does not list file-inventory.json"
  show "$out/stagehost-run.json"
fi

# A config the schema rejects (max_files has "minimum": 1) stops the stage before the plugin runs
# (exit 2: no verdict), and the message names the offending key.
host schema run file-inventory --workspace "$workspace" --artifacts "$tmp/out-schema" --set max_files=0
if [[ $(rc_of schema) == 2 ]] && cat "$tmp/schema.out" "$tmp/schema.err" | grep -q 'max_files'; then
  pass "run file-inventory --set max_files=0: exit 2 (schema violation naming max_files)"
else
  fail "run file-inventory --set max_files=0 (exit $(rc_of schema), want 2 and a message naming max_files)"
  show "$tmp/schema.out" "$tmp/schema.err"
fi

# A config the schema accepts but the plugin refuses (BadConfig): exit 2 with the plugin's message.
host badconfig run file-inventory --workspace "$workspace" --artifacts "$tmp/out-badconfig" \
  --config '{"include": ["/etc/**"]}'
if [[ $(rc_of badconfig) == 2 ]] &&
  cat "$tmp/badconfig.out" "$tmp/badconfig.err" | grep -q 'relative to the workspace'; then
  pass "run file-inventory with an absolute include glob: exit 2 with the plugin's message"
else
  fail "run file-inventory with an absolute include glob (exit $(rc_of badconfig), want 2 and the BadConfig message)"
  show "$tmp/badconfig.out" "$tmp/badconfig.err"
fi

# The project "fails" (Outcome::kFailed): nothing matches and fail_on_empty is set. The plugin ran
# to the end, so its (empty) report exists.
host empty run file-inventory --workspace "$workspace" --artifacts "$tmp/out-empty" \
  --config '{"include": ["**/*.onnx"], "fail_on_empty": true}'
if [[ $(rc_of empty) == 1 && -f $tmp/out-empty/file-inventory.json ]] &&
  cat "$tmp/empty.out" "$tmp/empty.err" | grep -q 'no file matched'; then
  pass "run file-inventory with fail_on_empty and no match: exit 1 (stage failed), report written"
else
  fail "run file-inventory with fail_on_empty and no match (exit $(rc_of empty), want 1, a report and \"no file matched\")"
  show "$tmp/empty.out" "$tmp/empty.err"
fi

echo "sdk out-of-tree: $passed passed, $failed failed"
((failed == 0))
