"""One ``deeppot md`` run from its input file: build, check, write outputs, resume, stop cleanly.

Safety rules (see :mod:`deeppot.md.output` and :mod:`deeppot.md.restart`):

* a fresh run refuses an ``output_dir`` that already holds md outputs, unless ``force``;
* a restart refuses a restart file of another system, ensemble or potential, and cuts
  ``thermo.log`` / ``traj.extxyz`` back to the restart step, so a killed and resumed run ends with
  the same bytes as an uninterrupted one; all checks happen before anything is modified;
* SIGTERM / SIGINT finish the current step, write ``restart.npz`` and raise
  :class:`~deeppot.interrupt.Interrupted`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from deeppot.data.type_map import resolve_type_map
from deeppot.errors import DeeppotError
from deeppot.fileio import make_dirs
from deeppot.interrupt import Interrupted, graceful_stop
from deeppot.md import uncertainty
from deeppot.md.config import ENSEMBLE_OPTIONS, build_potential, normalize, read_structure
from deeppot.md.output import ThermoLog, TrajectoryWriter, truncate, write_frame
from deeppot.md.restart import potential_identity, save_restart
from deeppot.md.runner import Simulation
from deeppot.train.config import load_config

#: what a run writes into output_dir
OUTPUTS = ("thermo.log", "traj.extxyz", "restart.npz", "last_good.extxyz", "candidates.extxyz")


def run_md(input_path: str | Path, restart: str | None = None, force: bool = False,
           progress: bool = True) -> int:
    """Run the MD an input file describes (fresh, or from ``restart``); returns 0 when all steps are done.

    Raises :class:`~deeppot.errors.DeeppotError` for bad input (before any output is touched) and
    :class:`~deeppot.interrupt.Interrupted` after saving a restart on SIGTERM / SIGINT.
    """
    path = Path(input_path)
    cfg = normalize(load_config(path), where=str(path))
    base = path.resolve().parent
    out = (base / cfg["output_dir"]) if not Path(cfg["output_dir"]).is_absolute() else Path(cfg["output_dir"])
    atoms = read_structure(base / cfg["structure"], cfg["frame"])
    hint = list(dict.fromkeys(atoms.get_chemical_symbols()))
    potential = build_potential(cfg["potential"], base, hint)
    if cfg.get("walls"):  # external planar walls (a slab between walls, as deeppot cdft's slit)
        from deeppot.potentials.wall import PlanarWalls, Wall93, WithExternal

        potential = WithExternal(potential, PlanarWalls([Wall93(**{k: v for k, v in w.items() if k != "type"})
                                                         for w in cfg["walls"]]))
    identity = potential_identity(cfg["potential"], base, potential)
    if cfg.get("pair_table"):  # a tabulated pair potential added on top (a CG model's pair prior)
        from deeppot.potentials.pair_table import PairTable
        from deeppot.potentials.wall import WithExternal

        spec = cfg["pair_table"]
        table = PairTable.from_file(base / spec["file"], spec.get("type_map") or potential.type_map or hint)
        potential = WithExternal(potential, table)
        identity = dict(identity, hash=hashlib.sha256((identity["hash"] + table.digest).encode()).hexdigest(),
                        describe=f"{identity['describe']} + pair table {spec['file']} (sha256 {table.digest[:12]})")
    type_map = resolve_type_map(potential.type_map, atoms.get_chemical_symbols())
    committee = cfg["potential"].get("type") == "committee"
    extra_columns = ["max_devi_f"] if committee else []
    thermo_path, traj = out / "thermo.log", out / "traj.extxyz"
    options = {k: cfg[k] for k in ENSEMBLE_OPTIONS}
    common = dict(ensemble=cfg["ensemble"], timestep_fs=cfg["timestep_fs"], skin_A=cfg["skin_A"],
                  max_force_eV_A=cfg["max_force_eV_A"], min_distance_A=cfg["min_distance_A"],
                  max_devi_f_stop=uncertainty.stop_level(cfg["potential"]), **options)

    # every check before anything in output_dir is touched
    if restart:
        state, meta, cuts = _check_restart(restart, cfg, atoms, type_map, identity, out, extra_columns)
        sim = Simulation(state, potential, temperature_K=cfg["temperature_K"], seed=cfg["seed"], resume=True, **common)
        sim.ensemble.set_rng_state(meta["rng"])
        if sim.verlet is not None and "ref_positions" in meta["verlet"]:
            sim.verlet.restore(meta["verlet"]["ref_positions"], meta["verlet"].get("ref_cell"))
    else:
        _refuse_earlier_outputs(out, force)
        # checks the initial structure (overlapping atoms, huge coordinates)
        sim = Simulation.from_atoms(atoms, potential, temperature_K=cfg["temperature_K"],
                                    initial_temperature_K=cfg["initial_temperature_K"], seed=cfg["seed"], **common)

    # from here on output_dir changes
    make_dirs(out)
    for stale in out.glob(".restart.npz.*.tmp"):  # left by a run killed while saving
        stale.unlink()
    if restart:
        for file, size in cuts.items():
            truncate(file, size)
    elif (out / "last_good.extxyz").exists():
        (out / "last_good.extxyz").unlink()  # only reachable with --force
    thermo = ThermoLog(thermo_path, extra_columns, append=bool(restart))
    writer = TrajectoryWriter(traj, fresh=not restart) if cfg["traj_every"] else None
    candidates = uncertainty.attach(sim, cfg["potential"], out, sim.state.step if restart else None)
    try:
        return _loop(str(input_path), progress, cfg, sim, thermo, writer, out, type_map, identity)
    finally:
        if candidates is not None:
            candidates.close()
        thermo.close()
        if writer is not None:
            writer.close()


def _check_restart(restart: str, cfg, atoms, type_map, identity, out, extra_columns):
    """Load and check the restart file; plan (do not yet make) the cuts of the logs to its step."""
    from deeppot.md.output import THERMO_COLUMNS, thermo_prefix, trajectory_prefix
    from deeppot.md.restart import check_restart, load_restart

    state, meta = load_restart(Path(restart))
    for warning in check_restart(Path(restart).name, state, meta, atoms, cfg["structure"], type_map,
                                 cfg["ensemble"], identity):
        logging.getLogger("deeppot.md").warning(warning)
    cuts = {}
    if (out / "thermo.log").exists():
        cuts[out / "thermo.log"] = thermo_prefix(out / "thermo.log", state.step, THERMO_COLUMNS + extra_columns)
    if (out / "traj.extxyz").exists():
        cuts[out / "traj.extxyz"] = trajectory_prefix(out / "traj.extxyz", state.step)
    return state, meta, cuts


def _refuse_earlier_outputs(out, force: bool) -> None:
    """A fresh run never overwrites an earlier run's outputs unless told to (``--force``)."""
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not force:
        raise DeeppotError(f"{out}: holds {', '.join(existing)} of an earlier run; resume it with --restart "
                           f"{out / 'restart.npz'}, choose a new output_dir, or pass --force to overwrite them")


