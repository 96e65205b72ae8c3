#!/usr/bin/env bash
# Issue 14's acceptance: SelfLabel (`selflabel bench sela`) against the PyTorch SeLa `shared/reference/sela_ref.py`
# at equal settings, back to back on one machine, each run under `flock /tmp/selflabel-bench.lock`, with the load
# average recorded before and after every run. Then prints the table (sela_acceptance_summary.py).
#
#   cifar: the CIFAR-10 subset (5,000 train / 1,000 held out), convnet_tiny, hc 10 x ncl 100, 50 epochs, nopts 100,
#          lr 0.1, wd 5e-4, batch 128, lambda 10, quadratic schedule, augs full. sela_ref.py's full has no hue
#          jitter, so SelfLabel runs with --hue 0 (its default is the official 0.4).
#   grey:  a grey 28x28 digits-like folder (CIFAR-10 in grey, scripts/data/make_grey_digits_folder.py; built into
#          OUT/grey-data if missing), 4,000 train / 1,000 held out, hc 5 x ncl 30, 45 epochs, nopts 90, lr 0.03,
#          wd 5e-4, batch 128, lambda 10, quadratic, augs full (= crop_flip on grey for both); normalisation the
#          MNIST constants on both sides (sela_ref.py's choice for grey folders).
#
# Usage: scripts/reference/sela_acceptance.sh [OUT] [CELLS] [SEEDS]
#   OUT    output folder (default /tmp/sela-acceptance); runs already there (a JSON line / RESULT line) are kept
#   CELLS  "cifar grey" (default), or one of them
#   SEEDS  "0 1 2" (default)
# Environment: EPOCHS_CIFAR, NOPTS_CIFAR, EPOCHS_GREY, NOPTS_GREY override the lengths (for a quick try only),
# THREADS (default 2), PY (default python3), REF (default ../shared/reference/sela_ref.py), LOCK_WAIT (seconds to
# wait for the lock; when it stays held longer, e.g. by another session's hour-long benchmark, the run goes ahead
# unlocked and its load record says "unlocked": its quality numbers count, its time does not; default: wait).
# Each run's record in CELL/IMPL-sSEED.load: cell impl seed start end, load averages before and after, rc, lock.
# For each seed, every cell runs SelfLabel then the reference; seeds are the outer loop, so an interrupted run
# still has whole seeds of every cell.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/sela-acceptance}
cells=${2:-"cifar grey"}
seeds=${3:-"0 1 2"}
threads=${THREADS:-2}
py=${PY:-python3}
ref=${REF:-../shared/reference/sela_ref.py}
bin=.build/release/selflabel
lock=/tmp/selflabel-bench.lock
[[ -x $bin ]] || swift build -c release >&2
[[ -f $ref ]] || { echo "sela_acceptance: no reference at $ref" >&2; exit 1; }
mkdir -p "$out"
grey=$out/grey-data
if [[ $cells == *grey* && ! -d $grey/val ]]; then
  $py scripts/data/make_grey_digits_folder.py "$grey" --train 4000 --val 1000 >&2
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }
# run CELL IMPL SEED command...: under the lock; records "cell impl seed start end load-before load-after".
run() {
  local cell=$1 impl=$2 seed=$3; shift 3
  local base=$out/$cell/$impl-s$seed
  mkdir -p "$out/$cell"
  if [[ -s $base.done ]]; then echo "kept $base" >&2; return; fi
  local body='
    before=$(cut -d" " -f1-3 /proc/loadavg); start=$(date -u +%FT%TZ)
    "${@:4}" >"$1.out" 2>"$1.err"; rc=$?
    echo "$2 $start $(date -u +%FT%TZ) load-before $before load-after $(cut -d" " -f1-3 /proc/loadavg) rc $rc $3" >>"$1.load"
    exit $rc'
  local rc=0
  if [[ -n ${LOCK_WAIT:-} ]]; then
    flock -w "$LOCK_WAIT" -E 200 "$lock" bash -c "$body" _ "$base" "$cell $impl $seed" locked "$@" || rc=$?
    if [[ $rc == 200 ]]; then
      echo "$(date -u +%T) $lock still held after ${LOCK_WAIT}s: $cell $impl seed $seed runs unlocked" >&2
      rc=0; bash -c "$body" _ "$base" "$cell $impl $seed" unlocked "$@" || rc=$?
    fi
  else
    flock "$lock" bash -c "$body" _ "$base" "$cell $impl $seed" locked "$@" || rc=$?
  fi
  if [[ $rc != 0 ]]; then echo "$(date -u +%T) FAILED $cell $impl seed $seed: see $base.err" >&2; return 0; fi
  cp "$base.load" "$base.done"
  echo "$(date -u +%T) done $cell $impl seed $seed ($(tail -1 "$base.load"))" >&2
}

for seed in $seeds; do
  for cell in $cells; do
    case $cell in
      cifar)
        e=${EPOCHS_CIFAR:-50}; n=${NOPTS_CIFAR:-100}
        run cifar swift "$seed" $bin bench sela --hc 10 --ncl 100 --epochs "$e" --nopts "$n" --lr 0.1 \
          --weight-decay 5e-4 --lamb 10 --batch-size 128 --augs full --hue 0 --threads "$threads" --workers 2 \
          --seed "$seed" --exp "$out/cifar/swift-s$seed-exp"
        run cifar ref "$seed" $py "$ref" --data cifar10:5000:1000 --arch convnet_tiny --hc 10 --ncl 100 \
          --epochs "$e" --nopts "$n" --lr 0.1 --wd 5e-4 --lamb 10 --batch-size 128 --schedule quadratic --augs full \
          --threads "$threads" --seed "$seed" --no-kmeans --out "$out/cifar/ref-s$seed-exp" ;;
      grey)
        e=${EPOCHS_GREY:-45}; n=${NOPTS_GREY:-90}
        run grey swift "$seed" $bin bench sela --data "$grey" --hc 5 --ncl 30 --epochs "$e" --nopts "$n" --lr 0.03 \
          --weight-decay 5e-4 --lamb 10 --batch-size 128 --augs full --normalization mnist --threads "$threads" \
          --workers 2 --seed "$seed" --exp "$out/grey/swift-s$seed-exp"
        run grey ref "$seed" $py "$ref" --data "folder:$grey" --arch convnet_tiny --hc 5 --ncl 30 \
          --epochs "$e" --nopts "$n" --lr 0.03 --wd 5e-4 --lamb 10 --batch-size 128 --schedule quadratic --augs full \
          --threads "$threads" --seed "$seed" --no-kmeans --out "$out/grey/ref-s$seed-exp" ;;
      *) echo "sela_acceptance: unknown cell $cell (cifar, grey)" >&2; exit 1 ;;
    esac
  done
done
$py scripts/reference/sela_acceptance_summary.py "$out"
