"""What a run leaves on disk: thermo log and extxyz trajectory, written so a crash loses nothing.

Both files are append-only and written one record at a time with a single ``os.write`` in
``O_APPEND`` mode: a thermo line or a whole trajectory frame is either on disk complete or not at
all after ``kill -9``. A failing write (full disk) is undone with ``ftruncate`` back to the last
complete record and reported in one line. At every restart point the files are fsynced *before*
the restart file is replaced, so a restart file never refers to records that could be lost.

On ``--restart`` each file is cut back to the restart step (:func:`thermo_prefix`,
:func:`trajectory_prefix`): records after it, and a partial last record, are dropped, so a
resumed run rewrites exactly what an uninterrupted run would have written. Frames carry
``step=`` and ``time_fs=`` in their comment line; that is what the cut is keyed on.

The restart file itself is written by :mod:`deeppot.md.restart`.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from deeppot.errors import DataError
from deeppot.fileio import write_error
from deeppot.md.state import MDState

THERMO_COLUMNS = ["step", "time_ps", "temperature_K", "potential_eV", "kinetic_eV", "total_eV", "conserved_eV",
                  "pressure_bar", "volume_A3"]
_STEP = re.compile(rb"(?:^|\s)step=(\d+)(?:\s|$)")


class AppendFile:
    """An append-only file written in whole records (one ``os.write`` each, undone on failure)."""

    def __init__(self, path: Path, fresh: bool):
        self.path = Path(path)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if fresh else 0)
        try:
            self.fd = os.open(self.path, flags, 0o666)
        except OSError as err:
            raise write_error(self.path, err) from None

    def write(self, record: bytes) -> None:
        size = os.fstat(self.fd).st_size
        try:
            view = memoryview(record)
            while view:  # a regular file takes it in one call unless the disk fills up mid-way
                view = view[os.write(self.fd, view):]
        except OSError as err:
            try:
                os.ftruncate(self.fd, size)  # no partial record left behind
            except OSError:
                pass
            raise write_error(self.path, err) from None

    def sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as err:
            raise write_error(self.path, err) from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ThermoLog:
    """``thermo.log``: a header line, then one line per logged step (space separated)."""

    def __init__(self, path: Path, extra_columns: list[str], append: bool = False):
        self.path = Path(path)
        self.columns = THERMO_COLUMNS + extra_columns
        fresh = not append or not self.path.exists()
        self.file = AppendFile(self.path, fresh)
        if fresh:
            self.file.write(self.header.encode())

    @property
    def header(self) -> str:
        return " ".join(self.columns) + "\n"

    def write(self, values: dict) -> None:
        line = " ".join(f"{values[c]:d}" if c == "step" else f"{values[c]:.10g}" for c in self.columns) + "\n"
        self.file.write(line.encode())

    def sync(self) -> None:
        self.file.sync()

    def close(self) -> None:
        self.file.close()


def thermo_prefix(path: Path, step: int, columns: list[str]) -> int:
    """Bytes of ``path`` to keep on a restart at ``step``: the header and complete lines up to it."""
    data = Path(path).read_bytes()
    header = (" ".join(columns) + "\n").encode()
    if not data.startswith(header):
        first = data.split(b"\n", 1)[0].decode(errors="replace")
        raise DataError(f"{path}: columns {first!r} differ from this run's {' '.join(columns)!r} "
                        "(another run's log?); move it away or use a new output_dir")
    keep = len(header)
    while keep < len(data):
        end = data.find(b"\n", keep)
        if end < 0:
            break  # a partial last line (killed while the disk was full)
        fields = data[keep:end].split()
        if not fields or not fields[0].isdigit() or int(fields[0]) > step:
            break
        keep = end + 1
    return keep


def state_to_atoms(state: MDState):
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms(symbols=state.symbols, positions=state.positions.numpy(), masses=state.masses.numpy(),
                  momenta=state.momenta.numpy(), cell=None if state.cell is None else state.cell.numpy(),
                  pbc=state.cell is not None)
    atoms.info["step"] = int(state.step)
    atoms.info["time_fs"] = float(state.time_fs)
    if state.forces is not None:
        atoms.calc = SinglePointCalculator(atoms, energy=state.energy, forces=state.forces.numpy())
    return atoms


def frame_text(state: MDState) -> str:
    """One extxyz frame (with ``step=`` and ``time_fs=`` in the comment line) as a string."""
    import ase.io

    buffer = io.StringIO()
    ase.io.write(buffer, state_to_atoms(state), format="extxyz")
    return buffer.getvalue()


class TrajectoryWriter:
    """``traj.extxyz``, one whole frame per ``os.write``."""

    def __init__(self, path: Path, fresh: bool):
        self.path = Path(path)
        self.file = AppendFile(self.path, fresh)

    def write(self, state: MDState) -> None:
        self.file.write(frame_text(state).encode())

    def sync(self) -> None:
        self.file.sync()

    def close(self) -> None:
        self.file.close()


def write_frame(path: Path, state: MDState, append: bool = True) -> None:
    """Write one frame to ``path`` (appending, or replacing the file)."""
    if append:
        writer = TrajectoryWriter(path, fresh=False)
        try:
            writer.write(state)
        finally:
            writer.close()
    else:
        from deeppot.fileio import atomic_write

        with atomic_write(path, "w") as handle:
            handle.write(frame_text(state))


def trajectory_prefix(path: Path, step: int) -> int:
    """Bytes of an extxyz file to keep on a restart at ``step``: complete frames with ``step=`` ≤ step.

    Reading stops at the first frame after ``step`` or the first incomplete frame (a frame cut by
    a crash, which the writer's whole-frame writes only allow at the very end).
    """
    keep = 0
    with open(path, "rb") as handle:
        index = 0
        while True:
            count = handle.readline()
            if not count.endswith(b"\n") or not count.strip().isdigit():
                break
            comment = handle.readline()
            if not comment.endswith(b"\n"):
                break
            match = _STEP.search(comment)
            if match is None:
                raise DataError(f"{path}: frame {index} carries no step= (written by an older deeppot?), so it "
                                "cannot be cut back to the restart step; move it away or use a new output_dir")
            complete = True
            for _ in range(int(count)):
                if not handle.readline().endswith(b"\n"):
                    complete = False
                    break
            if not complete or int(match.group(1)) > step:
                break
            keep = handle.tell()
            index += 1
    return keep


def truncate(path: Path, size: int) -> None:
    """Cut ``path`` back to ``size`` bytes (a no-op when it is that long already)."""
    if path.stat().st_size != size:
        try:
            os.truncate(path, size)
        except OSError as err:
            raise write_error(path, err) from None
