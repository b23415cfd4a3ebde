"""Input checking, learning-rate schedule and loss normalisation."""

import math

import pytest
import torch
from train_helpers import tiny_config

from deeppot.errors import ConfigError
from deeppot.train.config import describe, load_config, normalize
from deeppot.train.loss import EnergyLoss
from deeppot.train.schedule import ExpDecayLR


def test_unknown_key_suggests_the_right_one():
    cfg = tiny_config()
    cfg["training"]["numb_step"] = cfg["training"].pop("numb_steps")
    with pytest.raises(ConfigError, match=r"training/numb_step: unknown key; did you mean 'numb_steps'\?"):
        normalize(cfg)
    cfg = tiny_config()
    cfg["model"]["descriptor"]["rcut_smooth"] = 0.5
    with pytest.raises(ConfigError, match="did you mean 'rcut_smth'"):
        normalize(cfg)


def test_comments_ignored_defaults_filled_and_required_keys():
    cfg = normalize(tiny_config())
    assert cfg["loss"]["start_pref_v"] == 0.0 and cfg["training"]["disp_file"] == "lcurve.out"
    bad = tiny_config()
    del bad["training"]["training_data"]["systems"]
    with pytest.raises(ConfigError, match="training/training_data/systems: missing required key"):
        normalize(bad)


def test_yaml_input_and_parse_errors(tmp_path):
    import yaml

    (tmp_path / "in.yaml").write_text(yaml.safe_dump(tiny_config()))
    assert load_config(tmp_path / "in.yaml")["training"]["numb_steps"] == 6
    # YAML 1.2 / JSON floats: 1e-3 is a number (PyYAML alone reads it as a string)
    (tmp_path / "lr.yaml").write_text("learning_rate: {start_lr: 1e-3, stop_lr: 3.51e-8, decay_steps: 5000}\n")
    assert load_config(tmp_path / "lr.yaml")["learning_rate"] == {"start_lr": 1e-3, "stop_lr": 3.51e-8,
                                                                   "decay_steps": 5000}
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="bad.json: cannot parse"):
        load_config(tmp_path / "bad.json")


def test_schema_doc_lists_every_section():
    text = "\n".join(describe())
    for section in ("model/descriptor (type se_e2_r):", "learning_rate:", "loss:", "training/validation_data:"):
        assert section in text
    for key in ("rcut_smth", "stop_lr", "limit_pref_f", "max_ckpt_keep", "set_prefix", "precision"):
        assert f"  {key} " in text


def test_bundled_example_inputs_are_valid():
    from train_helpers import ROOT

    from deeppot.md.config import normalize as md_normalize

    for path in (ROOT / "examples").rglob("*.json"):
        parts = set(path.relative_to(ROOT).parts)
        if "data" in parts or any(p.startswith(("work", "results", "md_out")) for p in parts):
            continue  # data sets and the (git-ignored) outputs of example runs, not inputs
        cfg = load_config(path)
        if "model" in cfg and "training" in cfg:
            data = cfg["training"].get("training_data", {})
            if data.get("systems") == []:  # a deeppot learn template: the loop fills in the systems
                data["systems"] = ["filled-in-by-deeppot-learn"]
            normalize(cfg, where=str(path))
        elif "structure" in cfg and "potential" in cfg:
            md_normalize(cfg, where=path.name)  # no base: the models it names are made by the demo


def test_descriptor_sections_are_per_type():
    """se_e2_r / se_e3 get no se_e2_a keys (axis_neuron broke their training); loc_frame has its own keys."""
    for kind in ("se_e2_r", "se_e3"):
        cfg = tiny_config()
        cfg["model"]["descriptor"].pop("axis_neuron")
        cfg["model"]["descriptor"].pop("type_one_side")
        cfg["model"]["descriptor"]["type"] = kind
        desc = normalize(cfg)["model"]["descriptor"]
        assert "axis_neuron" not in desc and desc["rcut_smth"] == 0.5
    cfg = tiny_config()
    cfg["model"]["descriptor"]["type"] = "se_e2_r"
    with pytest.raises(ConfigError, match="model/descriptor/axis_neuron: unknown key"):
        normalize(cfg)


