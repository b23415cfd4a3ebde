"""The model zoo on the bundled water data: Behler–Parrinello (2007) → Deep Potential (2018) → DeepPot-SE.

Five descriptors, the same fitting net, the same training steps, schedule, loss and seeds:

* ``bp``        Behler–Parrinello symmetry functions (deeppot's default set: 8 radial per element pair,
                8 G4 per pair of neighbour elements, angular cutoff 4 Å);
* ``loc_frame`` the original Deep Potential (local frame; DeePMD-kit's water example selections);
* ``se_e2_r``   DeepPot-SE, radial only;  ``se_e2_a`` DeepPot-SE, radial + angular (DeePMD-kit's water example);
* ``se_e3``     DeepPot-SE three-body embedding (at 4 Å, bp's angular cutoff: see DESCRIPTORS).

For each (descriptor, seed): ``deeppot train`` on data_0 + data_1, ``deeppot freeze``, ``deeppot test`` on the
held-out data_2 (energy RMSE per atom, force RMSE). Then, for the first seed of each descriptor: NVT molecular
dynamics at 300 K from a data_2 frame (Bussi thermostat, 0.5 fs), g_OO(r) against all DFT frames with
``../check_water.py`` (closest O–O pair, first-peak height and position), or the time at which the run hit a
safety stop (atoms closer than 0.5 Å, forces above 50 eV/Å); se_e2_a and se_e2_r run it on their
``deeppot compress``-ed model, as production MD would. Inference cost (one process) and training cost (short
runs of each model's input) are measured interleaved (every model once per round, median of the rounds), so
the ratios hold on a busy machine.

    python zoo.py                       # quick size (the README's table: fewer steps, short MD)
    python zoo.py --size full           # 3500 steps, DeePMD-kit's network sizes, 10 ps MD (hours)
    python zoo.py --report-only         # table and figure from the runs already done
    python zoo.py --models bp se_e3 ... # a subset (two subsets can run at once, then --report-only)

Every stage writes its result file in ``runs/<size>/<descriptor>/seed<k>/``; a rerun skips what exists,
so an interrupted run resumes. Outputs: ``results_<size>.md`` (the table), ``results_<size>.json``,
``zoo_<size>.png`` (accuracy against cost, and g_OO).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
TRAIN_SYSTEMS = [DATA / "data_0", DATA / "data_1"]
HELD_OUT = DATA / "data_2"
WATER_RULE = [0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]  # loc_frame axes: O: two nearest H; H: nearest O, nearest H

#: descriptor sections, the same in every size: DeePMD-kit's water examples, except se_e3 at rcut 4 Å (the
#: angular cutoff of bp's G4) instead of 5.8 Å: there one training step took 6.3 s, 20x the others, and
#: 10 ps of MD would take a day on one core.
DESCRIPTORS = {
    "bp": {"type": "bp", "rcut": 6.0, "sel": [46, 92]},
    "loc_frame": {"type": "loc_frame", "rcut": 6.0, "sel_a": [16, 32], "sel_r": [30, 60], "axis_rule": WATER_RULE},
    "se_e2_r": {"type": "se_e2_r", "rcut": 6.0, "rcut_smth": 0.5, "sel": [46, 92], "neuron": [5, 10, 20]},
    "se_e2_a": {"type": "se_e2_a", "rcut": 6.0, "rcut_smth": 0.5, "sel": [46, 92], "neuron": [25, 50, 100],
                "axis_neuron": 16, "type_one_side": True},
    "se_e3": {"type": "se_e3", "rcut": 4.0, "rcut_smth": 0.5, "sel": [20, 40], "neuron": [2, 4, 8]},
}
#: the shared set-up per size: fitting widths, steps, learning-rate decay interval, MD length, and the short
#: interleaved runs that time a training step
SIZES = {
    "quick": {"fitting": [120, 120, 120], "steps": 300, "decay_steps": 30, "md_ps": 0.25, "equil_ps": 0.05,
              "timing_steps": 30, "timing_rounds": 3},
    "full": {"fitting": [240, 240, 240], "steps": 3500, "decay_steps": 200, "md_ps": 10.0, "equil_ps": 1.0,
             "timing_steps": 60, "timing_rounds": 3},
    "smoke": {"fitting": [8, 8], "steps": 4, "decay_steps": 2, "md_ps": 0.01, "equil_ps": 0.0,
              "timing_steps": 3, "timing_rounds": 1},  # pipeline check
}
TIMESTEP_FS = 0.5
TRAJ_EVERY = 10


def log(message: str) -> None:
    print(f"[zoo {time.strftime('%H:%M:%S')}] {message}", flush=True)


def training_input(descriptor: dict, size: str, seed: int) -> dict:
    """The demo's recipe (float32, lr 2e-3 decayed 20x, force-dominated loss), sized by ``size``."""
    s = SIZES[size]
    return {
        "model": {"type_map": ["O", "H"],
                  "descriptor": dict(descriptor, precision="float32", seed=seed),
                  "fitting_net": {"neuron": s["fitting"], "resnet_dt": True, "precision": "float32", "seed": seed},
                  "data_stat_nbatch": 10},
        "learning_rate": {"type": "exp", "start_lr": 2e-3, "stop_lr": 1e-4, "decay_steps": s["decay_steps"]},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1,
                 "start_pref_v": 0, "limit_pref_v": 0},
        "training": {"training_data": {"systems": [str(p) for p in TRAIN_SYSTEMS], "batch_size": 1},
                     "validation_data": {"systems": [str(HELD_OUT)], "batch_size": 1, "numb_btch": 1},
                     "numb_steps": s["steps"], "seed": seed, "disp_file": "lcurve.out",
                     "disp_freq": max(1, s["steps"] // 10), "save_freq": s["steps"]},
    }


def run(cmd: list[str], cwd: Path, logfile: Path) -> tuple[int, float, str]:
    """Run a deeppot command (nice, one thread); exit code, wall seconds, stderr+stdout text."""
    t0 = time.perf_counter()
    with open(logfile, "w") as out:
        code = subprocess.call(["nice", "-n", "10", *cmd], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    return code, time.perf_counter() - t0, logfile.read_text()


def trained_steps_seconds(text: str) -> tuple[int, float] | None:
    """(steps, seconds of the training loop) from `deeppot train`'s log, or None."""
    match = re.search(r"trained (\d+) steps in ([0-9.]+) s", text)
    return (int(match.group(1)), float(match.group(2))) if match else None


def train_and_test(name: str, descriptor: dict, size: str, seed: int, root: Path) -> dict:
    work = root / name / f"seed{seed}"
    done = work / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    work.mkdir(parents=True, exist_ok=True)
    (work / "input.json").write_text(json.dumps(training_input(descriptor, size, seed), indent=1))
    log(f"{name} seed {seed}: training {SIZES[size]['steps']} steps")
    code, wall, text = run(["deeppot", "train", "input.json", "--no-progress"], work, work / "train.log")
    if code != 0:
        raise SystemExit(f"zoo: training {name} seed {seed} failed (exit {code}); see {work / 'train.log'}")
    loop = trained_steps_seconds(text)
    code, _, _ = run(["deeppot", "freeze", "-o", "model.dp"], work, work / "freeze.log")
    code2, _, _ = run(["deeppot", "test", "-m", "model.dp", "-s", str(HELD_OUT), "-d", "test", "--json",
                       "test.json"], work, work / "test.log")
    if code or code2:
        raise SystemExit(f"zoo: freeze/test of {name} seed {seed} failed; see {work}")
    test = json.loads((work / "test.json").read_text())
    result = {"model": name, "seed": seed, "train_wall_s": wall,
              "train_loop_s": loop[1] if loop else None,
              "energy_rmse_meV_per_atom": 1000 * test["energy_rmse_per_atom_eV"],
              "force_rmse_meV_per_A": 1000 * test["force_rmse_eV_per_A"], "test_frames": test["nframes"]}
    done.write_text(json.dumps(result, indent=1))
    log(f"{name} seed {seed}: E {result['energy_rmse_meV_per_atom']:.2f} meV/atom, "
        f"F {result['force_rmse_meV_per_A']:.0f} meV/Å, training {wall:.0f} s")
    return result


def molecular_dynamics(name: str, size: str, seed: int, root: Path) -> dict:
    """NVT at 300 K with the model of ``seed``; g_OO checks or the time of the safety stop."""
    work = root / name / f"seed{seed}"
    done = work / "md_result.json"
    if done.exists():
        return json.loads(done.read_text())
    s = SIZES[size]
    steps = round(s["md_ps"] * 1000 / TIMESTEP_FS)
    from deeppot.core.descriptor.registry import descriptor_class

    model = "model.dp"
    if descriptor_class(DESCRIPTORS[name]["type"]).compressible:  # tabulated embedding: production MD's route
        code, _, _ = run(["deeppot", "compress", "-i", "model.dp", "-o", "model_compressed.dp", "--force"], work,
                         work / "compress.log")
        if code:
            raise SystemExit(f"zoo: compressing {name} seed {seed} failed; see {work / 'compress.log'}")
        model = "model_compressed.dp"
    md = {"structure": str(HELD_OUT), "frame": 0, "potential": {"type": "deeppot", "model": model},
          "ensemble": "nvt-bussi", "temperature_K": 300, "timestep_fs": TIMESTEP_FS, "steps": steps, "seed": 1,
          "tau_t_fs": 100, "thermo_every": max(1, steps // 20), "traj_every": TRAJ_EVERY,
          "restart_every": steps, "output_dir": "md_out"}
    (work / "md.json").write_text(json.dumps(md, indent=1))
    log(f"{name} seed {seed}: NVT {s['md_ps']} ps ({steps} steps)")
    code, wall, text = run(["deeppot", "md", "md.json", "--no-progress"], work, work / "md.log")
    result = {"model": name, "seed": seed, "md_ps": s["md_ps"], "md_wall_s": wall, "completed": code == 0}
    if code != 0:
        stop = re.search(r"step (\d+): (.*)", text)
        result["stopped_at_ps"] = int(stop.group(1)) * TIMESTEP_FS / 1000 if stop else None
        result["stop_reason"] = stop.group(2).strip() if stop else text.strip().splitlines()[-1:]
    traj = work / "md_out" / "traj.extxyz"
    if code == 0 and traj.exists():
        sys.path.insert(0, str(HERE.parent))
        from check_water import check, dft_halves

        from deeppot.analysis import read_frames

        frames = read_frames(str(traj), skip=round(s["equil_ps"] * 1000 / (TIMESTEP_FS * TRAJ_EVERY)))
        split = dft_halves([DATA / f"data_{i}" for i in range(3)])
        checks, curves = check(frames, split[0] + split[1], dft_split=split)
        result.update(md_frames=len(frames), checks={c.name: {"md": c.md, "dft": c.dft, "passed": c.passed}
                                                     for c in checks},
                      rdf={"r": curves["r"].tolist(), "md": curves["md"].tolist(), "dft": curves["dft"].tolist()})
    done.write_text(json.dumps(result, indent=1))
    outcome = "completed" if code == 0 else f"stopped at {result.get('stopped_at_ps')} ps"
    log(f"{name}: MD {outcome} in {wall:.0f} s")
    return result


def inference_cost(models: dict[str, Path], rounds: int = 7) -> dict[str, float]:
    """µs per atom per energy+force evaluation of a data_2 frame; every model once per round, interleaved."""
    import numpy as np
    import torch

    from deeppot.data import load_system
    from deeppot.model.dp_format import load_model

    torch.set_num_threads(1)
    system = load_system(str(HELD_OUT))
    coord = torch.as_tensor(np.asarray(system.coord[:1]).reshape(1, -1, 3))
    box = torch.as_tensor(np.asarray(system.box[:1]).reshape(1, 3, 3))
    atype = torch.as_tensor(np.asarray(system.atype))
    loaded = {name: load_model(path) for name, path in models.items()}
    times: dict[str, list[float]] = {name: [] for name in loaded}
    for model in loaded.values():  # warm-up
        model(coord, atype, box)
    for _ in range(rounds):
        for name, model in loaded.items():
            t0 = time.perf_counter()
            model(coord, atype, box)
            times[name].append(time.perf_counter() - t0)
    natoms = coord.shape[1]
    return {name: 1e6 * statistics.median(t) / natoms for name, t in times.items()}


def training_cost(names: list[str], size: str, root: Path) -> dict[str, float]:
    """Seconds per training step, one thread: short runs of every model's seed-1 input, interleaved.

    The wall times of the real runs depend on what else the machine did meanwhile; these runs take
    turns, so the ratios between descriptors hold even on a busy machine (as for the inference cost).
    """
    steps, rounds = SIZES[size]["timing_steps"], SIZES[size]["timing_rounds"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for k in range(rounds):
        for name in names:
            work = root / name / "cost"
            work.mkdir(parents=True, exist_ok=True)
            setup = training_input(DESCRIPTORS[name], size, 1)
            setup["training"].update(numb_steps=steps, disp_freq=steps, save_freq=steps)
            (work / "input.json").write_text(json.dumps(setup, indent=1))
            code, _, text = run(["deeppot", "train", "input.json", "--no-progress"], work, work / f"train{k}.log")
            loop = trained_steps_seconds(text)
            if code or not loop:
                raise SystemExit(f"zoo: timing run of {name} failed; see {work / f'train{k}.log'}")
            times[name].append(loop[1] / loop[0])
    return {name: statistics.median(t) for name, t in times.items()}


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def report(size: str, names: list[str], seeds: list[int], root: Path, out: Path) -> None:
    results = {n: [json.loads(p.read_text()) for s in seeds if (p := root / n / f"seed{s}" / "result.json").exists()]
               for n in names}
    names = [n for n in names if results[n]]
    if not names:
        raise SystemExit("zoo: no finished runs to report")
    models = {n: root / n / f"seed{results[n][0]['seed']}" / "model.dp" for n in names}
    log("inference cost, interleaved")
    cost = inference_cost(models)
    log("training cost, interleaved")
    step_s = training_cost(names, size, root)
    md = {n: json.loads(p.read_text()) for n in names
          if (p := root / n / f"seed{results[n][0]['seed']}" / "md_result.json").exists()}
    rows, table = {}, []
    table.append("| descriptor | seeds | E RMSE (meV/atom) | F RMSE (meV/Å) | training (ms/step) | "
                 "inference (µs/atom) | MD: closest O–O (Å) | g_OO 1st peak: height / position (Å) |")
    table.append("|---|---|---|---|---|---|---|---|")
    for n in names:
        e = mean_std([r["energy_rmse_meV_per_atom"] for r in results[n]])
        f = mean_std([r["force_rmse_meV_per_A"] for r in results[n]])
        wall = mean_std([r["train_loop_s"] or r["train_wall_s"] for r in results[n]])
        m = md.get(n)
        if m is None:
            closest, peak = "not run", ""
        elif not m["completed"]:
            closest, peak = f"safety stop at {m.get('stopped_at_ps')} ps", ""
        else:
            c = m["checks"]
            closest = f"{c['closest O-O pair, any frame (A)']['md']:.2f}"
            peak = (f"{c['g_OO first peak height']['md']:.2f} / {c['g_OO first peak position (A)']['md']:.3f} "
                    f"(DFT {c['g_OO first peak height']['dft']:.2f} / {c['g_OO first peak position (A)']['dft']:.3f})")
        rows[n] = {"energy_rmse_meV_per_atom": e, "force_rmse_meV_per_A": f, "train_wall_s": wall,
                   "train_ms_per_step": 1000 * step_s[n],
                   "inference_us_per_atom": cost[n], "seeds": [r["seed"] for r in results[n]], "md": m}
        table.append(f"| {n} | {len(results[n])} | {e[0]:.2f} ± {e[1]:.2f} | {f[0]:.0f} ± {f[1]:.0f} | "
                     f"{1000 * step_s[n]:.0f} | {cost[n]:.0f} | {closest} | {peak} |")
    text = "\n".join(table)
    from deeppot.fileio import atomic_write

    with atomic_write(out / f"results_{size}.md", "w") as handle:
        handle.write(text + "\n")
    with atomic_write(out / f"results_{size}.json", "w") as handle:
        json.dump({"size": size, "setup": SIZES[size], "descriptors": {n: DESCRIPTORS[n] for n in names},
                   "rows": rows}, handle, indent=1)
    figure(size, rows, out)
    print(text)


def figure(size: str, rows: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deeppot.fileio import atomic_path

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n, row in rows.items():
        f, df = row["force_rmse_meV_per_A"]
        ax.errorbar(row["inference_us_per_atom"], f, yerr=df, fmt="o", capsize=3, label=n)
        ax.annotate(n, (row["inference_us_per_atom"], f), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("inference cost (µs/atom per energy+force call, 1 thread)")
    ax.set_ylabel("held-out force RMSE (meV/Å), mean ± std over seeds")
    ax.set_title(f"accuracy against cost ({size} size)")
    ax.grid(alpha=0.3)
    dft_drawn = False
    for n, row in rows.items():
        m = row["md"]
        if m and m.get("rdf"):
            if not dft_drawn:
                ax2.plot(m["rdf"]["r"], m["rdf"]["dft"], "k-", lw=2, label="DFT frames")
                dft_drawn = True
            ax2.plot(m["rdf"]["r"], m["rdf"]["md"], lw=1, label=f"{n} NVT 300 K")
        elif m:
            ax2.plot([], [], " ", label=f"{n}: safety stop at {m.get('stopped_at_ps')} ps")
    ax2.set_xlim(2.0, 6.0)
    ax2.set_xlabel("r (Å)")
    ax2.set_ylabel("g_OO(r)")
    ax2.set_title("O–O radial distribution")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out / f"zoo_{size}.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="quick")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--models", nargs="+", default=list(DESCRIPTORS), choices=list(DESCRIPTORS))
    ap.add_argument("--no-md", action="store_true", help="skip the molecular dynamics")
    ap.add_argument("--out", default=str(HERE), help="where runs/, the table and the figure go (default: here)")
    ap.add_argument("--report-only", action="store_true", help="table and figure from the finished runs")
    args = ap.parse_args(argv)
    out = Path(args.out)
    root = out / "runs" / args.size
    if not args.report_only:
        start = time.perf_counter()
        # first seed of every model, then its MD, then the other seeds: partial results are a useful table
        for k, seed in enumerate(args.seeds):
            for name in args.models:
                train_and_test(name, DESCRIPTORS[name], args.size, seed, root)
            if k == 0 and not args.no_md:
                for name in args.models:
                    molecular_dynamics(name, args.size, seed, root)
            log(f"seed {seed} done after {time.perf_counter() - start:.0f} s")
    report(args.size, args.models, args.seeds, root, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
