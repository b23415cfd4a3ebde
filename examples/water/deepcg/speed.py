"""Simulated time per second of atomistic and CG MD of the same 64-water box, in CPU and wall time.

CPU time (``time.process_time``, all threads of this process) is the fair measure on a machine
shared with other jobs: wall time then depends on everyone else's load. Start-up and the first
steps (neighbour lists, model loading) are excluded by a warm-up run.

    python speed.py AA_MODEL CG_MODEL [--steps 100] [--pair-table work/cg_prior/prior.table]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(atoms, model: str, timestep_fs: float, steps: int, pair_table: str | None = None) -> dict:
    from deeppot.md import Simulation
    from deeppot.model.potential import ModelPotential

    potential = ModelPotential(model)
    if pair_table:  # a CG model trained on top of a pair prior runs with the table added (as deeppot md does)
        from deeppot.potentials.pair_table import PairTable
        from deeppot.potentials.wall import WithExternal

        potential = WithExternal(potential, PairTable.from_file(pair_table, potential.type_map))
    sim = Simulation.from_atoms(atoms, potential, ensemble="nvt-bussi", temperature_K=300.0,
                                timestep_fs=timestep_fs, tau_t_fs=100.0)
    sim.run(5)
    cpu, wall = time.process_time(), time.perf_counter()
    sim.run(steps)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ps = steps * timestep_fs / 1000
    return {"atoms": len(atoms), "timestep_fs": timestep_fs, "steps": steps, "cpu_s": cpu, "wall_s": wall,
            "ps_per_cpu_hour": ps / cpu * 3600, "ps_per_wall_hour": ps / wall * 3600}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("aa_model")
    ap.add_argument("cg_model")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--cg-dt-fs", type=float, default=4.0)
    ap.add_argument("--pair-table", default=None, help="the CG model's pair prior (deepcg.py --pair-prior)")
    ap.add_argument("--out", default=str(HERE / "speed.json"))
    args = ap.parse_args()
    import ase.io

    from deeppot.analysis import read_frames

    water = read_frames(HERE.parent / "data" / "data_2")[0]
    water.calc = None
    cg = ase.io.read(HERE / "work_dft" / "cg_train" / "structure.extxyz")
    cg.calc = None
    result = {"load_average": os.getloadavg(), "atomistic": measure(water, args.aa_model, 0.5, args.steps),
              "cg": measure(cg, args.cg_model, args.cg_dt_fs, args.steps, args.pair_table)}
    for key in ("ps_per_cpu_hour", "ps_per_wall_hour"):
        result[f"ratio_{key}"] = result["cg"][key] / result["atomistic"][key]
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
