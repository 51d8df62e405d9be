#!/usr/bin/env bash
# tests/test_mpi.sh: the command-line tool under Open MPI (mpirun, as the README's build installs it): a sweep spread
# over 2 and 3 ranks gives the serial sweep's table; a rerun finds every run finished; a run failing on one rank
# ends every rank with a non-zero status instead of a hang; commands that do not spread over ranks say so.
# Data-parallel training (plast train under mpirun) in float64: 2 and 3 ranks give the 1-rank run's metrics and
# parameters with the same global batch (supervised, maze A2C, maze PPO with a recurrent agent), and a checkpoint
# written by 2 ranks resumes with 1 (PPO's learner state too). With test_mpi_replicas (built with MPI): processes
# that initialise differently start from rank 0's parameters, a changed value on one process is seen by every
# process's replica check, and processes that trained together hold identical parameters.
# Usage: tests/test_mpi.sh path/to/plast path/to/plast64 [path/to/test_mpi_replicas]
set -u
plast=$1
plast64=${2:-}
replicas=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
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

# data-parallel training, float64: the same global batch over 1, 2 and 3 ranks gives the same run (measured: 9e-17
# relative in the parameters and Adam's moments after 20 steps); a 2-rank checkpoint resumes with 1 rank
cat > "$work/dp.json" <<'JSON'
{"task": {"name": "cuereward"},
 "model": {"family": "duan", "cell": "lstm", "hidden": 8},
 "train": {"steps": 20, "batch": 12, "lr": 3e-3, "val_every": 10, "val_batches": 2, "test_batches": 2, "ckpt_every": 5}}
JSON
metrics() { cut -d, -f1,2,4 "$1/metrics.csv"; }
"$plast64" train "$work/dp.json" --out "$work/dp1" --quiet >/dev/null 2>&1
check "1-rank training run" test -s "$work/dp1/test.json"
for np in 2 3; do
  mpi "$np" "$plast64" train "$work/dp.json" --out "$work/dp$np" --quiet > "$work/dp$np.txt" 2>&1
  check "training over $np ranks exits 0" test $? -eq 0
  check "training over $np ranks: the 1-rank parameters and optimizer state (1e-12 relative)" \
    /usr/bin/python3 "$here/st_compare.py" "$work/dp1/last.safetensors" "$work/dp$np/last.safetensors" 1e-12
  check "training over $np ranks: the 1-rank validation losses" \
    /usr/bin/python3 -c "import sys, csv; a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:]); \
sys.exit(0 if len(a) == len(b) and all(abs(float(x['val_loss']) - float(y['val_loss'])) < 1e-12 for x, y in zip(a, b)) else 1)" \
    "$work/dp1/metrics.csv" "$work/dp$np/metrics.csv"
  check "training over $np ranks: the 1-rank test loss, metric and traces of energy and eta (each rank testing its share, 1e-12)" \
    /usr/bin/python3 -c "import sys, json, csv; a, b = (json.load(open(f + '/test.json')) for f in sys.argv[1:]); \
c, d = (list(csv.DictReader(open(f + '/trace.csv'))) for f in sys.argv[1:]); \
close = lambda x, y: (x == y == '') or abs(float(x) - float(y)) <= 1e-12 * (1 + abs(float(x))); \
sys.exit(0 if close(a['loss'], b['loss']) and close(a['metric'], b['metric']) and len(c) == len(d) \
and all(close(x[k], y[k]) for x, y in zip(c, d) for k in ('energy', 'eta_mean', 'eta_std')) else 1)" "$work/dp1" "$work/dp$np"
  check "training over $np ranks: rank 0 alone reports" test "$(grep -c 'test mse' "$work/dp$np.txt")" -eq 1
