"""Format conversion over dpdata's readers and writers (VASP, LAMMPS, CP2K, QE, ABACUS, ...).

deeppot's own readers handle DeePMD npy/raw and ASE formats (with validation); every other
format goes through dpdata (``pip install dpdata``), the DeePMD ecosystem's converter, as in
DeePMD-kit's "Prepare data" guide. Writers: DeePMD npy and extxyz natively (atomically), the
rest through dpdata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.data.system import System, load_system
from deeppot.errors import DataError

NATIVE_READ = {"deepmd/npy", "deepmd/raw", "deepmd", "extxyz", "xyz", "ase", "auto"}


def _dpdata():
    try:
        import dpdata
    except ImportError:
        raise DataError("this format needs dpdata: pip install dpdata") from None
    return dpdata


def from_dpdata(ds, path: str) -> System:
    names = list(ds["atom_names"])
    nf = ds.get_nframes()
    cells = np.asarray(ds["cells"], dtype=np.float64)
    labelled = "energies" in ds.data
    virial = ds.data.get("virials")
    return System(path, names, np.asarray(ds["atom_types"], dtype=np.int64),
                  np.asarray(ds["coords"], dtype=np.float64), None if ds.nopbc else cells.reshape(nf, 3, 3),
                  np.asarray(ds["energies"], dtype=np.float64).reshape(nf) if labelled else None,
                  np.asarray(ds["forces"], dtype=np.float64) if labelled else None,
                  None if virial is None else np.asarray(virial, dtype=np.float64).reshape(nf, 3, 3))


def to_dpdata(system: System):
    dpdata = _dpdata()
    nf = system.nframes
    data = {"atom_names": list(system.type_map),
            "atom_numbs": [int((system.atype == t).sum()) for t in range(len(system.type_map))],
            "atom_types": system.atype.copy(), "orig": np.zeros(3), "coords": system.coord.copy(),
            "cells": np.zeros((nf, 3, 3)) if system.box is None else system.box.copy(), "nopbc": system.box is None}
    if system.energy is not None and system.force is not None:
        data.update(energies=system.energy.copy(), forces=system.force.copy())
        if system.virial is not None:
            data["virials"] = system.virial.copy()
        return dpdata.LabeledSystem(data=data)
    return dpdata.System(data=data)


def read(path: str | Path, fmt: str = "auto", type_map: list[str] | None = None) -> System:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if fmt in NATIVE_READ:
        return load_system(path, type_map=type_map, fmt="auto" if fmt in ("deepmd", "ase") else fmt)
    dpdata = _dpdata()
    kwargs = {"type_map": type_map} if type_map else {}
    errors = []
    for cls in (dpdata.LabeledSystem, dpdata.System):
        try:
            ds = cls(str(path), fmt=fmt, **kwargs)
            break
        except Exception as err:  # dpdata raises many kinds of errors for wrong formats
            errors.append(f"{type(err).__name__}: {err}")
    else:
        raise DataError(f"{path}: cannot read as {fmt!r} ({errors[-1]})")
    system = from_dpdata(ds, str(path)).validate()
    return system.remap(type_map) if type_map else system


def check_output(output: str | Path, inputs: list[str | Path], force: bool = False) -> None:
    """Before any work: refuse an output that is an input or contains one (even with ``force``:
    replacing it would delete the data read), and an existing output without ``force``."""
    out = Path(output).resolve()
    for source in inputs:
        src = Path(source).resolve()
        if src == out or out in src.parents:
            raise DataError(f"{output}: refusing to write over {source}, the input (choose another output)")
    path = Path(output)
    empty_dir = path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    if (path.exists() or path.is_symlink()) and not empty_dir and not force:
        what = "directory exists and is not empty" if path.is_dir() else "exists"
        raise DataError(f"{output}: {what} (choose a new name, or --force to replace it)")


def _write_dpdata(ds, path: Path, fmt: str, force: bool) -> None:
    """dpdata writes into a scratch directory beside ``path``; the result is then moved into place."""
    import shutil
    import tempfile

    from deeppot.fileio import atomic_dir, atomic_path

    if (path.exists() or path.is_symlink()) and not force and not (path.is_dir() and not any(path.iterdir())):
        raise DataError(f"{path}: exists (choose a new name, or --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".dpdata", dir=path.parent))
    try:
        try:
            ds.to(fmt, str(scratch / path.name))
        except Exception as err:
            raise DataError(f"{path}: cannot write as {fmt!r} ({type(err).__name__}: {err})") from None
        result = scratch / path.name
        if result.is_dir():
            with atomic_dir(path, force=force) as tmp:
                tmp.rmdir()
                result.rename(tmp)
        else:
            with atomic_path(path) as tmp:
                shutil.copyfile(result, tmp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write(system: System, path: str | Path, fmt: str, force: bool = False) -> None:
    """Write ``system`` as ``fmt``; an existing ``path`` is replaced only with ``force``."""
    from deeppot.data.ase_formats import write_extxyz
    from deeppot.data.deepmd_npy import write_deepmd_npy

    path = Path(path)
    if fmt in ("deepmd/npy", "deepmd"):
        write_deepmd_npy(system, path, force=force)
    elif fmt in ("extxyz", "xyz"):
        write_extxyz(system, path, force=force)
    else:
        ds = to_dpdata(system)
        if fmt in ("vasp/poscar", "lammps/lmp") and system.nframes > 1:
            ds = ds[0]  # single-structure formats: the first frame
        _write_dpdata(ds, path, fmt, force)
