"""Classical density functional theory on planar grids (issue 14).

Ω_v[ρ] = F_id[ρ] + F_ex[ρ] + ∫ρ(v − μ) is minimised for a fluid between or against walls:

* :mod:`.grid` planar grids (periodic or reflecting) and FFT / DCT convolutions;
* :mod:`.functionals` ideal gas, Percus' exact hard rods, FMT hard spheres (Rosenfeld, White
  Bear), mean-field LJ attraction;
* :mod:`.external` hard walls, LJ 9-3 walls, tabulated βv(z);
* :mod:`.solver` Picard/Anderson or Newton–Krylov, grand canonical or canonical;
* :mod:`.observables` Ω, surface excess, adsorption, contact density, bulk pressure;
* :mod:`.mc` Monte Carlo of 1-D hard rods (the data for :mod:`.learned`).

Units: lengths in the user's unit, energies in k_BT, thermal wavelength Λ = 1.
"""

from deeppot.cdft.external import hard_wall, lj93_wall, tabulated
from deeppot.cdft.functionals import HardRods, HardSpheres, IdealGas, LJAttraction, SumFunctional, lj_fluid
from deeppot.cdft.grid import PlanarGrid
from deeppot.cdft.observables import adsorption, bulk_pressure, contact_density, grand_potential
from deeppot.cdft.solver import ConvergenceError, Profile, solve

__all__ = ["ConvergenceError", "HardRods", "HardSpheres", "IdealGas", "LJAttraction", "PlanarGrid", "Profile",
           "SumFunctional", "adsorption", "bulk_pressure", "contact_density", "grand_potential", "hard_wall",
           "lj93_wall", "lj_fluid", "solve", "tabulated"]
