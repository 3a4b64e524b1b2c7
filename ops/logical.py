"""Bitwise and logical ops: ~ & | ^ on bool and integer tensors, logical_not / and / or /
xor, all, any, and unary +. Their results never require grad (no backward), as torch's."""

from __future__ import annotations

import numpy as np

from .dtypes import binary_dtype
from .registry import call, call_inplace, function, op


def _float_name(*xs):
    """torch's name of the floating dtype the operands promote to (None if they do not)."""
    names = [x.dtype.torch_name for x in xs if hasattr(x, "_data") and x._data.dtype.kind == "f"]
    if names:
        return names[0]
    return "Float" if any(isinstance(x, float) for x in xs) else None


def _bitwise_fwd(ufunc):
    def forward(a, b):
        dt = binary_dtype(a, b)  # torch's result dtype (None: numpy's is it)
        return np.asarray(ufunc(a, b) if dt is None else ufunc(a, b, dtype=dt, casting="unsafe"))

    return forward


def _bitwise(name, ufunc, symbol):
    OP = op(f"bitwise_{name}", f"Bitwise{name.capitalize()}Backward0", _bitwise_fwd(ufunc),
            inputs=("self", "other"))
    kernel = f"bitwise_{name}_cpu"

    def check(input, other):
        bad = _float_name(input, other)
        if bad is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{bad}\'')

    def fn(input, other):
        check(input, other)
        return call(OP, (input, other))

    def fn_(self, other):
        check(self, other)
        return call_inplace(OP, self, (other,))

    fn.__name__, fn_.__name__ = f"bitwise_{name}", f"bitwise_{name}_"
    fn.__doc__ = f"Elementwise `{symbol}` of bool or integer tensors (never requires grad)."
    function(f"bitwise_{name}", methods=(f"bitwise_{name}", f"__{name}__", f"__r{name}__"))(fn)
    function(methods=(f"bitwise_{name}_", f"__i{name}__"), module=False)(fn_)
    return OP


BITWISE_AND = _bitwise("and", np.bitwise_and, "&")
BITWISE_OR = _bitwise("or", np.bitwise_or, "|")
BITWISE_XOR = _bitwise("xor", np.bitwise_xor, "^")

# ~: logical not of bools, two's complement of integers
BITWISE_NOT = op("bitwise_not", "BitwiseNotBackward0", lambda a: np.asarray(np.invert(a)))


@function("bitwise_not", methods="bitwise_not")
def bitwise_not(input):
    """~input for bool or integer tensors (never requires grad)."""
    if input._data.dtype.kind == "f":
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{input.dtype.torch_name}\'')
    return call(BITWISE_NOT, (input,))


@function(methods="__invert__", module=False)
def invert(self):
    if self._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return call(BITWISE_NOT, (self,))


def _logical(name, ufunc):
    OP = op(f"logical_{name}", f"Logical{name.capitalize()}Backward0",
            lambda a, b: np.asarray(ufunc(a, b)), inputs=("self", "other"))

    def fn(input, other):
        return call(OP, (input, other))

    fn.__name__ = f"logical_{name}"
    fn.__doc__ = f"Elementwise logical {name} (nonzero is true): a bool tensor."
    function(f"logical_{name}", methods=f"logical_{name}")(fn)
    return OP


LOGICAL_AND = _logical("and", np.logical_and)
LOGICAL_OR = _logical("or", np.logical_or)
LOGICAL_XOR = _logical("xor", np.logical_xor)
LOGICAL_NOT = op("logical_not", "LogicalNotBackward0", lambda a: np.asarray(np.logical_not(a)))


@function("logical_not", methods="logical_not")
def logical_not(input):
    """Elementwise not (nonzero is true): a bool tensor."""
    return call(LOGICAL_NOT, (input,))


# ---- all / any: bool results (uint8 for uint8 input, as torch) -----------------------------


def _reduce_fwd(ufunc):
    def forward(a, dim, keepdim):
        out = np.asarray(ufunc(a, axis=dim, keepdims=keepdim))
        return out.astype(np.uint8) if a.dtype == np.uint8 else out

    return forward


ALL = op("all", "AllBackward0", _reduce_fwd(np.all))
ANY = op("any", "AnyBackward0", _reduce_fwd(np.any))


def _all_any(OP, input, dim, keepdim):
    from .dims import wrap_dims

    dims = None if dim is None else wrap_dims(dim, input.ndim) if input.ndim else None
    return call(OP, (input,), (dims, keepdim))


@function("all", methods="all")
def all_(input, dim=None, keepdim=False):  # (all and any: builtins this module uses)
    """Whether every element is nonzero, overall or along `dim`."""
    return _all_any(ALL, input, dim, keepdim)


@function("any", methods="any")
def any_(input, dim=None, keepdim=False):
    """Whether some element is nonzero, overall or along `dim`."""
    return _all_any(ANY, input, dim, keepdim)


# ---- unary + ------------------------------------------------------------------------------


@function("positive", methods=("positive", "__pos__"))
def positive(input):
    """+input: the tensor itself, as torch returns it (a bool tensor is refused)."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input
