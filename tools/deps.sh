#!/usr/bin/env bash
# Installs the Debian packages plast needs, only those missing; safe to run any number of times.
#   tools/deps.sh build   what building and running needs
#   tools/deps.sh test    that, plus what the test suite needs
#   tools/deps.sh bench   that, plus the benchmarks' PyTorch peers (python3-torch, about 1 GB; never a dependency
#                         of plast itself)
set -euo pipefail

# libopenblas-openmp-dev: the OpenMP build of OpenBLAS, which shares plast's thread pool (see CMakeLists.txt);
# libstb-dev: PNG plots and image decoding; zlib1g-dev: gzip'd IDX data; dataset-fashion-mnist: the one-shot
# image task's default data (30 MB); libmujoco-dev: MuJoCo 2.2.2 for the inverted pendulum (2 MB);
# libopenmpi-dev, openmpi-bin: sweeps over MPI ranks (mpirun)
BUILD_PKGS=(build-essential cmake pkg-config libopenblas-openmp-dev libcjson-dev libstb-dev zlib1g-dev
  dataset-fashion-mnist libmujoco-dev libopenmpi-dev openmpi-bin)
# clang, libclang-rt-14-dev: libFuzzer for the fuzzing harnesses of fuzz/ (a smoke run in the test suite)
# python3-venv, python3-pip, python3-setuptools: `pip install ./python` in a virtual environment (test_install.sh)
TEST_PKGS=(python3-numpy python3-pytest python3-matplotlib clang libclang-rt-14-dev python3-venv python3-pip
  python3-setuptools)

BENCH_PKGS=(python3-torch)

want=("${BUILD_PKGS[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${TEST_PKGS[@]}") ;;
  bench) want+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
  *) echo "usage: tools/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "tools/deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
