"""``deeppot cdft INPUT.json``: minimise the grand potential of a fluid on a planar grid.

Writes ``output_dir/profile.csv`` (z, ρ, βv) and ``profile.png``, and prints βΩ/A, the
adsorption Γ, the bulk pressure and the solver's iterations. ``--keys`` lists the input keys.
"""

from __future__ import annotations

HELP = "classical DFT: minimise the grand potential of an inhomogeneous fluid"


def add_arguments(parser) -> None:
    parser.add_argument("input", nargs="?", help="cdft input (JSON or YAML); `deeppot cdft --keys` lists the keys")
    parser.add_argument("--keys", action="store_true", help="print every cdft input key with default and meaning")


def run(args) -> int:
    import logging
    from pathlib import Path

    from deeppot.errors import ConfigError

    if args.keys:
        from deeppot.schema.base import describe_rows
        from deeppot.schema.cdft import CdftInput

        print("\n".join(describe_rows(CdftInput.keys_doc())))
        return 0
    if args.input is None:
        raise ConfigError("cdft: an input file is needed (`deeppot cdft --keys` lists its keys)")
    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    from deeppot.cdft.api import run_input
    from deeppot.cdft.report import print_summary, write_outputs
    from deeppot.train.config import load_config

    path = Path(args.input)
    profile, inp = run_input(load_config(path), where=str(path), base=path.resolve().parent)
    out = Path(inp.output_dir)
    out = out if out.is_absolute() else path.resolve().parent / out
    write_outputs(profile, out)
    print_summary(profile, out)
    return 0
