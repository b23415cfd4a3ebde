"""Any labelled file ASE can read (extxyz first of all), to and from :class:`System`.

Labels are taken from the attached calculator when ASE made one, else from the common
``info``/``arrays`` keys (``energy``/``REF_energy``, ``forces``/``REF_forces``, ``virial``,
``stress``). The virial is DeePMD's: ``virial = -stress * V`` (stress in ASE's Voigt order
xx yy zz yz xz xy, or 3x3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.data.system import System
from deeppot.data.type_map import types_of
from deeppot.errors import DataError
from deeppot.fileio import atomic_path

ENERGY_KEYS = ("energy", "REF_energy", "free_energy", "Energy", "energy_eV")
FORCE_KEYS = ("forces", "REF_forces", "force", "forces_eV_A")
VIRIAL_KEYS = ("virial", "REF_virial", "virials")
STRESS_KEYS = ("stress", "REF_stress")


def _voigt_to_matrix(stress: np.ndarray) -> np.ndarray:
    stress = np.asarray(stress, dtype=np.float64).reshape(-1)
    if stress.size == 9:
        return stress.reshape(3, 3)
    xx, yy, zz, yz, xz, xy = stress
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def _labels(atoms) -> dict:
    out: dict = {}
    calc = atoms.calc
    results = getattr(calc, "results", {}) if calc is not None else {}
    for key in ENERGY_KEYS:
        if key in results:
            out["energy"] = float(results[key])
            break
        if key in atoms.info:
            out["energy"] = float(atoms.info[key])
            break
    for key in FORCE_KEYS:
        if key in results:
            out["force"] = np.asarray(results[key], dtype=np.float64)
            break
        if key in atoms.arrays:
            out["force"] = np.asarray(atoms.arrays[key], dtype=np.float64)
            break
    for key in VIRIAL_KEYS:
        if key in atoms.info:
            out["virial"] = np.asarray(atoms.info[key], dtype=np.float64).reshape(3, 3)
            break
    else:
        for key in STRESS_KEYS:
            stress = results.get(key, atoms.info.get(key))
            if stress is not None and atoms.pbc.all():
                out["virial"] = -_voigt_to_matrix(stress) * atoms.get_volume()
                break
    return out


def read_ase(path: Path, fmt: str | None = None, type_map: list[str] | None = None) -> System:
    import ase.io

    try:
        frames = ase.io.read(str(path), index=":", format=fmt)
    except Exception as err:  # ASE raises many kinds of parse errors
        raise DataError(f"{path}: cannot read with ASE ({type(err).__name__}: {err})") from None
    if not frames:
        raise DataError(f"{path}: no frames")
    symbols = frames[0].get_chemical_symbols()
    for k, atoms in enumerate(frames):
        if atoms.get_chemical_symbols() != symbols:
            raise DataError(f"{path}: frame {k} has different atoms than frame 0 (one system = one set of atoms)")
    names = list(type_map) if type_map else list(dict.fromkeys(symbols))
    atype = types_of(symbols, names, str(path))
    pbc = [bool(a.pbc.all()) for a in frames]
    if any(pbc) and not all(pbc):
        raise DataError(f"{path}: frames mix periodic and open boundaries")
    if any(a.pbc.any() and not a.pbc.all() for a in frames):
        raise DataError(f"{path}: partly periodic cells are not supported")
    labels = [_labels(a) for a in frames]

    def collect(name):
        have = [name in lab for lab in labels]
        if not any(have):
            return None
        if not all(have):
            raise DataError(f"{path}: '{name}' is given for some frames only")
        return np.array([lab[name] for lab in labels], dtype=np.float64)

    return System(str(path), names, atype, np.array([a.get_positions() for a in frames]),
                  np.array([np.asarray(a.cell) for a in frames]) if pbc[0] else None,
                  collect("energy"), collect("force"), collect("virial"))


def to_atoms(system: System, frame: int):
    """One frame as ``ase.Atoms`` with a SinglePointCalculator carrying its labels."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms(symbols=system.symbols(), positions=system.coord[frame],
                  cell=None if system.box is None else system.box[frame], pbc=system.box is not None)
    results = {}
    if system.energy is not None:
        results["energy"] = float(system.energy[frame])
        results["free_energy"] = float(system.energy[frame])
    if system.force is not None:
        results["forces"] = system.force[frame]
    if system.virial is not None and system.box is not None:
        stress = -system.virial[frame] / atoms.get_volume()
        results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]
    if results:
        atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def refuse_existing(path: str | Path, force: bool) -> None:
    """One line instead of overwriting a file the user did not ask to replace."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory")
    if (path.exists() or path.is_symlink()) and not force:
        raise DataError(f"{path}: exists (choose a new name, or --force to replace it)")


def write_extxyz(system: System, path: str | Path, force: bool = False) -> None:
    """Write all frames as extended XYZ (energy, forces, stress), atomically.

    An existing ``path`` is replaced only with ``force``.
    """
    import ase.io

    refuse_existing(path, force)
    frames = [to_atoms(system, f) for f in range(system.nframes)]
    with atomic_path(path) as tmp:
        ase.io.write(str(tmp), frames, format="extxyz")
