#!/usr/bin/env bash
# tests/test_train.sh PLAST: the training workflow through the command-line tool:
#   - a run directory holds config, metrics (JSONL, CSV), checkpoints, test results and plots;
#   - a run killed with SIGKILL at an arbitrary moment and resumed ends with exactly the metrics, test result and
#     best checkpoint of an uninterrupted run with the same seed;
#   - a clean Ctrl-C (SIGINT) stops after a checkpoint and the same command resumes;
#   - plast eval retests a run, also on other task settings;
#   - a sweep trains every combination and seed and prints the table;
#   - bad configurations, run directories and checkpoints get errors naming what is wrong.
plast=$1
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PLAST_NO_TTY=1

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check <description> <command...>
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}
expect() { # expect <exit code> <text in output> <args...>
  local code=$1 text=$2; shift 2
  "$plast" "$@" >"$work/out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$work/out"; then ok; else
    fail "plast $* -> exit $rc (want $code), output lacks '$text':"; sed 's/^/    /' "$work/out"; fi
}
# metrics rows without the wall-clock column
metrics() { cut -d, -f1-7 "$1/metrics.csv"; }
# kill_after <config> <run dir>: starts the run, kills it with SIGKILL once it has written two metrics rows
kill_after() {
  "$plast" train "$1" --out "$2" --quiet >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 400); do
    [ -s "$2/metrics.csv" ] && [ "$(wc -l < "$2/metrics.csv")" -ge 3 ] && break
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

cat > "$work/cfg.json" <<'EOF'
{"task": {"name": "cuereward"},
 "model": {"family": "duan", "cell": "lstm", "hidden": 16},
 "train": {"steps": 300, "batch": 16, "lr": 3e-3, "val_every": 20, "val_batches": 2, "test_batches": 4,
           "ckpt_every": 5}}
EOF

# an uninterrupted run
expect 0 "test mse" train "$work/cfg.json" --out "$work/a" --quiet
for f in config.json metrics.jsonl metrics.csv last.safetensors best.safetensors test.json trace.csv curves.png \
         eta.png energy.png; do
  check "run directory has $f" test -s "$work/a/$f"
done
check "metrics.csv has a header, the step-0 row and one per validation" test "$(wc -l < "$work/a/metrics.csv")" -eq 17
check "metrics.jsonl has as many rows" test "$(wc -l < "$work/a/metrics.jsonl")" -eq 16
check "curves.png is a PNG" bash -c "head -c 8 '$work/a/curves.png' | od -An -c | grep -q 'P   N   G'"

# the same run killed with SIGKILL after its first checkpoints, then resumed by the same command
kill_after "$work/cfg.json" "$work/b"
rows=$(wc -l < "$work/b/metrics.csv")
check "the killed run had stopped part-way ($rows metrics lines)" test "$rows" -lt 17
expect 0 "resuming at step" train "$work/cfg.json" --out "$work/b"
check "resumed run: the same metrics as the uninterrupted one" diff <(metrics "$work/a") <(metrics "$work/b")
check "resumed run: the same test result" diff <(grep -v seconds "$work/a/test.json") <(grep -v seconds "$work/b/test.json")
check "resumed run: the same best checkpoint" cmp "$work/a/best.safetensors" "$work/b/best.safetensors"

# Ctrl-C: a clean stop after a checkpoint, then the same command finishes the run
"$plast" train "$work/cfg.json" --out "$work/c" --quiet >"$work/c.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$work/c/last.safetensors" ] && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
rc=$?
check "Ctrl-C exits with 130 and says how to resume (rc $rc)" \
  bash -c "[ $rc -eq 130 ] && grep -q 'resumes the run' '$work/c.log'"
expect 0 "test mse" train "$work/cfg.json" --out "$work/c" --quiet
check "interrupted and resumed: the same metrics" diff <(metrics "$work/a") <(metrics "$work/c")

