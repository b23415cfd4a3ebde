"""Runs inside a DeePMD-kit environment (never imported by deeppot): times DeepPot.eval on frames.

usage: python _deepmd_worker.py MODEL FRAMES.npz REPEATS OUT.json
"""

import json
import resource
import sys
import time

import numpy as np
from deepmd.infer import DeepPot

model, frames, repeats, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = np.load(frames)
dp = DeepPot(model)
result = {}
for key in sorted(k[6:] for k in data.files if k.startswith("coord_")):
    coord, cell, atype = data[f"coord_{key}"], data[f"cell_{key}"], data[f"atype_{key}"]
    dp.eval(coord, cell, atype)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        e, f, v = dp.eval(coord, cell, atype)
        times.append(time.perf_counter() - t0)
    result[key] = {"ms": 1000 * float(np.median(times)), "energy": float(e[0, 0]), "force": f[0].tolist()}
result["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump(result, open(out, "w"))
