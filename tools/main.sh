#!/usr/bin/env bash
# README command one: install what is missing, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/plast demo configs/demo.json "$@"
