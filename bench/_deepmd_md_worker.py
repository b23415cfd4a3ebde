"""Runs inside a DeePMD-kit environment: ASE VelocityVerlet driven by DeePMD-kit's ASE calculator.

usage: python _deepmd_md_worker.py MODEL STRUCTURE.extxyz STEPS OUT.json
"""

import json
import resource
import sys
import time

import ase.io
from ase import units
from ase.md.verlet import VelocityVerlet
from deepmd.calculator import DP

model, structure, steps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
atoms = ase.io.read(structure)
atoms.calc = DP(model=model)
dyn = VelocityVerlet(atoms, timestep=0.5 * units.fs)
dyn.run(2)
t0 = time.perf_counter()
dyn.run(steps)
elapsed = time.perf_counter() - t0
json.dump({"ms_per_step": 1000 * elapsed / steps,
           "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, open(out, "w"))
