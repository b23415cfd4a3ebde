"""Sane limits and type checks for model descriptions read from files, before anything is allocated.

A ``.dp`` model or a checkpoint is data from somewhere else. Its JSON decides how large the
tensors deeppot builds are (``sel`` 1e9 would ask for a 128 GB ``davg``), so every number
that sizes an allocation is checked here, with its type, before a model is built or a dataset
read. The bounds are orders of magnitude above any published Deep Potential model.

:func:`check_dp_json` also returns, for every ``"/variable_NNNN"`` reference in the file, the
shape (or the largest element count) the JSON implies, so :mod:`deeppot.model.dp_format` can
refuse a dataset whose HDF5 header disagrees, without reading it.
"""

from __future__ import annotations

import math
from typing import Any

from deeppot.errors import ModelFileError

MAX_NTYPES = 256
MAX_SEL = 10_000  # neighbours of one type within rcut
MAX_NNEI = 20_000  # all neighbour slots
MAX_WIDTH = 8192  # units in one layer
MAX_LAYERS = 32
MAX_RCUT = 100.0  # Å
MAX_PARAMS = 1 << 27  # all declared network weights together (1 GiB as float64)
MAX_OTHER_ELEMENTS = 1 << 24  # any dataset whose shape the JSON does not fix (compression tables)


def _type_name(value: Any) -> str:
    return "null" if value is None else {bool: "boolean", int: "integer", float: "number", str: "string",
                                         list: "array", dict: "object"}.get(type(value), type(value).__name__)


