// One binary for the whole suite; pick parts with --benchmark_filter (scripts/perf.sh does).
#include "bench_util.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  cpuattn::perf::add_run_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
