"""Field types shared by descriptor sections, and the section of the DeepPot-SE family.

Each descriptor module declares its own input section (``Config``) from these pieces; the
training input's ``model/descriptor`` is the union of the registered sections
(:mod:`deeppot.core.descriptor.registry`), so a key of one descriptor type (``axis_neuron``)
is an unknown key for another, and no default leaks between types.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from deeppot.model.limits import MAX_LAYERS, MAX_NNEI, MAX_RCUT, MAX_SEL, MAX_WIDTH
from deeppot.schema.base import NOT_YET, Section, fail, show

ACTIVATION = Literal["tanh", "gelu", "relu", "relu6", "softplus", "sigmoid", "silu", "linear", "none"]
PRECISION = Literal["default", "float64", "float32"]
PRECISION_NOT_YET = ("float16", "bfloat16", "half")
# upper bounds: those of model files (deeppot.model.limits), far above any published model
Cutoff = Annotated[float, Field(gt=0, le=MAX_RCUT)]
Neurons = Annotated[list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]], Field(min_length=1, max_length=MAX_LAYERS)]


def check_precision(value: Any) -> Any:
    if value in PRECISION_NOT_YET:
        raise ValueError(f"{show(value)}: {NOT_YET} (float64, float32, default)")
    return value


def check_sel_value(value: Any) -> Any:
    """``sel``: a list of integers (one per type), ``"auto"`` or ``"auto:F"`` (F ≥ 1)."""
    if isinstance(value, str):
        if re.fullmatch(r"auto(:\d+(\.\d*)?)?", value) and (":" not in value or float(value[5:]) >= 1):
            return value
        raise ValueError(f"{show(value)}: use a list of integers, \"auto\" or \"auto:F\" (F ≥ 1, e.g. auto:1.1)")
    if not isinstance(value, list) or not value or not all(type(s) is int and s >= 0 for s in value):
        raise ValueError(f"{show(value)} is not a list of integers ≥ 0")
    if sum(value) == 0:
        raise ValueError(f"{show(value)}: at least one neighbour slot is needed")
    if max(value) > MAX_SEL or sum(value) > MAX_NNEI:
        raise ValueError(f"{show(value)}: at most {MAX_SEL} per type and {MAX_NNEI} in all")
    return value


class DescriptorSection(Section):
    """Base of every descriptor section.

    ``PER_TYPE`` names the list keys that hold a fixed number of entries per element of
    ``type_map`` (``{"sel": 1}``; loc_frame's ``axis_rule`` has 6); the model section checks
    them against ``type_map``. ``SEL_FROM_DATA`` says whether ``sel`` may be ``"auto"``
    (resolved from neighbour statistics of the training data).
    """

    PER_TYPE: ClassVar[dict[str, int]] = {}
    SEL_FROM_DATA: ClassVar[bool] = False
    precision: PRECISION = Field("default", description="float64 | float32 | default (= float64)")
    seed: int | None = Field(None, ge=0, description="random seed of the initial weights")
    trainable: bool = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: check_precision(v))

    def check_type_map(self, type_map: list[str]) -> None:
        """Relations to the model's ``type_map`` (raise :func:`~deeppot.schema.base.fail` with ``descriptor/key``).

        By default: the ``PER_TYPE`` lists hold their number of entries per element.
        """
        ntypes = len(type_map)
        for key, per_type in self.PER_TYPE.items():
            value = getattr(self, key)
            if not isinstance(value, list) or len(value) == per_type * ntypes:
                continue
            if per_type == 1:
                raise fail(f"descriptor/{key}", f"{show(value)} has {len(value)} entries but type_map has "
                                                f"{ntypes} ({show(type_map)})")
            raise fail(f"descriptor/{key}", f"has {len(value)} entries; {per_type} per type "
                                            f"({per_type * ntypes}) needed")


class SeSection(DescriptorSection):
    """Keys of the smooth-edition (DeepPot-SE) descriptors, with DeePMD-kit's defaults."""

    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],), "spin": (None,), "tebd_input_mode": ("concat",),
                                           "type_map": (), "stripped_type_embedding": (False,)}
    PER_TYPE: ClassVar[dict[str, int]] = {"sel": 1}
    SEL_FROM_DATA: ClassVar[bool] = True
    sel: Any = Field("auto", description="max neighbours per type within rcut (list, one per type_map entry), "
                     "or \"auto\" / \"auto:F\" (from the training data, times F, default 1.1)",
                     json_schema_extra={"type_text": 'list[int] | "auto" | "auto:F"'})
    rcut: Cutoff = Field(6.0, description="cutoff radius, Å")
    rcut_smth: float = Field(0.5, ge=0, description="where the smooth switch starts, Å (0 ≤ rcut_smth < rcut)")
    neuron: Neurons = Field([10, 20, 40], description="embedding net widths")
    resnet_dt: bool = Field(False, description="trainable timestep in residual embedding layers")
    activation_function: ACTIVATION = Field("tanh", description="activation of the embedding net")
    set_davg_zero: bool = Field(False, description="force the env-matrix mean to zero")
    env_protection: float = Field(0.0, ge=0, description="added to r in 1/r terms (numerical protection)")

    _sel = field_validator("sel", mode="before")(lambda cls, v: check_sel_value(v))

    @model_validator(mode="after")
    def _relations(self):
        if self.rcut_smth >= self.rcut:
            raise fail("rcut_smth", f"{show(self.rcut_smth)} must be < rcut {show(self.rcut)}")
        return self
