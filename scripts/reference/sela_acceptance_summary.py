#!/usr/bin/env python3
"""Summarises scripts/reference/sela_acceptance.sh's folder: one table per cell (cifar, grey) with SelfLabel's and
sela_ref.py's held-out head-0 NMI, kNN top-1 (k 10, sigma 0.1), training wall time, final loss and Sinkhorn-Knopp
figures over the seeds run (mean, sample standard deviation and range), the load averages of the runs, and the
issue 14 verdicts:

  quality   SelfLabel's mean NMI (kNN) >= the reference's mean minus the reference's seed spread (its sample
            standard deviation; "at least the reference's, within its seed spread"); the strict comparison of
            the means is printed too;
  speed     SelfLabel's mean training wall time <= 1/2 of the reference's;
  cap       no Sinkhorn-Knopp cap warning in SelfLabel's runs ("sinkhorn_capped_label_optimisations" 0 and no
            "iteration cap" line); sela_ref.py has no cap (its largest iteration count is shown).

Usage: python3 scripts/reference/sela_acceptance_summary.py OUT [--json]
"""
import json
import os
import re
import statistics
import sys


def swift_run(path):
    with open(path + ".out") as f:
        lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
    if not lines:
        return None
    d = json.loads(lines[-1])
    err = open(path + ".err").read() if os.path.exists(path + ".err") else ""
    return {"nmi": d["nmi_head0"], "knn": d["knn_top1"], "seconds": d["train_seconds"], "loss": d["final_loss"],
            "nmi0": d["nmi_head0_random_init"], "knn0": d["knn_top1_random_init"],
            "capped": d["sinkhorn_capped_label_optimisations"] + err.count("iteration cap"),
            "sk_max": d["sinkhorn_iterations_max"], "sk_seconds": d["sinkhorn_seconds"],
            "label_opts": d["label_optimisations"]}


def ref_run(path):
    with open(path + ".out") as f:
        lines = [ln for ln in f.read().splitlines() if ln.startswith("RESULT ")]
    if not lines:
        return None
    d = json.loads(lines[-1][len("RESULT "):])
    sk_max = None
    summary = os.path.join(path + "-exp", "summary.json")
    if os.path.exists(summary):
        with open(summary) as f:
            sk_max = max((r["sk_iters"] for r in json.load(f).get("sk_log", [])), default=None)
    return {"nmi": d["nmi_trained"], "knn": d["knn_trained"], "seconds": d["seconds"], "loss": d["final_loss"],
            "nmi0": d["nmi_random"], "knn0": d["knn_random"], "capped": 0, "sk_max": sk_max,
            "sk_seconds": d["seconds_label_opt"], "label_opts": d["sk_runs"]}


def loads(path):
    """(load before, load after, locked) of the run's last record: 1-minute load averages, and whether it ran
    under the benchmark lock."""
    if not os.path.exists(path + ".load"):
        return None
    last = open(path + ".load").read().split("\n")[-2]
    m = re.search(r"load-before (\S+) \S+ \S+ load-after (\S+) \S+ \S+ rc \S+ ?(\S*)", last)
    return (float(m.group(1)), float(m.group(2)), m.group(3) != "unlocked") if m else None


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return {"mean": statistics.fmean(xs), "sd": sd, "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt(s, digits=3):
    if s is None:
        return "-"
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f} [{s['min']:.{digits}f}, {s['max']:.{digits}f}]"


def cell_summary(out, cell):
    folder = os.path.join(out, cell)
    if not os.path.isdir(folder):
        return None
    runs = {"swift": {}, "ref": {}}
    for name in sorted(os.listdir(folder)):
        m = re.fullmatch(r"(swift|ref)-s(\d+)\.done", name)
        if not m:
            continue
        impl, seed = m.group(1), int(m.group(2))
        base = os.path.join(folder, f"{impl}-s{seed}")
        r = (swift_run if impl == "swift" else ref_run)(base)
        if r is not None:
            r["load"] = loads(base)
            runs[impl][seed] = r
    def timed(r):  # the time of a run that shared the machine with another benchmark does not count
        return r.get("load") is None or r["load"][2]
    table = {impl: {k: stats([r[k] for r in rs.values() if k != "seconds" or timed(r)]) for k in
                    ("nmi", "knn", "seconds", "loss", "nmi0", "knn0", "sk_seconds")}
             for impl, rs in runs.items()}
    verdict = {}
    s, r = table["swift"], table["ref"]
    if s["nmi"] and r["nmi"]:
        for k in ("nmi", "knn"):
            verdict[k + "_within_spread"] = s[k]["mean"] >= r[k]["mean"] - r[k]["sd"]
            verdict[k + "_mean_at_least"] = s[k]["mean"] >= r[k]["mean"]
    if s["seconds"] and r["seconds"]:
        verdict["time_ratio"] = s["seconds"]["mean"] / r["seconds"]["mean"]
        verdict["time_half"] = verdict["time_ratio"] <= 0.5
    verdict["swift_capped"] = sum(x["capped"] for x in runs["swift"].values())
    return {"cell": cell, "seeds": {impl: sorted(rs) for impl, rs in runs.items()}, "table": table,
            "verdict": verdict, "runs": runs}


def print_cell(c):
    print(f"\n## {c['cell']}  (seeds: SelfLabel {c['seeds']['swift']}, sela_ref.py {c['seeds']['ref']})")
    print("| | SelfLabel | sela_ref.py |")
    print("| --- | --- | --- |")
    names = {"nmi": "held-out head-0 NMI", "knn": "held-out kNN top-1", "seconds": "training wall time (s)",
             "loss": "final epoch loss", "nmi0": "NMI at random init", "knn0": "kNN at random init",
             "sk_seconds": "Sinkhorn-Knopp s (SelfLabel) / label optimisation s (ref)"}
    for k, label in names.items():
        d = 1 if k in ("seconds", "sk_seconds") else 3
        print(f"| {label} | {fmt(c['table']['swift'][k], d)} | {fmt(c['table']['ref'][k], d)} |")
    sk = {impl: max((r["sk_max"] or 0) for r in rs.values()) if rs else None for impl, rs in c["runs"].items()}
    print(f"| largest Sinkhorn-Knopp iteration count | {sk['swift']} | {sk['ref']} |")
    for impl in ("swift", "ref"):
        ls = [f"s{seed}: {r['load'][0]:.2f}→{r['load'][1]:.2f}{'' if r['load'][2] else ' (unlocked)'}"
              for seed, r in sorted(c["runs"][impl].items()) if r.get("load")]
        print(f"| load average (1 min, before→after) {impl} | {', '.join(ls)} | |")
    v = c["verdict"]
    if "nmi_within_spread" in v:
        print(f"\nNMI ≥ ref within its spread: {v['nmi_within_spread']} (means: {v['nmi_mean_at_least']}); "
              f"kNN ≥ ref within its spread: {v['knn_within_spread']} (means: {v['knn_mean_at_least']})")
    if "time_ratio" in v:
        print(f"time SelfLabel/ref (runs under the lock) {v['time_ratio']:.2f} (≤ 0.5: {v['time_half']})")
    print(f"Sinkhorn-Knopp cap warnings in SelfLabel's runs: {v['swift_capped']}")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    cells = [c for c in (cell_summary(out, name) for name in ("cifar", "grey")) if c]
    if "--json" in argv:
        print(json.dumps([{k: c[k] for k in ("cell", "seeds", "table", "verdict")} for c in cells]))
    else:
        for c in cells:
            print_cell(c)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
