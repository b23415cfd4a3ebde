"""MD speed, 192-atom water with the DeePMD-kit example-sized model, in one run:

* deeppot's native engine (NVE, velocity Verlet, skin neighbour lists),
* ASE's VelocityVerlet driving deeppot's ASE calculator,
* ASE's VelocityVerlet driving DeePMD-kit's ASE calculator (with --deepmd-python),

reporting ms/step, ns/day (0.5 fs steps) and the engine's overhead (step time − force time) as a
fraction of the step.

    python bench/bench_md.py [--deepmd-python /path/to/deepmd-venv/bin/python] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import THREADS, deepmd_convert, example_model, peak_rss_mb, set_threads, water_frames  # noqa: E402

TIMESTEP_FS = 0.5


def ns_per_day(ms_per_step: float) -> float:
    return TIMESTEP_FS * 1e-6 / (ms_per_step / 1000) * 86400


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deepmd-python", default=None)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--model", default=None,
                    help="a trained .dp model (default: the example architecture with random weights; a speed test)")
    args = ap.parse_args()
    set_threads()
    from ase import Atoms, units
    from ase.md.verlet import VelocityVerlet

    from deeppot.interfaces.ase_calculator import DP
    from deeppot.md import Simulation
    from deeppot.model.potential import ModelPotential

    work = Path(tempfile.mkdtemp(prefix="mdbench_"))
    if args.model:
        import shutil

        shutil.copy(args.model, work / "model.dp")
    else:
        example_model(work / "model.dp")
    coord, cell, atype = water_frames(1)
    atoms = Atoms(["OH"[t] for t in atype], positions=coord.reshape(-1, 3), cell=cell.reshape(3, 3), pbc=True)
    atoms.write(work / "water.extxyz")
    potential = ModelPotential(work / "model.dp")

    # random weights are not physical: safety stops off, this measures speed only
    sim = Simulation.from_atoms(atoms.copy(), potential, ensemble="nve", timestep_fs=TIMESTEP_FS,
                                temperature_K=300, seed=1, min_distance_A=0.0, max_force_eV_A=1e9)
    sim.run(2)
    sim.force_time = 0.0
    t0 = time.perf_counter()
    sim.run(args.steps)
    engine_ms = 1000 * (time.perf_counter() - t0) / args.steps
    force_ms = 1000 * sim.force_time / args.steps

    ase_atoms = atoms.copy()
    ase_atoms.calc = DP(model=potential)
    dyn = VelocityVerlet(ase_atoms, timestep=TIMESTEP_FS * units.fs)
    dyn.run(2)
    t0 = time.perf_counter()
    dyn.run(args.steps)
    ase_ms = 1000 * (time.perf_counter() - t0) / args.steps

    rows = [("deeppot engine", engine_ms), ("ASE VV + deeppot calculator", ase_ms)]
    if args.deepmd_python:
        deepmd_convert(args.deepmd_python, work / "model.dp", work / "model.pth")
        subprocess.run([args.deepmd_python, str(Path(__file__).with_name("_deepmd_md_worker.py")),
                        str(work / "model.pth"), str(work / "water.extxyz"), str(args.steps), str(work / "dp.json")],
                       check=True, env=dict(os.environ, **THREADS))
        rows.append(("ASE VV + DeePMD-kit calculator", json.loads((work / "dp.json").read_text())["ms_per_step"]))
    print(f"{'driver':<32}{'ms/step':>10}{'ns/day':>10}{'vs engine':>11}")
    for name, ms in rows:
        print(f"{name:<32}{ms:>10.1f}{ns_per_day(ms):>10.4f}{ms / engine_ms:>11.2f}")
    print(f"engine overhead: step {engine_ms:.1f} ms - force {force_ms:.1f} ms = {engine_ms - force_ms:.1f} ms "
          f"({100 * (engine_ms - force_ms) / engine_ms:.1f}% of a step); neighbour-list builds {sim.verlet.builds}")
    print(f"peak RSS deeppot: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
