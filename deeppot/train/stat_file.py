"""``training.stat_file``: the data statistics (davg, dstd, energy bias) cached between runs.

The statistics depend on the descriptor (type, rcut, rcut_smth, sel, precision, ...), the type
map, the training data and how it is sampled (``data_stat_nbatch``, batch sizes, seed, rcond).
A SHA-256 of all of these (data as path, size and mtime of every file) is stored in the file;
a file with another key is stale and recomputed (and rewritten), never reused on shape alone.

A file that is not deeppot's (DeePMD-kit's ``stat_file`` is an HDF5 of another layout, or a
directory) is left alone: the statistics go to ``<name>.deeppot.h5`` beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from deeppot.errors import DeeppotError
from deeppot.fileio import atomic_path

log = logging.getLogger("deeppot.train")
FORMAT = "deeppot-stat-1"
GROUP = "deeppot"
#: descriptor keys that shape the networks, not the statistics
NETWORK_ONLY = {"neuron", "axis_neuron", "resnet_dt", "activation_function", "seed", "trainable", "type_one_side"}


def _fingerprint(path: str) -> list:
    """Path, size and mtime of every file of a system (a directory or a single file)."""
    root = Path(path).resolve()
    if root.is_file():
        st = root.stat()
        return [str(root), st.st_size, st.st_mtime_ns]
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            files.append([os.path.relpath(os.path.join(dirpath, name), root), st.st_size, st.st_mtime_ns])
    return [str(root), files]


def stat_key(model_cfg: dict, cfg: dict, system_paths: list[str], batch_sizes: list[int]) -> tuple[str, dict]:
    """(hex digest, the dict it hashes) of everything the statistics depend on."""
    depends = {
        "format": FORMAT,
        "type_map": list(model_cfg["type_map"]),
        "descriptor": {k: v for k, v in model_cfg["descriptor"].items() if k not in NETWORK_ONLY},
        "rcond": cfg["model"]["fitting_net"].get("rcond"),
        "data_stat_nbatch": cfg["model"]["data_stat_nbatch"],
        "batch_size": [int(b) for b in batch_sizes],
        "seed": cfg["training"]["seed"],
        "data": [_fingerprint(p) for p in system_paths],
    }
    text = json.dumps(depends, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), depends


def _is_ours(path: Path) -> bool:
    import h5py

    if not path.is_file():
        return False
    try:
        with h5py.File(path, "r") as h5:
            return GROUP in h5 and isinstance(h5.get(GROUP, getlink=True), h5py.HardLink) and \
                set(h5[GROUP].keys()) >= {"davg", "dstd", "out_bias"}
    except OSError:
        return False


def choose_path(path: Path) -> Path:
    """``path``, or the file beside it when ``path`` exists and is not deeppot's."""
    if not (path.exists() or path.is_symlink()) or _is_ours(path):
        return path
    beside = path.with_name(path.name + ".deeppot.h5")
    log.info("%s is not a deeppot statistics file (DeePMD-kit's?); left alone, using %s", path, beside)
    if (beside.exists() or beside.is_symlink()) and not _is_ours(beside):
        raise DeeppotError(f"{beside}: exists and is not a deeppot statistics file; set training.stat_file "
                           "to a new name")
    return beside


def load(path: Path, key: str, model) -> bool:
    """Copy the statistics in ``path`` into ``model`` if the file's key is ``key``."""
    import h5py

    if not path.exists():
        return False
    with h5py.File(path, "r") as h5:
        group = h5[GROUP]
        stored = group.attrs.get("key")
        stored = stored.decode() if isinstance(stored, bytes) else stored
        targets = {"davg": model.descriptor.davg, "dstd": model.descriptor.dstd, "out_bias": model.out_bias}
        if stored != key:
            log.info("%s: statistics of another descriptor, type map or data set; recomputing", path)
            return False
        for name, target in targets.items():
            link = group.get(name, getlink=True)
            dataset = group[name] if isinstance(link, h5py.HardLink) else None
            if not isinstance(dataset, h5py.Dataset) or dataset.is_virtual or dataset.external or \
                    dataset.dtype.kind != "f" or tuple(dataset.shape) != tuple(target.shape):
                log.info("%s: %s is not a plain array of the model's shape; recomputing", path, name)
                return False
        with torch.no_grad():
            for name, target in targets.items():
                target.copy_(torch.as_tensor(np.asarray(group[name][()]), dtype=target.dtype))
    log.info("statistics read from %s", path)
    return True


def save(path: Path, key: str, depends: dict, model) -> None:
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        group = h5.create_group(GROUP)
        group["davg"] = model.descriptor.davg.detach().cpu().numpy()
        group["dstd"] = model.descriptor.dstd.detach().cpu().numpy()
        group["out_bias"] = model.out_bias.detach().cpu().numpy()
        group.attrs["format"] = FORMAT
        group.attrs["key"] = key
        group.attrs["depends"] = json.dumps(depends, sort_keys=True, default=str)
    log.info("statistics saved to %s", path)
