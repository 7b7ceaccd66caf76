#!/usr/bin/env bash
# deploy_publish_bench.sh -- publishes a 1 GiB file with the deploy plugin's core to s3rver and to
# nginx (WebDAV PUT), beside `curl -T` to the same endpoints in the same run: MB/s, peak RSS.
#   cmake -S . -B build/deploy-rel -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DSTAGEHOST_BUILD_TESTS=OFF -DSTAGEHOST_BUILD_BENCHMARKS=OFF -DSTAGEHOST_PLUGIN_SECURITY_SCAN=OFF
#   cmake --build build/deploy-rel --target stagehost_deploy_publish -j2
#   bench/deploy_publish_bench.sh build/deploy-rel [size_mib]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/deploy-rel}
size_mib=${2:-1024}
tool=$build/bin/stagehost_deploy_publish
[[ -x $tool ]] || { echo "build $tool first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
head -c $((size_mib << 20)) /dev/urandom >"$tmp/blob.bin"
s3port=$(free_port); ngport=$(free_port)
mkdir -p "$tmp/s3" "$tmp/ng/repo"
node "$root/node_modules/.bin/s3rver" -d "$tmp/s3" -a 127.0.0.1 -p "$s3port" --configure-bucket bench --configure-bucket bench2 --silent &
user=""; [[ $(id -u) == 0 ]] && user="user root root;"
cat >"$tmp/ng/nginx.conf" <<CONF
$user
daemon off; worker_processes 1; pid $tmp/ng/nginx.pid; error_log $tmp/ng/error.log warn;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $tmp/ng/body; client_max_body_size 0;
  server { listen 127.0.0.1:$ngport; location /repo/ { root $tmp/ng; dav_methods PUT; create_full_put_path on; } } }
CONF
/usr/sbin/nginx -p "$tmp/ng" -c "$tmp/ng/nginx.conf" &
sleep 2
measure() {  # measure LABEL CMD... -> "LABEL seconds rss_kib"
  local label=$1; shift
  /usr/bin/time -v -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/$label.log" ||
    { echo "$label failed:" >&2; cat "$tmp/$label.log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
  echo "$label $wall $rss"
}
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
s3=http://127.0.0.1:$s3port ng=http://127.0.0.1:$ngport/repo
# Each stagehost run goes to its own bucket or path, so no upload is skipped as already stored:
# the plugin's defaults first (multipart, read-back), then with that feature off.
results=()
results+=("$(measure stagehost-s3 "$tool" s3 "$s3" bench "$tmp/blob.bin")")
results+=("$(measure curl-s3 curl -sf -T "$tmp/blob.bin" "$s3/bench/curl/blob.bin")")
# Like for like: a signed PUT whose x-amz-content-sha256 is the payload's hash, as stagehost sends
# (s3rver then checks the body against it); the hash is part of the timed command.
results+=("$(measure curl-s3-signed bash -c 'h=$(sha256sum "$1" | cut -c1-64) &&
  curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: $h" -T "$1" "$2"' _ "$tmp/blob.bin" "$s3/bench/curl/signed.bin")")
results+=("$(DEPLOY_BENCH_MULTIPART_MIB=1000000 measure stagehost-s3-single "$tool" s3 "$s3" bench2 "$tmp/blob.bin")")
results+=("$(measure stagehost-put "$tool" http "$ng" - "$tmp/blob.bin")")
results+=("$(measure curl-put curl -sf -T "$tmp/blob.bin" "$ng/curl/blob.bin")")
results+=("$(DEPLOY_BENCH_READ_BACK=0 measure stagehost-put-noread "$tool" http "$ng/b2" - "$tmp/blob.bin")")
printf '%-22s %8s %10s %10s %s\n' run seconds MB/s "RSS MiB" "vs curl"
declare -A secs
for r in "${results[@]}"; do read -r label wall rss <<<"$r"; secs[$label]=$wall; done
for r in "${results[@]}"; do
  read -r label wall rss <<<"$r"
  # stagehost's S3 rows compare with the signed curl PUT, the HTTP rows with curl's PUT.
  ref=${secs[curl-s3-signed]}; [[ $label == *put* ]] && ref=${secs[curl-put]}
  awk -v l="$label" -v w="$wall" -v r="$rss" -v s="$size_mib" -v c="$ref" 'BEGIN {
    printf "%-22s %8.2f %10.1f %10.1f %6.2fx %s\n", l, w, s*1.048576/w, r/1024, c/w, (r<=65536?"":"RSS > 64 MiB") }'
done
# stagehost's wall time covers hashing the file first and the integrity checks: S3 per-part
# SHA-256 for the signatures and a HEAD; HTTP a read-back GET + SHA-256. Its log gives the rate of
# the PutFile phase (upload + the store-side checks, without the first hash).
for label in stagehost-s3 stagehost-s3-single stagehost-put stagehost-put-noread; do
  rate=$(sed -n 's/.*uploaded blob.bin ([0-9]* bytes, \([0-9.]*\) MB\/s).*/\1/p' "$tmp/$label.log")
  echo "$label PutFile phase: ${rate:-?} MB/s"
done
# The goal (issue 10): peak RSS <= 64 MiB for every stagehost run; exit non-zero on FAIL.
over=0
for r in "${results[@]}"; do
  read -r label wall rss <<<"$r"
  [[ $label == stagehost* && $rss -gt 65536 ]] && over=1
done
if ((over)); then echo "peak RSS goal <= 64 MiB: FAIL"; exit 1; fi
echo "peak RSS goal <= 64 MiB: PASS"
