"""Potential types of the md input by name: each potential module registers its class here.

A potential class owns its ``potential`` section of the md input (``Config``: keys, types,
defaults, ranges, docs), how it is built from that section (``from_config``) and how a restart
file identifies it (``input_identity``). The md input's ``potential`` union and ``deeppot md
--keys`` are generated from the registry, so a new potential is one module (named in
:data:`MODULES`) plus its tests.
"""

from __future__ import annotations

import importlib

#: modules that define potentials (imported on first lookup, in this order)
MODULES = ("deeppot.model.potential", "deeppot.potentials.lj", "deeppot.potentials.ase_adapter",
           "deeppot.potentials.committee")

_BY_NAME: dict[str, type] = {}


def register_potential(cls: type) -> type:
    """Class decorator: make ``cls`` the md input's potential ``type: cls.type_name``."""
    if cls.type_name in _BY_NAME and _BY_NAME[cls.type_name] is not cls:
        raise ValueError(f"potential type {cls.type_name!r} registered twice")
    _BY_NAME[cls.type_name] = cls
    return cls


def potential_types() -> dict[str, type]:
    """Type name → Potential class, every module of :data:`MODULES` imported."""
    for module in MODULES:
        importlib.import_module(module)
    return dict(_BY_NAME)


def potential_class(name: str) -> type | None:
    return potential_types().get(name)
