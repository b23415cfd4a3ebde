"""DeePCG water, end to end: atomistic model → atomistic MD → O-site map → force matching → CG MD → compare.

Every stage is a deeppot command (printed as it runs) and is skipped when its output exists, so an
interrupted run resumes; ``--clean`` removes ``work/`` first. The comparison writes
``results.md``, ``deepcg.png`` (CG vs atomistic overlaid: g_OO, O–O–O angles, Q̄6, O neighbour
counts) and the curves as CSV next to this script.

    python deepcg.py [--aa-steps 6000] [--cg-train-steps 3000] [--cg-steps 6000] [--cg-dt-fs 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
TEMPERATURE_K = 300.0
AA_DT_FS = 0.5
FRAME_FS = 10.0  # time between trajectory frames, both runs
# the two DeePCG maps of water: the O atom (DeePCG's choice) or the molecule's centre of mass
MAP_KWARGS = {"site": {"site": ["O"]}, "com": {"com": True}}
MAP_OPTION = {"site": "--site O", "com": "--com"}


def deeppot(*args, cwd: Path) -> float:
    """Run one deeppot command in ``cwd``; return its wall time (s)."""
    where = cwd.relative_to(HERE) if cwd.is_relative_to(HERE) else cwd
    print(f"[{time.strftime('%H:%M:%S')}] (cd {where} && deeppot {' '.join(map(str, args))})",
          flush=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "deeppot.cli.main", *map(str, args)], cwd=cwd, check=True)
    return time.perf_counter() - start


def md_done(directory: Path, steps: int) -> bool:
    """The run in ``directory/md_out`` reached ``steps`` (its thermo.log's last line)."""
    thermo = directory / "md_out" / "thermo.log"
    lines = thermo.read_text().split("\n")[1:] if thermo.exists() else []
    done = [int(line.split()[0]) for line in lines if line.strip()]
    return bool(done) and done[-1] >= steps


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def cg_input(steps: int, descriptor: str, batch_size: int = 1, data: tuple[str, str] = ("cg_train", "cg_valid"),
             embedding: tuple[int, ...] = (8, 16, 32), axis: int = 4, fitting: tuple[int, ...] = (32, 32, 32)) -> dict:
    """Force-only training input for the O sites (energy prefactors 0: there are no CG energies)."""
    descriptors = {
        "se_e2_a": {"type": "se_e2_a", "sel": [48], "rcut_smth": 0.5, "rcut": 6.0, "neuron": list(embedding),
                    "axis_neuron": axis, "seed": 1},
        # DeePCG's choice: a local frame from the two nearest O (full: 16 nearest, radial: the rest)
        "loc_frame": {"type": "loc_frame", "rcut": 6.0, "sel_a": [16], "sel_r": [32], "axis_rule": [0, 0, 0, 0, 0, 1]},
    }
    return {"model": {"type_map": ["O"], "descriptor": descriptors[descriptor],
                      "fitting_net": {"neuron": list(fitting), "resnet_dt": True, "seed": 1}, "data_stat_nbatch": 10},
            "learning_rate": {"type": "exp", "start_lr": 2e-3, "stop_lr": 2e-5, "decay_steps": max(1, steps // 40)},
            "loss": {"type": "ener", "start_pref_e": 0, "limit_pref_e": 0, "start_pref_f": 1, "limit_pref_f": 1,
                     "start_pref_v": 0, "limit_pref_v": 0},
            "training": {"training_data": {"systems": [f"../{data[0]}"], "batch_size": batch_size},
                         "validation_data": {"systems": [f"../{data[1]}"], "batch_size": 4, "numb_btch": 2},
                         "numb_steps": steps, "seed": 10, "disp_freq": max(1, steps // 30), "save_freq": steps}}


def md_input(structure: str, model: str, dt_fs: float, steps: int, frame: int | None = None,
             pair_table: str | None = None) -> dict:
    cfg = {"structure": structure, "potential": {"type": "deeppot", "model": model}, "ensemble": "nvt-bussi",
           "temperature_K": TEMPERATURE_K, "tau_t_fs": 100, "timestep_fs": dt_fs, "steps": steps, "seed": 1,
           "thermo_every": max(1, int(100 / dt_fs)), "traj_every": max(1, round(FRAME_FS / dt_fs)),
           "restart_every": steps, "output_dir": "md_out"}
    if frame is not None:
        cfg["frame"] = frame
    if pair_table is not None:
        cfg["pair_table"] = {"file": pair_table}
    return cfg


def reference_dir(args) -> Path:
    """Where the atomistic model and MD live: ``--reference`` (shared by CG variants) or the work directory."""
    return Path(args.reference).resolve() if args.reference else WORK


def aa_runs(work: Path, n: int) -> list[Path]:
    """The atomistic MD directories: ``aa_md`` (the first run), then ``aa_md2`` ... ``aa_md<n>``."""
    return [work / ("aa_md" if k == 1 else f"aa_md{k}") for k in range(1, n + 1)]


def map_dft(work: Path, kind: str) -> None:
    """``--source dft``: the bundled AIMD frames (forces) as the atomistic data; data_2 held out."""
    from deeppot.cg import map_trajectories, write_cg_system

    data = HERE.parent / "data"
    for name, systems in (("cg_train", ["data_0", "data_1"]), ("cg_valid", ["data_2"])):
        if not (work / name).exists():
            print(f"deeppot cg map {' '.join('../data/' + s for s in systems)} {MAP_OPTION[kind]} -o {name}")
            cg, cgmap = map_trajectories([data / s for s in systems], **MAP_KWARGS[kind])
            write_cg_system(cg, cgmap, work / name)


def run_stages(args) -> dict:
    ref = reference_dir(args)
    timings = {}
    for where in dict.fromkeys((ref, WORK)):  # the reference's atomistic timings, then this run's
        if (where / "timings.json").exists():
            timings.update(json.loads((where / "timings.json").read_text()))

    def save():
        write_json(WORK / "timings.json", timings)

    aa = ref / "aa"
    if args.source == "dft":
        map_dft(WORK, args.map)
    elif not (aa / "water.dp").exists():
        aa.mkdir(parents=True, exist_ok=True)
        timings["aa_train_s"] = deeppot("train", HERE / "aa_input.json", "--no-progress", cwd=aa)
        deeppot("freeze", "-o", "water.dp", cwd=aa)
        save()
    runs = aa_runs(ref, args.aa_runs) if args.source == "aa" else []
    for k, aa_md in enumerate(runs, start=1):
        if md_done(aa_md, args.aa_steps):
            continue
        model = "../aa/water.dp"
        if args.aa_compress:  # tabulated embedding: ~2x faster MD, forces within ~1e-3 eV/Å of the network's
            if not (aa / "water_compressed.dp").exists():
                deeppot("compress", "-i", "water.dp", "-o", "water_compressed.dp", "--data",
                        HERE.parent / "data" / "data_2", cwd=aa)
            model = "../aa/water_compressed.dp"
        # independent runs: their own thermostat seed and starting frame of the held-out DFT system
        cfg = md_input(str(HERE.parent / "data" / "data_2"), model, AA_DT_FS, args.aa_steps, frame=(k - 1) * 13 % 80)
        write_json(aa_md / "md.json", dict(cfg, seed=k))
        timings[f"aa_md_s{'' if k == 1 else k}"] = deeppot("md", "md.json", "--force", cwd=aa_md)
        timings["aa_md_ps"] = args.aa_steps * AA_DT_FS / 1000
        save()
    if args.aa_only:
        return timings
    # the CG model learns from the first --cg-train-runs runs; the comparison uses all of them
    sources = [str((run / "md_out" / "traj.extxyz").resolve()) for run in runs[:args.cg_train_runs or None]]
    mapped = WORK / "cg_train" / "sources.json"
    if runs and not (mapped.exists() and json.loads(mapped.read_text()) == sources + [args.map]):
        from deeppot.cg import map_trajectories, write_cg_system
        from deeppot.cg.mapping import concatenate

        skip = int(args.equil_ps * 1000 / FRAME_FS)
        print(f"deeppot cg map {' '.join(sources)} {MAP_OPTION[args.map]} --skip {skip}  "
              "(then the last 20 % of each run held out)")
        parts = [map_trajectories([Path(src)], skip=skip, **MAP_KWARGS[args.map]) for src in sources]
        cgmap = parts[0][1]
        train = [cg.subset(slice(0, int(0.8 * cg.nframes))) for cg, _ in parts]
        valid = [cg.subset(slice(int(0.8 * cg.nframes), None)) for cg, _ in parts]
        write_cg_system(concatenate(train, "cg_train"), cgmap, WORK / "cg_train", force=True)
        write_cg_system(concatenate(valid, "cg_valid"), cgmap, WORK / "cg_valid", force=True)
        write_json(mapped, sources + [args.map])
    data, table = ("cg_train", "cg_valid"), None
    if args.pair_prior:  # MS-CG pair forces first; the network learns the rest (deeppot cg pair-fit)
        data, table = ("cg_train_residual", "cg_valid_residual"), "../cg_prior/prior.table"
        if not (WORK / "cg_prior" / "prior.table").exists():
            (WORK / "cg_prior").mkdir(exist_ok=True)
            timings["cg_pair_fit_s"] = deeppot(
                "cg", "pair-fit", "../cg_train", "-o", "prior.table", "--rcut", args.pair_prior, "--wall",
                args.pair_wall, "--residual", "../cg_train_residual", "--force", cwd=WORK / "cg_prior")
            deeppot("cg", "subtract", "../cg_valid", "--table", "prior.table", "-o", "../cg_valid_residual", "--force",
                    cwd=WORK / "cg_prior")
            save()
    cg_dir = WORK / "cg"
    if not (cg_dir / "cg.dp").exists():
        write_json(cg_dir / "input.json", cg_input(args.cg_train_steps, args.descriptor, args.cg_batch, data,
                                                   tuple(args.cg_embedding), args.cg_axis, tuple(args.cg_fitting)))
        timings["cg_train_s"] = deeppot("train", "input.json", "--no-progress", cwd=cg_dir)
        deeppot("freeze", "-o", "cg.dp", cwd=cg_dir)
        save()
    cg_md = WORK / "cg_md"
    if not md_done(cg_md, args.cg_steps):
        write_json(cg_md / "md.json", md_input("../cg_train/structure.extxyz", "../cg/cg.dp", args.cg_dt_fs,
                                               args.cg_steps, pair_table=table))
        try:
            timings["cg_md_s"] = deeppot("md", "md.json", "--force", cwd=cg_md)
            timings["cg_md_ps"] = args.cg_steps * args.cg_dt_fs / 1000
        except subprocess.CalledProcessError:  # a CG model that lets the liquid collapse stops the run
            print("CG MD stopped early (see above); comparing the frames it wrote")
        save()
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aa-steps", type=int, default=6000, help="atomistic MD steps of 0.5 fs")
    ap.add_argument("--aa-runs", type=int, default=1,
                    help="independent atomistic MD runs (own seed and starting frame), all mapped and compared")
    ap.add_argument("--cg-train-runs", type=int, default=0,
                    help="map only the first N atomistic runs for force matching (default 0: all); "
                         "the comparison always uses every run")
    ap.add_argument("--aa-compress", action="store_true",
                    help="run the atomistic MD with the compressed model (deeppot compress), about 2x faster")
    ap.add_argument("--aa-only", action="store_true",
                    help="stop after the atomistic MD (one reference for several CG variants: --work elsewhere)")
    ap.add_argument("--map", choices=("site", "com"), default="site",
                    help="CG site: the O atom, force = the O's force (DeePCG); or the molecule's centre of mass, "
                         "force = the molecule's summed force, in which the intramolecular forces cancel")
    ap.add_argument("--reference", default=None, metavar="DIR",
                    help="take the atomistic model and MD from DIR (the --work of an earlier run) instead of --work")
    ap.add_argument("--equil-ps", type=float, default=0.5, help="atomistic equilibration to drop, ps")
    ap.add_argument("--cg-train-steps", type=int, default=3000)
    ap.add_argument("--cg-batch", type=int, default=4,
                    help="CG training frames per step (the mean force is ~2 %% of the loss: "
                         "larger batches average the noise)")
    ap.add_argument("--cg-embedding", type=int, nargs="+", default=[8, 16, 32], help="se_e2_a embedding net widths")
    ap.add_argument("--cg-axis", type=int, default=4, help="se_e2_a axis_neuron")
    ap.add_argument("--cg-fitting", type=int, nargs="+", default=[32, 32, 32], help="fitting net widths")
    ap.add_argument("--descriptor", choices=("se_e2_a", "loc_frame"), default="se_e2_a")
    ap.add_argument("--pair-prior", type=float, default=None, metavar="RCUT",
                    help="fit MS-CG pair forces to this range (Å) first and train the network on the residual "
                         "forces; CG MD adds the pair table back")
    ap.add_argument("--pair-wall", type=float, default=100.0, metavar="eV/Å²",
                    help="slope of the prior's repulsion below the closest pair in the data (cg pair-fit --wall)")
    ap.add_argument("--cg-steps", type=int, default=3000, help="CG MD steps")
    ap.add_argument("--cg-dt-fs", type=float, default=2.0, help="CG MD timestep, fs")
    ap.add_argument("--cg-equil-ps", type=float, default=0.5, help="CG equilibration to drop, ps")
    ap.add_argument("--source", choices=("aa", "dft"), default="aa",
                    help="atomistic data: MD with a water model trained here (aa), or the bundled AIMD frames (dft)")
    ap.add_argument("--work", default=None, help="work directory (default work/ or work_dft/)")
    ap.add_argument("--out", default=None, help="where results.md and the figures go (default . or dft/)")
    ap.add_argument("--clean", action="store_true", help="remove the work directory first")
    args = ap.parse_args()
    if args.aa_runs < 1 or not 0 <= args.cg_train_runs <= args.aa_runs:
        ap.error(f"--aa-runs {args.aa_runs} must be >= 1 and --cg-train-runs {args.cg_train_runs} within 0..--aa-runs")
    global WORK
    WORK = Path(args.work).resolve() if args.work else HERE / ("work" if args.source == "aa" else "work_dft")
    if args.clean and WORK.exists():
        shutil.rmtree(WORK)
    timings = run_stages(args)
    if args.aa_only:
        return
    from compare import compare

    out = Path(args.out).resolve() if args.out else (HERE if args.source == "aa" else HERE / "dft")
    compare(WORK, out, timings, args, aa_runs(reference_dir(args), args.aa_runs) if args.source == "aa" else [])


if __name__ == "__main__":
    main()
