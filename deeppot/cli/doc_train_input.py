"""``deeppot doc-train-input``: every input key with its default and meaning."""

from __future__ import annotations

HELP = "print the training input schema with defaults"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from deeppot.train.config import describe

    print("deeppot training input (DeePMD-kit keys). key  default  meaning")
    print("\n".join(describe()))
    return 0
