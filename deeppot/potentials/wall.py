"""Planar 9-3 walls as an external potential, and the sum of a potential with external ones.

A Lennard-Jones wall (a half-space of LJ sites integrated over its volume) acts on an atom at
distance d from the wall plane with

.. math:: V(d) = \\varepsilon_w [\\tfrac{2}{15}(\\sigma_w/d)^9 - (\\sigma_w/d)^3], \\quad d > 0,

the same form as :func:`deeppot.cdft.external.lj93_wall`, so ``deeppot md`` and ``deeppot cdft``
simulate the same fluid in the same slit. The wall is perpendicular to one cell axis (x, y or z)
and uses the raw (unwrapped) coordinate, so walls bound a slab that must stay inside the cell
along that axis (put a gap of at least the pair cutoff between the slab and its periodic image).

The virial of an external field is not a pair virial; we report Σ_i r_i ⊗ F_i of the wall forces,
which makes the printed pressure of a walled system a bookkeeping number, not the fluid's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from deeppot.errors import ConfigError
from deeppot.potentials.base import Potential

AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class Wall93:
    position_A: float
    epsilon_eV: float
    sigma_A: float
    side: str = "left"  # left: the fluid is at larger coordinates than the wall plane
    axis: str = "z"
    cutoff_A: float | None = None

    def __post_init__(self):
        if self.side not in ("left", "right"):
            raise ConfigError(f"wall side {self.side!r}: choose left or right")
        if self.axis not in AXES:
            raise ConfigError(f"wall axis {self.axis!r}: choose x, y or z")

    def energy(self, positions: torch.Tensor) -> torch.Tensor:
        """Per-atom energy (eV); atoms at or behind the wall plane get +inf."""
        coord = positions[:, AXES[self.axis]]
        d = coord - self.position_A if self.side == "left" else self.position_A - coord
        safe = torch.where(d > 0, d, torch.ones_like(d))
        s3 = (self.sigma_A / safe) ** 3
        e = self.epsilon_eV * (2.0 / 15.0 * s3**3 - s3)
        if self.cutoff_A is not None:
            sc3 = (self.sigma_A / self.cutoff_A) ** 3
            e = torch.where(d < self.cutoff_A, e - self.epsilon_eV * (2.0 / 15.0 * sc3**3 - sc3), torch.zeros_like(e))
        return torch.where(d > 0, e, torch.full_like(e, float("inf")))


class PlanarWalls(Potential):
    """A set of 9-3 walls acting on every atom."""

    def __init__(self, walls: list[Wall93]):
        self.walls = list(walls)

    def identity(self) -> dict:
        return {"class": "PlanarWalls", "walls": [asdict(w) for w in self.walls]}

    def compute(self, positions, cell=None, atype=None, edges=None):
        pos = positions.detach().to(torch.float64).requires_grad_(True)
        with torch.enable_grad():
            atom_e = sum(w.energy(pos) for w in self.walls)
            energy = atom_e.sum()
            (grad,) = torch.autograd.grad(energy, pos)
        forces = -grad
        virial = pos.detach().T @ forces
        return {"energy": energy.detach(), "force": forces, "virial": virial, "atom_energy": atom_e.detach()}


class WithExternal(Potential):
    """``inner`` plus external potentials: energies, forces and virials add."""

    def __init__(self, inner: Potential, external: Potential):
        self.inner, self.external = inner, external
        self.rcut = inner.rcut
        self.type_map = inner.type_map
        self.takes_edges = inner.takes_edges  # the engine's pair list goes to the inner potential

    def identity(self) -> dict:
        return {**self.inner.identity(), "external": self.external.identity()}

    def compute(self, positions, cell, atype, **kw):
        out = dict(self.inner.compute(positions, cell, atype, **kw))
        if kw.get("edges") is not None and self.external.takes_edges and self.external.rcut <= self.rcut:
            ext = self.external.compute(positions, cell, atype, edges=kw["edges"])  # the engine's pairs serve both
        else:
            ext = self.external.compute(positions, cell, atype)
        for key in ("energy", "force", "virial"):
            out[key] = out[key] + ext[key].to(out[key].dtype)
        if "atom_energy" in out:
            out["atom_energy"] = out["atom_energy"] + ext["atom_energy"].to(out["atom_energy"].dtype)
        return out
