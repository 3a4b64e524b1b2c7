"""torch-style printing of tensors: `tensor([1.0000, 2.5000], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

# set_printoptions' profiles, as torch's: precision, threshold, edgeitems, linewidth
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, float("inf"), 3, 80)}
OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """How tensors print, as torch.set_printoptions: a profile ("default", "short", "full")
    first, then the options given; sci_mode (None: chosen by the values) is always set."""
    if profile is not None:
        OPTIONS.update(zip(("precision", "threshold", "edgeitems", "linewidth"), _PROFILES[profile]))
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            OPTIONS[name] = value
    OPTIONS["sci_mode"] = sci_mode


def _float_formatter(values: np.ndarray):
    """(format one value, the width torch lays lines out by). As torch, the width comes from
    the nonzero finite values only: 1 when there are none (so twenty-four 0. fit a line).
    Whole numbers print as `2.`, unless they span more than 1000x or pass 1e8; others with
    `precision` decimals, or in scientific notation past those bounds or below 1e-4;
    set_printoptions(sci_mode=) overrides the choice."""
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    if finite.size == 0:
        return (lambda v: _special(v) or f"{v}"), 1
    p, forced = OPTIONS["precision"], OPTIONS["sci_mode"]
    integral = bool(np.all(finite == np.round(finite)))
    big, small = (nonzero.max(), nonzero.min()) if nonzero.size else (0.0, 0.0)
    # as torch, the width comes from the nonzero finite values only (so -0. is not padded)
    shown = finite[finite != 0]
    sci = bool(nonzero.size) and (big / small > 1000.0 or big > 1e8 or (not integral and small < 1e-4))
    sci = sci if forced is None or not nonzero.size else forced  # (no value to show: no mode)
    if sci:
        fmt = f"{{:.{p}e}}"
    elif integral:
        fmt = "{:.0f}."
    else:
        fmt = f"{{:.{p}f}}"
    width = max((len(fmt.format(v)) for v in shown), default=1)
    return (lambda v: (_special(v) or fmt.format(v)).rjust(width)), width


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summary_values(a: np.ndarray) -> np.ndarray:
    """The values that will be printed: all of them, or for a summarised tensor the edges of
    every dimension, as torch's get_summarized_data (so hidden values never set the width)."""
    return (_edges(a) if a.size > OPTIONS["threshold"] else a).ravel()


def _edges(a: np.ndarray) -> np.ndarray:
    edge = OPTIONS["edgeitems"]
    for dim, n in enumerate(a.shape):
        if n > 2 * edge:
            keep = np.r_[0:edge, n - edge:n]
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
    summarize = a.size > OPTIONS["threshold"]
    return _format_dim(a, item, width, indent, summarize)


def _format_dim(a, item, width, indent, summarize):
    edge = OPTIONS["edgeitems"]
    if a.ndim == 0:
        return item(a.item())
    if a.ndim == 1:
        n = a.shape[0]
        if summarize and n > 2 * edge:
            cells = [item(v) for v in a[:edge].tolist()] + [" ..."] + [item(v) for v in a[-edge:].tolist()]
        else:
            cells = [item(v) for v in a.tolist()]
        per_line = max(1, (OPTIONS["linewidth"] - indent) // (width + 2))
        lines = [", ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * edge:
        rows = list(range(edge)) + [None] + list(range(a.shape[0] - edge, a.shape[0]))
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
        if last + size + 2 > OPTIONS["linewidth"]:
            text += ",\n" + " " * len(prefix) + s
            last = len(prefix) + size
        else:
            text += ", " + s
            last += size + 2
    return text + ")"


def _default_np():
    from .ops.dtypes import DEFAULT_FLOAT

    return DEFAULT_FLOAT[0]
