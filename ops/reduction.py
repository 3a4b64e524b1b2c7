"""Reductions: sum and mean over all elements or over dims."""

from __future__ import annotations

import numpy as np

from .dims import wrap_dims
from .registry import call, function, op


def _np_dtype(dtype):
    return None if dtype is None else np.dtype(getattr(dtype, "np", dtype))


def _sum_all(a, dtype):
    return np.asarray(np.sum(a, dtype=_np_dtype(dtype) or _sum_dtype(a)))


def _sum_dims(a, dims, keepdim, dtype):
    return np.sum(a, axis=dims, keepdims=keepdim, dtype=_np_dtype(dtype) or _sum_dtype(a))


def _sum_dtype(a):
    # torch sums integers and bools in int64, floats in their own dtype
    return np.int64 if a.dtype.kind in "biu" else None


def _expand_back(F, ctx, g, dims, keepdim):
    """The gradient of a reduction over `dims`: put the dims back, then broadcast."""
    if not keepdim and dims:
        g = F.unsqueeze_dims(g, dims)
    return F.expand(g, ctx.shapes[0])


SUM = op("sum", "SumBackward0", _sum_all, lambda F, ctx, g: (F.expand(g, ctx.shapes[0]),))
SUM_DIM = op("sum", "SumBackward1", _sum_dims,
             lambda F, ctx, g: (_expand_back(F, ctx, g, ctx.params[0], ctx.params[1]),))


def _mean_all(a, dtype):
    return np.asarray(np.mean(a, dtype=_np_dtype(dtype)))


def _mean_dims(a, dims, keepdim, dtype):
    return np.mean(a, axis=dims, keepdims=keepdim, dtype=_np_dtype(dtype))


def _numel(shape, dims=None):
    n = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            n *= s
    return n


MEAN = op("mean", "MeanBackward0", _mean_all,
          lambda F, ctx, g: (F.expand(g / _numel(ctx.shapes[0]), ctx.shapes[0]),))
MEAN_DIM = op("mean", "MeanBackward1", _mean_dims,
              lambda F, ctx, g: (_expand_back(F, ctx, g / _numel(ctx.shapes[0], ctx.params[0]),
                                              ctx.params[0], ctx.params[1]),))


@function("sum", methods="sum")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of all elements, or over `dim` (int or tuple)."""
    if dim is None:
        return call(SUM, (input,), (dtype,))
    return call(SUM_DIM, (input,), (wrap_dims(dim, input.ndim), keepdim, dtype))


@function("mean", methods="mean")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean of all elements, or over `dim` (int or tuple)."""
    dt = input.dtype if dtype is None else dtype
    if not dt.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dt.torch_name}"
        )
    if dim is None:
        return call(MEAN, (input,), (dtype,))
    return call(MEAN_DIM, (input,), (wrap_dims(dim, input.ndim), keepdim, dtype))
