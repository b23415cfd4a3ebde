"""DeePMD-kit's npy (and raw) system format.

Layout: ``type.raw`` (one integer per atom), optional ``type_map.raw`` (one name per type),
optional ``nopbc`` (empty file: open boundaries), and ``set.*/`` directories holding
``coord.npy`` (nframes, natoms*3), ``box.npy`` (nframes, 9) and the optional labels
``energy.npy``, ``force.npy``, ``virial.npy``, ``atom_ener.npy``; float32 or float64.
The older ``*.raw`` text layout (``coord.raw`` etc. at the top level) is read too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.data.system import System
from deeppot.errors import DataError
from deeppot.fileio import atomic_dir

#: values per frame of each file, as a multiple of natoms (True) or absolute (False)
FILES = {"coord": (3, True), "box": (9, False), "energy": (1, False), "force": (3, True),
         "virial": (9, False), "atom_ener": (1, True)}


def _check_npy_header(path: Path) -> None:
    """Refuse an .npy whose header declares more data than the file holds (before numpy allocates it)."""
    fmt = np.lib.format
    with open(path, "rb") as handle:
        version = fmt.read_magic(handle)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(handle)
        stored = path.stat().st_size - handle.tell()
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects, not numbers")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > stored:
        raise DataError(f"{path}: header declares {shape} {dtype} ({declared} bytes), the file holds {stored}")


def _read_array(path: Path) -> np.ndarray:
    if not path.is_file():  # a FIFO or device would block or never end
        raise DataError(f"{path}: not a regular file")
    try:
        if path.suffix == ".npy":
            _check_npy_header(path)
        arr = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
    except ValueError as err:
        raise DataError(f"{path}: unreadable ({err})") from None
    except OSError as err:
        raise DataError(f"{path}: unreadable ({err})") from None
    if arr.size == 0:
        raise DataError(f"{path}: empty file")
    if arr.dtype.kind not in "fiu":  # strings, booleans, complex, records: not a physical quantity
        raise DataError(f"{path}: holds {arr.dtype} values; float32 or float64 numbers expected")
    return np.asarray(arr, dtype=np.float64)


def _read_type(path: Path) -> tuple[np.ndarray, list[str]]:
    type_file = path / "type.raw"
    if not type_file.exists():
        raise DataError(f"{path}: not a DeePMD system (missing type.raw)")
    text = type_file.read_text().split()
    if not text:
        raise DataError(f"{type_file}: empty file")
    try:
        atype = np.array([int(t) for t in text], dtype=np.int64)
    except ValueError:
        raise DataError(f"{type_file}: type indices must be integers") from None
    map_file = path / "type_map.raw"
    if map_file.exists():
        type_map = map_file.read_text().split()
        if not type_map:
            raise DataError(f"{map_file}: empty file")
    else:
        type_map = [f"Type_{t}" for t in range(int(atype.max()) + 1)]
    if atype.min() < 0 or atype.max() >= len(type_map):
        raise DataError(f"{type_file}: type index {int(atype.max())} has no name in type_map.raw {type_map}")
    return atype, type_map


def _frames(arr: np.ndarray, spec: tuple[int, bool], natoms: int, path: Path) -> np.ndarray:
    per_frame = spec[0] * (natoms if spec[1] else 1)
    if arr.size % per_frame:
        raise DataError(f"{path}: {arr.size} values is not a whole number of frames of {per_frame}")
    return arr.reshape(-1, per_frame)


def read_deepmd(path: Path, set_prefix: str = "set") -> System:
    path = Path(path)
    atype, type_map = _read_type(path)
    natoms = len(atype)
    nopbc = (path / "nopbc").exists()
    sets = sorted(p for p in path.glob(f"{set_prefix}.*") if p.is_dir())
    sources = [(s, ".npy") for s in sets] or ([(path, ".raw")] if (path / "coord.raw").exists() else [])
    if not sources:
        raise DataError(f"{path}: no {set_prefix}.* directories (and no coord.raw)")
    data: dict[str, list[np.ndarray]] = {k: [] for k in FILES}
    for directory, ext in sources:
        coord_file = directory / f"coord{ext}"
        if not coord_file.exists():
            raise DataError(f"{coord_file}: missing")
        coord = _frames(_read_array(coord_file), FILES["coord"], natoms, coord_file)
        nf = coord.shape[0]
        data["coord"].append(coord)
        for name, spec in FILES.items():
            if name == "coord":
                continue
            file = directory / f"{name}{ext}"
            if not file.exists():
                if name == "box" and not nopbc:
                    raise DataError(f"{file}: missing (add an empty 'nopbc' file for open boundaries)")
                data[name].append(None)
                continue
            arr = _frames(_read_array(file), spec, natoms, file)
            if arr.shape[0] != nf:
                raise DataError(f"{file}: {arr.shape[0]} frames but coord{ext} has {nf}")
            data[name].append(arr)

    def stack(name, shape):
        parts = data[name]
        if all(p is None for p in parts):
            return None
        if any(p is None for p in parts):
            missing = [str(s) for (s, _), p in zip(sources, parts) if p is None]
            raise DataError(f"{path}: {name} present in some sets but missing in {', '.join(missing)}")
        return np.concatenate(parts).reshape(-1, *shape)

    return System(str(path), type_map, atype, stack("coord", (natoms, 3)),
                  None if nopbc else stack("box", (3, 3)), stack("energy", ()), stack("force", (natoms, 3)),
                  stack("virial", (3, 3)), stack("atom_ener", (natoms,)))


def write_deepmd_npy(system: System, path: str | Path, set_size: int = 5000, dtype=np.float64,
                     force: bool = False) -> None:
    """Write ``system`` as a DeePMD npy directory, atomically (temp dir, then rename).

    ``path`` must not exist or be an empty directory; an existing non-empty one is replaced
    only with ``force`` (and never the current directory or one of its parents).
    """
    with atomic_dir(path, force=force) as tmp:
        (tmp / "type.raw").write_text("\n".join(str(t) for t in system.atype) + "\n")
        (tmp / "type_map.raw").write_text("\n".join(system.type_map) + "\n")
        if system.box is None:
            (tmp / "nopbc").write_text("")
        for k, start in enumerate(range(0, system.nframes, set_size)):
            stop = min(system.nframes, start + set_size)
            sdir = tmp / f"set.{k:03d}"
            sdir.mkdir()
            for name in FILES:
                value = getattr(system, name)
                if value is None:
                    continue
                np.save(sdir / f"{name}.npy", value[start:stop].reshape(stop - start, -1).astype(dtype))
