#!/usr/bin/env bash
# The README's first command: installs what the build needs, builds stagehost and its plugins,
# and runs the main job on the bundled example project (examples/) through every stage plugin
# that exists, each with its config from examples/stagehost/<stage>.yml. Reports land in
# out/demo/<stage>/ with a stagehost-run.json each.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
umask 022
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target stagehost_runtime
stagehost=$root/build/release/bin/stagehost
out=$root/out/demo
rm -rf "$out"
mkdir -p "$out"

declare -a summary=()
failed=0
run_stage() {  # run_stage LABEL STAGE [ARGS...]
  local label=$1 stage=$2
  shift 2
  echo
  echo "== $label"
  set +e
  "$stagehost" run "$stage" --workspace "$root/examples" --artifacts "$out/$label" "$@"
  local code=$?
  set -e
  case $code in
    0) summary+=("$label: passed") ;;
    1) summary+=("$label: FAILED (stage failed)"); failed=1 ;;
    *) summary+=("$label: FAILED (system failure, exit $code)"); failed=1 ;;
  esac
}

# deploy signs its provenance with a throwaway Ed25519 key made for this run (never on disk, and
# in the environment of the deploy stage alone); its state and store (out/demo/deploy-state,
# deploy-store) went with the rm -rf above.
deploy_signing_key=$(openssl genpkey -algorithm ed25519)

# The stage plugins built into this tree, one per stage type, configured for the example project.
"$stagehost" plugins list --json >"$out/plugins.json"
for stage in unit-test model-validation security-scan deploy; do
  if /usr/bin/python3 - "$out/plugins.json" "$stage" "$root/build/release/lib/stagehost/plugins" <<'PY'
import json, sys
plugins = json.load(open(sys.argv[1]))
sys.exit(0 if any(p.get("stage") == sys.argv[2] and p.get("path", "").startswith(sys.argv[3])
                  for p in plugins) else 1)
PY
  then
    if [[ $stage == deploy ]]; then
      DEPLOY_SIGNING_KEY=$deploy_signing_key run_stage "$stage" "$stage" \
        --config "$root/examples/stagehost/$stage.yml"
    else
      run_stage "$stage" "$stage" --config "$root/examples/stagehost/$stage.yml"
    fi
  else
    summary+=("$stage: no plugin yet")
  fi
done

# The SDK's example plugins, the reference for third-party authors, on the same project.
export STAGEHOST_PLUGIN_PATH=$root/build/release/sdk-examples/hello_stage:$root/build/release/sdk-examples/with_report
run_stage hello-stage hello-stage
run_stage file-inventory file-inventory --set 'include=["src/**","tests/**","model/**"]'

echo
echo "== summary (reports in $out)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
