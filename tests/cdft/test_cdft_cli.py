"""``deeppot cdft``: input validation, outputs, printed results; the Python API gives the same numbers."""

import json

import numpy as np
import pytest

from deeppot.cdft import HardSpheres, PlanarGrid, grand_potential, hard_wall, solve
from deeppot.cli.main import main

INPUT = {"grid": {"points": 1024, "length": 12.0}, "functional": {"type": "white_bear"},
         "external": [{"type": "hard_wall", "contact": 9.0, "side": "right"}], "rho_bulk": 0.5, "output_dir": "out"}


def run(tmp_path, cfg, capsys):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(cfg))
    code = main(["cdft", str(path)])
    return code, capsys.readouterr()


def test_cli_writes_profile_and_prints_omega(tmp_path, capsys):
    code, out = run(tmp_path, INPUT, capsys)
    assert code == 0
    table = np.loadtxt(tmp_path / "out" / "profile.csv", delimiter=",", skiprows=2)
    assert (tmp_path / "out" / "profile.png").stat().st_size > 1000
    grid = PlanarGrid(1024, 12.0)
    ref = solve(HardSpheres(1.0), grid, hard_wall(grid, 9.0, "right"), rho_bulk=0.5)
    np.testing.assert_allclose(table[:, 1], ref.rho, rtol=1e-9, atol=1e-12)
    omega = float(out.out.split("beta*Omega/A = ")[1].split()[0])
    assert omega == pytest.approx(grand_potential(ref), rel=1e-9)
    assert "adsorption Gamma" in out.out


def test_cli_tabulated_potential_and_lj_fluid(tmp_path, capsys):
    z = np.linspace(0, 12.0, 601)
    v = np.where(z < 9.0, 0.5 * np.cos(z), np.inf)
    np.savetxt(tmp_path / "v.csv", np.column_stack([z, v]), delimiter=",")
    cfg = dict(INPUT, functional={"type": "lj", "epsilon_kT": 0.8}, external=[{"type": "tabulated", "file": "v.csv"}],
               rho_bulk=0.3)
    code, out = run(tmp_path, cfg, capsys)
    assert code == 0, out.err
    assert "mean-field LJ attraction" in out.out


@pytest.mark.parametrize("change,message", [
    ({"grid": {"points": 64, "lenght": 1.0}}, "grid/lenght: unknown key; did you mean 'length'?"),
    ({"functional": {"type": "whitebear"}}, "did you mean 'white_bear'?"),
    ({"mu_kT": 1.0}, "give exactly one of rho_bulk, mu_kT"),
    ({"grid": {"points": 4, "length": 1.0}}, "grid/points: 4 must be ≥ 8"),
    ({"external": [{"type": "tabulated", "file": "missing.csv"}]}, "missing.csv: cannot read"),
    ({"solver": {"max_iter": 2}}, "not converged after 2 iterations"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, change, message):
    code, out = run(tmp_path, dict(INPUT, **change), capsys)
    assert code == 2
    assert message in out.err
    assert "Traceback" not in out.err
