"""``deeppot analyze rdf|adf|steinhardt|tetrahedral|msd TRAJ... -o OUT.csv``: CSV + PNG beside it."""

from __future__ import annotations

HELP = "structure analysis: rdf, adf, steinhardt, tetrahedral, msd"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import nonnegative_int, output_file, positive_float, positive_int

    parser.add_argument("kind", choices=["rdf", "adf", "steinhardt", "tetrahedral", "msd"])
    parser.add_argument("trajectories", nargs="+", help="extxyz / ASE trajectories, deeppot md output, DeePMD systems")
    parser.add_argument("-o", "--output", required=True, type=output_file, help="CSV file (a PNG is written beside it)")
    parser.add_argument("--species", default=None, help="element for steinhardt/tetrahedral/msd (and adf centre)")
    parser.add_argument("--pair", nargs=2, default=None, metavar=("A", "B"), help="rdf species pair (default all)")
    parser.add_argument("--triplet", nargs=3, default=None, metavar=("J", "I", "K"), help="adf triplet j-i-k")
    parser.add_argument("--rcut", type=positive_float, default=3.5, help="neighbour cutoff for adf/steinhardt, Å")
    parser.add_argument("--rmax", type=positive_float, default=6.0, help="rdf range, Å")
    parser.add_argument("--nbins", type=positive_int, default=None)
    parser.add_argument("--l", type=nonnegative_int, default=6, help="Steinhardt l")
    parser.add_argument("--average", action="store_true", help="Lechner-Dellago averaged q̄_l")
    parser.add_argument("--skip", type=nonnegative_int, default=0, help="frames to skip at the start")
    parser.add_argument("--every", type=positive_int, default=1, help="use every k-th frame")
    parser.add_argument("--timestep-fs", type=positive_float, default=None,
                        help="time between stored frames in fs (msd; default: from the frames' time info)")


def run(args) -> int:
    from pathlib import Path

    import numpy as np
    from tqdm import tqdm

    from deeppot import analysis
    from deeppot.analysis.frames import check_same_atoms
    from deeppot.analysis.plot import plot, write_curves
    from deeppot.errors import DeeppotError
    from deeppot.fileio import atomic_write

    out = Path(args.output)
    data = []
    for path in tqdm(args.trajectories, desc="read", unit="file", disable=len(args.trajectories) < 2):
        frames = analysis.read_frames(path, args.skip, args.every)
        data.append((Path(path).name if not Path(path).is_dir() else Path(path).name + "/", frames))
    if args.kind == "rdf":
        pair = tuple(args.pair) if args.pair else (None, None)
        curves = [(label, *analysis.rdf(f, pair, args.rmax, args.nbins or 300)) for label, f in data]
        write_curves(out, "r_A", "g", curves, "r (Å)", f"g(r) {'-'.join(args.pair or ['all'])}")
        for label, r, g in curves:
            print(f"rdf {label}: first peak g = {g.max():.3f} at r = {r[g.argmax()]:.3f} Å")
    elif args.kind == "adf":
        triplet = tuple(args.triplet) if args.triplet else (args.species,) * 3
        curves = [(label, *analysis.adf(f, triplet, args.rcut, args.nbins or 180)) for label, f in data]
        write_curves(out, "theta_deg", "p", curves, "θ (degrees)", "P(θ)")
        for label, th, p in curves:
            print(f"adf {label}: mean angle {np.sum(th * p) * (th[1] - th[0]):.2f} deg")
    elif args.kind in ("steinhardt", "tetrahedral"):
        column = "qbar" if args.average else "q"
        rows, curves = [], []
        for label, frames in data:
            values = (analysis.steinhardt(frames, args.l, args.rcut, args.species, args.average)
                      if args.kind == "steinhardt" else analysis.tetrahedral_order(frames, args.species or "O"))
            for f, per_atom in enumerate(values):
                rows += [(label, f, a, q) for a, q in enumerate(per_atom)]
            curves.append((label, None, values.ravel()))
            print(f"{args.kind} {label}: mean {column if args.kind == 'steinhardt' else 'q'} = {values.mean():.4f}")
        with atomic_write(out, "w") as handle:
            prefix = "trajectory," if len(data) > 1 else ""
            handle.write(f"{prefix}frame,atom,{column if args.kind == 'steinhardt' else 'q'}\n")
            for label, f, a, q in rows:
                handle.write((f"{label}," if len(data) > 1 else "") + f"{f},{a},{q:.8g}\n")
        name = f"q̄{args.l}" if args.average else f"q{args.l}"
        plot(out.with_suffix(".png"), curves, name if args.kind == "steinhardt" else "q (tetrahedral)",
             "probability density", kind="hist")
    else:
        curves = []
        for label, frames in data:
            check_same_atoms(frames, label, args.skip, args.every)
            # --timestep-fs is per stored frame; time_fs in the frames already spans --every
            dt_fs = (args.timestep_fs * args.every if args.timestep_fs
                     else _frame_interval_fs(frames, label, args.skip, args.every))
            if dt_fs is None:
                raise DeeppotError(f"{label}: frames carry no time; pass --timestep-fs")
            t, values = analysis.msd(frames, dt_fs / 1000.0, args.species)
            d = analysis.diffusion_coefficient(t, values)
            print(f"msd {label}: D = {d:.4g} Å^2/ps = {d * 1e-4:.4g} cm^2/s")
            curves.append((label, t, values))
        write_curves(out, "t_ps", "msd_A2", curves, "t (ps)", "MSD (Å²)")
    print(f"analyze: wrote {out} and {out.with_suffix('.png')}")
    return 0


def _frame_interval_fs(frames, label: str, skip: int, every: int):
    """Time between frames from their ``time_fs`` (deeppot md writes it); None if they carry none."""
    import numpy as np

    from deeppot.errors import DataError

    times = [a.info.get("time_fs") for a in frames]
    if len(frames) < 2 or any(t is None for t in times):
        return None
    steps = np.diff(np.asarray(times, dtype=float))
    uneven = np.nonzero(np.abs(steps - steps[0]) > 1e-6 * max(abs(steps[0]), 1e-12))[0]
    if steps[0] <= 0 or len(uneven):
        k = int(uneven[0]) + 1 if len(uneven) else 1
        raise DataError(f"{label}: frame {skip + k * every} has time_fs {times[k]:g} after {times[k - 1]:g}: "
                        "frames are not evenly spaced in time (pass --timestep-fs to override)")
    return float(steps[0])
