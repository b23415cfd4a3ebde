"""Ensembles declare their options: each one is used, an undeclared one is an error."""

import math

import pytest
from ase import units

from deeppot.errors import ConfigError
from deeppot.md.config import describe, normalize
from deeppot.md.ensembles import ENSEMBLES, OPTIONS, Langevin


def test_langevin_takes_its_friction_from_tau_t():
    assert math.isclose(Langevin(1.0, 300.0, tau_t_fs=50.0).gamma * units.fs, 1 / 50.0)
    assert math.isclose(Langevin(1.0, 300.0, friction_per_fs=0.05).gamma * units.fs, 0.05)
    assert math.isclose(Langevin(1.0, 300.0).gamma * units.fs, 1 / OPTIONS["tau_t_fs"].default)
    with pytest.raises(ConfigError, match="not both"):
        Langevin(1.0, 300.0, tau_t_fs=50.0, friction_per_fs=0.05)


@pytest.mark.parametrize("name", list(ENSEMBLES))
def test_undeclared_option_is_rejected(name):
    cls = ENSEMBLES[name]
    foreign = next(o for o in OPTIONS if o not in cls.options)
    with pytest.raises(ConfigError, match=f"{foreign}: not an option of ensemble {name}"):
        cls(1.0, 300.0, **{foreign: 1})
    cls(1.0, 300.0, **{o: None for o in OPTIONS})  # None = not given


def test_option_typo_gets_a_hint():
    with pytest.raises(ConfigError, match="tau_t: not an option of ensemble nvt-bussi; did you mean 'tau_t_fs'"):
        ENSEMBLES["nvt-bussi"](1.0, 300.0, tau_t=1.0)


@pytest.mark.parametrize("kwargs,message", [
    ({"timestep_fs": -0.5}, "timestep_fs: -0.5 must be > 0"),
    ({"timestep_fs": 0.0}, "timestep_fs"),
    ({"temperature_K": -1.0}, "temperature_K"),
    ({"tau_t_fs": 0.0}, "tau_t_fs: 0.0 must be > 0"),
    ({"tau_t_fs": "100"}, "tau_t_fs: '100' is not a number"),
])
def test_api_values_checked(kwargs, message):
    args = {"timestep_fs": 1.0, "temperature_K": 300.0, **kwargs}
    with pytest.raises(ConfigError, match=message):
        ENSEMBLES["nvt-bussi"](**args)


def test_thermostat_needs_temperature_nve_does_not():
    ENSEMBLES["nve"](1.0)
    with pytest.raises(ConfigError, match="nvt-nhc needs temperature_K"):
        ENSEMBLES["nvt-nhc"](1.0)


def test_md_input_passes_only_given_options_and_keys_doc_lists_them():
    cfg = normalize({"structure": "a.xyz", "potential": {"type": "lj"}, "ensemble": "nvt-langevin",
                     "temperature_K": 300, "steps": 1, "tau_t_fs": 20.0}, "md.json")
    assert cfg["tau_t_fs"] == 20.0 and cfg["friction_per_fs"] is None and cfg["chain_length"] is None
    assert cfg["potential"] == {"type": "lj"}  # unset potential keys stay unset (the potential's defaults)
    text = "\n".join(describe())
    for key in ("friction_per_fs", "chain_length", "potential (type committee)", "max_devi_f_stop"):
        assert key in text
