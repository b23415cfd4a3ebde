"""Element symbols → type indices: the one resolver behind data readers, MD, ASE and i-PI.

A model's ``type_map`` names the element of each type index. Structures come as symbols;
every entry point turns them into indices here, so a foreign element is reported the same
way everywhere: ``<where>: element(s) C not in type_map ['O', 'H']``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from deeppot.errors import DataError


def resolve_type_map(type_map: Sequence[str] | None, symbols: Sequence[str]) -> list[str]:
    """The potential's type_map, or (a potential with any types, e.g. LJ) the sorted elements present."""
    return list(type_map) if type_map else sorted(set(symbols))


def types_of(symbols: Sequence[str], type_map: Sequence[str] | Mapping[str, int], where: str = "",
             whose: str = "") -> np.ndarray:
    """Type index (int64) of each symbol; DataError naming the elements ``type_map`` lacks.

    ``type_map`` is a list (index = type) or a mapping symbol → type (ASE calculators'
    ``type_dict``). ``whose`` qualifies the message ("the model's").
    """
    lookup = dict(type_map) if isinstance(type_map, Mapping) else {s: i for i, s in enumerate(type_map)}
    missing = sorted(set(symbols) - set(lookup))
    if missing:
        prefix = f"{where}: " if where else ""
        owner = f"{whose} " if whose else ""
        raise DataError(f"{prefix}element(s) {', '.join(missing)} not in {owner}type_map {list(lookup)}")
    return np.array([lookup[s] for s in symbols], dtype=np.int64)
