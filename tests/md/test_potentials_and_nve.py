"""Lennard-Jones against ASE, velocity Verlet against ASE, NVE energy conservation."""

import numpy as np
import torch
from ase import units
from ase.build import bulk
from ase.calculators.lj import LennardJones as AseLJ
from ase.md.verlet import VelocityVerlet

from deeppot.md import Simulation
from deeppot.potentials.lj import LennardJones

EPS, SIG, RC = 0.0104, 3.4, 8.5


def argon(rattle=0.1, triclinic=True):
    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat(3)
    if triclinic:
        atoms.set_cell(atoms.cell @ np.array([[1, 0, 0], [0.12, 1, 0], [-0.05, 0.08, 1]]), scale_atoms=True)
    atoms.rattle(rattle, seed=4)
    return atoms


def test_lj_matches_ase_energy_forces_stress():
    atoms = argon()
    atoms.calc = AseLJ(epsilon=EPS, sigma=SIG, rc=RC, smooth=False)
    pot = LennardJones(EPS, SIG, RC)
    out = pot.compute(torch.as_tensor(atoms.positions), torch.as_tensor(np.asarray(atoms.cell)),
                      torch.zeros(len(atoms), dtype=torch.long))
    assert abs(float(out["energy"]) - atoms.get_potential_energy()) < 1e-10
    assert np.abs(out["force"].numpy() - atoms.get_forces()).max() < 1e-10
    stress = -out["virial"].numpy() / atoms.get_volume()
    assert np.abs(stress.flat[[0, 4, 8, 5, 2, 1]] - atoms.get_stress()).max() < 1e-12


def test_velocity_verlet_trajectory_equals_ase():
    atoms = argon()
    rng = np.random.default_rng(0)
    atoms.set_momenta(rng.normal(scale=0.3, size=(len(atoms), 3)))
    ours = Simulation.from_atoms(atoms.copy(), LennardJones(EPS, SIG, RC), ensemble="nve", timestep_fs=5.0)
    ours.run(100)
    atoms.calc = AseLJ(epsilon=EPS, sigma=SIG, rc=RC, smooth=False)
    VelocityVerlet(atoms, timestep=5.0 * units.fs).run(100)
    assert np.abs(ours.state.positions.numpy() - atoms.positions).max() < 1e-9
    assert np.abs(ours.state.momenta.numpy() - atoms.get_momenta()).max() < 1e-9


def test_nve_energy_drift_is_bounded_lj():
    sim = Simulation.from_atoms(argon(0.05, triclinic=False), LennardJones(EPS, SIG, RC), ensemble="nve",
                                timestep_fs=4.0, temperature_K=80, seed=1)
    energies = []
    sim.attach(lambda s: energies.append(s.conserved_eV()), 10)
    sim.run(1000)
    energies = np.array(energies)
    drift = abs(np.polyfit(np.arange(len(energies)) * 10 * 4e-3, energies, 1)[0]) / len(sim.state.symbols)
    assert np.ptp(energies) / len(sim.state.symbols) < 2e-5  # eV/atom fluctuation over 4 ps
    assert drift < 1e-5  # eV/atom/ps
    assert sim.verlet.builds < 100  # the skin list is reused across steps


def test_nve_energy_drift_is_bounded_deeppot(parity_dir, water_data):
    """The DeePMD-kit-trained fixture model on a DFT water frame (192 atoms), released from rest.

    The fixture model was trained for only 20 steps, so it is not stable for long runs; 10 fs
    from rest already converts ~1 eV of potential into kinetic energy.
    """
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms
    from deeppot.model.potential import ModelPotential

    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.calc = None
    sim = Simulation.from_atoms(atoms, ModelPotential(parity_dir / "se_e2_a_one_side.dp"), ensemble="nve",
                                timestep_fs=0.1, seed=3)
    energies = []
    sim.attach(lambda s: energies.append(s.conserved_eV()), 5)
    sim.run(100)
    kinetic = sim.state.kinetic_eV
    assert np.ptp(energies) < 2e-3 * kinetic, (np.ptp(energies), kinetic)
