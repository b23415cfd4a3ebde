"""examples/water/zoo/zoo.py end to end at its smoke size: train, freeze, test, compress, MD, table, figure.

The full comparison takes hours; this proves the pipeline behind it (for a compressible descriptor, whose
MD runs the compressed model, and for bp, which has no embedding to tabulate) on a few steps.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ZOO = Path(__file__).resolve().parents[2] / "examples/water/zoo/zoo.py"


def test_zoo_smoke_pipeline(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, str(ZOO), "--size", "smoke", "--models", "se_e2_r", "bp", "--seeds", "1",
                           "--out", str(tmp_path)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    results = json.loads((tmp_path / "results_smoke.json").read_text())
    assert set(results["rows"]) == {"se_e2_r", "bp"}
    for name, row in results["rows"].items():
        assert row["seeds"] == [1]
        assert 0 < row["force_rmse_meV_per_A"][0] < 1e5, name
        assert row["inference_us_per_atom"] > 0 and row["train_ms_per_step"] > 0, name
        assert row["md"] is not None and ("checks" in row["md"] or row["md"].get("stopped_at_ps") is not None), name
    assert (tmp_path / "zoo_smoke.png").stat().st_size > 0
    assert "| se_e2_r | 1 |" in (tmp_path / "results_smoke.md").read_text()

    runs = tmp_path / "runs" / "smoke"
    assert json.loads((runs / "se_e2_r/seed1/md.json").read_text())["potential"]["model"] == "model_compressed.dp"
    assert json.loads((runs / "bp/seed1/md.json").read_text())["potential"]["model"] == "model.dp"
