"""Build a fresh model from the ``model`` section of a DeePMD-kit style input.json.

Defaults are DeePMD-kit's (``deepmd/utils/argcheck.py``), so an input that omits a key gets
the same network DeePMD-kit would build. ``sel: "auto"`` must be resolved from data before
calling :func:`build_model` (see :func:`deeppot.model.stats.auto_sel`).
"""

from __future__ import annotations

import torch

from deeppot.core.descriptor import DESCRIPTORS
from deeppot.core.fitting import EnergyFitting
from deeppot.errors import ConfigError
from deeppot.model.energy_model import EnergyModel

PRECISION = {"float64": torch.float64, "float32": torch.float32, "default": torch.float64}

DESCRIPTOR_DEFAULTS = {
    "se_e2_a": {"rcut": 6.0, "rcut_smth": 0.5, "neuron": [10, 20, 40], "axis_neuron": 4, "resnet_dt": False,
                "type_one_side": False, "activation_function": "tanh"},
    "se_e2_r": {"rcut": 6.0, "rcut_smth": 0.5, "neuron": [10, 20, 40], "resnet_dt": False,
                "type_one_side": True, "activation_function": "tanh"},
    "se_e3": {"rcut": 6.0, "rcut_smth": 0.5, "neuron": [10, 20, 40], "resnet_dt": False,
              "activation_function": "tanh"},
    "loc_frame": {"rcut": 6.0},
}
ALIASES = {"se_a": "se_e2_a", "se_r": "se_e2_r", "se_at": "se_e3", "se_a_3be": "se_e3"}
# keys DeePMD-kit accepts that do not change the function deeppot computes
IGNORED_DESCRIPTOR_KEYS = {"trainable", "exclude_types", "_comment", "tebd_input_mode"}


def build_descriptor(section: dict, ntypes: int):
    kind = ALIASES.get(section.get("type", ""), section.get("type", ""))
    if kind not in DESCRIPTOR_DEFAULTS:
        raise ConfigError(f"model.descriptor.type {section.get('type')!r} is not supported "
                          f"(supported: {', '.join(DESCRIPTOR_DEFAULTS)})")
    if section.get("exclude_types"):
        raise ConfigError("model.descriptor.exclude_types is not supported yet")
    opts = dict(DESCRIPTOR_DEFAULTS[kind])
    for key, value in section.items():
        if key in ("type", "sel", "precision", "seed", "set_davg_zero", "env_protection") or \
                key in IGNORED_DESCRIPTOR_KEYS:
            continue
        opts[key] = value
    if kind == "loc_frame":
        return _build_loc_frame(section, ntypes)
    sel = section.get("sel")
    if not isinstance(sel, (list, tuple)) or len(sel) != ntypes:
        raise ConfigError(f"model.descriptor.sel must list {ntypes} integers (one per type), got {sel!r}")
    cls = DESCRIPTORS[kind]
    try:
        return cls(sel=list(sel), ntypes=ntypes, dtype=PRECISION[section.get("precision", "default")],
                   seed=section.get("seed"), set_davg_zero=section.get("set_davg_zero", False),
                   env_protection=section.get("env_protection", 0.0), **opts)
    except TypeError as err:
        raise ConfigError(f"model.descriptor ({kind}): {err}") from None


def _build_loc_frame(section: dict, ntypes: int):
    for key in ("sel_a", "sel_r", "axis_rule"):
        if key not in section:
            raise ConfigError(f"model.descriptor (loc_frame) needs {key!r}")
    try:
        return DESCRIPTORS["loc_frame"](section.get("rcut", 6.0), section["sel_a"], section["sel_r"],
                                        section["axis_rule"], ntypes,
                                        dtype=PRECISION[section.get("precision", "default")])
    except ValueError as err:
        raise ConfigError(str(err)) from None


def build_model(section: dict) -> EnergyModel:
    """EnergyModel with random weights from DeePMD-kit's ``model`` keys."""
    type_map = section.get("type_map")
    if not type_map:
        raise ConfigError("model.type_map is required (element symbols, e.g. [\"O\", \"H\"])")
    descriptor = build_descriptor(dict(section.get("descriptor", {})), len(type_map))
    fit = dict(section.get("fitting_net", {}))
    if fit.get("type", "ener") != "ener":
        raise ConfigError(f"model.fitting_net.type {fit.get('type')!r} is not supported (only 'ener')")
    seed = fit.get("seed")
    fitting = EnergyFitting(len(type_map), descriptor.dim_out, fit.get("neuron", [120, 120, 120]),
                            fit.get("resnet_dt", True), fit.get("activation_function", "tanh"),
                            dtype=PRECISION[fit.get("precision", "default")], seed=seed)
    model = EnergyModel(descriptor, fitting, list(type_map))
    model.model_def_script = section
    return model
