"""What every descriptor is: the edge batch it reads, and the contract it keeps with the package.

A descriptor type is one module in this package. Its class, a :class:`Descriptor`, owns
everything about the type, so that nothing outside the module names it:

* ``type_name`` / ``aliases``: the ``type`` values of the input and of ``.dp`` files;
* ``Config``: its input section (keys, types, defaults, ranges, docs; a
  :class:`deeppot.schema.descriptor.DescriptorSection`);
* ``from_config``: a fresh descriptor from a validated section;
* ``serialize`` / ``deserialize``: its part of the ``.dp`` JSON, arrays included;
* ``check_file_section`` / ``check_arrays`` / ``config_size``: the safety checks of model
  files and checkpoints (types and ranges before any array is read, shapes before use).

Modules register their class with :func:`deeppot.core.descriptor.registry.register`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

STD_FLOOR = 1e-2
DEFAULT_STD = 0.1


@dataclass
class EdgeBatch:
    """Edges of one or more frames flattened into one graph.

    Attributes
    ----------
    rij : Tensor (E, 3)          pair vectors r_j - r_i (Å); may require grad
    center : LongTensor (E,)     centre atom, indexing ``atype`` (0..N-1)
    neighbor : LongTensor (E,)   neighbour atom (its own index; used for tie-breaks and forces)
    atype : LongTensor (N,)      type of every centre atom
    neighbor_types : LongTensor (E,), optional
        type of each neighbour; defaults to ``atype[neighbor]`` (when neighbours are centres too).
        Set it when the batch holds a subset of centres (chunked evaluation).
    """

    rij: torch.Tensor
    center: torch.Tensor
    neighbor: torch.Tensor
    atype: torch.Tensor
    neighbor_types: torch.Tensor | None = None

    @property
    def natoms(self) -> int:
        return int(self.atype.shape[0])

    @property
    def neighbor_type(self) -> torch.Tensor:
        return self.atype[self.neighbor] if self.neighbor_types is None else self.neighbor_types

    @property
    def center_type(self) -> torch.Tensor:
        return self.atype[self.center]


class Descriptor(nn.Module):
    """Interface of every descriptor: atoms' environments (an :class:`EdgeBatch`) → one row per atom.

    Attributes every descriptor has: ``rcut`` (Å), ``sel`` (neighbour slots per type, the
    overflow bound), ``ntypes``, ``dim_out`` (row width), ``embeddings`` (a ModuleList, empty
    for descriptors without embedding nets), ``davg`` / ``dstd`` (normalisation buffers).
    """

    type_name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    Config: ClassVar[type]
    #: can ``deeppot compress`` tabulate its embedding nets?
    compressible: ClassVar[bool] = False

    # ----- building --------------------------------------------------------------------------
    @classmethod
    def from_config(cls, section: dict, type_map: list[str]) -> Descriptor:  # pragma: no cover - abstract
        """A descriptor with fresh weights from a validated input section (sel already resolved)."""
        raise NotImplementedError

    def compute_input_stats(self, batches: list[EdgeBatch]) -> None:  # pragma: no cover - abstract
        """Set the normalisation from sampled training data."""
        raise NotImplementedError

    def forward(self, batch: EdgeBatch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def dim_out(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    # ----- model files -----------------------------------------------------------------------
    def load_stats(self, variables: dict) -> None:
        """Copy a ``.dp`` section's ``davg`` / ``dstd`` arrays into the normalisation buffers."""
        with torch.no_grad():
            for name in ("davg", "dstd"):
                buffer = getattr(self, name)
                buffer.copy_(torch.as_tensor(variables[name], dtype=buffer.dtype).reshape(buffer.shape))

    def serialize(self, type_map: list[str]) -> dict:  # pragma: no cover - abstract
        """Its ``model.descriptor`` section of a ``.dp`` file (arrays as numpy)."""
        raise NotImplementedError

    @classmethod
    def deserialize(cls, d: dict, ntypes: int, where: str) -> Descriptor:  # pragma: no cover - abstract
        """The descriptor a checked ``model.descriptor`` section describes."""
        raise NotImplementedError

    @classmethod
    def check_file_section(cls, c, desc: dict, ntypes: int, out: dict,
                           params: list[int]) -> None:  # pragma: no cover - abstract
        """Types and ranges of a ``.dp`` section before any array is read (see :mod:`deeppot.model.limits`).

        Records the shape (or size bound) of each referenced dataset in ``out`` and the
        weight count of each network in ``params``.
        """
        raise NotImplementedError

    @classmethod
    def check_arrays(cls, desc: dict, ntypes: int, where: str) -> int:  # pragma: no cover - abstract
        """Check the section's arrays against its JSON (:mod:`deeppot.model.shape_check`); return dim_out."""
        raise NotImplementedError

    @staticmethod
    def stats_refs(c, desc: dict, path: str, size: int, out: dict) -> None:
        """Record the size bound of the section's ``davg`` / ``dstd`` datasets (``check_file_section``)."""
        from deeppot.model.limits import ref_shape

        var = c.obj(desc, "@variables", path)
        for name in ("davg", "dstd"):
            ref_shape(c, var, name, path, size, out)

    @staticmethod
    def expect_stats(desc: dict, ntypes: int, width: int, where: str) -> None:
        """``davg`` / ``dstd`` hold (ntypes, width) values (``check_arrays``)."""
        from deeppot.model.shape_check import expect_shape

        for name in ("davg", "dstd"):
            expect_shape(where, f"model.descriptor.@variables.{name}", desc.get("@variables", {}).get(name),
                         (ntypes, width), size_only=True)

    @classmethod
    def config_size(cls, c, desc: dict, type_map: list[str]) -> tuple[int, int]:  # pragma: no cover - abstract
        """(dim_out, network weights) a checkpoint's build-time section declares, checked for size."""
        raise NotImplementedError


