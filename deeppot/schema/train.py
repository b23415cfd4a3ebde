"""The training input (DeePMD-kit's ``input.json`` keys) as declared sections.

Defaults are DeePMD-kit's (``deepmd/utils/argcheck.py``), so an input that omits a key trains
the network DeePMD-kit would build. Each descriptor type has its own section: a key that
belongs to another descriptor (``axis_neuron`` for ``se_e2_r``) is an unknown key, and no
default of one type leaks into another.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from deeppot.model.limits import MAX_LAYERS, MAX_NNEI, MAX_NTYPES, MAX_RCUT, MAX_SEL, MAX_WIDTH
from deeppot.schema.base import NOT_YET, Section, fail, register_union, show

ACTIVATION = Literal["tanh", "gelu", "relu", "relu6", "softplus", "sigmoid", "silu", "linear", "none"]
PRECISION = Literal["default", "float64", "float32"]
PRECISION_NOT_YET = ("float16", "bfloat16", "half")
Positive = Annotated[float, Field(gt=0)]
# upper bounds: those of model files (deeppot.model.limits), far above any published model
Cutoff = Annotated[float, Field(gt=0, le=MAX_RCUT)]
Neurons = Annotated[list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]], Field(min_length=1, max_length=MAX_LAYERS)]

#: descriptor types DeePMD-kit has and deeppot does not (yet)
DESCRIPTORS_NOT_YET = ("se_atten", "se_atten_v2", "dpa1", "dpa2", "dpa3", "hybrid", "se_e3_tebd", "se_a_tpe",
                       "se_a_ebd", "se_a_ebd_v2", "se_a_mask", "loc_frame_tebd", "dpa", "se_atten_v2_ebd")
DESCRIPTOR_ALIASES = {"se_a": "se_e2_a", "se_r": "se_e2_r", "se_at": "se_e3", "se_a_3be": "se_e3", "se_t": "se_e3"}
FITTING_NOT_YET = ("dipole", "polar", "dos", "property", "global_polar", "ener_spin", "direct_force_ener")
LOSS_NOT_YET = ("ener_spin", "dos", "tensor", "property", "ener_dipole", "denoise")
MODEL_NOT_YET = ("frozen", "zbl", "pairtab", "linear_ener", "spin", "dipole_charge", "pairwise_dprc")


def _check_precision(value: Any) -> Any:
    if value in PRECISION_NOT_YET:
        raise ValueError(f"{show(value)}: {NOT_YET} (float64, float32, default)")
    return value


def _check_sel(value: Any) -> Any:
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


class _SeBase(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],), "spin": (None,), "tebd_input_mode": ("concat",),
                                           "type_map": (), "stripped_type_embedding": (False,)}
    sel: Any = Field("auto", description="max neighbours per type within rcut (list, one per type_map entry), "
                     "or \"auto\" / \"auto:F\" (from the training data, times F, default 1.1)",
                     json_schema_extra={"type_text": 'list[int] | "auto" | "auto:F"'})
    rcut: Cutoff = Field(6.0, description="cutoff radius, Å")
    rcut_smth: float = Field(0.5, ge=0, description="where the smooth switch starts, Å (0 ≤ rcut_smth < rcut)")
    neuron: Neurons = Field([10, 20, 40], description="embedding net widths")
    resnet_dt: bool = Field(False, description="trainable timestep in residual embedding layers")
    activation_function: ACTIVATION = Field("tanh", description="activation of the embedding net")
    precision: PRECISION = Field("default", description="float64 | float32 | default (= float64)")
    seed: int | None = Field(None, ge=0, description="random seed of the initial weights")
    set_davg_zero: bool = Field(False, description="force the env-matrix mean to zero")
    env_protection: float = Field(0.0, ge=0, description="added to r in 1/r terms (numerical protection)")
    trainable: bool = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: _check_precision(v))

    _sel = field_validator("sel", mode="before")(lambda cls, v: _check_sel(v))

    @model_validator(mode="after")
    def _relations(self):
        if self.rcut_smth >= self.rcut:
            raise fail("rcut_smth", f"{show(self.rcut_smth)} must be < rcut {show(self.rcut)}")
        return self


class SeE2A(_SeBase):
    type: Literal["se_e2_a", "se_a"] = Field(description="descriptor type")
    axis_neuron: int = Field(4, ge=1, description="columns of the embedding matrix kept in D = T T<^T")
    type_one_side: bool = Field(False, description="one embedding net per neighbour type (true) or per type pair")

    @model_validator(mode="after")
    def _axis(self):
        if self.axis_neuron > self.neuron[-1]:
            raise fail("axis_neuron", f"{self.axis_neuron} must be ≤ the last embedding width neuron[-1] "
                                      f"{self.neuron[-1]}")
        return self


class SeE2R(_SeBase):
    type: Literal["se_e2_r", "se_r"] = Field(description="descriptor type")
    type_one_side: bool = Field(True, description="one embedding net per neighbour type (only true)")

    @field_validator("type_one_side")
    @classmethod
    def _one_side(cls, value: bool) -> bool:
        if not value:
            raise ValueError(f"false: {NOT_YET} for se_e2_r (only true)")
        return value


class SeE3(_SeBase):
    type: Literal["se_e3", "se_at", "se_a_3be", "se_t"] = Field(description="descriptor type")


class LocFrame(Section):
    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],)}
    type: Literal["loc_frame"] = Field(description="descriptor type")
    rcut: Cutoff = Field(6.0, description="cutoff radius, Å")
    sel_a: list[Annotated[int, Field(ge=0, le=MAX_SEL)]] = Field(description="full-information neighbours per type")
    sel_r: list[Annotated[int, Field(ge=0, le=MAX_SEL)]] = Field(description="radial-only neighbours per type")
    axis_rule: list[int] = Field(description="6 integers per type choosing the two axis atoms")
    precision: PRECISION = Field("default", description="float64 | float32 | default (= float64)")
    seed: int | None = Field(None, ge=0, description="random seed (no trainable descriptor weights)")
    trainable: bool = Field(True, description="ignored (accepted for DeePMD-kit compatibility)")

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: _check_precision(v))


class BP(Section):
    """Behler–Parrinello symmetry functions (deeppot only; DeePMD-kit cannot read these models)."""

    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],)}
    type: Literal["bp"] = Field(description="descriptor type")
    rcut: Cutoff = Field(6.0, description="cutoff radius of all symmetry functions, Å")
    rcut_ang: Cutoff | None = Field(None, description="cutoff of the angular functions G4/G5, Å (default: min(rcut, 4))")
    sel: Any = Field("auto", description="max neighbours per type within rcut (sizes engine neighbour lists), "
                     "or \"auto\" / \"auto:F\"", json_schema_extra={"type_text": 'list[int] | "auto" | "auto:F"'})
    g2: Any = Field(None, description="radial rows [eta 1/Å², r_s Å], the same for every element pair, or a "
                    "dict {\"O-H\": rows} (centre-neighbour); default: a radial grid",
                    json_schema_extra={"type_text": "list | dict | null"})
    g4: Any = Field(None, description="angular rows [eta 1/Å², zeta ≥ 1, lambda ±1], or a dict {\"O-H-H\": rows}; "
                    "default: zeta 1, 4; lambda ±1; two widths", json_schema_extra={"type_text": "list | dict | null"})
    g5: Any = Field(None, description="G5 rows like g4 (no r_jk term); default none",
                    json_schema_extra={"type_text": "list | dict | null"})
    n_radial: int = Field(8, ge=1, le=1024, description="radial functions per element pair of the default grid")
    r_min: float = Field(0.5, ge=0, description="innermost centre (shifted) or width (centred) of the grid, Å")
    radial_grid: Literal["shifted", "centred"] = Field("shifted", description="default radial grid kind")
    precision: PRECISION = Field("default", description="float64 | float32 | default (= float64)")
    seed: int | None = Field(None, ge=0, description="random seed (no trainable descriptor weights)")
    trainable: bool = Field(True, description="ignored (no trainable descriptor weights)")

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: _check_precision(v))
    _sel = field_validator("sel", mode="before")(lambda cls, v: _check_sel(v))

    @model_validator(mode="after")
    def _relations(self):
        if self.rcut_ang is not None and self.rcut_ang > self.rcut:
            raise fail("rcut_ang", f"{show(self.rcut_ang)} must be ≤ rcut {show(self.rcut)}")
        if self.r_min >= self.rcut:
            raise fail("r_min", f"{show(self.r_min)} must be < rcut {show(self.rcut)}")
        return self


def _descriptor_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    return "@" + DESCRIPTOR_ALIASES.get(kind, kind)


register_union("descriptor type", supported=("se_e2_a", "se_e2_r", "se_e3", "loc_frame", "bp", *DESCRIPTOR_ALIASES),
               not_yet=DESCRIPTORS_NOT_YET)


Descriptor = Annotated[(Annotated[SeE2A, Tag("@se_e2_a")] | Annotated[SeE2R, Tag("@se_e2_r")]
                        | Annotated[SeE3, Tag("@se_e3")] | Annotated[LocFrame, Tag("@loc_frame")]
                        | Annotated[BP, Tag("@bp")]),
                       Discriminator(_descriptor_tag)]


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

    _check_prec = field_validator("precision", mode="before")(lambda cls, v: _check_precision(v))

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
    descriptor: Descriptor = Field(description="descriptor section (type: se_e2_a | se_e2_r | se_e3 | loc_frame | bp)",
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
        ntypes, desc = len(self.type_map), self.descriptor
        lists = {"sel_a": desc.sel_a, "sel_r": desc.sel_r} if isinstance(desc, LocFrame) else {"sel": desc.sel}
        for key, value in lists.items():
            if isinstance(value, list) and len(value) != ntypes:
                raise fail(f"descriptor/{key}", f"{show(value)} has {len(value)} entries but type_map has "
                                                f"{ntypes} ({show(self.type_map)})")
        if isinstance(desc, LocFrame) and len(desc.axis_rule) != 6 * ntypes:
            raise fail("descriptor/axis_rule", f"has {len(desc.axis_rule)} entries; 6 per type ({6 * ntypes}) needed")
        if isinstance(desc, BP):
            from deeppot.core.descriptor.bp import ParameterError, parameter_tables

            try:
                parameter_tables(desc.model_dump(), list(self.type_map))
            except ParameterError as err:
                raise fail(f"descriptor/{err.key}", str(err).removeprefix("bp: ")) from None
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
