#!/usr/bin/env bash
# Writes the stage reference (docs/stages.md) to stdout from the plugins a stagehost binary finds:
#   scripts/stage-docs.sh build/release/bin/stagehost > docs/stages.md
# tests/CMakeLists.txt's stage_docs_fresh runs it and fails when the committed file differs.
set -euo pipefail
stagehost=${1:-stagehost}
# Only the plugins beside the binary: a plugin on the caller's search path must not leak in.
unset STAGEHOST_PLUGIN_PATH

cat <<'HEADER'
# Stage reference

Every configuration key of the in-tree stage plugins, generated from each plugin's config JSON
Schema by `stagehost plugins inspect NAME --markdown` (`scripts/stage-docs.sh`; a test fails when
this file is stale, so regenerate it rather than editing it). A stage's config is JSON or YAML,
given as `--config` / `STAGEHOST_CONFIG`, with single keys set over it by `--set KEY=VALUE` or
`STAGEHOST_SET` (one per line); unknown keys are errors. Nested keys are written with dots, keys of
the objects in an array with `[]`. The plugins' READMEs (`plugins/<stage>/README.md`)
explain the behaviour behind the keys, and `examples/stagehost/` has a working config per stage.
HEADER
for stage in unit-test model-validation security-scan deploy; do
  echo
  "$stagehost" plugins inspect "$stage" --markdown
done