# a finished run is not trained again; more steps continue it
expect 0 "test mse" train "$work/cfg.json" --out "$work/a" --set train.steps=320
check "continued run: validation at step 320 appended" bash -c "tail -1 '$work/a/metrics.csv' | grep -q '^320,'"

# eval: the run's own test, and another task setting (more cues) without touching test.json
expect 0 "test mse" eval "$work/b"
cp "$work/b/test.json" "$work/test_before.json"
expect 0 "8 cues" eval "$work/b" --set task.items=8
check "eval with overrides leaves test.json alone" cmp "$work/test_before.json" "$work/b/test.json"

# errors
expect 1 "was started with model.hidden = 16, but this configuration has 32" \
  train "$work/cfg.json" --out "$work/a" --set model.hidden=32
expect 0 "test mse" train "$work/cfg.json" --out "$work/a" --set model.hidden=32 --restart --set train.steps=20
expect 1 "no such file: is $work/nothing a run directory" eval "$work/nothing"
expect 1 "unknown task \"cuereword\"" train "$work/cfg.json" --out "$work/d" --set task.name=cuereword
expect 1 "key 'model.input' = 5, but task" train "$work/cfg.json" --out "$work/d" --set model.input=5
expect 1 "key 'train.engine' = \"lowrank\"" train "$work/cfg.json" --out "$work/d" --set model.family=stpn \
  --set train.engine=lowrank
expect 2 "needs a configuration file" train
printf 'garbage' > "$work/b/last.safetensors"
expect 1 "last.safetensors" train "$work/cfg.json" --out "$work/b"
expect 1 "task.data_path: $work/none" train "$work/cfg.json" --out "$work/e" --set task.name=oneshot \
  --set task.dataset=folder --set task.data_path="$work/none" --set model.encoder=conv4
expect 1 "diverged" train "$work/cfg.json" --out "$work/f" --set train.lr=10 --set train.clip=0 \
  --set train.optimizer=sgd --set train.steps=300

# a sweep: 2 combinations x 2 seeds, the table and its files
cat > "$work/sweep.json" <<'EOF'
{"task": {"name": "completion"},
 "model": {"family": "bohp", "hidden": 8, "trace_decay": 0.5},
 "train": {"steps": 60, "batch": 16, "lr": 1e-2, "val_every": 30, "val_batches": 2, "test_batches": 4},
 "sweep": {"vary": "model.rule=default,none", "seeds": 2}}
EOF
expect 0 "| rule=none" sweep "$work/sweep.json" --out "$work/s" --quiet
check "sweep: four runs" test "$(ls -d "$work"/s/*/seed* | wc -l)" -eq 4
for f in summary.md summary.csv curves.png; do check "sweep writes $f" test -s "$work/s/$f"; done
check "sweep table: 2 seeds per combination" grep -qE '\| rule=default +\| +2 \|' "$work/s/summary.md"
# --jobs 2: the same runs in two worker processes, the same table (each run is the same whatever process runs it)
expect 0 "2 at a time" sweep "$work/sweep.json" --out "$work/sj" --quiet --jobs 2
check "sweep --jobs 2: four runs" test "$(ls -d "$work"/sj/*/seed*/test.json | wc -l)" -eq 4
check "sweep --jobs 2: the same summary as one at a time" cmp "$work/s/summary.csv" "$work/sj/summary.csv"
check "sweep summary: median and quartiles" grep -q "metric_median,metric_q1,metric_q3" "$work/s/summary.csv"
# plast plot: runs no sweep made together on one chart; one label over several runs is one line (their mean)
expect 0 "3 runs in 2 lines" plot "hebbian=$work/s/rule-default/seed0" "hebbian=$work/s/rule-default/seed1" \
  "$work/s/rule-none/seed0" --out "$work/cmp.png"
check "plot: the chart is a PNG" bash -c "head -c 8 '$work/cmp.png' | od -An -c | grep -q 'P   N   G'"
expect 0 "train_metric of 1 run in 1 line" plot "$work/s/rule-none/seed0/" --column train_metric --out "$work/cmp1.png"
expect 1 "$work/s/rule-none/seed0/metrics.csv: no column 'nope'" plot "$work/s/rule-none/seed0" --column nope \
  --out "$work/cmp2.png"
