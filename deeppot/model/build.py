"""Build a fresh model from the ``model`` section of a DeePMD-kit style input.json.

Defaults are DeePMD-kit's (``deepmd/utils/argcheck.py``), declared once in
:mod:`deeppot.schema.train`, so an input that omits a key gets the same network DeePMD-kit
would build. ``sel: "auto"`` must be resolved from data before calling :func:`build_model`
(see :func:`deeppot.model.stats.auto_sel`).
"""

from __future__ import annotations

import torch

from deeppot.core.descriptor import DESCRIPTORS
from deeppot.core.fitting import EnergyFitting
from deeppot.errors import ConfigError
from deeppot.model.energy_model import EnergyModel
from deeppot.schema.train import DESCRIPTOR_ALIASES, LocFrame, SeE2A, SeE2R, SeE3

PRECISION = {"float64": torch.float64, "float32": torch.float32, "default": torch.float64}

#: aliases and network defaults per descriptor type come from the input declarations (one table)
ALIASES = DESCRIPTOR_ALIASES
_NET_KEYS = ("rcut", "rcut_smth", "neuron", "axis_neuron", "resnet_dt", "type_one_side", "activation_function")
DESCRIPTOR_DEFAULTS = {kind: {k: cls.model_fields[k].default for k in _NET_KEYS if k in cls.model_fields}
                       for kind, cls in (("se_e2_a", SeE2A), ("se_e2_r", SeE2R), ("se_e3", SeE3),
                                         ("loc_frame", LocFrame))}
# keys DeePMD-kit accepts that do not change the function deeppot computes
IGNORED_DESCRIPTOR_KEYS = {"trainable", "exclude_types", "_comment", "tebd_input_mode"}


def build_descriptor(section: dict, ntypes: int, type_map: list[str] | None = None):
    kind = ALIASES.get(section.get("type", ""), section.get("type", ""))
    if kind == "bp":
        return _build_bp(section, type_map or [str(t) for t in range(ntypes)])
    if kind not in DESCRIPTOR_DEFAULTS:
        raise ConfigError(f"model.descriptor.type {section.get('type')!r} is not supported "
                          f"(supported: {', '.join(DESCRIPTOR_DEFAULTS)}, bp)")
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


def _build_bp(section: dict, type_map: list[str]):
    from deeppot.core.descriptor.bp import build

    sel = section.get("sel")
    if not isinstance(sel, (list, tuple)) or len(sel) != len(type_map):
        raise ConfigError(f"model.descriptor.sel must list {len(type_map)} integers (one per type), got {sel!r}")
    try:
        return build(section, list(type_map), dtype=PRECISION[section.get("precision", "default")])
    except ValueError as err:
        raise ConfigError(f"model.descriptor ({err})") from None


def build_model(section: dict) -> EnergyModel:
    """EnergyModel with random weights from DeePMD-kit's ``model`` keys."""
    type_map = section.get("type_map")
    if not type_map:
        raise ConfigError("model.type_map is required (element symbols, e.g. [\"O\", \"H\"])")
    descriptor = build_descriptor(dict(section.get("descriptor", {})), len(type_map), list(type_map))
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
