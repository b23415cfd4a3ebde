"""What a converged profile tells: grand potential, surface excess, adsorption, contact density.

All per unit wall area (per system for 1-D rods), energies in k_BT. "Accessible" means βv < ∞:
the Gibbs dividing surface sits at the edge of the region the particle centres can reach (the
contact plane of a hard wall, the surface plane of a 9-3 wall).
"""

from __future__ import annotations

import numpy as np

from deeppot.cdft.solver import Profile
from deeppot.errors import ConfigError


def grand_potential(p: Profile) -> float:
    """βΩ/A = βF_id + βF_ex + ∫ρ(βv − βμ) over the grid (Λ = 1)."""
    m = p.accessible & (p.rho > 0)
    rho, v = p.rho[m], p.v_kT[m]
    ideal = np.sum(rho * (np.log(rho) - 1.0)) * p.grid.dz
    external = np.sum(rho * (v - p.mu_kT)) * p.grid.dz
    return float(ideal + p.f_ex + external)


def bulk_pressure(p: Profile) -> float:
    """βP of the bulk fluid in equilibrium with the profile (grand canonical runs)."""
    if p.rho_bulk is None:
        raise ConfigError("cdft: the bulk pressure needs a bulk density (grand canonical with rho_bulk)")
    return float(p.functional.bulk_pressure(p.rho_bulk))


def accessible_length(p: Profile) -> float:
    return float(np.count_nonzero(p.accessible) * p.grid.dz)


def surface_grand_potential(p: Profile) -> float:
    """β(Ω + P V_acc)/A: the excess grand potential of the walls (γ summed over the walls on the grid)."""
    return grand_potential(p) + bulk_pressure(p) * accessible_length(p)


def adsorption(p: Profile) -> float:
    """Γ = ∫_acc (ρ − ρ_b) dz (canonical runs: ρ_b is then the given reference, or 0)."""
    ref = p.rho_bulk or 0.0
    return float(np.sum(p.rho[p.accessible] - ref) * p.grid.dz)


def contact_density(p: Profile, contact: float, side: str = "left", points: int = 3) -> float:
    """ρ at a hard wall's contact plane: the last ``points`` accessible values extrapolated
    by a polynomial of degree points−1 (the raw nearest value is off by O(dz))."""
    z, rho, acc = p.grid.z, p.rho, p.accessible
    idx = np.nonzero(acc & ((z > contact) if side == "left" else (z < contact)))[0]
    if idx.size < points:
        raise ConfigError(f"cdft: fewer than {points} accessible points next to the contact plane {contact:g}")
    take = idx[:points] if side == "left" else idx[-points:]
    return float(np.polyval(np.polyfit(z[take], rho[take], points - 1), contact))