expect 1 "$work/nowhere/metrics.csv" plot "$work/nowhere" --out "$work/cmp2.png"
expect 1 "no run has a value in column 'energy'" plot "$work/s/rule-none/seed0" --column energy --out "$work/cmp2.png"
check "plot: nothing written on an error" test ! -e "$work/cmp2.png"
expect 2 "--out PNG is needed" plot "$work/s/rule-none/seed0"
expect 2 "no run directories given" plot --out "$work/cmp2.png"
# a finished sweep run again keeps its runs' tests (test.json) unless the test settings changed
cp "$work/s/summary.csv" "$work/summary_first.csv"
expect 0 "test from $work/s/rule-none/seed1/test.json" sweep "$work/sweep.json" --out "$work/s"
check "sweep again: the same summary from the kept tests" cmp "$work/s/summary.csv" "$work/summary_first.csv"
expect 0 "test (best" sweep "$work/sweep.json" --out "$work/s" --set train.test_seed=99
check "sweep with another test seed: tested again" grep -q '"test_seed":[[:space:]]*99' "$work/s/rule-none/seed1/test.json"
# --collect: the table of the runs finished so far, each combination over its finished seeds, nothing trained
cp -r "$work/s" "$work/sc" && rm "$work/sc/rule-none/seed1/test.json"
expect 0 "the runs finished so far" sweep "$work/sweep.json" --out "$work/sc" --collect
check "sweep --collect: one seed of the unfinished combination" grep -qE '\| rule=none +\| +1 \|' "$work/sc/summary.md"
check "sweep --collect: both seeds of the finished one" grep -qE '\| rule=default +\| +2 \|' "$work/sc/summary.md"
check "sweep --collect: nothing trained" test ! -e "$work/sc/rule-none/seed1/test.json"
expect 2 "--jobs needs a count from 1 to 64" sweep "$work/sweep.json" --jobs 0
expect 1 "sweep.vary: value 'stpn' of 'model.family+model.hidden' needs 2 parts" sweep "$work/sweep.json" \
  --out "$work/s2" --set 'sweep.vary=model.family+model.hidden=stpn'

# reinforcement learning: a small maze run has the same directory, resumes exactly after SIGKILL and is tested
cat > "$work/maze.json" <<'EOF'
{"rl": {"algorithm": "a2c", "burn_in": 2},
 "env": {"name": "maze", "size": 7, "episode_length": 30},
 "model": {"family": "stpn", "hidden": 12, "norm": "post", "clamp": 1},
 "train": {"steps": 40, "batch": 16, "optimizer": "adam", "lr": 3e-3, "eps": 1e-4, "amsgrad": false, "clip": 4,
           "val_every": 10, "val_batches": 1, "test_batches": 2, "test_on": "last", "ckpt_every": 3}}
EOF
expect 0 "test reward" train "$work/maze.json" --out "$work/ra" --quiet
for f in config.json metrics.csv last.safetensors test.json trace.csv curves.png energy.png; do
  check "RL run directory has $f" test -s "$work/ra/$f"
done
check "RL test.json has the reward, the energy and a random agent's reward" \
  bash -c "grep -q '\"metric_name\":.*\"reward\"' '$work/ra/test.json' && grep -q '\"energy\"' '$work/ra/test.json' && grep -q chance_metric '$work/ra/test.json'"
kill_after "$work/maze.json" "$work/rb"
rows=$(wc -l < "$work/rb/metrics.csv")
check "the killed RL run had stopped part-way ($rows metrics lines)" test "$rows" -lt 6
expect 0 "resuming at step" train "$work/maze.json" --out "$work/rb"
check "resumed RL run: the same metrics" diff <(metrics "$work/ra") <(metrics "$work/rb")
check "resumed RL run: the same test result" diff <(grep -v seconds "$work/ra/test.json") <(grep -v seconds "$work/rb/test.json")
expect 1 "odd side" train "$work/maze.json" --out "$work/rc" --set env.size=8

