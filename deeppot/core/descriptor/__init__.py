"""Descriptors: symmetry-preserving atomic environments of the Deep Potential family.

Every descriptor consumes *edges* (pair vectors ``r_ij`` with their centre atom and neighbour
type) and returns one row per atom. ``DESCRIPTORS`` maps DeePMD-kit's type names (and
their aliases) to classes; ``bp`` (Behler–Parrinello symmetry functions) is deeppot's own.
"""

from deeppot.core.descriptor.base import Descriptor, EdgeBatch
from deeppot.core.descriptor.bp import DescriptorBP
from deeppot.core.descriptor.loc_frame import DescriptorLocFrame
from deeppot.core.descriptor.se_e2_a import DescriptorSeA
from deeppot.core.descriptor.se_e2_r import DescriptorSeR
from deeppot.core.descriptor.se_e3 import DescriptorSeT

DESCRIPTORS: dict[str, type[Descriptor]] = {
    "se_e2_a": DescriptorSeA,
    "se_a": DescriptorSeA,
    "se_e2_r": DescriptorSeR,
    "se_r": DescriptorSeR,
    "se_e3": DescriptorSeT,
    "se_at": DescriptorSeT,
    "se_a_3be": DescriptorSeT,
    "loc_frame": DescriptorLocFrame,
    "bp": DescriptorBP,
}

__all__ = ["DESCRIPTORS", "Descriptor", "EdgeBatch", "DescriptorSeA", "DescriptorSeR", "DescriptorSeT",
           "DescriptorLocFrame", "DescriptorBP"]
