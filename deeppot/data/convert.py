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


def write(system: System, path: str | Path, fmt: str) -> None:
    from deeppot.data.ase_formats import write_extxyz
    from deeppot.data.deepmd_npy import write_deepmd_npy

    if fmt in ("deepmd/npy", "deepmd"):
        write_deepmd_npy(system, path)
    elif fmt in ("extxyz", "xyz"):
        write_extxyz(system, path)
    else:
        ds = to_dpdata(system)
        try:
            if fmt in ("vasp/poscar", "lammps/lmp") and system.nframes > 1:
                ds = ds[0]  # single-structure formats: the first frame
            ds.to(fmt, str(path))
        except Exception as err:
            raise DataError(f"{path}: cannot write as {fmt!r} ({type(err).__name__}: {err})") from None
