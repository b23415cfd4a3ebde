"""Checkpoints: one ``.npz`` of plain arrays plus JSON metadata; no pickle, written atomically.

``model.ckpt-<step>.npz`` holds the model's parameters and buffers (``model/<name>``), the
optimizer's tensors (``optim/<i>/<name>``) and a JSON string (``meta``) with the step, the
training config, the optimizer's scalars and the data-sampling RNG state. A pointer file
``checkpoint`` names the newest complete checkpoint; it is replaced atomically only after
the checkpoint itself is on disk, so a crash at any moment leaves a loadable pair.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from deeppot.errors import ModelFileError
from deeppot.fileio import atomic_path, atomic_write

POINTER = "checkpoint"


def save_checkpoint(directory: Path, prefix: str, step: int, model, optimizer, meta: dict, keep: int) -> Path:
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
    meta = dict(meta, step=step, optim_scalars=scalars, param_groups=opt_state["param_groups"])
    arrays["meta"] = np.array(json.dumps(meta))
    path = directory / f"{prefix}-{step}.npz"
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
    old = sorted(directory.glob(f"{prefix}-*.npz"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for stale in old[:-keep] if keep > 0 else []:
        stale.unlink(missing_ok=True)
    return path


def resolve(path: str | Path) -> Path:
    """A checkpoint file from a file path, a directory holding ``checkpoint``, or a prefix."""
    path = Path(path)
    if path.is_dir():
        pointer = path / POINTER
        if not pointer.exists():
            raise ModelFileError(f"{path}: no '{POINTER}' file naming a checkpoint")
        return path / pointer.read_text().strip()
    if path.exists():
        return path
    pointer = path.parent / POINTER
    if pointer.exists():
        return path.parent / pointer.read_text().strip()
    raise ModelFileError(f"{path}: no such checkpoint")


def load_checkpoint(path: str | Path) -> tuple[dict, dict, dict]:
    """(meta, model arrays, optimizer arrays) of a checkpoint."""
    path = resolve(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a readable deeppot checkpoint ({err})") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: not a deeppot checkpoint (no meta)")
    meta = json.loads(str(arrays.pop("meta")))
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