done
mpi 2 "$plast64" train "$work/dp.json" --out "$work/dpr" --quiet --set train.steps=10 >/dev/null 2>&1
"$plast64" train "$work/dp.json" --out "$work/dpr" --quiet >/dev/null 2>&1
check "a 2-rank checkpoint resumed by 1 rank ends as the 1-rank run" \
  /usr/bin/python3 "$here/st_compare.py" "$work/dp1/last.safetensors" "$work/dpr/last.safetensors" 1e-12
# ranks given different configurations (another learning rate on rank 1, an MPMD launch) are refused at the start,
# on every rank, within the timeout
start=$(date +%s)
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 1 "$plast64" train "$work/dp.json" --out "$work/dpc" --quiet : \
  -np 1 "$plast64" train "$work/dp.json" --out "$work/dpc" --quiet --set train.lr=0.01 > "$work/dpc.txt" 2>&1
rc=$?
check "ranks with different configurations are refused (status $rc)" bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'another configuration' '$work/dpc.txt'"
check "no hang: ended in $(( $(date +%s) - start )) s" test $(( $(date +%s) - start )) -lt 120
mpi 3 "$plast64" train "$work/dp.json" --out "$work/dpb" --quiet --set train.batch=8 > "$work/dpb.txt" 2>&1
rc=$?
check "a global batch that 3 ranks cannot share is refused (status $rc)" bash -c "[ $rc -ne 0 ] && grep -q \"train.batch' = 8\" '$work/dpb.txt'"
# data-parallel A2C (the maze, per-element baseline): environments split by global copy index, the same run
cat > "$work/maze.json" <<'JSON'
{"rl": {"algorithm": "a2c", "burn_in": 2, "baseline": "per_element"},
 "env": {"name": "maze", "size": 7, "episode_length": 30},
 "model": {"family": "stpn", "hidden": 12, "norm": "post", "clamp": 1},
 "train": {"steps": 12, "batch": 12, "optimizer": "adam", "lr": 3e-3, "eps": 1e-4, "amsgrad": false, "clip": 4,
           "val_every": 6, "val_batches": 1, "test_batches": 2, "test_on": "last", "ckpt_every": 3}}
JSON
"$plast64" train "$work/maze.json" --out "$work/mz1" --quiet >/dev/null 2>&1
for np in 2 3; do
  mpi "$np" "$plast64" train "$work/maze.json" --out "$work/mz$np" --quiet >/dev/null 2>&1
  check "maze A2C over $np ranks: the 1-rank parameters (1e-12 relative)" \
    /usr/bin/python3 "$here/st_compare.py" "$work/mz1/last.safetensors" "$work/mz$np/last.safetensors" 1e-12
  check "maze A2C over $np ranks: the 1-rank test reward and energy (1e-12 relative)" \
    /usr/bin/python3 -c "import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]); \
sys.exit(0 if all(abs(a[k] - b[k]) <= 1e-12 * (1 + abs(a[k])) for k in ('metric', 'energy', 'loss')) else 1)" \
    "$work/mz1/test.json" "$work/mz$np/test.json"
done
mpi 2 "$plast64" train "$work/maze.json" --out "$work/mz0" --quiet --set rl.baseline=element0 > "$work/mz0.txt" 2>&1
rc=$?
check "the reference's copy-0 baseline is refused under 2 ranks (status $rc)" bash -c "[ $rc -ne 0 ] && grep -q \"rl.baseline\" '$work/mz0.txt'"

# data-parallel PPO (a recurrent STPN agent on the maze: sequences replayed from recorded states, episodes that
# continue across iterations): one global sequence table and permutation, minibatches as unions of the processes'
# slices, global advantage statistics; the same run as 1 rank (measured: 1e-15 relative after 8 iterations)
cat > "$work/ppo.json" <<'JSON'
{"rl": {"algorithm": "ppo"},
 "ppo": {"steps": 16, "seq_len": 5, "minibatch": 40, "epochs": 2},
 "env": {"name": "maze", "size": 7, "episode_length": 30},
 "model": {"family": "stpn", "hidden": 12, "norm": "post", "clamp": 1},
 "train": {"steps": 8, "batch": 6, "optimizer": "adam", "lr": 3e-3, "clip": 4,
           "val_every": 4, "val_batches": 1, "test_batches": 1, "test_on": "last", "ckpt_every": 2}}
