"""Outputs of the one-shot commands (freeze, compress, test, model-devi): replace only what they made.

Re-running a command over its own earlier output is the normal workflow (``deeppot freeze`` after
more training), so a file that is recognisably a previous output of the same kind is replaced,
atomically. Anything else at that path (a typo naming the trajectory, the input, a directory) is
refused with one line unless the user passes ``--force``. Checked before any work is done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deeppot.errors import DeeppotError


def is_model_file(path: Path) -> bool:
    """A ``.dp`` model: HDF5 with the ``json`` attribute (opened without following anything)."""
    import h5py

    try:
        if not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r") as h5:
            return "json" in h5.attrs
    except OSError:
        return False


def first_line_contains(text: str) -> Callable[[Path], bool]:
    def check(path: Path) -> bool:
        with open(path, "rb") as handle:
            return text.encode() in handle.read(4096).split(b"\n", 1)[0]

    return check


def is_test_json(path: Path) -> bool:
    import json

    try:
        data = json.loads(Path(path).read_text()[:1 << 20])
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "nframes" in data


def check_output(path: str | Path, force: bool, kind: str, looks_like: Callable[[Path], bool],
                 inputs: tuple = ()) -> None:
    """Refuse to replace ``path`` unless it is absent, a previous ``kind`` output, or ``force``."""
    path = Path(path)
    for source in inputs:
        if path.resolve() == Path(source).resolve() and not force:
            raise DeeppotError(f"{path}: is also the input; choose another output name (or --force)")
    if path.is_dir():
        raise DeeppotError(f"{path}: is a directory")
    if force or not (path.exists() or path.is_symlink()):
        return
    if path.is_file() and looks_like(path):
        return
    raise DeeppotError(f"{path}: exists and is not a {kind}; choose another name, or --force to replace it")


def add_force(parser) -> None:
    parser.add_argument("--force", action="store_true", help="replace existing output files whatever they are")
