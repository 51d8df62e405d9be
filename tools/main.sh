#!/usr/bin/env bash
# README command one: install what is missing, build, and run the main job: cue-reward association, plastic LSTMs
# (Hebbian and gradient-based plasticity) against a non-plastic LSTM, 2 seeds each (configs/main.json). Prints the
# comparison table; runs, table and plots go to runs/main. Running it again resumes or reuses finished runs; extra
# arguments go to plast sweep (e.g. --restart, --set sweep.seeds=4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/plast sweep configs/main.json --out runs/main "$@"
