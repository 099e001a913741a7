#!/usr/bin/env bash
# Interleaved A/B of two revisions of cpuattn in one process (perf/ab/cpuattn_ab.cpp): builds the
# shared library of each (a git revision, or "." for the working tree as it is), builds the tool,
# and runs it on the workloads given.
#   scripts/ab.sh REV_A REV_B [--threads=N] [--rounds=N] [--isa=NAME] [--expect-equal] WORKLOAD...
#   e.g. scripts/ab.sh HEAD . softmax:128:65536 softmax:2048:65536 attention:1:12:512:64:1
# Builds go to build-ab/ (one per commit, reused).
set -euo pipefail
# A failed build inside $(build_library ...) must stop the run, not measure a stale library.
shopt -s inherit_errexit
root=$(cd "$(dirname "$0")/.." && pwd)
if (($# < 3)); then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
rev_a=$1 rev_b=$2
shift 2
"$root/scripts/install-deps.sh" perf > /dev/null
out=$root/build-ab
mkdir -p "$out"

# Prints the path of the built library of revision $1.
build_library() {
  local rev=$1 src dir
  if [[ $rev == . ]]; then
    src=$root dir=$out/lib-worktree
  else
    local sha
    sha=$(git -C "$root" rev-parse --verify "$rev^{commit}")
    src=$out/src-$sha dir=$out/lib-$sha
    if [[ ! -d $src ]]; then
      mkdir -p "$src.tmp"
      git -C "$root" archive "$sha" | tar -x -C "$src.tmp"
      mv "$src.tmp" "$src"
    fi
  fi
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
        -DCPUATTN_BUILD_TESTS=OFF -DCPUATTN_BUILD_PERF=OFF > /dev/null
  cmake --build "$dir" -j "$(nproc)" --target cpuattn > /dev/null
  # The real file, not the soname link: two builds then have two distinct paths.
  readlink -f "$dir/engine/libcpuattn.so"
}

lib_a=$(build_library "$rev_a")
lib_b=$(build_library "$rev_b")
if [[ $lib_a == "$lib_b" ]]; then
  # One revision against itself (the noise floor): dlopen needs a second file for a second object.
  cp "$lib_a" "$out/copy-$(basename "$lib_a")"
  lib_b=$out/copy-$(basename "$lib_a")
fi
tool=$out/tool
cmake -S "$root" -B "$tool" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPUATTN_BUILD_TESTS=OFF \
      -DCPUATTN_BUILD_PERF=ON > /dev/null
cmake --build "$tool" -j "$(nproc)" --target cpuattn_ab > /dev/null
echo "A = $rev_a, B = $rev_b"
"$tool/perf/cpuattn_ab" "$lib_a" "$lib_b" "$@"
