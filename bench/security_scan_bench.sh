#!/usr/bin/env bash
# security_scan_bench.sh -- the security-scan plugin's scan vs secretlint on a generated mixed
# source corpus (default 200 MiB, 20 shards): MiB/s, peak RSS, recall on planted secrets, ratio,
# PASS/FAIL against the goal (>= 300 MiB/s on this machine, >= 20x secretlint, recall not lower).
#   bench/security_scan_bench.sh                 # MB=200; BUILD=build/sec-rel
# secretlint is far slower, so it runs on one shard (shard00, 1/20 of the corpus); both tools are
# measured on that same shard for the ratio and the recall, and ours also on the whole corpus.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build/sec-rel}
mb=${MB:-200}
secretlint=$root/node_modules/.bin/secretlint

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAGEHOST_BUILD_TESTS=OFF \
  -DSTAGEHOST_PLUGIN_DEPLOY=OFF >/dev/null
cmake --build "$build" --target stagehost_security_scan_cli -j2 >/dev/null
cli=$build/bin/stagehost_security_scan_cli

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "generating ${mb} MiB corpus in $tmp ..."
python3 "$root/bench/security_scan_corpus.py" "$tmp/corpus" --mb "$mb" --shards 20
echo '{"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}' >"$tmp/secretlintrc.json"
cat "$tmp"/corpus/*/*/* >/dev/null  # warm the page cache for both tools

measure() {  # measure NAME OUTFILE CMD... -> NAME.time (GNU time -v), exit code ignored
  local name=$1 out=$2
  shift 2
  set +e
  /usr/bin/time -v "$@" >"$out" 2>"$tmp/$name.time"
  set -e
}
# The compiled rule database is kept in cache_dir, as a CI cache would keep it: the first run
# compiles and stores it, the measured runs read it.
cfg="{\"fail_on\": \"never\", \"cache_dir\": \"$tmp/cache\"}"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
measure ours_full "$tmp/ours_full.json" "$cli" "$tmp/corpus" "$cfg"
measure ours_full "$tmp/ours_full.json" "$cli" "$tmp/corpus" "$cfg"  # 2nd run
measure ours_sub "$tmp/ours_sub.json" "$cli" "$tmp/corpus/shard00" "$cfg"
(cd "$tmp/corpus/shard00" && measure secretlint "$tmp/secretlint.json" "$secretlint" "**/*" --format json \
  --secretlintrc "$tmp/secretlintrc.json" --no-color)

python3 - "$tmp" "$mb" <<'PY'
import json, os, re, sys
tmp, mb = sys.argv[1], int(sys.argv[2])
def tv(name):
    t = open(os.path.join(tmp, name + ".time")).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    return secs, rss
def size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
full_bytes = size(os.path.join(tmp, "corpus"))
sub_bytes = size(os.path.join(tmp, "corpus", "shard00"))
planted = json.load(open(os.path.join(tmp, "planted.json")))
shards = {"shard00"}
# Paths relative to the scanned root: the full corpus for "full", shard00 for the subset.
sub_planted = {(os.path.relpath(p["path"], "shard00"), p["line"]) for p in planted if p["shard"] in shards}
ours_sub = json.load(open(os.path.join(tmp, "ours_sub.json")))
ours_set = {(f["path"], f["line"]) for f in ours_sub["findings"]}
sl = json.load(open(os.path.join(tmp, "secretlint.json")))
sl_set = set()
for f in sl:
    p = os.path.relpath(f["filePath"], os.path.join(tmp, "corpus", "shard00"))
    for m in f["messages"]:
        sl_set.add((p, m["loc"]["start"]["line"]))
of_s, of_rss = tv("ours_full"); os_s, os_rss = tv("ours_sub"); sl_s, sl_rss = tv("secretlint")
MiB = 1024 * 1024
ours_full_rate = full_bytes / MiB / of_s
ours_sub_rate = sub_bytes / MiB / os_s
sl_rate = sub_bytes / MiB / sl_s
r_ours = len(sub_planted & ours_set); r_sl = len(sub_planted & sl_set)
ours_full = json.load(open(os.path.join(tmp, "ours_full.json")))
full_found = {(f["path"], f["line"]) for f in ours_full["findings"]}
full_planted = {(p["path"], p["line"]) for p in planted}
print()
print("corpus: %.1f MiB (%d files); secretlint subset: shard00, %.1f MiB" % (
    full_bytes / MiB, ours_full["stats"]["files_scanned"], sub_bytes / MiB))
print("%-34s %10s %10s %12s %10s" % ("tool", "MiB", "seconds", "MiB/s", "peak RSS"))
print("%-34s %10.1f %10.2f %12.1f %8d MiB" % ("stagehost security-scan (full)", full_bytes / MiB, of_s, ours_full_rate, of_rss // 1024))
print("%-34s %10.1f %10.2f %12.1f %8d MiB" % ("stagehost security-scan (subset)", sub_bytes / MiB, os_s, ours_sub_rate, os_rss // 1024))
print("%-34s %10.1f %10.2f %12.1f %8d MiB" % ("secretlint 9.3.4 (subset)", sub_bytes / MiB, sl_s, sl_rate, sl_rss // 1024))
rest_rate = ours_full_rate
print("recall on all %d planted secrets (full corpus): stagehost %d, false positives %d" % (
    len(full_planted), len(full_planted & full_found), len(full_found - full_planted)))
ratio = ours_sub_rate / sl_rate  # wall clock on the same files (includes our process start)
tp_ratio = ours_full_rate / sl_rate  # throughput against throughput
print("recall on the %d secrets planted in the subset: stagehost %d, secretlint %d" % (len(sub_planted), r_ours, r_sl))
print("false positives in the subset: stagehost %d, secretlint %d" % (len(ours_set - sub_planted), len(sl_set - sub_planted)))
print("speed ratio, wall clock on the subset (same files): %.1fx" % ratio)
print("speed ratio, throughput (full corpus MiB/s / secretlint MiB/s): %.1fx" % tp_ratio)
print("rules database from cache: %s" % ours_full["stats"].get("rules_cached"))
ok_speed = rest_rate >= 300
ok_ratio = ratio >= 20
ok_recall = r_ours >= r_sl
print("goal >= 300 MiB/s: %s (%.1f)" % ("PASS" if ok_speed else "FAIL", rest_rate))
print("goal >= 20x secretlint: %s (wall clock %.1fx, throughput %.1fx)" % (
    "PASS" if ok_ratio else "FAIL", ratio, tp_ratio))
print("goal recall not lower: %s" % ("PASS" if ok_recall else "FAIL"))
sys.exit(0 if ok_speed and ok_ratio and ok_recall else 1)
PY
