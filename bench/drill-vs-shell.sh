#!/usr/bin/env bash
# Times the embedded drill (atocore-drill drill --include-chroma, process runtime) against
# the same steps as a plain shell script (bench/plain-drill.sh), RUNS times each,
# alternating, and prints a Markdown table for docs/benchmarks.md. With IMAGE set, also
# the container drill of that image.
#   RUNS=5 IMAGE=atocore-drill/standin:level-1 bench/drill-vs-shell.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-5}
export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
declare -A samples
time_ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
kinds=(plain embedded)
[ -n "${IMAGE:-}" ] && kinds+=(container)
for i in $(seq 1 "$runs"); do
  samples[plain]+="$(time_ms bench/plain-drill.sh) "
  samples[embedded]+="$(time_ms node bin/atocore-drill.js drill --include-chroma) "
  [ -n "${IMAGE:-}" ] && samples[container]+="$(time_ms node bin/atocore-drill.js drill --include-chroma --image "$IMAGE") "
done
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1; s+=$1} END {printf "%d %d %d\n", s/NR, a[1], a[int((NR+1)/2)]}'; }
read -r plain_mean _ plain_median < <(stats "${samples[plain]}")
echo "| run | mean ms | min ms | median ms | median vs plain shell |"
echo "|---|---|---|---|---|"
for kind in "${kinds[@]}"; do
  read -r mean min median < <(stats "${samples[$kind]}")
  ratio=$(awk -v a="$median" -v b="$plain_median" 'BEGIN {printf "%.2f×", a/b}')
  echo "| $kind | $mean | $min | $median | $ratio |"
done
echo
echo "samples (ms): $(for k in "${kinds[@]}"; do printf '%s: %s; ' "$k" "${samples[$k]}"; done)"
