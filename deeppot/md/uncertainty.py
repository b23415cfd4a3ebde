"""Uncertainty-aware MD with a committee: candidate frames written as they happen (DP-GEN's trust levels).

With a committee potential every step carries ε_F,max (``max_devi_f``, SCIENCE.md §4.1). This
observer, attached to a :class:`~deeppot.md.runner.Simulation` at every step, sorts each step by
the trust levels of SCIENCE.md §4.2:

* ε < ``trust_lo``: accurate, nothing written;
* ``trust_lo`` ≤ ε < ``max_devi_f_stop``: a *candidate*: the frame is appended to the candidates
  file at once (one ``os.write`` per frame, ``max_devi_f=`` and ``category=`` in its comment
  line), so a run that is killed still leaves every candidate it met;
* ε ≥ ``max_devi_f_stop``: *failed*. By default the run stops there with the last good frame
  saved (the runner's own check, see :mod:`deeppot.md.runner`); with ``stop_above_hi: false``
  the frame is written to the candidates file with ``category=failed`` and the run goes on.

On ``--restart`` the candidates file is cut back to the restart step, like the trajectory.
"""

from __future__ import annotations

import io
from pathlib import Path

from deeppot.md.output import AppendFile, state_to_atoms, trajectory_prefix, truncate


class CandidateWriter:
    """Observer writing candidate (and, when running on, failed) frames to an extxyz file."""

    def __init__(self, path: Path, trust_lo: float, trust_hi: float | None, fresh: bool = True):
        self.path = Path(path)
        self.trust_lo, self.trust_hi = trust_lo, trust_hi
        self.file = AppendFile(self.path, fresh)
        self.counts = {"candidate": 0, "failed": 0}

    def category(self, devi: float) -> str | None:
        if self.trust_hi is not None and devi >= self.trust_hi:
            return "failed"
        return "candidate" if devi >= self.trust_lo else None

    def __call__(self, sim) -> None:
        import ase.io

        devi = sim.state.extra.get("max_devi_f")
        kind = None if devi is None else self.category(devi)
        if kind is None:
            return
        atoms = state_to_atoms(sim.state)
        atoms.info.update(max_devi_f=float(devi), category=kind)
        buffer = io.StringIO()
        ase.io.write(buffer, atoms, format="extxyz")
        self.file.write(buffer.getvalue().encode())
        self.counts[kind] += 1

    def sync(self) -> None:
        self.file.sync()

    def close(self) -> None:
        self.file.close()


def attach(sim, potential_cfg: dict, output_dir: Path, restart_step: int | None = None) -> CandidateWriter | None:
    """Attach a :class:`CandidateWriter` when the md input's committee section sets ``trust_lo``.

    ``restart_step``: the run resumes from a restart file at this step; the candidates file
    is cut back to it (frames after it are written again by the resumed run).
    """
    if potential_cfg.get("type") != "committee" or potential_cfg.get("trust_lo") is None:
        return None
    path = Path(output_dir) / potential_cfg.get("candidates_file", "candidates.extxyz")
    if restart_step is not None and path.exists():
        truncate(path, trajectory_prefix(path, restart_step))
    hi = potential_cfg.get("max_devi_f_stop")
    writer = CandidateWriter(path, potential_cfg["trust_lo"], hi, fresh=restart_step is None)
    sim.attach(writer, 1)
    return writer


def stop_level(potential_cfg: dict) -> float | None:
    """The deviation at which the runner stops: ``max_devi_f_stop``, unless ``stop_above_hi`` is false."""
    if not potential_cfg.get("stop_above_hi", True):
        return None
    return potential_cfg.get("max_devi_f_stop")
