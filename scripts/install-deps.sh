#!/usr/bin/env bash
# Installs every Debian 12 package the build, tests and benchmarks need. Idempotent.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev                      # Boost.DLL (header-only with BOOST_DLL_USE_STD_FS)
  nlohmann-json3-dev libvalijson-dev libcli11-dev libyaml-cpp-dev libfmt-dev
  libssl-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  hyperfine time clang-format python3 python3-pytest
  libpugixml-dev                    # JUnit and other XML reports (stage plugins)
  libtomlplusplus-dev               # driver and runner configuration (config.toml)
  python3-sklearn python3-pandas    # oracle and reference tool for the model-validation stage
  libhyperscan-dev libre2-dev       # security-scan: multi-pattern matching, RE2 fallback
  libarchive-dev zip unzip          # artifact archives and their checks
  nginx libnginx-mod-http-dav-ext   # deploy: rollout driver and WebDAV PUT target (tests)
  prometheus                        # deploy analysis and runner metrics, scraped in the tests
  in-toto                           # verifies the deploy stage's provenance in the tests
  python3-botocore                  # checks the deploy stage's S3 signatures on the wire (tests)
  openssl                           # the demo makes a throwaway Ed25519 key for the deploy stage
  python3-jenkins groovy            # fake Jenkins fidelity check; shared-library syntax check
  rsync python3-yaml curl           # gitlab-ci-local copies artifacts with rsync; tests/e2e
)
# Node.js for the pinned npm tools (package-lock.json): Debian's, unless the machine has one already
# (a packaged nodejs that bundles npm conflicts with Debian's npm package).
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm tools at the versions package-lock.json pins; skipped when node_modules already matches it.
cd "$(dirname "$0")/.."
lock_stamp=node_modules/.stagehost-lock.sha256
if ! sha256sum --status -c "$lock_stamp" 2>/dev/null || [ ! -f node_modules/re2/build/Release/re2.node ]; then
  echo "install-deps: npm ci" >&2
  # Install scripts stay off except for the one native module a tool needs: re2, which
  # gitlab-ci-local loads at start. Its script downloads a prebuilt binary or, offline, compiles
  # RE2 with node-gyp (about two minutes on two cores, once per machine).
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "install-deps: npm rebuild re2 (native module of gitlab-ci-local)" >&2
  npm rebuild re2 --no-audit --no-fund --loglevel=error >/dev/null
  sha256sum package-lock.json >"$lock_stamp"
fi