class Checker:
    """Typed access to a JSON tree; errors name the file and the key path."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.where} '{key}': {problem}")

    def obj(self, node: dict, key: str, path: str, required: bool = True) -> dict | None:
        value = node.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.fail(f"{path}.{key}", f"must be an object, got {_type_name(value)}")
        return value

    def integer(self, node: dict, key: str, path: str, lo: int, hi: int, default: int | None = None) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{path}.{key}", f"must be an integer, got {_type_name(value)}")
        if not lo <= value <= hi:
            raise self.fail(f"{path}.{key}", f"{value} is outside [{lo}, {hi}]")
        return value

    def number(self, node: dict, key: str, path: str, lo: float, hi: float, default: float | None = None) -> float:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{path}.{key}", f"must be a number, got {_type_name(value)}")
        if not (math.isfinite(value) and lo <= value <= hi):
            raise self.fail(f"{path}.{key}", f"{value} is outside [{lo}, {hi}]")
        return float(value)

    def flag(self, node: dict, key: str, path: str) -> None:
        if key in node and node[key] is not None and not isinstance(node[key], bool):
            raise self.fail(f"{path}.{key}", f"must be true or false, got {_type_name(node[key])}")

    def text(self, node: dict, key: str, path: str, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or len(value) > 256:
            raise self.fail(f"{path}.{key}", f"must be a (short) string, got {_type_name(value)}")
        return value

    def int_list(self, node: dict, key: str, path: str, lo: int, hi: int, max_len: int,
                 length: int | None = None) -> list[int]:
        value = node.get(key)
        if not isinstance(value, list):
            raise self.fail(f"{path}.{key}", f"must be a list of integers, got {_type_name(value)}")
        if length is not None and len(value) != length:
            raise self.fail(f"{path}.{key}", f"must have {length} entries, has {len(value)}")
        if len(value) > max_len:
            raise self.fail(f"{path}.{key}", f"has {len(value)} entries (at most {max_len})")
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int):
                raise self.fail(f"{path}.{key}", f"must be a list of integers, has {_type_name(v)}")
            if not lo <= v <= hi:
                raise self.fail(f"{path}.{key}", f"entry {v} is outside [{lo}, {hi}]")
        return value

    def type_map(self, node: dict, key: str, path: str) -> list[str]:
        value = node.get(key)
        if not isinstance(value, list) or not value or len(value) > MAX_NTYPES:
            raise self.fail(f"{path}.{key}", f"must be a list of 1 to {MAX_NTYPES} element names")
        if not all(isinstance(v, str) and 0 < len(v) <= 16 for v in value):
            raise self.fail(f"{path}.{key}", "must be a list of short strings")
        return value


def check_sel(c: Checker, desc: dict, path: str, ntypes: int, keys: tuple[str, ...]) -> int:
    total = 0
    for key in keys:
        total += sum(c.int_list(desc, key, path, 0, MAX_SEL, MAX_NTYPES, length=ntypes))
    if total > MAX_NNEI:
        raise c.fail(f"{path}.{'+'.join(keys)}", f"{total} neighbour slots in all (at most {MAX_NNEI})")
    return total


def check_model_config(model: dict, where: str) -> None:
    """The build-time ``model`` section stored in a checkpoint (type_map, descriptor, fitting_net)."""
    c = Checker(where)
    if not isinstance(model, dict):
        raise c.fail("model", f"must be an object, got {_type_name(model)}")
    type_map = c.type_map(model, "type_map", "model")
    ntypes = len(type_map)
    desc = c.obj(model, "descriptor", "model")
    cls = _descriptor_class(c, desc)
    c.number(desc, "rcut", "model.descriptor", 1e-3, MAX_RCUT, default=6.0)
    dim_out, params = cls.config_size(c, desc, type_map)
    fit = c.obj(model, "fitting_net", "model", required=False) or {}
    neuron = [120, 120, 120]
    if "neuron" in fit:
        neuron = c.int_list(fit, "neuron", "model.fitting_net", 1, MAX_WIDTH, MAX_LAYERS)
    dims = [dim_out, *neuron, 1]
    params += ntypes * sum(a * b for a, b in zip(dims, dims[1:]))
    if params > MAX_PARAMS:
        raise c.fail("model", f"declares about {params} network weights (at most {MAX_PARAMS})")


# ----------------------------------------------------------------------------------------
# .dp files
def ref_shape(c: Checker, variables: Any, name: str, path: str, shape: tuple[int, ...] | int,
               out: dict) -> None:
    """Record the shape (tuple) or maximal element count (int) a dataset reference must have."""
    ref = variables.get(name)
    if ref is None:
        return
    if not isinstance(ref, str):
        raise c.fail(f"{path}.@variables.{name}", f"must be a dataset reference, got {_type_name(ref)}")
    previous = out.get(ref)
    if previous is not None and previous != shape:
        raise c.fail(f"{path}.@variables.{name}", f"{ref} is used with two different shapes")
    out[ref] = shape


def _network(c: Checker, net: Any, path: str, in_dim: int | None, out: dict, params: list[int]) -> None:
    if net is None:
        return
    if not isinstance(net, dict):
        raise c.fail(path, f"must be an object, got {_type_name(net)}")
    neuron = c.int_list(net, "neuron", path, 1, MAX_WIDTH, MAX_LAYERS)
    first = c.integer(net, "in_dim", path, 1, MAX_WIDTH * MAX_WIDTH)
    if in_dim is not None and first != in_dim:
        raise c.fail(f"{path}.in_dim", f"{first} does not match the {in_dim} inputs the model feeds it")
    dims = [first, *neuron]
    if "out_dim" in net:
        dims.append(c.integer(net, "out_dim", path, 1, MAX_WIDTH))
    layers = net.get("layers")
    if not isinstance(layers, list):
        raise c.fail(f"{path}.layers", f"must be a list, got {_type_name(layers)}")
    if layers and len(layers) != len(dims) - 1:
        raise c.fail(f"{path}.layers", f"{len(layers)} layers for the {len(dims) - 1} its sizes declare")
    for k, layer in enumerate(layers):
        lpath = f"{path}.layers[{k}]"
        if not isinstance(layer, dict):
            raise c.fail(lpath, f"must be an object, got {_type_name(layer)}")
        for key in ("resnet", "bias", "use_timestep"):
            c.flag(layer, key, lpath)
        c.text(layer, "activation_function", lpath, required=False)
        var = c.obj(layer, "@variables", lpath)
        if var.get("w") is None:
            raise c.fail(f"{lpath}.@variables.w", "missing")
        params.append(dims[k] * dims[k + 1])
        ref_shape(c, var, "w", lpath, (dims[k], dims[k + 1]), out)
        for name in ("b", "idt"):
            ref_shape(c, var, name, lpath, (dims[k + 1],), out)


def check_collection(c: Checker, node: dict, key: str, path: str, max_nets: int, in_dim: int | None, out: dict,
                params: list[int]) -> None:
    coll = c.obj(node, key, path)
    nets = coll.get("networks")
    if not isinstance(nets, list) or len(nets) > max_nets:
        raise c.fail(f"{path}.{key}.networks", f"must be a list of at most {max_nets} networks")
    for k, net in enumerate(nets):
        _network(c, net, f"{path}.{key}.networks[{k}]", in_dim, out, params)


def _descriptor_class(c: Checker, desc: dict):
    from deeppot.core.descriptor import DESCRIPTORS, descriptor_types

    kind = c.text(desc, "type", "model.descriptor")
    if kind not in DESCRIPTORS:
        raise ModelFileError(f"{c.where}: descriptor type {kind!r} is not supported "
                             f"(supported: {', '.join(descriptor_types())})")
    return DESCRIPTORS[kind]


def _descriptor(c: Checker, desc: dict, ntypes: int, out: dict, params: list[int]) -> None:
    """Check the descriptor section: the common keys here, the rest by the descriptor's own class."""
    cls = _descriptor_class(c, desc)
    c.text(desc, "precision", "model.descriptor", required=False)
    cls.check_file_section(c, desc, ntypes, out, params)


