"""Training speed and accuracy, deeppot vs DeePMD-kit 3.2 (PyTorch backend), same input, data and seed.

Uses DeePMD-kit's water example input (examples/water/se_e2_a/input.json: se_e2_a [25,50,100],
fitting [240,240,240], batch 1, float64) with ``numb_steps`` set per run. Reports, in one run:

* seconds per training step: (wall(N2) − wall(N1)) / (N2 − N1), so start-up and statistics cancel;
* held-out (data_2) energy and force RMSE after the same N2 steps;
* deeppot's held-out RMSE after the same wall-clock budget as DeePMD-kit's N2-step run.

    python bench/bench_train.py --deepmd-python /path/to/deepmd-venv/bin/python [--steps 40 120]
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


def make_input(workdir: Path, steps: int) -> Path:
    cfg = json.loads((ROOT / "examples/water/se_e2_a/input.json").read_text())
    cfg["training"]["numb_steps"] = steps
    cfg["training"]["disp_freq"] = max(1, steps // 4)
    cfg["training"]["save_freq"] = steps
    cfg["training"].pop("stat_file", None)
    cfg["training"]["training_data"]["systems"] = [str(WATER / "data_0"), str(WATER / "data_1")]
    cfg["training"]["validation_data"]["systems"] = [str(WATER / "data_2")]
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "input.json").write_text(json.dumps(cfg, indent=1))
    return workdir / "input.json"


def run(cmd, cwd) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=dict(os.environ, **THREADS), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deepmd-python", required=True)
    ap.add_argument("--steps", type=int, nargs=2, default=[40, 120])
    args = ap.parse_args()
    n1, n2 = args.steps
    dp = str(Path(args.deepmd_python).with_name("dp"))
    base = Path(tempfile.mkdtemp(prefix="trainbench_"))
    deeppot = [sys.executable, "-m", "deeppot.cli.main", "train", "input.json", "--no-progress"]
    walls = {}
    for name, cmd in (("deeppot", deeppot), ("deepmd", [dp, "--pt", "train", "input.json"])):
        for n in (n1, n2):
            wd = base / f"{name}_{n}"
            make_input(wd, n)
            walls[(name, n)] = run(cmd, wd)
    per_step = {name: (walls[(name, n2)] - walls[(name, n1)]) / (n2 - n1) for name in ("deeppot", "deepmd")}
    e_ours, f_ours = deeppot_rmse(base / f"deeppot_{n2}")
    e_dp, f_dp = deepmd_rmse(dp, base / f"deepmd_{n2}")
    budget_steps = int(round(n2 * per_step["deepmd"] / per_step["deeppot"]))
    wd = base / f"deeppot_budget_{budget_steps}"
    make_input(wd, budget_steps)
    run(deeppot, wd)
    e_budget, f_budget = deeppot_rmse(wd)
    print(f"{'':<34}{'deeppot':>12}{'DeePMD-kit':>12}{'ratio':>8}")
    print(f"{'s per training step':<34}{per_step['deeppot']:>12.3f}{per_step['deepmd']:>12.3f}"
          f"{per_step['deepmd'] / per_step['deeppot']:>8.2f}")
    print(f"{'held-out E RMSE/atom after ' + str(n2):<34}{e_ours:>12.2e}{e_dp:>12.2e}")
    print(f"{'held-out F RMSE after ' + str(n2):<34}{f_ours:>12.3e}{f_dp:>12.3e}")
    print(f"{'same wall clock: deeppot steps':<34}{budget_steps:>12d}{n2:>12d}")
    print(f"{'held-out F RMSE at same wall clock':<34}{f_budget:>12.3e}{f_dp:>12.3e}")
    print(f"{'held-out E RMSE/atom same clock':<34}{e_budget:>12.2e}{e_dp:>12.2e}")


if __name__ == "__main__":
    main()
