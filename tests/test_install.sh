#!/usr/bin/env bash
# tests/test_install.sh BUILD_DIR SOURCE_DIR: installs plast into a temporary prefix and builds the example against
# it through pkg-config: float32 and float64, shared and static.
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0
failed=0
check() { local what=$1; shift; if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi; }

check "cmake --install" cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name plast.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir plast)
check "headers installed" test -f "$prefix/include/plast.h" -a -f "$prefix/include/plast/tape.h"
for variant in plast plast64; do
  check "$variant shared build" cc -std=c11 -o "$prefix/ex_$variant" "$src/examples/grad_of_grad.c" \
    $(pkg-config --cflags --libs $variant)
  out=$(LD_LIBRARY_PATH=$libdir "$prefix/ex_$variant")
  check "$variant shared run: $out" grep -q "d|g|^2/dw" <<<"$out"
  check "$variant static build" cc -std=c11 -o "$prefix/ex_${variant}_static" "$src/examples/grad_of_grad.c" \
    $(pkg-config --cflags $variant) "$libdir/lib$variant.a" $(pkg-config --static --libs-only-other --libs-only-l $variant | sed "s/-l$variant//")
  out=$("$prefix/ex_${variant}_static")
  check "$variant static run: $out" grep -q "d|g|^2/dw" <<<"$out"
done
real_bytes=$(LD_LIBRARY_PATH=$libdir "$prefix/ex_plast64" | sed -nE 's/.*\(([0-9])-byte reals\).*/\1/p')
check "plast64 works in float64 (got $real_bytes-byte reals)" test "$real_bytes" = 8
# the Python package installed with pip (no network: --no-index, Debian's setuptools) into a virtual environment,
# finding the installed library on the library path, without PLAST_LIB or PYTHONPATH; from a copy, so that the
# source tree gets no build folders
cp -r "$src/python" "$prefix/pysrc"
check "python3 -m venv" /usr/bin/python3 -m venv --system-site-packages "$prefix/venv"
check "pip install ./python" "$prefix/venv/bin/pip" install -q --no-index --no-build-isolation "$prefix/pysrc"
out=$(cd "$prefix" && env -u PLAST_LIB -u PYTHONPATH LD_LIBRARY_PATH=$libdir "$prefix/venv/bin/python" -c "
import plast
m = plast.Model(plast.Config('$src/configs/stpn/art.json'))
print(plast.__file__, m)" 2>&1)
check "the installed package imports and builds a model: $out" grep -q "venv/.*site-packages/plast/__init__.py.*stpn" <<<"$out"
echo "test_install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
