"""glibc malloc keeps freed memory once a model exists (core/memory.py), and the opt-out works."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

SCRIPT = """
from deeppot.core import memory
from deeppot.model.build import build_model
build_model({"type_map": ["O", "H"], "descriptor": {"type": "se_e2_a", "rcut": 4.0, "rcut_smth": 0.5,
             "sel": [4, 8], "neuron": [4, 8]}, "fitting_net": {"neuron": [8]}})
print(memory._done)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
@pytest.mark.parametrize(("env", "expected"), [({}, "True"), ({"DEEPPOT_MALLOC": "default"}, "False")])
def test_model_sets_malloc_thresholds_unless_opted_out(env, expected, monkeypatch):
    monkeypatch.delenv("DEEPPOT_MALLOC", raising=False)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env={**os.environ, **env},
                         check=True)
    assert out.stdout.strip() == expected
