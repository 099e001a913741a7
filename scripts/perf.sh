#!/usr/bin/env bash
# The perf suite: builds cpuattn and its peers, runs every benchmark (5 repetitions in random
# interleaved order, medians), runs OpenBLAS a second time with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (its native AVX-512 kernel), measures peak memory, and writes
# perf/results/<date>/{*.json,report.md}.
# Arguments are passed to the benchmark binary (e.g. --benchmark_filter=sgemm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" perf
build=${BUILD_DIR:-$root/build-perf}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPUATTN_BUILD_TESTS=ON \
      -DCPUATTN_BUILD_PERF=ON
cmake --build "$build" -j "$(nproc)" --target cpuattn_perf cpuattn_peak_memory
out=${PERF_OUT:-$root/perf/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
# Repetitions in random interleaved order: the VMs have slow stretches lasting minutes, which in
# registration order fell on every run of one implementation and on none of its peers'.
bench=("$build/perf/cpuattn_perf" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
       --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2
       --benchmark_out_format=json)
# The main run uses OpenBLAS's Haswell (AVX2) kernel, as this project's machines are set up
# (OPENBLAS_CORETYPE=Haswell), even where the variable is missing; the second run its native one.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
echo "== all benchmarks (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)"
"${bench[@]}" --benchmark_out="$out/main.json" "$@"
echo "== OpenBLAS with its native kernel (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)"
# Only the OpenBLAS benchmarks of the caller's selection: their names, listed and joined into one
# filter (the benchmark's POSIX regex cannot AND two filters).
mapfile -t native < <("${bench[0]}" --benchmark_list_tests "$@" | grep openblas || true)
if ((${#native[@]})); then
  filter="^($(IFS='|'; echo "${native[*]}"))\$"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${bench[@]}" "$@" \
      --benchmark_out="$out/openblas_native.json" --benchmark_filter="$filter"
else
  rm -f "$out/openblas_native.json"
  echo "(none selected)"
fi
echo "== peak resident memory, (1,16,4096,4096,128)"
: > "$out/memory.txt"
for impl in cpuattn cpuattn_composed onednn; do
  "$build/perf/cpuattn_peak_memory" $impl 1 16 4096 128 | tee -a "$out/memory.txt"
done
python3 "$root/perf/report.py" "$out" | tee "$out/report.md"
