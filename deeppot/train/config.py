"""The training input (DeePMD-kit's input.json keys): schema, defaults, documentation, checks.

Every key carries its default and a one-line meaning; ``deeppot doc-train-input`` prints this
table. Unknown keys fail with a "did you mean" hint; ``_comment`` keys are ignored, as
DeePMD-kit does. Keys DeePMD-kit accepts that do not change what deeppot computes
(profiling, tensorboard, ...) are accepted and listed as ``ignored``.
"""

from __future__ import annotations

import copy
import difflib
import json
from pathlib import Path
from typing import Any

from deeppot.errors import ConfigError

REQUIRED = object()
IGNORED = "ignored by deeppot (accepted for DeePMD-kit compatibility)"

# (default, meaning); a nested dict is a sub-section
DESCRIPTOR_KEYS = {
    "type": (REQUIRED, "se_e2_a | se_e2_r | se_e3 | loc_frame"),
    "sel": ("auto", "max neighbours per type within rcut (list), or \"auto\" / \"auto:factor\" from data"),
    "rcut": (6.0, "cutoff radius, Å"),
    "rcut_smth": (0.5, "where the smooth switch starts, Å (se_*)"),
    "neuron": (None, "embedding net widths (se_*)"),
    "axis_neuron": (4, "columns of the embedding matrix kept in D = T T<^T (se_e2_a)"),
    "type_one_side": (None, "one embedding net per neighbour type (true) or per type pair (false)"),
    "resnet_dt": (False, "trainable timestep in residual embedding layers"),
    "activation_function": ("tanh", "activation of the embedding net"),
    "precision": ("default", "float64 | float32 | default (= float64)"),
    "seed": (None, "random seed of the initial weights"),
    "set_davg_zero": (False, "force the env-matrix mean to zero"),
    "env_protection": (0.0, "added to r in 1/r terms (numerical protection)"),
    "trainable": (True, IGNORED),
    "exclude_types": ([], "type pairs to exclude (only [] is supported)"),
    "sel_a": (None, "loc_frame: full-information neighbours per type"),
    "sel_r": (None, "loc_frame: radial-only neighbours per type"),
    "axis_rule": (None, "loc_frame: 6 integers per type choosing the two axis atoms"),
}
FITTING_KEYS = {
    "type": ("ener", "only 'ener' (energy model)"),
    "neuron": ([120, 120, 120], "fitting net hidden widths"),
    "resnet_dt": (True, "trainable timestep in residual fitting layers"),
    "activation_function": ("tanh", "activation of the fitting net"),
    "precision": ("default", "float64 | float32 | default"),
    "seed": (None, "random seed of the initial weights"),
    "rcond": (None, "rcond of the least-squares energy bias"),
    "trainable": (True, IGNORED),
    "numb_fparam": (0, "frame parameters (only 0 is supported)"),
    "numb_aparam": (0, "atomic parameters (only 0 is supported)"),
    "atom_ener": ([], "preset atomic energies (only [] is supported)"),
}
SCHEMA: dict[str, Any] = {
    "model": {
        "type_map": (REQUIRED, "element symbol of each type, e.g. [\"O\", \"H\"]"),
        "descriptor": DESCRIPTOR_KEYS,
        "fitting_net": FITTING_KEYS,
        "data_stat_nbatch": (10, "batches per system sampled for env-matrix statistics and the energy bias"),
        "data_stat_protect": (1e-2, "floor of the env-matrix standard deviations"),
        "type": ("standard", "only 'standard'"),
    },
    "learning_rate": {
        "type": ("exp", "exponential decay (stepped)"),
        "start_lr": (1e-3, "learning rate at step 0"),
        "stop_lr": (5e-8, "learning rate at numb_steps; sets decay_rate unless given"),
        "decay_steps": (5000, "steps between decays"),
        "decay_rate": (None, "factor per decay; default (stop_lr/start_lr)^(decay_steps/numb_steps)"),
        "scale_by_worker": ("linear", IGNORED),
    },
    "loss": {
        "type": ("ener", "energy/force/virial loss"),
        "start_pref_e": (0.02, "energy prefactor at the start"),
        "limit_pref_e": (1.0, "energy prefactor at the end"),
        "start_pref_f": (1000.0, "force prefactor at the start"),
        "limit_pref_f": (1.0, "force prefactor at the end"),
        "start_pref_v": (0.0, "virial prefactor at the start"),
        "limit_pref_v": (0.0, "virial prefactor at the end"),
        "start_pref_ae": (0.0, "atomic-energy prefactor at the start"),
        "limit_pref_ae": (0.0, "atomic-energy prefactor at the end"),
        "start_pref_pf": (0.0, "atom-prefactor force (only 0 supported)"),
        "limit_pref_pf": (0.0, "atom-prefactor force (only 0 supported)"),
        "relative_f": (None, "relative force error (not supported)"),
        "enable_atom_ener_coeff": (False, IGNORED),
    },
    "training": {
        "training_data": {
            "systems": (REQUIRED, "DeePMD systems (dirs, parent dirs, globs) or ASE-readable files"),
            "batch_size": ("auto", "frames per batch: int, list per system, \"auto\" (≥32 atoms) or \"auto:N\""),
            "auto_prob": ("prob_sys_size", "system probability: prob_sys_size (∝ batches) or prob_uniform"),
            "sys_probs": (None, "explicit system probabilities"),
        },
        "validation_data": {
            "systems": (REQUIRED, "validation systems"),
            "batch_size": ("auto", "frames per validation batch"),
            "numb_btch": (1, "validation batches per display"),
            "auto_prob": ("prob_sys_size", "system probability"),
            "sys_probs": (None, "explicit system probabilities"),
        },
        "numb_steps": (REQUIRED, "training steps"),
        "seed": (None, "seed of data sampling"),
        "disp_file": ("lcurve.out", "learning-curve file"),
        "disp_freq": (1000, "steps between lcurve lines"),
        "save_freq": (1000, "steps between checkpoints"),
        "save_ckpt": ("model.ckpt", "checkpoint name prefix"),
        "max_ckpt_keep": (5, "checkpoints kept"),
        "stat_file": (None, "file caching the data statistics (reused when present)"),
        "disp_training": (True, IGNORED),
        "time_training": (True, IGNORED),
        "profiling": (False, IGNORED),
        "profiling_file": ("timeline.json", IGNORED),
        "enable_profiler": (False, IGNORED),
        "tensorboard": (False, IGNORED),
        "tensorboard_log_dir": ("log", IGNORED),
        "tensorboard_freq": (1, IGNORED),
        "gradient_max_norm": (None, "clip the gradient norm (None: no clipping)"),
        "warmup_steps": (0, "linear learning-rate warm-up steps"),
        "opt_type": ("Adam", "optimizer (only Adam)"),
    },
}


