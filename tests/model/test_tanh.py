"""The networks' tanh (2σ(2z) − 1, for speed) against torch.tanh: values and derivatives to any order."""

import torch

from deeppot.core.network import Layer, tanh, tanh_affine


def test_values_match_torch_tanh_over_the_whole_range():
    f64 = torch.float64
    z = torch.cat([torch.linspace(-40, 40, 20001, dtype=f64), torch.logspace(-300, 0, 301, dtype=f64)])
    with torch.no_grad():
        assert torch.max(torch.abs(tanh(z) - torch.tanh(z))) < 5e-16
    assert torch.max(torch.abs(tanh(z.requires_grad_()) - torch.tanh(z))) < 5e-16
    z32 = z.detach().float()
    assert torch.max(torch.abs(tanh(z32) - torch.tanh(z32))) < 3e-7


def test_first_and_second_derivatives_by_finite_differences():
    gen = torch.Generator().manual_seed(3)
    b = torch.randn(5, dtype=torch.float64, generator=gen, requires_grad=True)
    x = torch.randn(7, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(3, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(tanh_affine, (b, x, w))
    assert torch.autograd.gradgradcheck(tanh_affine, (b, x, w))
    assert torch.autograd.gradgradcheck(tanh, (x,))


def test_layer_equals_the_textbook_formula_with_and_without_grad():
    gen = torch.Generator().manual_seed(4)
    layer = Layer(4, 8, "tanh", resnet=True, use_timestep=True, generator=gen)
    x = torch.randn(6, 4, dtype=torch.float64, generator=gen)
    expected = layer.idt * torch.tanh(x @ layer.w + layer.b) + torch.cat([x, x], dim=1)
    assert torch.allclose(layer(x), expected, rtol=0, atol=1e-15)
    with torch.no_grad():
        assert torch.allclose(layer(x), expected, rtol=0, atol=1e-15)
    x3 = x.reshape(2, 3, 4)  # batched input takes the non-addmm branch
    assert torch.allclose(layer(x3), expected.reshape(2, 3, 8), rtol=0, atol=1e-15)
