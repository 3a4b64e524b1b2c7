"""Pointwise selections: clamp (clip), clamp_min, clamp_max, maximum, minimum.

Their gradients route `grad` to whichever operand was selected, with torch's rules at the
boundaries: clamp passes the gradient where min <= x <= max (inclusive); maximum and minimum
split it in half where the operands tie. Masks are computed on plain values (`F.value`), so
the rules record only `where` when the backward pass is itself differentiated.
"""

from __future__ import annotations

import numpy as np

from .dtypes import binary_dtype, check_scalar_fits, float_dtype, py_number, result_type
from .registry import call, call_inplace, check_inplace, check_operands, function, op


def _clamp_dtype(a, lo, hi):
    return result_type(*(v for v in (a, lo, hi) if v is not None))


def _clamp_fwd(a, lo, hi):
    dt = _clamp_dtype(a, lo, hi)
    out = a if a.dtype == dt else a.astype(dt)
    if lo is not None:
        out = np.maximum(out, lo, dtype=dt)  # NaN (in x or a bound) propagates, as torch
    if hi is not None:
        out = np.minimum(out, hi, dtype=dt)
    return out


def _keep(s, lo, hi):
    """Where clamp passes the input through: min <= x <= max, inclusive (NaN: nowhere)."""
    if lo is None:
        return s <= hi
    if hi is None:
        return s >= lo
    return (s >= lo) & (s <= hi)


def _routed(F, g, mask):
    return F.where(F.const(mask), g, 0.0)


# ---- clamp with numbers -------------------------------------------------------------------


def _clamp_scalar_bwd(F, ctx, g, self):
    lo, hi = ctx.params
    return (_routed(F, g, _keep(F.value(self), lo, hi)),)


CLAMP = op("clamp", "ClampBackward1", _clamp_fwd, _clamp_scalar_bwd, saves=(("self", (0,)),),
           param_names=("min", "max"))


# ---- clamp with tensors -----------------------------------------------------------------


def _clamp_tensor_bwd(F, ctx, g, self, min, max):
    need_self, need_min, need_max = ctx.needs
    s, lo, hi = F.value(self), F.value(min), F.value(max)
    g_min = g_max = None
    # torch's clamp_backward_min_max: when min > max the result is max, so max gets the gradient
    if need_min:
        g_min = _routed(F, g, (s < lo) if hi is None else (s < lo) & (lo < hi))
    if need_max:
        g_max = _routed(F, g, (s > hi) if lo is None else (s > hi) | (hi < lo))
    return (_routed(F, g, _keep(s, lo, hi)) if need_self else None, g_min, g_max)


CLAMP_T = op("clamp", "ClampBackward0", _clamp_fwd, _clamp_tensor_bwd,
             inputs=("self", "min", "max"), optional=(1, 2),
             saves=(("self", (0, 1, 2)), ("min", (0, 1, 2)), ("max", (0, 1, 2))))


def _is_tensor(x) -> bool:
    return hasattr(x, "_data")


def _clamp_args(name, input, min, max):
    """(op, tensor inputs, params) for clamp's two overloads (numbers or tensors, not mixed)."""
    if min is None and max is None:
        raise RuntimeError(f"torch.{name}: At least one of 'min' or 'max' must not be None")
    min, max = py_number(min), py_number(max)
    bool_input = input._data.dtype == np.bool_
    if _is_tensor(min) or _is_tensor(max):
        for bound in (min, max):
            if bound is not None and not _is_tensor(bound):
                raise TypeError(
                    f"{name}() received an invalid combination of arguments - got (Tensor, "
                    f"min={type(min).__name__}, max={type(max).__name__}): min and max must both "
                    "be Tensors (or None) or both numbers (or None)")
        if bool_input and min is not None and max is not None and \
                min._data.dtype == max._data.dtype == np.bool_:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        return CLAMP_T, (input, min, max), ()
    bounds = [b for b in (min, max) if b is not None]
    if bool_input and all(isinstance(b, bool) for b in bounds):  # a bool result: no kernel
        kernel = "clamp_scalar_cpu" if len(bounds) == 2 else "clamp_min_scalar_cpu" if max is None \
            else "clamp_max_scalar_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    dt = input._data.dtype
    for b in bounds:  # each converted to the result's dtype, as torch's scalar kernel takes it
        if not isinstance(b, bool):
            check_scalar_fits(b, float_dtype(dt) if isinstance(b, float) else dt)
    return CLAMP, (input,), (min, max)


@function("clamp", "clip", methods=("clamp", "clip"))
def clamp(input, min=None, max=None):
    """min(max(input, min), max); the gradient passes where min <= input <= max"""
    OP, inputs, params = _clamp_args("clamp", input, min, max)
    return call(OP, inputs, params)


