#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time.
# KPROF_FUZZ_SECONDS (default 30) per target. Exits non-zero on the first crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${KPROF_FUZZ_SECONDS:-30}
build=build/fuzz

cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKPROF_FUZZ=ON -DKPROF_TESTS=OFF -DKPROF_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzzers

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
while read -r binary seeds; do
  [[ -n "$binary" ]] || continue
  name=$(basename "$binary")
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [[ -d "$seeds" ]]; then
    cp -r "$seeds"/. "$corpus"/
  fi
  echo "fuzz: $name for ${seconds}s"
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/$name-" "$corpus" >"$work/$name.log" 2>&1; then
    grep -E "stat::number_of_executed_units" "$work/$name.log" | sed "s/^/fuzz: $name: /" || true
  else
    echo "fuzz: $name FAILED; last lines of its log:" >&2
    tail -40 "$work/$name.log" >&2
    mkdir -p build/fuzz-artifacts && cp "$work/$name-"* build/fuzz-artifacts/ 2>/dev/null || true
    status=1
  fi
done <"$build/fuzz-targets.txt"
exit $status
