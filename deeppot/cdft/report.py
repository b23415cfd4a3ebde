"""Outputs of a DFT run: the profile as CSV and PNG, and a printed summary."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from deeppot.cdft import observables as obs
from deeppot.cdft.solver import Profile
from deeppot.fileio import atomic_path, atomic_write


def summary(profile: Profile) -> dict[str, float]:
    out = {"omega_per_area_kT": obs.grand_potential(profile), "mu_kT": profile.mu_kT,
           "n_per_area": profile.grid.integrate(profile.rho), "iterations": profile.iterations,
           "residual": profile.residuals[-1], "seconds": profile.seconds}
    if profile.rho_bulk is not None:
        out.update(rho_bulk=profile.rho_bulk, pressure_kT=obs.bulk_pressure(profile),
                   adsorption=obs.adsorption(profile),
                   surface_omega_per_area_kT=obs.surface_grand_potential(profile))
    return out


def write_outputs(profile: Profile, out: Path) -> None:
    buf = io.StringIO()
    buf.write(f"# deeppot cdft: {profile.functional.name}, {profile.ensemble}, mu_kT={profile.mu_kT:.12g}\n")
    buf.write("z,rho,beta_v\n")
    for z, r, v in zip(profile.grid.z, profile.rho, profile.v_kT):
        buf.write(f"{z:.10g},{r:.12g},{v:.10g}\n")
    with atomic_write(out / "profile.csv", "w") as fh:
        fh.write(buf.getvalue())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(profile.grid.z, profile.rho, lw=1.2)
    if profile.rho_bulk is not None:
        ax.axhline(profile.rho_bulk, color="0.6", lw=0.8, ls="--", label="bulk")
        ax.legend(frameon=False)
    ax.set_xlabel("z")
    ax.set_ylabel("ρ(z)")
    ax.set_title(f"{profile.functional.name} ({profile.ensemble})", fontsize=10)
    acc = np.isfinite(profile.v_kT)
    ax.set_xlim(profile.grid.z[acc].min() - profile.grid.dz, profile.grid.z[acc].max() + profile.grid.dz)
    fig.tight_layout()
    with atomic_path(out / "profile.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def print_summary(profile: Profile, out: Path | None = None) -> None:
    s = summary(profile)
    print(f"functional: {profile.functional.name}; {profile.ensemble}; {profile.grid.n} points "
          f"({profile.grid.boundary}), converged in {s['iterations']} iterations to {s['residual']:.1e} "
          f"({s['seconds']:.3g} s)")
    print(f"beta*mu = {s['mu_kT']:.10g}; N/A = {s['n_per_area']:.10g}")
    print(f"beta*Omega/A = {s['omega_per_area_kT']:.10g}")
    if "pressure_kT" in s:
        print(f"bulk density = {s['rho_bulk']:.10g}; beta*P = {s['pressure_kT']:.10g}")
        print(f"adsorption Gamma = {s['adsorption']:.10g}; beta*(Omega + P V_acc)/A = "
              f"{s['surface_omega_per_area_kT']:.10g}")
    if out is not None:
        print(f"wrote {out / 'profile.csv'} and {out / 'profile.png'}")
