"""LAMMPS scaling with deeppot models: ``pair_style deeppot`` on 1 and 2 MPI ranks against ``fix external``.

For each system size (replicas of the 192-atom DFT water frame: 1536, 12 288, ... 139 968 atoms)
the three routes run back to back, in the same session, so their ratios share the machine's load:

* ``plugin x1``: ``mpiexec -n 1 lmp`` with the plugin (deeppotplugin.so);
* ``plugin x2``: ``mpiexec -n 2 lmp``, LAMMPS' domain decomposition over two ranks;
* ``fix external``: deeppot.interfaces.lammps.LammpsSimulation (one rank, the whole system in one
  Python callback: the existing route).

Reported: ms/step from LAMMPS' own "Loop time" (setup and the step-0 force call excluded),
atom-steps/s, each route's ratio to ``fix external``, and the ghost fraction (nghost/nlocal, the
price of the halo). Default model: DeePMD-kit's water example architecture (se_e2_a
[25, 50, 100] x 16, fitting [240, 240, 240]) with random weights, so positions are held fixed
(no integrator: every step is a full force call, neighbour lists built once); ``--model M.dp --md``
runs NVE with a trained model instead. One thread per rank (OMP_NUM_THREADS=1): on this 2-core
machine, 2 ranks is the whole machine, and other sessions share it.

    python bench/bench_lammps.py [--sizes 2 4 9] [--steps 10 3 1] [--model M.dp --md] [--out DIR]

Writes DIR/lammps_scaling.json and DIR/lammps_scaling.png (atom-steps/s against atoms).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import example_model, water_frames  # noqa: E402

BIN = Path(sys.prefix) / "bin"


def write_structure(replicate: int, path: Path) -> int:
    import ase.io
    from ase import Atoms

    coord, cell, atype = water_frames(replicate)
    atoms = Atoms(symbols=["OH"[t] for t in atype], positions=coord.reshape(-1, 3), cell=cell.reshape(3, 3),
                  pbc=True)
    ase.io.write(path, atoms, format="lammps-data", specorder=["O", "H"], masses=True, units="metal",
                 atom_style="atomic")
    return len(atoms)


def script(data: Path, pair: str, steps: int, md: bool) -> str:
    dynamics = "velocity all create 300 1\nfix nve all nve\ntimestep 0.0005\n" if md else ""
    return f"""units metal
atom_style atomic
boundary p p p
read_data {data}
{pair}
neighbor 1.0 bin
{dynamics}thermo {max(steps, 1)}
run {steps}
"""


def loop_time(log: str, steps: int) -> float:
    m = re.search(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps", log)
    if not m or int(m.group(3)) != steps:
        raise RuntimeError(f"no loop time for {steps} steps in the LAMMPS log:\n{log[-2000:]}")
    return float(m.group(1)) / steps * 1e3


def cpu_fraction(log: str) -> float:
    """LAMMPS' "% CPU use" of the loop (CPU time / wall time per rank): < 1 when other jobs share the cores."""
    m = re.search(r"([0-9.]+)% CPU use with", log)
    return float(m.group(1)) / 100 if m else float("nan")


def ghost_ratio(log: str) -> float:
    nlocal = re.search(r"Nlocal:\s+([0-9.eE+-]+) ave", log)
    nghost = re.search(r"Nghost:\s+([0-9.eE+-]+) ave", log)
    return float(nghost.group(1)) / float(nlocal.group(1)) if nlocal and nghost else float("nan")


def run_plugin(work: Path, data: Path, model: Path, ranks: int, steps: int, md: bool) -> dict:
    (work / "in.plugin").write_text(script(data, f"pair_style deeppot {model}\npair_coeff * * O H", steps, md))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([str(BIN / "mpiexec"), "-n", str(ranks), str(BIN / "lmp"), "-in", "in.plugin", "-log",
                           "plugin.log", "-screen", "none", "-nocite"], cwd=work, env=env, capture_output=True,
                          text=True)
    log = (work / "plugin.log").read_text()
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:] + log[-2000:])
    return {"ms_per_step": loop_time(log, steps), "cpu_fraction": cpu_fraction(log),
            "ghost_per_local": ghost_ratio(log)}


