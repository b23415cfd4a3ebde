"""Forces, virial and atomic virial from one autograd call on the pair vectors.

This is the only place deeppot differentiates an energy. Because every model evaluates on
pair vectors ``r_ij = r_j - r_i + shift``, a single gradient ``g_ij = ∂E/∂r_ij`` gives
everything, periodic images included, with no strain trick:

* ``F_i = Σ_j g_ij − Σ_j g_ji`` (each edge pushes its centre by +g and its neighbour by −g);
* ``W_αβ = −Σ_ij g_ij,α r_ij,β`` (DeePMD-kit's virial; stress = −W/V);
* atomic virial: ``−g_ij ⊗ r_ij`` is booked on the neighbour j. This equals DeePMD-kit's
  per-atom virial *with* its ``atomic_virial_corr`` (``−Σ_i ∂E_i/∂r_e ⊗ (r_e − r_i)``), which
  is independent of the coordinate origin.

With ``create_graph=True`` the results stay differentiable in the parameters (force loss).
"""

from __future__ import annotations

import torch


def energy_derivatives(energy: torch.Tensor, rij: torch.Tensor, center: torch.Tensor,
                       neighbor: torch.Tensor, natoms: int, frame_of_atom: torch.Tensor, nframes: int,
                       create_graph: bool = False, atomic: bool = False
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Forces (N, 3), virial per frame (nf, 3, 3), atomic virial (N, 3, 3) or None.

    ``energy`` is any scalar whose dependence on positions goes through ``rij`` (E, 3).
    """
    g = edge_gradient(energy, rij, create_graph)
    if not create_graph:
        rij = rij.detach()
    return derivatives_from_edge_gradient(g, rij, center, neighbor, natoms, frame_of_atom, nframes, atomic)


def edge_gradient(energy: torch.Tensor, rij: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """``g = ∂E/∂r_ij`` (E, 3): the one autograd call of every force evaluation (zeros without edges)."""
    if rij.shape[0] == 0 or not energy.requires_grad:
        return torch.zeros_like(rij)
    (g,) = torch.autograd.grad(energy, rij, create_graph=create_graph, retain_graph=create_graph)
    return g


def derivatives_from_edge_gradient(g: torch.Tensor, rij: torch.Tensor, center: torch.Tensor,
                                   neighbor: torch.Tensor, natoms: int, frame_of_atom: torch.Tensor,
                                   nframes: int, atomic: bool = False
                                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Forces, virial and atomic virial from ``g = ∂E/∂r_ij`` (E, 3)."""
    force = rij.new_zeros((natoms, 3)).index_add(0, center, g).index_add(0, neighbor, -g)
    edge_virial = -g.unsqueeze(2) * rij.unsqueeze(1)
    virial = rij.new_zeros((nframes, 3, 3)).index_add(0, frame_of_atom[center], edge_virial)
    atom_virial = rij.new_zeros((natoms, 3, 3)).index_add(0, neighbor, edge_virial) if atomic else None
    return force, virial, atom_virial


def chunked_energy_and_edge_gradient(atomic_energy_fn, batch, chunk_atoms: int
                                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Atomic energies (N,) and ∂E/∂r_ij (E, 3), evaluated ``chunk_atoms`` centres at a time.

    E_i depends only on the edges centred on i, so running forward *and* backward per chunk
    of centres is exact, keeps the working set in cache and bounds memory for large systems
    (intermediates of one chunk only). Inference only: no graph is kept.
    """
    from deeppot.core.descriptor import EdgeBatch

    natoms = batch.natoms
    order = torch.argsort(batch.center, stable=True)
    starts = torch.zeros(natoms + 1, dtype=torch.long, device=batch.center.device)
    starts[1:] = torch.cumsum(torch.bincount(batch.center, minlength=natoms), 0)
    starts = starts.tolist()
    neighbor_type = batch.neighbor_type
    rij = batch.rij.detach()
    grad = torch.zeros_like(rij)
    energies = []
    for lo in range(0, natoms, chunk_atoms):
        hi = min(natoms, lo + chunk_atoms)
        edges = order[starts[lo]:starts[hi]]
        sub_rij = rij[edges].requires_grad_(True)
        sub = EdgeBatch(sub_rij, batch.center[edges] - lo, batch.neighbor[edges], batch.atype[lo:hi],
                        neighbor_types=neighbor_type[edges])
        with torch.enable_grad():
            e = atomic_energy_fn(sub)
            g = edge_gradient(e.sum(), sub_rij)
        grad[edges] = g
        energies.append(e.detach())
    return torch.cat(energies), grad
