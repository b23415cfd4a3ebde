"""The ``deeppot md`` input as declared sections; ensemble options come from the ensembles' declarations."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, create_model, field_validator, model_validator

from deeppot.md.ensembles import ENSEMBLES, OPTIONS
from deeppot.potentials.registry import potential_types
from deeppot.schema.base import Section, fail, register_union, show

Positive = Annotated[float, Field(gt=0)]


def _potential_union():
    """``potential``: the union of the registered potentials' sections, told apart by ``type``."""
    kinds = potential_types()
    register_union("potential type", supported=tuple(kinds))

    def tag(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return f"@{kind}" if isinstance(kind, str) else None

    members = tuple(Annotated[cls.Config, Tag(f"@{name}")] for name, cls in kinds.items())
    return Annotated[Union[members], Discriminator(tag)]  # noqa: UP007 - a runtime-built union


Potential = _potential_union()


class WallSection(Section):
    type: Literal["lj93"] = Field(description="9-3 wall: eps [(2/15)(s/d)^9 - (s/d)^3] at distance d > 0")
    position_A: float = Field(description="wall plane coordinate, Å")
    epsilon_eV: Positive = Field(description="wall strength, eV")
    sigma_A: Positive = Field(description="wall length scale, Å")
    side: Literal["left", "right"] = Field("left", description="left: the fluid is at larger coordinates")
    axis: Literal["x", "y", "z"] = Field("z", description="cell axis normal to the wall")
    cutoff_A: Positive | None = Field(None, description="truncate and shift to zero beyond this distance, Å")


class PairTableSection(Section):
    file: str = Field(min_length=1, description="pair table (DeePMD-kit's format: r/Å, then u/eV per type pair "
                      "00, 01, ..., 11, ...), relative to the md input; e.g. from deeppot cg pair-fit")
    type_map: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description="type of each table index (default: the potential's type map, else the structure's elements)")


class _MdBase(Section):
    structure: str = Field(min_length=1, description="ASE-readable file, or a DeePMD system directory (with "
                           "'frame'), relative to the md input")
    frame: int = Field(0, description="frame of the structure file / system to start from (negative: from the end)")
    potential: Potential = Field(description="potential section (type: " + " | ".join(potential_types()) + ")",
                                 json_schema_extra={"type_text": "section"})
    walls: list[WallSection] = Field(default_factory=list, description="external 9-3 walls added to the potential",
                                     json_schema_extra={"type_text": "list of sections"})
    pair_table: PairTableSection | None = Field(None, description="a tabulated pair potential added to the "
                                                "potential (the pair prior of a CG model)",
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
