"""Checkpoints: one ``.npz`` of plain arrays plus JSON metadata; no pickle, written atomically.

``<save_ckpt>-<run>-<step>.npz`` (e.g. ``model.ckpt-3f9a02c1-1000.npz``) holds the model's
parameters and buffers (``model/<name>``), the optimizer's tensors (``optim/<i>/<name>``) and a
JSON string (``meta``) with the run id, the step, the training config, the optimizer's scalars
and the data-sampling RNG states. A pointer file ``checkpoint`` names the newest complete
checkpoint; it is replaced atomically only after the checkpoint itself is on disk, so a crash
at any moment leaves a loadable pair.

Every fresh training run draws a run id; ``--restart`` continues the run it restarts (same id).
Rotation (``max_ckpt_keep``) deletes only older checkpoints of the current run, so a short new
run in the directory of an older, longer one never deletes its own new files for the old run's
higher step numbers, and never touches the old run's files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from deeppot.errors import ModelFileError
from deeppot.fileio import atomic_path, atomic_write

POINTER = "checkpoint"
log = logging.getLogger("deeppot.train")

#: largest array a checkpoint may declare (elements); far above any Deep Potential model
MAX_ARRAY_ELEMENTS = 1 << 28


def new_run_id() -> str:
    """Eight hex digits from the OS (not from torch/numpy, whose RNG streams a run relies on)."""
    return os.urandom(4).hex()


def checkpoint_name(prefix: str, run_id: str, step: int) -> str:
    return f"{prefix}-{run_id}-{step}.npz"


def run_checkpoints(directory: Path, prefix: str, run_id: str) -> list[tuple[int, Path]]:
    """(step, path) of the checkpoints of run ``run_id``, by step."""
    pattern = re.compile(re.escape(prefix) + "-" + re.escape(run_id) + r"-(\d+)\.npz")
    found = []
    for path in Path(directory).glob(f"{glob_escape(prefix)}-{run_id}-*.npz"):
        match = pattern.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def other_checkpoints(directory: Path, prefix: str, run_id: str) -> list[Path]:
    """Checkpoints with this prefix that belong to other (older) runs."""
    mine = {p for _, p in run_checkpoints(directory, prefix, run_id)}
    return sorted(p for p in Path(directory).glob(f"{glob_escape(prefix)}-*.npz") if p not in mine)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def save_checkpoint(directory: Path, prefix: str, step: int, model, optimizer, meta: dict, keep: int,
                    run_id: str) -> Path:
    """Write checkpoint ``step`` of run ``run_id``, point ``checkpoint`` at it, rotate this run's files."""
    directory = Path(directory)
    arrays = {f"model/{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    scalars = {}
    for idx, state in opt_state["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value) and value.dim() > 0:
                arrays[f"optim/{idx}/{name}"] = value.detach().cpu().numpy()
            else:
                scalars[f"{idx}/{name}"] = float(value)
    meta = dict(meta, run_id=run_id, step=step, optim_scalars=scalars, param_groups=opt_state["param_groups"])
    arrays["meta"] = np.array(json.dumps(meta))
    path = directory / checkpoint_name(prefix, run_id, step)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        if os.environ.get("DEEPPOT_TEST_SLOW_SAVE"):  # test hook: widen the window for a kill -9
            import time

            time.sleep(float(os.environ["DEEPPOT_TEST_SLOW_SAVE"]))
    with atomic_write(directory / POINTER, "w") as handle:
        handle.write(path.name + "\n")
    # Only this run's checkpoints of earlier steps rotate out; the one just written always stays,
    # and files of a later step (left by a continuation abandoned before a --restart) are
    # overwritten in turn when the run reaches them.
    earlier = [p for s, p in run_checkpoints(directory, prefix, run_id) if s < step]
    for stale in earlier[:max(0, len(earlier) - (keep - 1))] if keep > 0 else []:
        stale.unlink(missing_ok=True)
    return path


def remove_stale_temporaries(directory: Path, prefix: str, run_id: str) -> None:
    """Temporaries of this run's saves that a kill -9 interrupted (nobody else writes them)."""
    for tmp in Path(directory).glob(f".{glob_escape(prefix)}-{run_id}-*.npz.*.tmp"):
        log.info("removing %s (left by an interrupted save of this run)", tmp)
        tmp.unlink(missing_ok=True)


def _pointed(directory: Path, pointer: Path) -> Path:
    try:
        name = pointer.read_text().strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{pointer}: unreadable ({err})") from None
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ModelFileError(f"{pointer}: does not name a checkpoint file in {directory}")
    target = directory / name
    if not target.is_file():
        raise ModelFileError(f"{pointer}: names {name}, which is missing")
    return target


def resolve(path: str | Path) -> Path:
    """A checkpoint file from a file path, a directory holding ``checkpoint``, or a prefix."""
    path = Path(path)
    if path.is_dir():
        pointer = path / POINTER
        if not pointer.exists():
            raise ModelFileError(f"{path}: no '{POINTER}' file naming a checkpoint")
        return _pointed(path, pointer)
    if path.is_file() and path.name == POINTER:
        return _pointed(path.parent, path)
    if path.exists():
        return path
    pointer = path.parent / POINTER
    if pointer.exists() and path.name != POINTER:
        return _pointed(path.parent, pointer)
    raise ModelFileError(f"{path}: no such checkpoint")


def _check_headers(path: Path) -> None:
    """Refuse arrays whose npy header declares more data than the archive holds (before reading)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ModelFileError(f"{path}: unexpected member {info.filename!r}")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise ModelFileError(f"{path}: {info.filename} holds Python objects")
                count = int(np.prod(shape, dtype=object)) if shape else 1
                if count > MAX_ARRAY_ELEMENTS or count * dtype.itemsize > info.file_size:
                    raise ModelFileError(f"{path}: {info.filename} declares {shape} {dtype}, "
                                         f"more than the {info.file_size} bytes stored")
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise ModelFileError(f"{path}: not a readable deeppot checkpoint ({err})") from None


def _check_meta(meta, path: Path) -> dict:
    def need(key, types, where=meta):
        if not isinstance(where.get(key), types) or isinstance(where.get(key), bool) and bool not in types:
            raise ModelFileError(f"{path}: checkpoint meta '{key}' must be "
                                 f"{' or '.join(t.__name__ for t in types)}, got {type(where.get(key)).__name__}")

    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: checkpoint meta must be a JSON object")
    need("step", (int,))
    if meta["step"] < 0:
        raise ModelFileError(f"{path}: checkpoint meta 'step' is negative")
    need("model", (dict,))
    need("optim_scalars", (dict,))
    need("param_groups", (list,))
    if "run_id" in meta:
        need("run_id", (str,))
        if not re.fullmatch(r"[0-9a-f]{8}", meta["run_id"]):
            raise ModelFileError(f"{path}: checkpoint meta 'run_id' {meta['run_id']!r} is not 8 hex digits")
    for key in ("config", "sampler"):
        if key in meta:
            need(key, (dict,))
    for key, value in meta["optim_scalars"].items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or "/" not in key:
            raise ModelFileError(f"{path}: checkpoint meta optim_scalars[{key!r}] must be a number")
    if not all(isinstance(g, dict) for g in meta["param_groups"]):
        raise ModelFileError(f"{path}: checkpoint meta 'param_groups' must be a list of objects")
    from deeppot.model.limits import check_model_config

    check_model_config(meta["model"], f"{path}: checkpoint meta")
    return meta


def load_checkpoint(path: str | Path) -> tuple[dict, dict, dict]:
    """(meta, model arrays, optimizer arrays) of a checkpoint."""
    path = resolve(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: not a regular file")
    _check_headers(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path}: not a readable deeppot checkpoint ({err})") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: not a deeppot checkpoint (no meta)")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (json.JSONDecodeError, RecursionError) as err:
        raise ModelFileError(f"{path}: malformed checkpoint meta ({err})") from None
    meta = _check_meta(meta, path)
    model = {k[6:]: v for k, v in arrays.items() if k.startswith("model/")}
    optim = {k[6:]: v for k, v in arrays.items() if k.startswith("optim/")}
    return meta, model, optim


def restore_optimizer(optimizer, meta: dict, optim_arrays: dict) -> None:
    state: dict = {}
    for key, value in optim_arrays.items():
        idx, name = key.split("/", 1)
        state.setdefault(int(idx), {})[name] = torch.as_tensor(value)
    for key, value in meta["optim_scalars"].items():
        idx, name = key.split("/", 1)
        state.setdefault(int(idx), {})[name] = torch.tensor(value, dtype=torch.float64 if name != "step"
                                                            else torch.float32)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
