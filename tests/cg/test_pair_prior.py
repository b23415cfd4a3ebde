"""The pair prior of CG models: MS-CG pair forces (known answers), the pair table, its md key and CLI."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
import torch
from helpers import ARGON, KB_EV_K, argon_lattice, argon_system, satellite_system

from deeppot.cg.noise import predicted_forces
from deeppot.cg.pair_fit import fit_pair_forces, subtract_pair_forces
from deeppot.cli.main import main
from deeppot.data import load_system
from deeppot.data.deepmd_npy import write_deepmd_npy
from deeppot.errors import ConfigError
from deeppot.potentials.lj import LennardJones
from deeppot.potentials.pair_table import PairTable, read_pair_table, write_pair_table

RCUT = ARGON["rcut_A"]


def lj_pair_force(r):
    """f = −u'(r) of argon's LJ (positive: repulsive)."""
    s6 = (ARGON["sigma_A"] / r) ** 6
    return 4 * ARGON["epsilon_eV"] * (12 * s6 * s6 - 6 * s6) / r


def lj_table(r_min=2.0, dr=0.001):
    """Argon's LJ, shifted to 0 at the cutoff, as a table."""
    r = np.arange(r_min, RCUT + 1e-9, dr)
    s6 = (ARGON["sigma_A"] / r) ** 6
    sc6 = (ARGON["sigma_A"] / RCUT) ** 6
    return r, 4 * ARGON["epsilon_eV"] * ((s6 * s6 - s6) - (sc6 * sc6 - sc6))


def test_pair_fit_of_lj_argon_recovers_the_lj_pair_force():
    fit = fit_pair_forces([argon_system(nframes=12, seed=1)], RCUT, dr=0.05)
    # exact pair forces: all that is left is the piecewise-linear representation
    assert fit.loss_after < 1e-2 * fit.loss_before
    seen = (fit.nodes > fit.r_min_data[0] + 0.15) & (fit.nodes < RCUT - 0.3)
    err = np.abs(fit.force[0][seen] - lj_pair_force(fit.nodes[seen]))
    assert err.max() < 0.05 * np.abs(lj_pair_force(fit.nodes[seen])).max()
    # the table reproduces the frames' forces
    system = argon_system(nframes=2, seed=7)
    table_forces = predicted_forces(system, fit.potential())
    assert np.sqrt(np.mean((table_forces - system.force) ** 2)) < 0.03 * np.sqrt(np.mean(system.force**2))


def test_pair_fit_on_satellites_reaches_the_noise_floor_k_kT():
    """Ar sites whose molecules carry a spring-bound satellite: the mean force is LJ, the noise k·kT."""
    k_spring, temperature_K = 0.05, 300.0
    system, _exact = satellite_system(20, k_spring, temperature_K, seed=4)
    ar = np.arange(0, system.natoms, 2)
    from dataclasses import replace

    cg = replace(system, type_map=["Ar"], atype=np.zeros(len(ar), dtype=np.int64), coord=system.coord[:, ar],
                 force=system.force[:, ar])
    fit = fit_pair_forces([cg], RCUT, dr=0.1)
    floor = k_spring * KB_EV_K * temperature_K
    n = cg.force.size
    # least squares on the training frames: at most the floor (+ representation error), at least floor − 5σ
    assert floor * (1 - 5 * np.sqrt(2 / n)) < fit.loss_after < 1.05 * floor
    assert fit.loss_before > 2 * floor


