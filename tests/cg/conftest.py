import pytest


def pytest_collection_modifyitems(config, items):
    """DeePCG's slow validation runs only when asked for (``-m slow``): the default run stays short."""
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow DeePCG validation: run with -m slow")
    for item in items:
        if "slow" in item.keywords and "tests/cg/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
