"""Anomaly detection: NaN in backward (torch's), non-finite forward values (tape's own),
and naming the op that modified a saved tensor in place.

In anomaly mode every record keeps the stack of the user's code that created it
(`forward_stack`): tape's own frames (tape/ and ops/) are left out, so the last line is
the user's call. torch prints that stack as a UserWarning ("Error detected in
XBackward0. Traceback of forward call that caused the error: ...") when the node fails;
tape does the same.
"""

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np

from .grad_mode import STATE

_HERE = os.path.dirname(os.path.abspath(__file__))


def _internal_dirs() -> tuple:
    from .ops import registry

    return (_HERE + os.sep, os.path.dirname(os.path.abspath(registry.__file__)) + os.sep)


_INTERNAL: tuple = ()


def forward_stack() -> list:
    """The current stack as formatted lines, without tape's own frames (so the last one
    is the user's line that called the op)."""
    global _INTERNAL
    if not _INTERNAL:
        _INTERNAL = _internal_dirs()
    frames = [f for f in traceback.extract_stack()[:-1]
              if not os.path.abspath(f.filename).startswith(_INTERNAL)]
    return traceback.format_list(frames)


def _trace_of(rec) -> list | None:
    ex = rec.extra
    trace = ex.trace if ex is not None else None
    if trace is None:
        return None
    return [line for line in trace if not _is_internal(line)]


def _where(entry: str) -> str:
    """'  File "f.py", line 7, in g\n    y = x.log()\n' -> 'f.py:7 (in g): y = x.log()'."""
    head, _, code = entry.strip().partition("\n")
    try:
        path = head.split('"')[1]
        rest = head.split('"', 2)[2]  # ', line 7, in g'
        line = rest.split("line ")[1].split(",")[0]
        func = rest.split(", in ")[1] if ", in " in rest else "?"
    except IndexError:
        return entry.strip()
    text = f"{path}:{line} (in {func})"
    return f"{text}: {code.strip()}" if code.strip() else text


def _is_internal(line: str) -> bool:
    """Is a formatted stack entry ('  File "path", line N, in f') one of tape's own frames?"""
    global _INTERNAL
    if not _INTERNAL:
        _INTERNAL = _internal_dirs()
    start = line.find('File "')
    if start < 0:
        return False
    end = line.find('"', start + 6)
    return os.path.abspath(line[start + 6:end]).startswith(_INTERNAL)


class detect_anomaly:  # noqa: N801 - torch's name
    """Inside, backward checks every rule's output for NaN and names the forward call that
    created the failing node. `check_forward=True` (tape's own) also stops at the first
    recorded forward op that produces NaN or inf, naming it and the user's source line."""

    def __init__(self, check_nan: bool = True, check_forward: bool = False):
        self.check_nan = check_nan
        self.check_forward = check_forward
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and "
                      "should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self._prev = (STATE.anomaly, STATE.anomaly_check_nan, STATE.anomaly_check_forward)
        STATE.anomaly, STATE.anomaly_check_nan = True, self.check_nan
        STATE.anomaly_check_forward = self.check_forward

    def __exit__(self, *exc):
        STATE.anomaly, STATE.anomaly_check_nan, STATE.anomaly_check_forward = self._prev
        return False


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


def is_anomaly_check_nan_enabled() -> bool:
    """torch's flag as it stands, anomaly mode on or not (True unless check_nan=False was set)."""
    return STATE.anomaly_check_nan


def report_failure(rec) -> None:
    """torch's warning when a node fails in anomaly mode: the forward stack that made it."""
    trace = _trace_of(rec)
    if trace:
        warnings.warn(f"Error detected in {rec.op.node}. Traceback of forward call that caused the "
                      "error:\n" + "".join(trace), UserWarning, stacklevel=2)


def check_backward(rec, in_grads) -> None:
    if not STATE.anomaly_check_nan:
        return
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        if np.result_type(data).kind in "fc" and np.isnan(data).any():
            report_failure(rec)
            raise RuntimeError(f"Function '{rec.op.node}' returned nan values in its {i}th output.")


def check_forward(rec, outs) -> None:
    for t in outs:
        data = t._data
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            bad = "nan" if np.isnan(data).any() else "inf"
            trace = _trace_of(rec)
            where = _where(trace[-1]) if trace else "(source unknown)"
            raise RuntimeError(
                f"Forward op '{rec.op.name}' ({rec.op.node}) produced {bad} values at {where} "
                "(detect_anomaly(check_forward=True))")


def inplace_culprit(rec, value, k: int) -> str | None:
    """In anomaly mode: print the failing node's forward stack (as torch does) and name the
    in-place op that changed its saved value `k` since it was saved, with its source line
    (torch cannot say which op it was)."""
    if not STATE.anomaly:
        return None
    report_failure(rec)
    changed = _changed_by(rec, value, k)
    if changed is None:
        return ("The in-place change was not recorded (it ran without grad, or on a tensor "
                "that does not require grad), so tape cannot name it.")
    msg = f"It was changed in place by {changed.op.name}_ ({changed.op.node}, tape position {changed.pos})"
    trace = _trace_of(changed)
    if trace:
        msg += f" at {_where(trace[-1])}"
    return msg + "."


def _changed_by(rec, value, k: int):
    """The record that last wrote the saved tensor in place, if it was recorded."""
    plan = rec.op.save_plan
    i = plan[k][0] if k < len(plan) else None
    if i is not None and i < 0:  # the op's result: its output tensor now comes from elsewhere
        t = rec.out_refs()[0]() if rec.out_refs() else None
        now = t._rec if t is not None else None
        return now if now is not None and now is not rec else None
    now = getattr(value, "_rec", None)
    if now is None:
        return None
    then = rec.inputs[i] if i is not None else None
    return now if now is not then else None
