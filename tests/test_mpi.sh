#!/usr/bin/env bash
# tests/test_mpi.sh: the command-line tool under Open MPI (mpirun, as the README's build installs it): a sweep spread
# over 2 and 3 ranks gives the serial sweep's table; a rerun finds every run finished; a run failing on one rank
# ends every rank with a non-zero status instead of a hang; commands that do not spread over ranks say so.
# Usage: tests/test_mpi.sh path/to/plast
set -u
plast=$1
passed=0
failed=0
check() { # check <description> <command...>
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
if ! command -v mpirun >/dev/null; then
  echo "FAIL: mpirun not found (tools/deps.sh installs openmpi-bin)"; exit 1
fi
if ! "$plast" --version | grep -q " with MPI"; then
  echo "FAIL: this plast was built without MPI (libopenmpi-dev)"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
mpi() { timeout 300 mpirun --allow-run-as-root --oversubscribe -np "$@"; }

cat > "$work/sweep.json" <<'JSON'
{"task": {"name": "completion"},
 "model": {"family": "bohp", "hidden": 8, "trace_decay": 0.5},
 "train": {"steps": 40, "batch": 16, "lr": 1e-2, "val_every": 20, "val_batches": 2, "test_batches": 4},
 "sweep": {"vary": "model.rule=default,none", "seeds": 3}}
JSON
"$plast" sweep "$work/sweep.json" --out "$work/serial" --quiet >/dev/null 2>&1
check "serial sweep" test -s "$work/serial/summary.md"
for np in 2 3; do
  mpi "$np" "$plast" sweep "$work/sweep.json" --out "$work/mpi$np" --quiet > "$work/mpi$np.txt" 2>&1
  check "sweep over $np ranks exits 0" test $? -eq 0
  check "sweep over $np ranks: every run directory has its test" test "$(ls "$work"/mpi$np/*/seed*/test.json | wc -l)" -eq 6
  check "sweep over $np ranks: the serial sweep's table" diff <(grep '^|' "$work/serial/summary.md") <(grep '^|' "$work/mpi$np/summary.md")
  check "sweep over $np ranks: rank 0 alone prints the table" test "$(grep -c '^| rule=none' "$work/mpi$np.txt")" -eq 1
done
# a rerun: every run is finished; the table is the same
mpi 2 "$plast" sweep "$work/sweep.json" --out "$work/mpi2" --quiet > "$work/rerun.txt" 2>&1
check "rerun over 2 ranks: the same table" diff <(grep '^|' "$work/serial/summary.md") <(grep '^|' "$work/mpi2/summary.md")

# one run fails (its directory holds another configuration): every rank ends, non-zero, within the timeout
mkdir -p "$work/fail/rule-none/seed1"
printf '{"model": {"family": "stpn"}}\n' > "$work/fail/rule-none/seed1/config.json"
start=$(date +%s)
mpi 3 "$plast" sweep "$work/sweep.json" --out "$work/fail" --quiet > "$work/fail.txt" 2>&1
rc=$?
check "a failing run ends the MPI sweep with a non-zero status (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "the failure's message is printed" grep -q "was started with" "$work/fail.txt"
check "no hang: ended in $(( $(date +%s) - start )) s" test $(( $(date +%s) - start )) -lt 120

# train does not spread over ranks yet: it says so on every rank and stops
mpi 2 "$plast" train "$work/sweep.json" --out "$work/t" --quiet > "$work/train.txt" 2>&1
rc=$?
check "train under 2 ranks stops with a message (status $rc)" bash -c "[ $rc -ne 0 ] && grep -q 'only plast sweep spreads over ranks' '$work/train.txt'"

echo "test_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
