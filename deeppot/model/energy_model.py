"""EnergyModel: descriptor + per-species fitting, E = Σ_i E_i, derivatives by autograd.

Two entry points, as in DeePMD-kit:

* :meth:`EnergyModel.forward` takes coordinates, types and an optional cell (frames of the
  same size) and builds neighbour lists itself;
* :meth:`EnergyModel.forward_lower` takes an extended system (local atoms, ghost images, a
  padded neighbour list and a ``mapping``), which is what LAMMPS-style engines hold.

Both reduce to :meth:`EnergyModel.evaluate` on an :class:`~deeppot.core.descriptor.EdgeBatch`,
so the physics lives in one place. Output keys and shapes (``nf`` frames, ``n`` atoms):
``energy`` (nf,), ``force`` (nf, n, 3), ``virial`` (nf, 3, 3), ``atom_energy`` (nf, n),
``atom_virial`` (nf, n, 3, 3).
"""

from __future__ import annotations

import torch
from torch import nn

from deeppot.core import explicit, memory
from deeppot.core.descriptor import Descriptor, EdgeBatch
from deeppot.core.fitting import EnergyFitting
from deeppot.core.grad import (
    chunked_energy_and_edge_gradient,
    derivatives_from_edge_gradient,
    edge_gradient,
    energy_derivatives,
)
from deeppot.core.neighbor import build_edges, check_sel, edges_from_extended, neighbor_counts
from deeppot.errors import DataError


