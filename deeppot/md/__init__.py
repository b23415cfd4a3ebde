"""Native molecular dynamics on PyTorch tensors: NVE, NVT (Langevin, Bussi, Nosé–Hoover chains,
Berendsen) and NPT (stochastic cell rescaling), with any :class:`~deeppot.potentials.base.Potential`.

>>> from deeppot.md import Simulation
>>> sim = Simulation.from_atoms(atoms, potential, ensemble="nvt-bussi", temperature_K=300, timestep_fs=0.5)
>>> sim.attach(lambda s: print(s.step, s.temperature_K), interval=100)
>>> sim.run(10_000)
"""

from deeppot.md.runner import Simulation

__all__ = ["Simulation"]
