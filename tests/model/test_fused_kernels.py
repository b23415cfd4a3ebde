"""The fused training kernels of se_e2_a equal plain autograd (values and every gradient).

``core/embed_tangent.py`` (embedding net with its tangent, hand-written backward) and
``core/contract.py`` (contractions from deduplicated rows, hand-written backward) are checked here
piece by piece against the same quantities formed with ordinary torch operations and autograd;
the whole model path is checked by ``test_model_contract.py`` (explicit == autograd, fd forces).
Deliberate bugs caught (edited in, never committed): the tangent term of z̄ halved in the backward
kernel (11 of these tests fail), the doubling residual reduced from one half only (9 fail), the
second thread's scatter buffer not summed (the two-thread gradcheck fails).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deeppot.core import contract, embed_tangent
from deeppot.core import threads as kernel_threads
from deeppot.core.network import embedding_net

NETS = [([25, 50, 100], False), ([4, 8, 16], True), ([3, 3, 6], True), ([5], False), ([2, 4], True)]


def _reference(net, s):
    """[G; G'] by autograd: G = net(s), G' = dG/ds column by column (create_graph for the weights)."""
    s = s.detach().clone().requires_grad_(True)
    g = net(s)
    gp = torch.stack([torch.autograd.grad(g[:, m].sum(), s, create_graph=True)[0][:, 0]
                      for m in range(g.shape[1])], dim=1)
    return torch.cat([g, gp])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("neuron", "resnet_dt"), NETS)
def test_embedding_tangent_equals_autograd(neuron, resnet_dt, threads, monkeypatch):
    monkeypatch.setattr(kernel_threads, "KERNEL_THREADS", threads)
    gen = torch.Generator().manual_seed(3)
    net = embedding_net(neuron, resnet_dt=resnet_dt, dtype=torch.float64, generator=gen)
    s = torch.randn(41, 1, dtype=torch.float64, generator=gen)
    ref = _reference(net, s)
    got = embed_tangent.value_and_tangent(net, s)
    assert got.shape == ref.shape
    assert torch.allclose(got, ref, rtol=0, atol=1e-13)
    weights = torch.randn(ref.shape, dtype=torch.float64, generator=gen)
    params = embed_tangent.params(net)
    g_ref = torch.autograd.grad((ref * weights).sum() + (ref**2).sum(), params)
    g_got = torch.autograd.grad((got * weights).sum() + (got**2).sum(), params)
    for a, b in zip(g_ref, g_got):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-11)


def test_embedding_tangent_input_gradient():
    net = embedding_net([3, 6], resnet_dt=True, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    s = torch.randn(6, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: embed_tangent.value_and_tangent(net, x), (s,))


@pytest.fixture
def block():
    gen = torch.Generator().manual_seed(5)
    n, w, rows, m = 6, 9, 11, 7
    both = torch.randn(2 * rows, m, dtype=torch.float64, generator=gen, requires_grad=True)
    slot = torch.randint(0, rows, (n, w), generator=gen)
    rt = torch.randn(n, w, 4, dtype=torch.float64, generator=gen)
    a = torch.randn(n, m, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    return both, slot, rt, a, rows


@pytest.mark.parametrize("threads", [1, 2])
def test_contractions_equal_gathered_products(block, threads, monkeypatch):
    monkeypatch.setattr(kernel_threads, "KERNEL_THREADS", threads)
    both, slot, rt, a, rows = block
    g, gp = both[:rows][slot], both[rows:][slot]
    assert torch.allclose(contract.contract_t(both, slot, rt), torch.einsum("nwm,nwc->nmc", g, rt), atol=1e-13)
    g_rt, g_hat = contract.contract_force(both, slot, rt, a)
    assert torch.allclose(g_rt, torch.einsum("nwm,nmc->nwc", g, a), atol=1e-13)
    assert torch.allclose(g_hat[..., 0], torch.einsum("nwm,nmc,nwc->nw", gp, a, rt), atol=1e-13)
    assert torch.autograd.gradcheck(lambda b: contract.contract_t(b, slot, rt), (both,))
    assert torch.autograd.gradcheck(lambda b, x: contract.contract_force(b, slot, rt, x), (both, a))


def test_distinct_rows_of_a_water_frame():
    """Same-type pairs share one row (i→j and j→i give the same ŝ); every slot maps back to its value."""
    from deeppot.core import explicit
    from deeppot.model.build import build_model
    from deeppot.testing import water_cluster

    coord, atype = water_cluster(n_molecules=12, seed=0, box_A=7.0)
    box = np.eye(3) * 7.0
    model = build_model({"type_map": ["O", "H"], "descriptor": {"type": "se_e2_a", "rcut": 4.0, "rcut_smth": 0.5,
                                                                "sel": [20, 40], "neuron": [4, 8],
                                                                "type_one_side": True},
                         "fitting_net": {"neuron": [8]}})
    pf = explicit.pad_frames(model, [explicit.frame_edges(model, coord, box, atype)], atype)
    for blk in pf.blocks:
        r = torch.linalg.norm(blk.rij, dim=-1)
        values, slot = contract.distinct(r)
        assert torch.equal(values[slot, 0], r)
        same_type = pf.atype[blk.rows] == blk.tj  # centres of the neighbour's type
        real = r < model.rcut
        n_same = int((real & same_type.unsqueeze(1)).sum())
        assert n_same % 2 == 0 and n_same > 0
        # each same-type pair counted once, each other pair once, and one value for all fillers
        assert values.shape[0] <= int((real & ~same_type.unsqueeze(1)).sum()) + n_same // 2 + 1


def test_force_and_virial_loss_gradient_equals_autograd():
    """The weight gradient of a force + virial loss through the hand-written path (edge scatter and
    its gather backward included) equals autograd's double backward, float64."""
    from deeppot.core import explicit
    from deeppot.model.build import build_model
    from deeppot.testing import water_cluster

    coord, atype = water_cluster(n_molecules=10, seed=1, box_A=7.0)
    box = np.eye(3) * 7.0
    model = build_model({"type_map": ["O", "H"], "descriptor": {"type": "se_e2_a", "rcut": 4.0, "rcut_smth": 0.5,
                                                                "sel": [20, 40], "neuron": [4, 8], "axis_neuron": 2,
                                                                "type_one_side": False, "seed": 2},
                         "fitting_net": {"neuron": [8, 8], "seed": 3}})
    gen = torch.Generator().manual_seed(4)
    a_f = torch.randn(len(atype), 3, dtype=torch.float64, generator=gen)
    a_v = torch.randn(1, 3, 3, dtype=torch.float64, generator=gen)
    pf = explicit.pad_frames(model, [explicit.frame_edges(model, coord, box, atype)], atype)

    def loss(out):
        return (out["force"].view(-1, 3) * a_f).sum() + (out["virial"].view(1, 3, 3) * a_v).sum() + out["energy"].sum()

    batch, foa = model.make_batch(torch.as_tensor(coord).view(1, -1, 3), torch.as_tensor(atype)[None],
                                  torch.as_tensor(box).view(1, 3, 3))
    params = list(model.parameters())
    fast = torch.autograd.grad(loss(explicit.evaluate(model, pf)), params)
    slow = torch.autograd.grad(loss(model.evaluate(batch, foa, 1, create_graph=True)), params)
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
