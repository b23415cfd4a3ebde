"""The training input (DeePMD-kit's input.json keys): reading, validation, paths, documentation.

The keys, their types, defaults, ranges and meanings are declared once in
:mod:`deeppot.schema.train` (pydantic); this module reads the file, validates it before any
work starts and resolves the data paths. Every problem is one line naming the file and the
key, e.g. ``input.json: model/descriptor/rcut_smth: 7.0 must be < rcut 6.0``.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

from deeppot.errors import ConfigError
from deeppot.schema.base import describe_rows, validate_section
from deeppot.schema.train import TrainInput


def normalize(config: dict, where: str = "input") -> dict:
    """Checked config with every default filled in, as plain dicts (``where`` names the file in errors)."""
    checked = validate_section(TrainInput, config, where)
    return checked.model_dump()


def load_config(path: str | Path) -> dict:
    """Read a JSON or YAML input file (raw, not yet normalised)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such input file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not an input file")
    try:
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            data = _yaml_load(text)
        else:
            data = json.loads(text)
    except Exception as err:
        detail = str(err).replace("\n", " ")
        raise ConfigError(f"{path}: cannot parse ({type(err).__name__}: {detail})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the input must be a mapping of sections")
    return data


def _yaml_load(text: str):
    """``yaml.safe_load`` with YAML 1.2's floats: ``1e-3`` is a number, as in JSON (PyYAML's 1.1 rules
    read it as a string, and DeePMD-kit inputs are full of such learning rates)."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
        list("-+0123456789."))
    return yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)


def resolve_systems(cfg: dict, base: Path, where: str) -> None:
    """Make the data paths absolute (relative to the input file, as DeePMD-kit's examples) and check them."""
    for key in ("training_data", "validation_data"):
        section = cfg["training"][key]
        if not section:
            continue
        systems = section["systems"]
        systems = [systems] if isinstance(systems, str) else systems
        resolved = []
        for k, entry in enumerate(systems):
            path = Path(entry) if Path(entry).is_absolute() else base / entry
            if not path.exists() and not glob.glob(str(path)):
                raise ConfigError(f"{where}: training/{key}/systems[{k}]: {entry}: no such file or directory")
            resolved.append(str(path))
        section["systems"] = resolved
        _check_per_system(section, f"{where}: training/{key}")


def _check_per_system(section: dict, where: str) -> None:
    """Lists with one entry per system, and auto_prob blocks, against the systems the paths expand to."""
    from deeppot.data.system import expand_system_paths
    from deeppot.errors import DataError

    try:
        nsys = len(expand_system_paths(section["systems"]))
    except DataError as err:
        raise ConfigError(f"{where}/systems: {err}") from None
    for name in ("sys_probs", "batch_size"):
        value = section[name]
        if isinstance(value, list) and len(value) != nsys:
            raise ConfigError(f"{where}/{name}: {len(value)} entries for {nsys} systems")
    for block in section["auto_prob"].split(";")[1:]:
        stop = int(block.split(":")[1])
        if stop > nsys:
            raise ConfigError(f"{where}/auto_prob: block {block} goes beyond the {nsys} systems")


def check_outputs(cfg: dict, workdir: Path, where: str) -> None:
    """The learning curve, checkpoints and stat file must be writable (relative to the working directory)."""
    tr = cfg["training"]
    targets = {"disp_file": tr["disp_file"], "save_ckpt": tr["save_ckpt"]}
    if tr["stat_file"]:
        targets["stat_file"] = tr["stat_file"]
    for key, name in targets.items():
        target = workdir / name
        if target.is_dir() and key != "save_ckpt":
            raise ConfigError(f"{where}: training/{key}: {name}: is a directory")
        parent = target.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{where}: training/{key}: {name}: directory {parent} is not writable")


def load_training_input(path: str | Path, workdir: Path | None = None) -> dict:
    """Read, validate and resolve a training input: every check that needs no data, before any work."""
    path = Path(path)
    cfg = normalize(load_config(path), where=str(path))
    resolve_systems(cfg, path.resolve().parent, str(path))
    check_outputs(cfg, Path.cwd() if workdir is None else workdir, str(path))
    return cfg


def describe() -> list[str]:
    """Lines ``key  type  default  meaning`` for every key of the schema (``doc-train-input``)."""
    from deeppot.core.descriptor import descriptor_types
    from deeppot.schema import train as schema

    lines = []
    sections = [("model", schema.Model), ("model/fitting_net", schema.FittingNet),
                ("learning_rate", schema.LearningRate), ("loss", schema.Loss),
                ("training", schema.Training), ("training/training_data", schema.TrainingData),
                ("training/validation_data", schema.ValidationData)]
    for name, cls in sections:
        rows = [r for r in cls.keys_doc() if "/" not in r[0] and r[0] not in ("descriptor", "fitting_net")]
        lines.append(f"{name}:")
        lines += describe_rows(rows)
        if name == "model":
            for kind, desc in descriptor_types().items():
                lines.append(f"model/descriptor (type {kind}):")
                lines += describe_rows([r for r in desc.Config.keys_doc() if r[0] != "type"])
    lines.append("not supported by deeppot yet: descriptor types " + ", ".join(schema.DESCRIPTORS_NOT_YET)
                 + "; model/type_embedding, fparam/aparam, exclude_types, spin, multi-task")
    return lines
