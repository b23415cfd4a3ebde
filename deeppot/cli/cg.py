"""``deeppot cg map TRAJ... -o OUTDIR --site O | --com``: atomistic trajectory with forces → CG npy system.

``deeppot cg pair-fit SYSTEM... -o prior.table --rcut 6 [--residual OUT...]``: the MS-CG pair prior
(pair forces by linear force matching) as a pair table, and the CG systems with its forces taken
off (what the network is then trained on; ``deeppot md`` adds the table back with ``pair_table``).

TRAJ: deeppot md's traj.extxyz (forces per frame), a DeePMD npy system with force.npy, any ASE file
with forces, or i-PI positions files with ``--ipi-forces``.
"""

from __future__ import annotations

HELP = "DeePCG coarse graining: map atomistic trajectories with forces to a CG system"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import nonnegative_int, positive_float, positive_int

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("map", help="map trajectories (extxyz from deeppot md, DeePMD npy, any ASE file with forces)",
                       description="Write OUTDIR: a DeePMD npy CG system (coord, box, force; no energy), "
                                   "structure.extxyz (last frame with CG masses, for deeppot md) and cg.json.")
    p.error = parser.error  # one-line errors from the sub-parser too
    p.add_argument("trajectories", nargs="+", metavar="TRAJ", help="atomistic trajectories with forces (same atoms)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="CG system directory to write")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", nargs="+", metavar="EL",
                       help="one CG site per atom of these species (water: O); CG force = force on that atom")
    which.add_argument("--com", action="store_true",
                       help="one CG site per molecule at its centre of mass; CG force = summed atomic forces")
    p.add_argument("--ipi-forces", nargs="+", metavar="FOR", default=None,
                   help="i-PI output: the forces file of each TRAJ (then i-PI positions files), e.g. "
                        "sim.pos_0.xyz --ipi-forces sim.for_0.xyz")
    p.add_argument("--index", metavar="FILE", default=None,
                   help="molecules: one line of 0-based atom indices each (default: from covalent bonds in frame 0)")
    p.add_argument("--bond-scale", type=positive_float, default=1.2,
                   help="bond if d < scale x (sum of covalent radii) (default 1.2)")
    p.add_argument("--mass", default="molecule", metavar="molecule|atom|AMU",
                   help="site map: CG mass = its molecule's (default), the atom's own, or this number in amu")
    p.add_argument("--name", nargs="+", default=[], metavar="FORMULA=NAME",
                   help="COM map: CG type name of a molecule kind (default: its heaviest element, H2O -> O)")
    p.add_argument("--skip", type=nonnegative_int, default=0, help="frames to drop at the start of each trajectory")
    p.add_argument("--every", type=positive_int, default=1, help="keep every N-th frame")
    p.add_argument("--force", action="store_true", help="replace a non-empty OUTDIR")

    q = sub.add_parser("pair-fit", help="MS-CG pair forces of CG systems → a pair table (the prior of a CG model)",
                       description="Fit pair forces f(r) = -u'(r) by linear least squares to the forces of CG "
                                   "systems, write u(r) as a pair table (DeePMD-kit's format), and optionally "
                                   "the systems with the pair forces subtracted.")
    q.error = parser.error
    q.add_argument("systems", nargs="+", metavar="SYSTEM", help="CG systems with forces (from deeppot cg map)")
    q.add_argument("-o", "--output", required=True, metavar="TABLE", help="pair table file to write")
    q.add_argument("--rcut", type=positive_float, required=True, help="range of the pair forces, Å")
    q.add_argument("--dr", type=positive_float, default=0.05, help="grid of the piecewise-linear force, Å (0.05)")
    q.add_argument("--smoothing", type=float, default=1e-3, help="second-difference penalty (relative; 1e-3)")
    q.add_argument("--every", type=positive_int, default=1, help="use every N-th frame for the fit")
    q.add_argument("--wall", type=positive_float, default=20.0, metavar="eV/Å²",
                   help="slope of the repulsive force below the closest pair in the data, where the data say "
                        "nothing (20); steeper keeps a network trained on top from pulling sites closer there")
    q.add_argument("--residual", nargs="+", metavar="OUT", default=None,
                   help="write each SYSTEM with the pair forces subtracted to OUT (one OUT per SYSTEM)")
    q.add_argument("--force", action="store_true", help="replace existing residual directories")

    t = sub.add_parser("subtract", help="a CG system with a pair table's forces subtracted (e.g. held-out data)",
                       description="Write SYSTEM with the pair forces of TABLE taken off its forces to OUTDIR.")
    t.error = parser.error
    t.add_argument("system", metavar="SYSTEM", help="CG system with forces")
    t.add_argument("--table", required=True, help="pair table (from deeppot cg pair-fit)")
    t.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="residual system directory to write")
    t.add_argument("--force", action="store_true", help="replace a non-empty OUTDIR")


