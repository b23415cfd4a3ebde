"""``deeppot md`` under mistakes and hostile inputs: foreign restarts, reused output dirs, code in
configs, full disks, huge coordinates and overlapping atoms. Each ends in one line, exit 2, and
leaves earlier files as they were."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from deeppot.cli.main import main

LJ = {"type": "lj", "epsilon_eV": 0.0104, "sigma_A": 3.4, "rcut_A": 5.0}


def argon(**changes) -> Atoms:
    atoms = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=2)
    for key, value in changes.items():
        if key == "symbol":
            atoms.symbols[value[0]] = value[1]
        elif key == "mass":
            masses = atoms.get_masses()
            masses[value[0]] = value[1]
            atoms.set_masses(masses)
        elif key == "scale_cell":
            atoms.set_cell(atoms.cell * value, scale_atoms=True)
        elif key == "pbc":
            atoms.pbc = value
            if not value:
                atoms.cell = None
        elif key == "natoms":
            atoms = atoms[:value]
    return atoms


def write_input(directory: Path, name: str = "md", structure: Atoms | None = None, **overrides) -> Path:
    (structure if structure is not None else argon()).write(directory / f"{name}.xyz")
    cfg = {"structure": f"{name}.xyz", "potential": LJ, "ensemble": "nvt-bussi", "temperature_K": 100,
           "timestep_fs": 4.0, "steps": 40, "thermo_every": 5, "traj_every": 10, "restart_every": 20, "seed": 3,
           "output_dir": "out", **overrides}
    path = directory / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return path


def snapshot(directory: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert err and err[-1].startswith("deeppot: error: ") and not any("Traceback" in line for line in err)
    return err[-1]


@pytest.fixture
def finished_run(tmp_path, capsys):
    """A 40-step argon run in tmp_path/out, with restart.npz at step 40."""
    path = write_input(tmp_path)
    assert main(["md", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    return tmp_path


# ----- restarts of another system / ensemble / potential --------------------------------------------------
@pytest.mark.parametrize("structure,overrides,expected", [
    (argon(natoms=30), {}, "restart.npz: 32 atoms but structure other.xyz has 30"),
    (argon(symbol=(5, "Kr")), {}, "restart.npz: atom 5 is Ar but Kr in structure other.xyz"),
    (argon(mass=(3, 40.5)), {}, "restart.npz: atom 3 has mass 39.948 amu but 40.5 in structure other.xyz"),
    (argon(pbc=False), {}, "restart.npz: a periodic cell but structure other.xyz is open"),
    (argon(scale_cell=1.01), {}, "differs from structure other.xyz's"),
    (argon(), {"ensemble": "nvt-langevin"}, "restart.npz: ensemble nvt-bussi but this input runs nvt-langevin"),
    (argon(), {"potential": {**LJ, "sigma_A": 3.3}}, "restart.npz: made with lj potential (parameters sha256"),
    (argon(), {"potential": {**LJ, "type_map": ["Kr", "Ar"]}},
     "restart.npz: type_map ['Ar'] but this input's potential uses ['Kr', 'Ar']"),
])
def test_restart_of_another_system_is_refused_and_nothing_is_modified(finished_run, capsys, structure, overrides,
                                                                      expected):
    out = finished_run / "out"
    before = snapshot(out)
    other = write_input(finished_run, "other", structure, steps=80, **overrides)
    code = main(["md", str(other), "--restart", str(out / "restart.npz"), "--no-progress"])
    assert expected in one_line_error(capsys, code)
    assert snapshot(out) == before


def test_matching_restart_continues(finished_run, capsys):
    path = write_input(finished_run, steps=60)
    assert main(["md", str(path), "--restart", str(finished_run / "out/restart.npz"), "--no-progress"]) == 0
    assert int((finished_run / "out/thermo.log").read_text().splitlines()[-1].split()[0]) == 60


@pytest.mark.parametrize("ensemble", ["nve", "nvt-langevin", "nvt-bussi", "nvt-nhc", "nvt-berendsen", "npt-csr"])
def test_every_ensemble_resumes_bit_exactly_from_any_step(tmp_path, capsys, ensemble):
    """A run stopped at step 47 (not a restart_every multiple, as after SIGTERM) and resumed
    ends with the bytes of an uninterrupted run: ensemble state, RNG and neighbour list restored."""
    opts = {"ensemble": ensemble, "temperature_K": 150, "skin_A": 0.2, "steps": 90}
    if ensemble == "npt-csr":
        opts.update(pressure_bar=1000.0, tau_p_fs=200.0)
    (tmp_path / "ref").mkdir()
    assert main(["md", str(write_input(tmp_path / "ref", **opts)), "--no-progress"]) == 0
    assert main(["md", str(write_input(tmp_path, **{**opts, "steps": 47})), "--no-progress"]) == 0
    path = write_input(tmp_path, **opts)
    assert main(["md", str(path), "--restart", str(tmp_path / "out/restart.npz"), "--no-progress"]) == 0
    for name in ("thermo.log", "traj.extxyz", "restart.npz"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "ref/out" / name).read_bytes(), name


def test_restart_from_step_zero_does_not_repeat_step_zero(tmp_path, capsys):
    (tmp_path / "ref").mkdir()
    assert main(["md", str(write_input(tmp_path / "ref")), "--no-progress"]) == 0
    path = write_input(tmp_path, steps=0)
    assert main(["md", str(path), "--no-progress"]) == 0
    path = write_input(tmp_path)
    assert main(["md", str(path), "--restart", str(tmp_path / "out/restart.npz"), "--no-progress"]) == 0
    for name in ("thermo.log", "traj.extxyz", "restart.npz"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "ref/out" / name).read_bytes(), name


def test_restart_without_checks_meta_is_accepted_with_a_warning(finished_run, capsys, caplog):
    """Restarts written before the checks existed: the system is still checked, the potential cannot be."""
    from deeppot.md.restart import _npz_bytes

    restart = finished_run / "out/restart.npz"
    with np.load(restart) as data:
        arrays = {k: data[k] for k in data.files if not k.startswith("verlet/")}
    meta = json.loads(str(arrays["meta"]))
    for key in ("format", "potential", "type_map", "natoms"):
        meta.pop(key)
    arrays["meta"] = np.array(json.dumps(meta))
    restart.write_bytes(_npz_bytes(arrays))
    path = write_input(finished_run, steps=60)
    assert main(["md", str(path), "--restart", str(restart), "--no-progress"]) == 0
    assert "predates restart checks" in caplog.text
    other = write_input(finished_run, "other", argon(natoms=30), steps=80)
    write_input(finished_run, steps=60)  # restore md.xyz (unchanged) for clarity
    code = main(["md", str(other), "--restart", str(restart), "--no-progress"])
    assert "32 atoms but structure other.xyz has 30" in one_line_error(capsys, code)


def test_model_identity_is_the_file_content(parity_dir, tmp_path):
    import shutil

    from deeppot.md.restart import potential_identity

    shutil.copy(parity_dir / "se_e2_a_one_side.dp", tmp_path / "renamed.dp")
    one = potential_identity({"type": "deeppot", "model": "se_e2_a_one_side.dp"}, parity_dir, None)
    same = potential_identity({"type": "deeppot", "model": "renamed.dp"}, tmp_path, None)
    other = potential_identity({"type": "deeppot", "model": "se_e2_a_two_side.dp"}, parity_dir, None)
    assert one["hash"] == same["hash"] != other["hash"]
    assert "se_e2_a_two_side.dp (sha256 " in other["describe"]


def test_restart_of_another_model_is_refused(parity_dir, tmp_path):
    import torch

    from deeppot.errors import DataError
    from deeppot.md.output import state_to_atoms
    from deeppot.md.restart import check_restart, potential_identity
    from deeppot.md.state import MDState

    atoms = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    state = MDState(torch.as_tensor(atoms.positions), torch.zeros(3, 3), torch.as_tensor(atoms.get_masses()),
                    torch.tensor([0, 1, 1]), None, atoms.get_chemical_symbols())
    made = potential_identity({"type": "deeppot", "model": "se_e2_a_one_side.dp"}, parity_dir, None)
    now = potential_identity({"type": "deeppot", "model": "se_e2_a_two_side.dp"}, parity_dir, None)
    meta = {"format": 2, "ensemble": "nve", "type_map": ["O", "H"], "potential": made}
    assert check_restart("r.npz", state, meta, state_to_atoms(state), "w.xyz", ["O", "H"], "nve", made) == []
    with pytest.raises(DataError, match=r"r.npz: made with deeppot model se_e2_a_one_side.dp \(sha256 .*\) but this "
                                        r"input's potential is deeppot model se_e2_a_two_side.dp"):
        check_restart("r.npz", state, meta, state_to_atoms(state), "w.xyz", ["O", "H"], "nve", now)


def test_garbage_restart_file_is_one_line(finished_run, capsys):
    bad = finished_run / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code = main(["md", str(write_input(finished_run)), "--restart", str(bad), "--no-progress"])
    assert "bad.npz: not a deeppot md restart file" in one_line_error(capsys, code)


# ----- an earlier run's outputs are never deleted without --force ---------------------------------------------
def test_fresh_run_into_used_output_dir_is_refused_unless_force(finished_run, capsys):
    out = finished_run / "out"
    before = snapshot(out)
    path = write_input(finished_run, steps=20)
    message = one_line_error(capsys, main(["md", str(path), "--no-progress"]))
    assert "holds thermo.log, traj.extxyz, restart.npz of an earlier run" in message
    assert "--restart" in message and "--force" in message
    assert snapshot(out) == before
    assert main(["md", str(path), "--no-progress", "--force"]) == 0
    assert int((out / "thermo.log").read_text().splitlines()[-1].split()[0]) == 20


# ----- configs cannot run code -------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["os:system", "builtins:eval", "subprocess:run", "ase.io:read"])
def test_ase_calculator_must_be_a_calculator_class(tmp_path, capsys, monkeypatch, spec):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    path = write_input(tmp_path, potential={"type": "ase", "calculator": spec, "kwargs": {}})
    message = one_line_error(capsys, main(["md", str(path), "--no-progress"]))
    assert f"ASE calculator '{spec}' is not an ASE calculator class" in message
    assert calls == [] and not (tmp_path / "out").exists()


def test_ase_calculator_classes_still_work():
    from deeppot.potentials.ase_adapter import make_calculator

    assert type(make_calculator("emt")).__name__ == "EMT"
    assert type(make_calculator("ase.calculators.lj:LennardJones", {"sigma": 3.4})).__name__ == "LennardJones"


# ----- numerical hazards -------------------------------------------------------------------------------------
def test_open_boundary_atoms_far_apart_run_with_a_deeppot_model(parity_dir, tmp_path):
    """Two water molecules 1e6 Å apart (2-D spread): vesin 0.6 died with SIGFPE here."""
    water = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    far = water.copy()
    far.positions += [1e6, 1e6, 0]
    (water + far).write(tmp_path / "far.xyz")
    cfg = {"structure": "far.xyz", "potential": {"type": "deeppot", "model": str(parity_dir / "se_e2_a_one_side.dp")},
           "ensemble": "nve", "timestep_fs": 0.1, "steps": 4, "thermo_every": 1, "traj_every": 2}
    (tmp_path / "far.json").write_text(json.dumps(cfg))
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "md", "far.json", "--no-progress"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    data = np.loadtxt(tmp_path / "md_out/thermo.log", skiprows=1)
    assert data.shape == (5, 9) and np.isfinite(data[:, :7]).all()


def test_open_boundary_far_pairs_equal_vesin_pairs():
    from deeppot.core.neighbor import OPEN_EXTENT_CELLS, build_edges

    rng = np.random.default_rng(0)
    cluster = rng.random((40, 3)) * 8
    near = build_edges(cluster, None, 3.0)
    far = build_edges(np.vstack([cluster, [[OPEN_EXTENT_CELLS * 3.0 * 10, 0, 0]]]), None, 3.0)
    key = lambda e: sorted(zip(e.center.tolist(), e.neighbor.tolist()))  # noqa: E731
    assert len(near) > 100 and key(near) == key(far)


@pytest.mark.parametrize("where,expected", [
    ((7, [1e12, 0, 0]), "initial structure: atom(s) 7 at 1e+12 Å from the origin"),
    ((7, None), "initial structure: atoms 3 and 7 are 0.100 Å apart (< min_distance_A 0.5)"),
])
def test_hazardous_initial_structure_names_the_atoms(tmp_path, capsys, where, expected):
    atoms = argon(pbc=False)
    index, position = where
    atoms.positions[index] = position if position is not None else atoms.positions[3] + [0.1, 0, 0]
    path = write_input(tmp_path, structure=atoms, ensemble="nve")
    message = one_line_error(capsys, main(["md", str(path), "--no-progress"]))
    assert expected in message
    assert not (tmp_path / "out").exists()  # checked before any output was made


# ----- full disk ---------------------------------------------------------------------------------------------
def full_disk_after(monkeypatch, target: str, nth: int):
    """os.write fails with ENOSPC from the nth write to a file whose name contains ``target``;
    that write first goes half through, as a real short write on a filling disk does."""
    real = os.write
    count = {"n": 0, "full": False}

    def write(fd, data):
        name = os.readlink(f"/proc/self/fd/{fd}")
        if target in os.path.basename(name):
            count["n"] += 1
            if count["full"]:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if count["n"] >= nth:
                count["full"] = True
                return real(fd, bytes(data)[: max(1, len(data) // 2)])
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name file descriptors")
@pytest.mark.parametrize("target,nth", [("traj.extxyz", 3), ("thermo.log", 9), (".restart.npz", 2)])
def test_full_disk_is_one_line_and_resume_after_freeing_space_is_exact(tmp_path, capsys, monkeypatch, target, nth):
    (tmp_path / "ref").mkdir()
    (tmp_path / "full").mkdir()
    ref = write_input(tmp_path / "ref", steps=100)
    assert main(["md", str(ref), "--no-progress"]) == 0
    path = write_input(tmp_path / "full", steps=100)
    with monkeypatch.context() as patch:
        full_disk_after(patch, target, nth)
        message = one_line_error(capsys, main(["md", str(path), "--no-progress"]))
    assert "no space left on device" in message and target.strip(".") in message
    out = tmp_path / "full/out"
    from deeppot.md.output import THERMO_COLUMNS, thermo_prefix, trajectory_prefix

    # nothing partial: every file holds whole records, and the restart file is a good earlier one
    assert trajectory_prefix(out / "traj.extxyz", 10**9) == (out / "traj.extxyz").stat().st_size
    assert thermo_prefix(out / "thermo.log", 10**9, THERMO_COLUMNS) == (out / "thermo.log").stat().st_size
    with np.load(out / "restart.npz") as data:
        step = json.loads(str(data["meta"]))["step"]
    assert step % 20 == 0 and step < 100
    assert not list(out.glob(".*.tmp"))
    # space freed: resuming ends with the bytes of the uninterrupted run
    assert main(["md", str(path), "--restart", str(out / "restart.npz"), "--no-progress"]) == 0
    for name in ("thermo.log", "traj.extxyz", "restart.npz"):
        assert (out / name).read_bytes() == (tmp_path / "ref/out" / name).read_bytes(), name


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_md_outputs_respect_the_umask(tmp_path, capsys, umask):
    old = os.umask(umask)
    try:
        assert main(["md", str(write_input(tmp_path, steps=20)), "--no-progress"]) == 0
    finally:
        os.umask(old)
    for name in ("thermo.log", "traj.extxyz", "restart.npz"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~umask


@pytest.mark.parametrize("damage,expected", [
    ("old_traj", "traj.extxyz: frame 0 carries no step= (written by an older deeppot?)"),
    ("other_log", "thermo.log: columns 'step time_ps temperature_K' differ from this run's"),
])
def test_outputs_that_cannot_be_cut_to_the_restart_step_are_refused_untouched(finished_run, capsys, damage,
                                                                               expected):
    import ase.io

    out = finished_run / "out"
    if damage == "old_traj":
        ase.io.write(out / "traj.extxyz", argon(), format="extxyz")  # no step= in the comment line
    else:
        (out / "thermo.log").write_text("step time_ps temperature_K\n0 0 100\n")
    before = snapshot(out)
    path = write_input(finished_run, steps=60)
    message = one_line_error(capsys, main(["md", str(path), "--restart", str(out / "restart.npz"), "--no-progress"]))
    assert expected in message
    assert snapshot(out) == before
