"""Fixtures: `mod` runs a test body once with tape and once with torch; every test must leave
grad mode, inference mode, anomaly mode and the default dtype as it found them, and starts
as a fresh process would, with no user code registered (so playback takes its plain order
unless the test itself registers a hook: NOTE [torch's order] in tape/engine.py)."""

from __future__ import annotations

import pytest
import torch
from helpers import MODULE_IDS, MODULES

import tape
from tape.grad_mode import STATE
from tape.hooks import USER_CODE

pytest_plugins = ["tape.pytest_plugin"]  # the `mod` fixture and @pytest.mark.both


@pytest.fixture(params=MODULES, ids=MODULE_IDS)
def mod(request):
    """The module under test: `tape`, then `torch` (the same body must pass with both)."""
    return request.param


@pytest.fixture(autouse=True)
def leaves_no_trace():
    USER_CODE[0] = False
    yield
    assert STATE.grad_enabled, "a test left tape's grad mode disabled"
    assert not STATE.inference, "a test left tape's inference mode on"
    assert not STATE.anomaly, "a test left tape's anomaly mode on"
    assert STATE.saved_hooks == (), "a test left saved-tensor hooks installed"
    assert tape.get_default_dtype() == tape.float32, "a test changed tape's default dtype"
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    assert not torch.is_anomaly_enabled()
    assert torch.get_default_dtype() == torch.float32
