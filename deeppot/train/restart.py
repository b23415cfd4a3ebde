"""``train --restart``: the input must describe the run the checkpoint belongs to.

A restart continues a run exactly; an input whose model, loss, learning rate or data sampling
differs from the checkpoint's would silently train something else (or crash on mismatched
tensors). Such a difference is refused with one line naming the first differing key; to start
a new run from old weights there is ``--init-model``.
"""

from __future__ import annotations

from typing import Any

from deeppot.errors import ConfigError

#: keys that only affect bookkeeping, outputs or the statistics (computed once, before step 0)
FREE = {
    "model": {"data_stat_nbatch", "data_stat_protect", "data_bias_nsample", "seed", "_comment"},
    "training": {"numb_steps", "disp_file", "disp_freq", "save_freq", "save_ckpt", "max_ckpt_keep",
                 "stat_file", "time_training", "disp_training", "profiling", "profiling_file",
                 "tensorboard", "tensorboard_log_dir", "tensorboard_freq", "_comment", "systems"},
}
SECTIONS = ("model", "learning_rate", "loss", "training")


def _first_difference(old: Any, new: Any, path: str, free: set[str]) -> tuple[str, Any, Any] | None:
    if isinstance(old, dict) and isinstance(new, dict):
        # a key only one side has comes from another deeppot version's schema (both sides are
        # normalised, so a key the user left out carries its default on both)
        for key in sorted(set(old) & set(new)):
            if key in free or key == "_comment":
                continue
            found = _first_difference(old.get(key), new.get(key), f"{path}.{key}", free)
            if found:
                return found
        return None
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)) and len(old) == len(new):
        for k, (a, b) in enumerate(zip(old, new)):
            found = _first_difference(a, b, f"{path}[{k}]", free)
            if found:
                return found
        return None
    same = old == new and type(old) is type(new) or (isinstance(old, (int, float)) and isinstance(new, (int, float))
                                                     and not isinstance(old, bool) and not isinstance(new, bool)
                                                     and float(old) == float(new))
    return None if same else (path, old, new)


def check_restart(saved: dict, cfg: dict, saved_data: list | None, data: list, checkpoint: str) -> None:
    """Raise :class:`ConfigError` if ``cfg`` would not continue the run saved in ``checkpoint``.

    ``saved_data`` / ``data`` are per-system ``[natoms, nframes]`` of the training and
    validation data (the sampling state in a checkpoint indexes frames of exactly these).
    """
    hint = "use --init-model to start a new run from these weights"
    for section in SECTIONS:
        found = _first_difference(saved.get(section), cfg.get(section), section, FREE.get(section, set()))
        if found:
            key, old, new = found
            raise ConfigError(f"--restart {checkpoint}: {key} is {old!r} in the checkpoint but {new!r} in the "
                              f"input; {hint}")
    old_steps, new_steps = saved["training"]["numb_steps"], cfg["training"]["numb_steps"]
    if old_steps != new_steps and cfg["learning_rate"].get("decay_rate") is None:
        raise ConfigError(f"--restart {checkpoint}: training.numb_steps is {old_steps} in the checkpoint but "
                          f"{new_steps} in the input, which changes the learning-rate decay; set "
                          f"learning_rate.decay_rate to extend a run, or {hint}")
    if saved_data is not None and [list(d) for d in saved_data] != [list(d) for d in data]:
        raise ConfigError(f"--restart {checkpoint}: the training/validation systems differ from the checkpoint's "
                          f"(atoms, frames per system: {saved_data} vs {data}); {hint}")
