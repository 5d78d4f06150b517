"""Test settings of the compiler tests.

Tests marked ``slow`` (large ring degrees, many encrypted examples) are skipped unless the
marker expression names them (``python -m pytest -m slow``, or ``-m "slow or not slow"`` for
everything), as the README describes; the default run stays a few minutes long.
"""

from __future__ import annotations

import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords and HERE in pathlib.Path(item.path).resolve().parents:
            item.add_marker(skip)
