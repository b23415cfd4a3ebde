"""Every unit of work of the loop as a Dask task, and the Dask client that runs them.

Tasks are plain module-level functions (Dask pickles them by name) that take paths and small
arrays, write their outputs atomically into their own directory, and write ``done.json`` as
their very last act. A task whose ``done.json`` exists returns at once, so a loop killed at any
moment and started again never redoes finished work, and a task killed half-way (or rerun by
Dask after its worker died) starts over in a directory nobody else reads.

Where the tasks run:

* default: a ``LocalCluster`` of ``n_workers`` processes with one thread each (2 in the tests);
* ``dask.scheduler_address``: an existing cluster, e.g. one started by dask-jobqueue on Slurm
  (see ``examples/water/learn/README.md`` for the configuration).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deeppot.fileio import atomic_path, atomic_write

log = logging.getLogger("deeppot.learn")
DONE = "done.json"


@contextlib.contextmanager
def open_client(dask_cfg: dict) -> Iterator:
    """A ``distributed.Client``: to ``scheduler_address`` if given, else to a new LocalCluster."""
    from distributed import Client, LocalCluster

    address = dask_cfg.get("scheduler_address")
    if address:
        from deeppot.errors import DeeppotError

        try:
            client = Client(address, timeout="30s")
        except OSError as err:
            raise DeeppotError(f"dask/scheduler_address: cannot reach {address} ({err})") from None
        with client:
            yield client
        return
    # one thread per worker: torch, tblite and BLAS then use one core each (no oversubscription)
    with _signal_handlers_kept(), LocalCluster(
            n_workers=dask_cfg.get("n_workers", 2), threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Restore SIGINT/SIGTERM handlers afterwards: starting a LocalCluster leaves SIGINT ignored
    in the calling process, which would make Ctrl-C do nothing for the rest of a Python session."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            if handler is not None:
                signal.signal(s, handler)


class LazyClient:
    """A Dask client opened on first use: a finished loop run again starts no cluster at all."""

    def __init__(self, dask_cfg: dict):
        self.dask_cfg = dask_cfg
        self._stack = contextlib.ExitStack()
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._stack.enter_context(open_client(self.dask_cfg))
        return getattr(self._client, name)

    def __enter__(self) -> LazyClient:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


def is_done(directory: str | Path) -> dict | None:
    path = Path(directory) / DONE
    return json.loads(path.read_text()) if path.exists() else None


def mark_done(directory: str | Path, summary: dict) -> dict:
    with atomic_write(Path(directory) / DONE, "w") as handle:
        json.dump(summary, handle, indent=1)
    return summary


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)


# ----- train -------------------------------------------------------------------------------
def train_member(member_dir: str, train_cfg: dict, init_model: str | None) -> dict:
    """Train one ensemble member in ``member_dir`` and freeze it to ``model.dp``.

    A member killed half-way resumes from its last checkpoint (``--restart``), not from zero.
    """
    done = is_done(member_dir)
    if done:
        return done
    _one_thread()
    from deeppot.model.dp_format import save_model
    from deeppot.train import checkpoint as ckpt
    from deeppot.train.trainer import Trainer, model_from_checkpoint

    t0 = time.perf_counter()
    directory = Path(member_dir)
    restart = str(directory) if (directory / ckpt.POINTER).exists() else None
    trainer = Trainer(train_cfg, directory, restart=restart, init_model=None if restart else init_model,
                      progress=False, input_name=str(directory / "input.json"))
    trainer.run()
    model = model_from_checkpoint(str(directory))
    with atomic_path(directory / "model.dp") as tmp:
        save_model(model, tmp)
    return mark_done(directory, {"model": str(directory / "model.dp"), "checkpoint": str(ckpt.resolve(directory)),
                                 "steps": train_cfg["training"]["numb_steps"], "warm_start": init_model,
                                 "seconds": time.perf_counter() - t0})


# ----- explore -----------------------------------------------------------------------------
def explore_run(task_dir: str, model_paths: list[str], atoms, stage: dict, seed: int, limits: dict) -> dict:
    """MD with the committee; frames every ``traj_every`` steps with ``dp model-devi``'s columns.

    Writes ``frames.npz`` (coord, box, step, atype in the models' type_map, pre_stop) and
    ``model_devi.out``. A run stopped by a safety check (atoms too close, huge force: typical of
    an early, poor ensemble) keeps the frames recorded so far; the reason goes into ``done.json``.
    It also keeps the last ``limits["pre_stop_frames"]`` states before the stop, one every
    ``limits["pre_stop_every"]`` steps, as extra frames flagged ``pre_stop``: a collapse builds
    up within a few tens of femtoseconds, between two regular frames, and the committee's
    deviation rises from accurate to failed inside that window, so without them the states that
    most need a label are never seen.
    """
    done = is_done(task_dir)
    if done:
        return done
    _one_thread()
    import torch

    from deeppot.errors import DeeppotError, SimulationError
    from deeppot.md.ensembles import ENSEMBLES
    from deeppot.md.runner import Simulation
    from deeppot.model.deep_pot import DeepPot
    from deeppot.model.deviation import HEADER, ensemble_deviation
    from deeppot.model.potential import ModelPotential
    from deeppot.potentials.committee import CommitteePotential

    t0 = time.perf_counter()
    directory = Path(task_dir)
    members = [ModelPotential(p) for p in model_paths]
    committee = CommitteePotential(members)
    options = {"tau_t_fs": stage["tau_t_fs"]} if "tau_t_fs" in ENSEMBLES[stage["ensemble"]].options else {}
    coords, boxes, steps = [], [], []

    recent = collections.deque(maxlen=limits.get("pre_stop_frames", 0))

    def snapshot(sim) -> tuple:
        return (sim.state.step, sim.state.positions.numpy().copy(),
                None if sim.state.cell is None else sim.state.cell.numpy().copy())

    def record(sim):
        step, coord, box = snapshot(sim)
        coords.append(coord)
        boxes.append(box)
        steps.append(step)

    def remember(sim):
        recent.append(snapshot(sim))

    stopped = None
    try:
        sim = Simulation.from_atoms(atoms, committee, ensemble=stage["ensemble"],
                                    temperature_K=stage["temperature_K"], timestep_fs=stage["timestep_fs"], seed=seed,
                                    min_distance_A=limits["min_distance_A"], max_force_eV_A=limits["max_force_eV_A"],
                                    **options)
        sim.attach(record, stage["traj_every"])
        if recent.maxlen:
            sim.attach(remember, limits.get("pre_stop_every", 1))
        sim.run(stage["steps"])
    except (SimulationError, DeeppotError) as err:  # e.g. more neighbours than the models' sel
        stopped = str(err)
    n_regular = len(coords)
    if stopped:
        regular = set(steps)
        for step, coord, box in recent:
            if step not in regular:
                steps.append(step)
                coords.append(coord)
                boxes.append(box)
    type_map = members[0].type_map
    atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
    coord = np.asarray(coords).reshape(len(coords), len(atype), 3)
    box = np.asarray(boxes) if boxes and boxes[0] is not None else None
    if len(coord):
        with torch.no_grad():
            devi = ensemble_deviation([DeepPot(m.model) for m in members], coord.reshape(len(coord), -1),
                                      None if box is None else box.reshape(len(box), 9), atype)
    else:
        devi = np.zeros((0, 7))
    with atomic_path(directory / "frames.npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, coord=coord, box=np.zeros((0,)) if box is None else box, step=np.asarray(steps),
                     atype=atype, type_map=np.asarray(type_map), pre_stop=np.arange(len(coord)) >= n_regular)
    with atomic_write(directory / "model_devi.out", "w") as handle:
        np.savetxt(handle, np.column_stack([np.asarray(steps), devi]), fmt=["%12d"] + ["%18.6e"] * 7, header=HEADER)
    return mark_done(directory, {"frames": n_regular, "pre_stop_frames": len(coord) - n_regular, "stopped": stopped,
                                 "temperature_K": stage["temperature_K"], "seconds": time.perf_counter() - t0})


def load_frames(task_dir: str | Path) -> dict:
    """``frames.npz`` and ``model_devi.out`` of an exploration task as arrays."""
    directory = Path(task_dir)
    with np.load(directory / "frames.npz") as data:
        out = {k: data[k] for k in data.files}
    out["box"] = out["box"] if out["box"].size else None
    if "pre_stop" not in out:  # written before pre-stop frames existed
        out["pre_stop"] = np.zeros(len(out["coord"]), dtype=bool)
    out["type_map"] = [str(t) for t in out["type_map"]]
    out["devi"] = np.loadtxt(directory / "model_devi.out", ndmin=2).reshape(-1, 8)
    return out


# ----- label -------------------------------------------------------------------------------
def label_frame(out_path: str, symbols: list[str], coord: np.ndarray, box: np.ndarray | None, spec: dict) -> dict:
    """Label one frame into ``out_path`` (.npz); a failed calculation is recorded there, never raised."""
    out = Path(out_path)
    if out.exists():
        with np.load(out) as data:
            return {"ok": bool(data["ok"]), "message": str(data["message"])}
    from ase import Atoms

    from deeppot.learn.labelers import LabelFailed, make_labeler

    t0 = time.perf_counter()
    atoms = Atoms(symbols=symbols, positions=coord, cell=box, pbc=box is not None)
    try:
        label = make_labeler(spec)(atoms)
        arrays = dict(ok=True, message="", energy=label.energy_eV, force=label.forces_eV_A,
                      virial=np.zeros(0) if label.virial_eV is None else label.virial_eV)
    except LabelFailed as err:
        arrays = dict(ok=False, message=str(err))
    arrays["seconds"] = time.perf_counter() - t0
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return {"ok": bool(arrays["ok"]), "message": str(arrays["message"])}


# ----- held-out errors ---------------------------------------------------------------------
def held_out_errors(model_paths: list[str], test_systems: list[str], type_map: list[str]) -> dict:
    """RMSE of the committee's mean energy (eV/atom) and forces (eV/Å) on labelled held-out systems."""
    _one_thread()
    from deeppot.data import load_systems
    from deeppot.model.deep_pot import DeepPot

    models = [DeepPot(p) for p in model_paths]
    se_e = se_f = 0.0
    n_e = n_f = 0
    for system in load_systems(test_systems, type_map):
        nf = system.nframes
        cell = None if system.box is None else system.box.reshape(nf, 9)
        results = [m.eval(system.coord.reshape(nf, -1), cell, system.atype) for m in models]
        energy = np.mean([r[0][:, 0] for r in results], axis=0)
        force = np.mean([r[1] for r in results], axis=0)
        se_e += float((((energy - system.energy) / system.natoms) ** 2).sum())
        se_f += float(((force - system.force) ** 2).sum())
        n_e += nf
        n_f += force.size
    return {"rmse_e_eV_atom": (se_e / n_e) ** 0.5, "rmse_f_eV_A": (se_f / n_f) ** 0.5, "frames": n_e}


def worker_env() -> dict:
    """Thread settings seen by a worker (for the report: proves one thread per task)."""
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
