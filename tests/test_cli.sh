#!/usr/bin/env bash
# tests/test_cli.sh PLAST: the command-line tool: help, errors with clear messages and exit codes, and the demo
# learning (its validation loss must end well below chance).
plast=$1
passed=0
failed=0
check() { # check <description> <command...>: the command must succeed
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
out=$(mktemp)
trap 'rm -f "$out" /tmp/plast_cli_$$.json' EXIT

expect() { # expect <exit code> <text in output> <args...>
  local code=$1 text=$2; shift 2
  "$plast" "$@" >"$out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: plast $* -> exit $rc (want $code), output lacks '$text':"
    sed 's/^/    /' "$out"
  fi
}

expect 0 "usage: plast COMMAND" help
expect 0 "usage: plast demo" help demo
expect 2 "unknown command 'frob'" frob
expect 0 "plast 0." version
expect 0 "BLAS" info
expect 2 "unknown option '--bogus'" demo --bogus
expect 1 "unknown key 'train.stepz' (did you mean 'train.steps'?)" demo --set train.stepz=3
expect 1 "key 'train.lr' expects a finite number, got \"abc\"" demo --set train.lr=abc
expect 1 "key 'train.batch' = 0 is out of range" demo --set train.batch=0
expect 1 "nonexistent.json: cannot open" demo nonexistent.json
printf '{"train": {"steps": 10,}}' > /tmp/plast_cli_$$.json
expect 1 "plast_cli_$$.json:1:" demo /tmp/plast_cli_$$.json
printf '{"train": {"steps": "ten"}}' > /tmp/plast_cli_$$.json
expect 1 "key 'train.steps' expects an integer, got a string \"ten\"" demo /tmp/plast_cli_$$.json
expect 2 "--threads needs a count" demo --threads zero
# model keys of one family (help "stpn: ...") are errors for another, unless model.family is overridden (then the
# others' keys return to their defaults) or the file is a sweep's base over families (docs/TRAINING.md, "Keys of one
# model family")
cfgs="$(dirname "$0")/../configs"
expect 1 "key 'model.fw_lr' is 0.3, but it applies to fastweights only and model.family is \"stpn\"" \
  info "$cfgs/stpn/maze_quick.json" --set model.fw_lr=0.3
printf '{"model": {"family": "lstm", "norm": "post"}}' > /tmp/plast_cli_$$.json
expect 1 "key 'model.norm' is post, but it applies to stpn only" info /tmp/plast_cli_$$.json
expect 0 "model: lstm, rule none, H=55" info "$cfgs/stpn/maze_quick.json" --set model.family=lstm
expect 0 "post" config "$cfgs/stpn/maze_quick.json"
expect 1 "key 'model.norm' is post" info "$cfgs/stpn/maze_quick.json" --set model.family=lstm --set model.norm=post
"$plast" config "$cfgs/stpn/maze_quick.json" --set model.family=lstm >"$out" 2>&1
check "a change of model.family returns model.norm to its default" grep -qE '^model.norm +pre ' "$out"
expect 0 "model: fastweights" info "$cfgs/stpn/art.json" --set model.family=fastweights
"$plast" config "$cfgs/stpn/art.json" --set model.family=fastweights >"$out" 2>&1
check "a sweep's base keeps each family's keys for that family" grep -qE '^model.fw_double_update +true ' "$out"
"$plast" config "$cfgs/stpn/art.json" >"$out" 2>&1
check "... and drops them for another" grep -qE '^model.fw_double_update +false ' "$out"
"$plast" config "$cfgs/stpn/ponglike_clean.json" --set env.name=maze >"$out" 2>&1
check "a change of env.name returns env.frame_stack to its default" grep -qE '^env.frame_stack +1 ' "$out"
expect 0 "model: stpn, rule hebbian, H=64 I=17 O=5" info "$cfgs/stpn/ponglike_clean.json" --set env.name=maze \
  --set model.frontend=none
# the environments' throughput cases of plast bench (frames per second, docs/PERFORMANCE.md)
expect 0 "env_ponglike_mnih" bench --list
expect 2 "unknown case 'env_nosuch'" bench --case env_nosuch
expect 0 '"case": "env_maze", "copies": 64' bench --case env_maze --json
rate=$(sed -n 's/.*"frames_per_s": \([0-9.e+]*\).*/\1/p' "$out")
check "bench env_maze steps the maze: $rate frames/s" awk -v r="$rate" 'BEGIN { exit !(r > 1000) }'

# every shipped configuration resolves: its keys load and its model (and environment) build, so a config cannot rot
# unnoticed; configurations whose data is not in the repository may fail only on that data, naming the file
for f in "$(dirname "$0")"/../configs/*/*.json; do
  if "$plast" info "$f" >"$out" 2>&1 || grep -qE "task\.data_path.*cannot open" "$out"; then passed=$((passed + 1))
  else failed=$((failed + 1)); echo "FAIL: plast info $f:"; sed 's/^/    /' "$out"; fi
done

# the demo learns: validation loss well below chance (the tool prints the verdict from the numbers)
expect 0 "learned to learn" demo --quiet --set train.steps=1200
loss=$(sed -nE 's/^validation loss ([0-9.]+) .*/\1/p' "$out")
check "demo validation loss $loss is below a third of chance (0.111)" awk -v l="$loss" 'BEGIN { exit !(l < 0.111) }'

# an address space too small for OpenBLAS (ulimit -v): a message naming the limit, at once (it used to wait forever
# in OpenBLAS's library constructor, before main; issue 16, item 5)
start=$(date +%s)
(ulimit -v 100000; timeout -s KILL 60 "$plast" train "$(dirname "$0")/../configs/duan/cuereward.json" --set train.steps=1 --out "$out.d" --quiet) >"$out" 2>&1
rc=$?
check "ulimit -v 100000: exit 1 with a message (status $rc)" bash -c "[ $rc -eq 1 ] && grep -q 'ulimit -v' '$out'"
check "ulimit -v 100000: no wait (ended in $(( $(date +%s) - start )) s)" test $(( $(date +%s) - start )) -lt 30
rm -rf "$out.d"

# eval on a run whose files cannot be written (test.json made a directory: as root a read-only folder cannot be made):
# the result is printed, then the error, status 1 (it printed nothing before)
rd=$(mktemp -d)
"$plast" train "$(dirname "$0")/../configs/duan/cuereward.json" --set train.steps=2 --set train.val_every=1 \
  --set train.test_batches=2 --out "$rd/r" --quiet >/dev/null 2>&1
rm -f "$rd/r/test.json" && mkdir "$rd/r/test.json"
"$plast" eval "$rd/r" >"$out" 2>&1
rc=$?
check "eval on an unwritable run: its result, then the error (status $rc)" \
  bash -c "[ $rc -eq 1 ] && grep -q 'test mse' '$out' && grep -q 'test.json: write failed' '$out'"
rm -rf "$rd"

echo "test_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
