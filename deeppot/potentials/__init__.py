"""Potentials the MD engine and the interfaces (i-PI, LAMMPS, ASE) can drive.

Every potential implements :class:`deeppot.potentials.base.Potential`.
"""
