"""Torch's type promotion, on numpy dtypes.

Operands fall in three priority groups: tensors with dims, 0-d tensors, Python numbers.
The result's category (bool < integer < floating) is the highest of all operands; its dtype
comes from the highest-priority group that reaches that category. So float32[3] * float64
0-d stays float32, int64[3] * 2.5 gives the default float dtype, and float32 with float64
tensors gives float64. numpy (NEP 50) agrees except across groups and categories, so the
fast path below returns early when all operands share one dtype.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_FLOAT = [np.dtype(np.float32)]  # set by tape.set_default_dtype
DTYPE_CLASS: list = []  # tape's dtype class, set by tape/_dtypes.py (ops does not import tape)
_PY_DTYPES = (float, int, bool, complex)  # Python's types torch takes as dtypes
# element types as torch's C++ messages name them ("a mask with dtype long int")
C_NAMES = {np.dtype(t): name for t, name in (
    (np.float16, "c10::Half"), (np.float32, "float"), (np.float64, "double"), (np.int8, "signed char"),
    (np.uint8, "unsigned char"), (np.int16, "short int"), (np.int32, "int"), (np.int64, "long int"),
    (np.bool_, "bool"))}
_BOOL, _INT, _FLOAT = 0, 1, 2
_PY = (bool, int, float)


def check_dtype_arg(fn: str, dt) -> None:
    """torch's TypeError for a `dtype=` that is not a torch dtype or Python's float, int,
    bool or complex (a numpy dtype or type, a string: a program passing one would not run
    on torch)."""
    if dt is None or type(dt) is DTYPE_CLASS[0] or any(dt is t for t in _PY_DTYPES):
        return
    if fn in _OVERLOADED:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                        f"(dtype={type_label(dt)}): dtype must be a torch.dtype")
    raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not {type_label(dt)}")


# functions of several overloads: torch's parser says no overload took the arguments
_OVERLOADED = frozenset({"sum", "mean", "prod", "arange", "eye", "linspace", "rand", "randn", "to"})


def type_label(x) -> str:
    """The type of `x` as torch's argument parser names it (numpy.dtypes.Float64DType, str)."""
    kind = type(x)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


# the C++ types torch names when a number does not fit a tensor's dtype
_SCALAR_C_TYPES = {np.dtype(t): name for t, name in (
    (np.float16, "c10::Half"), (np.float32, "float"), (np.float64, "double"), (np.int8, "int8_t"),
    (np.uint8, "uint8_t"), (np.int16, "int16_t"), (np.int32, "int"), (np.int64, "int64_t"))}


def check_scalar_fits(value, dt: np.dtype) -> None:
    """torch's checked conversion of a Python number written into a tensor of dtype `dt`
    (masked_fill's value): past 64 bits is Python's overflow (int_scalar), out of the dtype's
    range is its error, not a wrapped-around or infinite value. inf and nan fit a floating
    dtype; an unsigned one takes ints down to -max (they wrap), floats only within its range."""
    if type(value) is int:  # (before any dtype: torch's parser reads it first)
        int_scalar(value)
    if dt.kind == "b" or isinstance(value, bool):
        return
    value = py_number(value)
    if dt.kind == "f":
        fits = not math.isfinite(value) or abs(value) <= float(np.finfo(dt).max)  # (no numpy cast)
    else:
        lo, hi = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
        if isinstance(value, float):  # a float is checked as it is: no NaN, no wrap-around
            fits = math.isfinite(value) and lo <= value <= hi
        else:
            fits = (-hi if dt.kind == "u" else lo) <= int(value) <= hi
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_SCALAR_C_TYPES[dt]} without overflow")


def can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """torch's canCast, for a result written into a tensor of another dtype: anything but
    floating into an integer or bool, or a number into bool (int64 into uint8 wraps)."""
    if src.kind in "fc" and dst.kind in "iub":
        return False
    return dst.kind != "b" or src.kind == "b"


