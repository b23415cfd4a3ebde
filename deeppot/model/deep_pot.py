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

    def _check_inputs(self, coords, cells, atom_types) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(atype (natoms,), coord (nframes, natoms, 3), box (nframes, 3, 3) or None)``; errors name the argument."""
        atype = _numeric("atom_types", atom_types, integer=True)
        if atype.ndim == 2:
            if atype.shape[0] == 0 or not (atype == atype[:1]).all():
                raise DataError("atom_types: must be the same for all frames (mixed_type is not supported)")
            atype = atype[0]
        if atype.ndim != 1 or atype.shape[0] == 0:
            raise DataError(f"atom_types: shape {atype.shape}, expected (natoms,) with natoms ≥ 1")
        ntypes = len(self.model.type_map)
        if atype.min() < 0 or atype.max() >= ntypes:
            raise DataError(f"atom_types: values must be in 0..{ntypes - 1} (type_map {self.model.type_map}), "
                            f"got {int(atype.min())}..{int(atype.max())}")
        natoms = atype.shape[0]
        coord = _numeric("coords", coords)
        if coord.size == 0 or coord.size % (natoms * 3) or coord.ndim > 3:
            raise DataError(f"coords: shape {coord.shape} is not (nframes, natoms*3) for natoms = {natoms} "
                            f"(from atom_types)")
        coord = coord.reshape(-1, natoms, 3)
        nframes = coord.shape[0]
        box = None
        if cells is not None:
            box = _numeric("cells", cells)
            if box.size != nframes * 9:
                raise DataError(f"cells: shape {box.shape}, expected ({nframes}, 9) for the {nframes} frame(s) of "
                                "coords, or None for open boundaries")
            box = box.reshape(nframes, 3, 3)
            if np.any(np.abs(np.linalg.det(box)) < 1e-6):
                raise DataError("cells: a cell has zero volume (give None for open boundaries)")
        return atype, coord, box

    def eval(self, coords, cells, atom_types, atomic: bool = False, **unsupported):
        """Energy (nframes, 1), force (nframes, natoms, 3), virial (nframes, 9) [, atomic terms].

        Raises :class:`~deeppot.errors.DataError` naming the argument (``coords``, ``cells``,
        ``atom_types``) whose shape, type or values do not fit the others.
        """
        if unsupported.get("fparam") is not None or unsupported.get("aparam") is not None:
            raise DataError("fparam/aparam are not supported by deeppot models")
        atype, coord, box = self._check_inputs(coords, cells, atom_types)
        natoms, nframes = atype.shape[0], coord.shape[0]
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


def _numeric(name: str, value, integer: bool = False) -> np.ndarray:
    """``value`` as a float64 (or int64) array; a string, object or non-finite array is an error naming ``name``."""
    try:
        arr = np.asarray(value)
    except ValueError:
        raise DataError(f"{name}: ragged or malformed array") from None
    if arr.dtype.kind not in ("iu" if integer else "fiu"):
        if integer and arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise DataError(f"{name}: holds {arr.dtype} values, expected {'integers' if integer else 'numbers'}")
    if not integer and not np.all(np.isfinite(arr)):
        raise DataError(f"{name}: contains NaN or inf")
    return arr.astype(np.int64 if integer else np.float64)
