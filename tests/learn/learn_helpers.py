"""A tiny copper system labelled by EMT (a cheap stand-in for quantum chemistry) and a tiny learn input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def emt_copper_system(path: Path, nframes: int, seed: int, rattle_A: float = 0.08) -> Path:
    """``nframes`` rattled 32-atom fcc Cu cells labelled by ASE's EMT, as a DeePMD npy system."""
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from deeppot.data import write_deepmd_npy
    from deeppot.data.system import System

    rng = np.random.default_rng(seed)
    base = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    coord, box, energy, force, virial = [], [], [], [], []
    for _ in range(nframes):
        atoms = base.copy()
        atoms.set_cell(atoms.cell * (1 + rng.uniform(-0.01, 0.01)), scale_atoms=True)
        atoms.positions += rng.normal(scale=rattle_A, size=atoms.positions.shape)
        atoms.calc = EMT()
        coord.append(atoms.positions.copy())
        box.append(np.asarray(atoms.cell))
        energy.append(atoms.get_potential_energy())
        force.append(atoms.get_forces())
        s = atoms.get_stress(voigt=False)
        virial.append(-s * atoms.get_volume())
    system = System(str(path), ["Cu"], np.zeros(32, dtype=np.int64), np.asarray(coord), np.asarray(box),
                    np.asarray(energy), np.asarray(force), np.asarray(virial))
    write_deepmd_npy(system.validate(), path)
    return path


def tiny_train_input(steps: int = 12) -> dict:
    return {
        "model": {"type_map": ["Cu"],
                  "descriptor": {"type": "se_e2_a", "sel": [40], "rcut": 4.0, "rcut_smth": 0.5, "neuron": [4, 8],
                                 "axis_neuron": 2, "type_one_side": True},
                  "fitting_net": {"neuron": [8, 8]}, "data_stat_nbatch": 2},
        "learning_rate": {"start_lr": 3e-3, "stop_lr": 1e-4, "decay_steps": 10},
        "loss": {"start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": {"training_data": {"systems": [], "batch_size": 1}, "numb_steps": steps, "disp_freq": 6,
                     "save_freq": 6},
    }


def tiny_learn_input(root: Path, max_iterations: int = 2, **overrides) -> Path:
    """A complete learn input in ``root`` (data made on first use); returns the input path."""
    root = Path(root)
    if not (root / "init").exists():
        emt_copper_system(root / "init", 4, seed=1)
        emt_copper_system(root / "test", 3, seed=2, rattle_A=0.12)
    (root / "train.json").write_text(json.dumps(tiny_train_input()))
    cfg = {"type_map": ["Cu"], "init_data": ["init"], "test_data": ["test"],
           "train": {"input": "train.json", "numb_models": 2, "warm_steps": 6},
           "explore": {"structures": ["init"],
                       "schedule": [{"temperatures_K": [600], "steps": 30, "traj_every": 5, "structures": [0, 1]}]},
           "select": {"trust_lo": 0.0, "trust_hi": 100.0, "fp_task_max": 3},
           "label": {"type": "ase", "calculator": "emt"},
           "dask": {"n_workers": 2}, "max_iterations": max_iterations, "work_dir": "out"}
    for key, value in overrides.items():
        cfg[key] = value
    path = root / "learn.json"
    path.write_text(json.dumps(cfg))
    return path

