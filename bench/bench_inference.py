"""Energy + forces + virial of the DeePMD-kit water example model: deeppot vs DeePMD-kit, same weights, one run.

    python bench/bench_inference.py [--deepmd-python /path/to/deepmd-venv/bin/python] [--repeats 10]

Prints ms per call, µs per atom, the ratio DeePMD-kit / deeppot and peak memory, for 192 and 1536
atoms, uncompressed and compressed (DeePMD-kit compresses with `dp --pt compress`), float64 and
float32 models (``precision`` of descriptor and fitting net) of both programs.
Without --deepmd-python only deeppot is timed (and compared with the FLOP bound).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import THREADS, deepmd_convert, example_model, peak_rss_mb, set_threads, water_frames  # noqa: E402

FLOP_PER_ATOM = 4.4e6  # energy+forces, real neighbours only (SCIENCE.md §7.2)
MACHINE_GFLOPS = 18.0  # large FP64 GEMM on this 2-core machine (BENCHMARKS.md)


def time_deeppot(dp, coord, cell, atype, repeats):
    dp.eval(coord, cell, atype)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        e, f, v = dp.eval(coord, cell, atype)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times)), e, f


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deepmd-python", default=None)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate DeePMD-kit and deeppot this many times; the best median of each is kept")
    ap.add_argument("--precision", nargs="+", default=["float64", "float32"], choices=("float64", "float32"))
    args = ap.parse_args()
    set_threads()
    from deeppot import DeepPot
    from deeppot.model.compress import compress_model
    from deeppot.model.dp_format import load_model

    work = Path(tempfile.mkdtemp(prefix="dpbench_"))
    cases = {"192": water_frames(1), "1536": water_frames(2)}
    np.savez(work / "frames.npz", **{f"{k}_{n}": v for n, arrs in cases.items()
                                     for k, v in zip(("coord", "cell", "atype"), arrs)})
    env = dict(os.environ, **THREADS)
    tags = [(p, c) for p in args.precision for c in ("", "_c")]
    ours_models = {}
    for prec in args.precision:
        path = work / f"model_{prec}.dp"
        example_model(path, prec)
        ours_models[(prec, "")] = DeepPot(path)
        ours_models[(prec, "_c")] = DeepPot(compress_model(load_model(path), 0.88))
        if args.deepmd_python:
            deepmd_convert(args.deepmd_python, path, work / f"model_{prec}.pth")
            dp_bin = str(Path(args.deepmd_python).with_name("dp"))
            subprocess.run([dp_bin, "--pt", "compress", "-i", str(work / f"model_{prec}.pth"), "-o",
                            str(work / f"model_{prec}_c.pth")], check=True, capture_output=True, env=env, cwd=work)
    theirs: dict = {}
    ours: dict = {}
    load_before = os.getloadavg()
    # alternate the two programs so that a change of machine load affects both alike
    for _ in range(args.rounds):
        for prec, tag in tags:
            if args.deepmd_python:
                out = work / f"dp_{prec}{tag}.json"
                subprocess.run([args.deepmd_python, str(Path(__file__).with_name("_deepmd_worker.py")),
                                str(work / f"model_{prec}{tag}.pth"), str(work / "frames.npz"), str(args.repeats),
                                str(out)], check=True, env=env, capture_output=True)
                result = json.loads(out.read_text())
                best = theirs.setdefault((prec, tag), result)
                for n in cases:
                    if result[n]["ms"] < best[n]["ms"]:
                        best[n] = result[n]
                best["peak_rss_MB"] = result["peak_rss_MB"]
            for n, (coord, cell, atype) in cases.items():
                ms, e, f = time_deeppot(ours_models[(prec, tag)], coord, cell, atype, args.repeats)
                if (prec, tag, n) not in ours or ms < ours[(prec, tag, n)][0]:
                    ours[(prec, tag, n)] = (ms, e, f)
    print(f"load average before {' '.join(f'{x:.1f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; best of {args.rounds} alternated rounds")
    print(f"{'case':<26}{'deeppot ms':>12}{'µs/atom':>10}{'DeePMD-kit ms':>15}{'ratio':>8}{'max|ΔE| eV':>12}"
          f"{'max|ΔF|':>10}")
    for prec, tag in tags:
        label = f"{prec} {'compressed' if tag else 'uncompressed'}"
        for n, (_coord, _cell, atype) in cases.items():
            ms, e, f = ours[(prec, tag, n)]
            row = f"{label + ' ' + n:<26}{ms:>12.1f}{1000 * ms / len(atype):>10.1f}"
            ref = theirs.get((prec, tag), {}).get(n)
            if ref:
                de = abs(e[0, 0] - ref["energy"])
                dfo = np.abs(f[0] - np.array(ref["force"])).max()
                row += f"{ref['ms']:>15.1f}{ref['ms'] / ms:>8.2f}{de:>12.2e}{dfo:>10.2e}"
            else:
                bound = FLOP_PER_ATOM * len(atype) / (MACHINE_GFLOPS * 1e9) * 1e3
                row += f"{'(FLOP bound ' + format(bound, '.0f') + ' ms)':>27}"
            print(row)
    peak = max((v.get("peak_rss_MB", float("nan")) for v in theirs.values()), default=float("nan"))
    print(f"peak RSS: deeppot {peak_rss_mb():.0f} MB" + (f", DeePMD-kit {peak:.0f} MB" if theirs else ""))


if __name__ == "__main__":
    main()
