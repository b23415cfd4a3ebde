"""Concurrent-learning demo: liquid water (16 H2O) with GFN1-xTB labels, 300 K → 400 K.

    OMP_NUM_THREADS=1 python run_demo.py            # every step; run again to continue after a stop
    OMP_NUM_THREADS=1 python run_demo.py --md-ps 2  # shorter final MD check

Steps (each skipped when its output exists, so the script resumes):

1. reference data with ASE + tblite (GFN1-xTB): a random box relaxed, thermalised for 150 fs, then
   Langevin MD: ``work/ref/init`` (8 frames over 100 fs at 300 K, the loop's only starting data)
   and ``work/ref/test`` (16 frames over 160 fs of an independent 400 K run from another random
   box, never used in training);
2. ``deeppot learn learn.json`` (the Python API, same thing);
3. the point of selecting: the same number of labels picked at random from the exploration frames
   the loop did not select, GFN1-xTB labelled; a model trained from scratch with train.json on
   init + random labels, one on init + the loop's labels; force RMSE of each on ``work/ref/test``;
4. MD at 400 K with the final ensemble's first model (``--md-ps`` ps), the committee deviation
   checked on frames; a safety stop (atoms too close, huge force) would end it early.

Prints a summary and writes ``work/results.json`` and ``work/report.png`` (the loop's plot).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
log = logging.getLogger("demo")


def gfn1_md(seed: int, temperature_K: float, equilibrate: int, sample: int, every: int, path: Path) -> None:
    """16 waters with tblite GFN1-xTB: relaxed, thermalised, then sampled; frames as DeePMD npy.

    A random-insertion box is far from equilibrium: MD started from it heats to ~600 K before a
    thermostat catches it, and frames from that transient are poor starting data (the first
    version of this demo did that). So the box is first relaxed (FIRE, f_max 0.3 eV/Å), then
    thermalised for ``equilibrate`` steps with a strong Langevin friction (0.1/fs), and only then
    sampled every ``every`` steps for ``sample`` steps with a weak one (0.01/fs).
    """
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.optimize import FIRE
    from tblite.ase import TBLite

    from deeppot.data import write_deepmd_npy
    from deeppot.data.system import System
    from deeppot.learn.labelers.base import virial_from_stress
    from deeppot.learn.structures import water_box

    atoms = water_box(16, seed=seed)
    atoms.calc = TBLite(method="GFN1-xTB", verbosity=0)
    t0 = time.perf_counter()
    FIRE(atoms, logfile=None).run(fmax=0.3, steps=150)
    log.info("GFN1-xTB seed %d: relaxed, max force %.2f eV/Å, %.0f s", seed,
             float(np.abs(atoms.get_forces()).max()), time.perf_counter() - t0)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    frames = []

    def report(dyn, total):
        step = dyn.get_number_of_steps()
        if step % 50 == 0:
            log.info("GFN1-xTB MD seed %d, %g K: step %d/%d, T %.0f K, %.0f s", seed, temperature_K, step, total,
                     atoms.get_temperature(), time.perf_counter() - t0)

    hot = Langevin(atoms, 0.5 * units.fs, temperature_K=temperature_K, friction=0.1 / units.fs, rng=rng)
    hot.attach(lambda: report(hot, equilibrate), interval=1)
    hot.run(equilibrate)
    dyn = Langevin(atoms, 0.5 * units.fs, temperature_K=temperature_K, friction=0.01 / units.fs, rng=rng)

    def record():
        report(dyn, sample)
        if dyn.get_number_of_steps() % every == 0:
            frames.append((atoms.positions.copy(), np.asarray(atoms.cell).copy(), atoms.get_potential_energy(),
                           atoms.get_forces().copy(), virial_from_stress(atoms.get_stress(), atoms.get_volume())))

    dyn.attach(record, interval=1)
    dyn.run(sample)
    type_map = ["O", "H"]
    atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
    coord, box, energy, force, virial = (np.asarray(x) for x in zip(*frames[1:]))  # frames[0]: the thermalised start
    write_deepmd_npy(System(str(path), type_map, atype, coord, box, energy, force, virial).validate(), path)


def train_fresh(directory: Path, systems: list[str], seed: int) -> str:
    """A member trained from scratch with train.json on ``systems`` (frozen model path)."""
    from deeppot.learn.tasks import train_member
    from deeppot.train.config import normalize

    raw = json.loads((HERE / "train.json").read_text())
    raw["training"].update(training_data={"systems": systems, "batch_size": 1}, seed=seed)
    raw["model"]["descriptor"]["seed"] = seed
    raw["model"]["fitting_net"]["seed"] = seed
    directory.mkdir(parents=True, exist_ok=True)
    return train_member(str(directory), normalize(raw, "train.json"), None)["model"]


def baseline(client, loop_dir: Path, summaries: list[dict]) -> dict:
    """Random vs selected labels, same count, same training settings, errors on the independent run."""
    from deeppot.learn import tasks

    out = WORK / "baseline"
    result_path = out / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    chosen, pool = set(), []
    for s in summaries:
        it = s["iteration"]
        sel = json.loads((loop_dir / f"iter.{it:03d}" / "02.select.json").read_text())
        chosen |= {(it, t, f) for t, f in sel["chosen"]}
        for t, task in enumerate(sorted((loop_dir / f"iter.{it:03d}" / "01.explore").glob("task.*"))):
            regular = ~tasks.load_frames(task)["pre_stop"]  # MD frames every traj_every steps
            pool += [(it, t, int(f)) for f in np.flatnonzero(regular)]
    pool = [p for p in pool if p not in chosen]
    n_labels = sum(s["labels_added"] + s["labels_failed"] for s in summaries)
    rng = np.random.default_rng(2026)
    picks = [pool[k] for k in sorted(rng.choice(len(pool), size=min(n_labels, len(pool)), replace=False))]
    label_dir = out / "random_labels"
    label_dir.mkdir(parents=True, exist_ok=True)
    futures, frames = [], []
    for k, (it, t, f) in enumerate(picks):
        fr = tasks.load_frames(loop_dir / f"iter.{it:03d}" / "01.explore" / f"task.{t:03d}")
        symbols = [fr["type_map"][a] for a in fr["atype"]]
        frames.append((fr["coord"][f], fr["box"][f], fr["atype"]))
        futures.append(client.submit(tasks.label_frame, str(label_dir / f"frame.{k:04d}.npz"), symbols,
                                     fr["coord"][f], fr["box"][f], {"type": "tblite", "method": "GFN1-xTB"},
                                     pure=False))
    client.gather(futures)
    random_data = out / "random_data"
    if not random_data.exists():
        from deeppot.data import write_deepmd_npy
        from deeppot.data.system import System

        rows = []
        for k, (coord, box, _atype) in enumerate(frames):
            with np.load(label_dir / f"frame.{k:04d}.npz") as d:
                if bool(d["ok"]):
                    rows.append((coord, box, float(d["energy"]), d["force"], d["virial"]))
        c, b, e, f, v = (np.asarray(x) for x in zip(*rows))
        write_deepmd_npy(System(str(random_data), ["O", "H"], frames[0][2], c, b, e, f, v).validate(), random_data)
    init = [str(WORK / "ref" / "init")]
    selected = [str(p) for p in sorted(loop_dir.glob("iter.*/03.label/data")) if any(p.iterdir())]
    futures = {}
    for name, systems in (("selected", init + selected), ("random", init + [str(random_data)])):
        for seed in (0,):
            futures[(name, seed)] = client.submit(train_fresh, out / f"{name}.{seed}", systems, 100 + seed,
                                                  pure=False)
    models = {k: f.result() for k, f in futures.items()}
    errors = {}
    for (name, _seed), model in models.items():
        errors.setdefault(name, []).append(
            tasks.held_out_errors([model], [str(WORK / "ref" / "test")], ["O", "H"])["rmse_f_eV_A"])
    result = {"labels": n_labels, "random_pool": len(pool),
              "rmse_f_eV_A": {k: float(np.mean(v)) for k, v in errors.items()}, "per_seed": errors}
    result_path.write_text(json.dumps(result, indent=1))
    return result


def final_md(models: list[str], picoseconds: float) -> dict:
    """NVT MD at 400 K with the first model; committee deviation on frames every 100 steps."""
    path = WORK / f"md_400K_{picoseconds:g}ps.json"
    if path.exists():
        return json.loads(path.read_text())
    import torch

    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms
    from deeppot.errors import SimulationError
    from deeppot.learn.select import classify
    from deeppot.md.runner import Simulation
    from deeppot.model.deep_pot import DeepPot
    from deeppot.model.deviation import ensemble_deviation
    from deeppot.model.potential import ModelPotential

    torch.set_num_threads(1)
    atoms = to_atoms(load_system(WORK / "ref" / "test"), -1)
    atoms.calc = None
    steps = int(round(picoseconds * 2000))
    sim = Simulation.from_atoms(atoms, ModelPotential(models[0]), ensemble="nvt-langevin", temperature_K=400,
                                timestep_fs=0.5, seed=11)
    coords, temps = [], []
    t0 = time.perf_counter()

    def record(s):
        coords.append(s.state.positions.numpy().copy())
        temps.append(s.state.temperature_K)
        if s.state.step % 2000 == 0:
            log.info("400 K MD: %.1f ps of %g, T %.0f K, %.0f s", s.state.step / 2000, picoseconds,
                     s.state.temperature_K, time.perf_counter() - t0)

    sim.attach(record, 100)
    stopped = None
    try:
        sim.run(steps)
    except SimulationError as err:
        stopped = str(err)
    cell = np.asarray(atoms.cell).reshape(1, 9).repeat(len(coords), 0)
    atype = np.array([["O", "H"].index(s) for s in atoms.get_chemical_symbols()])
    devi = ensemble_deviation([DeepPot(m) for m in models], np.asarray(coords).reshape(len(coords), -1), cell, atype)
    cfg = json.loads((HERE / "learn.json").read_text())["select"]
    cats = classify(devi[:, 3], cfg["trust_lo"], cfg["trust_hi"])
    result = {"ps_requested": picoseconds, "ps_done": sim.state.step / 2000, "safety_stop": stopped,
              "mean_T_K": float(np.mean(temps[len(temps) // 5:])), "frames_checked": len(coords),
              "accurate_fraction": float(np.mean(cats == 0)), "max_devi_f_max": float(devi[:, 3].max()),
              "seconds": time.perf_counter() - t0}
    path.write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md-ps", type=float, default=10.0, help="length of the final 400 K MD check, ps")
    parser.add_argument("--skip-md", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    t0 = time.perf_counter()
    timing = json.loads((WORK / "timing.json").read_text()) if (WORK / "timing.json").exists() else {}

    def timed(name, fn):
        start = time.perf_counter()
        value = fn()
        timing[name] = timing.get(name, 0.0) + time.perf_counter() - start
        (WORK / "timing.json").write_text(json.dumps(timing, indent=1))
        return value

    WORK.mkdir(exist_ok=True)
    if not (WORK / "ref" / "init").exists():
        timed("reference_md_300K", lambda: gfn1_md(1, 300.0, 300, 200, 25, WORK / "ref" / "init"))
    if not (WORK / "ref" / "test").exists():
        timed("reference_md_400K", lambda: gfn1_md(2, 400.0, 300, 320, 20, WORK / "ref" / "test"))
    from deeppot.learn.config import load_learn_input
    from deeppot.learn.loop import Learner
    from deeppot.learn.report import table
    from deeppot.learn.tasks import LazyClient

    cfg = load_learn_input(HERE / "learn.json")
    with LazyClient(cfg["dask"]) as client:
        summaries = timed("learn", lambda: Learner(cfg, "learn.json").run(client))
        print(table(summaries), end="")
        base = timed("baseline", lambda: baseline(client, Path(cfg["work_dir"]), summaries))
    last = summaries[-1]["iteration"]
    models = [str(p / "model.dp") for p in sorted((Path(cfg["work_dir"]) / f"iter.{last:03d}" / "00.train").glob(
        "member.*"))]
    md = None if args.skip_md else timed("final_md", lambda: final_md(models, args.md_ps))
    results = {"iterations": summaries, "baseline": base, "md_400K": md, "timing_s": timing,
               "labels_total": summaries[-1]["labels_total"],
               "converged": Learner(cfg, "learn.json").stage_of(len(summaries)) is None,
               "this_call_s": time.perf_counter() - t0}
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps({k: v for k, v in results.items() if k != "iterations"}, indent=1))


if __name__ == "__main__":
    main()
