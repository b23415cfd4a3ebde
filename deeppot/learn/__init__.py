"""Concurrent learning (DP-GEN's loop, SCIENCE.md §4) inside deeppot, with tasks on Dask.

>>> from deeppot.learn import run_learn
>>> summaries = run_learn("learn.json")   # same as `deeppot learn learn.json`; resumable

Modules, one job each: :mod:`~deeppot.learn.config` (input schema), :mod:`~deeppot.learn.loop`
(iterations and on-disk state), :mod:`~deeppot.learn.select` (trust levels, farthest-point
sampling), :mod:`~deeppot.learn.labelers` (tblite, PySCF, any ASE calculator),
:mod:`~deeppot.learn.tasks` (the Dask tasks), :mod:`~deeppot.learn.report` (table and plot).
"""


def run_learn(input_path):
    from deeppot.learn.loop import run_learn as _run

    return _run(input_path)


__all__ = ["run_learn"]