def _mass(text: str):
    import math

    from deeppot.errors import DeeppotError

    if text in ("molecule", "atom"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise DeeppotError(f"--mass {text}: use molecule, atom or a mass in amu") from None
    if not (math.isfinite(value) and value > 0):
        raise DeeppotError(f"--mass {text}: a mass must be a positive number of amu")
    return value


def _names(items: list[str]) -> dict[str, str]:
    from deeppot.errors import DeeppotError

    out = {}
    for item in items:
        formula, sep, name = item.partition("=")
        if not sep or not formula or not name:
            raise DeeppotError(f"--name {item}: write FORMULA=NAME, e.g. H2O=O")
        out[formula] = name
    return out


def run(args) -> int:
    if args.action == "pair-fit":
        return _pair_fit(args)
    if args.action == "subtract":
        from deeppot.data.system import load_system
        from deeppot.potentials.pair_table import PairTable

        system = load_system(args.system)
        _write_residual(args.system, args.output, system, PairTable.from_file(args.table, list(system.type_map)),
                        args.force)
        return 0
    from deeppot.cg import map_trajectories
    from deeppot.errors import DeeppotError

    if args.mass != "molecule" and args.com:
        raise DeeppotError("--mass applies to --site maps; a COM site has its molecule's mass")
    if args.name and not args.com:
        raise DeeppotError("--name applies to --com maps; a site map's types are the site species")
    cg, cgmap = map_trajectories(args.trajectories, args.output, site=args.site, com=args.com,
                                 index_file=args.index, mass=_mass(args.mass), names=_names(args.name),
                                 bond_scale=args.bond_scale, skip=args.skip, every=args.every,
                                 ipi_forces=args.ipi_forces, force=args.force)
    masses = ", ".join(f"{k} {v:.4f} amu" for k, v in cgmap.type_masses().items())
    molecules = f", {cgmap.info['molecules']} molecules" if cgmap.info.get("molecules") else ""
    print(f"cg map ({cgmap.kind}): {len(cgmap.symbols)} atoms -> {cgmap.nsites} sites{molecules}; "
          f"{cg.nframes} frames; masses {masses} -> {args.output} (structure.extxyz, cg.json)")
    return 0


def _pair_fit(args) -> int:
    from pathlib import Path

    from deeppot.cg.pair_fit import fit_pair_forces
    from deeppot.data.system import load_system
    from deeppot.errors import DeeppotError

    if args.residual is not None and len(args.residual) != len(args.systems):
        raise DeeppotError(f"--residual: {len(args.residual)} outputs for {len(args.systems)} systems (one each)")
    for out in args.residual or []:  # refuse before any work or output, not after the table is written
        path = Path(out)
        if path.exists() and not args.force and (not path.is_dir() or any(path.iterdir())):
            raise DeeppotError(f"{out}: exists and is not empty (choose a new name, or --force)")
    systems = [load_system(p) for p in args.systems]
    fit = fit_pair_forces(systems, args.rcut, dr=args.dr, smoothing=args.smoothing, every=args.every,
                          wall_stiffness_eV_A2=args.wall)
    fit.write(args.output)
    closest = ", ".join(f"{r:.2f}" for r in fit.r_min_data)
    print(f"cg pair-fit: {fit.frames} frames, force-matching loss per component {fit.loss_before:.5g} -> "
          f"{fit.loss_after:.5g} eV²/Å² ({100 * (1 - fit.loss_after / fit.loss_before):.2f} % explained); "
          f"closest pairs {closest} Å -> {args.output}")
    for src, out, system in zip(args.systems, args.residual or [], systems):
        _write_residual(src, out, system, fit.potential(), args.force)
    return 0


def _write_residual(src, out, system, table, force: bool) -> None:
    """Copy the system directory ``src`` to ``out`` (atomically) with the table's pair forces subtracted."""
    import shutil
    from pathlib import Path

    import numpy as np

    from deeppot.cg.pair_fit import subtract_pair_forces
    from deeppot.fileio import atomic_dir

    residual = subtract_pair_forces(system, table)
    with atomic_dir(out, force=force) as tmp:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        start = 0
        for set_dir in sorted(Path(tmp).glob("set.*")):
            n = np.load(set_dir / "force.npy").shape[0]
            np.save(set_dir / "force.npy", residual.force[start:start + n].reshape(n, -1))
            start += n
    print(f"  {src}: forces minus the pair forces -> {out}")
