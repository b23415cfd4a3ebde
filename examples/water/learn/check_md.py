"""The final ensemble's members in 10-ps NVT MD at 400 K, each checked for intact water molecules.

    OMP_NUM_THREADS=1 python check_md.py [--members 0 1 2 3] [--seed 11] [--ps 10]

``run_demo.py`` runs the final MD with the first member and looks for safety stops; this runs any
member and also checks the chemistry every 10 fs: each H within 1.3 Å of an O and every O with
exactly two H (no dissociation, no H₂), the closest O–O pair and the closest H–H pair of different
molecules. One line per member with PASS (10 ps, no stop, every frame intact) or FAIL.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def run_member(model: Path, structure: Path, picoseconds: float, seed: int) -> dict:
    import torch

    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms
    from deeppot.errors import SimulationError
    from deeppot.md.runner import Simulation
    from deeppot.model.potential import ModelPotential

    torch.set_num_threads(1)
    atoms = to_atoms(load_system(structure), -1)
    atoms.calc = None
    frame = atoms.copy()  # ASE's minimum-image distances, any cell shape
    oxygen = np.array([s == "O" for s in atoms.get_chemical_symbols()])
    hydrogen = np.flatnonzero(~oxygen)
    sim = Simulation.from_atoms(atoms, ModelPotential(str(model)), ensemble="nvt-langevin", temperature_K=400,
                                timestep_fs=0.5, seed=seed)
    seen = {"frames": 0, "intact": 0, "min_OO_A": np.inf, "min_HH_inter_A": np.inf, "T_K": []}

    def check(s) -> None:
        frame.set_positions(s.state.positions.numpy())
        d = frame.get_all_distances(mic=True)
        d_ho = d[np.ix_(hydrogen, np.flatnonzero(oxygen))]
        owner = d_ho.argmin(1)
        intact = bool((d_ho.min(1) < 1.3).all() and (np.bincount(owner, minlength=oxygen.sum()) == 2).all())
        d_oo = d[np.ix_(oxygen, oxygen)] + 1e9 * np.eye(oxygen.sum())
        d_hh = d[np.ix_(hydrogen, hydrogen)][owner[:, None] != owner[None]]
        seen["frames"] += 1
        seen["intact"] += intact
        seen["min_OO_A"] = min(seen["min_OO_A"], float(d_oo.min()))
        seen["min_HH_inter_A"] = min(seen["min_HH_inter_A"], float(d_hh.min()))
        seen["T_K"].append(s.state.temperature_K)

    sim.attach(check, 20)
    stop = None
    t0 = time.perf_counter()
    try:
        sim.run(int(round(picoseconds * 2000)))
    except SimulationError as err:
        stop = str(err)
    temps = np.asarray(seen.pop("T_K"))
    ps = sim.state.step / 2000
    return {"ps": ps, "safety_stop": stop, **seen, "mean_T_K": float(temps[len(temps) // 5:].mean()),
            "max_T_K": float(temps.max()), "seconds": time.perf_counter() - t0,
            "pass": stop is None and ps >= picoseconds and seen["intact"] == seen["frames"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--ps", type=float, default=10.0)
    parser.add_argument("--work", default=str(HERE / "work"), help="run_demo.py's work directory")
    args = parser.parse_args()
    work = Path(args.work)
    last = max(int(p.name.split(".")[1]) for p in (work / "loop").glob("iter.*") if (p / "summary.json").exists())
    rows = []
    for k in args.members:
        model = work / "loop" / f"iter.{last:03d}" / "00.train" / f"member.{k:03d}" / "model.dp"
        row = {"member": k, "seed": args.seed, **run_member(model, work / "ref" / "test", args.ps, args.seed)}
        rows.append(row)
        print(f"member {k}: {row['ps']:.2f} ps, {row['intact']}/{row['frames']} frames intact, closest O-O "
              f"{row['min_OO_A']:.2f} A, closest H-H of different molecules {row['min_HH_inter_A']:.2f} A, "
              f"mean T {row['mean_T_K']:.0f} K (max {row['max_T_K']:.0f}), "
              f"{'PASS' if row['pass'] else 'FAIL: ' + (row['safety_stop'] or 'molecules broken')}", flush=True)
    (work / "check_md.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