# PPO on MuJoCo's pendulum: the quick config balances the pole (a random force lasts about 5 steps; the limit is
# 1,000); a recurrent STPNf run resumes exactly after SIGKILL, the learner's episodes and states included
src=$(cd "$(dirname "$0")/.." && pwd)
expect 0 "test reward" train "$src/configs/stpn/pendulum_quick.json" --out "$work/pa" --quiet
reward=$(sed -n 's/.*"metric":[[:space:]]*\([0-9.e+-]*\).*/\1/p' "$work/pa/test.json")
# a run that cannot fit in memory is refused at once, naming the keys that size it and the estimate
expect 1 "from model.hidden = 20000" train "$src/configs/duan/cuereward.json" --out "$work/big" --set model.hidden=20000
expect 1 "the state of train.batch = 1000000 trials" train "$src/configs/duan/cuereward.json" --out "$work/big" --set train.batch=1000000
expect 0 "not measured" info "$src/configs/duan/cuereward.json" --set model.hidden=20000
# a trial long enough that the low-rank path's buffers for backpropagation cannot fit (its O(T^2) history: about
# 720 GB at a delay of 3,000), although parameters and state would; auto takes the dense path there (O(T) work,
# checkpoints every sqrt(T) steps: 7.6 GB)
expect 1 "the lowrank path's buffers for backpropagation over 3040 steps" train "$src/configs/duan/copy_long.json" \
  --out "$work/long-trial" --set task.delay=3000 --set train.engine=lowrank
expect 0 "the dense path's buffers (what training holds)" info "$src/configs/duan/copy_long.json" --set task.delay=3000
expect 0 "the fused path's buffers (what training holds)" info "$src/configs/stpn/maze.json"
# eval with overrides that change the model says so (eval has no --restart)
expect 1 "do the --set overrides change the model?" eval "$work/pa" --set model.hidden=3
check "pendulum PPO with the MLP reaches a test return of at least 900 in 60 iterations (got $reward)" \
  awk -v r="$reward" 'BEGIN { exit !(r >= 900) }'
cat > "$work/pend.json" <<'EOF'
{"rl": {"algorithm": "ppo"}, "ppo": {"steps": 256, "epochs": 2},
 "env": {"name": "pendulum"},
 "model": {"family": "stpn", "variant": "f", "hidden": 16, "norm": "none", "clamp": 0.1},
 "train": {"steps": 24, "batch": 2, "optimizer": "adam", "lr": 3e-4, "amsgrad": false, "clip": 40,
           "val_every": 4, "val_batches": 2, "test_batches": 2, "test_on": "last", "ckpt_every": 1}}
EOF
expect 0 "test reward" train "$work/pend.json" --out "$work/pb" --quiet
kill_after "$work/pend.json" "$work/pc"
rows=$(wc -l < "$work/pc/metrics.csv")
check "the killed PPO run had stopped part-way ($rows metrics lines)" test "$rows" -lt 7
expect 0 "resuming at step" train "$work/pend.json" --out "$work/pc"
check "resumed PPO run: the same metrics" diff <(metrics "$work/pb") <(metrics "$work/pc")
check "resumed PPO run: the same test result" diff <(grep -v seconds "$work/pb/test.json") <(grep -v seconds "$work/pc/test.json")
# learner.csv: one row per iteration (losses, entropy, KL, clip fraction), cut back to the checkpoint on resume
check "PPO learner.csv: a header and 24 iterations" test "$(wc -l < "$work/pb/learner.csv")" -eq 25
check "PPO learner.csv: entropy and clip fraction logged" \
  awk -F, 'NR == 1 { ok = $7 == "entropy" && $10 == "clip_fraction" } NR > 1 && ($7 == "" || $10 == "") { ok = 0 } END { exit !ok }' "$work/pb/learner.csv"
