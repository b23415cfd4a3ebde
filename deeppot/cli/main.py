"""``deeppot`` command: a table of subcommands, each in its own module, imported lazily.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int | None``. Importing a module happens only when its command runs, so
``deeppot --help`` stays instant and a broken optional dependency only affects its command.

User errors (:class:`deeppot.errors.DeeppotError`, missing files, bad values) print one line
``deeppot: error: ...`` and exit with status 2; they never print a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (command name, module under deeppot.cli, one-line help). Keep sorted by workflow.
COMMANDS: list[tuple[str, str, str]] = [
    ("neighbor-stat", "neighbor_stat", "minimum distance and maximum neighbour counts of data"),
    ("train", "train", "train a model from a DeePMD-kit style input.json / yaml"),
    ("freeze", "freeze", "write a trained checkpoint as a safe model file (.dp)"),
    ("test", "test", "energy / force / virial errors of a model on labelled data"),
    ("compress", "compress", "tabulate embedding nets for faster inference"),
    ("model-devi", "model_devi", "model deviation of an ensemble on a trajectory or system"),
    ("doc-train-input", "doc_train_input", "print the training input schema with defaults"),
    ("md", "md", "run molecular dynamics from an input file"),
    ("analyze", "analyze", "structure analysis: rdf, adf, steinhardt, tetrahedral, msd"),
    ("ipi", "ipi", "run as an i-PI client (path-integral MD)"),
    ("convert", "convert", "convert data between formats (dpdata / ASE)"),
    ("cg", "cg", "DeePCG: map atomistic trajectories with forces to a coarse-grained system"),
    ("learn", "learn", "concurrent learning: explore, select, label with quantum chemistry, retrain"),
    ("cdft", "cdft", "classical DFT: minimise the grand potential of an inhomogeneous fluid"),
    ("lammps", "lammps", "LAMMPS on many MPI ranks: build the pair_style deeppot plugin"),
]


def _available_commands() -> list[tuple[str, str, str]]:
    """Commands whose module exists in this installation."""
    import importlib.util

    return [c for c in COMMANDS if importlib.util.find_spec(f"deeppot.cli.{c[1]}") is not None]


def build_parser() -> argparse.ArgumentParser:
    from deeppot import __version__
    from deeppot.cli.argtypes import OneLineParser

    parser = OneLineParser(
        prog="deeppot", description="Deep Potential models: train, test, simulate, analyse."
    )
    parser.add_argument("--version", action="version", version=f"deeppot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, _module, help_text in _available_commands():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {c[0]: c for c in _available_commands()}
    if not argv or argv[0] not in commands:
        parser = build_parser()
        try:
            parser.parse_args(argv or ["--help"])  # prints help / error and exits
        except SystemExit as done:
            return int(done.code or 0)
        return 2
    name, module_name, help_text = commands[argv[0]]
    module = importlib.import_module(f"deeppot.cli.{module_name}")
    from deeppot.cli.argtypes import OneLineParser

    parser = OneLineParser(prog=f"deeppot {name}", description=help_text)
    module.add_arguments(parser)
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit as done:  # --help, or a bad option already reported on one line
        return int(done.code or 0)
    from deeppot.errors import DeeppotError
    from deeppot.interrupt import Interrupted

    try:
        code = module.run(args)
    except DeeppotError as err:
        print(f"deeppot: error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"deeppot: error: {err.filename or err}: no such file", file=sys.stderr)
        return 2
    except Interrupted as err:
        print(f"deeppot: {err}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print("deeppot: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