def run_fix_external(work: Path, data: Path, model: Path, steps: int, md: bool) -> dict:
    """The existing route, in a subprocess of its own (one rank) so that memory and threads are alike."""
    code = f"""
import ase.io, torch
torch.set_num_threads(1)
from deeppot.interfaces.lammps import LammpsSimulation
from deeppot.model.potential import ModelPotential
atoms = ase.io.read({str(data)!r}, format="lammps-data", atom_style="atomic", units="metal")
atoms.set_chemical_symbols(["O" if z == 8 else "H" for z in atoms.numbers])
sim = LammpsSimulation(ModelPotential({str(model)!r}), atoms, log_file={str(work / 'external.log')!r})
sim.command({('velocity all create 300 1' + chr(10) + 'fix nve all nve' + chr(10) + 'timestep 0.0005') if md else ''!r})
sim.command("thermo {max(steps, 1)}")
sim.command("run {steps}")
sim.close()
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    log = (work / "external.log").read_text()
    return {"ms_per_step": loop_time(log, steps), "cpu_fraction": cpu_fraction(log)}


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for route, marker in (("plugin x1", "o"), ("plugin x2", "s"), ("fix external", "^")):
        pts = [(r["atoms"], r["atoms"] / r[route]["ms_per_step"] * 1e3) for r in results if route in r]
        if pts:
            ax.plot(*zip(*pts), marker=marker, label=route)
    ax.set_xscale("log")
    ax.set_xlabel("atoms")
    ax.set_ylabel("atom-steps / s")
    ax.set_title("deeppot in LAMMPS, 2 shared cores, 1 thread per rank")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 9],
                    help="replications n of the 192-atom frame (n^3 copies; default 2 4 9: 1536, 12288, 139968)")
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 3, 1], help="timed steps per size")
    ap.add_argument("--model", default=None, help="a .dp model (default: example architecture, random weights)")
    ap.add_argument("--md", action="store_true", help="NVE dynamics (needs a trained model) instead of fixed positions")
    ap.add_argument("--no-external", action="store_true", help="skip fix external (e.g. for the largest sizes)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = ap.parse_args()
    if len(args.steps) != len(args.sizes):
        ap.error("--steps needs one value per --sizes entry")
    os.environ["OMP_NUM_THREADS"] = "1"
    from deeppot.interfaces.lammps_plugin import plugin_path

    if not plugin_path().exists():
        sys.exit(f"{plugin_path()} is not built: run `deeppot lammps build-plugin` first")
    work = Path(tempfile.mkdtemp(prefix="lmpbench_"))
    model = Path(args.model) if args.model else work / "example.dp"
    if not args.model:
        example_model(model)
    print(f"# load average at start: {os.getloadavg()[0]:.1f} (2 cores); model {model.name}; "
          f"{'NVE' if args.md else 'fixed positions'}")
    print(f"{'atoms':>8} {'route':>13} {'ms/step':>10} {'atom-steps/s':>13} {'vs fix ext':>10} {'CPU use':>8} "
          f"{'CPU ms/step/rank':>16} {'ghost/local':>11}")
    results = []
    start = time.perf_counter()
    for n, steps in zip(args.sizes, args.steps):
        data = work / f"water_{n}.data"
        natoms = write_structure(n, data)
        row = {"atoms": natoms, "steps": steps}
        row["plugin x1"] = run_plugin(work, data, model, 1, steps, args.md)
        if not args.no_external:
            row["fix external"] = run_fix_external(work, data, model, steps, args.md)
        row["plugin x2"] = run_plugin(work, data, model, 2, steps, args.md)
        results.append(row)
        ref = row.get("fix external", {}).get("ms_per_step")
        for route in ("plugin x1", "plugin x2", "fix external"):
            if route not in row:
                continue
            ms = row[route]["ms_per_step"]
            ratio = f"{ref / ms:9.2f}x" if ref else "        -"
            ghosts = row[route].get("ghost_per_local")
            cpu = row[route]["cpu_fraction"]
            print(f"{natoms:8d} {route:>13} {ms:10.1f} {natoms / ms * 1e3:13.0f} {ratio:>10} {cpu:8.0%} "
                  f"{ms * cpu:16.1f} {'' if ghosts is None else f'{ghosts:11.2f}'}", flush=True)
        print(f"# {natoms} atoms done after {time.perf_counter() - start:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f}; 2 ranks vs 1: "
              f"{row['plugin x1']['ms_per_step'] / row['plugin x2']['ms_per_step']:.2f}x", flush=True)
    out = Path(args.out)
    (out / "lammps_scaling.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "lammps_scaling.png")
    print(f"# wrote {out / 'lammps_scaling.json'} and {out / 'lammps_scaling.png'}")


if __name__ == "__main__":
    main()
