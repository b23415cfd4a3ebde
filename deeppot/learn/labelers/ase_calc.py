"""Any ASE calculator as a labeler (``"emt"`` or ``"package.module:Class"``; ASE units are eV, Å)."""

from __future__ import annotations

from deeppot.learn.labelers.base import Label, label_with_ase


class AseLabeler:
    def __init__(self, calculator: str, kwargs: dict | None = None):
        self.calculator, self.kwargs = calculator, dict(kwargs or {})

    def __call__(self, atoms) -> Label:
        from deeppot.potentials.ase_adapter import make_calculator

        # a fresh calculator per frame: no state (wave functions, caches) leaks between frames
        return label_with_ase(atoms, make_calculator(self.calculator, self.kwargs))
