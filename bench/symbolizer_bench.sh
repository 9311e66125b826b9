#!/usr/bin/env bash
# Addresses per second: kprof's Symbolizer vs `addr2line -f -C` vs `llvm-symbolizer`, over the same
# file of addresses inside function symbols of the same binary. For each binary it
#   1. writes COUNT addresses (fixed seed) with `kprof_symbolizer_bench addresses`,
#   2. checks that the three tools name the same functions,
#   3. times each tool as a whole process over the file with hyperfine (load + symbolize + print),
#   4. times kprof's Symbolizer in process: the cold first call and warm calls.
#
#   bench/symbolizer_bench.sh [BUILD_DIR] [COUNT] [BIN...]
#     defaults: build/bench 100000, BINs = the Release kprof binary and libLLVM-14.so.1
#
# addr2line and llvm-symbolizer also look for DWARF to print file:line (and inlined frames) and
# kprof does not; see docs/benchmarks.md for what each binary carries.
set -euo pipefail

build=${1:-build/bench}
count=${2:-100000}
shift $(( $# >= 2 ? 2 : $# ))
bins=("$@")
(( ${#bins[@]} )) || bins=("$build/agent/cli/kprof" /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1)
bench=$build/bench/kprof_symbolizer_bench
[[ -x $bench ]] || { echo "missing $bench; cmake --build $build --target kprof_symbolizer_bench" >&2; exit 1; }
llvm_symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14)
seed=42

scratch=$(mktemp -d /tmp/kprof-symbolizer.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(addr2line --version | head -1); $("$llvm_symbolizer" --version | grep -m1 -i version)"
for bin in "${bins[@]}"; do
  bin=$(realpath "$bin")
  name=$(basename "$bin")
  addresses=$scratch/$name.addresses
  echo
  echo "## $bin ($(stat -c %s "$bin") bytes; sections: $(readelf -SW "$bin" | grep -oE '\.(symtab|dynsym|debug_info|debug_line)' | sort -u | tr '\n' ' '))"
  "$bench" addresses "$bin" "$count" "$seed" >"$addresses"

  # Function names only: addr2line prints "function\nfile:line", llvm-symbolizer in GNU style too.
  "$bench" symbolize "$bin" "$addresses" >"$scratch/kprof.names"
  addr2line -f -C -e "$bin" <"$addresses" | awk 'NR % 2 == 1' >"$scratch/addr2line.names"
  "$llvm_symbolizer" --obj="$bin" --output-style=GNU <"$addresses" | awk 'NR % 2 == 1' \
    >"$scratch/llvm.names"
  for tool in addr2line llvm; do
    same=$(paste -d '\t' "$scratch/kprof.names" "$scratch/$tool.names" | awk -F '\t' '$1 == $2' | wc -l)
    echo "kprof and $tool name the same function for $same of $count addresses"
  done
  unresolved=$(grep -c '^??$' "$scratch/kprof.names" || true)
  echo "kprof unresolved: $unresolved"

  hyperfine --warmup 1 --runs 5 --export-json "$scratch/$name.json" \
    -n kprof "$bench symbolize $bin $addresses > /dev/null" \
    -n addr2line "addr2line -f -C -e $bin < $addresses > /dev/null" \
    -n llvm-symbolizer "$llvm_symbolizer --obj=$bin --output-style=GNU < $addresses > /dev/null" \
    >"$scratch/$name.hyperfine" 2>&1 || { cat "$scratch/$name.hyperfine"; exit 1; }
  python3 - "$scratch/$name.json" "$count" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
count = int(sys.argv[2])
print()
print("| tool (whole process) | wall, mean ± σ | user | system | addresses/s (wall) |")
print("|---|---|---|---|---|")
for r in results:
    print(f"| {r['command']} | {r['mean'] * 1e3:,.0f} ms ± {r['stddev'] * 1e3:,.0f} ms | "
          f"{r['user'] * 1e3:,.0f} ms | {r['system'] * 1e3:,.0f} ms | {count / r['mean']:,.0f} |")
PY
  echo
  "$bench" time "$bin" "$addresses" 20
done
