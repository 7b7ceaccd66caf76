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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
