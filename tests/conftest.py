"""Fixtures: `mod` runs a test body once with tape and once with torch; every test must leave
grad mode, inference mode, anomaly mode and the default dtype as it found them."""

from __future__ import annotations

import pytest
import torch
from helpers import MODULE_IDS, MODULES

import tape
from tape.grad_mode import STATE

pytest_plugins = ["tape.pytest_plugin"]  # the `mod` fixture and @pytest.mark.both


@pytest.fixture(params=MODULES, ids=MODULE_IDS)
def mod(request):
    """The module under test: `tape`, then `torch` (the same body must pass with both)."""
    return request.param


@pytest.fixture(autouse=True)
def leaves_no_trace():
    yield
    assert STATE.grad_enabled, "a test left tape's grad mode disabled"
    assert not STATE.inference, "a test left tape's inference mode on"
    assert not STATE.anomaly, "a test left tape's anomaly mode on"
    assert STATE.saved_hooks == (), "a test left saved-tensor hooks installed"
    assert tape.get_default_dtype() == tape.float32, "a test changed tape's default dtype"
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    assert not torch.is_anomaly_enabled()
    assert torch.get_default_dtype() == torch.float32
