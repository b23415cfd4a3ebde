"""Energy fitting: one network per species maps a descriptor row to an atomic energy.

.. math:: E_i = F_{t_i}(D_i) + b_{t_i}, \\qquad E = \\sum_i E_i

``bias_atom_e`` is the fitting net's own bias; the model adds DeePMD-kit's ``out_bias`` on
top (set by least squares from data, SCIENCE.md §2.6).

Precision as DeePMD-kit's ``precision`` key: the networks run in ``dtype`` (the descriptor is
cast to it, ``bias_atom_e`` is stored in float64 and added in ``dtype``); atomic energies are
returned in float64, so that energies are summed in float64 whatever the network precision.
"""

from __future__ import annotations

import torch
from torch import nn

from deeppot.core.network import fitting_net


class EnergyFitting(nn.Module):
    def __init__(self, ntypes: int, dim_descrpt: int, neuron: list[int] = (120, 120, 120),
                 resnet_dt: bool = True, activation_function: str = "tanh", dtype=torch.float64,
                 seed: int | None = None):
        super().__init__()
        self.ntypes = ntypes
        self.dim_descrpt = dim_descrpt
        self.neuron = list(neuron)
        self.resnet_dt = bool(resnet_dt)
        self.activation_function = activation_function
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.nets = nn.ModuleList(
            fitting_net(dim_descrpt, self.neuron, activation_function, resnet_dt, dtype, gen)
            for _ in range(ntypes)
        )
        self.register_buffer("bias_atom_e", torch.zeros(ntypes, 1, dtype=torch.float64))

    @property
    def dtype(self) -> torch.dtype:
        return self.nets[0].layers[0].w.dtype

    def forward(self, descriptor: torch.Tensor, atype: torch.Tensor) -> torch.Tensor:
        """Atomic energies (N,) in float64 for descriptor rows (N, dim_descrpt) of atoms of type ``atype``."""
        dtype = self.dtype
        descriptor = descriptor.to(dtype)
        out = descriptor.new_zeros(descriptor.shape[0])
        for t, net in enumerate(self.nets):
            rows = (atype == t).nonzero().squeeze(1)
            if rows.numel():
                out = out.index_put((rows,), net(descriptor[rows]).squeeze(-1))
        return (out + self.bias_atom_e[atype, 0].to(dtype)).to(torch.float64)
