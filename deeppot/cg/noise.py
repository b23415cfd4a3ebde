"""The force-matching loss of a CG potential on mapped data, and what it says about the noise floor.

With f the mapped instantaneous force and F = E[f | R] the mean force (SCIENCE.md §5.2),

.. math:: \\langle|f + \\nabla U|^2\\rangle = \\langle|f - F|^2\\rangle + \\langle|F + \\nabla U|^2\\rangle ,

so the loss of any potential U is an upper bound of the noise floor ⟨|f − F|²⟩ and equals it
for the potential of mean force. Figures here are per Cartesian component (mean over frames,
sites and x, y, z), the quantity ``deeppot train`` reports as rmse_f².
"""

from __future__ import annotations

import numpy as np
import torch

from deeppot.data.system import System


def predicted_forces(cg: System, potential) -> np.ndarray:
    """Forces (nframes, nsites, 3) of ``potential`` (a :class:`~deeppot.potentials.base.Potential`) on ``cg``."""
    atype = torch.as_tensor(cg.atype)
    if getattr(potential, "type_map", None):
        atype = torch.as_tensor(cg.remap(list(potential.type_map)).atype)
    out = []
    for f in range(cg.nframes):
        cell = None if cg.box is None else torch.as_tensor(cg.box[f])
        out.append(potential.compute(torch.as_tensor(cg.coord[f]), cell, atype)["force"].detach().numpy())
    return np.array(out)


def force_matching_loss(cg: System, potential) -> float:
    """⟨(f − F_U)²⟩ per component (eV²/Å²): the loss of ``potential`` on the mapped forces ``cg.force``."""
    return float(np.mean((cg.force - predicted_forces(cg, potential)) ** 2))
