"""The training input (DeePMD-kit's ``input.json`` keys) as declared sections.

Defaults are DeePMD-kit's (``deepmd/utils/argcheck.py``), so an input that omits a key trains
the network DeePMD-kit would build. Each descriptor type has its own section: a key that
belongs to another descriptor (``axis_neuron`` for ``se_e2_r``) is an unknown key, and no
default of one type leaks into another.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from deeppot.core.descriptor import descriptor_types
from deeppot.model.limits import MAX_NTYPES
from deeppot.schema.base import NOT_YET, Section, fail, register_union, show
from deeppot.schema.descriptor import ACTIVATION, PRECISION, Neurons, check_precision

Positive = Annotated[float, Field(gt=0)]
#: descriptor types DeePMD-kit has and deeppot does not (yet)
DESCRIPTORS_NOT_YET = ("se_atten", "se_atten_v2", "dpa1", "dpa2", "dpa3", "hybrid", "se_e3_tebd", "se_a_tpe",
                       "se_a_ebd", "se_a_ebd_v2", "se_a_mask", "loc_frame_tebd", "dpa", "se_atten_v2_ebd")
FITTING_NOT_YET = ("dipole", "polar", "dos", "property", "global_polar", "ener_spin", "direct_force_ener")
LOSS_NOT_YET = ("ener_spin", "dos", "tensor", "property", "ener_dipole", "denoise")
MODEL_NOT_YET = ("frozen", "zbl", "pairtab", "linear_ener", "spin", "dipole_charge", "pairwise_dprc")


def _descriptor_union():
    """``model/descriptor``: the union of the registered descriptors' sections, told apart by ``type``."""
    kinds = descriptor_types()
    aliases = {alias: name for name, cls in kinds.items() for alias in cls.aliases}

    def tag(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return "@" + aliases.get(kind, kind) if isinstance(kind, str) else None

    register_union("descriptor type", supported=(*kinds, *aliases), not_yet=DESCRIPTORS_NOT_YET)
    members = tuple(Annotated[cls.Config, Tag("@" + name)] for name, cls in kinds.items())
    return Annotated[Union[members], Discriminator(tag)]  # noqa: UP007 - a runtime-built union


Descriptor = _descriptor_union()


class FittingNet(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"numb_fparam": (0,), "numb_aparam": (0,), "atom_ener": ([],),
                                           "dim_case_embd": (0,), "default_fparam": (None,),
                                           "use_aparam_as_mask": (False,), "layer_name": (None,),
                                           "exclude_types": ([],)}
    type: Literal["ener"] = Field("ener", description="fitting type (only ener: energy model)")
    neuron: Neurons = Field([120, 120, 120], description="fitting net hidden widths")
    resnet_dt: bool = Field(True, description="trainable timestep in residual fitting layers")
    activation_function: ACTIVATION = Field("tanh", description="activation of the fitting net")
    precision: PRECISION = Field("default", description="float64 | float32 | default (= float64)")
    seed: int | None = Field(None, ge=0, description="random seed of the initial weights")
    rcond: float | None = Field(None, ge=0, description="rcond of the least-squares energy bias")
    trainable: bool | list[bool] = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: check_precision(v))

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value in FITTING_NOT_YET:
            raise ValueError(f"{show(value)}: {NOT_YET} (only ener)")
        return value


