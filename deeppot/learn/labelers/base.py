"""What every labeler returns, and the one exception that means "skip this frame"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class LabelFailed(RuntimeError):
    """The calculation of one frame failed (no SCF convergence...): recorded, skipped, never fatal."""


@dataclass
class Label:
    energy_eV: float
    forces_eV_A: np.ndarray  # (natoms, 3)
    virial_eV: np.ndarray | None  # (3, 3), DeePMD sign W = -stress * volume; None without periodic cell


def virial_from_stress(stress_eV_A3: np.ndarray, volume_A3: float) -> np.ndarray:
    """DeePMD's virial (eV) from ASE's stress (eV/Å³, Voigt xx yy zz yz xz xy or 3x3)."""
    stress = np.asarray(stress_eV_A3, dtype=np.float64).reshape(-1)
    if stress.size == 6:
        xx, yy, zz, yz, xz, xy = stress
        stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    return -stress.reshape(3, 3) * volume_A3


def label_with_ase(atoms, calc) -> Label:
    """Energy, forces and (periodic cells) virial from an ASE calculator; failures become LabelFailed."""
    from ase.calculators.calculator import CalculationFailed

    atoms = atoms.copy()
    atoms.calc = calc
    try:
        energy = float(atoms.get_potential_energy())
        forces = np.array(atoms.get_forces(), dtype=np.float64)
        virial = virial_from_stress(atoms.get_stress(), atoms.get_volume()) if atoms.pbc.all() else None
    except CalculationFailed as err:
        raise LabelFailed(str(err) or type(err).__name__) from err
    if not (np.isfinite(energy) and np.isfinite(forces).all()):
        raise LabelFailed("non-finite energy or forces")
    return Label(energy, forces, virial)
