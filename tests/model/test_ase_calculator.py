"""The ASE calculator: energies, forces and stress with ASE's conventions."""

import numpy as np
import pytest
from ase import Atoms

from deeppot.interfaces.ase_calculator import DP


@pytest.fixture
def atoms(parity_dir):
    ref = np.load(parity_dir / "se_e2_a_one_side.npz")
    at = Atoms(symbols=["OH"[t] for t in ref["atype"]], positions=ref["coord"][0].reshape(-1, 3),
               cell=ref["cell"][0].reshape(3, 3), pbc=True)
    at.calc = DP(model=parity_dir / "se_e2_a_one_side.dp")
    return at, ref


def test_energy_and_forces_equal_deepmd_reference(atoms):
    at, ref = atoms
    assert abs(at.get_potential_energy() - ref["energy"][0, 0]) < 1e-9
    assert abs(at.get_potential_energy(force_consistent=True) - ref["energy"][0, 0]) < 1e-9
    assert np.abs(at.get_forces() - ref["force"][0]).max() < 1e-10
    assert abs(at.get_potential_energies().sum() - ref["energy"][0, 0]) < 1e-9


def test_stress_matches_finite_differences(atoms):
    at, _ = atoms
    at.set_cell(at.cell @ np.array([[1, 0, 0], [0.1, 1, 0], [0, -0.05, 1]]), scale_atoms=True)  # triclinic
    numeric = at.calc.calculate_numerical_stress(at, d=1e-5, voigt=True)
    assert np.abs(at.get_stress() - numeric).max() < 1e-8


def test_unknown_element_is_a_clear_error(parity_dir):
    from deeppot.errors import DataError

    at = Atoms("CH4", positions=np.random.default_rng(0).normal(size=(5, 3)) * 2)
    at.calc = DP(model=parity_dir / "se_e2_a_one_side.dp")
    with pytest.raises(DataError, match="element.*C.*not in the model's type_map"):
        at.get_potential_energy()
