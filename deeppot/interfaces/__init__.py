"""Interfaces to other simulation programs: ASE, i-PI, LAMMPS."""
