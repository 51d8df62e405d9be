#!/usr/bin/env bash
# Long fuzzing campaigns of plast's loaders (fuzz/): tools/fuzz.sh [SECONDS] [HARNESS...]
# Builds the clang tree build-fuzz, writes the seed corpus, then runs each harness (all by default) for SECONDS
# (600) on one core, keeping what it finds interesting in build-fuzz/fuzz/corpus/<harness>. A crash leaves its input
# as build-fuzz/fuzz/crash-* (or oom-*, leak-*, timeout-*): fix it, then copy it to fuzz/regressions/<harness>/,
# where the test suite's smoke run replays it. Prints each harness's executions, coverage and findings.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(safetensors checkpoint config idx cifar folder)
bash tools/deps.sh test
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DPLAST_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
cd build-fuzz/fuzz
./fuzz-seeds corpus ../../configs
status=0
for h in "${harnesses[@]}"; do
  log="fuzz_$h.log"
  if ./fuzz_"$h" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       "corpus/$h" "../../fuzz/regressions/$h" >"$log" 2>&1; then verdict="nothing found"; else verdict="FOUND (see $log)"; status=1; fi
  execs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
  cov=$(grep -E "#[0-9]+.*cov:" "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
  echo "$h: ${execs:-?} executions in $secs s, coverage ${cov:-?} edges, corpus $(ls "corpus/$h" | wc -l) inputs: $verdict"
done
exit $status
