"""Labelers: quantum chemistry (or any ASE calculator) turning frames into DeePMD labels.

Every labeler returns energy in eV, forces in eV/Å and the virial in eV (DeePMD sign,
W = -σV; None without a periodic cell): units are converted here, at the labeler's edge,
and nowhere else. A calculation that does not converge raises :class:`LabelFailed`, which the
loop records and skips; it is never fatal.

>>> labeler = make_labeler({"type": "tblite", "method": "GFN1-xTB"})
>>> energy_eV, forces_eV_A, virial_eV = labeler(atoms)
"""

from __future__ import annotations

from deeppot.learn.labelers.base import Label, LabelFailed


def make_labeler(spec: dict):
    """The labeler of a ``label`` section (already validated by :mod:`deeppot.learn.config`)."""
    kind = spec["type"]
    options = {k: v for k, v in spec.items() if k != "type"}
    if kind == "tblite":
        from deeppot.learn.labelers.xtb import TbliteLabeler

        return TbliteLabeler(**options)
    if kind == "pyscf":
        from deeppot.learn.labelers.pyscf_dft import PyscfLabeler

        return PyscfLabeler(**options)
    if kind == "ase":
        from deeppot.learn.labelers.ase_calc import AseLabeler

        return AseLabeler(**options)
    raise ValueError(f"unknown labeler type {kind!r}")


__all__ = ["Label", "LabelFailed", "make_labeler"]
