"""Reading atomistic trajectories with forces and writing the CG system directory.

The output directory of :func:`map_trajectories` is a DeePMD npy system that ``deeppot train``
reads as it is, plus two files for CG MD and bookkeeping::

    OUTDIR/type.raw, type_map.raw         CG types (chemical symbols, e.g. O)
    OUTDIR/set.000/coord.npy, box.npy,    mapped positions (wrapped into the cell) and forces;
                   force.npy              no energy.npy / virial.npy (force matching only)
    OUTDIR/structure.extxyz               last mapped frame with a ``masses`` column: the
                                          ``structure`` of a CG ``deeppot md`` input (the CG masses
                                          reach the MD this way)
    OUTDIR/cg.json                        the map: kind, CG type map, mass per CG type (amu),
                                          sources and frames
    OUTDIR/sites.index                    atoms of each CG site, one line per site
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deeppot.cg.mapping import CGMap, build_map, concatenate
from deeppot.data.system import System
from deeppot.errors import DataError


def read_trajectory(path: str | Path, skip: int = 0, every: int = 1, ipi_forces: str | Path | None = None
                    ) -> System:
    """An atomistic trajectory with forces: deeppot md's extxyz, any ASE file, or a DeePMD npy system.

    With ``ipi_forces``, ``path`` is an i-PI positions file and ``ipi_forces`` its forces file.
    """
    if ipi_forces is not None:
        from deeppot.cg.ipi import read_ipi

        system = read_ipi(path, ipi_forces)
    else:
        from deeppot.data.system import load_system

        system = load_system(path)
    if system.force is None:
        raise DataError(f"{path}: no forces in the trajectory (force matching needs them; deeppot md writes "
                        "them to traj.extxyz)")
    picked = system.subset(slice(skip, None, every))
    if picked.nframes == 0:
        raise DataError(f"{path}: no frames after skipping {skip} ({system.nframes} frames)")
    return picked


def map_trajectories(paths: list[str | Path], output: str | Path | None = None, *, site: list[str] | None = None,
                     com: bool = False, index_file: str | Path | None = None, mass: str | float = "molecule",
                     names: dict[str, str] | None = None, bond_scale: float = 1.2, skip: int = 0, every: int = 1,
                     ipi_forces: list[str | Path] | None = None, force: bool = False) -> tuple[System, CGMap]:
    """Map atomistic trajectories (same atoms) to one CG system; write it to ``output`` if given.

    The map (and the molecules, from bonds in the first frame unless ``index_file``) is built from
    the first trajectory and applied to every frame of all of them. ``ipi_forces``: i-PI forces
    files, one per ``paths`` entry (then i-PI positions files).
    """
    if not paths:
        raise DataError("no trajectory given")
    if ipi_forces is not None and len(ipi_forces) != len(paths):
        raise DataError(f"{len(ipi_forces)} i-PI forces file(s) for {len(paths)} positions file(s); give one each")
    systems = [read_trajectory(p, skip, every, None if ipi_forces is None else ipi_forces[k])
               for k, p in enumerate(paths)]
    molecules = None
    if index_file is not None:
        from deeppot.cg.molecules import read_index_file

        molecules = read_index_file(index_file, systems[0].natoms)
    cgmap = build_map(systems[0], site=site, com=com, molecules=molecules, mass=mass, names=names,
                      bond_scale=bond_scale)
    cgmap.info.update(sources=[str(p) for p in paths], ipi_forces=None if ipi_forces is None else
                      [str(p) for p in ipi_forces], frames=[s.nframes for s in systems],
                      skip=skip, every=every, index_file=None if index_file is None else str(index_file),
                      bond_scale=bond_scale)
    cg = concatenate([cgmap.apply(s) for s in systems], str(output or paths[0]))
    cg.validate()
    if output is not None:
        write_cg_system(cg, cgmap, output, force=force)
    return cg, cgmap


def cg_atoms(cg: System, cgmap: CGMap, frame: int = -1):
    """One CG frame as ``ase.Atoms`` with the CG masses (and the mapped forces)."""
    from deeppot.data.ase_formats import to_atoms

    atoms = to_atoms(cg, frame)
    atoms.set_masses(cgmap.masses)
    return atoms


def write_cg_system(cg: System, cgmap: CGMap, output: str | Path, force: bool = False) -> None:
    """The CG npy system plus ``structure.extxyz`` and ``cg.json``, atomically (see module docstring)."""
    import ase.io

    from deeppot.data.deepmd_npy import write_deepmd_npy
    from deeppot.fileio import atomic_dir

    meta = {"kind": cgmap.kind, "type_map": cgmap.type_map, "masses_amu": cgmap.type_masses(),
            "nsites": cgmap.nsites, "nframes": cg.nframes, **cgmap.info}
    with atomic_dir(output, force=force) as tmp:
        write_deepmd_npy(cg, tmp)  # tmp is an empty directory: replaced by the complete system
        ase.io.write(str(tmp / "structure.extxyz"), cg_atoms(cg, cgmap), format="extxyz")
        (tmp / "cg.json").write_text(json.dumps(meta, indent=1, default=_json_default) + "\n")
        (tmp / "sites.index").write_text(
            "# atoms (0-based) of each CG site, one site per line\n"
            + "".join(" ".join(str(i) for i in g) + "\n" for g in cgmap.groups))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_cg_masses(output: str | Path) -> dict[str, float]:
    """Mass per CG type (amu) from an output directory's ``cg.json``."""
    path = Path(output) / "cg.json"
    try:
        return dict(json.loads(path.read_text())["masses_amu"])
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"{path}: cannot read the CG masses ({err})") from None
