"""Training speed, accuracy and time to accuracy, deeppot vs DeePMD-kit 3.2 (PyTorch backend).

Both programs train *at the same time* (same start, same machine load; the 2-core machine is
shared, so sequential runs would see different loads). Every line either program appends to
its ``lcurve.out`` is time-stamped by polling, which gives seconds per step and learning curves
against wall-clock without trusting either program's own timers.

``throughput`` (default): DeePMD-kit's water example input (examples/water/se_e2_a/input.json:
se_e2_a [25,50,100], fitting [240,240,240], batch 1; ``--precision`` float64 or float32 for both
programs' descriptor and fitting net) for ``--steps`` steps. Reports s/step of each over the
window where both were training, and the held-out (data_2, all 80 frames) energy and force
RMSE of both after the same number of steps.

``tta``: wall-clock time until the validation force RMSE (``numb_btch`` frames of data_2, every
``disp_freq`` steps) first reaches ``--target`` eV/Å, and the time from which it stays there:
deeppot with ``examples/water/input_fast.json`` against DeePMD-kit with its example input.
DeePMD-kit is ended once ``--stop-factor`` times deeppot's time has passed without it reaching
the target (the ratio is then printed as a lower bound). Writes one PNG with both learning
curves against wall-clock; the final models are tested on all of data_2.

    python bench/bench_train.py --deepmd-python /path/to/dpvenv/bin/python [--mode throughput|tta|report]
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
from common import ROOT, THREADS, WATER  # noqa: E402

EXAMPLE = ROOT / "examples/water/se_e2_a/input.json"
FAST = ROOT / "examples/water/input_fast.json"


def make_input(workdir: Path, source: Path, steps: int | None, disp_freq: int, numb_btch: int,
               precision: str | None = None) -> Path:
    cfg = json.loads(source.read_text())
    tr = cfg["training"]
    if steps:
        tr["numb_steps"] = steps
    tr["disp_freq"] = disp_freq
    tr["save_freq"] = tr["numb_steps"]
    tr.pop("stat_file", None)
    tr["training_data"]["systems"] = [str(WATER / "data_0"), str(WATER / "data_1")]
    tr["validation_data"]["systems"] = [str(WATER / "data_2")]
    tr["validation_data"]["numb_btch"] = numb_btch
    if precision:
        cfg["model"]["descriptor"]["precision"] = precision
        cfg["model"]["fitting_net"]["precision"] = precision
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "input.json").write_text(json.dumps(cfg, indent=1))
    return workdir / "input.json"


def run_together(jobs: dict[str, tuple[list, Path]], stop=None) -> dict[str, list[tuple[float, list[str]]]]:
    """Start all jobs at once; return per job the lcurve lines with their arrival time (s from start).

    ``stop(seen, now)`` may name jobs to end early (terminated, not failed), e.g. a program that
    has not reached an accuracy several times later than the other did.
    """
    # the two programs run at the same time on the same cores: idle OpenMP threads must sleep, not
    # spin on the cores the other program needs (unlike the alternated inference benchmark)
    env = dict(os.environ, **THREADS, OMP_WAIT_POLICY="PASSIVE")
    t0 = time.perf_counter()
    procs = {name: subprocess.Popen(cmd, cwd=wd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=open(wd / "stderr.log", "w")) for name, (cmd, wd) in jobs.items()}
    seen: dict[str, list] = {name: [] for name in jobs}
    stopped: set[str] = set()
    while True:
        now = time.perf_counter() - t0
        for name, (_, wd) in jobs.items():
            path = wd / "lcurve.out"
            if path.exists():
                lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
                for fields in lines[len(seen[name]):]:
                    seen[name].append((now, fields))
        # written as it goes, so that a run cut short can still be reported (--mode report)
        (next(iter(jobs.values()))[1].parent / "timeline.json").write_text(json.dumps(seen))
        for name in (stop(seen, now) if stop else ()):
            if procs[name].poll() is None:
                procs[name].terminate()
                procs[name].wait()
                stopped.add(name)
        if all(p.poll() is not None for p in procs.values()):
            break
        time.sleep(0.5)
    for name, p in procs.items():
        if p.returncode != 0 and name not in stopped:
            raise SystemExit(f"{name} failed:\n{(jobs[name][1] / 'stderr.log').read_text()[-2000:]}")
    return seen


def steps_and_times(lines) -> tuple[list[int], list[float]]:
    return [int(f[0]) for _, f in lines], [t for t, _ in lines]


def rate_in_window(lines, lo: float, hi: float) -> float:
    """Seconds per step from lcurve lines that arrived inside [lo, hi]."""
    pts = [(t, int(f[0])) for t, f in lines if lo <= t <= hi]
    if len(pts) < 2:
        return float("nan")
    return (pts[-1][0] - pts[0][0]) / (pts[-1][1] - pts[0][1])


def run(cmd, cwd) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=dict(os.environ, **THREADS), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-2000:]}")


def deeppot_rmse(workdir: Path) -> tuple[float, float]:
    deeppot = [sys.executable, "-m", "deeppot.cli.main"]
    run([*deeppot, "freeze", "-c", ".", "-o", "m.dp"], workdir)
    run([*deeppot, "test", "-m", "m.dp", "-s", str(WATER / "data_2"), "--json", "t.json"], workdir)
    res = json.loads((workdir / "t.json").read_text())
    return res["energy_rmse_per_atom_eV"], res["force_rmse_eV_per_A"]


def deepmd_rmse(dp: str, workdir: Path) -> tuple[float, float]:
    run([dp, "--pt", "freeze", "-o", "m.pth"], workdir)
    proc = subprocess.run([dp, "--pt", "test", "-m", "m.pth", "-s", str(WATER / "data_2")], cwd=workdir,
                          env=dict(os.environ, **THREADS), capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    e = float(text.split("Energy RMSE/Natoms :")[1].split()[0])
    f = float(text.split("Force  RMSE        :")[1].split()[0])
    return e, f


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def col(lines, header_path: Path, name: str) -> list[float]:
    header = header_path.read_text().splitlines()[0].lstrip("#").split()
    k = header.index(name)
    return [float(f[k]) for _, f in lines]


def throughput(args, dp: str, base: Path) -> None:
    jobs = {}
    for name in ("deeppot", "deepmd"):
        wd = base / name
        make_input(wd, EXAMPLE, args.steps, args.disp_freq, 1, args.precision)
        cmd = ([sys.executable, "-m", "deeppot.cli.main", "train", "input.json", "--no-progress"]
               if name == "deeppot" else [dp, "--pt", "train", "input.json"])
        jobs[name] = (cmd, wd)
    load_before = load()
    seen = run_together(jobs)
    # window where both were past their first lcurve line and neither had finished
    lo = max(seen[n][0][0] for n in seen)
    hi = min(seen[n][-1][0] for n in seen)
    per_step = {n: rate_in_window(seen[n], lo, hi) for n in seen}
    e_ours, f_ours = deeppot_rmse(base / "deeppot")
    e_dp, f_dp = deepmd_rmse(dp, base / "deepmd")
    print(f"precision {args.precision}, {args.steps} steps, both programs at once; load average before "
          f"{load_before}, after {load()}; overlap window {lo:.0f}-{hi:.0f} s")
    print(f"{'':<36}{'deeppot':>12}{'DeePMD-kit':>12}{'ratio':>8}")
    print(f"{'s per training step (same window)':<36}{per_step['deeppot']:>12.3f}{per_step['deepmd']:>12.3f}"
          f"{per_step['deepmd'] / per_step['deeppot']:>8.2f}")
    print(f"{'held-out E RMSE/atom, eV':<36}{e_ours:>12.2e}{e_dp:>12.2e}")
    print(f"{'held-out F RMSE, eV/Å':<36}{f_ours:>12.3e}{f_dp:>12.3e}")
    ends = {n: seen[n][-1][0] for n in seen}
    print(f"{'wall clock to finish, s':<36}{ends['deeppot']:>12.0f}{ends['deepmd']:>12.0f}")


def first_and_stay(times, values, target) -> tuple[float, float]:
    first = next((t for t, v in zip(times, values) if v <= target), float("nan"))
    stay = float("nan")
    for k in range(len(values)):
        if all(v <= target for v in values[k:]):
            stay = times[k]
            break
    return first, stay


def _reached_at(lines, header: Path, target: float) -> float | None:
    if not lines or not header.exists():
        return None
    values = col(lines, header, "rmse_f_val")
    return next((t for (t, _), v in zip(lines, values) if v <= target), None)


def _stop_deepmd(seen, now: float, base: Path, args) -> list[str]:
    """End DeePMD-kit once ``--stop-factor`` × deeppot's time to the target has passed without it getting there."""
    ours = _reached_at(seen["deeppot"], base / "deeppot" / "lcurve.out", args.target)
    if ours is None or _reached_at(seen["deepmd"], base / "deepmd" / "lcurve.out", args.target) is not None:
        return []
    return ["deepmd"] if now > args.stop_factor * ours else []


