"""Dense networks of the Deep Potential family, laid out as DeePMD-kit serialises them.

One layer computes (DeePMD-kit ``NativeLayer``)

.. math:: y = \\mathrm{idt} \\odot \\phi(x W + b) + \\mathrm{skip}(x),

where ``skip(x) = x`` when the layer keeps the width, ``[x, x]`` when it doubles it, and 0
otherwise (only if ``resnet``); ``idt`` (the "timestep") exists only with ``resnet_dt``.
Embedding nets map a scalar to ``neuron[-1]`` channels; fitting nets end with a linear
layer to one output. Keeping DeePMD-kit's parameterisation (``w`` is ``(n_in, n_out)``)
lets a ``.dp`` file load without any reshaping.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class _Tanh(torch.autograd.Function):
    """tanh computed as 2σ(2z) − 1, differentiated as torch's tanh (g·(1 − t²), from the output).

    Why: torch's CPU tanh kernel is 3-5x slower than its logistic-function kernel (measured on
    this project's AVX-512 build: float64 21 ms against 6.7 ms for 2.6 M values, one thread), and
    tanh of the embedding nets is a quarter of a model evaluation. The identity is exact; the
    rounding differs from torch.tanh by at most a few 1e-16 in float64 (1e-7 in float32). The
    backward is torch's own tanh_backward of the saved output, so higher derivatives (forces in
    the loss) work as for torch.tanh.
    """

    @staticmethod
    def forward(ctx, z2):  # z2 = 2z: returns tanh(z2 / 2)
        t = torch.sigmoid(z2).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, t).mul_(0.5)  # t = tanh(z2 / 2)


def tanh(z: torch.Tensor) -> torch.Tensor:
    """tanh z (see :class:`_Tanh` for why not torch.tanh)."""
    return tanh_affine(None, z, None)


def tanh_affine(b: torch.Tensor | None, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """tanh(x W + b) (``w`` None: tanh x), with the factor 2 of 2σ(2z) − 1 folded into the matrix product."""
    if w is None:
        z2 = 2.0 * x
    elif x.dim() == 2:
        z2 = torch.addmm(b, x, w, beta=2.0, alpha=2.0) if b is not None else 2.0 * (x @ w)
    else:
        z2 = 2.0 * (x @ w + b if b is not None else x @ w)
    if torch.is_grad_enabled() and z2.requires_grad:
        return _Tanh.apply(z2)
    return z2.sigmoid_().mul_(2.0).sub_(1.0)


ACTIVATIONS = {
    "tanh": tanh,
    "gelu": nn.functional.gelu,
    "relu": torch.relu,
    "relu6": nn.functional.relu6,
    "softplus": nn.functional.softplus,
    "sigmoid": torch.sigmoid,
    "silu": nn.functional.silu,
    "none": lambda x: x,
    "linear": lambda x: x,
}


class Layer(nn.Module):
    """One dense layer with DeePMD-kit's optional timestep and residual connection."""

    def __init__(self, n_in: int, n_out: int, activation: str = "tanh", resnet: bool = False,
                 use_timestep: bool = False, bias: bool = True, dtype=torch.float64,
                 generator: torch.Generator | None = None, timestep_mean: float = 0.1):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation_function {activation!r}; known: {sorted(ACTIVATIONS)}")
        self.activation = activation
        self.resnet = resnet
        # Initialisation as DeePMD-kit: W ~ N(0, 1/(n_in+n_out)), b ~ N(0, 1), idt ~ N(0.1, 0.001).
        w = torch.randn(n_in, n_out, dtype=dtype, generator=generator) / math.sqrt(n_in + n_out)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.randn(n_out, dtype=dtype, generator=generator)) if bias else None
        self.idt = (nn.Parameter(timestep_mean + 0.001 * torch.randn(n_out, dtype=dtype, generator=generator))
                    if use_timestep else None)
        self.skip = 0
        if resnet and n_out == n_in:
            self.skip = 1
        elif resnet and n_out == 2 * n_in:
            self.skip = 2

    @property
    def n_in(self) -> int:
        return self.w.shape[0]

    @property
    def n_out(self) -> int:
        return self.w.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation == "tanh":
            y = tanh_affine(self.b, x, self.w)
        else:
            if self.b is not None:
                y = torch.addmm(self.b, x, self.w) if x.dim() == 2 else x @ self.w + self.b
            else:
                y = x @ self.w
            y = ACTIVATIONS[self.activation](y)
        if self.idt is not None:
            y = y * self.idt
        if self.skip == 1:
            y = y + x
        elif self.skip == 2:
            # y + [x, x] without materialising the concatenation
            y = (y.unflatten(-1, (2, x.shape[-1])) + x.unsqueeze(-2)).flatten(-2)
        return y


class MLP(nn.Module):
    """A stack of :class:`Layer` (embedding net or fitting net)."""

    def __init__(self, layers: list[Layer]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def _residual_layers(sizes: list[int], activation: str, resnet_dt: bool, dtype,
                     generator: torch.Generator | None) -> list[Layer]:
    """Hidden layers as DeePMD-kit builds them: residual where widths allow, idt only with a skip."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        has_skip = n_out in (n_in, 2 * n_in)
        layers.append(Layer(n_in, n_out, activation, resnet=True, use_timestep=resnet_dt and has_skip,
                            dtype=dtype, generator=generator))
    return layers


def embedding_net(neuron: list[int], activation: str = "tanh", resnet_dt: bool = False,
                  dtype=torch.float64, generator: torch.Generator | None = None, in_dim: int = 1) -> MLP:
    """DeePMD-kit ``EmbeddingNet``: scalar (``in_dim``) → ``neuron[-1]`` channels."""
    return MLP(_residual_layers([in_dim, *neuron], activation, resnet_dt, dtype, generator))


def fitting_net(in_dim: int, neuron: list[int], activation: str = "tanh", resnet_dt: bool = True,
                dtype=torch.float64, generator: torch.Generator | None = None, out_dim: int = 1) -> MLP:
    """DeePMD-kit ``FittingNet``: residual hidden layers + a linear output layer."""
    layers = _residual_layers([in_dim, *neuron], activation, resnet_dt, dtype, generator)
    layers.append(Layer(neuron[-1] if neuron else in_dim, out_dim, "none", resnet=False, dtype=dtype,
                        generator=generator))
    return MLP(layers)
