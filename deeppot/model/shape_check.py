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


def _shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(np.shape(value))


def expect_shape(where: str, key: str, value: Any, shape: tuple[int, ...], size_only: bool = False) -> None:
    got = _shape(value)
    if got is None:
        return
    ok = int(np.prod(got)) == int(np.prod(shape)) if size_only else got == shape
    if not ok:
        raise ModelFileError(f"{where}: {key}: shape {got}, expected {shape} from the model description")


def check_network(where: str, key: str, net: Any, dims: list[int]) -> None:
    """Layer k of ``net`` maps dims[k] → dims[k+1] (w (in, out), b and idt (out,))."""
    if net is None or not net.get("layers"):
        return  # DeePMD-kit clears unused nets (se_e3 with a > b)
    layers = net["layers"]
    if len(layers) != len(dims) - 1:
        raise ModelFileError(f"{where}: {key}: {len(layers)} layers, expected {len(dims) - 1} for widths {dims}")
    for k, layer in enumerate(layers):
        var = layer.get("@variables", {})
        lkey = f"{key}.layers[{k}]"
        expect_shape(where, f"{lkey}.w", var.get("w"), (dims[k], dims[k + 1]))
        for name in ("b", "idt"):
            expect_shape(where, f"{lkey}.{name}", var.get(name), (dims[k + 1],), size_only=True)


def check_array_shapes(data: dict, where: str) -> None:
    """Raise :class:`ModelFileError` naming the key of the first array whose shape disagrees with the JSON."""
    model = data.get("model", data)
    ntypes = len(model["type_map"])
    desc, fit = model["descriptor"], model["fitting"]
    from deeppot.core.descriptor import DESCRIPTORS

    cls = DESCRIPTORS.get(desc.get("type"))
    if cls is None:
        return  # unknown types are reported by the loader
    dim_out = cls.check_arrays(desc, ntypes, where)
    if fit.get("dim_descrpt") != dim_out:
        raise ModelFileError(f"{where}: model.fitting.dim_descrpt: {fit.get('dim_descrpt')}, but the descriptor "
                             f"gives {dim_out} values per atom")
    for k, net in enumerate(fit["nets"]["networks"]):
        check_network(where, f"model.fitting.nets.networks[{k}]", net, [dim_out, *fit["neuron"], 1])
    expect_shape(where, "model.fitting.@variables.bias_atom_e", fit.get("@variables", {}).get("bias_atom_e"),
            (ntypes, 1), size_only=True)
    for name in ("out_bias", "out_std"):
        expect_shape(where, f"model.@variables.{name}", model.get("@variables", {}).get(name), (1, ntypes, 1),
                size_only=True)
