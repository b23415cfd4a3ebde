"""What a run leaves on disk: thermo log, extxyz trajectory, and an atomic restart file.

The restart file is a plain ``.npz`` (no pickle) holding everything that determines the
future of the run — positions, momenta, cell, forces, energy, virial, step, ensemble state
and the random generator's state — so a restarted run continues bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from deeppot.fileio import atomic_path
from deeppot.md.state import MDState

THERMO_COLUMNS = ["step", "time_ps", "temperature_K", "potential_eV", "kinetic_eV", "total_eV", "conserved_eV",
                  "pressure_bar", "volume_A3"]


class ThermoLog:
    def __init__(self, path: Path, extra_columns: list[str], append: bool = False):
        self.path = Path(path)
        self.columns = THERMO_COLUMNS + extra_columns
        if not append or not self.path.exists():
            self.path.write_text(" ".join(self.columns) + "\n")

    def write(self, values: dict) -> None:
        with open(self.path, "a") as handle:
            handle.write(" ".join(f"{values[c]:d}" if c == "step" else f"{values[c]:.10g}" for c in self.columns)
                         + "\n")

    @staticmethod
    def truncate_after(path: Path, step: int) -> None:
        if path.exists():
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join([lines[0]] + [ln for ln in lines[1:] if int(ln.split()[0]) <= step]))


def state_to_atoms(state: MDState):
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms(symbols=state.symbols, positions=state.positions.numpy(), masses=state.masses.numpy(),
                  momenta=state.momenta.numpy(), cell=None if state.cell is None else state.cell.numpy(),
                  pbc=state.cell is not None)
    if state.forces is not None:
        atoms.calc = SinglePointCalculator(atoms, energy=state.energy, forces=state.forces.numpy())
    return atoms


def write_frame(path: Path, state: MDState, append: bool = True) -> None:
    import ase.io

    ase.io.write(str(path), state_to_atoms(state), format="extxyz", append=append)


def save_restart(path: Path, state: MDState, ensemble) -> None:
    extra = {k: v for k, v in state.extra.items() if not isinstance(v, np.ndarray)}
    arrays = {f"extra/{k}": v for k, v in state.extra.items() if isinstance(v, np.ndarray)}
    meta = {"step": state.step, "time_fs": state.time_fs, "energy": state.energy, "symbols": state.symbols,
            "extra": extra, "rng": ensemble.rng_state(), "ensemble": ensemble.name}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, positions=state.positions.numpy(), momenta=state.momenta.numpy(),
                     masses=state.masses.numpy(), atype=state.atype.numpy(), forces=state.forces.numpy(),
                     virial=state.virial.numpy(),
                     cell=np.zeros((0, 3)) if state.cell is None else state.cell.numpy(),
                     meta=np.array(json.dumps(meta)), **arrays)


def load_restart(path: Path) -> tuple[MDState, dict]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        cell = data["cell"]
        state = MDState(torch.as_tensor(data["positions"]), torch.as_tensor(data["momenta"]),
                        torch.as_tensor(data["masses"]), torch.as_tensor(data["atype"]),
                        None if cell.size == 0 else torch.as_tensor(cell), meta["symbols"],
                        torch.as_tensor(data["forces"]), meta["energy"], torch.as_tensor(data["virial"]),
                        meta["step"], meta["time_fs"], dict(meta["extra"]))
        for key in data.files:
            if key.startswith("extra/"):
                state.extra[key[6:]] = np.array(data[key])
    return state, meta