JSON
"$plast64" train "$work/ppo.json" --out "$work/pp1" --quiet >/dev/null 2>&1
check "1-rank PPO run" test -s "$work/pp1/test.json"
for np in 2 3; do
  mpi "$np" "$plast64" train "$work/ppo.json" --out "$work/pp$np" --quiet >/dev/null 2>&1
  check "PPO over $np ranks: the 1-rank parameters and optimizer state (1e-12 relative)" \
    /usr/bin/python3 "$here/st_compare.py" "$work/pp1/last.safetensors" "$work/pp$np/last.safetensors" 1e-12 learner/
  check "PPO over $np ranks: the 1-rank training losses and returns, and the test return (1e-9 relative)" \
    /usr/bin/python3 -c "import sys, csv, json; a, b = (list(csv.DictReader(open(f + '/metrics.csv'))) for f in sys.argv[1:]); \
t, u = (json.load(open(f + '/test.json')) for f in sys.argv[1:]); \
close = lambda x, y: (x == y == '') or abs(float(x) - float(y)) <= 1e-9 * (1 + abs(float(x))); \
sys.exit(0 if len(a) == len(b) and all(close(x[k], y[k]) for x, y in zip(a, b) for k in ('train_loss', 'train_metric', 'val_metric')) \
and close(t['metric'], u['metric']) else 1)" "$work/pp1" "$work/pp$np"
done
# the learner's state (episodes in progress, the agents' plastic state) written by 3 ranks, resumed by 2 and by 1
mpi 3 "$plast64" train "$work/ppo.json" --out "$work/ppr" --quiet --set train.steps=4 >/dev/null 2>&1
cp -r "$work/ppr" "$work/ppr1"
mpi 2 "$plast64" train "$work/ppo.json" --out "$work/ppr" --quiet >/dev/null 2>&1
check "a 3-rank PPO checkpoint resumed by 2 ranks ends as the 1-rank run" \
  /usr/bin/python3 "$here/st_compare.py" "$work/pp1/last.safetensors" "$work/ppr/last.safetensors" 1e-12 learner/
"$plast64" train "$work/ppo.json" --out "$work/ppr1" --quiet >/dev/null 2>&1
check "a 3-rank PPO checkpoint resumed by 1 rank ends as the 1-rank run" \
  /usr/bin/python3 "$here/st_compare.py" "$work/pp1/last.safetensors" "$work/ppr1/last.safetensors" 1e-12 learner/

# the replicas, through the library (tests/test_mpi_replicas.c), on the PPO run and on a supervised one
if [ -n "$replicas" ]; then
  for np in 2 3; do
    mkdir -p "$work/rep$np"
    mpi "$np" "$replicas" "$work/ppo.json" "$work/rep$np" > "$work/rep$np.txt" 2>&1
    rc=$?
    check "replicas over $np ranks (PPO): broadcast at the start, a changed value seen, identical after training (status $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || cat "$work/rep$np.txt"
  done
  mkdir -p "$work/repdp"
  mpi 2 "$replicas" "$work/dp.json" "$work/repdp" > "$work/repdp.txt" 2>&1
  rc=$?
  check "replicas over 2 ranks (supervised) (status $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || cat "$work/repdp.txt"
else
  echo "FAIL: no test_mpi_replicas (the build found no MPI)"; failed=$((failed + 1))
fi

mpi 2 "$plast" eval "$work/dp1" > "$work/eval.txt" 2>&1
rc=$?
check "eval under 2 ranks stops with a message (status $rc)" bash -c "[ $rc -ne 0 ] && grep -q 'run eval as one process' '$work/eval.txt'"

echo "test_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
