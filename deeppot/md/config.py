"""``deeppot md`` input: keys, defaults, and building the simulation from them."""

from __future__ import annotations

import difflib
from pathlib import Path

from deeppot.errors import ConfigError

KEYS = {
    "structure": (None, "ASE-readable file, or a DeePMD system directory (with 'frame')"),
    "frame": (0, "frame of the structure file / system to start from"),
    "potential": (None, "{type: deeppot, model} | {type: lj, epsilon_eV, sigma_A, rcut_A, pairs} | "
                        "{type: ase, calculator, kwargs} | {type: committee, models}"),
    "ensemble": ("nve", "nve | nvt-langevin | nvt-bussi | nvt-nhc | nvt-berendsen | npt-csr"),
    "temperature_K": (None, "thermostat target (and initial velocities) in K"),
    "initial_temperature_K": (None, "temperature of the initial Maxwell-Boltzmann velocities (default temperature_K)"),
    "pressure_bar": (1.0, "barostat target in bar"),
    "timestep_fs": (0.5, "time step in fs"),
    "steps": (None, "number of steps"),
    "seed": (0, "random seed (velocities, thermostat noise)"),
    "thermo_every": (10, "steps between thermo.log lines"),
    "traj_every": (100, "steps between trajectory frames (0: none)"),
    "restart_every": (1000, "steps between restart files"),
    "output_dir": ("md_out", "directory for thermo.log, traj.extxyz, restart.npz"),
    "tau_t_fs": (100.0, "thermostat time constant, fs"),
    "tau_p_fs": (1000.0, "barostat time constant, fs"),
    "friction_per_fs": (0.01, "Langevin friction, 1/fs"),
    "compressibility_per_bar": (4.5e-5, "isothermal compressibility for the barostat, 1/bar"),
    "anisotropic": (False, "npt-csr: rescale the three axes independently"),
    "chain_length": (3, "Nosé–Hoover chain length"),
    "skin_A": (1.0, "neighbour-list skin, Å"),
    "max_force_eV_A": (100.0, "stop when any force exceeds this"),
    "min_distance_A": (0.5, "stop when two atoms come closer than this"),
}
ENSEMBLE_OPTIONS = ("tau_t_fs", "tau_p_fs", "friction_per_fs", "compressibility_per_bar", "anisotropic",
                    "chain_length", "pressure_bar")


def normalize(cfg: dict, where: str = "md input") -> dict:
    out = {}
    for key, value in cfg.items():
        if key.startswith("_comment"):
            continue
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        out[key] = value
    for key, (default, _) in KEYS.items():
        out.setdefault(key, default)
    for key in ("structure", "potential", "steps"):
        if out[key] is None:
            raise ConfigError(f"{where}: missing required key {key!r}")
    return out


def build_potential(spec: dict, base: Path, type_map_hint=None):
    kind = spec.get("type")
    if kind == "deeppot":
        from deeppot.model.potential import ModelPotential

        return ModelPotential(base / spec["model"])
    if kind == "lj":
        from deeppot.potentials.lj import LennardJones

        args = {k: spec[k] for k in ("epsilon_eV", "sigma_A", "rcut_A", "pairs", "shift") if k in spec}
        return LennardJones(type_map=spec.get("type_map", type_map_hint), **args)
    if kind == "ase":
        from deeppot.potentials.ase_adapter import AseCalculatorPotential, make_calculator

        return AseCalculatorPotential(make_calculator(spec["calculator"], spec.get("kwargs")), type_map_hint)
    if kind == "committee":
        from deeppot.model.potential import ModelPotential
        from deeppot.potentials.committee import CommitteePotential

        return CommitteePotential([ModelPotential(base / m) for m in spec["models"]])
    raise ConfigError(f"potential.type {kind!r}: use deeppot, lj, ase or committee")


def read_structure(path: Path, frame: int):
    """An ``ase.Atoms`` from any ASE file or a DeePMD system directory."""
    if path.is_dir():
        from deeppot.data import load_system
        from deeppot.data.ase_formats import to_atoms

        system = load_system(path)
        if not -system.nframes <= frame < system.nframes:
            raise ConfigError(f"{path}: frame {frame} out of range ({system.nframes} frames)")
        atoms = to_atoms(system, frame)
        atoms.calc = None
        return atoms
    import ase.io

    if not path.exists():
        raise ConfigError(f"{path}: no such structure file")
    try:
        return ase.io.read(str(path), index=frame)
    except Exception as err:
        raise ConfigError(f"{path}: cannot read structure ({type(err).__name__}: {err})") from None
