"""DeePMD-kit's energy loss (``deepmd/pt/loss/ener.py``; SCIENCE.md §2.9).

.. math:: L = \\frac{p_e}{N}\\langle(E-E^*)^2\\rangle + p_f\\langle(F-F^*)^2\\rangle
          + \\frac{p_v}{N}\\langle(\\Xi-\\Xi^*)^2\\rangle + p_{ae}\\langle(E_i-E_i^*)^2\\rangle

with N the number of atoms per frame; a term is active only when its prefactors are not
both zero and the batch has that label. Reported metrics: ``rmse`` = sqrt(L),
``rmse_e`` = sqrt(⟨(E−E*)²⟩)/N (per atom), ``rmse_f``, ``rmse_v`` = sqrt(⟨(Ξ−Ξ*)²⟩)/N.
"""

from __future__ import annotations

import torch

from deeppot.errors import ConfigError
from deeppot.train.schedule import prefactor

#: loss term -> label it needs
LABELS = {"e": "energy", "f": "force", "v": "virial", "ae": "atom_ener"}


class EnergyLoss:
    def __init__(self, cfg: dict, start_lr: float):
        self.cfg = cfg
        self.start_lr = start_lr

    def active(self, key: str) -> bool:
        return bool(self.cfg[f"start_pref_{key}"] or self.cfg[f"limit_pref_{key}"])

    def check_labels(self, systems) -> None:
        """Before any work: some term with a non-zero prefactor must have labels in every system."""
        for system in systems:
            present = [name for name in LABELS.values() if getattr(system, name, None) is not None]
            if not any(LABELS[k] in present for k in LABELS if self.active(k)):
                self._nothing_to_fit(present, f"{system.path}: ")

    def _nothing_to_fit(self, present, where: str = "") -> None:
        wanted = [LABELS[k] for k in LABELS if self.active(k)]
        raise ConfigError(f"{where}loss: the non-zero prefactors ask for {', '.join(wanted)} but the data has "
                          f"{', '.join(sorted(present)) or 'no labels'}")

    def __call__(self, pred: dict, label: dict, natoms: int, lr: float) -> tuple[torch.Tensor, dict]:
        pref = {k: prefactor(self.cfg[f"start_pref_{k}"], self.cfg[f"limit_pref_{k}"], lr, self.start_lr)
                for k in ("e", "f", "v", "ae")}
        loss = pred["energy"].new_zeros(())
        metrics = {}
        norm = 1.0 / natoms
        if "energy" in label:
            l2 = torch.mean((pred["energy"] - label["energy"]) ** 2)
            if self.active("e"):
                loss = loss + norm * pref["e"] * l2
            metrics["rmse_e"] = float(l2.detach().sqrt()) * norm
        if "force" in label:
            l2 = torch.mean((pred["force"] - label["force"]) ** 2)
            if self.active("f"):
                loss = loss + pref["f"] * l2
            metrics["rmse_f"] = float(l2.detach().sqrt())
        if "virial" in label:
            l2 = torch.mean((pred["virial"] - label["virial"]) ** 2)
            if self.active("v"):
                loss = loss + norm * pref["v"] * l2
            metrics["rmse_v"] = float(l2.detach().sqrt()) * norm
        if "atom_ener" in label and self.active("ae"):
            l2 = torch.mean((pred["atom_energy"] - label["atom_ener"]) ** 2)
            loss = loss + pref["ae"] * l2
            metrics["rmse_ae"] = float(l2.detach().sqrt())
        used = [k for k, name in LABELS.items() if name in label and self.active(k)]
        if not used:  # nothing to fit: the zero loss has no gradient
            self._nothing_to_fit(label)
        metrics["rmse"] = float(loss.detach().clamp(min=0).sqrt())
        return loss, metrics