def test_pair_table_forces_and_virial_are_derivatives_of_its_energy():
    r, u = lj_table()
    table = PairTable(r, u, ["Ar"])
    pos, box = argon_lattice(np.random.default_rng(2), cells=2)
    pos_t, box_t, atype = torch.as_tensor(pos), torch.as_tensor(box), torch.zeros(len(pos), dtype=torch.long)
    out = table.compute(pos_t, box_t, atype)

    def energy(p, b=box_t):
        return float(table.compute(p, b, atype)["energy"])

    h = 1e-5
    for i, a in ((0, 0), (5, 2), (17, 1)):
        plus, minus = pos_t.clone(), pos_t.clone()
        plus[i, a] += h
        minus[i, a] -= h
        assert float(out["force"][i, a]) == pytest.approx(-(energy(plus) - energy(minus)) / (2 * h), abs=1e-7)
    # virial W = −dE/dε: strain positions and cell together
    eps = 1e-6
    for a, b in ((0, 0), (0, 1), (2, 2)):
        strain = torch.eye(3, dtype=torch.float64)
        strain[a, b] += eps
        e_plus = energy(pos_t @ strain.T, box_t @ strain.T)
        strain[a, b] -= 2 * eps
        e_minus = energy(pos_t @ strain.T, box_t @ strain.T)
        assert float(out["virial"][a, b]) == pytest.approx(-(e_plus - e_minus) / (2 * eps), abs=1e-6)
    # and it is argon's LJ (the table's spline vs the exact pair force)
    lj = LennardJones(**ARGON).compute(pos_t, box_t, atype)
    assert torch.allclose(out["force"], lj["force"], atol=1e-6)


def test_table_round_trip_and_bad_files_are_one_line(tmp_path):
    r, u = lj_table()
    write_pair_table(tmp_path / "t.table", r, u, header="argon")
    r2, u2 = read_pair_table(tmp_path / "t.table")
    assert np.allclose(r2, r, rtol=0, atol=1e-12) and np.allclose(u2[:, 0], u, rtol=1e-9, atol=1e-15)
    cases = {"missing.table": "cannot read",
             "short.table": "≥ 4 rows",
             "uneven.table": "uniform increasing grid",
             "columns.table": r"is not n\(n\+1\)/2"}
    (tmp_path / "short.table").write_text("1 0\n2 0\n")
    (tmp_path / "uneven.table").write_text("1 0\n2 0\n2.5 0\n4 0\n")
    (tmp_path / "columns.table").write_text("\n".join(f"{x} 0 0" for x in range(1, 6)) + "\n")
    for name, match in cases.items():
        with pytest.raises(ConfigError, match=match) as err:
            read_pair_table(tmp_path / name)
        assert name in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="3 energy columns|type_map"):
        PairTable(r, np.column_stack([u, u, u]), ["Ar"])


def test_md_adds_the_pair_table_to_the_potential(tmp_path):
    """LJ split in two halves, one as the potential, one as the table: the same run as full LJ."""
    from ase import Atoms

    pos, box = argon_lattice(np.random.default_rng(5), cells=2)
    ase.io.write(tmp_path / "ar.extxyz", Atoms("Ar32", positions=pos, cell=box, pbc=True))
    r, u = lj_table()
    write_pair_table(tmp_path / "half.table", r, 0.5 * u)
    common = {"structure": "ar.extxyz", "ensemble": "nve", "initial_temperature_K": 60, "timestep_fs": 5,
              "steps": 20, "thermo_every": 5, "traj_every": 0, "seed": 1}
    full = dict(common, potential={"type": "lj", **ARGON}, output_dir="full")
    half = dict(common, potential={"type": "lj", **ARGON, "epsilon_eV": 0.5 * ARGON["epsilon_eV"]},
                pair_table={"file": "half.table"}, output_dir="half")
    for name, cfg in (("full", full), ("half", half)):
        (tmp_path / f"{name}.json").write_text(json.dumps(cfg))
        assert main(["md", str(tmp_path / f"{name}.json")]) == 0
    a = np.loadtxt(tmp_path / "full" / "thermo.log", skiprows=1)
    b = np.loadtxt(tmp_path / "half" / "thermo.log", skiprows=1)
    assert a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-6)
    # a restart with another table is refused (the table is part of the potential's identity)
    write_pair_table(tmp_path / "half.table", r, 0.4 * u)
    half["steps"] = 30
    (tmp_path / "half.json").write_text(json.dumps(half))
    assert main(["md", str(tmp_path / "half.json"), "--restart", str(tmp_path / "half" / "restart.npz")]) == 2


