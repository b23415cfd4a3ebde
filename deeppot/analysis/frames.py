"""Reading trajectories for analysis: extxyz / ASE trajectories / deeppot MD output / DeePMD systems."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.errors import DataError


def read_frames(path: str | Path, skip: int = 0, every: int = 1) -> list:
    """Frames as ``ase.Atoms`` (element symbols set; DeePMD types mapped through type_map)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        from deeppot.data import load_system
        from deeppot.data.ase_formats import to_atoms

        system = load_system(path)
        frames = [to_atoms(system, f) for f in range(skip, system.nframes, every)]
        if not frames:
            raise DataError(f"{path}: no frames after --skip {skip} --every {every} ({system.nframes} frames)")
        return frames
    import ase.io

    try:
        frames = ase.io.read(str(path), index=f"{skip}::{every}")
    except Exception as err:
        complete = _complete_xyz_frames(path) if path.suffix in (".xyz", ".extxyz") else 0
        if not complete:
            raise DataError(f"{path}: cannot read trajectory ({type(err).__name__}: {err})") from None
        # a frame cut short at the end (a run still writing, or killed by an older writer): use the whole ones
        import logging

        logging.getLogger("deeppot.analysis").warning(
            "%s: last frame incomplete (%s); reading the %d complete frames", path, err, complete)
        try:
            frames = ase.io.read(str(path), index=f"{skip}:{complete}:{every}")
        except Exception as err2:
            raise DataError(f"{path}: cannot read trajectory ({type(err2).__name__}: {err2})") from None
    if not frames:
        raise DataError(f"{path}: no frames after --skip {skip} --every {every}")
    return frames


def _complete_xyz_frames(path: Path) -> int:
    """Number of whole frames (count line, comment line, that many atom lines) at the start of an xyz file."""
    complete = 0
    with open(path, "rb") as handle:
        while True:
            count = handle.readline()
            if not count.strip().isdigit() or not count.endswith(b"\n"):
                return complete
            lines = [handle.readline() for _ in range(int(count) + 1)]
            if not all(line.endswith(b"\n") for line in lines):
                return complete
            complete += 1


def check_same_atoms(frames: list, where: str = "", skip: int = 0, every: int = 1) -> None:
    """Raise DataError naming the first frame whose atoms (count or species order) differ from the first.

    Per-atom time series (MSD) pair atom i of one frame with atom i of the next; frames of another
    system would silently give nonsense. ``skip``/``every`` turn list positions into frame numbers.
    """
    if not frames:
        return
    first = frames[0].get_chemical_symbols()
    prefix = f"{where}: " if where else ""
    for k, atoms in enumerate(frames[1:], start=1):
        symbols = atoms.get_chemical_symbols()
        if symbols == first:
            continue
        number, ref = skip + k * every, skip
        if len(symbols) != len(first):
            raise DataError(f"{prefix}frame {number} has {len(symbols)} atoms but frame {ref} has {len(first)}; "
                            "MSD needs the same atoms in every frame")
        i = next(i for i, (a, b) in enumerate(zip(symbols, first)) if a != b)
        raise DataError(f"{prefix}frame {number}: atom {i} is {symbols[i]} but {first[i]} in frame {ref} "
                        "(different species or order); MSD needs the same atoms in every frame")


def species_indices(atoms, species: str | None, where: str = "") -> np.ndarray:
    symbols = np.array(atoms.get_chemical_symbols())
    if species is None:
        return np.arange(len(symbols))
    idx = np.nonzero(symbols == species)[0]
    if idx.size == 0:
        raise DataError(f"{where}species {species!r} not present (have {sorted(set(symbols))})")
    return idx


def max_rmax(atoms) -> float:
    """Half the smallest perpendicular height of the cell: the largest radius seen only once."""
    cell = np.asarray(atoms.cell)
    volume = abs(np.linalg.det(cell))
    heights = [volume / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3])) for i in range(3)]
    return 0.5 * min(heights)