check "resumed PPO run: the same learner.csv" diff "$work/pb/learner.csv" "$work/pc/learner.csv"
check "PPO run: learner.png plots it" test -s "$work/pb/learner.png"

# RLlib's A2C objective on PongLike through the PPO learner (a categorical policy, fragments across iterations):
# runs end to end with the pixel frontend and resumes exactly after SIGKILL
cat > "$work/pong.json" <<'EOF'
{"rl": {"algorithm": "ppo"},
 "ppo": {"objective": "a2c", "steps": 10, "minibatch": 10, "epochs": 1, "seq_len": 5, "lambda": 1, "kl_coef": 0,
         "adv_norm": "none", "value_coef": 0.5},
 "env": {"name": "ponglike", "max_frames": 400},
 "model": {"family": "lstm", "hidden": 8, "frontend": "mnih_conv"},
 "train": {"steps": 12, "batch": 2, "optimizer": "adam", "lr": 7e-4, "amsgrad": false, "clip": 40,
           "val_every": 3, "val_batches": 1, "test_batches": 1, "test_on": "last", "ckpt_every": 1}}
EOF
expect 0 "test reward" train "$work/pong.json" --out "$work/qa" --quiet
check "PongLike run: the description says it is not the ALE" grep -q "not the Arcade Learning Environment" "$work/qa/test.json"
kill_after "$work/pong.json" "$work/qb"
expect 0 "resuming at step" train "$work/pong.json" --out "$work/qb"
check "resumed PongLike run: the same metrics" diff <(metrics "$work/qa") <(metrics "$work/qb")
# Mnih et al.'s preprocessing: 4 stacked frames become the frontend's 4 input channels; the stacked frames are
# part of the saved environment state, so a killed run still resumes exactly
sed 's/"max_frames": 400/"max_frames": 400, "frame_stack": 4, "frame_max": true/' "$work/pong.json" > "$work/pong4.json"
expect 0 "mnih_conv frontend 84x84x4 -> 2592" train "$work/pong4.json" --out "$work/qc"
kill_after "$work/pong4.json" "$work/qd"
expect 0 "resuming at step" train "$work/pong4.json" --out "$work/qd"
check "resumed PongLike run with stacked frames: the same metrics" diff <(metrics "$work/qc") <(metrics "$work/qd")

# hardening (issue 16): one process per run directory; poisoned and out-of-range checkpoints refused with the file
# and the tensor or key named; stale temporary files removed; SIGTERM stops cleanly and resumes exactly
here=$(cd "$(dirname "$0")" && pwd)
cat > "$work/long.json" <<'EOF'
{"task": {"name": "cuereward"}, "model": {"family": "duan", "cell": "lstm", "hidden": 16},
 "train": {"steps": 100000, "batch": 16, "val_every": 20, "val_batches": 1, "ckpt_every": 5}}