def tta(args, dp: str, base: Path) -> None:
    load_before = "(not recorded)"
    if args.mode == "report":  # a run cut short: its time-stamped lcurves so far, no final test
        seen = json.loads((base / "timeline.json").read_text())
    else:
        jobs = {}
        make_input(base / "deeppot", FAST, args.fast_steps, args.disp_freq, args.numb_btch)
        make_input(base / "deepmd", EXAMPLE, args.deepmd_steps, args.disp_freq, args.numb_btch)
        jobs["deeppot"] = ([sys.executable, "-m", "deeppot.cli.main", "train", "input.json", "--no-progress"],
                           base / "deeppot")
        jobs["deepmd"] = ([dp, "--pt", "train", "input.json"], base / "deepmd")
        load_before = load()
        seen = run_together(jobs, stop=lambda seen, now: _stop_deepmd(seen, now, base, args))
    curves = {}
    for name in seen:
        path = base / name / "lcurve.out"
        steps, times = steps_and_times(seen[name])
        curves[name] = (steps, times, col(seen[name], path, "rmse_f_val"), col(seen[name], path, "rmse_e_val"))
    (base / "curves.json").write_text(json.dumps(curves))
    nan = (float("nan"), float("nan"))
    rmse = {"deeppot": nan, "deepmd": nan}
    if args.mode != "report":
        rmse["deeppot"] = deeppot_rmse(base / "deeppot")
        try:  # a DeePMD-kit run ended early (--stop-factor) has no checkpoint to test
            rmse["deepmd"] = deepmd_rmse(dp, base / "deepmd")
        except SystemExit:
            print("DeePMD-kit: no final checkpoint (its run was ended early); final-model test skipped")
    print(f"time to held-out force RMSE <= {args.target} eV/Å (validation: {args.numb_btch} frames of data_2 every "
          f"{args.disp_freq} steps), both programs at once; load average before {load_before}, after {load()}")
    print(f"{'':<40}{'deeppot fast':>14}{'DeePMD-kit':>14}{'ratio':>8}")
    res = {n: first_and_stay(curves[n][1], curves[n][2], args.target) for n in curves}
    idx = {n: next((k for k, v in enumerate(curves[n][2]) if v <= args.target), None) for n in curves}
    if res["deepmd"][0] == res["deepmd"][0]:
        ratio = f"{res['deepmd'][0] / res['deeppot'][0]:>8.2f}"
    else:  # DeePMD-kit never got there: its whole run is a lower bound
        ratio = f"{'> ' + format(curves['deepmd'][1][-1] / res['deeppot'][0], '.2f'):>8}"
        print(f"DeePMD-kit did not reach {args.target} eV/Å in {curves['deepmd'][1][-1]:.0f} s "
              f"({curves['deepmd'][0][-1]} steps; best {min(curves['deepmd'][2]):.3f}): the ratio is a lower bound")
    print(f"{'first reached, s':<40}{res['deeppot'][0]:>14.0f}{res['deepmd'][0]:>14.0f}{ratio}")
    print(f"{'stays reached from, s':<40}{res['deeppot'][1]:>14.0f}{res['deepmd'][1]:>14.0f}"
          f"{res['deepmd'][1] / res['deeppot'][1]:>8.2f}")
    step_at = {n: (curves[n][0][idx[n]] if idx[n] is not None else -1) for n in curves}
    print(f"{'step when first reached':<40}{step_at['deeppot']:>14d}{step_at['deepmd']:>14d}")
    e_at = {n: (curves[n][3][idx[n]] if idx[n] is not None else float('nan')) for n in curves}
    print(f"{'validation E RMSE/atom then, eV':<40}{e_at['deeppot']:>14.2e}{e_at['deepmd']:>14.2e}")
    print(f"{'final steps':<40}{curves['deeppot'][0][-1]:>14d}{curves['deepmd'][0][-1]:>14d}")
    print(f"{'final model, all data_2: F RMSE, eV/Å':<40}{rmse['deeppot'][1]:>14.3f}{rmse['deepmd'][1]:>14.3f}")
    print(f"{'final model, all data_2: E RMSE/atom':<40}{rmse['deeppot'][0]:>14.2e}{rmse['deepmd'][0]:>14.2e}")
    plot(curves, args.target, Path(args.png))
    print(f"learning curves: {args.png}")


