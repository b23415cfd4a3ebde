"""MD restart files: what they hold, how they are written, and the checks made before resuming.

A restart file is a plain ``.npz`` (no pickle) holding everything that determines the future of
the run: positions, momenta, cell, forces, energy, virial, step, ensemble state, the random
generator's state, and the reference positions of the current Verlet list (so the resumed run
uses the very same neighbour list and continues bit for bit, whenever it was stopped).

It is written deterministically (fixed zip timestamps), atomically (temporary file + rename, so
a crash or a full disk leaves the previous one intact), and carries what it belongs to: atom
count, symbols, atom types, masses, cell, the ``type_map``, the ensemble and an identity of the
potential (SHA-256 of the model file(s), or of the parameters). ``deeppot md --restart`` refuses
a restart that differs from the md input in any of these, with one line saying what differs.

Run parameters (time step, thermostat target, seed, number of steps, output intervals) may change
between the run that wrote a restart and the one resuming from it; only then do outputs differ from an
uninterrupted run.

Restart files written before these checks existed (no ``format`` key in their meta) are accepted
with a warning: everything stored in their arrays (atoms, species, types, masses, cell, ensemble)
is still checked; only the potential's identity cannot be.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from deeppot.data.type_map import types_of
from deeppot.errors import DataError
from deeppot.fileio import atomic_path
from deeppot.md.state import MDState

FORMAT = 2
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so equal states give byte-identical files


def potential_identity(spec: dict, base: Path, potential) -> dict:
    """``{"kind", "hash", "describe"}`` identifying the potential an md input names.

    Model files are identified by content (a renamed or moved copy is the same model); other
    potentials by their parameters as the potential object reports them (defaults included).
    """
    from deeppot.potentials.registry import potential_class

    kind = spec.get("type")
    payload, describe = potential_class(kind).input_identity(spec, base, potential)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    if describe is None:
        describe = f"{kind} potential (parameters sha256 {digest[:12]})"
    return {"kind": kind, "hash": digest, "describe": describe}


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def save_restart(path: Path, state: MDState, ensemble, type_map: list[str] | None = None,
                 potential: dict | None = None, verlet=None) -> None:
    """Write ``path`` atomically (the previous file survives any failure)."""
    extra = {k: v for k, v in state.extra.items() if not isinstance(v, np.ndarray)}
    arrays = {f"extra/{k}": v for k, v in state.extra.items() if isinstance(v, np.ndarray)}
    if verlet is not None and verlet.edges is not None:
        arrays["verlet/ref_positions"] = verlet.ref_positions.numpy()
        if verlet.ref_cell is not None:
            arrays["verlet/ref_cell"] = verlet.ref_cell.numpy()
    meta = {"format": FORMAT, "step": state.step, "time_fs": state.time_fs, "energy": state.energy,
            "symbols": state.symbols, "natoms": state.natoms, "type_map": type_map, "extra": extra,
            "rng": ensemble.rng_state(), "ensemble": ensemble.name, "potential": potential}
    data = _npz_bytes({"positions": state.positions.numpy(), "momenta": state.momenta.numpy(),
                       "masses": state.masses.numpy(), "atype": state.atype.numpy(), "forces": state.forces.numpy(),
                       "virial": state.virial.numpy(),
                       "cell": np.zeros((0, 3)) if state.cell is None else state.cell.numpy(),
                       "meta": np.array(json.dumps(meta)), **arrays})
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)


def load_restart(path: Path) -> tuple[MDState, dict]:
    """The state and meta of a restart file; ``meta["verlet"]`` holds the saved list references."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such restart file")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            cell = data["cell"]
            state = MDState(torch.as_tensor(data["positions"]), torch.as_tensor(data["momenta"]),
                            torch.as_tensor(data["masses"]), torch.as_tensor(data["atype"]),
                            None if cell.size == 0 else torch.as_tensor(cell), list(meta["symbols"]),
                            torch.as_tensor(data["forces"]), meta["energy"], torch.as_tensor(data["virial"]),
                            int(meta["step"]), meta["time_fs"], dict(meta["extra"]))
            for key in data.files:
                if key.startswith("extra/"):
                    state.extra[key[6:]] = np.array(data[key])
            verlet = {k[7:]: torch.as_tensor(data[k]) for k in data.files if k.startswith("verlet/")}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a deeppot md restart file ({type(err).__name__}: {err})") from None
    meta["verlet"] = verlet
    n = state.natoms
    sizes = {"momenta": state.momenta.shape[0], "forces": state.forces.shape[0], "masses": len(state.masses),
             "atype": len(state.atype), "symbols": len(state.symbols)}
    for key, size in sizes.items():
        if size != n:
            raise DataError(f"{path}: inconsistent restart file ({key} for {size} atoms, positions for {n})")
    return state, meta


