"""Linear coarse-graining maps: atomistic frames with forces → CG sites with mapped forces.

Each CG site I is a group of atoms g(I) with position weights w_a (Σ w_a = 1):

.. math:: R_I = \\sum_{a\\in g(I)} w_a\\, r_a, \\qquad f_I = \\sum_{a\\in g(I)} f_a

* **site map** (``kind="site"``): g(I) = {one atom of a chosen species}, w = 1; the CG force is the
  instantaneous atomistic force on that atom (DeePCG water: the oxygens). The map selects Cartesian
  coordinates, so its Jacobian is constant and the mean of f_I at fixed R is the mean force
  −∂U/∂R_I (SCIENCE.md §5.2).
* **COM map** (``kind="com"``): g(I) = a molecule, w_a = m_a / M; the CG force is the sum of the
  molecule's atomic forces (for a COM map of non-overlapping molecules this is the force conjugate
  to R_I, Noid et al., J. Chem. Phys. 128, 244114 (2008), doi:10.1063/1.2938860).

Positions: each group is made whole by the minimum image relative to its first atom, then R_I is
wrapped into the cell (fractional coordinates in [0, 1)), frame by frame. The CG mass of a site is
the mass of its molecule (default), of the atom itself, or a given number; it only sets the
dynamics of CG MD, not the equilibrium structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from deeppot.data.system import System
from deeppot.errors import DataError


@dataclass
class CGMap:
    """A linear map from ``natoms`` atoms to ``nsites`` CG sites.

    Attributes
    ----------
    kind : "site" or "com"
    symbols : element of each atomistic atom (natoms,), checked against every mapped system
    groups : atoms of each site (nsites arrays of indices)
    weights : position weights of each site's atoms (each sums to 1)
    atype : CG type of each site (nsites,), indexing ``type_map``
    type_map : CG type names (chemical symbols, so CG structures are ordinary ``ase.Atoms``)
    masses : CG mass of each site (nsites,), amu
    info : what the map was built from (written to ``cg.json``)
    """

    kind: str
    symbols: list[str]
    groups: list[np.ndarray]
    weights: list[np.ndarray]
    atype: np.ndarray
    type_map: list[str]
    masses: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def nsites(self) -> int:
        return len(self.groups)

    def type_masses(self) -> dict[str, float]:
        """Mass of each CG type, amu (the sites of one type share one mass)."""
        return {name: float(self.masses[self.atype == t][0]) for t, name in enumerate(self.type_map)
                if np.any(self.atype == t)}

    def apply(self, system: System) -> System:
        """The CG system of ``system`` (which must have forces): coord, box, force; no energy or virial."""
        if system.symbols() != self.symbols:
            raise DataError(f"{system.path}: atoms differ from those the map was built for "
                            f"({system.natoms} atoms vs {len(self.symbols)}, or another species order)")
        if system.force is None:
            raise DataError(f"{system.path}: no forces (force matching needs the atomistic force of every frame)")
        index = np.concatenate(self.groups)
        site_of = np.repeat(np.arange(self.nsites), [len(g) for g in self.groups])
        anchor = np.array([g[0] for g in self.groups])[site_of]
        weight = np.concatenate(self.weights)
        coord = system.coord
        disp = coord[:, index] - coord[:, anchor]
        if system.box is not None:
            disp = minimum_image(disp, system.box)
        # R_I = r_anchor + Σ_a w_a (r_a − r_anchor) (minimum image), then wrapped
        mapped = np.zeros((system.nframes, self.nsites, 3))
        np.add.at(mapped, (slice(None), site_of), weight[None, :, None] * disp)
        mapped += coord[:, [g[0] for g in self.groups]]
        if system.box is not None:
            mapped = wrap(mapped, system.box)
        force = np.zeros((system.nframes, self.nsites, 3))
        np.add.at(force, (slice(None), site_of), system.force[:, index])
        return System(f"{system.path} [cg {self.kind}]", list(self.type_map), self.atype.copy(), mapped,
                      None if system.box is None else system.box.copy(), force=force)


def minimum_image(disp: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Displacements (nf, n, 3) reduced to the nearest image by rounding fractional coordinates.

    Exact for displacements shorter than half the smallest cell height (bonded atoms).
    """
    frac = np.einsum("fni,fij->fnj", disp, np.linalg.inv(box))
    frac -= np.round(frac)
    return np.einsum("fnj,fjk->fnk", frac, box)


