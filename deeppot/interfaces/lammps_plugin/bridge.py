"""The Python half of ``pair_style deeppot``: deeppot's own evaluation on one rank's local + ghost atoms.

The C++ plugin (pair_deeppot.cpp) embeds CPython in every MPI rank and calls
:meth:`PairBridge.compute` each step with zero-copy views of LAMMPS' arrays: positions of all
``nall`` atoms (local first, then ghosts, which are periodic images or other ranks' atoms), the
model type of each, and the edges (local centre i, neighbour j < nall) within ``rcut`` taken
from LAMMPS' full neighbour list. Ghost positions already carry their image shift, so
``r_ij = x_j - x_i`` directly.

What comes back: the local energy (Σ over local centres of E_i), forces added into LAMMPS'
``f`` for *all* nall atoms (ghost forces are then summed onto their owners by LAMMPS' reverse
communication), and per-atom energies of local atoms. The virial is LAMMPS' ``fdotr`` sum over
nall atoms, which equals deeppot's Σ_edges −g_ij ⊗ r_ij because every edge force pair sits at
its own image positions. Nothing here knows about MPI.

Ghost atoms are never centres (that would multiply the work by nall/nlocal, 3-10x on small
domains): se_e2_a models run the hand-written derivative (core/explicit.py) with
``n_centers=nlocal``; other descriptors get ∂E/∂r_ij per chunk of local centres by autograd
(core/grad.py) and put ±g_ij on both ends of each edge.
"""

from __future__ import annotations

import sys


def _load_torch_deepbind() -> None:
    """Load libtorch with its own symbols first (RTLD_DEEPBIND), before ``import torch``.

    liblammps exports LAMMPS' bundled reference BLAS (``dgemm_`` ...). Loaded into ``lmp`` first,
    those symbols would interpose torch's MKL GEMM: measured 2.2x slower matrix products (addmm
    7.5 ms vs 3.4 ms) and 2x slower models. Deep binding keeps libtorch on its own BLAS.
    ``DEEPPOT_LAMMPS_DEEPBIND=0`` turns this off (should a platform object to deep binding).
    """
    import ctypes
    import importlib.util
    import os

    spec = importlib.util.find_spec("torch")
    if ("torch" in sys.modules or spec is None or not hasattr(os, "RTLD_DEEPBIND")
            or os.environ.get("DEEPPOT_LAMMPS_DEEPBIND", "1") == "0"):
        return
    lib = os.path.join(os.path.dirname(spec.origin), "lib")
    for name in ("libc10.so", "libtorch_cpu.so"):
        path = os.path.join(lib, name)
        if os.path.exists(path):
            ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_GLOBAL | os.RTLD_DEEPBIND)


_load_torch_deepbind()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from deeppot.core import explicit  # noqa: E402
from deeppot.core.descriptor import EdgeBatch  # noqa: E402
from deeppot.core.grad import chunked_energy_and_edge_gradient  # noqa: E402
from deeppot.core.neighbor import check_sel  # noqa: E402
from deeppot.errors import ConfigError  # noqa: E402


