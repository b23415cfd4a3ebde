"""Labelled atomic data: DeePMD npy systems and anything ASE can read, as :class:`System`.

>>> from deeppot.data import load_system, load_systems
>>> system = load_system("examples/water/data/data_0")      # DeePMD npy directory
>>> systems = load_systems(["data/"], type_map=["O", "H"])   # every system below data/, remapped
"""

from deeppot.data.ase_formats import write_extxyz
from deeppot.data.deepmd_npy import write_deepmd_npy
from deeppot.data.system import System, load_system, load_systems

__all__ = ["System", "load_system", "load_systems", "write_deepmd_npy", "write_extxyz"]
