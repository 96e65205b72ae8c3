#!/usr/bin/env bash
# Side-by-side float32 GEMM: `selflabel bench gemm` vs NumPy, alternating runs so both see the same machine
# load. Prints one JSON line per run. Usage: scripts/reference/compare_gemm.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
bin=.build/release/selflabel
[[ -x $bin ]] || swift build -c release >&2
for r in $(seq "$rounds"); do
  for threads in 1 2; do
    for shape in "--m 1024 --n 1024 --k 1024" "--m 256 --n 4096 --k 2304"; do
      $bin bench gemm $shape --threads "$threads" --repeats 20 --warmup 3
      python3 scripts/reference/gemm_numpy.py $shape --threads "$threads" --repeats 20 --warmup 3
    done
  done
done
