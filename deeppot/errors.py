"""Exceptions that carry a one-line, user-facing message.

The CLI turns any :class:`DeeppotError` into ``deeppot: error: <message>`` on stderr and
exit code 2, never a traceback. Messages name the offending file and the problem.
"""

from __future__ import annotations


class DeeppotError(Exception):
    """Base class for errors caused by user input (files, configs, arguments)."""


class DataError(DeeppotError):
    """A data file or system is missing, malformed, inconsistent or non-finite."""


class ModelFileError(DeeppotError):
    """A model file cannot be read, or describes something deeppot does not support."""


class ConfigError(DeeppotError):
    """An input configuration (JSON/YAML) has unknown keys, bad values or missing fields."""


class NeighborOverflowError(DeeppotError):
    """More neighbours within rcut than the model's ``sel`` slots can hold."""


class SimulationError(DeeppotError):
    """A simulation stopped for a physical or numerical reason (NaN, exploding forces...)."""
