"""torch-style printing of tensors: `tensor([1.0000, 2.5000], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

_THRESHOLD, _EDGE, _LINE = 1000, 3, 80


def _float_formatter(values: np.ndarray):
    """(format one value, the width torch lays lines out by). As torch, the width comes from
    the nonzero finite values only: 1 when there are none (so twenty-four 0. fit a line)."""
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    if finite.size == 0:
        return (lambda v: _special(v) or f"{v}"), 1
    integral = bool(np.all(finite == np.round(finite)))
    big, small = (nonzero.max(), nonzero.min()) if nonzero.size else (0.0, 0.0)
    # as torch, the width comes from the nonzero finite values only (so -0. is not padded)
    shown = finite[finite != 0]
    if integral and (nonzero.size == 0 or (big <= 1e8 and big / small <= 1000.0)):
        width = max((len(f"{v:.0f}.") for v in shown), default=1)
        return (lambda v: (_special(v) or f"{v:.0f}.").rjust(width)), width
    if nonzero.size and (big / small > 1000.0 or big > 1e8 or small < 1e-4):
        width = max(len(f"{v:.4e}") for v in shown)
        return (lambda v: (_special(v) or f"{v:.4e}").rjust(width)), width
    width = max((len(f"{v:.4f}") for v in shown), default=1)
    return (lambda v: (_special(v) or f"{v:.4f}").rjust(width)), width


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summary_values(a: np.ndarray) -> np.ndarray:
    """The values that will be printed: all of them, or for a summarised tensor the edges of
    every dimension, as torch's get_summarized_data (so hidden values never set the width)."""
    return (_edges(a) if a.size > _THRESHOLD else a).ravel()


def _edges(a: np.ndarray) -> np.ndarray:
    for dim, n in enumerate(a.shape):
        if n > 2 * _EDGE:
            keep = np.r_[0:_EDGE, n - _EDGE:n]
            a = np.take(a, keep, axis=dim)
    return a


def format_data(a: np.ndarray, indent: int) -> str:
    """The bracketed data part, laid out as torch lays it out."""
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        # as torch: str() of each value shown, at least 1 wide
        width = max((len(str(v)) for v in _summary_values(a).tolist()), default=1)
        item = lambda v: str(v).rjust(width)  # noqa: E731
    else:
        item, width = _float_formatter(_summary_values(a).astype(np.float64))
    summarize = a.size > _THRESHOLD
    return _format_dim(a, item, width, indent, summarize)


def _format_dim(a, item, width, indent, summarize):
    if a.ndim == 0:
        return item(a.item())
    if a.ndim == 1:
        n = a.shape[0]
        if summarize and n > 2 * _EDGE:
            cells = [item(v) for v in a[:_EDGE].tolist()] + [" ..."] + [item(v) for v in a[-_EDGE:].tolist()]
        else:
            cells = [item(v) for v in a.tolist()]
        per_line = max(1, (_LINE - indent) // (width + 2))
        lines = [", ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * _EDGE:
        rows = list(range(_EDGE)) + [None] + list(range(a.shape[0] - _EDGE, a.shape[0]))
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    parts = ["..." if i is None else _format_dim(a[i], item, width, indent + 1, summarize) for i in rows]
    return "[" + sep.join(parts) + "]"


def tensor_repr(t, prefix: str = "tensor(") -> str:
    a = np.asarray(t._data)
    suffix = []
    if a.size == 0 and a.shape != (0,):
        body = "[]"
        suffix.append(f"size={tuple(a.shape)}")
    else:
        body = format_data(a, len(prefix))
    if a.size == 0:
        # nothing to infer the dtype from: torch names any dtype but the default float
        if a.dtype != _default_np():
            suffix.append(f"dtype={t.dtype!r}")
    elif not (a.dtype == _default_np() or a.dtype == np.int64 or a.dtype == np.bool_):
        suffix.append(f"dtype={t.dtype!r}")
    if t._rec is not None:
        suffix.append(f"grad_fn=<{t._rec.op.node}>")
    elif t._rg:
        suffix.append("requires_grad=True")
    # as torch's _add_suffixes: a suffix that would pass the line width starts a new line,
    # and the next ones follow it there while they fit. Lengths are measured with torch's
    # names (`torch.float64`, one longer than `tape.float64`) so the lines break where torch's do.
    text = prefix + body
    last = len(text) - text.rfind("\n") + 1
    for s in suffix:
        size = len(s.replace("tape.", "torch."))
        if last + size + 2 > _LINE:
            text += ",\n" + " " * len(prefix) + s
            last = len(prefix) + size
        else:
            text += ", " + s
            last += size + 2
    return text + ")"


def _default_np():
    from .ops.dtypes import DEFAULT_FLOAT

    return DEFAULT_FLOAT[0]
