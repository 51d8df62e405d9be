#!/usr/bin/env bash
# README command two: install what is missing, build, and run the whole test suite: every test in the release
# build, then the unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer, then a fixed number of
# executions of every libFuzzer harness (fuzz/, built with clang). Ends with one line "N passed, N failed" and exits
# non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh test || exit 1
jobs=$(nproc)
passed=0
failed=0

run_tree() { # run_tree <build dir> <cmake options> -- <ctest options>
  local dir=$1; shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  echo "== $dir: configure and build"
  if ! { cmake -S . -B "$dir" "${opts[@]}" >/dev/null && cmake --build "$dir" -j"$jobs" >/dev/null; }; then
    cmake --build "$dir" -j1 2>&1 | tail -30
    echo "build of $dir failed"
    failed=$((failed + 1))
    return
  fi
  echo "== $dir: ctest $*"
  local log
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "ctest in $dir gave no summary"
    failed=$((failed + 1))
  else
    local f t
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    t=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
    passed=$((passed + t - f))
    failed=$((failed + f))
  fi
  rm -f "$log"
}

start=$(date +%s)
run_tree build -DCMAKE_BUILD_TYPE=Release -- -j"$jobs"
run_tree build-asan -DCMAKE_BUILD_TYPE=Debug -DPLAST_SANITIZE=ON -- -j"$jobs" -L unit
run_tree build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DPLAST_FUZZ=ON -- -j"$jobs" -L fuzz
echo "test suite took $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
