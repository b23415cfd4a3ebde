"""i-PI trajectory output (xyz) as an atomistic system with forces.

i-PI writes positions and forces to separate files, e.g. ``<trajectory filename="pos">
positions{angstrom}</trajectory>`` and ``<trajectory filename="for">forces{ev/ang}</trajectory>``
(for path integrals, use ``x_centroid`` and ``f_centroid``); each comment line carries the cell
(``CELL(abcABC)``) and the units. i-PI's own reader interprets them (atomic units when the comment
names none); values come back in Å and eV/Å. Note that i-PI's xyz keeps 6 significant digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.data.system import System
from deeppot.errors import DataError


def _frames(path: Path, dimension: str):
    try:
        from ipi.utils.io import iter_file
        from ipi.utils.units import unit_to_internal
    except ImportError:
        raise DataError(f"{path}: reading i-PI output needs the ipi package (pip install ipi)") from None
    to_user = 1.0 / unit_to_internal(dimension, "angstrom" if dimension == "length" else "ev/ang", 1.0)
    bohr_to_A = 1.0 / unit_to_internal("length", "angstrom", 1.0)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with open(path) as handle:
            for frame in iter_file("xyz", handle, dimension=dimension):
                atoms, cell = frame["atoms"], frame["cell"]
                yield (list(atoms.names), np.array(atoms.q).reshape(-1, 3) * to_user,
                       np.array(cell.h).T * bohr_to_A)  # i-PI's h holds the lattice vectors as columns
    except (ValueError, KeyError, IndexError, EOFError) as err:
        raise DataError(f"{path}: not an i-PI xyz trajectory ({type(err).__name__}: {err})") from None


def read_ipi(positions: str | Path, forces: str | Path) -> System:
    """Frames of an i-PI positions file paired, frame by frame, with its forces file."""
    positions, forces = Path(positions), Path(forces)
    pos = list(_frames(positions, "length"))
    frc = list(_frames(forces, "force"))
    if not pos:
        raise DataError(f"{positions}: no frames")
    if len(pos) != len(frc):
        raise DataError(f"{forces}: {len(frc)} frames but {positions} has {len(pos)} (same stride needed)")
    names = pos[0][0]
    for k, ((n1, _, _), (n2, _, _)) in enumerate(zip(pos, frc)):
        if n1 != names or n2 != names:
            raise DataError(f"{positions if n1 != names else forces}: frame {k} has other atoms than frame 0")
    type_map = list(dict.fromkeys(names))
    atype = np.array([type_map.index(n) for n in names], dtype=np.int64)
    box = np.array([p[2] for p in pos])
    periodic = bool(np.all(np.abs(np.linalg.det(box)) > 0))
    system = System(str(positions), type_map, atype, np.array([p[1] for p in pos]), box if periodic else None,
                    force=np.array([f[1] for f in frc]))
    return system.validate()