class PairBridge:
    def __init__(self, model_files: list[str], elements: list[str]):
        from deeppot.model.dp_format import load_model

        torch.set_num_threads(1)  # one rank per core; LAMMPS owns the parallelism
        self.models = []
        for path in model_files:
            model = load_model(path).eval()
            for p in model.parameters():
                p.requires_grad_(False)
            self.models.append(model)
        first = self.models[0]
        for path, model in zip(model_files[1:], self.models[1:]):
            if list(model.type_map) != list(first.type_map):
                raise ConfigError(f"{path}: type_map {model.type_map} differs from {model_files[0]}'s "
                                  f"{first.type_map}")
        self.type_map = list(first.type_map)
        missing = [e for e in elements if e not in self.type_map]
        if missing:
            raise ConfigError(f"pair_coeff: element(s) {', '.join(missing)} not in the model's type_map "
                              f"{self.type_map}")
        #: model type of LAMMPS types 1..ntypes
        self.lammps_type_to_model = [self.type_map.index(e) for e in elements]
        self.rcut = float(max(m.rcut for m in self.models))
        self.model_files = list(model_files)

    def evaluate(self, k: int, x: torch.Tensor, types: torch.Tensor, center: torch.Tensor,
                 neighbor: torch.Tensor, nlocal: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Model k on one rank: local atom energies (nlocal,) and forces on all atoms (nall, 3)."""
        model = self.models[k]
        rij = x[neighbor] - x[center]
        if model.rcut < self.rcut:  # a committee member with a shorter cutoff
            keep = (torch.linalg.norm(rij, dim=1) < model.rcut).nonzero().squeeze(1)
            rij, center, neighbor = rij[keep], center[keep], neighbor[keep]
        counts = torch.bincount(center * model.ntypes + types[neighbor],
                                minlength=nlocal * model.ntypes).view(nlocal, model.ntypes)
        check_sel(counts, model.sel, model.type_map, where=self.model_files[k])
        nall = int(types.shape[0])
        rij = rij.to(model.dtype)
        if nlocal == 0:
            return rij.new_zeros(0, dtype=torch.float64), torch.zeros(nall, 3, dtype=torch.float64)
        if explicit.supported(model):
            # se_e2_a: hand-written derivative; ghosts receive forces but are not centres
            pf = explicit.pad_edges(model, center, neighbor, rij, types, torch.zeros(nall, dtype=torch.long), 1,
                                    n_centers=nlocal)
            with torch.no_grad():
                out = explicit.evaluate(model, pf, virial=False, chunk_atoms=model.explicit_chunk_atoms)
            return out["atom_energy"], out["force"].to(torch.float64)
        # any other descriptor: autograd per chunk of local centres, then g_ij onto both ends
        batch = EdgeBatch(rij, center, neighbor, types[:nlocal], neighbor_types=types[neighbor])
        atom_energy, g = chunked_energy_and_edge_gradient(model.atomic_energy, batch, model.chunk_atoms)
        g = g.to(torch.float64)
        force = torch.zeros(nall, 3, dtype=torch.float64).index_add(0, center, g).index_add(0, neighbor, -g)
        return atom_energy.detach(), force

    def compute(self, nlocal: int, nall: int, nout: int, x_buf, type_buf, center_buf, neighbor_buf,
                f_buf, eatom_buf, fdevi_buf, edevi_buf, vdevi_buf) -> float:
        """Called by the plugin each step; returns model 0's local energy (eV) and fills the buffers.

        ``nout`` > 1 on model-deviation steps: every model's forces (nall, 3) go to ``fdevi``,
        local energies to ``edevi``, and the rank's Σ x ⊗ f virial (9) to ``vdevi``.
        """
        x = torch.from_numpy(np.frombuffer(x_buf, dtype=np.float64).reshape(nall, 3).copy())
        types = torch.from_numpy(np.frombuffer(type_buf, dtype=np.int32).astype(np.int64))
        center = torch.from_numpy(np.frombuffer(center_buf, dtype=np.int32).astype(np.int64))
        neighbor = torch.from_numpy(np.frombuffer(neighbor_buf, dtype=np.int32).astype(np.int64))
        f = np.frombuffer(f_buf, dtype=np.float64).reshape(nall, 3)
        eatom = np.frombuffer(eatom_buf, dtype=np.float64)
        energy = 0.0
        for k in range(nout):
            atom_energy, force = self.evaluate(k, x, types, center, neighbor, nlocal)
            e = float(atom_energy.sum())
            if k == 0:
                f += force.numpy()
                eatom[:] = atom_energy.numpy()
                energy = e
            if nout > 1:
                np.frombuffer(fdevi_buf, dtype=np.float64).reshape(nout, nall, 3)[k] = force.numpy()
                np.frombuffer(edevi_buf, dtype=np.float64)[k] = e
                np.frombuffer(vdevi_buf, dtype=np.float64).reshape(nout, 9)[k] = \
                    (x.unsqueeze(2) * force.unsqueeze(1)).sum(0).reshape(9).numpy()
        return energy
