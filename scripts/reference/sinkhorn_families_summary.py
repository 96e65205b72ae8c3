#!/usr/bin/env python3
"""Issue 17's table from the output of scripts/reference/sinkhorn_families.sh (its "# family: ..." lines and
the JSON lines of sinkhorn_numpy.py and `selflabel bench sinkhorn`), as Markdown:

    scripts/reference/sinkhorn_families.sh 200000 3000 2 /tmp/fam 10 25 | tee fam.log
    python3 scripts/reference/sinkhorn_families_summary.py fam.log

One row per family x lambda: NumPy's iterations, seconds (prepare / iterate / labels), peak RSS and the load and
memory before the pair; ours
(iterations, seconds, peak RSS, label agreement with NumPy, method); the speed and memory ratios and whether the
cell meets the issue's bar (>= 10x, <= 1/3 memory, >= 99.9 % the same labels).
NumPy's prepare and labels (outside its loop) are shown because they vary with the machine's memory state: with
little free memory they took 33-93 s on cells where they take 7-20 s with memory free (docs/PERFORMANCE.md,
issue 17), which flatters the ratio of the cells with few iterations.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows, header, ref = [], None, None
    for line in open(sys.argv[1]):
        line = line.strip()
        if line.startswith("# family:"):
            header, ref = line[len("# family:"):].strip(), None
        elif line.startswith("{"):
            d = json.loads(line)
            if d.get("what") == "sinkhorn_numpy":
                ref = d
            elif d.get("what") == "sinkhorn" and ref is not None and header is not None:
                rows.append((header, ref, d))
                ref = None
    print("| family, λ (load, memory) | NumPy: iterations, s (prepare / iterate / labels), peak MB | SelfLabel: iterations, s, peak MB, method "
          "| same labels | speed | memory | meets 10× / ⅓ / 99.9 % |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for header, r, o in rows:
        speed = r["total_seconds"] / o["total_seconds"]
        memory = o["peak_rss_mb"] / r["peak_rss_mb"]
        agreement = o.get("agreement", float("nan"))
        ok = speed >= 10 and memory <= 1 / 3 and agreement >= 0.999
        split = f"{r['prepare_seconds']:.1f} / {r['iterate_seconds']:.1f} / {r['label_seconds']:.1f}"
        print(f"| {header} | {r['iterations']}, {r['total_seconds']:.1f} ({split}), {r['peak_rss_mb']:,.0f} "
              f"| {o['iterations']}, {o['total_seconds']:.2f}, {o['peak_rss_mb']:,.0f}, {o['method']} "
              f"| {100 * agreement:.4f} % | {speed:.1f}× | {100 * memory:.1f} % | {'yes' if ok else '**no**'} |")


if __name__ == "__main__":
    main()
