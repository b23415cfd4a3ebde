"""``deeppot learn INPUT``: concurrent learning (DP-GEN's loop) on Dask; the logic is in :mod:`deeppot.learn`.

Running the same command again after an interruption (even ``kill -9``) continues from the
last finished stage; ``deeppot learn --keys`` lists the input keys.
"""

from __future__ import annotations

HELP = "concurrent learning: explore, select, label with quantum chemistry, retrain"


def add_arguments(parser) -> None:
    parser.add_argument("input", nargs="?", help="learn input (JSON or YAML); `deeppot learn --keys` lists the keys")
    parser.add_argument("--keys", action="store_true", help="print every learn input key with default and meaning")


def run(args) -> int:
    import logging

    if args.keys:
        from deeppot.learn.config import describe

        print("\n".join(describe()))
        return 0
    if args.input is None:
        from deeppot.errors import ConfigError

        raise ConfigError("learn: an input file is needed (`deeppot learn --keys` lists its keys)")
    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    from deeppot.learn.loop import run_learn
    from deeppot.learn.report import table

    summaries = run_learn(args.input)
    print(table(summaries), end="")
    return 0
