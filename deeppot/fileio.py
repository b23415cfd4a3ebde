"""Atomic file writes: never leave a half-written file behind, never clobber what we did not make.

Everything deeppot writes that a user or a restart relies on (models, checkpoints,
npy systems, logs at the end of a run) goes through :func:`atomic_write` / :func:`atomic_path`,
which write a temporary file in the destination directory and rename it into place. ``os.replace``
is atomic on POSIX, so a crash or ``kill -9`` leaves either the old file or the new one.

``tempfile.mkstemp`` / ``mkdtemp`` create 0600 files and 0700 directories; a result that keeps
those modes would ignore the user's umask, so :func:`_apply_umask` gives the renamed result the
mode ``open()`` / ``mkdir()`` would have given it. A full disk (``ENOSPC``) or a read-only
directory becomes a one-line :class:`~deeppot.errors.DeeppotError` and the previous file stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from deeppot.errors import DeeppotError


def current_umask() -> int:
    """The process umask (read without changing it for longer than two syscalls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _apply_umask(path: str | os.PathLike, directory: bool = False) -> None:
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def write_error(path: Path, err: OSError) -> DeeppotError:
    if err.errno == errno.ENOSPC:
        return DeeppotError(f"{path}: no space left on device (the previous file, if any, is unchanged)")
    if err.errno == errno.EDQUOT:
        return DeeppotError(f"{path}: disk quota exceeded (the previous file, if any, is unchanged)")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DeeppotError(f"{path}: cannot write ({os.strerror(err.errno)})")
    return DeeppotError(f"{path}: write failed ({err.strerror or err})")


def make_dirs(path: str | os.PathLike) -> Path:
    """``mkdir -p`` with a one-line error instead of a traceback."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DeeppotError(f"{path}: exists and is not a directory") from None
    except OSError as err:
        raise write_error(path, err) from None
    return path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success fsync and rename it to ``path``."""
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    try:
        try:
            with os.fdopen(fd, mode) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            _apply_umask(tmp)
            os.replace(tmp, path)
        except OSError as err:
            raise write_error(path, err) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to be written by a library (h5py, numpy); rename on success."""
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    os.close(fd)
    try:
        try:
            yield Path(tmp)
            _apply_umask(tmp)
            os.replace(tmp, path)
        except OSError as err:
            raise write_error(path, err) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` on success.

    ``path`` must not exist, or be an empty directory; an existing non-empty one is refused
    unless ``force`` (then it is replaced only after the new one is complete). Never removes
    anything but ``path`` itself, and that only with ``force``.
    """
    import shutil

    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            if not force:
                raise DeeppotError(f"{path}: exists and is not a directory (use --force to replace it)")
        elif any(path.iterdir()) and not force:
            raise DeeppotError(f"{path}: directory exists and is not empty (choose a new name, or --force)")
        if path.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
            raise DeeppotError(f"{path}: refusing to replace the current directory or one of its parents")
    make_dirs(path.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as err:
        raise write_error(path, err) from None
    try:
        try:
            yield tmp
            for root, dirs, _files in os.walk(tmp):
                for name in dirs:
                    _apply_umask(os.path.join(root, name), directory=True)
            _apply_umask(tmp, directory=True)
            if path.is_dir() and not path.is_symlink():
                if any(path.iterdir()):
                    shutil.rmtree(path)  # only reachable with force (checked above)
                else:
                    path.rmdir()
            elif path.exists() or path.is_symlink():
                path.unlink()
            os.replace(tmp, path)
        except OSError as err:
            raise write_error(path, err) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (identifies model files by content, whatever their name)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