def test_cli_pair_fit_and_subtract_split_forces_into_table_plus_residual(tmp_path, capsys):
    train, held_out = argon_system(nframes=6, seed=1), argon_system(nframes=2, seed=9)
    write_deepmd_npy(train, tmp_path / "train")
    write_deepmd_npy(held_out, tmp_path / "valid")
    assert main(["cg", "pair-fit", str(tmp_path / "train"), "-o", str(tmp_path / "prior.table"), "--rcut",
                 str(RCUT), "--residual", str(tmp_path / "train_res")]) == 0
    assert "6 frames" in capsys.readouterr().out
    assert main(["cg", "subtract", str(tmp_path / "valid"), "--table", str(tmp_path / "prior.table"), "-o",
                 str(tmp_path / "valid_res")]) == 0
    table = PairTable.from_file(tmp_path / "prior.table", ["Ar"])
    for src, res in (("train", "train_res"), ("valid", "valid_res")):
        original, residual = load_system(tmp_path / src), load_system(tmp_path / res)
        prior = predicted_forces(original, table)
        assert np.allclose(residual.force + prior, original.force, atol=1e-10)
        assert np.array_equal(residual.coord, original.coord)
        assert np.abs(residual.force).mean() < 0.1 * np.abs(original.force).mean()  # the pair part is gone
    assert np.allclose(subtract_pair_forces(held_out, table).force, load_system(tmp_path / "valid_res").force)
    # one-line errors, exit code 2, nothing written
    assert main(["cg", "pair-fit", str(tmp_path / "train"), "-o", str(tmp_path / "x.table"), "--rcut", "7",
                 "--residual", "a", "b"]) == 2
    assert "one each" in capsys.readouterr().err
    assert main(["cg", "subtract", str(tmp_path / "valid"), "--table", str(tmp_path / "nope.table"), "-o",
                 str(tmp_path / "v2")]) == 2
    assert "nope.table" in capsys.readouterr().err and not (tmp_path / "v2").exists()
    # an existing residual directory is refused before anything is written
    assert main(["cg", "pair-fit", str(tmp_path / "train"), "-o", str(tmp_path / "new.table"), "--rcut", str(RCUT),
                 "--residual", str(tmp_path / "train_res")]) == 2
    assert "not empty" in capsys.readouterr().err and not (tmp_path / "new.table").exists()


def test_cli_wall_sets_the_force_slope_below_the_closest_pair_and_nothing_else(tmp_path):
    write_deepmd_npy(argon_system(nframes=4, seed=1), tmp_path / "train")
    forces = {}
    for wall in ("20", "100"):
        out = tmp_path / f"wall{wall}.table"
        assert main(["cg", "pair-fit", str(tmp_path / "train"), "-o", str(out), "--rcut", str(RCUT),
                     "--wall", wall]) == 0
        r, u = read_pair_table(out)
        forces[wall] = -np.gradient(u[:, 0], r)
    r_min = fit_pair_forces([argon_system(nframes=4, seed=1)], RCUT).r_min_data[0]
    wall_start = np.floor(r_min / 0.05) * 0.05  # the first node of the fitted force
    above, deep = r >= wall_start + 0.01, r < wall_start - 0.3
    np.testing.assert_allclose(forces["100"][above], forces["20"][above], atol=1e-6)  # the fit is unchanged
    # below it the force grows linearly with the given slope
    slope = {w: np.polyfit(r[deep], f[deep], 1)[0] for w, f in forces.items()}
    assert slope["20"] == pytest.approx(-20, rel=1e-3) and slope["100"] == pytest.approx(-100, rel=1e-3)
    assert main(["cg", "pair-fit", str(tmp_path / "train"), "-o", str(tmp_path / "x.table"), "--rcut", str(RCUT),
                 "--wall", "-1"]) == 2
