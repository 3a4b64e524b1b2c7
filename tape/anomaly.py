"""Anomaly detection: NaN in backward (torch's), non-finite forward values (tape's own),
and naming the op that modified a saved tensor in place."""

from __future__ import annotations

import sys

import numpy as np

from .grad_mode import STATE


class detect_anomaly:  # noqa: N801 - torch's name
    """Inside, backward checks every rule's output for NaN and names the forward call that
    created the failing node. `check_forward=True` (tape's own) also stops at the first
    forward op that produces NaN or inf."""

    def __init__(self, check_nan: bool = True, check_forward: bool = False):
        self.check_nan = check_nan
        self.check_forward = check_forward

    def __enter__(self):
        self._prev = (STATE.anomaly, STATE.anomaly_check_nan, STATE.anomaly_check_forward)
        STATE.anomaly, STATE.anomaly_check_nan = True, self.check_nan
        STATE.anomaly_check_forward = self.check_forward

    def __exit__(self, *exc):
        STATE.anomaly, STATE.anomaly_check_nan, STATE.anomaly_check_forward = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan, self.check_forward):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly:  # noqa: N801
    """Turn anomaly mode on or off now; restores the previous mode when used with `with`."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (STATE.anomaly, STATE.anomaly_check_nan)
        STATE.anomaly, STATE.anomaly_check_nan = bool(mode), check_nan

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        STATE.anomaly, STATE.anomaly_check_nan = self._prev
        return False


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


def check_backward(rec, in_grads) -> None:
    if not STATE.anomaly_check_nan:
        return
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        if np.result_type(data).kind in "fc" and np.isnan(data).any():
            trace = rec.extra.trace if rec.extra is not None else None
            if trace:
                sys.stderr.write(
                    f"Error detected in {rec.op.node}. Traceback of forward call that caused the "
                    "error:\n" + "".join(trace))
            raise RuntimeError(f"Function '{rec.op.node}' returned nan values in its {i}th output.")


def check_forward(rec, outs) -> None:
    for t in outs:
        data = t._data
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            bad = "nan" if np.isnan(data).any() else "inf"
            trace = rec.extra.trace if rec.extra is not None else None
            where = trace[-1].strip() if trace else "(source unknown)"
            raise RuntimeError(
                f"Forward op '{rec.op.name}' ({rec.op.node}) produced {bad} values "
                f"(detect_anomaly(check_forward=True)). Created at:\n  {where}")


def inplace_culprit(value) -> str | None:
    """In anomaly mode, the in-place op that last changed a saved tensor (torch cannot say)."""
    if not STATE.anomaly:
        return None
    rec = getattr(value, "_rec", None)
    if rec is None:
        return None
    return (f"It was changed in place by {rec.op.name}_ ({rec.op.node}, tape position "
            f"{rec.pos}).")