@function("clamp_", "clip_", methods=("clamp_", "clip_"))
def clamp_(self, min=None, max=None):
    """In-place `clamp`."""
    check_inplace(self)  # torch names a leaf before missing bounds
    OP, inputs, params = _clamp_args("clamp", self, min, max)
    return call_inplace(OP, self, inputs[1:], params)


# ---- clamp_min / clamp_max ----------------------------------------------------------------

CLAMP_MIN = op("clamp_min", "ClampMinBackward0", lambda a, lo: _clamp_fwd(a, lo, None),
               lambda F, ctx, g, self: (_routed(F, g, F.value(self) >= ctx.params[0]),),
               saves=(("self", (0,)),), param_names=("min",))
CLAMP_MAX = op("clamp_max", "ClampMaxBackward0", lambda a, hi: _clamp_fwd(a, None, hi),
               lambda F, ctx, g, self: (_routed(F, g, F.value(self) <= ctx.params[0]),),
               saves=(("self", (0,)),), param_names=("max",))


def _clamp_min_t_bwd(F, ctx, g, self, min):
    s, lo = F.value(self), F.value(min)
    need_self, need_min = ctx.needs
    return (_routed(F, g, s >= lo) if need_self else None,
            _routed(F, g, s < lo) if need_min else None)


def _clamp_max_t_bwd(F, ctx, g, self, max):
    s, hi = F.value(self), F.value(max)
    need_self, need_max = ctx.needs
    return (_routed(F, g, s <= hi) if need_self else None,
            _routed(F, g, s > hi) if need_max else None)


CLAMP_MIN_T = op("clamp_min", "ClampMinBackward1", lambda a, lo: _clamp_fwd(a, lo, None),
                 _clamp_min_t_bwd, inputs=("self", "min"),
                 saves=(("self", (0, 1)), ("min", (0, 1))))
CLAMP_MAX_T = op("clamp_max", "ClampMaxBackward1", lambda a, hi: _clamp_fwd(a, None, hi),
                 _clamp_max_t_bwd, inputs=("self", "max"),
                 saves=(("self", (0, 1)), ("max", (0, 1))))


@function("clamp_min", methods="clamp_min")
def clamp_min(input, min):
    """max(input, min); the gradient goes to input where input >= min, else to min"""
    if _is_tensor(min):
        return call(CLAMP_MIN_T, (input, min))
    return call(CLAMP_MIN, (input,), (min,))


@function("clamp_max", methods="clamp_max")
def clamp_max(input, max):
    """min(input, max); the gradient goes to input where input <= max, else to max"""
    if _is_tensor(max):
        return call(CLAMP_MAX_T, (input, max))
    return call(CLAMP_MAX, (input,), (max,))


@function("clamp_min_", methods="clamp_min_")
def clamp_min_(self, min):
    """In-place `clamp_min`."""
    if _is_tensor(min):
        return call_inplace(CLAMP_MIN_T, self, (min,))
    return call_inplace(CLAMP_MIN, self, (), (min,))


@function("clamp_max_", methods="clamp_max_")
def clamp_max_(self, max):
    """In-place `clamp_max`."""
    if _is_tensor(max):
        return call_inplace(CLAMP_MAX_T, self, (max,))
    return call_inplace(CLAMP_MAX, self, (), (max,))


# ---- maximum / minimum ------------------------------------------------------------------


def _binary(ufunc):
    def forward(a, b):
        dt = binary_dtype(a, b)
        return ufunc(a, b) if dt is None else ufunc(a, b, dtype=dt)

    return forward


def _select_bwd(pick_other):
    """torch: where(self == other, grad / 2, grad), masked to 0 where the other side wins."""

    def backward(F, ctx, g, self, other):
        s, o = F.value(self), F.value(other)
        need_self, need_other = ctx.needs
        half = F.where(F.const(s == o), g / 2, g)
        lose_self = pick_other(s, o)  # where `other` was selected
        lose_other = pick_other(o, s)
        return (F.masked_fill(half, lose_self, 0.0) if need_self else None,
                F.masked_fill(half, lose_other, 0.0) if need_other else None)

    return backward


MAXIMUM = op("maximum", "MaximumBackward0", _binary(np.maximum), _select_bwd(np.less),
             inputs=("self", "other"), saves=(("self", (0, 1)), ("other", (0, 1))))
MINIMUM = op("minimum", "MinimumBackward0", _binary(np.minimum), _select_bwd(np.greater),
             inputs=("self", "other"), saves=(("self", (0, 1)), ("other", (0, 1))))


@function("maximum", methods="maximum")
def maximum(input, other):
    """Elementwise max (NaN propagates); a tie splits the gradient in half"""
    check_operands("maximum", False, input=input, other=other)
    return call(MAXIMUM, (input, other))


@function("minimum", methods="minimum")
def minimum(input, other):
    """Elementwise min (NaN propagates); a tie splits the gradient in half"""
    check_operands("minimum", False, input=input, other=other)
    return call(MINIMUM, (input, other))