EOF
"$plast" train "$work/long.json" --out "$work/lk" --quiet >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 400); do [ -s "$work/lk/metrics.csv" ] && break; sleep 0.02; done
expect 1 "in use by process $holder" train "$work/long.json" --out "$work/lk"
kill -9 "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
expect 0 "test mse" train "$work/long.json" --out "$work/lk" --quiet --set train.steps=40
# a SIGKILLed writer's temporary file goes on the next open; other files stay
touch "$work/lk/last.safetensors.tmp.AbC123" "$work/lk/notes.tmp.AbC123"
expect 0 "test mse" train "$work/long.json" --out "$work/lk" --quiet --set train.steps=40
check "a stale last.safetensors.tmp.* is removed" test ! -e "$work/lk/last.safetensors.tmp.AbC123"
check "files that are not the run's stay" test -e "$work/lk/notes.tmp.AbC123"
# poisoned parameters: refused on resume and on eval, naming the file and the tensor
cp -r "$work/lk" "$work/nan"
/usr/bin/python3 "$here/st_edit.py" "$work/nan/last.safetensors" nan "param/in_fc.w.param"
expect 1 "last.safetensors: tensor 'param/in_fc.w.param' holds a non-finite value" train "$work/long.json" --out "$work/nan" --set train.steps=60
cp -r "$work/lk" "$work/nanb"
/usr/bin/python3 "$here/st_edit.py" "$work/nanb/best.safetensors" nan "param/out_fc.b.param"
expect 1 "best.safetensors: tensor 'param/out_fc.b.param' holds a non-finite value" eval "$work/nanb"
# a damaged metrics row is reported, not dropped silently
cp -r "$work/lk" "$work/mrow"
sed -i '2s/.*/{"step": garbage/' "$work/mrow/metrics.jsonl"
expect 1 "metrics.jsonl: line 2 is not a metrics row" train "$work/long.json" --out "$work/mrow" --set train.steps=60
# progress metadata out of range
cp -r "$work/lk" "$work/neg"
/usr/bin/python3 "$here/st_edit.py" "$work/neg/last.safetensors" meta run_step -5
expect 1 "last.safetensors: metadata 'run_step' is -5, not a step count" train "$work/long.json" --out "$work/neg" --set train.steps=60
/usr/bin/python3 "$here/st_edit.py" "$work/neg/last.safetensors" meta run_step 999999999
expect 1 "the checkpoint is at step 999999999, beyond train.steps = 60" train "$work/long.json" --out "$work/neg" --set train.steps=60
cp -r "$work/lk" "$work/negb"
/usr/bin/python3 "$here/st_edit.py" "$work/negb/best.safetensors" meta run_step -5
expect 1 "metadata 'run_step' is \"-5\", not a step of this run" eval "$work/negb"
# SIGTERM is handled like Ctrl-C: the run stops at a checkpoint and resumes exactly
"$plast" train "$work/maze.json" --out "$work/tm" --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 400); do [ -s "$work/tm/metrics.csv" ] && [ "$(wc -l < "$work/tm/metrics.csv")" -ge 2 ] && break; sleep 0.02; done
kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM stops the run with status 130 (got $rc)" test "$rc" -eq 130 -o "$rc" -eq 0
expect 0 "test reward" train "$work/maze.json" --out "$work/tm"
check "a run stopped by SIGTERM resumes to the uninterrupted result" diff <(metrics "$work/ra") <(metrics "$work/tm")

# results do not depend on --threads (issue 16): the same parameters, bit for bit, after a few steps on 1, 2 and 3
# threads, for each kind of path and trainer: Duan's low-rank path, its Conv-4 front end, the fused path (STPN),
# the cell path (LSTM), the maze's A2C and the pendulum's PPO
cfgs=$here/../configs
short=(--set train.val_every=2 --set train.val_batches=1 --set train.test_batches=1 --quiet)
det() { # det <name> <config> <more args...>: trains on 1, 2 and 3 threads, compares the last checkpoints
  local name=$1 cfg=$2; shift 2
  for th in 1 2 3; do
    "$plast" train "$cfg" --out "$work/th-$name-$th" --threads "$th" "${short[@]}" "$@" >/dev/null 2>&1 ||
      fail "$name on $th threads did not train"
  done
  for th in 2 3; do
    check "$name: $th threads give the parameters of 1, bit for bit" /usr/bin/python3 "$here/st_compare.py" \
      "$work/th-$name-1/last.safetensors" "$work/th-$name-$th/last.safetensors"
  done
}
det duan-lowrank "$cfgs/duan/regression_linear.json" --set train.steps=2
det duan-conv4 "$cfgs/duan/oneshot_fashion.json" --set train.steps=2 --set train.batch=16
det stpn-fused "$cfgs/stpn/art.json" --set train.steps=3
det lstm-cell "$cfgs/stpn/art.json" --set train.steps=3 --set model.family=lstm --set model.hidden=9
det maze-a2c "$cfgs/stpn/maze_quick.json" --set train.steps=3
det pendulum-ppo "$cfgs/stpn/pendulum_quick.json" --set train.steps=2 --set model.family=stpn --set model.variant=f

