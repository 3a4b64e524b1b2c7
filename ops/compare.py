"""Comparisons and selection: results that never require grad, and `where`."""

from __future__ import annotations

import warnings

import numpy as np

from . import prims
from .dtypes import binary_dtype, cast_int, check_scalar_fits, type_label
from .registry import call, function, op


def _in_range(v: int, dt) -> bool:
    info = np.iinfo(dt)
    return int(info.min) <= v <= int(info.max)


def _compared(ufunc):
    """`ufunc` as torch compares: a Python int beside an integer tensor is first converted to
    its dtype, wrapping (uint8 == -3 asks == 253), where numpy compares the true values."""
    def forward(a, b):
        if type(b) is int and isinstance(a, (np.ndarray, np.integer)) and a.dtype.kind in "iu" \
                and not _in_range(b, a.dtype):
            b = cast_int(b, a.dtype)
        elif type(a) is int and isinstance(b, (np.ndarray, np.integer)) and b.dtype.kind in "iu" \
                and not _in_range(a, b.dtype):
            a = cast_int(a, b.dtype)
        return np.asarray(ufunc(a, b))

    return forward


def _cmp(name, ufunc, dunder, rdunder):
    OP = op(name, f"{name.capitalize()}Backward0", _compared(ufunc), inputs=("self", "other"))

    def compare(input, other):
        return call(OP, (input, other))

    def module_compare(input, other):  # (a method's self is a tensor; this input may not be)
        if not hasattr(input, "_data"):
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got ({type_label(input)}, "
                f"{type_label(other)}), but expected one of:\n * (Tensor input, Tensor other, *, "
                "Tensor out = None)\n * (Tensor input, Number other, *, Tensor out = None)\n")
        return call(OP, (input, other))

    for fn in (compare, module_compare):
        fn.__name__ = name
        fn.__doc__ = f"Elementwise `{name}` (a bool tensor that never requires grad)."
    function(name)(module_compare)
    function(methods=(name, dunder) + ((rdunder,) if rdunder else ()), module=False)(compare)
    return OP


EQ = _cmp("eq", np.equal, "__eq__", None)
NE = _cmp("ne", np.not_equal, "__ne__", None)
LT = _cmp("lt", np.less, "__lt__", None)
LE = _cmp("le", np.less_equal, "__le__", None)
GT = _cmp("gt", np.greater, "__gt__", None)
GE = _cmp("ge", np.greater_equal, "__ge__", None)


def _where_fwd(a, b, cond):
    dt = binary_dtype(a, b)
    out = np.where(cond, a, b)
    return out if dt is None else out.astype(dt, copy=False)


def _where_bwd(F, ctx, g):
    (cond,) = ctx.params
    need_a, need_b = ctx.needs
    return (F.where(cond, g, 0.0) if need_a else None, F.where(cond, 0.0, g) if need_b else None)


# the condition is data, not a differentiable input: torch's node has two next_functions
WHERE = op("where", "WhereBackward0", _where_fwd, _where_bwd, inputs=("self", "other"),
           param_names=("condition",))


def _cond(condition):
    """The condition's bool array: uint8 is taken with torch's deprecation warning, other
    dtypes are refused."""
    c = condition._arr() if hasattr(condition, "_arr") else np.asarray(condition)
    if c.dtype != np.bool_:
        if c.dtype == np.uint8:
            warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                          "will be removed in a future version of PyTorch. Use a boolean condition "
                          "instead.", UserWarning, stacklevel=3)
            return c.astype(np.bool_)
        name = condition.dtype.torch_name if hasattr(condition, "_arr") else str(c.dtype)
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {name}")
    return c


_ABSENT = object()


def _nonzero(a, as_tuple):
    if not as_tuple and np.ndim(a) == 0:  # one row of no coordinates, or none
        return np.zeros((int(bool(a)), 0), np.int64)
    idx = np.nonzero(np.atleast_1d(a))  # (as_tuple: a 0-d input is one element, as torch)
    if as_tuple:
        return tuple(i.astype(np.int64) for i in idx)
    return np.stack(idx, axis=1).astype(np.int64)


NONZERO = op("nonzero", "NonzeroBackward0", lambda a, as_tuple: _nonzero(a, as_tuple))
NONZERO_TUPLE = op("nonzero", "NonzeroTupleBackward0", lambda a, as_tuple: _nonzero(a, as_tuple),
                   outputs=-1)


@function("nonzero", methods="nonzero")
def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero entries: an (n, ndim) int64 tensor, or with as_tuple one
    int64 tensor per dim (as where(condition))."""
    return call(NONZERO_TUPLE if as_tuple else NONZERO, (input,), (bool(as_tuple),))


@function("where", methods=())
def where(condition, input=_ABSENT, other=_ABSENT):
    """`input` where `condition` holds, else `other` (broadcasting); where(condition) alone is
    nonzero(condition, as_tuple=True): the indices of its true entries, one tensor per dim."""
    if input is _ABSENT and other is _ABSENT:
        return nonzero(condition, as_tuple=True)
    if input is _ABSENT or other is _ABSENT:
        raise TypeError("where() received an invalid combination of arguments - expected "
                        "(Tensor condition) or (Tensor condition, Tensor input, Tensor other)")
    _branch_fits(input, other)
    return call(WHERE, (input, other), (_cond(condition),))


def _where_method(self, condition, other):
    _branch_fits(self, other)
    return call(WHERE, (self, other), (_cond(condition),))


def _branch_fits(a, b) -> None:
    """A Python int branch is converted to an integer result's dtype with torch's check (2**31
    beside an int32 tensor is its error; a float result takes any number)."""
    ints = [x for x in (a, b) if type(x) is int]
    if not ints:
        return
    dt = binary_dtype(getattr(a, "_data", a), getattr(b, "_data", b))
    dt = np.dtype(np.int64) if dt is None and len(ints) == 2 else dt
    if dt is None:  # a tensor and a number: the tensor's dtype
        dt = next(x._data.dtype for x in (a, b) if hasattr(x, "_data"))
    if dt.kind in "iu":
        for v in ints:
            check_scalar_fits(v, dt)


function(methods="where", module=False)(_where_method)

# a zero gradient, not g * 0: an inf or NaN upstream gradient gives 0, and the gradient
# has no graph when recorded (torch: zeros_like(grad))
SIGN = op("sign", "SignBackward0", prims.sign, lambda F, ctx, g: (F.zeros_like(g),))


@function("sign", methods="sign")
def sign(input):
    """-1, 0 or 1 by the sign of each element (gradient 0)."""
    return call(SIGN, (input,))


# sgn: sign for real tensors (torch's rules use it: abs's backward is grad * self.sgn())
SGN = op("sgn", "SgnBackward0", prims.sign, lambda F, ctx, g, self, result: (F.zeros_like(g),),
         saves=(("self", (0,)), ("result", (0,))))  # (as torch's, which needs them for complex)


@function("sgn", methods="sgn")
def sgn(input):
    """sign, as torch names it for complex-aware code (tape's tensors are real)."""
    return call(SGN, (input,))
