"""Is it liquid water? Structural checks of an MD trajectory against the DFT frames.

Three checks, each printed with both figures, the tolerance and PASS or FAIL:

1. no O–O pair closer than ``--min-oo`` (2.3 Å) in any MD frame (periodic minimum image);
   liquid water's closest O–O approach is ≈ 2.4 Å, a model that lets oxygens touch is broken;
2. height of the first peak of g_OO(r) within ``--height-tol`` (10 %) of the DFT frames';
3. position of that peak within ``--pos-tol`` (0.05 Å) of the DFT frames'.

The peak is the vertex of a least-squares parabola through g_OO on 0.02 Å bins within ±0.10 Å of
the highest bin between 2.4 and 3.2 Å, so it does not move in steps of a bin and it averages the
bin-to-bin noise. The "noise" column is the same figure's difference between two halves of the DFT
frames (first and second half of every system): the scatter of the reference itself.

    python check_water.py md_out/traj.extxyz --skip 50          # against ../data (all systems)
    python check_water.py TRAJ --dft DIR [DIR ...] --json checks.json

Exit code 0 when every check passes, 1 when one fails, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PEAK_WINDOW = (2.4, 3.2)  # Å: where liquid water's first O–O peak must be
BIN = 0.02  # Å
HALF_WIDTH = 0.10  # Å: parabola fit range either side of the highest bin (11 bins)


@dataclass
class Check:
    name: str
    md: float
    dft: float
    tolerance: str
    passed: bool
    noise: float | None = None
    unit: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


def min_oo_distances(frames) -> np.ndarray:
    """Per frame, the smallest O–O distance (Å), minimum image in periodic cells."""
    from ase.geometry import get_distances

    out = np.empty(len(frames))
    for k, atoms in enumerate(frames):
        o = atoms.positions[np.array(atoms.get_chemical_symbols()) == "O"]
        if len(o) < 2:
            raise ValueError(f"frame {k}: fewer than two O atoms")
        pbc = atoms.pbc if atoms.pbc.any() else None
        _, d = get_distances(o, cell=atoms.cell if pbc is not None else None, pbc=pbc)
        d[np.diag_indices_from(d)] = np.inf
        out[k] = d.min()
    return out


def g_oo(frames, rmax: float = 6.0, bin_width: float = BIN) -> tuple[np.ndarray, np.ndarray]:
    """g_OO(r) on ``bin_width`` bins up to ``rmax`` (deeppot.analysis.rdf on the oxygens alone: same g_OO,
    a ninth of the pairs)."""
    from deeppot.analysis import rdf

    oxygens = [atoms[np.array(atoms.get_chemical_symbols()) == "O"] for atoms in frames]
    return rdf(oxygens, ("O", "O"), rmax=rmax, nbins=int(round(rmax / bin_width)))


def first_peak(r: np.ndarray, g: np.ndarray, window=PEAK_WINDOW, half_width: float = HALF_WIDTH
               ) -> tuple[float, float]:
    """(position Å, height) of the first peak: vertex of a parabola fitted around the highest bin."""
    inside = np.nonzero((r >= window[0]) & (r <= window[1]))[0]
    if inside.size == 0 or not np.any(g[inside] > 0):
        return float("nan"), 0.0
    k = inside[np.argmax(g[inside])]
    near = np.abs(r - r[k]) <= half_width + 1e-9
    a, b, c = np.polyfit(r[near] - r[k], g[near], 2)
    if a >= 0:  # not a maximum (flat or noisy): the highest bin itself
        return float(r[k]), float(g[k])
    x = float(np.clip(-b / (2 * a), -half_width, half_width))
    return float(r[k] + x), float(c - b * b / (4 * a) if abs(x) < half_width else np.polyval((a, b, c), x))


def dft_halves(systems) -> tuple[list, list]:
    """First and second half of the frames of every system (for the reference's own scatter)."""
    from deeppot.analysis import read_frames

    first, second = [], []
    for path in systems:
        frames = read_frames(path)
        first += frames[: len(frames) // 2]
        second += frames[len(frames) // 2:]
    return first, second


def check(md_frames, dft_frames, min_oo: float = 2.3, height_tol: float = 0.10, pos_tol: float = 0.05,
          dft_split: tuple[list, list] | None = None) -> tuple[list[Check], dict]:
    """The three checks, and the g_OO curves they came from (``{"r", "md", "dft"}``).

    ``dft_split``: the DFT frames in two halves (their union is ``dft_frames``, all frames of one size and
    volume); gives the noise column at no extra cost."""
    d_md = min_oo_distances(md_frames)
    d_dft = min_oo_distances(dft_frames)
    r, g_md = g_oo(md_frames)
    noise_h = noise_p = None
    if dft_split is None:
        _, g_dft = g_oo(dft_frames)
    else:  # the halves' g weighted by their frame counts: the whole's g (frames of equal volume and size)
        (_, g1), (_, g2) = (g_oo(half) for half in dft_split)
        n1, n2 = len(dft_split[0]), len(dft_split[1])
        g_dft = (n1 * g1 + n2 * g2) / (n1 + n2)
    pos_md, h_md = first_peak(r, g_md)
    pos_dft, h_dft = first_peak(r, g_dft)
    if dft_split is not None:
        (p1, h1), (p2, h2) = first_peak(r, g1), first_peak(r, g2)
        noise_h, noise_p = abs(h1 - h2) / h_dft, abs(p1 - p2)
    rel_h = abs(h_md - h_dft) / h_dft
    checks = [
        Check("closest O-O pair, any frame (A)", float(d_md.min()), float(d_dft.min()), f">= {min_oo:.2f}",
              bool(d_md.min() >= min_oo), unit="A"),
        Check("g_OO first peak height", h_md, h_dft, f"{height_tol:.0%} (off {rel_h:.1%})",
              bool(rel_h <= height_tol), noise_h),
        Check("g_OO first peak position (A)", pos_md, pos_dft, f"{pos_tol:.2f} A (off {abs(pos_md - pos_dft):.3f})",
              bool(abs(pos_md - pos_dft) <= pos_tol), noise_p, unit="A"),
    ]
    return checks, {"r": r, "md": g_md, "dft": g_dft, "min_oo_md": d_md}


def table(checks: list[Check], n_md: int, n_dft: int) -> str:
    lines = [f"{'check':34s} {'MD':>8s} {'DFT':>8s}  {'tolerance':24s} {'DFT noise':>9s}  verdict",
             f"{'':34s} {f'{n_md} fr':>8s} {f'{n_dft} fr':>8s}"]
    for c in checks:
        noise = "" if c.noise is None else (f"{c.noise:.1%}" if "height" in c.name else f"{c.noise:.3f}")
        lines.append(f"{c.name:34s} {c.md:8.3f} {c.dft:8.3f}  {c.tolerance:24s} {noise:>9s}  {c.verdict}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trajectory", help="MD trajectory (extxyz, any ASE format) or a DeePMD system")
    ap.add_argument("--skip", type=int, default=0, help="MD frames to discard at the start (equilibration)")
    ap.add_argument("--dft", nargs="+", default=[str(DATA / f"data_{i}") for i in range(3)],
                    help="DFT reference systems (default: all of examples/water/data)")
    ap.add_argument("--min-oo", type=float, default=2.3, help="smallest allowed O-O distance, Å")
    ap.add_argument("--height-tol", type=float, default=0.10, help="relative tolerance on the g_OO peak height")
    ap.add_argument("--pos-tol", type=float, default=0.05, help="tolerance on the g_OO peak position, Å")
    ap.add_argument("--json", default=None, help="write the checks here")
    ap.add_argument("--csv", default=None, help="write g_OO(r) of MD and DFT here (CSV, and a PNG beside it)")
    args = ap.parse_args(argv)

    from deeppot.analysis import read_frames
    from deeppot.errors import DeeppotError

    try:
        md = read_frames(args.trajectory, skip=args.skip)
        split = dft_halves(args.dft)
    except (DeeppotError, OSError) as err:
        print(f"check_water: error: {err}", file=sys.stderr)
        return 2
    dft = split[0] + split[1]
    checks, curves = check(md, dft, args.min_oo, args.height_tol, args.pos_tol, dft_split=split)
    print(table(checks, len(md), len(dft)))
    ok = all(c.passed for c in checks)
    print(f"water structure: {'PASS' if ok else 'FAIL'} ({sum(c.passed for c in checks)}/{len(checks)} checks pass)")
    if args.json:
        Path(args.json).write_text(json.dumps({"passed": ok, "md_frames": len(md), "dft_frames": len(dft),
                                               "checks": [asdict(c) | {"verdict": c.verdict} for c in checks]},
                                              indent=1) + "\n")
    if args.csv:
        from deeppot.analysis.plot import write_curves

        write_curves(Path(args.csv), "r_A", "g_OO", [(f"MD ({len(md)} frames)", curves["r"], curves["md"]),
                                                     (f"DFT ({len(dft)} frames)", curves["r"], curves["dft"])],
                     "r (Å)", "g_OO(r)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
