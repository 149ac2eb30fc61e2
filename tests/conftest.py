"""Shared fixtures: golden data recorded from PyTorch (see golden/README.md)."""

from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def golden():
    """``golden("conv")`` -> dict of the arrays in ``tests/golden/conv.npz``."""
    cache = {}

    def load(topic):
        if topic not in cache:
            with np.load(GOLDEN / f"{topic}.npz", allow_pickle=False) as data:
                cache[topic] = {key: data[key] for key in data.files}
        return cache[topic]

    return load


def golden_cases(data):
    """Group ``"<case>/<name>"`` keys into ``{case: {name: array}}``."""
    cases = {}
    for key, value in data.items():
        case, name = key.split("/", 1)
        cases.setdefault(case, {})[name] = value
    return cases
