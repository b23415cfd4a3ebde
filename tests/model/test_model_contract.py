"""Every registered descriptor, a compressed model and float32 models keep the physics contract.

The descriptor kinds come from the registry (``deeppot.core.descriptor.DESCRIPTORS`` minus the
DeePMD-kit aliases), so a new descriptor gets every test of :class:`ModelContractMixin` by
registration: it is built from :data:`GENERIC` (the keys all ``se_*`` descriptors take) unless
:data:`VARIANTS` gives it its own small sections. One test class per (kind, precision), generated below.

Each tolerance of ``model_contract`` was checked against deliberate bugs (monkeypatched, never committed):
the switching function's derivative dropped from autograd (fails fd forces of se_e2_r/se_e3 and fd virial and
explicit == autograd of every se_* class, float64 and float32), a hard cutoff instead of the switch (fails
smoothness of every se_* class), the virial's sign flipped (fails fd virial and lower == global everywhere),
weights rounded to float32 on save (fails frozen == eager of every float64 class).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from model_contract import RCUT, TOLERANCES, TYPE_MAP, ModelContractMixin

from deeppot.core.descriptor import descriptor_types
from deeppot.model.build import build_model
from deeppot.model.compress import compress_model
from deeppot.model.stats import StatFrames, compute_input_stats
from deeppot.testing import water_cluster

#: descriptor types as registered (aliases such as se_a → se_e2_a dropped)
REGISTERED = sorted(descriptor_types())

#: small sections for a registered type without its own entry in VARIANTS
GENERIC = {"rcut": RCUT, "rcut_smth": 1.0, "sel": [12, 24], "neuron": [4, 8], "seed": 1}
WATER_RULE = [0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]  # loc_frame: O: two nearest H; H: nearest O, nearest H
VARIANTS = {
    "se_e2_a": {"one_side": GENERIC | {"axis_neuron": 3, "type_one_side": True},
                "two_side": GENERIC | {"axis_neuron": 3, "type_one_side": False, "resnet_dt": True}},
    "se_e3": {"": GENERIC | {"neuron": [2, 4]}},
    "loc_frame": {"": {"rcut": RCUT, "sel_a": [4, 8], "sel_r": [8, 16], "axis_rule": WATER_RULE}},
    # Behler-Parrinello: a small default grid, and a shorter angular cutoff so that both cutoffs are exercised
    "bp": {"": {"rcut": RCUT, "sel": [12, 24], "n_radial": 4, "rcut_ang": 3.0}},
}


#: descriptors whose energy jumps at rcut by construction: the original DP has no switching function
#: (Zhang et al., PRL 120, 143001 (2018), doi:10.1103/PhysRevLett.120.143001)
HARD_CUTOFF = {"loc_frame"}
#: descriptors whose cutoff function is only C¹: Behler's cosine f_c has zero value and slope at rcut but
#: curvature π²/(2 rcut²), so forces at rcut ± 1e-6 Å differ by ~1e-6 × curvature (bp measured 1.2e-8
#: relative); continuous, and a hard cutoff still fails by orders of magnitude (DeePMD's switch is C²: 3e-15)
C1_CUTOFF_SMOOTH_TOL = {"bp": 1e-7}
#: the CLI test trains on examples/water/data (up to 15 O and 26 H neighbours within 4 Å)
CLI_SEL = {"sel": [20, 40], "sel_r": [16, 32]}


def variants() -> dict[str, dict]:
    """``name → descriptor section`` for every registered descriptor type."""
    out = {}
    for kind in REGISTERED:
        for suffix, section in VARIANTS.get(kind, {"": GENERIC}).items():
            out[f"{kind}_{suffix}" if suffix else kind] = {"type": kind} | section
    return out


def make_model(descriptor: dict, precision: str = "float64", compress: bool = False):
    desc = dict(descriptor, precision=precision)
    model = build_model({"type_map": TYPE_MAP, "descriptor": desc,
                         "fitting_net": {"neuron": [8, 8], "seed": 2, "precision": precision}})
    pos, types = water_cluster(8, seed=3)
    compute_input_stats(model, [StatFrames(pos[None], types, np.eye(3)[None] * 7.0, np.array([-10.0]))])
    if compress:
        # 0.8 Å: below every distance of the contract's systems (O-H ≈ 0.96 Å); tables cover [0.8 Å, rcut]
        compress_model(model, 0.8)
    return model


def contract_class(name: str, descriptor: dict, precision: str, compress: bool = False) -> type:
    def model(self):
        return make_model(descriptor, precision, compress)

    def tol(self, model):
        base = TOLERANCES[model.dtype]
        smooth = C1_CUTOFF_SMOOTH_TOL.get(descriptor["type"], 0.0)
        return dataclasses.replace(base, smooth=max(base.smooth, smooth))

    def cli_descriptor(self):
        # the CLI path is the same for every precision and for compression: trained once per kind
        if precision != "float64" or compress:
            return None
        return descriptor | {k: v for k, v in CLI_SEL.items() if k in descriptor}

    title = "".join(part.capitalize() for part in name.split("_"))
    return type(f"Test{title}{'Compressed' if compress else ''}{precision.capitalize()}", (ModelContractMixin,),
                {"model": pytest.fixture(model), "cli_descriptor": pytest.fixture(cli_descriptor),
                 "tol": pytest.fixture(tol),
                 "smooth_at_rcut": descriptor["type"] not in HARD_CUTOFF,
                 "__doc__": f"{name} ({precision}{', compressed' if compress else ''})"})


for _name, _descriptor in variants().items():
    for _precision in ("float64", "float32"):
        _cls = contract_class(_name, _descriptor, _precision)
        globals()[_cls.__name__] = _cls
for _name in ("se_e2_a_one_side", "se_e2_a_two_side"):
    _cls = contract_class(_name, variants()[_name], "float64", compress=True)
    globals()[_cls.__name__] = _cls


def test_registry_is_covered():
    """The classes above follow the registry (a stale VARIANTS entry would silently test nothing)."""
    assert set(VARIANTS) <= set(REGISTERED)
    assert {"se_e2_a", "se_e2_r", "se_e3", "loc_frame", "bp"} <= set(REGISTERED)
