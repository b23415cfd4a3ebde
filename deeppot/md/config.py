"""``deeppot md`` input: validation, paths, documentation, and building the simulation from it.

The keys are declared in :mod:`deeppot.schema.md` (ensemble options in
:mod:`deeppot.md.ensembles`); ``deeppot md --keys`` prints them.
"""

from __future__ import annotations

import os
from pathlib import Path

from deeppot.errors import ConfigError
from deeppot.md.ensembles import OPTIONS
from deeppot.potentials.registry import potential_class, potential_types
from deeppot.schema.base import describe_rows, show, validate_section

#: ensemble options of the md input (None: the ensemble's default); each ensemble declares its own
ENSEMBLE_OPTIONS = tuple(OPTIONS)


def normalize(cfg: dict, where: str = "md input", base: Path | None = None) -> dict:
    """Checked md input with defaults filled (``deeppot.schema.md``); files checked relative to ``base``.

    ``base`` defaults to the directory of ``where`` when that is the input file's path.
    """
    from deeppot.schema.md import MdInput

    checked = validate_section(MdInput, cfg, where)
    out = checked.model_dump()
    out["potential"] = checked.potential.model_dump(exclude_unset=True)
    if base is None and Path(where).is_file():
        base = Path(where).resolve().parent
    if base is not None:
        check_paths(out, base, where)
    return out


def check_paths(cfg: dict, base: Path, where: str) -> None:
    """The structure and model files exist; the output directory is (or can be made) writable."""
    def exists(key: str, name: str) -> None:
        if not (base / name).exists():
            raise ConfigError(f"{where}: {key}: {name}: no such file or directory")

    exists("structure", cfg["structure"])
    pot = cfg["potential"]
    if pot["type"] == "deeppot":
        exists("potential/model", pot["model"])
    elif pot["type"] == "committee":
        for k, model in enumerate(pot["models"]):
            exists(f"potential/models[{k}]", model)
    out = base / cfg["output_dir"]
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{where}: output_dir: {cfg['output_dir']}: exists and is not a directory")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: output_dir: {cfg['output_dir']}: {parent} is not writable")


def describe() -> list[str]:
    """Lines ``key  default  meaning [type]`` of the md input (``deeppot md --keys``)."""
    from deeppot.schema import md as schema

    lines = ["md input:"]
    rows = [r for r in schema.MdInput.keys_doc() if r[0] != "potential"]
    ensemble_default = {n: "1/tau_t_fs" if o.default is None else show(o.default) for n, o in OPTIONS.items()}
    option_type = {n: o.kind.__name__ + (f" > {o.gt:g}" if o.gt is not None else "")
                   + (f" ≥ {o.ge:g}" if o.ge is not None else "") for n, o in OPTIONS.items()}
    lines += describe_rows([(k, option_type.get(k, t), ensemble_default.get(k, d), m) for k, t, d, m in rows])
    for kind, potential in potential_types().items():
        cls = potential.Config
        lines.append(f"potential (type {kind}): {cls.model_fields['type'].description}")
        rows = [r for r in cls.keys_doc() if r[0] != "type"]
        lines += describe_rows(rows) if rows else []
    return lines


def build_potential(spec: dict, base: Path, type_map_hint=None):
    """The potential of a validated ``potential`` section, built by its registered class."""
    cls = potential_class(spec.get("type"))
    if cls is None:
        raise ConfigError(f"potential.type {spec.get('type')!r}: use {', '.join(potential_types())}")
    return cls.from_config(spec, base, type_map_hint)


def read_structure(path: Path, frame: int):
    """An ``ase.Atoms`` from any ASE file or a DeePMD system directory."""
    if path.is_dir():
        from deeppot.data import load_system
        from deeppot.data.ase_formats import to_atoms

        system = load_system(path)
        if not -system.nframes <= frame < system.nframes:
            raise ConfigError(f"{path}: frame {frame} out of range ({system.nframes} frames)")
        atoms = to_atoms(system, frame)
        atoms.calc = None
        return atoms
    import ase.io

    if not path.exists():
        raise ConfigError(f"{path}: no such structure file")
    try:
        return ase.io.read(str(path), index=frame)
    except (StopIteration, IndexError):
        raise ConfigError(f"{path}: frame {frame} is out of range") from None
    except Exception as err:
        raise ConfigError(f"{path}: cannot read structure ({type(err).__name__}: {err})") from None
