"""Excess free-energy functionals: ideal gas, Percus hard rods, FMT hard spheres, mean-field LJ."""

from deeppot.cdft.functionals.base import IdealGas, SumFunctional, WeightedDensityFunctional
from deeppot.cdft.functionals.fmt import HardSpheres
from deeppot.cdft.functionals.hard_rods import HardRods
from deeppot.cdft.functionals.mean_field import LJAttraction, barker_henderson_diameter

__all__ = ["HardRods", "HardSpheres", "IdealGas", "LJAttraction", "SumFunctional", "WeightedDensityFunctional",
           "barker_henderson_diameter", "lj_fluid"]


def lj_fluid(epsilon_kT: float, sigma: float = 1.0, rcut: float = 2.5, shift: bool = True,
             version: str = "white_bear") -> SumFunctional:
    """LJ fluid: FMT hard spheres of the Barker–Henderson diameter + mean-field WCA attraction."""
    d = barker_henderson_diameter(epsilon_kT, sigma)
    return SumFunctional(HardSpheres(d, version), LJAttraction(epsilon_kT, sigma, rcut, shift))
