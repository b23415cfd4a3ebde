import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WATER = ROOT / "examples" / "water" / "data"

torch.set_default_dtype(torch.float64)
torch.set_num_threads(int(os.environ.get("DEEPPOT_TEST_THREADS", "1")))


@pytest.fixture
def water_data() -> Path:
    return WATER


@pytest.fixture
def parity_dir() -> Path:
    return FIXTURES / "parity"