# best-checkpoint selection keeps the latest of tied steps: Miconi's completion reaches a bit accuracy of 1 by step 200
# and keeps lowering its loss; the best checkpoint is the last tied step, not the first (issue 17)
"$plast" train "$cfgs/miconi/completion.json" --set train.steps=400 --set train.test_batches=4 --out "$work/tie" --quiet >/dev/null 2>&1
check "completion: validation accuracy 1 at steps 200, 300 and 400 (a tie)" \
  test "$(awk -F, 'NR > 1 && $5 == 1 {n++} END {print n}' "$work/tie/metrics.csv")" -ge 3
check "completion: the best checkpoint is the latest tied step, 400" grep -q '"step":[[:space:]]*400' "$work/tie/test.json"

# the papers' protocols in the configurations (issue 17): ART and familiarity detection over 5 seeds, Miconi et al.'s
# tasks over 20 runs; familiarity detection reports the final model, as the STPN paper does
key() { "$plast" config "$1" | awk -v k="$2" '$1 == k {print $2}'; }
for c in stpn/art stpn/cfd_R3_dataset stpn/cfd_R3_infinite stpn/cfd_R6_infinite; do
  check "$c: 5 seeds" test "$(key "$cfgs/$c.json" sweep.seeds)" = 5
  check "$c: the last parameters tested" test "$(key "$cfgs/$c.json" train.test_on)" = last
done
for c in completion oneshot_binary pattern reversal; do
  check "miconi/$c: 20 runs" test "$(key "$cfgs/miconi/$c.json" sweep.seeds)" = 20
done
# energy is a scalar of every run's test, and a column of the sweep's table
check "completion: test.json has the energy" grep -qE '"energy":[[:space:]]*[0-9]' "$work/tie/test.json"
check "the sweep's table has an energy column" grep -q '| energy' "$work/s/summary.md"