@pytest.mark.parametrize("mutate,expected", [
    (lambda c: c["model"]["descriptor"].update(rcut_smth=7.0, rcut=6.0),
     "in.json: model/descriptor/rcut_smth: 7.0 must be < rcut 6.0"),
    (lambda c: c["model"].update(type_map="OH"), 'model/type_map: "OH" is not a list of strings'),
    (lambda c: c["training"].update(disp_freq=0), "training/disp_freq: 0 must be ≥ 1"),
    (lambda c: c["training"].update(numb_steps=2e1), "training/numb_steps: 20.0 is not an integer"),
    (lambda c: c["training"].update(numb_steps=-5), "training/numb_steps: -5 must be ≥ 1"),
    (lambda c: c["model"]["descriptor"].update(type="se_atten"), "not supported by deeppot yet"),
    (lambda c: c["model"].update(type_embedding={"neuron": [8]}), "model/type_embedding: .* not supported by deeppot"),
    (lambda c: c["model"]["descriptor"].update(sel=[40]), "model/descriptor/sel: .* 1 entries but type_map has 2"),
    (lambda c: c["model"]["descriptor"].update(precision="float16"), "precision: .* not supported by deeppot yet"),
])
def test_bad_values_are_one_line_with_file_and_key(mutate, expected):
    cfg = tiny_config()
    mutate(cfg)
    with pytest.raises(ConfigError, match=expected):
        normalize(cfg, where="in.json")


def test_deepmd_kit_keys_with_a_meaning_are_accepted():
    cfg = tiny_config()
    cfg["training"]["training_data"].update(set_prefix="set", auto_prob="prob_sys_size;0:1:0.25;1:2:0.75")
    cfg["model"]["fitting_net"].update(numb_fparam=0, precision="float32")
    cfg["model"]["descriptor"].update(precision="float64", exclude_types=[])
    out = normalize(cfg)
    assert out["training"]["training_data"]["auto_prob"].startswith("prob_sys_size;")
    assert out["model"]["fitting_net"]["precision"] == "float32"


def test_auto_prob_blocks_as_deepmd_kit():
    import numpy as np

    from deeppot.train.sampler import block_probs

    probs = block_probs("prob_sys_size;0:2:0.2;2:3:0.8", np.array([1.0, 3.0, 5.0]))
    assert np.allclose(probs, [0.05, 0.15, 0.8])


def test_learning_rate_is_stepped_exponential_to_stop_lr():
    lr = ExpDecayLR(1e-3, 3.51e-8, 5000, 1_000_000)
    assert abs(lr.decay_rate - 0.95) < 1e-4  # SCIENCE.md §2.8 water example
    assert lr(0) == lr(4999) == 1e-3
    assert math.isclose(lr(5000), 1e-3 * lr.decay_rate)
    assert math.isclose(lr(999_999), 1e-3 * lr.decay_rate ** 199)
    short = ExpDecayLR(1e-3, 1e-5, 5000, 200)  # decay_steps >= numb_steps is shrunk as DeePMD-kit does
    assert short.decay_steps == 3 and short(199) >= 1e-5


def test_loss_normalisation_by_hand():
    loss = EnergyLoss({"start_pref_e": 0.02, "limit_pref_e": 1.0, "start_pref_f": 1000.0, "limit_pref_f": 1.0,
                       "start_pref_v": 0.0, "limit_pref_v": 0.0, "start_pref_ae": 0.0, "limit_pref_ae": 0.0}, 1e-3)
    pred = {"energy": torch.tensor([1.0, 2.0]), "force": torch.zeros(2, 4, 3), "virial": torch.zeros(2, 9)}
    label = {"energy": torch.tensor([0.0, 0.0]), "force": torch.ones(2, 4, 3)}
    value, metrics = loss(pred, label, natoms=4, lr=5e-4)
    pe, pf = 1.0 + (0.02 - 1.0) * 0.5, 1.0 + (1000.0 - 1.0) * 0.5
    assert math.isclose(float(value), pe * 2.5 / 4 + pf * 1.0)
    assert math.isclose(metrics["rmse_e"], math.sqrt(2.5) / 4) and metrics["rmse_f"] == 1.0
    assert math.isclose(metrics["rmse"], math.sqrt(float(value)))
