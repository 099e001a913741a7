#!/usr/bin/env bash
# Installs the Debian packages cpuattn needs that are missing. Usage: install-deps.sh [test|perf]
#   test: compiler, CMake, Ninja, xsimd, oneTBB, OpenMP, GoogleTest, valgrind, clang (fuzzer)
#   perf: test's plus Google Benchmark and the peers (OpenBLAS, oneDNN, Eigen) and python3
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake ninja-build pkg-config libxsimd-dev libtbb-dev libgtest-dev
      libbenchmark-dev libomp-dev valgrind)
if [[ $what == test ]]; then
  pkgs+=(clang libclang-rt-dev)
fi
if [[ $what == perf || $what == test ]]; then
  # The perf suite is built by default; the test build needs its dependencies to configure.
  # oneDNN's CMake config looks for OpenCL, which libdnnl-dev only recommends.
  pkgs+=(libopenblas-dev libdnnl-dev ocl-icd-opencl-dev libeigen3-dev python3)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
