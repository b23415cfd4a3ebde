"""DeepPot-SE two-body embedding with radial information only: ``se_e2_r``.

.. math:: D_i = \\frac{1}{5}\\,\\frac{1}{N_c} \\sum_j G(\\hat s_{ij})

(DeePMD-kit ``se_r``, including its fixed 1/5 rescaling). Empty slots enter as
``G(ŝ_pad)``, added as a count times a constant.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field, field_validator
from torch import nn

from deeppot.core.descriptor.base import EdgeBatch
from deeppot.core.descriptor.registry import register
from deeppot.core.descriptor.smooth import SeDescriptor
from deeppot.core.network import embedding_net
from deeppot.schema.base import NOT_YET
from deeppot.schema.descriptor import SeSection

RESCALE = 1.0 / 5.0


class SeE2RConfig(SeSection):
    type: Literal["se_e2_r", "se_r"] = Field(description="descriptor type")
    type_one_side: bool = Field(True, description="one embedding net per neighbour type (only true)")

    @field_validator("type_one_side")
    @classmethod
    def _one_side(cls, value: bool) -> bool:
        if not value:
            raise ValueError(f"false: {NOT_YET} for se_e2_r (only true)")
        return value


@register
class DescriptorSeR(SeDescriptor):
    type_name = "se_e2_r"
    aliases = ("se_r",)
    Config = SeE2RConfig
    compressible = True
    NET_KEYS: ClassVar[tuple[str, ...]] = ("neuron", "type_one_side", "resnet_dt", "activation_function")
    ncol = 1

    def __init__(self, rcut: float, rcut_smth: float, sel: list[int], ntypes: int,
                 neuron: list[int] = (10, 20, 40), type_one_side: bool = True, resnet_dt: bool = False,
                 activation_function: str = "tanh", dtype=torch.float64, seed: int | None = None,
                 env_protection: float = 0.0, set_davg_zero: bool = False):
        super().__init__(rcut, rcut_smth, sel, ntypes, dtype, env_protection, set_davg_zero)
        if not type_one_side:
            raise ValueError("se_e2_r supports type_one_side=true only (as DeePMD-kit)")
        self.neuron = list(neuron)
        self.type_one_side = True
        self.resnet_dt = bool(resnet_dt)
        self.activation_function = activation_function
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.embeddings = nn.ModuleList(
            embedding_net(self.neuron, activation_function, resnet_dt, dtype, gen) for _ in range(ntypes)
        )

    def type_fields(self) -> dict:
        return {"type": "se_r", "type_one_side": True, "spin": None}  # DeePMD-kit's name in files

    embedding_ndim = 1

    @property
    def dim_out(self) -> int:
        return self.neuron[-1]

    def forward(self, batch: EdgeBatch) -> torch.Tensor:
        rows, pad_rows, counts = self.normalized_rows(batch)
        tj = batch.neighbor_type
        m = self.neuron[-1]
        d = rows.new_zeros((batch.natoms, m))
        for t, net in enumerate(self.embeddings):
            sel_rows = (tj == t).nonzero().squeeze(1)
            if sel_rows.numel():
                d = d.index_add(0, batch.center[sel_rows], net(rows[sel_rows]))
        # empty slots: per centre type ti, the pad input of the type-t block
        g_pad = torch.stack([net(pad_rows[:, t, :]) for t, net in enumerate(self.embeddings)], dim=1)
        n_pad = (torch.as_tensor(self.sel, device=rows.device) - counts).to(rows.dtype)
        d = d + torch.einsum("nt,ntm->nm", n_pad, g_pad[batch.atype])
        return d * (RESCALE / self.nnei)
