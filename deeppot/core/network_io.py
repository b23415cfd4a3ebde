"""Networks as DeePMD-kit serialises them (``Layer``, ``EmbeddingNetwork``, ``FittingNetwork`` dicts).

Shared by the descriptors' and the fitting's parts of a ``.dp`` file; arrays are numpy.
"""

from __future__ import annotations

import numpy as np
import torch

from deeppot.core.network import MLP, Layer
from deeppot.errors import ModelFileError

#: the ``precision`` key of inputs and model files → torch dtype
PRECISION = {"float64": torch.float64, "float32": torch.float32, "default": torch.float64}


def dtype_of(precision: str | None) -> torch.dtype:
    """The dtype of a ``precision`` value (float64 when absent or unknown, as DeePMD-kit's files)."""
    return PRECISION.get(precision or "default", torch.float64)


def precision_name(dtype: torch.dtype) -> str:
    return "float64" if dtype == torch.float64 else "float32"


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def layer_to_dict(layer: Layer) -> dict:
    return {
        "@class": "Layer", "@version": 2, "bias": layer.b is not None,
        "use_timestep": layer.idt is not None, "activation_function": layer.activation,
        "resnet": layer.resnet, "precision": precision_name(layer.w.dtype), "trainable": True,
        "@variables": {"w": as_numpy(layer.w), "b": None if layer.b is None else as_numpy(layer.b),
                       "idt": None if layer.idt is None else as_numpy(layer.idt)},
    }


def embedding_net_to_dict(net: MLP, neuron: list[int], activation: str, resnet_dt: bool) -> dict:
    return {"@class": "EmbeddingNetwork", "@version": 2, "in_dim": net.layers[0].n_in, "neuron": list(neuron),
            "activation_function": activation, "resnet_dt": resnet_dt, "bias": True,
            "precision": precision_name(net.layers[0].w.dtype),
            "layers": [layer_to_dict(layer) for layer in net.layers]}


def fitting_net_to_dict(net: MLP, neuron: list[int], activation: str, resnet_dt: bool) -> dict:
    return {"@class": "FittingNetwork", "@version": 1, "in_dim": net.layers[0].n_in, "out_dim": 1,
            "neuron": list(neuron), "activation_function": activation, "resnet_dt": resnet_dt,
            "precision": precision_name(net.layers[0].w.dtype), "bias_out": True,
            "layers": [layer_to_dict(layer) for layer in net.layers]}


def layer_from_dict(d: dict, dtype) -> Layer:
    var = d["@variables"]
    w = torch.as_tensor(var["w"], dtype=dtype)
    layer = Layer(w.shape[0], w.shape[1], d.get("activation_function", "tanh"), resnet=d.get("resnet", False),
                  use_timestep=var.get("idt") is not None, bias=var.get("b") is not None, dtype=dtype)
    with torch.no_grad():
        layer.w.copy_(w)
        if layer.b is not None:
            layer.b.copy_(torch.as_tensor(var["b"], dtype=dtype).reshape(-1))
        if layer.idt is not None:
            layer.idt.copy_(torch.as_tensor(var["idt"], dtype=dtype).reshape(-1))
    return layer


def net_from_dict(d: dict, dtype) -> MLP:
    return MLP([layer_from_dict(layer, dtype) for layer in d["layers"]])


def load_nets(collection: dict, target: torch.nn.ModuleList, dtype, where: str) -> None:
    """Replace the networks of ``target`` by those of a ``NetworkCollection`` dict."""
    nets = collection["networks"]
    if len(nets) != len(target):
        raise ModelFileError(f"{where}: expected {len(target)} networks, found {len(nets)}")
    for k, net in enumerate(nets):
        if net is None or not net.get("layers"):
            continue  # DeePMD-kit clears unused nets (se_e3 with a > b)
        target[k] = net_from_dict(net, dtype)
