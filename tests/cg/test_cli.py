"""``deeppot cg map`` on deeppot md's own trajectory, and its one-line errors."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from helpers import ARGON, argon_lattice

from deeppot.cli.main import main
from deeppot.data import load_system


@pytest.fixture
def argon_md(tmp_path):
    """A short LJ argon NVT run of deeppot md: traj.extxyz with step=, time_fs= and forces."""
    from ase import Atoms

    pos, box = argon_lattice(np.random.default_rng(3), cells=2)
    ase.io.write(tmp_path / "ar.extxyz", Atoms("Ar32", positions=pos, cell=box, pbc=True))
    md = {"structure": "ar.extxyz", "potential": {"type": "lj", **ARGON, "rcut_A": 5.3},
          "ensemble": "nvt-langevin", "temperature_K": 90, "timestep_fs": 5, "steps": 40, "traj_every": 10,
          "thermo_every": 10, "output_dir": "md_out"}
    (tmp_path / "md.json").write_text(json.dumps(md))
    assert main(["md", str(tmp_path / "md.json")]) == 0
    return tmp_path / "md_out" / "traj.extxyz"


def test_map_of_md_trajectory_keeps_its_forces(argon_md, tmp_path, capsys):
    out = tmp_path / "cg"
    assert main(["cg", "map", str(argon_md), "-o", str(out), "--site", "Ar", "--skip", "1"]) == 0
    assert "32 atoms -> 32 sites" in capsys.readouterr().out
    frames = ase.io.read(argon_md, index="1:")
    assert "time_fs" in frames[0].info
    cg = load_system(out)
    assert cg.nframes == len(frames) == 4
    assert np.array_equal(cg.force, np.array([a.get_forces() for a in frames]))
    assert json.loads((out / "cg.json").read_text())["masses_amu"] == {"Ar": pytest.approx(39.948)}


def test_com_map_with_index_file_on_the_command_line(tmp_path, water_data, capsys):
    index = tmp_path / "mol.index"
    from deeppot.cg import find_molecules

    system = load_system(water_data / "data_0")
    groups = find_molecules(system.symbols(), system.coord[0], system.box[0])
    index.write_text("# water molecules\n" + "".join(" ".join(map(str, g)) + "\n" for g in groups))
    out = tmp_path / "cg"
    assert main(["cg", "map", str(water_data / "data_0"), "-o", str(out), "--com", "--index", str(index),
                 "--name", "H2O=O", "--every", "40"]) == 0
    assert "(com): 192 atoms -> 64 sites, 64 molecules; 2 frames" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["--site", "O", "--com"], "not allowed with argument"),
    (["--site", "O", "--mass", "heavy"], "--mass heavy: use molecule, atom or a mass in amu"),
    (["--site", "O", "--mass", "-1"], "positive number"),
    (["--com", "--mass", "atom"], "--mass applies to --site"),
    (["--site", "O", "--name", "H2O=O"], "--name applies to --com"),
    (["--com", "--name", "H2O"], "FORMULA=NAME"),
    (["--site", "Xx"], "site species Xx not in the trajectory"),
    (["--site", "O", "--every", "0"], "must be > 0"),
])
def test_bad_options_are_one_line(tmp_path, water_data, capsys, argv, match):
    code = main(["cg", "map", str(water_data / "data_0"), "-o", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("deeppot: error:") and err.count("\n") == 1 and match in err
    assert not (tmp_path / "out").exists()


def test_missing_trajectory_names_the_file(tmp_path, capsys):
    assert main(["cg", "map", str(tmp_path / "nope.extxyz"), "-o", str(tmp_path / "o"), "--site", "O"]) == 2
    assert "nope.extxyz: no such file" in capsys.readouterr().err


def _write_ipi(path, key, values, box, names, dimension, units):
    """Frames written by i-PI's own trajectory writer (as <trajectory> outputs are)."""
    from ipi.engine.atoms import Atoms as IpiAtoms
    from ipi.engine.cell import Cell
    from ipi.utils.io import print_file
    from ipi.utils.units import unit_to_internal

    with open(path, "w") as handle:
        for f in range(len(values)):
            atoms = IpiAtoms(len(names))
            atoms.names[:] = names
            atoms.q[:] = values[f].ravel() * unit_to_internal(dimension, {"length": "angstrom",
                                                                          "force": "ev/ang"}[dimension], 1.0)
            cell = Cell(box[f].T * unit_to_internal("length", "angstrom", 1.0))
            print_file("xyz", atoms, cell, handle, title=f"Step: {f}  Bead: 0 ", key=key, dimension=dimension,
                       units=units, cell_units="angstrom")


def test_map_of_ipi_output(tmp_path):
    pytest.importorskip("ipi")
    from helpers import argon_system

    from deeppot.cg import map_trajectories

    system = argon_system(2)
    names = ["Ar"] * system.natoms
    _write_ipi(tmp_path / "sim.pos_0.xyz", "positions", system.coord, system.box, names, "length", "angstrom")
    _write_ipi(tmp_path / "sim.for_0.xyz", "forces", system.force, system.box, names, "force", "atomic_unit")
    out = tmp_path / "cg"
    assert main(["cg", "map", str(tmp_path / "sim.pos_0.xyz"), "--ipi-forces", str(tmp_path / "sim.for_0.xyz"),
                 "-o", str(out), "--site", "Ar"]) == 0
    cg = load_system(out)
    assert np.allclose(cg.force, system.force, rtol=1e-5, atol=1e-8)  # i-PI's xyz keeps 6 digits
    assert np.allclose(cg.box, system.box, atol=1e-5)
    d = (cg.coord - system.coord) / system.box[0, 0, 0]
    assert np.allclose(d, np.round(d), atol=1e-5)
    from deeppot.errors import DeeppotError

    with pytest.raises(DeeppotError, match="one each"):
        map_trajectories([tmp_path / "sim.pos_0.xyz"] * 2, site=["Ar"], ipi_forces=[tmp_path / "sim.for_0.xyz"])
    with pytest.raises(DeeppotError, match="0 frames but|not an i-PI|no frames"):
        (tmp_path / "empty.xyz").write_text("")
        map_trajectories([tmp_path / "sim.pos_0.xyz"], site=["Ar"], ipi_forces=[tmp_path / "empty.xyz"])