def wrap(coord: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Positions (nf, n, 3) moved into the cell: fractional coordinates in [0, 1)."""
    frac = np.einsum("fni,fij->fnj", coord, np.linalg.inv(box))
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0  # -1e-17 floors to 0.999...9 + 1 == 1.0 in floating point
    return np.einsum("fnj,fjk->fnk", frac, box)


def atomic_masses(symbols: list[str], where: str = "") -> np.ndarray:
    from ase.data import atomic_masses as table
    from ase.data import atomic_numbers

    try:
        return np.array([table[atomic_numbers[s]] for s in symbols])
    except KeyError as err:
        raise DataError(f"{where}{err.args[0]!r} is not a chemical element; its mass is unknown") from None


def _site_masses(mass: str | float, sites: np.ndarray, molecules: list[np.ndarray] | None,
                 atom_mass: np.ndarray) -> np.ndarray:
    if mass == "atom":
        return atom_mass[sites]
    if mass == "molecule":
        owner = np.empty(len(atom_mass), dtype=np.int64)
        for k, group in enumerate(molecules):
            owner[group] = k
        return np.array([atom_mass[molecules[owner[s]]].sum() for s in sites])
    return np.full(len(sites), float(mass))


def site_map(symbols: list[str], site: list[str], molecules: list[np.ndarray] | None = None,
             mass: str | float = "molecule") -> CGMap:
    """One CG site per atom of the species in ``site`` (e.g. ``["O"]`` for water).

    ``mass``: ``"molecule"`` (the site's molecule, needs ``molecules``; water O → 18.015 amu),
    ``"atom"`` (the site atom's own mass) or a number (amu, every site).
    """
    missing = [s for s in site if s not in symbols]
    if missing:
        raise DataError(f"site species {', '.join(missing)} not in the trajectory (it has {sorted(set(symbols))})")
    sites = np.array([i for i, s in enumerate(symbols) if s in site], dtype=np.int64)
    if mass == "molecule":
        owner = np.full(len(symbols), -1)
        for k, group in enumerate(molecules or []):
            owner[group] = k
        counts = np.bincount(owner[sites], minlength=max(len(molecules or []), 1))
        if np.any(counts > 1):
            k = int(np.argmax(counts))
            raise DataError(f"molecule {k} (atoms {molecules[k].tolist()[:6]}) holds {counts[k]} site atoms; "
                            "'molecule' masses need one site per molecule (use --mass atom or a number)")
    masses = _site_masses(mass, sites, molecules, atomic_masses(symbols))
    type_map = [s for s in dict.fromkeys(symbols) if s in site]
    atype = np.array([type_map.index(symbols[i]) for i in sites], dtype=np.int64)
    _check_type_masses(atype, masses, type_map)
    return CGMap("site", list(symbols), [np.array([i]) for i in sites], [np.ones(1) for _ in sites], atype,
                 type_map, masses, {"site": list(site), "mass": mass})


def com_map(symbols: list[str], molecules: list[np.ndarray], names: dict[str, str] | None = None) -> CGMap:
    """One CG site per molecule at its centre of mass; CG force = the molecule's summed atomic force.

    A CG type per molecular formula; its name is ``names[formula]`` or, by default, the heaviest
    element of the molecule (water, H2O → "O"). Names must differ between formulas.
    """
    from deeppot.cg.molecules import formula

    atom_mass = atomic_masses(symbols)
    names = dict(names or {})
    formulas = [formula(symbols, g) for g in molecules]
    type_map: list[str] = []
    kinds: dict[str, str] = {}
    for f, group in zip(formulas, molecules):
        if f not in kinds:
            heaviest = symbols[int(group[np.argmax(atom_mass[group])])]
            kinds[f] = names.get(f, heaviest)
            if kinds[f] in type_map:
                other = next(k for k, v in kinds.items() if v == kinds[f] and k != f)
                raise DataError(f"molecules {other} and {f} would both be CG type {kinds[f]!r}; "
                                f"name them apart (--name {f}=NAME)")
            type_map.append(kinds[f])
    unknown = sorted(set(names) - set(kinds))
    if unknown:
        raise DataError(f"--name {unknown[0]}: no molecule with that formula (found {', '.join(kinds)})")
    weights = [atom_mass[g] / atom_mass[g].sum() for g in molecules]
    masses = np.array([atom_mass[g].sum() for g in molecules])
    atype = np.array([type_map.index(kinds[f]) for f in formulas], dtype=np.int64)
    return CGMap("com", list(symbols), [np.asarray(g) for g in molecules], weights, atype, type_map, masses,
                 {"formulas": kinds})


def _check_type_masses(atype: np.ndarray, masses: np.ndarray, type_map: list[str]) -> None:
    for t, name in enumerate(type_map):
        m = masses[atype == t]
        if np.ptp(m) > 1e-6 * m.max():
            raise DataError(f"CG type {name}: its sites have different masses ({m.min():.4f}..{m.max():.4f} amu), "
                            "e.g. site atoms in different molecules; use --mass atom or a number")


def build_map(system: System, site: list[str] | None = None, com: bool = False,
              molecules: list[np.ndarray] | None = None, mass: str | float = "molecule",
              names: dict[str, str] | None = None, bond_scale: float = 1.2) -> CGMap:
    """The map of ``system``'s atoms; molecules (if needed and not given) from bonds in frame 0."""
    if bool(site) == bool(com):
        raise DataError("choose one map: a site species (--site O) or centres of mass (--com)")
    symbols = system.symbols()
    need_molecules = com or mass == "molecule"
    if molecules is None and need_molecules:
        from deeppot.cg.molecules import find_molecules

        box = None if system.box is None else system.box[0]
        molecules = find_molecules(symbols, system.coord[0], box, bond_scale)
    cgmap = com_map(symbols, molecules, names) if com else site_map(symbols, list(site), molecules, mass)
    cgmap.info["molecules"] = None if molecules is None else len(molecules)
    return cgmap


def concatenate(systems: list[System], path: str) -> System:
    """Frames of several CG systems of the same sites as one system."""
    first = systems[0]
    for s in systems[1:]:
        if s.natoms != first.natoms or not np.array_equal(s.atype, first.atype):
            raise DataError(f"{s.path}: other atoms than {first.path}; map them into separate outputs")
        if (s.box is None) != (first.box is None):
            raise DataError(f"{s.path}: periodic and open-boundary trajectories mixed")

    def cat(name):
        return None if getattr(first, name) is None else np.concatenate([getattr(s, name) for s in systems])

    return replace(first, path=path, coord=cat("coord"), box=cat("box"), force=cat("force"))
