"""Build a fresh model from the ``model`` section of a DeePMD-kit style input.json.

Defaults are DeePMD-kit's (``deepmd/utils/argcheck.py``), declared once in each descriptor's
own input section (``Descriptor.Config``) and in :mod:`deeppot.schema.train`, so an input that
omits a key gets the same network DeePMD-kit would build. ``sel: "auto"`` must be resolved
from data before calling :func:`build_model` (see :func:`deeppot.model.stats.auto_sel`).
"""

from __future__ import annotations

from deeppot.core.descriptor import Descriptor, descriptor_class, descriptor_types
from deeppot.core.fitting import EnergyFitting
from deeppot.core.network_io import PRECISION
from deeppot.errors import ConfigError
from deeppot.model.energy_model import EnergyModel


def build_descriptor(section: dict, type_map: list[str]) -> Descriptor:
    """The descriptor of a ``model/descriptor`` section, validated and built by its registered class."""
    kind = section.get("type", "")
    cls = descriptor_class(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ConfigError(f"model.descriptor.type {kind!r} is not supported "
                          f"(supported: {', '.join(descriptor_types())})")
    return cls.from_config(section, list(type_map))


def build_model(section: dict) -> EnergyModel:
    """EnergyModel with random weights from DeePMD-kit's ``model`` keys."""
    type_map = section.get("type_map")
    if not type_map:
        raise ConfigError("model.type_map is required (element symbols, e.g. [\"O\", \"H\"])")
    descriptor = build_descriptor(dict(section.get("descriptor", {})), list(type_map))
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
