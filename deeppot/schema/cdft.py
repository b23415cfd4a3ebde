"""The ``deeppot cdft`` input: grid, functional, external potentials, thermodynamic state, solver.

Units: lengths in the user's unit (σ of the fluid is a natural choice), energies in k_BT,
densities per length³ (per length for 1-D hard rods), thermal wavelength Λ = 1.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from deeppot.schema.base import Section, fail, register_union

Positive = Annotated[float, Field(gt=0)]


class GridSection(Section):
    points: int = Field(ge=8, le=1 << 22, description="number of cell-centred grid points")
    length: Positive = Field(description="grid length; points sit at (i + 1/2) length/points")
    boundary: Literal["reflecting", "periodic"] = Field(
        "reflecting", description="reflecting (mirror at both ends: slits, half slits) | periodic")
    lanczos: bool = Field(True, description="damp Gibbs ringing of the weights (feos' pore default)")


class HardRodsF(Section):
    type: Literal["hard_rods"] = Field(description="Percus' exact 1-D hard rods")
    sigma: Positive = Field(1.0, description="rod length")


class WhiteBearF(Section):
    type: Literal["white_bear"] = Field(description="FMT hard spheres, White Bear (bulk: Carnahan-Starling)")
    sigma: Positive = Field(1.0, description="sphere diameter")


class RosenfeldF(Section):
    type: Literal["rosenfeld"] = Field(description="FMT hard spheres, Rosenfeld (bulk: Percus-Yevick)")
    sigma: Positive = Field(1.0, description="sphere diameter")


class IdealF(Section):
    type: Literal["ideal_gas"] = Field(description="no interactions (barometric law)")


class LJF(Section):
    type: Literal["lj"] = Field(description="LJ fluid: White Bear FMT (Barker-Henderson d) + mean-field attraction")
    sigma: Positive = Field(1.0, description="LJ sigma")
    epsilon_kT: Positive = Field(description="LJ well depth / k_BT (1/T*)")
    rcut: Positive = Field(2.5, description="LJ cutoff")
    shift: bool = Field(True, description="shift the LJ to zero at rcut (as deeppot md's LJ)")


def _tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"@{kind}" if isinstance(kind, str) else None


register_union("functional type", supported=("hard_rods", "white_bear", "rosenfeld", "ideal_gas", "lj"))
Functional = Annotated[(Annotated[HardRodsF, Tag("@hard_rods")] | Annotated[WhiteBearF, Tag("@white_bear")]
                        | Annotated[RosenfeldF, Tag("@rosenfeld")]
                        | Annotated[IdealF, Tag("@ideal_gas")] | Annotated[LJF, Tag("@lj")]), Discriminator(_tag)]


class HardWallX(Section):
    type: Literal["hard_wall"] = Field(description="hard wall")
    contact: float = Field(description="contact plane: closest position of particle centres")
    side: Literal["left", "right"] = Field("left", description="left: fluid at larger z | right: fluid at smaller z")


class LJ93X(Section):
    type: Literal["lj93_wall"] = Field(description="9-3 wall: eps [(2/15)(s/d)^9 - (s/d)^3]")
    position: float = Field(description="wall plane (d = 0)")
    epsilon_kT: Positive = Field(description="wall strength / k_BT")
    sigma: Positive = Field(1.0, description="wall length scale")
    side: Literal["left", "right"] = Field("left", description="left: fluid at larger z | right: fluid at smaller z")
    cutoff: Positive | None = Field(None, description="truncate and shift to zero beyond this distance")


class TabulatedX(Section):
    type: Literal["tabulated"] = Field(description="table of z and beta*v (two columns, CSV or whitespace)")
    file: str = Field(min_length=1, description="table file, relative to the input; 'inf' allowed in v")


register_union("external potential type", supported=("hard_wall", "lj93_wall", "tabulated"))
External = Annotated[(Annotated[HardWallX, Tag("@hard_wall")] | Annotated[LJ93X, Tag("@lj93_wall")]
                      | Annotated[TabulatedX, Tag("@tabulated")]),
                     Discriminator(_tag)]


class SolverSection(Section):
    method: Literal["anderson", "picard", "newton_krylov"] = Field("anderson", description="anderson | picard | "
                                                                   "newton_krylov")
    tol: Annotated[float, Field(gt=0, lt=1)] = Field(1e-10, description="max |change of ln rho| per Picard step")
    max_iter: int = Field(5000, ge=1, description="iteration limit")
    damping: Annotated[float, Field(gt=0, le=1)] = Field(0.3, description="Picard mixing fraction")
    history: int = Field(20, ge=0, le=200, description="Anderson history length")


class CdftInput(Section):
    grid: GridSection = Field(description="planar grid")
    functional: Functional = Field(description="excess functional (type: hard_rods | white_bear | rosenfeld | "
                                   "ideal_gas | lj)", json_schema_extra={"type_text": "section"})
    external: list[External] = Field(default_factory=list, description="external potentials, summed",
                                     json_schema_extra={"type_text": "list of sections"})
    rho_bulk: Positive | None = Field(None, description="bulk density (grand canonical)")
    mu_kT: float | None = Field(None, description="chemical potential / k_BT, Lambda = 1 (grand canonical)")
    n_per_area: Positive | None = Field(None, description="particles per area (canonical)")
    solver: SolverSection = Field(default_factory=SolverSection, description="solver options")
    output_dir: str = Field("cdft_out", min_length=1, description="directory for profile.csv and profile.png")

    @model_validator(mode="after")
    def _one_state(self):
        given = [k for k in ("rho_bulk", "mu_kT", "n_per_area") if getattr(self, k) is not None]
        if len(given) != 1:
            raise fail("rho_bulk", "give exactly one of rho_bulk, mu_kT (grand canonical) or n_per_area "
                       f"(canonical); got {', '.join(given) or 'none'}")
        return self
