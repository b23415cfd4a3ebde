"""``deeppot doc-train-input``: every input key with its default and meaning.

Generated from the declarations in :mod:`deeppot.schema.train`, the same ones that validate
``deeppot train``'s input, so the documentation cannot drift from the checks.
"""

from __future__ import annotations

HELP = "print the training input schema with defaults"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from deeppot.train.config import describe

    print("deeppot training input (DeePMD-kit keys). key  default  meaning [type]")
    print("\n".join(describe()))
    return 0
