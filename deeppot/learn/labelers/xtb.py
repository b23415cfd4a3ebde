"""GFN-xTB labels with tblite (LIBRARIES.md §3): periodic energy, forces and virial.

tblite's ASE calculator already speaks eV, eV/Å and eV/Å³; the virial is converted to
DeePMD's sign and unit (eV) in :func:`~deeppot.learn.labelers.base.virial_from_stress`. A
non-converged SCF raises ``ase.calculators.calculator.CalculationFailed`` → :class:`LabelFailed`.
``verbosity=0`` keeps the SCF table off stdout; the guess keyword is ``guess`` (the documented
``initial_guess`` is silently ignored), so it is not exposed.
"""

from __future__ import annotations

from deeppot.learn.labelers.base import Label, label_with_ase


class TbliteLabeler:
    def __init__(self, method: str = "GFN1-xTB", accuracy: float = 1.0, electronic_temperature_K: float = 300.0,
                 max_iterations: int = 250, charge: int = 0):
        self.options = dict(method=method, accuracy=accuracy, electronic_temperature=electronic_temperature_K,
                            max_iterations=max_iterations, charge=charge, verbosity=0)

    def __call__(self, atoms) -> Label:
        from tblite.ase import TBLite

        return label_with_ase(atoms, TBLite(**self.options))