def _fitting(c: Checker, fit: dict, ntypes: int, out: dict, params: list[int]) -> None:
    path = "model.fitting"
    c.text(fit, "type", path)
    dim = c.integer(fit, "dim_descrpt", path, 1, MAX_WIDTH * MAX_WIDTH)
    c.int_list(fit, "neuron", path, 1, MAX_WIDTH, MAX_LAYERS)
    for key in ("numb_fparam", "numb_aparam", "dim_case_embd"):
        c.integer(fit, key, path, 0, MAX_WIDTH, default=0)
    c.flag(fit, "resnet_dt", path)
    c.flag(fit, "mixed_types", path)
    c.text(fit, "activation_function", path, required=False)
    check_collection(c, fit, "nets", path, ntypes, dim, out, params)
    var = c.obj(fit, "@variables", path)
    ref_shape(c, var, "bias_atom_e", path, ntypes, out)
    for name in var:
        if name != "bias_atom_e":
            ref_shape(c, var, name, path, MAX_WIDTH, out)


def check_dp_json(data: Any, where: str) -> dict[str, tuple[int, ...] | int]:
    """Check a ``.dp`` file's JSON; return each dataset reference's shape (tuple) or size bound (int).

    Raises :class:`ModelFileError` naming the key for a wrong type, an out-of-range number, or
    networks whose weights together exceed :data:`MAX_PARAMS`.
    """
    c = Checker(where)
    if not isinstance(data, dict):
        raise c.fail("(top)", f"must be an object, got {_type_name(data)}")
    model = data.get("model", data)
    if not isinstance(model, dict):
        raise c.fail("model", f"must be an object, got {_type_name(model)}")
    if model.get("type", "standard") != "standard":
        raise c.fail("model.type", f"{model.get('type')!r} is not supported (only standard energy models)")
    ntypes = len(c.type_map(model, "type_map", "model"))
    out: dict[str, tuple[int, ...] | int] = {}
    params: list[int] = []
    _descriptor(c, c.obj(model, "descriptor", "model"), ntypes, out, params)
    _fitting(c, c.obj(model, "fitting", "model"), ntypes, out, params)
    if sum(params) > MAX_PARAMS:
        raise c.fail("model", f"declares {sum(params)} network weights (at most {MAX_PARAMS})")
    var = c.obj(model, "@variables", "model", required=False) or {}
    for name in var:
        ref_shape(c, var, name, "model", (1, ntypes, 1), out)
    top = c.obj(data, "@variables", "(top)", required=False) or {}
    for name in top:
        ref_shape(c, top, name, "(top)", 1, out)
    compress = c.obj(data, "deeppot_compress", "(top)", required=False)
    if compress is not None:
        info = c.obj(compress, "info", "deeppot_compress")
        lower = c.number(info, "lower", "deeppot_compress.info", -1e6, 1e6)
        upper = c.number(info, "upper", "deeppot_compress.info", lower, 1e6)
        step = c.number(info, "step", "deeppot_compress.info", 1e-9, 1e6)
        if (upper - lower) / step > 1e7:
            raise c.fail("deeppot_compress.info", "tables of more than 1e7 knots")
        cvar = c.obj(compress, "@variables", "deeppot_compress")
        for name in cvar:
            ref_shape(c, cvar, name, "deeppot_compress", MAX_OTHER_ELEMENTS, out)
    return out
