"""Descriptors: symmetry-preserving atomic environments of the Deep Potential family.

Every descriptor consumes *edges* (pair vectors ``r_ij`` with their centre atom and neighbour
type) and returns one row per atom. Each type is one module of this package whose class
registers itself (:mod:`deeppot.core.descriptor.registry`); importing the package imports
every module, so a new descriptor needs no edit here. ``DESCRIPTORS`` maps every accepted
``type`` name (DeePMD-kit's aliases included) to its class.
"""

import importlib
import pkgutil

from deeppot.core.descriptor.base import Descriptor, EdgeBatch
from deeppot.core.descriptor.loc_frame import DescriptorLocFrame  # noqa: E402
from deeppot.core.descriptor.registry import all_names, descriptor_class, descriptor_types

# the DeePMD-kit family first (the order of listings), then every other module of the package
from deeppot.core.descriptor.se_e2_a import DescriptorSeA  # noqa: E402, I001
from deeppot.core.descriptor.se_e2_r import DescriptorSeR  # noqa: E402
from deeppot.core.descriptor.se_e3 import DescriptorSeT  # noqa: E402

_INFRASTRUCTURE = {"base", "registry", "smooth"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module.name}")

DESCRIPTORS: dict[str, type[Descriptor]] = all_names()

__all__ = ["DESCRIPTORS", "Descriptor", "EdgeBatch", "DescriptorSeA", "DescriptorSeR", "DescriptorSeT",
           "DescriptorLocFrame", "descriptor_class", "descriptor_types"]
