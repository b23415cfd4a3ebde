"""Model deviation of an ensemble (SCIENCE.md §4.1; DeePMD-kit ``dp model-devi``).

For n_m models: ε_F,i = ‖std_k F_i^(k)‖ (population std, ddof 0); max/min/avg over atoms.
Virial per atom, Ξ/N: std over models per component; max/min over the 9 components and
avg = ‖ε_Ξ‖_F / 3. Energy: std over models of E/N.
"""

from __future__ import annotations

import numpy as np

HEADER = "step max_devi_v min_devi_v avg_devi_v max_devi_f min_devi_f avg_devi_f devi_e"


def deviation(energies: np.ndarray, forces: np.ndarray, virials: np.ndarray, natoms: int) -> np.ndarray:
    """Columns 1..7 of ``model_devi.out`` per frame.

    Shapes: energies (n_m, nf), forces (n_m, nf, natoms, 3), virials (n_m, nf, 9) → (nf, 7).
    """
    devi_f = np.linalg.norm(np.std(forces, axis=0), axis=-1)  # (nf, natoms)
    devi_v = np.std(virials / natoms, axis=0)  # (nf, 9)
    devi_e = np.std(energies / natoms, axis=0)  # (nf,)
    return np.column_stack([devi_v.max(1), devi_v.min(1), np.linalg.norm(devi_v, axis=1) / 3,
                            devi_f.max(1), devi_f.min(1), devi_f.mean(1), devi_e])


def ensemble_deviation(models, coord: np.ndarray, cell, atype: np.ndarray) -> np.ndarray:
    """Evaluate every model (``DeepPot``) on frames coord (nf, natoms*3) and return (nf, 7)."""
    results = [m.eval(coord, cell, atype) for m in models]
    energies = np.stack([r[0][:, 0] for r in results])
    forces = np.stack([r[1] for r in results])
    virials = np.stack([r[2] for r in results])
    return deviation(energies, forces, virials, len(atype))
