"""The 9-3 wall of ``deeppot md`` (forces, sum with LJ, the md input hook) equals the DFT one."""

import json

import ase
import ase.io
import numpy as np
import pytest
import torch

from deeppot.cdft import PlanarGrid, lj93_wall
from deeppot.cli.main import main
from deeppot.potentials.lj import LennardJones
from deeppot.potentials.wall import PlanarWalls, Wall93, WithExternal


def test_wall_energy_matches_cdft_form_and_forces_are_gradients():
    wall = Wall93(position_A=1.0, epsilon_eV=0.02, sigma_A=3.4, side="left")
    walls = PlanarWalls([wall, Wall93(30.0, 0.02, 3.4, "right")])
    grid = PlanarGrid(64, 30.0)
    z = torch.tensor(grid.z, dtype=torch.float64)
    pos = torch.stack([torch.zeros_like(z), torch.zeros_like(z), z], 1)
    e = wall.energy(pos).numpy()
    ref = 0.02 * lj93_wall(grid, 1.0, 1.0, 3.4, "left")
    ok = np.isfinite(ref)
    np.testing.assert_allclose(e[ok], ref[ok], rtol=1e-12)
    assert np.all(np.isinf(e[~ok]))
    x = torch.tensor([[0.3, 1.0, 4.0], [2.0, 0.5, 27.5]], dtype=torch.float64)
    out = walls.compute(x)
    h = 1e-6
    for i, k in [(0, 2), (1, 2), (0, 0)]:
        up, down = x.clone(), x.clone()
        up[i, k] += h
        down[i, k] -= h
        fd = -(walls.compute(up)["energy"] - walls.compute(down)["energy"]) / (2 * h)
        assert float(out["force"][i, k]) == pytest.approx(float(fd), rel=1e-6, abs=1e-10)


def test_with_external_adds_energies_and_forces():
    lj = LennardJones(0.0104, 3.4, 8.5)
    walls = PlanarWalls([Wall93(0.0, 0.02, 3.4, "left")])
    both = WithExternal(lj, walls)
    cell = torch.eye(3, dtype=torch.float64) * 20.0
    pos = torch.tensor([[1.0, 1.0, 3.5], [4.6, 1.2, 4.0], [2.0, 4.0, 6.0]], dtype=torch.float64)
    atype = torch.zeros(3, dtype=torch.long)
    a, b, c = both.compute(pos, cell, atype), lj.compute(pos, cell, atype), walls.compute(pos)
    assert float(a["energy"]) == pytest.approx(float(b["energy"] + c["energy"]), rel=1e-14)
    torch.testing.assert_close(a["force"], b["force"] + c["force"])
    assert both.identity()["external"]["walls"][0]["epsilon_eV"] == 0.02


def test_md_input_walls_keep_atoms_in_the_slab(tmp_path):
    sites_xy = np.array([(x, y) for x in (1.5, 5.5, 9.5) for y in (1.5, 5.5)])[:5]
    pos = np.column_stack([np.tile(sites_xy, (4, 1)), np.repeat([5.0, 9.0, 13.0, 17.0], 5)])  # 20 atoms in 4 layers
    ase.io.write(tmp_path / "start.extxyz", ase.Atoms("Ar20", positions=pos, cell=[12, 12, 40], pbc=True))
    cfg = {"structure": "start.extxyz", "potential": {"type": "lj", "epsilon_eV": 0.0104, "sigma_A": 3.4,
                                                      "rcut_A": 8.5},
           "walls": [{"type": "lj93", "position_A": 2.0, "epsilon_eV": 0.02, "sigma_A": 3.4},
                     {"type": "lj93", "position_A": 20.0, "epsilon_eV": 0.02, "sigma_A": 3.4, "side": "right"}],
           "ensemble": "nvt-langevin", "temperature_K": 200.0, "timestep_fs": 5.0, "steps": 60, "traj_every": 20,
           "output_dir": "out"}
    (tmp_path / "md.json").write_text(json.dumps(cfg))
    assert main(["md", str(tmp_path / "md.json"), "--no-progress"]) == 0
    last = ase.io.read(tmp_path / "out" / "traj.extxyz", index=-1)
    assert np.all((last.positions[:, 2] > 2.0) & (last.positions[:, 2] < 20.0))
    cfg["walls"][0]["sigma"] = 1.0
    (tmp_path / "bad.json").write_text(json.dumps(cfg))
    assert main(["md", str(tmp_path / "bad.json")]) == 2
