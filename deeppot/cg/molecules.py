"""Molecules of an atomistic frame: from covalent bonds, or from an index file.

A molecule is a sorted integer array of atom indices. Bonds are pairs closer than
``bond_scale`` times the sum of ASE's covalent radii (minimum image under PBC); molecules are
the connected components of the bond graph. They are found on one frame and assumed fixed
for the whole trajectory (no reactions).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.errors import DataError


def find_molecules(symbols: list[str], positions: np.ndarray, cell: np.ndarray | None,
                   bond_scale: float = 1.2) -> list[np.ndarray]:
    """Connected components of the covalent-bond graph of one frame.

    Parameters
    ----------
    symbols : element of each atom (natoms,)
    positions : (natoms, 3) Å
    cell : (3, 3) Å lattice vectors as rows, or None for open boundaries
    bond_scale : a bond is d < bond_scale · (r_cov,i + r_cov,j)

    Returns
    -------
    Molecules in order of their first atom, each a sorted index array.
    """
    from ase import Atoms
    from ase.neighborlist import natural_cutoffs, neighbor_list
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    try:
        atoms = Atoms(symbols=symbols, positions=positions, cell=cell, pbc=cell is not None)
    except (KeyError, ValueError) as err:
        raise DataError(f"cannot find bonds: {err} is not a chemical element (give an index file)") from None
    first, second = neighbor_list("ij", atoms, natural_cutoffs(atoms, mult=bond_scale))
    n = len(symbols)
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    groups = [np.nonzero(label == k)[0] for k in range(count)]
    return sorted(groups, key=lambda g: int(g[0]))


def read_index_file(path: str | Path, natoms: int) -> list[np.ndarray]:
    """Molecules from a text file: one molecule per line, 0-based atom indices; ``#`` starts a comment.

    Every atom must appear exactly once.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such index file")
    groups: list[np.ndarray] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].split()
        if not text:
            continue
        try:
            group = np.array(sorted(int(t) for t in text), dtype=np.int64)
        except ValueError:
            raise DataError(f"{path}: line {number}: atom indices must be integers") from None
        if group[0] < 0 or group[-1] >= natoms:
            raise DataError(f"{path}: line {number}: atom index out of range 0..{natoms - 1}")
        if len(set(group.tolist())) != len(group):
            raise DataError(f"{path}: line {number}: an atom is listed twice")
        groups.append(group)
    if not groups:
        raise DataError(f"{path}: no molecules (one line of atom indices per molecule)")
    seen = np.concatenate(groups)
    values, counts = np.unique(seen, return_counts=True)
    if np.any(counts > 1):
        dup = int(values[counts > 1][0])
        raise DataError(f"{path}: atom {dup} is in more than one molecule")
    if len(seen) != natoms:
        missing = sorted(set(range(natoms)) - set(seen.tolist()))
        raise DataError(f"{path}: {len(missing)} atom(s) in no molecule (first: {missing[0]}); list every atom")
    return sorted(groups, key=lambda g: int(g[0]))


def formula(symbols: list[str], group: np.ndarray) -> str:
    """Hill-like formula of a molecule (elements sorted alphabetically, counts > 1 written): H2O."""
    names, counts = np.unique([symbols[i] for i in group], return_counts=True)
    return "".join(f"{n}{c if c > 1 else ''}" for n, c in zip(names, counts))
