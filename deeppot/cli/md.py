"""``deeppot md INPUT.json|yaml [--restart FILE] [--force]``: molecular dynamics with any potential.

The run itself (checks, outputs, restarts, signals) is :func:`deeppot.md.session.run_md`.
"""

from __future__ import annotations

HELP = "run molecular dynamics from an input file"


def add_arguments(parser) -> None:
    parser.add_argument("input", nargs="?", help="MD input (JSON or YAML); `deeppot md --keys` lists the keys")
    parser.add_argument("--keys", action="store_true", help="print every md input key with default and meaning")
    parser.add_argument("--restart", default=None, help="continue from a restart file (output_dir/restart.npz)")
    parser.add_argument("--force", action="store_true",
                        help="start afresh even if output_dir holds an earlier run's outputs (they are overwritten)")
    parser.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    import logging

    if args.keys:
        from deeppot.md.config import describe

        print("\n".join(describe()))
        return 0
    if args.input is None:
        from deeppot.errors import ConfigError

        raise ConfigError("md: an input file is needed (`deeppot md --keys` lists its keys)")
    from deeppot.md.session import run_md

    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    return run_md(args.input, restart=args.restart, force=args.force, progress=not args.no_progress)
