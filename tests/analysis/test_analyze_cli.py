"""``deeppot analyze``: every subcommand writes CSV (with header) and a PNG; errors are one line."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "examples/water/data"


@pytest.mark.parametrize("kind,args,header", [
    ("rdf", ["--pair", "O", "H", "--rmax", "5"], "r_A,g"),
    ("adf", ["--triplet", "O", "O", "O", "--rcut", "3.5"], "theta_deg,p"),
    ("steinhardt", ["--species", "O", "--l", "6", "--average"], "frame,atom,qbar"),
    ("tetrahedral", ["--species", "O"], "frame,atom,q"),
    ("msd", ["--species", "O", "--timestep-fs", "10"], "t_ps,msd_A2"),
])
def test_subcommands(tmp_path, kind, args, header):
    out = tmp_path / f"{kind}.csv"
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "analyze", kind, str(DATA / "data_0"),
                          str(DATA / "data_2"), "--every", "20", "-o", str(out), *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    first = out.read_text().splitlines()[0]
    if kind in ("steinhardt", "tetrahedral"):
        assert first == "trajectory," + header
    else:
        assert first.split(",")[0] == header.split(",")[0] and len(first.split(",")) == 3  # one column per input
    assert out.with_suffix(".png").stat().st_size > 1000
    column = (2,) if kind == "steinhardt" else (1,)
    assert np.isfinite(np.genfromtxt(out, delimiter=",", skip_header=1, usecols=column)).all()


def test_missing_species_is_a_one_line_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "analyze", "rdf", str(DATA / "data_0"),
                          "--pair", "C", "O", "-o", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert run.returncode == 2 and "species 'C' not present" in run.stderr and "Traceback" not in run.stderr


def test_skip_beyond_the_data_is_an_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "analyze", "rdf", str(DATA / "data_2"),
                          "--skip", "100", "-o", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert run.returncode == 2 and "no frames after --skip 100" in run.stderr
