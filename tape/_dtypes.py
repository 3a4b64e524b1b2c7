"""torch's dtypes as small objects over numpy dtypes (`tape.float32`, `tape.long`, ...)."""

from __future__ import annotations

import attrs
import numpy as np

from .ops import dtypes as _promotion
from .ops.registry import operand_error


@attrs.frozen(repr=False)
class dtype:  # noqa: N801 - named as torch names it
    name: str  # "float32"
    np: np.dtype = attrs.field(eq=False)
    torch_name: str = attrs.field(eq=False)  # "Float", as torch's messages say it
    legacy: str = attrs.field(eq=False)  # "FloatTensor"

    @property
    def is_floating_point(self) -> bool:
        return self.np.kind == "f"

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def is_signed(self) -> bool:
        return self.np.kind in "fi"

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    def __repr__(self) -> str:
        return f"tape.{self.name}"


_promotion.DTYPE_CLASS.append(dtype)

float16 = dtype("float16", np.dtype(np.float16), "Half", "HalfTensor")
float32 = dtype("float32", np.dtype(np.float32), "Float", "FloatTensor")
float64 = dtype("float64", np.dtype(np.float64), "Double", "DoubleTensor")
int8 = dtype("int8", np.dtype(np.int8), "Char", "CharTensor")
uint8 = dtype("uint8", np.dtype(np.uint8), "Byte", "ByteTensor")
int16 = dtype("int16", np.dtype(np.int16), "Short", "ShortTensor")
int32 = dtype("int32", np.dtype(np.int32), "Int", "IntTensor")
int64 = dtype("int64", np.dtype(np.int64), "Long", "LongTensor")
bool_ = dtype("bool", np.dtype(np.bool_), "Bool", "BoolTensor")
ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
BY_NP = {d.np: d for d in ALL}
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16,
           "int": int32, "long": int64, "bool": bool_}


def from_np(dt: np.dtype) -> dtype:
    try:
        return BY_NP[dt]
    except KeyError:
        raise TypeError(f"tape does not support the numpy dtype {dt}") from None


def to_np(dt, fn: str = "tensor") -> np.dtype:
    """A `dtype=` argument as numpy's dtype: tape's dtypes and Python's float, int and bool,
    as torch takes them; anything else is torch's TypeError naming `fn`."""
    if isinstance(dt, dtype):
        return dt.np
    if dt is float:
        return np.dtype(np.float64)
    if dt is int:
        return np.dtype(np.int64)
    if dt is bool:
        return np.dtype(np.bool_)
    _promotion.check_dtype_arg(fn, dt)
    return from_np(np.dtype(dt)).np  # (complex: tape's own TypeError)


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return BY_NP[_promotion.DEFAULT_FLOAT[0]]


def set_default_dtype(d) -> None:
    """Set the dtype for Python floats: float32 or float64 (as torch allows)."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the "
                        "default type")
    npd = to_np(d)
    if npd.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _promotion.DEFAULT_FLOAT[0] = npd


def is_floating_point(input) -> bool:  # noqa: A002 - torch's keyword
    if not hasattr(input, "_data"):
        raise operand_error("is_floating_point", "input", 1, input)
    return input.dtype.is_floating_point
