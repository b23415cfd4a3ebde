"""CG maps with known answers: identity, satellites on springs, COM sums, wrapping, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import ARGON, KB_EV_K, argon_system, satellite_system

from deeppot.cg import build_map, com_map, force_matching_loss, map_trajectories, read_index_file, site_map
from deeppot.data import load_system
from deeppot.data.deepmd_npy import write_deepmd_npy
from deeppot.errors import DeeppotError
from deeppot.potentials.lj import LennardJones

WATER = Path(__file__).resolve().parents[2] / "examples" / "water" / "data" / "data_0"


def test_identity_map_of_lj_argon_gives_back_lj_forces_exactly():
    system = argon_system()
    cgmap = build_map(system, site=["Ar"], mass="atom")
    cg = cgmap.apply(system)
    assert cg.type_map == ["Ar"] and cgmap.masses == pytest.approx(39.948)
    assert np.array_equal(cg.force, system.force)  # zero noise: f is the mean force
    frac = cg.coord @ np.linalg.inv(cg.box[0])
    assert np.all((frac >= 0) & (frac < 1))
    d = (cg.coord - system.coord) @ np.linalg.inv(cg.box[0])
    assert np.allclose(d, np.round(d), atol=1e-12)  # same atoms, moved by lattice vectors only
    assert force_matching_loss(cg, LennardJones(**ARGON)) < 1e-24


def test_satellites_on_springs_give_back_site_potential_and_noise_floor_k_kT(tmp_path):
    k, temperature = 2.0, 300.0
    system, exact = satellite_system(nframes=60, k_spring=k, temperature_K=temperature)
    index = tmp_path / "pairs.index"
    index.write_text("".join(f"{i} {i + 1}\n" for i in range(0, system.natoms, 2)))
    cg, cgmap = map_trajectories([_save(system, tmp_path / "aa")], site=["Ar"], index_file=index)
    assert cgmap.masses == pytest.approx(39.948 + 4.002602)
    assert np.allclose(cg.coord % cg.box[0, 0, 0], system.coord[:, 0::2] % cg.box[0, 0, 0], atol=1e-9)
    # the mean force at fixed argon positions is the LJ force: noise = f − F_LJ = k·stretch
    lj = LennardJones(**ARGON)
    floor = force_matching_loss(cg, lj)
    k_kT = k * KB_EV_K * temperature
    n = cg.force.size
    assert abs(floor - k_kT) < 4 * k_kT * np.sqrt(2 / n)  # variance estimate of n Gaussian samples
    assert np.allclose(cg.force - exact, system.force[:, 0::2] - exact)
    # any other potential sits above the floor by its mean-force error (SCIENCE.md §5.2 decomposition)
    wrong = LennardJones(epsilon_eV=1.3 * ARGON["epsilon_eV"], sigma_A=ARGON["sigma_A"], rcut_A=ARGON["rcut_A"])
    from deeppot.cg import predicted_forces

    excess = np.mean((exact - predicted_forces(cg, wrong)) ** 2)
    assert force_matching_loss(cg, wrong) == pytest.approx(floor + excess, rel=0.02)


def test_com_forces_are_summed_atomic_forces_and_total_force_is_conserved():
    system = load_system(WATER).subset(slice(0, 4))
    cgmap = build_map(system, com=True)
    cg = cgmap.apply(system)
    assert cgmap.nsites == 64 and cg.type_map == ["O"]
    assert cgmap.masses == pytest.approx(np.full(64, 15.999 + 2 * 1.008), abs=1e-3)
    for site, group in enumerate(cgmap.groups):
        assert sorted(system.symbols()[i] for i in group) == ["H", "H", "O"]
        assert np.allclose(cg.force[:, site], system.force[:, group].sum(1), rtol=0, atol=1e-12)
    assert np.allclose(cg.force.sum(1), system.force.sum(1), rtol=0, atol=1e-10)


def test_com_of_a_molecule_split_by_the_boundary_is_whole():
    system = load_system(WATER).subset(slice(0, 2))
    cgmap = build_map(system, com=True)
    ref = cgmap.apply(system)
    moved = system.subset(slice(0, 2))
    moved.coord = system.coord.copy()
    box = system.box[0]
    for k, group in enumerate(cgmap.groups[:10]):  # move single atoms by lattice vectors
        moved.coord[:, group[k % 3]] += box[k % 3] * (1 if k % 2 else -1)
    cg = cgmap.apply(moved)
    assert np.allclose(cg.coord, ref.coord, atol=1e-9)
    mass = np.array([15.999, 1.008, 1.008])
    group = cgmap.groups[5]
    order = np.argsort([0 if system.symbols()[i] == "O" else 1 for i in group], kind="stable")
    pos = system.coord[0, group[order]]
    d = pos - pos[0]
    d -= box[0, 0] * np.round(d / box[0, 0])
    com = (pos[0] + (mass[:, None] * d).sum(0) / mass.sum()) % box[0, 0]
    assert np.allclose(ref.coord[0, 5], com, atol=1e-3)


def test_site_map_of_water_takes_the_oxygen_forces(tmp_path):
    system = load_system(WATER).subset(slice(0, 3))
    cg = site_map(system.symbols(), ["O"], mass="atom").apply(system)
    oxygens = [i for i, s in enumerate(system.symbols()) if s == "O"]
    assert np.array_equal(cg.force, system.force[:, oxygens])
    frac = np.einsum("fni,fij->fnj", cg.coord, np.linalg.inv(cg.box))
    assert np.all((frac >= 0) & (frac < 1))


def test_output_directory_is_a_trainable_system_with_masses(tmp_path):
    out = tmp_path / "cg"
    cg, cgmap = map_trajectories([WATER], out, site=["O"], every=20)
    assert sorted(p.name for p in out.iterdir()) == ["cg.json", "set.000", "sites.index", "structure.extxyz",
                                                     "type.raw", "type_map.raw"]
    assert not (out / "set.000" / "energy.npy").exists()
    again = load_system(out)
    assert again.energy is None and np.allclose(again.force, cg.force) and again.nframes == 4
    meta = json.loads((out / "cg.json").read_text())
    assert meta["masses_amu"] == {"O": pytest.approx(18.015)} and meta["kind"] == "site"
    import ase.io

    atoms = ase.io.read(out / "structure.extxyz")
    assert np.allclose(atoms.get_masses(), 18.015) and atoms.get_chemical_symbols() == ["O"] * 64
    lines = (out / "sites.index").read_text().splitlines()[1:]
    assert [int(t) for t in lines[1].split()] == cgmap.groups[1].tolist() and len(lines) == 64
    with pytest.raises(DeeppotError, match="not empty"):
        map_trajectories([WATER], out, site=["O"])
    map_trajectories([WATER], out, site=["O"], every=40, force=True)
    assert load_system(out).nframes == 2


def test_several_trajectories_are_concatenated(tmp_path):
    a = _save(argon_system(2, seed=1), tmp_path / "a")
    b = _save(argon_system(3, seed=2), tmp_path / "b")
    cg, _ = map_trajectories([a, b], site=["Ar"], mass=40.0)
    assert cg.nframes == 5


@pytest.mark.parametrize("kwargs, match", [
    ({"site": ["N"]}, "site species N not in the trajectory"),
    ({"site": ["O"], "com": True}, "choose one map"),
    ({}, "choose one map"),
    ({"site": ["O", "H"]}, "holds 3 site atoms"),
    ({"com": True, "names": {"H3O": "X"}}, "no molecule with that formula"),
])
def test_bad_maps_are_one_line(kwargs, match):
    system = load_system(WATER).subset(slice(0, 1))
    with pytest.raises(DeeppotError, match=match):
        build_map(system, **kwargs)


def test_two_formulas_with_one_name_are_refused():
    symbols = ["O", "H", "H", "O", "H"]
    groups = [np.array([0, 1, 2]), np.array([3, 4])]
    with pytest.raises(DeeppotError, match="name them apart"):
        com_map(symbols, groups)
    assert com_map(symbols, groups, {"HO": "N"}).type_map == ["O", "N"]


@pytest.mark.parametrize("text, match", [
    ("0 1\n1 2\n", "more than one molecule"), ("0 1 x\n", "must be integers"), ("0 9\n", "out of range"),
    ("0 1\n", "in no molecule"), ("# nothing\n", "no molecules"), ("0 0 1 2\n", "listed twice"),
])
def test_bad_index_files_are_one_line(tmp_path, text, match):
    path = tmp_path / "idx"
    path.write_text(text)
    with pytest.raises(DeeppotError, match=match):
        read_index_file(path, 3)


def test_trajectory_without_forces_is_one_line(tmp_path):
    system = argon_system(1)
    system.force = None
    with pytest.raises(DeeppotError, match="no forces"):
        map_trajectories([_save(system, tmp_path / "nf")], site=["Ar"])


def _save(system, path: Path) -> Path:
    write_deepmd_npy(system, path)
    return path
