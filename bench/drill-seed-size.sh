#!/usr/bin/env bash
# The embedded drill at scale against the same steps as a plain shell script, both with the
# same generated rows (`--seed-size` / SEED_SIZE), RUNS times each, alternating (after
# `npm run build`). Prints a Markdown table for docs/benchmarks.md.
#   RUNS=1 SIZES="10MB 100MB 1GB" bench/drill-seed-size.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-1}
sizes=${SIZES:-10MB 100MB 1GB}
time_ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| seed | plain shell (median s) | harness (median s) | harness ÷ plain | samples ms (plain; harness) |"
echo "|---|---|---|---|---|"
for size in $sizes; do
  plain= harness=
  for _ in $(seq 1 "$runs"); do
    plain+="$(SEED_SIZE=$size time_ms bench/plain-drill.sh) "
    harness+="$(time_ms node bin/atocore-drill.js drill --include-chroma --seed-size "$size" --timeout 30m) "
  done
  p=$(median "$plain"); h=$(median "$harness")
  awk -v s="$size" -v p="$p" -v h="$h" -v ps="$plain" -v hs="$harness" 'BEGIN {printf "| %s | %.1f | %.1f | %.2f× | %s; %s |\n", s, p/1000, h/1000, h/p, ps, hs}'
done