class Model(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {
        "type_embedding": (), "spin": (None,), "use_srtab": (), "smin_alpha": (), "sw_rmin": (), "sw_rmax": (),
        "modifier": (), "compress": (), "pair_exclude_types": ([],), "atom_exclude_types": ([],),
        "preset_out_bias": (None,), "srtab_add_bias": (True,), "finetune_head": (), "data_bias_nsample": (10,),
    }
    type_map: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=MAX_NTYPES)] = Field(
        description="element symbol of each type, e.g. [\"O\", \"H\"]")
    descriptor: Descriptor = Field(description="descriptor section (type: "
                                   + " | ".join(descriptor_types()) + ")",
                                   json_schema_extra={"type_text": "section"})
    fitting_net: FittingNet = Field(default_factory=FittingNet, description="fitting net section")
    data_stat_nbatch: int = Field(10, ge=1, description="batches per system sampled for statistics")
    data_stat_protect: float = Field(1e-2, gt=0, description="floor of the env-matrix standard deviations")
    type: Literal["standard"] = Field("standard", description="model type (only standard)")

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value in MODEL_NOT_YET:
            raise ValueError(f"{show(value)}: {NOT_YET} (only standard)")
        return value

    @field_validator("type_map", mode="before")
    @classmethod
    def _type_map(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ValueError(f"{show(value)} is not a list of strings (e.g. [\"O\", \"H\"])")
        if len(set(value)) != len(value):
            raise ValueError(f"{show(value)} names a type twice")
        return value

    @model_validator(mode="after")
    def _per_type(self):
        self.descriptor.check_type_map(list(self.type_map))
        return self


class LearningRate(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"stop_ratio": ()}
    type: Literal["exp"] = Field("exp", description="exponential decay (stepped); the only schedule")
    start_lr: Positive = Field(1e-3, description="learning rate at step 0")
    stop_lr: Positive = Field(5e-8, description="learning rate at numb_steps; sets decay_rate unless given")
    decay_steps: int = Field(5000, ge=1, description="steps between decays")
    decay_rate: float | None = Field(None, gt=0, le=1, description="factor per decay; default "
                                     "(stop_lr/start_lr)^(decay_steps/numb_steps)")
    scale_by_worker: Literal["linear", "sqrt", "none"] = Field("linear", description="ignored (accepted for "
                                                                "DeePMD-kit compatibility)")

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value in ("cosine", "const", "wsd"):
            raise ValueError(f"{show(value)}: {NOT_YET} (only exp)")
        return value

    @model_validator(mode="after")
    def _order(self):
        if self.stop_lr > self.start_lr:
            raise fail("stop_lr", f"{show(self.stop_lr)} must be ≤ start_lr {show(self.start_lr)}")
        return self


Pref = Annotated[float, Field(ge=0)]


class Loss(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {
        "start_pref_pf": (0, 0.0), "limit_pref_pf": (0, 0.0), "relative_f": (None,), "start_pref_gf": (0, 0.0),
        "limit_pref_gf": (0, 0.0), "numb_generalized_coord": (0,), "use_l1_all": (False,), "use_huber": (False,),
        "f_use_norm": (False,), "inference": (False,)}
    type: Literal["ener"] = Field("ener", description="energy/force/virial loss (the only loss)")
    start_pref_e: Pref = Field(0.02, description="energy prefactor at the start")
    limit_pref_e: Pref = Field(1.0, description="energy prefactor at the end")
    start_pref_f: Pref = Field(1000.0, description="force prefactor at the start")
    limit_pref_f: Pref = Field(1.0, description="force prefactor at the end")
    start_pref_v: Pref = Field(0.0, description="virial prefactor at the start")
    limit_pref_v: Pref = Field(0.0, description="virial prefactor at the end")
    start_pref_ae: Pref = Field(0.0, description="atomic-energy prefactor at the start")
    limit_pref_ae: Pref = Field(0.0, description="atomic-energy prefactor at the end")
    enable_atom_ener_coeff: bool = Field(False, description="ignored (accepted for DeePMD-kit compatibility)")

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value in LOSS_NOT_YET:
            raise ValueError(f"{show(value)}: {NOT_YET} (only ener)")
        return value

    @model_validator(mode="after")
    def _something(self):
        if not any(getattr(self, f"{s}_pref_{k}") for s in ("start", "limit") for k in ("e", "f", "v", "ae")):
            raise fail("start_pref_e", "every loss prefactor is 0: nothing to train")
        return self


def _check_systems(value: Any) -> Any:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(s, str) and s for s in value):
        return value
    raise ValueError(f"{show(value)}: give a path or a non-empty list of paths")


def _check_batch_size(value: Any) -> Any:
    if type(value) is int:
        if value < 1:
            raise ValueError(f"{value} must be ≥ 1")
        return value
    if isinstance(value, str) and re.fullmatch(r"auto(:[1-9]\d*)?", value):
        return value
    if isinstance(value, list) and value and all(type(b) is int and b >= 1 for b in value):
        return value
    raise ValueError(f"{show(value)}: use an integer ≥ 1, a list of them (one per system), \"auto\" or \"auto:N\"")


AUTO_PROB_BLOCK = re.compile(r"prob_sys_size(;\d+:\d+:[0-9.eE+-]+)+")


def _check_auto_prob(value: Any) -> Any:
    if value in ("prob_sys_size", "prob_uniform"):
        return value
    if isinstance(value, str) and AUTO_PROB_BLOCK.fullmatch(value):
        for block in value.split(";")[1:]:
            start, stop, weight = block.split(":")
            try:
                w = float(weight)
            except ValueError:
                raise ValueError(f"{show(value)}: block {block!r} has a weight that is not a number") from None
            if not int(start) < int(stop) or not w >= 0:
                raise ValueError(f"{show(value)}: block {block!r} needs start < end and weight ≥ 0")
        return value
    raise ValueError(f"{show(value)}: use prob_sys_size, prob_uniform or prob_sys_size;start:end:weight;...")


def _check_sys_probs(value: Any) -> Any:
    if value is None:
        return value
    if (isinstance(value, list) and value and all(type(p) in (int, float) and p >= 0 for p in value)
            and sum(value) > 0):
        return value
    raise ValueError(f"{show(value)}: a list of probabilities ≥ 0 (one per system, not all 0)")


class _Data(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"rglob_patterns": (None,)}
    systems: Any = Field(description="DeePMD systems (dirs, parent dirs, globs) or ASE-readable files; relative "
                         "to the input file", json_schema_extra={"type_text": "str | list[str]"})
    set_prefix: str = Field("set", min_length=1, description="prefix of the set directories (set.000, ...)")
    batch_size: Any = Field("auto", description="frames per batch: int, list per system, \"auto\" (≥32 atoms) or "
                            "\"auto:N\"", json_schema_extra={"type_text": 'int | list[int] | "auto[:N]"'})
    auto_prob: str = Field("prob_sys_size", description="system probability: prob_sys_size (∝ batches), "
                           "prob_uniform, or prob_sys_size;start:end:weight;... blocks")
    sys_probs: Any = Field(None, description="explicit system probabilities (overrides auto_prob)",
                           json_schema_extra={"type_text": "list[float] | null"})

    _v_systems = field_validator("systems", mode="before")(lambda cls, v: _check_systems(v))
    _v_batch = field_validator("batch_size", mode="before")(lambda cls, v: _check_batch_size(v))
    _v_prob = field_validator("auto_prob", mode="before")(lambda cls, v: _check_auto_prob(v))
    _v_sys = field_validator("sys_probs", mode="before")(lambda cls, v: _check_sys_probs(v))


class TrainingData(_Data):
    ALIASES: ClassVar[dict[str, str]] = {"auto_prob_style": "auto_prob"}


class ValidationData(_Data):
    ALIASES: ClassVar[dict[str, str]] = {"auto_prob_style": "auto_prob"}
    numb_btch: int = Field(1, ge=1, description="validation batches per display")


class Training(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {
        "data_dict": (), "model_prob": (), "mixed_precision": (None,), "zero_stage": (0,),
        "change_bias_after_training": (False,), "kf_blocksize": (), "kf_start_pref_e": (), "kf_limit_pref_e": (),
        "kf_start_pref_f": (), "kf_limit_pref_f": (), "warmup_ratio": (), "warmup_start_factor": (0, 0.0)}
    training_data: TrainingData = Field(description="training systems section")
    validation_data: ValidationData | None = Field(None, description="validation systems section (optional)")
    numb_steps: int = Field(ge=1, description="training steps")
    seed: int | None = Field(None, ge=0, description="seed of data sampling")
    disp_file: str = Field("lcurve.out", min_length=1, description="learning-curve file")
    disp_freq: int = Field(1000, ge=1, description="steps between lcurve lines")
    save_freq: int = Field(1000, ge=1, description="steps between checkpoints")
    save_ckpt: str = Field("model.ckpt", min_length=1, description="checkpoint name prefix")
    max_ckpt_keep: int = Field(5, ge=1, description="checkpoints kept")
    stat_file: str | None = Field(None, min_length=1, description="file caching the data statistics")
    disp_training: bool = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")
    time_training: bool = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")
    profiling: bool = Field(False, description="ignored (accepted for DeePMD-kit compatibility)")
    profiling_file: str = Field("timeline.json", description="ignored (accepted for DeePMD-kit compatibility)")
    enable_profiler: bool = Field(False, description="ignored (accepted for DeePMD-kit compatibility)")
    tensorboard: bool = Field(False, description="ignored (accepted for DeePMD-kit compatibility)")
    tensorboard_log_dir: str = Field("log", description="ignored (accepted for DeePMD-kit compatibility)")
    tensorboard_freq: int = Field(1, ge=1, description="ignored (accepted for DeePMD-kit compatibility)")
    gradient_max_norm: float | None = Field(None, gt=0, description="clip the gradient norm (null: no clipping)")
    warmup_steps: int = Field(0, ge=0, description="linear learning-rate warm-up steps (< numb_steps)")
    opt_type: Literal["Adam"] = Field("Adam", description="optimizer (only Adam)")

    @field_validator("opt_type", mode="before")
    @classmethod
    def _opt(cls, value: Any) -> Any:
        if value in ("LKF", "AdamW", "HybridMuon", "Muon"):
            raise ValueError(f"{show(value)}: {NOT_YET} (only Adam)")
        return value

    @model_validator(mode="after")
    def _warmup(self):
        if self.warmup_steps >= self.numb_steps:
            raise fail("warmup_steps", f"{self.warmup_steps} must be < numb_steps {self.numb_steps}")
        return self


class TrainInput(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"nvnmd": (), "model_dict": (), "loss_dict": (), "multi_task": (False,)}
    model: Model = Field(description="model section")
    learning_rate: LearningRate = Field(default_factory=LearningRate, description="learning-rate section")
    loss: Loss = Field(default_factory=Loss, description="loss section")
    training: Training = Field(description="training section")
