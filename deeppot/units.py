"""The single internal unit system: metal units (Å, eV, fs for MD input, amu, K, bar).

Conversions to other unit systems (i-PI's atomic units, ASE's internal time unit) happen
only at the interface that needs them, using the constants below.
"""

from __future__ import annotations

from ase import units as _ase

#: Boltzmann constant in eV/K.
KB_EV_PER_K = _ase.kB
#: 1 bar in eV/Å^3.
BAR_EV_PER_A3 = _ase.bar
#: 1 eV/Å^3 in bar.
EV_PER_A3_IN_BAR = 1.0 / _ase.bar
#: 1 fs in ASE's internal time unit (Å sqrt(amu/eV)).
FS_ASE = _ase.fs
#: 1 Å in Bohr and 1 eV in Hartree (CODATA values as used by ASE).
ANGSTROM_IN_BOHR = 1.0 / _ase.Bohr
EV_IN_HARTREE = 1.0 / _ase.Hartree
