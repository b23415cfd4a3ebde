"""neighbor-stat against a brute-force minimum-image count."""

import subprocess
import sys

import numpy as np

from deeppot.data import load_system
from deeppot.data.stat import auto_sel, neighbor_stat


def brute_force(coord, box, atype, rcut):
    inv = np.linalg.inv(box)
    d = coord[None, :, :] - coord[:, None, :]
    d -= np.round(d @ inv) @ box  # minimum image: box > 2 rcut here
    r = np.linalg.norm(d, axis=-1)
    np.fill_diagonal(r, np.inf)
    counts = np.stack([((r < rcut) & (atype[None, :] == t)).sum(1) for t in (0, 1)], 1)
    return r.min(), counts.max(0)


def test_matches_brute_force(water_data):
    s = load_system(water_data / "data_2").subset(slice(0, 2))
    dmin, counts = neighbor_stat([s], 6.0, ["O", "H"])
    ref = [brute_force(s.coord[f], s.box[f], s.atype, 6.0) for f in range(2)]
    assert abs(dmin - min(r[0] for r in ref)) < 1e-12
    assert counts == np.max([r[1] for r in ref], axis=0).tolist()
    assert auto_sel([35, 67]) == [40, 76]


def test_cli_prints_deepmd_style_summary(water_data):
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "neighbor-stat", "-s", str(water_data / "data_2"),
                          "-r", "4", "-t", "O", "H"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "min_nbor_dist:" in run.stdout and "max_nbor_size: [" in run.stdout
