"""Op database entries for the reductions and scans of ops/reduction.py (see opdb.py).

Samples cover full and per-dim reductions, negative dims, keepdim, 0-d and empty inputs, and
the points where torch makes a choice: ties (split evenly by max/amax, the first index by
max(dim)), NaN, zeros in prod, a zero vector in norm, degrees of freedom <= 0 in var/std.
Those are torch-parity samples (gradcheck=False) where the function has a kink there.
"""

from __future__ import annotations

import math

import numpy as np
from opdb import OpInfo, S, away, uniform

NAN, INF = math.nan, math.inf


def _axes(a, dim):
    if dim is None or a.ndim == 0:
        return None
    return dim if isinstance(dim, int) else tuple(dim) or None


def _at(*values, gradcheck=False, **kwargs):
    return S(np.array(values, dtype=np.float64), gradcheck=gradcheck, **kwargs)


def _np_prod(a, dim=None, keepdim=False, dtype=None):
    a = a if dtype is None else a.astype(dtype)
    return np.prod(a, axis=_axes(a, dim), keepdims=keepdim and a.ndim > 0)


def _np_max_dim(reduce, arg):
    def ref(a, dim=None, keepdim=False):
        if dim is None:
            return reduce(a)
        if a.ndim == 0:
            return a, np.int64(0)
        idx = np.expand_dims(arg(a, axis=dim), dim)
        values = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            values, idx = np.squeeze(values, dim), np.squeeze(idx, dim)
        return values, idx

    return ref


def _np_amax(reduce):
    def ref(a, dim=(), keepdim=False):
        return reduce(a, axis=_axes(a, dim), keepdims=keepdim and a.ndim > 0)

    return ref


def _np_arg(arg):
    def ref(a, dim=None, keepdim=False):
        if dim is None:
            out = np.int64(arg(a.reshape(-1)))
            return np.reshape(out, (1,) * a.ndim) if keepdim else out
        if a.ndim == 0:
            return np.int64(0)
        return arg(a, axis=dim, keepdims=keepdim)

    return ref


def _np_var(a, dim=None, correction=None, unbiased=None, keepdim=False):
    c = 0 if unbiased is False else 1 if correction is None else correction
    axes = _axes(a, dim)
    n = a.size if axes is None else np.prod([a.shape[d] for d in np.atleast_1d(axes)])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = a - np.mean(a, axis=axes, keepdims=True)
        return np.sum(d * d, axis=axes, keepdims=keepdim and a.ndim > 0) / max(n - c, 0)


def _np_norm(a, p=2, dim=None, keepdim=False, dtype=None):
    p = 2 if p == "fro" else p
    axes = _axes(a, dim)
    x = np.abs(a)
    kd = keepdim and a.ndim > 0
    if p == INF:
        return np.max(x, axis=axes, keepdims=kd)
    if p == -INF:
        return np.min(x, axis=axes, keepdims=kd)
    if p == 0:
        return np.sum(x != 0, axis=axes, keepdims=kd).astype(a.dtype)
    return np.sum(x ** p, axis=axes, keepdims=kd) ** (1 / p)


def _np_logsumexp(a, dim, keepdim=False):
    axes = _axes(a, dim)
    m = np.max(a, axis=axes, keepdims=True, initial=-INF)
    m = np.where(np.isinf(m), 0.0, m)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
    return out if keepdim or a.ndim == 0 else np.squeeze(out, axes)


def _np_cumsum(a, dim, dtype=None):
    a = a if dtype is None else a.astype(dtype)
    if a.ndim and a.dtype == np.float32:  # torch accumulates float32 in float64, rounding each sum
        return np.cumsum(a, axis=dim, dtype=np.float64).astype(np.float32)
    return a if a.ndim == 0 else np.cumsum(a, axis=dim)


def _call(name):
    """fn(mod, x, ...) calling `mod.NAME(x, ...)`, or the method `x.NAME(...)` when the sample
    says method=True; a sample's dtype is a name (plain data), turned into mod's dtype here."""

    def fn(m, *xs, method=False, **k):
        if "dtype" in k:
            k["dtype"] = getattr(m, k["dtype"])
        return getattr(xs[0], name)(*xs[1:], **k) if method else getattr(m, name)(*xs, **k)

    return fn


def _ref(f):
    """The numpy reference, ignoring how the op was called (method=...)."""
    return lambda *a, method=False, **k: f(*a, **k)


def entry(name, nodes, ref, samples, *, op=None, **kw):
    return OpInfo(name=name, nodes=nodes, fn=_call(op or name), ref=_ref(ref), samples=samples, **kw)


