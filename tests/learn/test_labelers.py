"""The labelers against their own energies (finite differences) and against PySCF's atomic units."""

import numpy as np
import pytest

from deeppot.learn.structures import water_box


def _central_difference(label, atoms, atom: int, axis: int, h: float) -> float:
    """−∂E/∂x of one coordinate by central differences of the labeler's energy (eV/Å)."""
    energies = []
    for sign in (1, -1):
        moved = atoms.copy()
        moved.positions[atom, axis] += sign * h
        energies.append(label(moved).energy_eV)
    return -(energies[0] - energies[1]) / (2 * h)


def test_tblite_gfn1_periodic_water_forces_and_virial_match_its_energy():
    from deeppot.learn.labelers import make_labeler

    atoms = water_box(8, seed=3)
    label = make_labeler({"type": "tblite", "method": "GFN1-xTB"})
    ref = label(atoms)
    assert ref.forces_eV_A.shape == (24, 3) and ref.virial_eV.shape == (3, 3)
    assert np.abs(ref.forces_eV_A).max() > 0.1  # a frame with real forces, not a trivial minimum
    for atom, axis in ((0, 0), (5, 2)):  # an oxygen and a hydrogen
        fd = _central_difference(label, atoms, atom, axis, h=1e-3)
        assert abs(fd - ref.forces_eV_A[atom, axis]) < 2e-4, (atom, axis, fd, ref.forces_eV_A[atom, axis])
    # virial, DeePMD sign: W = -dE/dε for the strain ε; an isotropic strain probes its trace
    h = 1e-4
    energies = []
    for sign in (1, -1):
        strained = atoms.copy()
        strained.set_cell(atoms.cell * (1 + sign * h), scale_atoms=True)
        energies.append(label(strained).energy_eV)
    trace_fd = -(energies[0] - energies[1]) / (2 * h)
    assert abs(trace_fd - np.trace(ref.virial_eV)) < 2e-3 * max(1.0, abs(trace_fd)), (trace_fd, ref.virial_eV)
    assert np.allclose(ref.virial_eV, ref.virial_eV.T)


def test_tblite_scf_failure_is_recorded_and_skipped(tmp_path):
    from deeppot.learn.tasks import label_frame

    atoms = water_box(4, seed=1)
    spec = {"type": "tblite", "method": "GFN1-xTB", "max_iterations": 1}
    result = label_frame(str(tmp_path / "f.npz"), atoms.get_chemical_symbols(), atoms.positions,
                         np.asarray(atoms.cell), spec)
    assert result["ok"] is False and "SCF" in result["message"]
    with np.load(tmp_path / "f.npz") as data:
        assert not bool(data["ok"]) and "energy" not in data.files
    # a recorded result is read back, not recomputed (even with a labeler that would succeed)
    again = label_frame(str(tmp_path / "f.npz"), atoms.get_chemical_symbols(), atoms.positions,
                        np.asarray(atoms.cell), dict(spec, max_iterations=250))
    assert again == result


def test_pyscf_water_labels_are_ev_and_ev_per_angstrom():
    from ase.build import molecule
    from ase.units import Bohr, Hartree
    from pyscf import dft, gto

    from deeppot.learn.labelers import make_labeler

    atoms = molecule("H2O")
    atoms.positions[1] += [0.05, -0.03, 0.02]  # off equilibrium: forces of a few eV/Å
    spec = {"type": "pyscf", "xc": "lda,vwn", "basis": "sto-3g"}
    label = make_labeler(spec)(atoms)

    # PySCF's own output, in its units, for the same molecule given in Bohr
    mol = gto.M(atom=[(s, tuple(p / Bohr)) for s, p in zip(atoms.get_chemical_symbols(), atoms.positions)],
                unit="Bohr", basis="sto-3g", verbose=0)
    mf = dft.RKS(mol)
    mf.xc = "lda,vwn"
    e_hartree = mf.kernel()
    grad_hartree_bohr = mf.nuc_grad_method().kernel()
    assert label.energy_eV == pytest.approx(e_hartree * 27.211386, rel=1e-6)
    np.testing.assert_allclose(label.forces_eV_A, -grad_hartree_bohr * 27.211386 / 0.52917721, rtol=1e-5,
                               atol=1e-6)
    assert label.virial_eV is None
    # and the forces are −dE/dx in eV/Å of the labeler's own energy
    fd = _central_difference(make_labeler(spec), atoms, 1, 0, h=1e-3)
    assert abs(fd - label.forces_eV_A[1, 0]) < 1e-3 * max(1.0, abs(fd))
    assert Hartree / Bohr == pytest.approx(51.42208, rel=1e-5)


def test_pyscf_scf_failure_and_periodic_frames_raise_label_failed():
    from ase.build import molecule

    from deeppot.learn.labelers import LabelFailed, make_labeler

    atoms = molecule("H2O")
    with pytest.raises(LabelFailed, match="not converged"):
        make_labeler({"type": "pyscf", "xc": "lda,vwn", "basis": "sto-3g", "max_cycle": 1})(atoms)
    atoms.set_cell([6, 6, 6])
    atoms.pbc = True
    with pytest.raises(LabelFailed, match="periodic"):
        make_labeler({"type": "pyscf", "basis": "sto-3g"})(atoms)
