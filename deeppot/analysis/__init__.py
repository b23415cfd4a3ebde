"""Structure analysis: RDF, bond-angle distributions, Steinhardt order, tetrahedral order, MSD.

Functions take a list of ``ase.Atoms`` (see :func:`read_frames`) and return numpy arrays;
definitions follow SCIENCE.md §5.3 and are documented next to each function.
"""

from deeppot.analysis.adf import adf
from deeppot.analysis.frames import read_frames
from deeppot.analysis.msd import diffusion_coefficient, msd
from deeppot.analysis.rdf import rdf
from deeppot.analysis.steinhardt import steinhardt
from deeppot.analysis.tetrahedral import tetrahedral_order

__all__ = ["read_frames", "rdf", "adf", "steinhardt", "tetrahedral_order", "msd", "diffusion_coefficient"]
