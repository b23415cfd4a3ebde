"""Structure analysis: analytic cases and agreement with freud (float32, compared at its precision)."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from deeppot.analysis import adf, diffusion_coefficient, msd, rdf, read_frames, steinhardt, tetrahedral_order
from deeppot.errors import DataError


@pytest.fixture(scope="module")
def water_frames():
    from pathlib import Path

    return read_frames(Path(__file__).resolve().parents[2] / "examples/water/data/data_0", every=20)


def test_ideal_gas_rdf_is_one():
    rng = np.random.default_rng(0)
    frames = [Atoms("Ar" * 400, positions=rng.uniform(0, 20, (400, 3)), cell=np.eye(3) * 20, pbc=True)
              for _ in range(10)]
    r, g = rdf(frames, ("Ar", "Ar"), rmax=9.0, nbins=30)
    assert abs(g[5:].mean() - 1) < 0.01 and np.abs(g[10:] - 1).max() < 0.1


def test_rdf_matches_freud_and_counts(water_frames):
    freud = pytest.importorskip("freud")
    r, g = rdf(water_frames, ("O", "O"), rmax=6.0, nbins=120)
    ref = freud.density.RDF(bins=120, r_max=6.0, normalization_mode="finite_size")
    for atoms in water_frames:
        o = atoms[[s == "O" for s in atoms.get_chemical_symbols()]]
        box = freud.box.Box.from_matrix(np.asarray(o.cell).T)
        ref.compute((box, box.wrap(o.positions)), reset=False)
    assert np.allclose(r, ref.bin_centers, atol=1e-6)
    assert np.abs(g - ref.rdf).max() < 5e-5  # measured 1.0e-5: freud computes distances in float32
    # coordination number from g equals a direct neighbour count
    rho = 64 / water_frames[0].get_volume()
    shell = 4 / 3 * np.pi * (np.linspace(0, 6, 121)[1:] ** 3 - np.linspace(0, 6, 121)[:-1] ** 3)
    n_cut = (g * shell)[r < 3.3].sum() * rho * 63 / 64
    from deeppot.core.neighbor import build_edges

    direct = []
    for atoms in water_frames:
        o = atoms[[s == "O" for s in atoms.get_chemical_symbols()]]
        direct.append(len(build_edges(o.positions, np.asarray(o.cell), 3.3)) / 64)
    assert abs(n_cut - np.mean(direct)) < 1e-9


def test_rdf_refuses_radius_beyond_half_cell(water_frames):
    with pytest.raises(DataError, match="exceeds half the cell height"):
        rdf(water_frames[:1], ("O", "O"), rmax=7.0)


@pytest.mark.parametrize("structure,l,nn,q_ref", [("fcc", 6, 12, 0.57452), ("bcc", 6, 14, 0.51069),
                                                   ("fcc", 4, 12, 0.19094)])
def test_ideal_lattices(structure, l, nn, q_ref):
    atoms = bulk("Fe", structure, a=3.0, cubic=True).repeat(3)
    q = steinhardt([atoms], l=l, rcut=None, num_neighbors=nn)
    qbar = steinhardt([atoms], l=l, rcut=None, num_neighbors=nn, average=True)
    assert np.allclose(q, q_ref, atol=1e-4) and np.allclose(qbar, q_ref, atol=1e-4)


def test_hcp_q6():
    atoms = bulk("Mg", "hcp", a=3.0, c=3.0 * np.sqrt(8 / 3)).repeat((3, 3, 3))
    assert np.allclose(steinhardt([atoms], l=6, rcut=None, num_neighbors=12), 0.48476, atol=1e-4)


def test_steinhardt_matches_freud(water_frames):
    freud = pytest.importorskip("freud")
    for average in (False, True):
        ours = steinhardt(water_frames, l=6, rcut=3.5, species="O", average=average)
        for atoms, q in zip(water_frames, ours):
            o = atoms[[s == "O" for s in atoms.get_chemical_symbols()]]
            box = freud.box.Box.from_matrix(np.asarray(o.cell).T)
            ref = freud.order.Steinhardt(l=6, average=average).compute(
                (box, box.wrap(o.positions)), neighbors={"r_max": 3.5}).particle_order
            assert np.abs(q - ref).max() < 5e-6  # measured 1.6e-6 (q6), 3.3e-7 (q̄6): freud is float32


def test_tetrahedral_order_perfect_and_random():
    h = 1 / np.sqrt(3)
    tet = Atoms("O5", positions=[[0, 0, 0], [h, h, h], [h, -h, -h], [-h, h, -h], [-h, -h, h]])
    assert abs(tetrahedral_order([tet], "O")[0, 0] - 1.0) < 1e-12
    rng = np.random.default_rng(1)
    gas = [Atoms("O" * 500, positions=rng.uniform(0, 25, (500, 3)), cell=np.eye(3) * 25, pbc=True) for _ in range(4)]
    assert abs(tetrahedral_order(gas, "O").mean()) < 0.02


def test_adf_normalised_and_exact_for_a_tetrahedron(water_frames):
    theta, p = adf(water_frames, ("O", "O", "O"), rcut=3.5, nbins=180)
    assert abs(p.sum() * (theta[1] - theta[0]) - 1) < 1e-12
    h = 1 / np.sqrt(3)
    tet = Atoms("O5", positions=[[0, 0, 0], [h, h, h], [h, -h, -h], [-h, h, -h], [-h, -h, h]])
    theta, p = adf([tet], ("O", "O", "O"), rcut=1.2, nbins=180)
    assert theta[np.argmax(p)] == pytest.approx(109.5, abs=0.5)
    assert p[theta < 100].sum() == 0  # the centre atom only: 6 angles of 109.47°


def test_msd_ballistic_and_diffusive():
    n, steps = 200, 400
    v = np.random.default_rng(2).normal(size=(n, 3))
    ballistic = [Atoms("Ar" * n, positions=v * t * 0.01) for t in range(50)]
    t, m = msd(ballistic, timestep_ps=0.01)
    assert np.allclose(m, (v**2).sum(1).mean() * (t / 0.01 * 0.01) ** 2 / 0.01**2 * 0.01**2, rtol=1e-10)
    rng = np.random.default_rng(3)
    d_true = 0.5  # Å^2/ps: steps of variance 2 D dt per axis
    dt = 0.1
    walk = np.cumsum(rng.normal(scale=np.sqrt(2 * d_true * dt), size=(steps, n, 3)), axis=0)
    box = 50.0
    frames = [Atoms("Ar" * n, positions=p % box, cell=np.eye(3) * box, pbc=True) for p in walk]
    t, m = msd(frames, timestep_ps=dt)
    assert abs(diffusion_coefficient(t, m, 0.05, 0.3) / d_true - 1) < 0.1
