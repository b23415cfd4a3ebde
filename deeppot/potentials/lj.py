"""Lennard-Jones, cut and shifted, with optional per-species-pair parameters.

.. math:: V(r) = 4\\varepsilon[(\\sigma/r)^{12} - (\\sigma/r)^6] - V(r_c) \\quad (r < r_c)

Evaluated on the same edges as the deep models, with forces and virial from
:mod:`deeppot.core.grad`; the seed paper's empirical baseline and the reference potential
of the MD tests.
"""

from __future__ import annotations

import torch

from deeppot.core.grad import energy_derivatives
from deeppot.core.neighbor import Edges, build_edges
from deeppot.potentials.base import Potential


class LennardJones(Potential):
    takes_edges = True

    def __init__(self, epsilon_eV: float = 0.0104, sigma_A: float = 3.4, rcut_A: float = 8.5,
                 pairs: dict | None = None, type_map: list[str] | None = None, shift: bool = True):
        """``pairs`` maps "A-B" (element names of ``type_map``) to {epsilon_eV, sigma_A}."""
        self.rcut = float(rcut_A)
        self.type_map = list(type_map) if type_map else None
        self.shift = shift
        ntypes = len(self.type_map) if self.type_map else 1
        self.eps = torch.full((ntypes, ntypes), float(epsilon_eV), dtype=torch.float64)
        self.sig = torch.full((ntypes, ntypes), float(sigma_A), dtype=torch.float64)
        for key, params in (pairs or {}).items():
            a, b = key.split("-")
            if not self.type_map or a not in self.type_map or b not in self.type_map:
                raise ValueError(f"LJ pair {key!r}: both elements must be in type_map {self.type_map}")
            i, j = self.type_map.index(a), self.type_map.index(b)
            for table, name in ((self.eps, "epsilon_eV"), (self.sig, "sigma_A")):
                if name in params:
                    table[i, j] = table[j, i] = float(params[name])

    def identity(self) -> dict:
        return {"class": "LennardJones", "epsilon_eV": self.eps.tolist(), "sigma_A": self.sig.tolist(),
                "rcut_A": self.rcut, "shift": self.shift, "type_map": self.type_map}

    def pair_energy(self, r: torch.Tensor, eps: torch.Tensor, sig: torch.Tensor) -> torch.Tensor:
        def v(x):
            s6 = (sig / x) ** 6
            return 4 * eps * (s6 * s6 - s6)

        e = v(r)
        if self.shift:
            e = e - v(torch.full_like(r, self.rcut))
        return torch.where(r < self.rcut, e, torch.zeros_like(e))

    def compute(self, positions, cell, atype, edges: Edges | None = None):
        pos = positions.to(torch.float64)
        n = pos.shape[0]
        atype = atype.to(torch.long) if self.type_map else torch.zeros(n, dtype=torch.long, device=pos.device)
        if edges is None:
            edges = build_edges(pos.detach(), cell, self.rcut)
        rij = edges.vectors(pos.detach()).requires_grad_(True)
        ti, tj = atype[edges.center], atype[edges.neighbor]
        with torch.enable_grad():
            # every pair appears twice (i->j and j->i): half each
            e_edge = 0.5 * self.pair_energy(torch.linalg.norm(rij, dim=1), self.eps[ti, tj], self.sig[ti, tj])
            atom_e = torch.zeros(n, dtype=pos.dtype, device=pos.device).index_add(0, edges.center, e_edge)
            energy = atom_e.sum()
            force, virial, _ = energy_derivatives(energy, rij, edges.center, edges.neighbor, n,
                                                  torch.zeros(n, dtype=torch.long, device=pos.device), 1)
        return {"energy": energy.detach(), "forces": force, "virial": virial[0], "energies": atom_e.detach()}
