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
