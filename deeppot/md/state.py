"""MD state and the quantities derived from it.

Units: positions Å, masses amu, energies eV, time in ASE's unit (Å·sqrt(amu/eV); 1 fs =
``ase.units.fs``), so momenta are amu·Å/time and K = Σ p²/2m is in eV directly. Public
interfaces take ``timestep_fs`` and convert once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from deeppot.units import EV_PER_A3_IN_BAR, KB_EV_PER_K


@dataclass
class MDState:
    positions: torch.Tensor  # (n, 3) Å
    momenta: torch.Tensor  # (n, 3) amu Å / ase-time
    masses: torch.Tensor  # (n,) amu
    atype: torch.Tensor  # (n,) long
    cell: torch.Tensor | None  # (3, 3) rows = lattice vectors, or None
    symbols: list[str]
    forces: torch.Tensor = None  # (n, 3) eV/Å
    energy: float = 0.0  # potential energy, eV
    virial: torch.Tensor = None  # (3, 3) eV
    step: int = 0
    time_fs: float = 0.0
    extra: dict = field(default_factory=dict)  # ensemble state (chains, accumulated heat, ...)

    @property
    def natoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def kinetic_eV(self) -> float:
        return float(0.5 * (self.momenta**2 / self.masses[:, None]).sum())

    @property
    def dof(self) -> int:
        """Degrees of freedom: 3N − 3 when the total momentum is conserved (set by the ensemble)."""
        return 3 * self.natoms - (3 if self.extra.get("fix_com", True) else 0)

    @property
    def temperature_K(self) -> float:
        return 2.0 * self.kinetic_eV / (self.dof * KB_EV_PER_K)

    @property
    def volume_A3(self) -> float:
        return float(torch.det(self.cell).abs()) if self.cell is not None else float("nan")

    def kinetic_tensor(self) -> torch.Tensor:
        return (self.momenta.T / self.masses) @ self.momenta

    @property
    def pressure_bar(self) -> float:
        """(2K + tr W)/(3V), W the virial (DeePMD sign)."""
        if self.cell is None:
            return float("nan")
        return (2 * self.kinetic_eV + float(torch.trace(self.virial))) / (3 * self.volume_A3) * EV_PER_A3_IN_BAR
