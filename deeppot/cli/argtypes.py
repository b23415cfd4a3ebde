"""argparse ``type=`` functions and a parser whose errors are one line (``deeppot: error: ...``, exit 2)."""

from __future__ import annotations

import argparse
import math


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser that reports a bad option as one line, not usage plus message."""

    def error(self, message: str):
        self.exit(2, f"deeppot: error: {self.prog.removeprefix('deeppot').strip() or 'deeppot'}: {message}\n")


def _number(kind, text: str, low: float, strict: bool, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if value < low or (strict and value == low):
        raise argparse.ArgumentTypeError(f"{text} must be {what}")
    return value


def positive_int(text: str) -> int:
    return _number(int, text, 0, True, "> 0")


def nonnegative_int(text: str) -> int:
    return _number(int, text, 0, False, "≥ 0")


def positive_float(text: str) -> float:
    return _number(float, text, 0.0, True, "> 0")


def nonnegative_float(text: str) -> float:
    return _number(float, text, 0.0, False, "≥ 0")


def port(text: str) -> int:
    value = _number(int, text, 1, False, "a port number 1..65535")
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} must be a port number 1..65535")
    return value


def output_file(text: str) -> str:
    """A file the command will write: not a directory, and in a directory that exists (or can be made)
    and is writable, checked before any work."""
    import os
    from pathlib import Path

    path = Path(text)
    if not text or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: {parent} is not a writable directory")
    return text


class TypeMapAction(argparse.Action):
    """``--type-map O H``: element names, each once."""

    def __call__(self, parser, namespace, values, option_string=None):
        name = "/".join(self.option_strings)
        seen = [v for k, v in enumerate(values) if v in values[:k]]
        if seen:
            parser.error(f"argument {name}: {seen[0]!r} is given twice")
        if any(not v.strip() for v in values):
            parser.error(f"argument {name}: empty element name")
        setattr(namespace, self.dest, list(values))