# ties and repeated values along both dims (integer-valued, so torch and numpy agree exactly)
_TIES = np.array([[1.0, 3.0, 3.0, 2.0], [0.0, -1.0, 2.0, 0.5], [4.0, 4.0, 4.0, 4.0]])
_ZEROS = np.array([[1.0, 0.0, 3.0, 2.0], [1.5, 2.0, -0.5, 1.0], [0.0, 0.0, 1.0, 2.0]])

ENTRIES = (
    # ---- prod ----
    entry("prod", ("ProdBackward0", "ProdBackward1"), op="prod", ref=_np_prod,
           int_inputs=True, domain=uniform(0.5, 1.5),
           samples=(S(()), S((2, 3)), S((0,)), S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True),
                    S((0, 3), dim=0), S((), dim=0), S((3, 4), dim=0, method=True), S((4,), method=True),
                    # zeros: the product is a polynomial, so finite differences see its gradient
                    S(_ZEROS.copy()), S(_ZEROS.copy(), dim=1), S(_ZEROS.copy(), dim=0, keepdim=True),
                    S(np.array([0.0, 2.0, 0.0, 3.0])), S(np.array([0.0]), dim=0), S(np.array(0.0)),
                    S((2, 3), dim=1, dtype="float32", gradcheck=False))),
    # ---- max / min: all elements (ties share the gradient evenly), or (values, indices) ----
    entry("max", ("MaxBackward1",), op="max", ref=lambda a, method=False: np.max(a),
           int_inputs=True, samples=(S(()), S((2, 3)), S((5,), method=True), _at(1.0, 3.0, 3.0, 2.0),
                                     _at(1.0, NAN, 3.0, NAN), S(_TIES.copy(), gradcheck=False))),
    entry("min", ("MinBackward1",), op="min", ref=lambda a, method=False: np.min(a),
           int_inputs=True, samples=(S(()), S((2, 3)), S((5,), method=True), _at(1.0, -3.0, -3.0, 2.0),
                                     _at(1.0, NAN, 3.0), S(_TIES.copy(), gradcheck=False))),
    entry("max_dim", ("MaxBackward0",), op="max", ref=_np_max_dim(np.max, np.argmax),
           int_inputs=True,
           samples=(S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True), S((3, 4), dim=0, method=True),
                    S((), dim=0), S((), dim=-1, keepdim=True), S((0, 3), dim=1),
                    S(_TIES.copy(), dim=1, gradcheck=False), S(_TIES.copy(), dim=0, gradcheck=False),
                    _at(1.0, NAN, 3.0, NAN, dim=0))),
    entry("min_dim", ("MinBackward0",), op="min", ref=_np_max_dim(np.min, np.argmin),
           int_inputs=True,
           samples=(S((2, 3), dim=1), S((2, 3), dim=-2, keepdim=True), S((), dim=0),
                    S(_TIES.copy(), dim=1, gradcheck=False), _at(1.0, NAN, -3.0, dim=0))),
    # max(x, y) is maximum(x, y)
    OpInfo(name="max_other", nodes=("MaximumBackward0",), fn=lambda m, x, y: m.max(x, y),
           ref=np.maximum, broadcasting=True, samples=(S((2, 3), (2, 3)), S((2, 3), (3,)), S((), (2,)))),
    OpInfo(name="min_other", nodes=("MinimumBackward0",), fn=lambda m, x, y: x.min(y),
           ref=np.minimum, broadcasting=True, samples=(S((2, 3), (2, 3)), S((3,), ()))),
    # ---- amax / amin: over dims (all by default), ties share the gradient evenly ----
    entry("amax", ("AmaxBackward0",), op="amax", ref=_np_amax(np.amax), int_inputs=True,
           samples=(S(()), S((2, 3)), S((2, 3), dim=1), S((2, 3, 4), dim=(0, -1)),
                    S((2, 3), dim=-1, keepdim=True, method=True), S((0, 3), dim=1), S((), dim=0),
                    S(_TIES.copy(), gradcheck=False), S(_TIES.copy(), dim=1, gradcheck=False),
                    S(_TIES.copy(), dim=(0, 1), keepdim=True, gradcheck=False), _at(1.0, NAN, 3.0))),
    entry("amin", ("AminBackward0",), op="amin", ref=_np_amax(np.amin), int_inputs=True,
           samples=(S((2, 3)), S((2, 3), dim=0), S((2, 3), dim=(-2, 1), keepdim=True), S(()),
                    S(_TIES.copy(), dim=0, gradcheck=False), S(-_TIES, dim=1, gradcheck=False))),
    # ---- argmax / argmin: int64, never differentiable ----
    entry("argmax", ("ArgmaxBackward0",), op="argmax", ref=_np_arg(np.argmax),
           differentiable=False, gradgrad=False, int_inputs=True,
           samples=(S((2, 3)), S((2, 3), dim=1), S((2, 3), dim=-2, keepdim=True), S((), dim=0),
                    S((2, 3), keepdim=True), S(()), S((0, 3), dim=1), S(_TIES.copy(), dim=1),
                    S(_TIES.copy(), method=True), S(np.array([1.0, NAN, 3.0, NAN])))),
    entry("argmin", ("ArgminBackward0",), op="argmin", ref=_np_arg(np.argmin),
           differentiable=False, gradgrad=False, int_inputs=True,
           samples=(S((2, 3)), S((2, 3), dim=0, method=True), S(_TIES.copy(), dim=1),
                    S(np.array([1.0, NAN, -3.0])))),
    # ---- var / std ----
    entry("var", ("VarBackward0",), op="var", ref=_np_var,
           samples=(S((2, 3)), S((), gradcheck=False), S((5,), method=True), S((2, 3), dim=1),
                    S((2, 3), dim=-1, keepdim=True), S((2, 3, 4), dim=(0, 2)),
                    S((2, 3), dim=1, correction=0), S((2, 3), dim=0, unbiased=False),
                    S((2, 3), correction=2), S((3, 4), dim=[0, 1], keepdim=True),
                    S((1, 3), dim=0, gradcheck=False), S((0, 3), dim=1), S((1,), gradcheck=False))),
    entry("std", ("StdBackward0",), op="std", ref=lambda a, **k: np.sqrt(_np_var(a, **k)),
           samples=(S((2, 3)), S((5,), method=True), S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True),
                    S((2, 3, 4), dim=(0, 2)), S((2, 3), dim=1, correction=0), S((2, 3), unbiased=False),
                    S(np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 0.5]]), dim=1, gradcheck=False),
                    S((1, 3), dim=0, gradcheck=False), S((0, 3), dim=1))),
    # ---- norm (torch.norm is linalg.vector_norm) ----
    entry("norm", ("LinalgVectorNormBackward0",), op="norm", ref=_np_norm,
           domain=away(0.0),
           samples=(S((2, 3)), S(()), S((5,), method=True), S((2, 3), p="fro"), S((2, 3), p=1),
                    S((2, 3), p=INF), S((2, 3), p=-INF), S((2, 3), p=0, gradcheck=False), S((2, 3), p=3),
                    S((2, 3), p=0.5),
                    S((2, 3), p=1.5), S((2, 3), p=-1), S((2, 3), dim=1), S((2, 3), p=1, dim=-1, keepdim=True),
                    S((2, 3, 4), p=2, dim=(0, 2)), S((2, 3), p="fro", dim=0, method=True),
                    S((2, 3), p=INF, dim=1), S((0, 3), dim=1), S((0, 3)),
                    _at(0.0, 0.0), _at(0.0, 0.0, p=3), _at(0.0, 1.0, -2.0, p=1), _at(0.0, 2.0, -2.0, p=INF),
                    _at(0.0, 1.0, -2.0, p=0.5), _at(0.0, 1.0, p=1.5),
                    S((2, 3), dtype="float64", gradcheck=False))),
    # ---- logsumexp ----
    entry("logsumexp", ("LogsumexpBackward0",), op="logsumexp", ref=_np_logsumexp,
           int_inputs=True,
           samples=(S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True), S((2, 3, 4), dim=(0, 2)),
                    S((3, 4), dim=0, method=True), S((), dim=0), S((0, 3), dim=0), S((2, 3), dim=(0, 1)),
                    _at(-INF, -INF, dim=0), _at(1000.0, 1.0, dim=0), _at(INF, 1.0, dim=0),
                    S(np.array([[500.0, 499.0], [-500.0, -501.0]]), dim=1))),
    # ---- cumsum ----
    entry("cumsum", ("CumsumBackward0",), op="cumsum", ref=_np_cumsum, int_inputs=True,
           inplace=lambda m, x, dim, method=False: x.cumsum_(dim),
           samples=(S((2, 3), dim=1), S((2, 3), dim=0), S((2, 3, 4), dim=-1), S((5,), dim=0, method=True),
                    S((), dim=0), S((0, 3), dim=0), S((3, 1), dim=1),
                    # float32 running sums accumulate in float64, as torch's (and the backward)
                    S(np.full(5000, 0.1), dim=0, gradcheck=False),
                    S(np.full((2, 3000), 0.1), dim=-1, gradcheck=False))),
    entry("cumsum_dtype", ("CumsumBackward0",), op="cumsum", ref=_np_cumsum,
          samples=(S((2, 3), dim=1, dtype="float32", gradcheck=False), S((2, 3), dim=0, dtype="float64"),
                   S(np.full(5000, 0.1), dim=0, dtype="float32", gradcheck=False))),
)
