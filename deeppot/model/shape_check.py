"""Every array of a model description checked against the shapes its JSON declares, before use.

:func:`check_array_shapes` runs on the dict :func:`deeppot.model.dp_format.read_dp` returns (arrays
already read) and before any tensor is built, so a wrong-shape weight is reported as
``model.fitting.nets.networks[1].layers[0].w: shape (240, 100), expected (1600, 240)`` instead
of torch's "mat1 and mat2 shapes cannot be multiplied" at the first evaluation. It checks
exact shapes (a transposed weight has the right size but not the right shape), the chain of
layer widths of each network, and that the fitting net takes as many inputs as the
descriptor gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deeppot.errors import ModelFileError

#: descriptor type → (columns per neighbour slot in davg/dstd, output width from (neuron, axis_neuron))
SE_LAYOUT = {
    "se_e2_a": (4, lambda d: d["neuron"][-1] * d.get("axis_neuron", 4)),
    "se_a": (4, lambda d: d["neuron"][-1] * d.get("axis_neuron", 4)),
    "se_e2_r": (1, lambda d: d["neuron"][-1]),
    "se_r": (1, lambda d: d["neuron"][-1]),
    "se_e3": (4, lambda d: d["neuron"][-1]),
    "se_at": (4, lambda d: d["neuron"][-1]),
    "se_a_3be": (4, lambda d: d["neuron"][-1]),
}


def _shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(np.shape(value))


def _expect(where: str, key: str, value: Any, shape: tuple[int, ...], size_only: bool = False) -> None:
    got = _shape(value)
    if got is None:
        return
    ok = int(np.prod(got)) == int(np.prod(shape)) if size_only else got == shape
    if not ok:
        raise ModelFileError(f"{where}: {key}: shape {got}, expected {shape} from the model description")


def _network(where: str, key: str, net: Any, dims: list[int]) -> None:
    """Layer k of ``net`` maps dims[k] → dims[k+1] (w (in, out), b and idt (out,))."""
    if net is None or not net.get("layers"):
        return  # DeePMD-kit clears unused nets (se_e3 with a > b)
    layers = net["layers"]
    if len(layers) != len(dims) - 1:
        raise ModelFileError(f"{where}: {key}: {len(layers)} layers, expected {len(dims) - 1} for widths {dims}")
    for k, layer in enumerate(layers):
        var = layer.get("@variables", {})
        lkey = f"{key}.layers[{k}]"
        _expect(where, f"{lkey}.w", var.get("w"), (dims[k], dims[k + 1]))
        for name in ("b", "idt"):
            _expect(where, f"{lkey}.{name}", var.get(name), (dims[k + 1],), size_only=True)


def check_array_shapes(data: dict, where: str) -> None:
    """Raise :class:`ModelFileError` naming the key of the first array whose shape disagrees with the JSON."""
    model = data.get("model", data)
    ntypes = len(model["type_map"])
    desc, fit = model["descriptor"], model["fitting"]
    kind = desc.get("type")
    if kind in SE_LAYOUT:
        ncol, out_dim = SE_LAYOUT[kind]
        dim_out = out_dim(desc)
        nnei = sum(desc["sel"])
        for k, net in enumerate(desc["embeddings"]["networks"]):
            _network(where, f"model.descriptor.embeddings.networks[{k}]", net, [1, *desc["neuron"]])
    elif kind == "loc_frame":
        ncol, nnei = 1, 4 * sum(desc["sel_a"]) + sum(desc["sel_r"])
        dim_out = nnei
    elif kind == "bp":  # one column per symmetry function, the widest centre type (limits._bp_width)
        per_type = [0] * ntypes
        for name in ("g2", "g4", "g5"):
            for row in desc.get(name, []):
                per_type[int(row[0])] += 1
        ncol, nnei = 1, max(per_type)
        dim_out = nnei
    else:
        return  # unknown types are reported by descriptor_from_dict
    for name in ("davg", "dstd"):
        _expect(where, f"model.descriptor.@variables.{name}", desc.get("@variables", {}).get(name),
                (ntypes, nnei * ncol), size_only=True)
    if fit.get("dim_descrpt") != dim_out:
        raise ModelFileError(f"{where}: model.fitting.dim_descrpt: {fit.get('dim_descrpt')}, but the descriptor "
                             f"gives {dim_out} values per atom")
    for k, net in enumerate(fit["nets"]["networks"]):
        _network(where, f"model.fitting.nets.networks[{k}]", net, [dim_out, *fit["neuron"], 1])
    _expect(where, "model.fitting.@variables.bias_atom_e", fit.get("@variables", {}).get("bias_atom_e"),
            (ntypes, 1), size_only=True)
    for name in ("out_bias", "out_std"):
        _expect(where, f"model.@variables.{name}", model.get("@variables", {}).get(name), (1, ntypes, 1),
                size_only=True)
