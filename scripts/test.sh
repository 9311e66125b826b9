#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, runs the fuzz targets for a
# bounded time, then builds with ASan+UBSan and runs every ctest test (unit, integration,
# privileged, e2e). Privileged tests skip with a message when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

echo "== fuzz targets (clang, libFuzzer, ${KPROF_FUZZ_SECONDS:-30}s each)"
./scripts/fuzz.sh

echo "== build (g++ 12, ASan+UBSan, -O1 -g1)"
# -O1 with line tables only: what the sanitizers are documented to need (readable stacks, no
# false positives), at half the compile time of -O2 -g on these two cores.
cmake -S . -B build/test -G Ninja -DKPROF_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
cmake --build build/test

echo "== tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/test --output-on-failure -j"$(nproc)" "$@"
