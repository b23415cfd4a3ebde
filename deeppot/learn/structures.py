"""Starting structures of the exploration: every frame of DeePMD systems or ASE-readable files."""

from __future__ import annotations

from pathlib import Path

from deeppot.errors import ConfigError


def read_structures(paths: list[str], where: str = "explore/structures") -> list:
    """All frames of ``paths`` as ``ase.Atoms`` (no calculator), in order."""
    import ase.io

    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    frames = []
    for k, name in enumerate(paths):
        path = Path(name)
        if path.is_dir():
            system = load_system(path)
            for f in range(system.nframes):
                atoms = to_atoms(system, f)
                atoms.calc = None
                frames.append(atoms)
        else:
            try:
                read = ase.io.read(str(path), index=":")
            except Exception as err:
                raise ConfigError(f"{where}[{k}]: {name}: cannot read ({type(err).__name__}: {err})") from None
            for atoms in read:
                atoms.calc = None
                frames.append(atoms)
    if not frames:
        raise ConfigError(f"{where}: no frames")
    return frames


def check_stage_indices(schedule: list[dict], nframes: int, where: str) -> None:
    for k, stage in enumerate(schedule):
        for idx in stage["structures"] or []:
            if idx >= nframes:
                raise ConfigError(f"{where}: explore/schedule[{k}]/structures: index {idx}, but the structures "
                                  f"hold {nframes} frames")


def water_box(n: int, density_g_cm3: float = 1.0, seed: int = 0, min_distance_A: float = 1.9):
    """``n`` ASE water molecules at random positions and orientations in a periodic cube (a start for MD).

    Molecules are placed one by one, rejecting any whose atoms come closer than ``min_distance_A`` to
    another molecule's (minimum image); the cube edge follows from the density.
    """
    import numpy as np
    from ase import Atoms
    from ase.build import molecule

    rng = np.random.default_rng(seed)
    length = (n * 18.015 / 0.60221 / density_g_cm3) ** (1 / 3)
    box = Atoms(cell=[length] * 3, pbc=True)
    placed = []
    for _ in range(100_000):
        if len(placed) == n:
            break
        m = molecule("H2O")
        m.rotate(rng.uniform(0, 360), rng.normal(size=3))
        m.translate(rng.uniform(0, length, 3) - m.get_center_of_mass())
        clash = False
        for q in placed:
            d = m.positions[:, None, :] - q[None, :, :]
            d -= length * np.round(d / length)
            clash = clash or np.linalg.norm(d, axis=-1).min() < min_distance_A
        if not clash:
            placed.append(m.positions.copy())
            box += m
    else:
        raise RuntimeError(f"could not place {n} waters {min_distance_A} Å apart")
    box.wrap()
    return box