class EnergyModel(nn.Module):
    def __init__(self, descriptor: Descriptor, fitting: EnergyFitting, type_map: list[str]):
        super().__init__()
        memory.keep_freed_memory()  # evaluations reuse freed pages instead of faulting in new ones
        if fitting.dim_descrpt != descriptor.dim_out:
            raise ValueError(f"fitting input {fitting.dim_descrpt} != descriptor output {descriptor.dim_out}")
        self.descriptor = descriptor
        self.fitting = fitting
        self.type_map = list(type_map)
        # DeePMD-kit keeps the output statistics in float64 whatever the network precision
        self.register_buffer("out_bias", torch.zeros(len(type_map), dtype=torch.float64))
        self.register_buffer("out_std", torch.ones(len(type_map), dtype=torch.float64))
        self.min_nbor_dist: float | None = None
        #: inference on more than 2x this many atoms runs forward+backward this many centres at a
        #: time (exact; bounds memory and keeps the working set in cache: 1536 water atoms
        #: 810 -> 520 ms, peak memory halved)
        self.chunk_atoms = 128
        #: the ``deeppot_compress`` section's info once the embedding nets are tables (compress.py)
        self.compression: dict | None = None

    @property
    def explicit_chunk_atoms(self) -> int:
        """Centres per chunk of the explicit (hand-written derivative) inference path.

        Large: the embedding net runs once per distinct ŝ within a chunk (core/contract.py), and
        i→j, j→i of same-type atoms share one only when both centres are in the chunk (192 water
        atoms, float32, 2 threads: 32 centres 65 ms, whole types 41 ms; 1536 atoms float64: 128
        centres 300 ms, 1024 264 ms). 1024 bounds the arrays of very large domains. A compressed
        model's fused kernels form no per-row arrays, so it takes whole types (0).
        """
        return 0 if self.compression else 1024

    # ----- metadata ------------------------------------------------------------------------
    @property
    def rcut(self) -> float:
        return self.descriptor.rcut

    @property
    def sel(self) -> list[int]:
        return self.descriptor.sel

    @property
    def ntypes(self) -> int:
        return len(self.type_map)

    @property
    def dtype(self) -> torch.dtype:
        """Precision of the descriptor (coordinates are cast to it, as DeePMD-kit does)."""
        return self.descriptor.davg.dtype

    # ----- core ----------------------------------------------------------------------------
    def atomic_energy(self, batch: EdgeBatch) -> torch.Tensor:
        """E_i (N,) including the fitting bias and the model's ``out_bias``."""
        descriptor = self.descriptor(batch)
        return self.fitting(descriptor, batch.atype) + self.out_bias[batch.atype]

    def evaluate(self, batch: EdgeBatch, frame_of_atom: torch.Tensor, nframes: int,
                 forces: bool = True, atomic: bool = False, create_graph: bool = False
                 ) -> dict[str, torch.Tensor]:
        """Energies per frame and, if asked, forces and virials (flat over atoms)."""
        if (forces and not create_graph and not atomic and not batch.rij.requires_grad
                and batch.neighbor_types is None and explicit.supported(self)):
            # inference: hand-written derivative, no autograd graph, chunks of centres (explicit.py)
            pf = explicit.pad_edges(self, batch.center, batch.neighbor, batch.rij, batch.atype, frame_of_atom,
                                    nframes)
            with torch.no_grad():
                return explicit.evaluate(self, pf, chunk_atoms=self.explicit_chunk_atoms)
        if forces and not create_graph and batch.natoms > 2 * self.chunk_atoms:
            return self._evaluate_chunked(batch, frame_of_atom, nframes, atomic)
        rij = batch.rij
        if forces and not rij.requires_grad:
            rij = rij.detach().requires_grad_(True)
            batch = EdgeBatch(rij, batch.center, batch.neighbor, batch.atype)
        with torch.enable_grad() if forces else torch.no_grad():
            atom_energy = self.atomic_energy(batch)
            energy = atom_energy.new_zeros(nframes).index_add(0, frame_of_atom, atom_energy)
            out = {"energy": energy, "atom_energy": atom_energy}
            if forces:
                force, virial, atom_virial = energy_derivatives(
                    energy.sum(), rij, batch.center, batch.neighbor, batch.natoms, frame_of_atom, nframes,
                    create_graph=create_graph, atomic=atomic)
                out.update(force=force, virial=virial)
                if atomic:
                    out["atom_virial"] = atom_virial
        return out

    def _evaluate_chunked(self, batch: EdgeBatch, frame_of_atom: torch.Tensor, nframes: int,
                          atomic: bool) -> dict[str, torch.Tensor]:
        atom_energy, g = chunked_energy_and_edge_gradient(self.atomic_energy, batch, self.chunk_atoms)
        force, virial, atom_virial = derivatives_from_edge_gradient(
            g, batch.rij.detach(), batch.center, batch.neighbor, batch.natoms, frame_of_atom, nframes, atomic)
        out = {"energy": atom_energy.new_zeros(nframes).index_add(0, frame_of_atom, atom_energy),
               "atom_energy": atom_energy, "force": force, "virial": virial}
        if atomic:
            out["atom_virial"] = atom_virial
        return out

    def make_batch(self, coord: torch.Tensor, atype: torch.Tensor, box: torch.Tensor | None,
                   where: str = "") -> tuple[EdgeBatch, torch.Tensor]:
        """Build the flattened edge batch for frames of equal size.

        Shapes: coord (nf, n, 3), atype (nf, n), box (nf, 3, 3) or None.
        """
        nf, n = coord.shape[:2]
        centers, neighbors, vecs = [], [], []
        for f in range(nf):
            cell = None if box is None else box[f]
            edges = build_edges(coord[f].detach(), cell, self.rcut, dtype=coord.dtype, device=coord.device)
            counts = neighbor_counts(edges.center, atype[f][edges.neighbor], n, self.ntypes)
            check_sel(counts, self.sel, self.type_map, where=f"{where}frame {f}" if where else f"frame {f}")
            centers.append(edges.center + f * n)
            neighbors.append(edges.neighbor + f * n)
            vecs.append(edges.vectors(coord[f]))
        batch = EdgeBatch(torch.cat(vecs), torch.cat(centers), torch.cat(neighbors), atype.reshape(-1))
        frame_of_atom = torch.arange(nf, device=coord.device).repeat_interleave(n)
        return batch, frame_of_atom

    def forward(self, coord: torch.Tensor, atype: torch.Tensor, box: torch.Tensor | None = None,
                atomic: bool = False, create_graph: bool = False, forces: bool = True
                ) -> dict[str, torch.Tensor]:
        """Evaluate frames: coord (nf, n, 3) Å, atype (n,) or (nf, n), box (nf, 3, 3) or None."""
        coord = coord.to(self.dtype)
        nf, n = coord.shape[:2]
        atype = atype.to(torch.long)
        if atype.dim() == 1:
            atype = atype.unsqueeze(0).expand(nf, n)
        if bool((atype < 0).any()) or bool((atype >= self.ntypes).any()):
            raise DataError(f"atom types must be in 0..{self.ntypes - 1} (type_map {self.type_map})")
        if box is not None:
            box = box.to(self.dtype).reshape(nf, 3, 3)
        batch, frame_of_atom = self.make_batch(coord, atype, box)
        out = self.evaluate(batch, frame_of_atom, nf, forces=forces, atomic=atomic, create_graph=create_graph)
        shaped = {"energy": out["energy"], "atom_energy": out["atom_energy"].view(nf, n)}
        if forces:
            shaped["force"] = out["force"].view(nf, n, 3)
            shaped["virial"] = out["virial"]
            if atomic:
                shaped["atom_virial"] = out["atom_virial"].view(nf, n, 3, 3)
        return shaped

    def forward_lower(self, ext_coord: torch.Tensor, ext_atype: torch.Tensor, nlist: torch.Tensor,
                      mapping: torch.Tensor, atomic: bool = False) -> dict[str, torch.Tensor]:
        """Evaluate one extended system (ghost atoms + padded nlist), as LAMMPS provides it.

        Shapes: ext_coord (nall, 3), ext_atype (nall,), nlist (nloc, nsel), mapping (nall,).
        Returns local ``energy`` (0-d), ``atom_energy`` (nloc,), ``force`` (nloc, 3) folded onto
        local atoms, ``extended_force`` (nall, 3), ``virial`` (3, 3), and ``atom_virial``.
        """
        ext_coord = ext_coord.to(self.dtype).detach()
        nloc, nall = nlist.shape[0], ext_coord.shape[0]
        edges, vec = edges_from_extended(ext_coord, nlist, mapping)
        neighbor_ext = nlist[nlist >= 0]  # the same edges, neighbours numbered in the extended system
        rij = vec.requires_grad_(True)
        batch = EdgeBatch(rij, edges.center, edges.neighbor, ext_atype[:nloc].long())
        with torch.enable_grad():
            atom_energy = self.atomic_energy(batch)
            g = edge_gradient(atom_energy.sum(), rij)
        rij = rij.detach()
        one_frame = torch.zeros(nall, dtype=torch.long, device=rij.device)
        # on local atoms (ghost contributions folded onto their owners), and on every extended atom
        force, virial, atom_virial = derivatives_from_edge_gradient(
            g, rij, edges.center, edges.neighbor, nloc, one_frame, 1, atomic)
        ext_force, _, _ = derivatives_from_edge_gradient(g, rij, edges.center, neighbor_ext, nall, one_frame, 1)
        out = {"energy": atom_energy.sum().detach(), "atom_energy": atom_energy.detach(), "force": force,
               "extended_force": ext_force, "virial": virial[0]}
        if atomic:
            out["atom_virial"] = atom_virial
        return out
