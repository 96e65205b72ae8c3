#!/bin/sh
# Side-by-side input-pipeline measurement for docs/PERFORMANCE.md "Data pipeline":
# selflabel bench data vs scripts/reference/data_torchvision.py on the same folder, same transforms, same workers.
# Usage: scripts/reference/data_compare.sh DATA_ROOT [WORKERS] [SPLIT]
#   DATA_ROOT: CIFAR-10 image folder, e.g. the extracted ../shared/data/cifar10-jpg.tar.gz
set -e
DATA=${1:?usage: data_compare.sh DATA_ROOT [WORKERS] [SPLIT]}
W=${2:-2}
SPLIT=${3:-train}
BIN=.build/release/selflabel
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg) cores: $(nproc)"
$BIN bench data --data "$DATA" --split "$SPLIT" --augs 3 --crop-size 224 --batch 256 --workers "$W"
python3 scripts/reference/data_torchvision.py --data "$DATA" --split "$SPLIT" --augs 3 --crop-size 224 --batch 256 --workers "$W"
$BIN bench data --data "$DATA" --split "$SPLIT" --augs 32 --crop-size 32 --batch 256 --workers "$W"
python3 scripts/reference/data_torchvision.py --data "$DATA" --split "$SPLIT" --augs 32 --crop-size 32 --batch 256 --workers "$W"
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
