"""``DeepPot``: DeePMD-kit's inference API, so user scripts port by changing an import.

>>> from deeppot import DeepPot
>>> e, f, v = DeepPot("model.dp").eval(coord, cell, atype)

Shapes follow DeePMD-kit: ``coord`` (nframes, natoms*3) Å, ``cell`` (nframes, 9) or None,
``atype`` (natoms,); returns energy (nframes, 1) eV, force (nframes, natoms, 3) eV/Å,
virial (nframes, 9) eV, and with ``atomic=True`` also atom_energy (nframes, natoms, 1) and
atom_virial (nframes, natoms, 9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deeppot.errors import DataError
from deeppot.model.energy_model import EnergyModel

#: frames are evaluated in chunks of about this many atoms to bound memory
ATOMS_PER_CHUNK = 4096


class DeepPot:
    def __init__(self, model: str | Path | EnergyModel):
        if isinstance(model, EnergyModel):
            self.model = model
        else:
            from deeppot.model.dp_format import load_model

            self.model = load_model(model)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def get_type_map(self) -> list[str]:
        return list(self.model.type_map)

    def get_rcut(self) -> float:
        return self.model.rcut

    def get_ntypes(self) -> int:
        return self.model.ntypes

    def get_sel(self) -> list[int]:
        return list(self.model.sel)

    def get_dim_fparam(self) -> int:
        return 0

    def get_dim_aparam(self) -> int:
        return 0

    def eval(self, coords, cells, atom_types, atomic: bool = False, **unsupported):
        if unsupported.get("fparam") is not None or unsupported.get("aparam") is not None:
            raise DataError("fparam/aparam are not supported by deeppot models")
        atype = np.asarray(atom_types, dtype=np.int64)
        if atype.ndim == 2:
            if not (atype == atype[:1]).all():
                raise DataError("atom_types must be the same for all frames (mixed_type is not supported)")
            atype = atype[0]
        natoms = atype.shape[0]
        coord = np.asarray(coords, dtype=np.float64).reshape(-1, natoms, 3)
        nframes = coord.shape[0]
        box = None if cells is None else np.asarray(cells, dtype=np.float64).reshape(nframes, 3, 3)
        chunk = max(1, ATOMS_PER_CHUNK // max(natoms, 1))
        parts: dict[str, list[np.ndarray]] = {}
        at = torch.as_tensor(atype)
        for start in range(0, nframes, chunk):
            stop = min(nframes, start + chunk)
            out = self.model(torch.as_tensor(coord[start:stop]), at,
                             None if box is None else torch.as_tensor(box[start:stop]), atomic=atomic)
            for key, value in out.items():
                parts.setdefault(key, []).append(value.detach().cpu().numpy())
        res = {k: np.concatenate(v) for k, v in parts.items()}
        energy = res["energy"].reshape(nframes, 1)
        force = res["force"].reshape(nframes, natoms, 3)
        virial = res["virial"].reshape(nframes, 9)
        if not atomic:
            return energy, force, virial
        return (energy, force, virial, res["atom_energy"].reshape(nframes, natoms, 1),
                res["atom_virial"].reshape(nframes, natoms, 9))
