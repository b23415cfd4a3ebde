"""Kohn–Sham DFT labels with PySCF for molecules and clusters (open boundaries).

PySCF works in Hartree and Bohr; the conversion to eV and eV/Å happens here, once, with ASE's
CODATA constants (``ase.units.Hartree``, ``ase.units.Bohr``). Forces are minus the analytic
nuclear gradient. An SCF that does not converge within ``max_cycle`` raises :class:`LabelFailed`
(PySCF itself only warns and returns the unconverged energy).
"""

from __future__ import annotations

import numpy as np

from deeppot.learn.labelers.base import Label, LabelFailed


class PyscfLabeler:
    def __init__(self, xc: str = "pbe", basis: str = "def2-svp", charge: int = 0, spin: int = 0,
                 max_cycle: int = 50, conv_tol: float = 1e-9):
        self.xc, self.basis, self.charge, self.spin = xc, basis, charge, spin
        self.max_cycle, self.conv_tol = max_cycle, conv_tol

    def hartree_bohr(self, atoms) -> tuple[float, np.ndarray]:
        """PySCF's own energy (Hartree) and nuclear gradient (Hartree/Bohr) of ``atoms``."""
        from pyscf import dft, gto

        mol = gto.M(atom=[(s, tuple(p)) for s, p in zip(atoms.get_chemical_symbols(), atoms.get_positions())],
                    unit="Angstrom", basis=self.basis, charge=self.charge, spin=self.spin, verbose=0)
        mf = dft.RKS(mol) if self.spin == 0 else dft.UKS(mol)
        mf.xc, mf.max_cycle, mf.conv_tol = self.xc, self.max_cycle, self.conv_tol
        energy = mf.kernel()
        if not mf.converged:
            raise LabelFailed(f"PySCF SCF not converged in {self.max_cycle} cycles")
        gradient = mf.nuc_grad_method().kernel()
        return float(energy), np.asarray(gradient, dtype=np.float64)

    def __call__(self, atoms) -> Label:
        from ase.units import Bohr, Hartree

        if atoms.pbc.any():
            # a periodic frame would silently become a cluster: refuse rather than mislabel
            raise LabelFailed("the pyscf labeler is for molecules and clusters; this frame is periodic "
                              "(use tblite, or an ASE calculator for periodic DFT)")
        energy_ha, gradient_ha_bohr = self.hartree_bohr(atoms)
        if not (np.isfinite(energy_ha) and np.isfinite(gradient_ha_bohr).all()):
            raise LabelFailed("non-finite energy or gradient")
        return Label(energy_ha * Hartree, -gradient_ha_bohr * (Hartree / Bohr), None)
