"""The ``deeppot md`` input as declared sections; ensemble options come from the ensembles' declarations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, create_model, field_validator, model_validator

from deeppot.md.ensembles import ENSEMBLES, OPTIONS
from deeppot.schema.base import Section, fail, register_union, show

Positive = Annotated[float, Field(gt=0)]


class PairLJ(Section):
    epsilon_eV: Positive = Field(description="well depth of this pair, eV")
    sigma_A: Positive = Field(description="zero-crossing distance of this pair, Å")


class DeeppotPotential(Section):
    type: Literal["deeppot"] = Field(description="a deeppot / DeePMD-kit model file")
    model: str = Field(min_length=1, description="model file (.dp), relative to the md input")


class LJPotential(Section):
    type: Literal["lj"] = Field(description="Lennard-Jones")
    epsilon_eV: Positive = Field(0.0104, description="well depth, eV")
    sigma_A: Positive = Field(3.4, description="zero-crossing distance, Å")
    rcut_A: Positive = Field(8.5, description="cutoff, Å")
    pairs: dict[str, PairLJ] | None = Field(None, description="per pair \"A-B\": {epsilon_eV, sigma_A}")
    shift: bool = Field(True, description="shift the energy to zero at rcut_A")
    type_map: Annotated[list[str], Field(min_length=1)] | None = Field(None, description="element of each type "
                                                                           "(default: the structure's elements)")

    @field_validator("pairs")
    @classmethod
    def _pair_names(cls, value):
        for name in value or {}:
            parts = name.split("-")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"pair {name!r}: write two element names joined by '-', e.g. \"O-H\"")
        return value

    @model_validator(mode="after")
    def _pairs_in_type_map(self):
        for name in self.pairs or {}:
            if self.type_map and not set(name.split("-")) <= set(self.type_map):
                raise fail("pairs", f"pair {name!r}: both elements must be in type_map {show(self.type_map)}")
        return self


class AsePotential(Section):
    type: Literal["ase"] = Field(description="an ASE calculator")
    calculator: str = Field(min_length=1, description="emt | lj | morse | \"package.module:Class\"")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the calculator")


class CommitteePotential(Section):
    type: Literal["committee"] = Field(description="several models: mean forces, deviation logged")
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2)] = Field(
        description="model files (.dp), at least two")
    max_devi_f_stop: Positive | None = Field(None, description="stop when the force deviation exceeds this, eV/Å")
    trust_lo: Annotated[float, Field(ge=0)] | None = Field(
        None, description="frames with force deviation ≥ this are appended to candidates_file as they happen, eV/Å")
    candidates_file: str = Field("candidates.extxyz", min_length=1, description="candidate frames, in output_dir")
    stop_above_hi: bool = Field(True, description="false: frames above max_devi_f_stop go to candidates_file "
                                "(category=failed) and the run continues")

    @model_validator(mode="after")
    def _trust_levels(self):
        if self.trust_lo is not None and self.max_devi_f_stop is not None and self.trust_lo >= self.max_devi_f_stop:
            raise fail("trust_lo", f"{self.trust_lo:g} must be < max_devi_f_stop {self.max_devi_f_stop:g}")
        return self


def _potential_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"@{kind}" if isinstance(kind, str) else None


register_union("potential type", supported=("deeppot", "lj", "ase", "committee"))
Potential = Annotated[(Annotated[DeeppotPotential, Tag("@deeppot")] | Annotated[LJPotential, Tag("@lj")]
                       | Annotated[AsePotential, Tag("@ase")] | Annotated[CommitteePotential, Tag("@committee")]),
                      Discriminator(_potential_tag)]


class _MdBase(Section):
    structure: str = Field(min_length=1, description="ASE-readable file, or a DeePMD system directory (with "
                           "'frame'), relative to the md input")
    frame: int = Field(0, description="frame of the structure file / system to start from (negative: from the end)")
    potential: Potential = Field(description="potential section (type: deeppot | lj | ase | committee)",
                                 json_schema_extra={"type_text": "section"})
    ensemble: Literal[tuple(ENSEMBLES)] = Field("nve", description=" | ".join(ENSEMBLES))  # type: ignore[valid-type]
    temperature_K: Annotated[float, Field(ge=0)] | None = Field(
        None, description="thermostat target (and initial velocities), K; required by every ensemble but nve")
    initial_temperature_K: Annotated[float, Field(ge=0)] | None = Field(
        None, description="temperature of the initial Maxwell-Boltzmann velocities (default temperature_K)")
    timestep_fs: Positive = Field(0.5, description="time step, fs")
    steps: int = Field(ge=0, description="number of steps (a restarted run continues up to this step)")
    seed: int = Field(0, ge=0, description="random seed (velocities, thermostat noise)")
    thermo_every: int = Field(10, ge=1, description="steps between thermo.log lines")
    traj_every: int = Field(100, ge=0, description="steps between trajectory frames (0: none)")
    restart_every: int = Field(1000, ge=1, description="steps between restart files")
    output_dir: str = Field("md_out", min_length=1, description="directory for thermo.log, traj.extxyz, restart.npz")
    skin_A: float = Field(1.0, ge=0, description="neighbour-list skin, Å")
    max_force_eV_A: Positive = Field(100.0, description="stop when any force exceeds this, eV/Å")
    min_distance_A: float = Field(0.5, ge=0, description="stop when two atoms come closer than this, Å")

    @field_validator("ensemble", mode="before")
    @classmethod
    def _ensemble(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ENSEMBLES:
            import difflib

            close = difflib.get_close_matches(value, list(ENSEMBLES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown ensemble {show(value)}{hint} (choose from {', '.join(ENSEMBLES)})")
        return value


def _option_field(name: str):
    spec = OPTIONS[name]
    users = [e for e, cls in ENSEMBLES.items() if name in cls.options]
    bounds = {k: v for k, v in (("gt", spec.gt), ("ge", spec.ge)) if v is not None}
    kind = Annotated[spec.kind, Field(**bounds)] if bounds else spec.kind
    return (kind | None, Field(None, description=f"{spec.doc} ({', '.join(users)})"))


_Options = create_model("_Options", __base__=_MdBase, **{name: _option_field(name) for name in OPTIONS})


class MdInput(_Options):
    @model_validator(mode="after")
    def _relations(self):
        ensemble = ENSEMBLES[self.ensemble]
        for name in OPTIONS:
            if getattr(self, name) is not None and name not in ensemble.options:
                takes = ", ".join(ensemble.options) or "none"
                raise fail(name, f"not an option of ensemble {self.ensemble} (its options: {takes})")
        if ensemble.needs_temperature and self.temperature_K is None:
            raise fail("temperature_K", f"missing: ensemble {self.ensemble} needs a target temperature")
        if self.friction_per_fs is not None and self.tau_t_fs is not None:
            raise fail("friction_per_fs", "give tau_t_fs or friction_per_fs, not both")
        return self
