"""The ``deeppot learn`` input: declared sections (pydantic, as :mod:`deeppot.schema`), checked before any work.

One file describes the whole loop (SCIENCE.md §4.2): the DeePMD training input every ensemble
member starts from, the labelled starting data, the exploration schedule, the trust levels
and the labeler. Unknown keys fail with a did-you-mean hint; every problem is one line naming
the file and the key (:class:`~deeppot.errors.ConfigError`). Paths are relative to the input file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from deeppot.errors import ConfigError
from deeppot.md.ensembles import ENSEMBLES
from deeppot.schema.base import Section, describe_rows, fail, register_union, validate_section

Positive = Annotated[float, Field(gt=0)]
PathList = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class TrainSection(Section):
    input: str = Field(min_length=1, description="DeePMD-kit training input (JSON/YAML) every member starts from; "
                       "its training_data/validation_data are replaced by the loop's data")
    numb_models: int = Field(4, ge=2, description="ensemble size (members differ only in seed)")
    warm_steps: int | None = Field(None, ge=1, description="training steps of iterations ≥ 1, warm-started from "
                                   "the previous iteration's member (null: numb_steps of the input, from scratch)")
    warm_start_lr: Positive | None = Field(
        None, description="start_lr of warm-started members (DP-GEN's training_reuse_start_lr, 1e-4 there): "
        "restarting a trained member at the scratch lr undoes much of its training (null: the input's)")
    warm_start_pref_e: float | None = Field(
        None, ge=0, description="start_pref_e of warm-started members (DP-GEN's training_reuse_start_pref_e, 0.1)")
    warm_start_pref_f: float | None = Field(
        None, ge=0, description="start_pref_f of warm-started members (DP-GEN's training_reuse_start_pref_f, 100)")
    seed: int = Field(0, ge=0, description="seed of member 0; member k uses seed + k")


class Stage(Section):
    temperatures_K: Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1)] = Field(
        description="one exploration run per structure and temperature")
    ensemble: Literal[tuple(ENSEMBLES)] = Field("nvt-langevin", description=" | ".join(ENSEMBLES))  # type: ignore
    steps: int = Field(ge=1, description="MD steps of each run")
    timestep_fs: Positive = Field(0.5, description="time step, fs")
    traj_every: int = Field(10, ge=1, description="steps between recorded frames (the candidates pool)")
    structures: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, description="indices of the starting frames (all frames of explore/structures, in order) to "
        "explore from (null: all)")
    tau_t_fs: Positive = Field(100.0, description="thermostat time constant, fs")


class ExploreSection(Section):
    structures: PathList = Field(description="starting structures: DeePMD systems (every frame) or ASE files")
    schedule: Annotated[list[Stage], Field(min_length=1)] = Field(
        description="stages explored in order; the loop moves on when a stage's accurate fraction reaches "
        "select/converge_accurate", json_schema_extra={"type_text": "list[section]"})
    min_distance_A: float = Field(0.5, ge=0, description="an exploration run stops when atoms come closer")
    max_force_eV_A: Positive = Field(50.0, description="an exploration run stops when a force exceeds this")
    pre_stop_frames: int = Field(
        20, ge=0, description="on a safety stop, up to this many states from just before it (one every "
        "pre_stop_every steps) join the frames: the approach to a collapse is where labels are missing, and "
        "traj_every alone rarely catches it (they can be candidates but do not count in the fractions)")
    pre_stop_every: int = Field(2, ge=1, description="steps between the states kept for pre_stop_frames")
    seed: int = Field(0, ge=0, description="seed of velocities and thermostat noise")


class SelectSection(Section):
    trust_lo: float = Field(0.05, ge=0, description="σ_lo: frames with max force deviation below are accurate, eV/Å")
    trust_hi: float = Field(0.15, gt=0, description="σ_hi: at or above are failed, eV/Å; between: candidates")
    trust_lo_v: float | None = Field(None, ge=0, description="virial analogue of trust_lo (max_devi_v, eV/atom)")
    trust_hi_v: float | None = Field(None, gt=0, description="virial analogue of trust_hi")
    fp_task_max: int = Field(20, ge=1, description="at most this many candidates labelled per iteration")
    fp_task_min: int = Field(1, ge=0, description="fewer candidates than this: nothing labelled this iteration")
    converge_accurate: float = Field(0.95, gt=0, le=1, description="accurate fraction that passes a stage")
    converge_without_stops: bool = Field(
        True, description="a stage passes only when, besides the accurate fraction, none of its exploration "
        "runs hit a safety stop: a collapse is the plainest sign of a hole, even late in a run")
    label_pre_stop_failed: bool = Field(
        True, description="the states kept just before a safety stop (explore/pre_stop_frames) may be labelled "
        "even at or above trust_hi: the stop proves the region is reached, and there the committee agrees on a "
        "wrong extrapolation until it is too late (false: DP-GEN's rule, failed frames are never labelled)")

    @model_validator(mode="after")
    def _levels(self):
        if self.trust_hi <= self.trust_lo:
            raise fail("trust_hi", f"{self.trust_hi:g} must be > trust_lo {self.trust_lo:g}")
        if (self.trust_lo_v is None) != (self.trust_hi_v is None):
            raise fail("trust_hi_v", "give both trust_lo_v and trust_hi_v, or neither")
        if self.trust_hi_v is not None and self.trust_hi_v <= self.trust_lo_v:
            raise fail("trust_hi_v", f"{self.trust_hi_v:g} must be > trust_lo_v {self.trust_lo_v:g}")
        if self.fp_task_min > self.fp_task_max:
            raise fail("fp_task_min", f"{self.fp_task_min} must be ≤ fp_task_max {self.fp_task_max}")
        return self


class TbliteLabeler(Section):
    type: Literal["tblite"] = Field(description="GFN-xTB with tblite (periodic or not; energy, forces, virial)")
    method: Literal["GFN1-xTB", "GFN2-xTB", "IPEA1-xTB"] = Field("GFN1-xTB", description="xTB Hamiltonian")
    accuracy: Positive = Field(1.0, description="tblite numerical accuracy (smaller: tighter)")
    electronic_temperature_K: Positive = Field(300.0, description="Fermi smearing temperature, K")
    max_iterations: int = Field(250, ge=1, description="SCF iterations before the frame is recorded as failed")
    charge: int = Field(0, description="total charge")


class PyscfLabeler(Section):
    type: Literal["pyscf"] = Field(description="PySCF DFT for molecules and clusters (open boundaries)")
    xc: str = Field("pbe", min_length=1, description="exchange-correlation functional (PySCF name, e.g. pbe, b3lyp)")
    basis: str = Field("def2-svp", min_length=1, description="basis set (PySCF name)")
    charge: int = Field(0, description="total charge")
    spin: int = Field(0, ge=0, description="2S (number of unpaired electrons)")
    max_cycle: int = Field(50, ge=1, description="SCF iterations before the frame is recorded as failed")
    conv_tol: Positive = Field(1e-9, description="SCF energy convergence, Hartree")


class AseLabeler(Section):
    type: Literal["ase"] = Field(description="any ASE calculator by import path (energy eV, forces eV/Å)")
    calculator: str = Field(min_length=1, description="emt | lj | morse | \"package.module:Class\"")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the calculator")


def _tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"@{kind}" if isinstance(kind, str) else None


register_union("labeler type", supported=("tblite", "pyscf", "ase"))
Labeler = Annotated[(Annotated[TbliteLabeler, Tag("@tblite")] | Annotated[PyscfLabeler, Tag("@pyscf")]
                     | Annotated[AseLabeler, Tag("@ase")]), Discriminator(_tag)]


class DaskSection(Section):
    scheduler_address: str | None = Field(None, min_length=1, description="an existing Dask scheduler "
                                          "(tcp://host:port, e.g. of a dask-jobqueue cluster); null: a LocalCluster")
    n_workers: int = Field(2, ge=1, description="LocalCluster worker processes (one thread each)")


class LearnInput(Section):
    type_map: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] = Field(
        description="element of each type, as in the training input")
    init_data: PathList = Field(description="labelled DeePMD systems to start from")
    test_data: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="labelled DeePMD systems never trained on: held-out errors per iteration")
    train: TrainSection = Field(description="training section")
    explore: ExploreSection = Field(description="exploration section")
    select: SelectSection = Field(default_factory=SelectSection, description="selection section")
    label: Labeler = Field(default_factory=lambda: TbliteLabeler(type="tblite"),
                           description="labeler section (type: tblite | pyscf | ase)",
                           json_schema_extra={"type_text": "section"})
    dask: DaskSection = Field(default_factory=DaskSection, description="dask section")
    max_iterations: int = Field(10, ge=1, description="stop after this many iterations even if not converged")
    work_dir: str = Field("learn_out", min_length=1, description="directory holding the loop's state")


def load_learn_input(path: str | Path) -> dict:
    """Read, validate and resolve paths (absolute, checked to exist) of a ``deeppot learn`` input."""
    from deeppot.train.config import load_config

    path = Path(path)
    raw = load_config(path)
    cfg = validate_section(LearnInput, raw, str(path)).model_dump()
    return resolve(cfg, path.resolve().parent, str(path))


def resolve(cfg: dict, base: Path, where: str) -> dict:
    """Paths of ``cfg`` made absolute against ``base``; missing inputs fail here, before any work."""
    def absolute(key: str, name: str, must_exist: bool = True) -> str:
        p = Path(name) if Path(name).is_absolute() else base / name
        if must_exist and not p.exists():
            raise ConfigError(f"{where}: {key}: {name}: no such file or directory")
        return str(p)

    cfg["init_data"] = [absolute(f"init_data[{k}]", p) for k, p in enumerate(cfg["init_data"])]
    cfg["test_data"] = [absolute(f"test_data[{k}]", p) for k, p in enumerate(cfg["test_data"])]
    cfg["train"]["input"] = absolute("train/input", cfg["train"]["input"])
    ex = cfg["explore"]
    ex["structures"] = [absolute(f"explore/structures[{k}]", p) for k, p in enumerate(ex["structures"])]
    cfg["work_dir"] = absolute("work_dir", cfg["work_dir"], must_exist=False)
    if cfg["label"]["type"] == "ase":
        from deeppot.potentials.ase_adapter import make_calculator

        try:
            make_calculator(cfg["label"]["calculator"], cfg["label"]["kwargs"])
        except ConfigError as err:
            raise ConfigError(f"{where}: label/calculator: {err}") from None
    return cfg


def describe() -> list[str]:
    """``key default meaning [type]`` lines of every section (``deeppot learn --keys``)."""
    lines = []
    for name, cls in (("", LearnInput), ("train", TrainSection), ("explore", ExploreSection),
                      ("explore/schedule[]", Stage), ("select", SelectSection), ("dask", DaskSection),
                      ("label (type tblite)", TbliteLabeler), ("label (type pyscf)", PyscfLabeler),
                      ("label (type ase)", AseLabeler)):
        rows = [(k, t, '{"type": "tblite"}' if k == "label" else d, m) for k, t, d, m in cls.keys_doc()
                if "/" not in k]
        lines.append(f"{name or 'learn input'}:")
        lines += describe_rows(rows)
    return lines
