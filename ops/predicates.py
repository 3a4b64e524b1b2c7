"""Predicates: isnan, isfinite (bool tensors that never require grad) and allclose (a bool)."""

from __future__ import annotations

import numpy as np

from .dims import check_broadcast
from .registry import call, function, op

# never differentiable: registered without a backward, like the comparisons
ISNAN = op("isnan", "IsnanBackward0", lambda a: np.asarray(np.isnan(a)))
ISFINITE = op("isfinite", "IsfiniteBackward0", lambda a: np.asarray(np.isfinite(a)))


@function("isnan", methods="isnan")
def isnan(input):
    """True where input is NaN (never, for integers)."""
    return call(ISNAN, (input,))


@function("isfinite", methods="isfinite")
def isfinite(input):
    """True where input is neither infinite nor NaN (always, for integers)."""
    return call(ISFINITE, (input,))


@function("allclose", methods="allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether |input - other| <= atol + rtol * |other| everywhere (broadcasting; equal
    infinities are close, NaNs only with equal_nan). A Python bool, never recorded."""
    for pos, (name, x) in enumerate((("input", input), ("other", other)), 1):
        if not hasattr(x, "_data"):
            raise TypeError(f"allclose(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(x).__name__}")
    a, b = np.asarray(input._data), np.asarray(other._data)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{input.dtype.torch_name} did not match {other.dtype.torch_name}")
    check_broadcast(a.shape, b.shape)
    return bool(np.all(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))
