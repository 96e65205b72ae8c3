#!/usr/bin/env bash
# Issue 17's table: for each family x lambda, generate the scores once (selflabel bench sinkhorn --family ...
# --save-scores), time NumPy's float64 official loop on them (scripts/reference/sinkhorn_numpy.py), then time
# `selflabel bench sinkhorn --logits` (load -> labels, the file memory-mapped as in `selflabel label`) and report
# the label agreement. Each pair runs back to back under flock /tmp/selflabel-bench.lock.
#
#   scripts/reference/sinkhorn_families.sh N K THREADS WORKDIR [lambda...]
# Prints one JSON line per run (ours and NumPy's), each pair after a "# family: ..." line; pipe the output
# through scripts/reference/sinkhorn_families_summary.py for the table. WORKDIR must have room for N x K x 4
# bytes of scores; NumPy needs about 20 x N x K bytes of memory.
# FAMILIES (an extended regular expression over the family specs below, default all) and KINDS ("logits",
# "probabilities" or both, the default) choose a part of the table: a skewed cell's NumPy run alone takes an
# hour at 200k x 3000.
# WARMUP=1 runs NumPy once, untimed and without iterating (--tol 1e9), on each new score file first: its first
# run after the file is written is 1.5-2x slower (its 12.6 GB allocation reclaims the page cache the generator
# filled), which flatters the ratio of whichever cell runs first (docs/PERFORMANCE.md, issue 17).
set -euo pipefail
n=${1:?N}; k=${2:?K}; threads=${3:?threads}; work=${4:?workdir}; shift 4
[[ $# -gt 0 ]] && lambdas=("$@") || lambdas=(10 25)
bin=${SELFLABEL:-.build/release/selflabel}
mkdir -p "$work"
families=(
  "flat --sigma 0.005" "flat --sigma 0.02" "flat --sigma 0.1"
  "mixed --fraction 0.1" "mixed --fraction 0.6" "mixed --fraction 0.9" "mixed --fraction 0.6 --skew 3"
  "peaked" "peaked --skew 3"
)
filter=${FAMILIES:-.}
kinds=${KINDS:-"logits probabilities"}
for spec in "${families[@]}"; do
  [[ $spec =~ $filter ]] || continue
  for kind in $kinds; do
    prob=""; [[ $kind == probabilities ]] && prob="--probabilities"
    scores="$work/scores.npy"
    # shellcheck disable=SC2086
    "$bin" bench sinkhorn --n "$n" --k "$k" --threads "$threads" --max-iters 1 --family $spec $prob \
      --save-scores "$scores" > /dev/null
    if [[ ${WARMUP:-0} == 1 ]]; then
      # shellcheck disable=SC2086
      flock /tmp/selflabel-bench.lock python3 scripts/reference/sinkhorn_numpy.py --logits "$scores" $prob \
        --lamb "${lambdas[0]}" --threads "$threads" --tol 1e9 --out "$work/ref.npy" > /dev/null
    fi
    for lamb in "${lambdas[@]}"; do
      echo "# family: $spec $prob lambda $lamb load: $(cut -d' ' -f1-3 /proc/loadavg)" \
        "available MB: $(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)" \
        "free MB: $(awk '/^MemFree:/ {print int($2 / 1024)}' /proc/meminfo)"
      flock /tmp/selflabel-bench.lock python3 scripts/reference/sinkhorn_numpy.py --logits "$scores" $prob \
        --lamb "$lamb" --threads "$threads" --out "$work/ref.npy"
      flock /tmp/selflabel-bench.lock "$bin" bench sinkhorn --logits "$scores" $prob --lamb "$lamb" \
        --threads "$threads" --max-iters 100000 --compare-labels "$work/ref.npy"
    done
  done
done
rm -f "$work/scores.npy" "$work/ref.npy"