def plot(curves, target, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    labels = {"deeppot": "deeppot, examples/water/input_fast.json", "deepmd": "DeePMD-kit 3.2, its example input"}
    for name, (_steps, times, f_val, _) in curves.items():
        ax.plot(times, f_val, "o-", ms=3, label=labels[name])
    ax.axhline(target, color="k", ls="--", lw=0.8, label=f"{target} eV/Å")
    ax.set_xlabel("wall-clock time since start, s (2-core CPU, both programs at once)")
    ax.set_ylabel("held-out force RMSE (data_2), eV/Å")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deepmd-python", required=True)
    ap.add_argument("--mode", choices=("throughput", "tta", "report"), default="throughput",
                    help="report: time to accuracy from --workdir's timeline.json of a tta run cut short")
    ap.add_argument("--steps", type=int, default=1000, help="throughput: steps of both runs")
    ap.add_argument("--precision", choices=("float64", "float32"), default="float64")
    ap.add_argument("--disp-freq", type=int, default=100)
    ap.add_argument("--numb-btch", type=int, default=10, help="tta: validation frames per lcurve line")
    ap.add_argument("--target", type=float, default=0.12)
    ap.add_argument("--fast-steps", type=int, default=None, help="tta: deeppot steps (default: input_fast.json's)")
    ap.add_argument("--deepmd-steps", type=int, default=20000)
    ap.add_argument("--stop-factor", type=float, default=4.0,
                    help="tta: end DeePMD-kit when it has not reached the target by this multiple of deeppot's time")
    ap.add_argument("--png", default=str(ROOT / "bench" / "time_to_accuracy.png"))
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    dp = str(Path(args.deepmd_python).with_name("dp"))
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="trainbench_"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"work directory {base}")
    (throughput if args.mode == "throughput" else tta)(args, dp, base)


if __name__ == "__main__":
    main()
