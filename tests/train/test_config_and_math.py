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
    with pytest.raises(ConfigError, match=r"unknown key training.numb_step; did you mean 'numb_steps'\?"):
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
    with pytest.raises(ConfigError, match="missing required key training.training_data.systems"):
        normalize(bad)


def test_yaml_input_and_parse_errors(tmp_path):
    import yaml

    (tmp_path / "in.yaml").write_text(yaml.safe_dump(tiny_config()))
    assert load_config(tmp_path / "in.yaml")["training"]["numb_steps"] == 6
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="bad.json: cannot parse"):
        load_config(tmp_path / "bad.json")


def test_schema_doc_lists_every_section():
    text = "\n".join(describe())
    for key in ("model.descriptor.rcut_smth", "learning_rate.stop_lr", "loss.limit_pref_f", "training.max_ckpt_keep"):
        assert key in text


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
