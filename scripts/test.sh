#!/usr/bin/env bash
# Builds cpuattn and runs every test (ctest). Environment knobs (used by CI):
#   CPUATTN_THREADING=TBB|OMP|STD   threading runtime (default TBB; STD for ThreadSanitizer)
#   CPUATTN_SANITIZE=address|thread   sanitizer build
#   CPUATTN_SHARED=ON|OFF       shared or static library (default ON)
#   CPUATTN_TEST_FILTER=regex   only the ctest tests matching it
#   CPUATTN_PERF=ON|OFF         also build the perf suite (default ON: it must keep compiling)
#   BUILD_DIR=path              build directory (default build-test[-<variant>])
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" test
threading=${CPUATTN_THREADING:-TBB}
sanitize=${CPUATTN_SANITIZE:-}
shared=${CPUATTN_SHARED:-ON}
suffix=$(echo "-$threading-$sanitize-$shared" | tr 'A-Z' 'a-z' | sed 's/--/-/g')
build=${BUILD_DIR:-$root/build-test$suffix}
build_type=Release
[[ -n $sanitize ]] && build_type=RelWithDebInfo
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=$build_type -DCPUATTN_WERROR=ON \
      -DCPUATTN_THREADING="$threading" -DCPUATTN_SANITIZE="$sanitize" -DBUILD_SHARED_LIBS="$shared" \
      -DCPUATTN_BUILD_PERF="${CPUATTN_PERF:-ON}"
cmake --build "$build" -j "$(nproc)"
args=(--output-on-failure -j "$(nproc)")
[[ -n ${CPUATTN_TEST_FILTER:-} ]] && args+=(-R "$CPUATTN_TEST_FILTER")
cd "$build" && ctest "${args[@]}"
