#!/usr/bin/env bash
# The README's second command: installs what the build needs, then builds and runs every test,
# once in a Debug build and once under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh            both builds
#   scripts/test.sh dev        only the Debug build (quicker while developing)
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("${@:-dev asan}")
read -r -a presets <<<"${presets[*]}"
jobs=$(nproc)

bash scripts/install-deps.sh
# The host refuses plugin files that are group- or world-writable; keep what we build safe.
umask 022

status=0
for preset in "${presets[@]}"; do
  echo "== ${preset}: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" --parallel "$jobs"
  echo "== ${preset}: tests"
  ctest --preset "$preset" --parallel "$jobs" || status=1
done
exit "$status"