def _loop(input_name: str, progress: bool, cfg, sim, thermo, writer, out, type_map, identity) -> int:
    """Attach the outputs, run, and save a final restart (also on SIGTERM / SIGINT)."""
    restart_file = out / "restart.npz"

    def log_thermo(s):
        st = s.state
        thermo.write({"step": st.step, "time_ps": st.time_fs / 1000, "temperature_K": st.temperature_K,
                      "potential_eV": st.energy, "kinetic_eV": st.kinetic_eV, "total_eV": st.energy + st.kinetic_eV,
                      "conserved_eV": s.conserved_eV(), "pressure_bar": st.pressure_bar, "volume_A3": st.volume_A3,
                      "max_devi_f": st.extra.get("max_devi_f") or 0.0})

    def checkpoint(s):
        # logs reach the disk before the restart that vouches for them
        thermo.sync()
        if writer is not None:
            writer.sync()
        save_restart(restart_file, s.state, s.ensemble, type_map, identity, s.verlet)

    sim.attach(log_thermo, cfg["thermo_every"])
    if writer is not None:
        sim.attach(lambda s: writer.write(s.state), cfg["traj_every"])
    sim.attach(checkpoint, cfg["restart_every"])
    sim.failure_hooks.append(lambda good: write_frame(out / "last_good.extxyz", good, append=False))
    remaining = cfg["steps"] - sim.state.step
    with graceful_stop() as stop:
        sim.run(max(remaining, 0), progress=progress, stop=lambda: stop.requested)
        checkpoint(sim)
        if stop.requested and sim.state.step < cfg["steps"]:  # a signal during the last step: the run is done
            raise Interrupted(f"md stopped by {stop.name} at step {sim.state.step}; resume with deeppot md "
                              f"{input_name} --restart {restart_file}", stop.signum)
    print(f"md: {cfg['steps']} steps done; {out / 'thermo.log'}, {out / 'traj.extxyz'}, {restart_file}")
    return 0
