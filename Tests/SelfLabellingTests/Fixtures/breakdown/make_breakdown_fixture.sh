#!/usr/bin/env bash
# Captures real network outputs on which the float32 Sinkhorn-Knopp iteration breaks down (a scaling leaves
# float32's range; the error becomes NaN): the embedded demo's second label optimisation, head 2, first 1,000
# images. Captured on the 2-core development machine (2 threads, --backend cpu); other machines may produce
# slightly different outputs.
set -euo pipefail
exp=$(mktemp -d)
swift run -c release selflabel train --exp "$exp" --save-scores --epochs 8 & pid=$!
while [ ! -f "$exp/scores/optimisation-1.npy" ]; do sleep 1; done
sleep 2; kill -INT "$pid" || true; wait "$pid" || true
python3 - "$exp/scores/optimisation-1.npy" <<'PY'
import sys, numpy as np
s = np.load(sys.argv[1])
np.save("demo_head2_rows1000.npy", np.ascontiguousarray(s[2, :1000]))
PY
