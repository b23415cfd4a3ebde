import json

import pytest


@pytest.fixture
def write_input(tmp_path):
    def write(config, name="input.json"):
        path = tmp_path / name
        path.write_text(json.dumps(config))
        return path

    return write
