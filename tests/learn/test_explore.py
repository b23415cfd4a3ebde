"""Exploration runs: a safety stop keeps dense states from just before it, and they are
eligible for labelling without changing the accurate / candidate / failed fractions."""

import json

import numpy as np
import pytest
from learn_helpers import tiny_learn_input


def _random_copper_models(root, count=2):
    import torch

    from deeppot.model.build import build_model
    from deeppot.model.dp_format import save_model

    paths = []
    for seed in range(count):
        torch.manual_seed(seed)
        model = build_model({"type_map": ["Cu"],
                             "descriptor": {"type": "se_e2_a", "sel": [40], "rcut": 4.0, "rcut_smth": 0.5,
                                            "neuron": [4, 8], "axis_neuron": 2, "type_one_side": True,
                                            "seed": seed},
                             "fitting_net": {"neuron": [8], "seed": seed}}).double()
        paths.append(str(root / f"m{seed}.dp"))
        save_model(model, paths[-1])
    return paths


@pytest.mark.parametrize("pre_stop_frames", [6, 0])
def test_a_safety_stop_keeps_the_states_just_before_it_as_extra_frames(tmp_path, pre_stop_frames):
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms
    from deeppot.learn import tasks
    from deeppot.learn.config import load_learn_input
    from deeppot.learn.loop import Learner

    stage = {"temperatures_K": [800.0], "ensemble": "nvt-langevin", "steps": 400, "timestep_fs": 1.0,
             "traj_every": 10, "structures": [0], "tau_t_fs": 100.0}
    learn = tiny_learn_input(tmp_path, explore={"structures": ["init"], "schedule": [stage],
                                                "pre_stop_frames": pre_stop_frames, "pre_stop_every": 3})
    cfg = load_learn_input(learn)
    models = _random_copper_models(tmp_path)
    atoms = to_atoms(load_system(tmp_path / "init"), 0)
    atoms.calc = None
    start = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)].min()
    task = tmp_path / "task"
    task.mkdir()
    # warm and with a distance limit just under the starting closest pair: the run stops early
    limits = {"min_distance_A": start - 0.3, "max_force_eV_A": 1e6, "pre_stop_frames": pre_stop_frames,
              "pre_stop_every": 3}
    done = tasks.explore_run(str(task), models, atoms, dict(stage, temperature_K=800.0), 5, limits)
    assert done["stopped"] and "Å apart" in done["stopped"]
    stop_step = int(done["stopped"].split(":")[0].split()[-1])  # "step N: ..." names the failing step
    frames = tasks.load_frames(task)
    regular, extra = frames["step"][~frames["pre_stop"]], frames["step"][frames["pre_stop"]]
    assert regular.tolist() == list(range(0, stop_step, 10))
    assert done["frames"] == len(regular) and done["pre_stop_frames"] == len(extra)
    assert len(frames["devi"]) == len(frames["coord"]) == len(frames["step"])
    if pre_stop_frames == 0:
        assert len(extra) == 0
        return
    # the last pre_stop_frames states on the pre_stop_every grid before the stop, less those already
    # recorded as regular frames (a collapse can come right after one)
    grid = [s for s in range(0, stop_step) if s % 3 == 0][-pre_stop_frames:]
    assert extra.tolist() == [s for s in grid if s % 10 != 0]
    assert len(extra) >= 3

    # selection: every frame is a candidate (trust 0 .. 100) but the counts are over regular frames
    learner = Learner(cfg, str(learn))
    selection = learner.select(0, 0, [{"dir": str(task)}], models)
    counts = selection["counts"]
    assert counts["frames"] == 400 // 10 + 1 and counts["candidate"] == len(regular)
    assert counts["unreached"] == 400 // 10 + 1 - len(regular) and counts["failed"] == counts["unreached"]
    assert counts["pre_stop_candidates"] == len(extra)
    chosen = [f for _, f in selection["chosen"]]
    assert len(chosen) == 3 and len(set(chosen)) == 3  # fp_task_max of tiny_learn_input
    json.dumps(selection)  # written as JSON: plain types only

    # every frame failed (trust_hi tiny): only the states before the stop may be labelled, and only
    # with label_pre_stop_failed (DP-GEN's rule without it: nothing)
    for flag, expect in ((True, min(3, len(extra))), (False, 0)):
        learner.cfg["select"].update(trust_lo=0.0, trust_hi=1e-12, label_pre_stop_failed=flag)
        (learner.iter_dir(0) / "02.select.json").unlink()
        selection = learner.select(0, 0, [{"dir": str(task)}], models)
        assert selection["counts"]["failed"] == selection["counts"]["frames"]
        assert len(selection["chosen"]) == expect
        assert all(frames["pre_stop"][f] for _, f in selection["chosen"])