# plast reproduce: a paper's table from plast's runs (issue 17), here STPN Table 2 in a very short version: every
# cell has plast's figure beside the paper's; a second call resumes the finished sweeps instead of training again
expect 0 "stpn_table3" reproduce --list
# every table's cells name combinations their configurations' sweeps make: checked by --list and before any run
mkdir -p "$work/cfgbad" && cp -r "$cfgs"/* "$work/cfgbad/"
sed -i 's/lstm+48+1e-4/lstm+47+1e-4/' "$work/cfgbad/stpn/ponglike.json"
PLAST_CONFIGS="$work/cfgbad" expect 1 'row "LSTM 48", column "return": ' reproduce --list
PLAST_CONFIGS="$work/cfgbad" expect 1 'makes no combination "family=lstm hidden=48 lr=1e-4"' reproduce stpn_ponglike --collect
small=(--set task.length=100 --set train.test_batches=1 --set train.val_batches=1 --set train.steps=2 --set sweep.seeds=1)
expect 0 "0 without a result" reproduce stpn_table2 --quick "${small[@]}" --out "$work/rep" --quiet
check "reproduce: 18 cells, each beside the paper's" test "$(grep -o '(paper [0-9.]* +- [0-9.]*) \*\(in\|out\)\*' "$work/rep/stpn_table2.md" | wc -l)" -eq 18
check "reproduce: labelled as a quick version with its changed settings" grep -q "Quick version.*" "$work/rep/stpn_table2.md"
check "reproduce: the overrides named" grep -q '`train.steps=2`' "$work/rep/stpn_table2.md"
before=$(stat -c %Y "$work/rep/cfd_R3_dataset/family-lstm_variant-r_stp_params-synapse_hidden-21/seed0/last.safetensors")
sleep 1
expect 0 "0 without a result" reproduce stpn_table2 --quick "${small[@]}" --out "$work/rep" --quiet
check "reproduce again: the finished runs are not trained again" test "$before" = \
  "$(stat -c %Y "$work/rep/cfd_R3_dataset/family-lstm_variant-r_stp_params-synapse_hidden-21/seed0/last.safetensors")"

# the familiarity generalisation curve (Tyulmankov et al.): R = 1, 2, 3, 4, 6, ... (ceil(1.3 R)) while TPR > FPR;
# test.json has the rates
expect 0 "test bit_accuracy" train "$cfgs/stpn/cfd_R3_infinite.json" --out "$work/cfd" --quiet --set task.length=120 \
  --set train.steps=40 --set train.val_every=20 --set train.val_batches=1 --set train.test_batches=2
check "cfd test.json has the true- and false-positive rates" grep -q '"fpr"' "$work/cfd/test.json"
expect 0 "generalisation.csv" eval "$work/cfd" --curve
check "eval --curve: R from 1 by ceil(1.3 R)" test "$(cut -d, -f1 "$work/cfd/generalisation.csv" | head -6 | tr '\n' ' ')" = "R 1 2 3 4 6 "
check "eval --curve: stops where TPR <= FPR or R reaches the stream's length" /usr/bin/python3 -c "
import csv, math; rows = list(csv.DictReader(open('$work/cfd/generalisation.csv')))
last = rows[-1]; nxt = math.ceil(1.3 * int(last['R']))
assert float(last['tpr']) <= float(last['fpr']) or nxt >= 120, last
assert all(float(r['tpr']) > float(r['fpr']) for r in rows[:-1])"
check "eval --curve draws the curve" test -s "$work/cfd/generalisation.png"
expect 1 "the curve is continual familiarity detection's" eval "$work/s/rule-none/seed0" --curve

# the Miconi table: tasks as rows, medians and quartiles over runs; the paper gives no numbers, and says so
expect 0 "6 without a paper figure" reproduce miconi2016 --quick --set train.steps=3 --set train.test_batches=1 \
  --set train.val_batches=1 --out "$work/rep" --quiet --jobs 2
check "reproduce miconi2016: median [q1, q3] cells" test "$(grep -oE '\| [0-9.]+ \[[0-9.]+, [0-9.]+\]' "$work/rep/miconi2016.md" | wc -l)" -eq 6
check "reproduce miconi2016: the paper's figures named" grep -q "Figures 2-4" "$work/rep/miconi2016.md"
expect 0 "Collected from the runs already finished" reproduce miconi2016 --quick --out "$work/rep" --collect
check "reproduce --collect: the same cells, nothing trained" test "$(grep -oE '\| [0-9.]+ \[[0-9.]+, [0-9.]+\]' "$work/rep/miconi2016.md" | wc -l)" -eq 6
expect 0 "no result" reproduce stpn_table1 --quick --out "$work/rep" --collect
expect 0 "duan_table2_rnn" reproduce --list
# a figure: Duan's copying error against the sequence length, one curve per model, tiny runs
expect 0 "30 without a paper figure" reproduce duan_copy_length --quick --set train.steps=2 --set train.test_batches=1 \
  --set train.val_batches=1 --set model.hidden=8 --set sweep.seeds=1 --set train.batch=4 --out "$work/rep" --quiet --jobs 2
check "reproduce duan_copy_length: six models by five lengths" test "$(grep -c '^| [LR][SN]' "$work/rep/duan_copy_length.md")" -eq 6
check "reproduce duan_copy_length: the figure" test -s "$work/rep/duan_copy_length.png"
# collected with 2 seeds planned and 1 run: each cell says so once
expect 0 "Collected from the runs already finished" reproduce duan_copy_length --quick --set train.steps=2 \
  --set train.test_batches=1 --set train.val_batches=1 --set model.hidden=8 --set sweep.seeds=2 --set train.batch=4 \
  --out "$work/rep" --collect
check "reproduce --collect: a cell short of its seeds says (1 of 2 seeds)" grep -q "(1 of 2 seeds)" "$work/rep/duan_copy_length.md"
check "reproduce --collect: and not also (1 seed)" sh -c "! grep -q '1 seed)' '$work/rep/duan_copy_length.md'"

echo "test_train: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