def cast_int(v: int, dtype) -> np.ndarray:
    """A Python int as torch converts a number operand for an integer tensor: a 64-bit value
    (past int64's range, a uint64's) cast as C++ casts, modulo 2**bits (int32 + 2**40 adds 0)."""
    if v >= 2 ** 64:
        raise OverflowError("int too big to convert")
    if v < -2 ** 63:
        raise OverflowError("can't convert negative int to unsigned")
    return np.array(v % 2 ** 64, dtype=np.uint64).astype(dtype)


def int_scalar(value: int) -> int:
    """A Python int as torch's argument parser takes it for a number argument: within 64 bits
    (int64 or uint64), or Python's OverflowError."""
    if value >= 2 ** 64:
        raise OverflowError("int too big to convert")
    if value < -2 ** 63:
        raise OverflowError("can't convert negative int to unsigned")
    return value


def fill_scalar(value, dt: np.dtype, numel: int | None = None):
    """A number written into every (or every masked) entry of a tensor of dtype `dt` (full,
    fill_, masked_fill), converted as torch converts it: past 64 bits is Python's overflow,
    out of the dtype's range (or NaN into integers) is torch's error, and a negative int into
    an unsigned dtype wraps around. Any number is a bool (nonzero: True), and a fill of one
    element (`numel`) into a floating dtype is unchecked, as torch's fast path: 1e10 into
    float16 is inf."""
    if dt.kind == "b" or (numel == 1 and dt.kind == "f"):
        if type(value) is int:
            int_scalar(value)
        return bool(value) if dt.kind == "b" else value
    check_scalar_fits(value, dt)
    if dt.kind == "u" and not isinstance(value, bool) and value < 0:
        return int(value) % (int(np.iinfo(dt).max) + 1)
    return value


def opmath(forward):
    """`forward` as torch runs it on float16: computed in float32, rounded once at the end
    (numpy would round every intermediate to float16, a few ulps off torch's result)."""
    def run(x, *params):
        if x.dtype == np.float16:
            return forward(x.astype(np.float32), *params).astype(np.float16)
        return forward(x, *params)

    return run


def py_number(x):
    """A numpy scalar as the Python number torch's argument parser reads it as: an integer
    as int, anything else (floats, and np.bool_, which torch reads as a float) as float.
    Anything that is not a numpy scalar is returned as it is."""
    if isinstance(x, np.generic):
        return int(x) if isinstance(x, np.integer) else float(x)
    return x


def category(dt: np.dtype) -> int:
    kind = dt.kind
    return _FLOAT if kind in "fc" else _BOOL if kind == "b" else _INT


def _py_category(x) -> int:
    return _BOOL if type(x) is bool else _INT if type(x) is int else _FLOAT


def _py_dtype(cat: int) -> np.dtype:
    return (np.dtype(np.bool_), np.dtype(np.int64), DEFAULT_FLOAT[0])[cat]


def result_type(*xs) -> np.dtype:
    """The dtype torch gives an elementwise op on `xs` (arrays, numpy scalars, Python numbers)."""
    dims, zero, py = [], [], []
    for x in xs:
        if type(x) in _PY:
            py.append(_py_category(x))
        elif x.ndim:
            dims.append(x.dtype)
        else:
            zero.append(x.dtype)
    top = max([category(d) for d in dims + zero] + py)
    for group in (dims, zero):
        hits = [d for d in group if category(d) == top]
        if hits:
            return np.result_type(*hits)
    return _py_dtype(top)


def binary_dtype(a, b) -> np.dtype | None:
    """The result dtype of `a op b`, or None when numpy's own result is already right."""
    ta, tb = type(a), type(b)
    if ta in _PY:
        if tb in _PY:
            return result_type(a, b)
        return None if category(b.dtype) >= _py_category(a) else result_type(a, b)
    if tb in _PY:
        return None if category(a.dtype) >= _py_category(b) else result_type(a, b)
    if a.dtype == b.dtype:
        return None
    return result_type(a, b)


def float_dtype(dt: np.dtype) -> np.dtype:
    """Integer and bool inputs of float-valued ops (div, exp, mean...) give the default float."""
    return dt if dt.kind in "fc" else DEFAULT_FLOAT[0]
