"""The in-memory form of a labelled system, and loading from any supported source.

A system is a set of frames of the same atoms (same count, same types, same order), as in
DeePMD-kit. Arrays are float64 whatever the file held. ``atype`` indexes ``type_map``.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from deeppot.errors import DataError

LABELS = ("energy", "force", "virial", "atom_ener")


@dataclass
class System:
    """Frames of one atomic system.

    Attributes
    ----------
    path : str                      where it came from (used in messages)
    type_map : list[str]            element (or type) name of each type index
    atype : int array (natoms,)
    coord : (nframes, natoms, 3) Å
    box : (nframes, 3, 3) Å, lattice vectors as rows, or None for open boundaries
    energy : (nframes,) eV, force : (nframes, natoms, 3) eV/Å, virial : (nframes, 3, 3) eV
    (DeePMD sign: stress = -virial/V), atom_ener : (nframes, natoms) eV; each None if absent
    """

    path: str
    type_map: list[str]
    atype: np.ndarray
    coord: np.ndarray
    box: np.ndarray | None
    energy: np.ndarray | None = None
    force: np.ndarray | None = None
    virial: np.ndarray | None = None
    atom_ener: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def nframes(self) -> int:
        return int(self.coord.shape[0])

    @property
    def natoms(self) -> int:
        return int(self.atype.shape[0])

    @property
    def nopbc(self) -> bool:
        return self.box is None

    def has(self, label: str) -> bool:
        return getattr(self, label) is not None

    def symbols(self) -> list[str]:
        return [self.type_map[t] for t in self.atype]

    def subset(self, frames) -> System:
        """A system holding only the given frames (index array or slice)."""
        def pick(a):
            return None if a is None else a[frames]

        return replace(self, coord=self.coord[frames], box=pick(self.box), energy=pick(self.energy),
                       force=pick(self.force), virial=pick(self.virial), atom_ener=pick(self.atom_ener))

    def remap(self, type_map: list[str]) -> System:
        """Same system with ``atype`` indexing ``type_map`` (e.g. the model's)."""
        missing = sorted({self.type_map[t] for t in set(self.atype.tolist())} - set(type_map))
        if missing:
            raise DataError(f"{self.path}: element(s) {', '.join(missing)} not in type_map {list(type_map)}")
        lookup = np.array([type_map.index(name) if name in type_map else -1 for name in self.type_map])
        return replace(self, type_map=list(type_map), atype=lookup[self.atype])

    def validate(self) -> System:
        """Raise DataError for inconsistent shapes or non-finite values."""
        nf, n = self.nframes, self.natoms
        where = self.path
        if n == 0 or nf == 0:
            raise DataError(f"{where}: empty system ({nf} frames, {n} atoms)")
        if self.coord.shape != (nf, n, 3):
            raise DataError(f"{where}: coord has shape {self.coord.shape}, expected ({nf}, {n}, 3)")
        expected = {"box": (nf, 3, 3), "energy": (nf,), "force": (nf, n, 3), "virial": (nf, 3, 3),
                    "atom_ener": (nf, n)}
        for name, shape in expected.items():
            value = getattr(self, name)
            if value is not None and value.shape != shape:
                raise DataError(f"{where}: {name} has shape {value.shape}, expected {shape}")
        for name in ("coord", "box", *LABELS):
            value = getattr(self, name)
            if value is not None and not np.all(np.isfinite(value)):
                bad = int(np.argwhere(~np.isfinite(value.reshape(nf, -1)))[0, 0])
                raise DataError(f"{where}: {name} contains NaN or inf (first in frame {bad})")
        if self.atype.min() < 0 or self.atype.max() >= len(self.type_map):
            raise DataError(f"{where}: atom types must be in 0..{len(self.type_map) - 1} (type_map {self.type_map})")
        if self.box is not None:
            from deeppot.core.neighbor import check_cell

            for f in range(nf):
                check_cell(self.box[f], where=f"{where}: frame {f}")
        return self


def _is_deepmd_dir(path: Path) -> bool:
    return path.is_dir() and (path / "type.raw").exists()


def load_system(path: str | Path, type_map: list[str] | None = None, fmt: str = "auto",
                set_prefix: str = "set") -> System:
    """Read one system: a DeePMD npy/raw directory, or any file ASE can read (extxyz, ...).

    A DeePMD directory without ``type_map.raw`` has type indices that are the indices of
    ``type_map`` itself, as in DeePMD-kit; ``set_prefix`` names its set directories.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if fmt in ("auto", "deepmd/npy", "deepmd/raw", "deepmd") and path.is_dir():
        from deeppot.data.deepmd_npy import read_deepmd

        system = read_deepmd(path, set_prefix=set_prefix)
        if type_map is not None and not (path / "type_map.raw").exists():
            if system.atype.max() >= len(type_map):
                raise DataError(f"{path / 'type.raw'}: type index {int(system.atype.max())} but type_map has "
                                f"{len(type_map)} types {list(type_map)} (and there is no type_map.raw)")
            system = replace(system, type_map=list(type_map))
    elif path.is_dir():
        raise DataError(f"{path}: a directory but not a DeePMD system (no type.raw)")
    elif not path.is_file():  # a FIFO or device would block or never end
        raise DataError(f"{path}: not a regular file")
    else:
        from deeppot.data.ase_formats import read_ase

        system = read_ase(path, None if fmt == "auto" else fmt, type_map=type_map)
    system.validate()
    return system.remap(type_map) if type_map is not None else system


def expand_system_paths(paths) -> list[Path]:
    """Globs and parent directories expanded to system paths (dirs holding type.raw, or files)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for entry in paths:
        matches = sorted(glob.glob(str(entry))) or [str(entry)]
        for match in matches:
            p = Path(match)
            if p.is_dir() and not _is_deepmd_dir(p):
                below = sorted({q.parent for q in p.rglob("type.raw")})
                if not below:
                    raise DataError(f"{p}: no DeePMD system (type.raw) found below this directory")
                found.extend(below)
            else:
                found.append(p)
    return found


def load_systems(paths, type_map: list[str] | None = None, set_prefix: str = "set") -> list[System]:
    """Load several systems and remap all of them onto one type map.

    Without ``type_map`` the union of the systems' type maps, in order of appearance, is used.
    """
    systems = [load_system(p, type_map, set_prefix=set_prefix) for p in expand_system_paths(paths)]
    if type_map is None:
        type_map = []
        for s in systems:
            type_map += [t for t in s.type_map if t not in type_map]
    return [s.remap(list(type_map)) for s in systems]
