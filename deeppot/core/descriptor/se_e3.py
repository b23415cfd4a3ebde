"""DeepPot-SE three-body embedding: ``se_e3`` (DeePMD-kit ``se_t``).

For each pair of neighbour types a ≤ b, with θ_jk = R̃_j[1:4] · R̃_k[1:4] (normalised angular
columns, over *all* slots of the two blocks, empty ones included):

.. math:: D_i = \\sum_{a\\le b} \\frac{1}{\\mathrm{sel}_a\\,\\mathrm{sel}_b}
          \\sum_{j\\in a,\\,k\\in b} \\theta_{jk}\\, G_{ab}(\\theta_{jk}).

This follows DeePMD-kit's code, which multiplies by θ_jk (its documentation writes a
different contraction; SCIENCE.md §2.11). Needs DeePMD-kit's slot layout, so edges are
placed into padded per-type blocks first.
"""

from __future__ import annotations

import itertools
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from deeppot.core.descriptor.base import EdgeBatch
from deeppot.core.descriptor.registry import register
from deeppot.core.descriptor.smooth import SeDescriptor
from deeppot.core.neighbor import slot_index
from deeppot.core.network import embedding_net
from deeppot.schema.descriptor import SeSection


class SeE3Config(SeSection):
    type: Literal["se_e3", "se_at", "se_a_3be", "se_t"] = Field(description="descriptor type")


@register
class DescriptorSeT(SeDescriptor):
    type_name = "se_e3"
    aliases = ("se_at", "se_a_3be", "se_t")
    Config = SeE3Config
    ncol = 4

    def __init__(self, rcut: float, rcut_smth: float, sel: list[int], ntypes: int,
                 neuron: list[int] = (10, 20, 40), resnet_dt: bool = False, activation_function: str = "tanh",
                 dtype=torch.float64, seed: int | None = None, env_protection: float = 0.0,
                 set_davg_zero: bool = False):
        super().__init__(rcut, rcut_smth, sel, ntypes, dtype, env_protection, set_davg_zero)
        self.neuron = list(neuron)
        self.resnet_dt = bool(resnet_dt)
        self.activation_function = activation_function
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        # ntypes^2 nets; DeePMD-kit numbers key (a, b) as a + b * ntypes; only a <= b are used
        self.embeddings = nn.ModuleList(
            embedding_net(self.neuron, activation_function, resnet_dt, dtype, gen) for _ in range(ntypes**2)
        )

    embedding_ndim = 2

    @property
    def dim_out(self) -> int:
        return self.neuron[-1]

    def angular_blocks(self, batch: EdgeBatch) -> torch.Tensor:
        """Normalised angular rows in DeePMD-kit's padded slot layout: (N, nnei, 3)."""
        rows, pad_rows, _ = self.normalized_rows(batch)
        tj = batch.neighbor_type
        device = self.davg.device
        slot_type = torch.repeat_interleave(torch.arange(self.ntypes, device=device),
                                            torch.as_tensor(self.sel, device=device))
        padded = pad_rows[batch.atype][:, slot_type, 1:]  # (N, nnei, 3) filled with pads
        distance = torch.linalg.norm(batch.rij.detach(), dim=1)
        slot = slot_index(batch.center, batch.neighbor, tj, distance, self.sel)
        keep = (slot >= 0).nonzero().squeeze(1)
        return padded.index_put((batch.center[keep], slot[keep]), rows[keep, 1:])

    def forward(self, batch: EdgeBatch) -> torch.Tensor:
        blocks = torch.split(self.angular_blocks(batch), self.sel, dim=1)
        out = batch.rij.new_zeros((batch.natoms, self.neuron[-1]))
        for a, b in itertools.product(range(self.ntypes), repeat=2):
            if a > b:
                continue
            theta = blocks[a] @ blocks[b].transpose(1, 2)  # (N, sel_a, sel_b)
            g = self.embeddings[a + b * self.ntypes](theta.unsqueeze(-1))
            out = out + (theta.unsqueeze(-1) * g).sum(dim=(1, 2)) / (self.sel[a] * self.sel[b])
        return out
