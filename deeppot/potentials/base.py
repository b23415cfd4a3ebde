"""The contract between simulation engines and energy models.

A :class:`Potential` maps one configuration to its energy, forces and virial, in deeppot's
internal units (Å, eV). The virial is DeePMD-kit's (and i-PI's, and LAMMPS'):

.. math:: W_{\\alpha\\beta} = -\\frac{\\partial E}{\\partial \\varepsilon_{\\alpha\\beta}}
          = -\\sum_{i<j} (\\partial E/\\partial r_{ij})_\\alpha (r_{ij})_\\beta ,

so the stress is ``-W / V`` and the pressure ``(2 K + tr W) / (3 V)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import torch

from deeppot.keys import ATOM_ENERGY, ENERGY, FORCE, VIRIAL  # noqa: F401 - the contract's keys


class Potential(ABC):
    """Energy, forces and virial of a single configuration.

    Attributes
    ----------
    rcut : float
        Interaction cutoff in Å (used by engines to size neighbour-list skins); 0 if none.
    type_map : list[str] or None
        Element symbol of each type index this potential expects, or None when any
        integer types are accepted (e.g. Lennard-Jones with per-type parameters).
    takes_edges : bool
        True when ``compute`` accepts ``edges=`` (an engine's Verlet-list pairs within
        ``rcut``) instead of building its own neighbour list every call.
    """

    rcut: float = 0.0
    type_map: list[str] | None = None
    takes_edges: bool = False
    #: the md input's ``potential.type`` and section (registered potentials only)
    type_name: ClassVar[str] = ""
    Config: ClassVar[type]

    @classmethod
    def from_config(cls, spec: dict, base: Path, type_map_hint: list[str] | None) -> Potential:
        """The potential of a validated ``potential`` section; paths relative to ``base``.

        ``type_map_hint`` is the structure's elements, for potentials that take any types.
        """
        raise NotImplementedError(f"{cls.__name__} cannot be built from an md input")

    @classmethod
    def input_identity(cls, spec: dict, base: Path, potential: Potential) -> tuple[dict, str | None]:
        """(payload, description) identifying the potential for restart files.

        By default the potential's parameters (:meth:`identity`); description None means
        "<type> potential (parameters sha256 …)". Potentials read from files hash the files.
        """
        return {"type": cls.type_name, **potential.identity()}, None

    @abstractmethod
    def compute(self, positions: torch.Tensor, cell: torch.Tensor | None, atype: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        """Evaluate one configuration.

        Parameters
        ----------
        positions : Tensor (n, 3), Å (float64 unless the potential says otherwise)
        cell : Tensor (3, 3) with lattice vectors as rows (Å), or None for open boundaries
        atype : LongTensor (n,) type indices into ``type_map``

        Returns
        -------
        dict with ``"energy"`` (0-d, eV), ``"force"`` (n, 3, eV/Å), ``"virial"`` (3, 3, eV), optionally
        ``"atom_energy"`` (n,): the names of :mod:`deeppot.keys`, the same as a model's outputs.
        """

    def identity(self) -> dict:
        """What makes this potential itself (JSON-serialisable); restart files store its hash.

        Subclasses report their parameters, so a restart made with other parameters is refused.
        """
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}


def pair_sum(positions: torch.Tensor, cell: torch.Tensor | None, rcut: float, edge_energy, edges=None
             ) -> dict[str, torch.Tensor]:
    """Energy, forces and virial of a pair potential: Σ over edges of ½ ``edge_energy(r, center, neighbor)``.

    ``edge_energy`` maps pair distances (E,) and the edges' atom indices to pair energies (E,);
    every pair appears twice in a full neighbour list (i→j and j→i), hence the half. ``edges``: an
    engine's Verlet pairs (beyond ``rcut`` the pair energy must be 0), else built here.
    """
    from deeppot.core.grad import energy_derivatives
    from deeppot.core.neighbor import build_edges

    pos = positions.to(torch.float64)
    n = pos.shape[0]
    if edges is None:
        edges = build_edges(pos.detach(), cell, rcut)
    rij = edges.vectors(pos.detach()).requires_grad_(True)
    with torch.enable_grad():
        e_edge = 0.5 * edge_energy(torch.linalg.norm(rij, dim=1), edges.center, edges.neighbor)
        atom_e = torch.zeros(n, dtype=pos.dtype, device=pos.device).index_add(0, edges.center, e_edge)
        energy = atom_e.sum()
        force, virial, _ = energy_derivatives(energy, rij, edges.center, edges.neighbor, n,
                                              torch.zeros(n, dtype=torch.long, device=pos.device), 1)
    return {"energy": energy.detach(), "force": force, "virial": virial[0], "atom_energy": atom_e.detach()}
