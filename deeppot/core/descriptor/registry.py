"""Descriptor types by name: each descriptor module registers its class here.

``type`` values of input files and ``.dp`` files (canonical names and DeePMD-kit's aliases)
map to classes; the training input's ``model/descriptor`` section, ``doc-train-input``,
model building and model files all look descriptors up here, so a new descriptor is one
module that calls :func:`register` (and its tests).
"""

from __future__ import annotations

from deeppot.core.descriptor.base import Descriptor

_BY_NAME: dict[str, type[Descriptor]] = {}
_CANONICAL: dict[str, type[Descriptor]] = {}


def register(cls: type[Descriptor]) -> type[Descriptor]:
    """Class decorator: make ``cls`` available under ``cls.type_name`` and its aliases."""
    for name in (cls.type_name, *cls.aliases):
        if name in _BY_NAME and _BY_NAME[name] is not cls:
            raise ValueError(f"descriptor type {name!r} registered twice")
        _BY_NAME[name] = cls
    _CANONICAL[cls.type_name] = cls
    return cls


def descriptor_class(name: str) -> type[Descriptor] | None:
    """The class registered under ``name`` (canonical or alias), or None."""
    return _BY_NAME.get(name)


def descriptor_types() -> dict[str, type[Descriptor]]:
    """Canonical name → class, in registration order."""
    return dict(_CANONICAL)


def all_names() -> dict[str, type[Descriptor]]:
    """Every accepted name (aliases included) → class."""
    return dict(_BY_NAME)