def _did_you_mean(key: str, options) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fill(section: dict, schema: dict, where: str) -> dict:
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(section).__name__}")
    out = {}
    for key, value in section.items():
        if key.startswith("_comment") or key == "_comment":
            continue
        if key not in schema:
            raise ConfigError(f"unknown key {where}.{key}{_did_you_mean(key, schema)}")
        spec = schema[key]
        out[key] = _fill(value, spec, f"{where}.{key}") if isinstance(spec, dict) else value
    for key, spec in schema.items():
        if key in out:
            continue
        if isinstance(spec, dict):
            continue
        default, _ = spec
        if default is REQUIRED:
            raise ConfigError(f"missing required key {where}.{key}")
        out[key] = copy.deepcopy(default)
    return out


def normalize(config: dict) -> dict:
    """Checked config with every default filled in (sections stay optional where DeePMD-kit's are)."""
    config = {k: v for k, v in config.items() if not k.startswith("_comment")}
    for key in config:
        if key not in SCHEMA:
            raise ConfigError(f"unknown top-level key {key!r}{_did_you_mean(key, SCHEMA)}")
    out = {}
    for key, schema in SCHEMA.items():
        section = config.get(key, {})
        if key == "training" and "validation_data" not in section:
            inner = {k: v for k, v in schema.items() if k != "validation_data"}
            out[key] = _fill(section, inner, key)
            out[key]["validation_data"] = None
        else:
            out[key] = _fill(section, schema, key)
    if "descriptor" not in config.get("model", {}):
        raise ConfigError("missing required key model.descriptor")
    _check_supported(out)
    return out


def _check_supported(cfg: dict) -> None:
    fit, loss = cfg["model"]["fitting_net"], cfg["loss"]
    for key in ("numb_fparam", "numb_aparam"):
        if fit[key]:
            raise ConfigError(f"model.fitting_net.{key} = {fit[key]} is not supported (only 0)")
    if loss["type"] != "ener":
        raise ConfigError(f"loss.type {loss['type']!r} is not supported (only 'ener')")
    if loss["relative_f"] is not None or loss["start_pref_pf"] or loss["limit_pref_pf"]:
        raise ConfigError("loss.relative_f and the pf prefactors are not supported")
    if cfg["learning_rate"]["type"] != "exp":
        raise ConfigError(f"learning_rate.type {cfg['learning_rate']['type']!r} is not supported (only 'exp')")
    if cfg["training"]["opt_type"] != "Adam":
        raise ConfigError(f"training.opt_type {cfg['training']['opt_type']!r} is not supported (only Adam)")


def load_config(path: str | Path) -> dict:
    """Read a JSON or YAML input file (raw, not yet normalised)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such input file")
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as err:
        raise ConfigError(f"{path}: cannot parse ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the input must be a mapping of sections")
    return data


def describe(schema: dict | None = None, prefix: str = "") -> list[str]:
    """Lines ``key  default  meaning`` for every key of the schema (``doc-train-input``)."""
    schema = SCHEMA if schema is None else schema
    lines = []
    for key, spec in schema.items():
        name = f"{prefix}{key}"
        if isinstance(spec, dict):
            lines.append(f"{name}:")
            lines += describe(spec, name + ".")
        else:
            default, meaning = spec
            shown = "(required)" if default is REQUIRED else json.dumps(default)
            lines.append(f"  {name:<42} {shown:<16} {meaning}")
    return lines
