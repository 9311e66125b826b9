#!/usr/bin/env bash
# The main job from a fresh clone: installs dependencies, builds kprof (Release), profiles the
# bundled demo workload with `kprof record`, prints its top functions and where the flame graph is.
# Run as root for the eBPF engine; otherwise kprof falls back to perf_event sampling.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

echo "== build (Release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKPROF_TESTS=OFF \
  -DKPROF_BENCH=OFF >/dev/null
cmake --build build/release --target kprof kprof-demo-workload

echo "== kprof record -- kprof-demo-workload 5"
./build/release/agent/cli/kprof record -F 99 -o kprof-out \
  -- ./build/release/agent/demo/kprof-demo-workload 5
echo
echo "Open kprof-out/cpu.html in a browser for the interactive flame graph;"
echo "kprof-out/cpu.pb.gz opens in 'go tool pprof' and Pyroscope."
