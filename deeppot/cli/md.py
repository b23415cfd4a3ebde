"""``deeppot md INPUT.json|yaml [--restart FILE]``: molecular dynamics with any potential."""

from __future__ import annotations

HELP = "run molecular dynamics from an input file"


def add_arguments(parser) -> None:
    parser.add_argument("input", help="MD input (JSON or YAML); `deeppot md --keys` lists the keys")
    parser.add_argument("--restart", default=None, help="continue from a restart file (output_dir/restart.npz)")
    parser.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    import logging
    from pathlib import Path

    from deeppot.md.config import ENSEMBLE_OPTIONS, build_potential, normalize, read_structure
    from deeppot.md.output import ThermoLog, load_restart, save_restart, write_frame
    from deeppot.md.runner import Simulation
    from deeppot.train.config import load_config

    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    path = Path(args.input)
    cfg = normalize(load_config(path), where=str(path))
    base = path.resolve().parent
    out = (base / cfg["output_dir"]) if not Path(cfg["output_dir"]).is_absolute() else Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    atoms = read_structure(base / cfg["structure"], cfg["frame"])
    hint = list(dict.fromkeys(atoms.get_chemical_symbols()))
    potential = build_potential(cfg["potential"], base, hint)
    options = {k: cfg[k] for k in ENSEMBLE_OPTIONS}
    common = dict(ensemble=cfg["ensemble"], timestep_fs=cfg["timestep_fs"], skin_A=cfg["skin_A"],
                  max_force_eV_A=cfg["max_force_eV_A"], min_distance_A=cfg["min_distance_A"],
                  max_devi_f_stop=cfg["potential"].get("max_devi_f_stop"), **options)
    restart_file = out / "restart.npz"
    if args.restart:
        state, meta = load_restart(Path(args.restart))
        sim = Simulation(state, potential, temperature_K=cfg["temperature_K"], seed=cfg["seed"], **common)
        sim.ensemble.set_rng_state(meta["rng"])
        ThermoLog.truncate_after(out / "thermo.log", state.step)
    else:
        sim = Simulation.from_atoms(atoms, potential, temperature_K=cfg["temperature_K"],
                                    initial_temperature_K=cfg["initial_temperature_K"], seed=cfg["seed"], **common)
    committee = cfg["potential"].get("type") == "committee"
    thermo = ThermoLog(out / "thermo.log", ["max_devi_f"] if committee else [], append=bool(args.restart))

    def log_thermo(s):
        st = s.state
        thermo.write({"step": st.step, "time_ps": st.time_fs / 1000, "temperature_K": st.temperature_K,
                      "potential_eV": st.energy, "kinetic_eV": st.kinetic_eV, "total_eV": st.energy + st.kinetic_eV,
                      "conserved_eV": s.conserved_eV(), "pressure_bar": st.pressure_bar, "volume_A3": st.volume_A3,
                      "max_devi_f": st.extra.get("max_devi_f") or 0.0})

    traj = out / "traj.extxyz"
    if not args.restart and traj.exists():
        traj.unlink()
    sim.attach(log_thermo, cfg["thermo_every"])
    if cfg["traj_every"]:
        sim.attach(lambda s: write_frame(traj, s.state), cfg["traj_every"])

    def checkpoint(s):
        save_restart(restart_file, s.state, s.ensemble)
        if s.verlet is not None:
            s.verlet.invalidate()  # a restarted run rebuilds here too: identical lists, identical sums

    sim.attach(checkpoint, cfg["restart_every"])
    sim.failure_hooks.append(lambda good: write_frame(out / "last_good.extxyz", good, append=False))
    remaining = cfg["steps"] - sim.state.step
    sim.run(max(remaining, 0), progress=not args.no_progress)
    checkpoint(sim)
    print(f"md: {cfg['steps']} steps done; {out / 'thermo.log'}, {traj}, {restart_file}")
    return 0
