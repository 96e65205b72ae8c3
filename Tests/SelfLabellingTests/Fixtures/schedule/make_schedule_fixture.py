"""Label-optimisation times exactly as the official code computes them (run here: python3 make_schedule_fixture.py).

quadratic: main.py   optimize_times = [(E+2)N] + ((E+1.01)*N*(linspace(0,1,nopts)**2)[::-1]).tolist()
linear:    cifar.py  optimize_times = [(E+10)N] + ((E+1.0001)*N*linspace(0,1,nopts)[::-1]).tolist()
Both pop from the end, so the ascending order of the list reversed is the order they fire in.
Also records, for a resume at epoch R, the official filter [t for t in times if t/N >= R].
"""
import json
import numpy as np

cases = []
for spacing, E, N, nopts, R in [("quadratic", 200, 1281167, 100, 37), ("quadratic", 3, 500, 3, 1),
                                ("quadratic", 5, 5000, 8, 2), ("linear", 400, 50000, 400, 100),
                                ("linear", 2, 300, 3, 1), ("linear", 7, 1000, 1, 0), ("quadratic", 4, 64, 2, 4)]:
    if spacing == "quadratic":
        times = [(E + 2) * N] + ((E + 1.01) * N * (np.linspace(0, 1, nopts) ** 2)[::-1]).tolist()
    else:
        times = [(E + 10) * N] + ((E + 1.0001) * N * np.linspace(0, 1, nopts)[::-1]).tolist()
    resumed = [t for t in times if t / N >= R]
    cases.append({"spacing": spacing, "epochs": E, "samples": N, "nopts": nopts, "resume_epoch": R,
                  "times": [float(t) for t in times[::-1]], "resumed": [float(t) for t in resumed[::-1]]})
with open("schedules.json", "w") as f:
    json.dump(cases, f, indent=1)