def _first_difference(a: list, b: list) -> int:
    return next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)


def check_restart(name: str, state: MDState, meta: dict, atoms, structure: str, type_map: list[str],
                  ensemble: str, potential: dict) -> list[str]:
    """Raise DataError (one line) if the restart does not belong to this md input; return warnings.

    ``atoms`` is the input's structure, ``type_map`` the one its atom types index into.
    """
    symbols = atoms.get_chemical_symbols()
    if state.natoms != len(symbols):
        raise DataError(f"{name}: {state.natoms} atoms but structure {structure} has {len(symbols)}")
    if state.symbols != symbols:
        i = _first_difference(state.symbols, symbols)
        raise DataError(f"{name}: atom {i} is {state.symbols[i]} but {symbols[i]} in structure {structure} "
                        "(different species or order)")
    saved_map = meta.get("type_map")
    if saved_map is not None and list(saved_map) != list(type_map):
        raise DataError(f"{name}: type_map {saved_map} but this input's potential uses {type_map}")
    expected = types_of(symbols, type_map, name).tolist()
    if state.atype.tolist() != expected:
        i = _first_difference(state.atype.tolist(), expected)
        raise DataError(f"{name}: atom {i} has type {int(state.atype[i])} but {expected[i]} for this input "
                        f"(type_map {type_map})")
    masses = np.asarray(atoms.get_masses())
    if not np.allclose(state.masses.numpy(), masses, rtol=1e-10, atol=0):
        i = int(np.argmax(np.abs(state.masses.numpy() - masses)))
        raise DataError(f"{name}: atom {i} has mass {float(state.masses[i]):.6g} amu but {masses[i]:.6g} in "
                        f"structure {structure}")
    periodic = bool(atoms.pbc.all())
    if (state.cell is not None) != periodic:
        has = "a periodic cell" if state.cell is not None else "open boundaries"
        raise DataError(f"{name}: {has} but structure {structure} is {'periodic' if periodic else 'open'}")
    if state.cell is not None and tuple(state.cell.shape) != (3, 3):
        raise DataError(f"{name}: cell of shape {tuple(state.cell.shape)}, expected (3, 3)")
    if periodic and not ensemble.startswith("npt"):
        cell = np.asarray(atoms.cell)
        if not np.allclose(state.cell.numpy(), cell, rtol=0, atol=1e-6):
            raise DataError(f"{name}: cell {np.round(state.cell.numpy(), 4).tolist()} differs from structure "
                            f"{structure}'s {np.round(cell, 4).tolist()} (fixed in ensemble {ensemble})")
    if meta.get("ensemble") != ensemble:
        raise DataError(f"{name}: ensemble {meta.get('ensemble')} but this input runs {ensemble}")
    if meta.get("format") is None:
        return [f"{name} predates restart checks: atoms, species, masses, cell and ensemble match, but the "
                "potential it was made with is unknown; make sure it is the same"]
    saved = meta.get("potential") or {}
    if saved.get("hash") != potential["hash"]:
        raise DataError(f"{name}: made with {saved.get('describe', 'an unknown potential')} but this input's "
                        f"potential is {potential['describe']}")
    return []
