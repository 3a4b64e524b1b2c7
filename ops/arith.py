"""Arithmetic: + - * / ** and their unary relatives, with torch's promotion and node names."""

from __future__ import annotations

import operator

import numpy as np

from . import prims
from .dtypes import binary_dtype, cast_int, check_scalar_fits, float_dtype, int_scalar, py_number
from .registry import (
    Op,
    call,
    call_inplace,
    check_inplace,
    check_operands,
    function,
    in_recorded_rule,
    op,
    rule_form,
)

_PY = (bool, int, float)
_ndarray = np.ndarray


def _dtype_of(a, b):
    """The dtype of whichever operand is an array (both share it when numpy is right)."""
    return b.dtype if type(a) in _PY else a.dtype


_FAST = {np.float64: {np.float64, float, int}, np.float32: {np.float32, float, int},
         np.float16: {np.float16, float, int}}
# (a float16 times or over a number is not numpy's float16 arithmetic: _half_by_scalar)
_FAST_OPMATH = {**_FAST, np.float16: {np.float16}}
_OPERATOR = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
             np.true_divide: operator.truediv}
_HALF = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_INTEGERS = (np.ndarray, np.integer)


def _half_by_scalar(ufunc, a, b):
    """float16 `a` times or over a number or a 0-d array of another dtype, as torch's CPU
    kernels compute it: in float32, the number as a float32 (its opmath type), rounded once
    (numpy would round the number to float16 first: x * 0.01 differed in a third of the
    entries). torch's add, sub and pow round it to float16 as numpy does."""
    return ufunc(np.asarray(a, np.float32), np.float32(b)).astype(_HALF)


def _pointwise(ufunc, floating=False, scaled=False, opmath=False):
    """numpy `ufunc` on two operands with torch's result dtype; `scaled`: the third
    argument is add/sub's alpha, multiplying `b` (in this frame: one Python call per op);
    `opmath`: mul and div, whose float16 by a number is _half_by_scalar's."""
    pyop = _OPERATOR.get(ufunc)
    fast = _FAST_OPMATH if opmath else _FAST

    def forward(a, b, alpha=1):
        if scaled and alpha != 1:
            # torch: the result dtype is the operands' (alpha's type plays no part), and
            # alpha * b is computed in that dtype's opmath (float32 for float16), rounded once
            dt = binary_dtype(a, b) or np.result_type(a, b)
            if dt.kind in "fc":
                if dt == _F32 or dt is _HALF:
                    # torch's kernel: one fused multiply-add in float32, rounded once (then to
                    # float16, whose alpha is a float16 first); in double the product is
                    # exact, so only the sum rounds
                    al = np.float32(np.float16(alpha) if dt is _HALF else alpha)
                    wide = np.multiply(np.asarray(b, _F32), al, dtype=np.float64)
                    out = ufunc(np.asarray(a, _F32), wide, dtype=np.float64).astype(_F32)
                    return out.astype(_HALF) if dt is _HALF else out
                return ufunc(np.asarray(a, dt), np.multiply(np.asarray(b, dt), alpha, dtype=dt))
            b = b * alpha
        # two arrays of one dtype: numpy's result dtype is torch's (checked first: the
        # common case of a model's forward)
        if type(a) is _ndarray and type(b) is _ndarray and a.dtype == b.dtype and (
                not floating or a.dtype.kind in "fc"):
            return ufunc(a, b)
        # numpy float scalars with a same-type scalar or a Python number: numpy's result
        # dtype is torch's, and the scalar operator is much cheaper than the ufunc call
        if pyop is not None:
            ok = fast.get(type(a))
            if ok is not None and type(b) in ok:
                return pyop(a, b)
        try:
            dt = binary_dtype(a, b)
            if floating:
                dt = float_dtype(dt if dt is not None else _dtype_of(a, b))
            if opmath and (dt if dt is not None else getattr(a, "dtype", None)) is _HALF and (
                    type(b) in _PY or (np.ndim(b) == 0 and b.dtype != _HALF)):
                return _half_by_scalar(ufunc, a, b)
            if dt is None:
                return ufunc(a, b)
            # unsafe: a 0-d operand of a wider kind is cast to the result dtype, as torch does
            # (uint8[2] + int64 0-d stays uint8)
            return ufunc(a, b, dtype=dt, casting="unsafe")
        except OverflowError:  # a Python int beyond the integer tensor's dtype (0-d ones too)
            if type(b) is int and isinstance(a, _INTEGERS) and a.dtype.kind in "iu":
                return forward(a, cast_int(b, a.dtype))
            if type(a) is int and isinstance(b, _INTEGERS) and b.dtype.kind in "iu":
                return forward(cast_int(a, b.dtype), b)
            raise

    return forward


# ---- add / sub --------------------------------------------------------------------------

_add = _pointwise(np.add)
_sub = _pointwise(np.subtract)
_sub_scaled = _pointwise(np.subtract, scaled=True)


ADD = op("add", "AddBackward0", _pointwise(np.add, scaled=True), inputs=("self", "other"),
         kernel={(1,): np.add}, param_names=("alpha",),
         backward=lambda F, ctx, g: (g, g if ctx.params[0] == 1 else g * ctx.params[0]))
SUB = op("sub", "SubBackward0", _pointwise(np.subtract, scaled=True), inputs=("self", "other"),
         kernel={(1,): np.subtract}, param_names=("alpha",),
         backward=lambda F, ctx, g: (g, -g if ctx.params[0] == 1 else -g * ctx.params[0]))
# scalar - tensor: torch's rsub with the number as `other`
RSUB = op("rsub", "RsubBackward1", lambda a, b, alpha: _sub_scaled(b, a, alpha),
          backward=lambda F, ctx, g: (-g if ctx.params[1] == 1 else -g * ctx.params[1],),
          inputs=("self",), param_names=(None, "alpha"))


# the params of an unscaled add or sub, shared: a record keeps its params, and one tuple
# fewer per op is one object fewer for the cyclic collector to walk (NOTE [flat])
_ALPHA1 = (1,)


def _filled(like, value):
    """An array shaped and typed as the tensor `like`, every entry `value` (no edge)."""
    return np.full(like._data.shape, value, dtype=like._data.dtype)


def _value(x):
    return getattr(x, "_data", x)


def _alpha(input, other, alpha) -> tuple:
    """add/sub's params: alpha as torch takes it for the result's dtype (bool for bools)."""
    if alpha is _ALPHA1[0]:
        return _ALPHA1
    alpha = py_number(alpha)
    kind = (binary_dtype(_value(input), _value(other)) or _dtype_of(_value(input), _value(other))).kind
    if kind in "biu" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    return (bool(alpha),) if kind == "b" else (alpha,)


def _is_bool(x) -> bool:
    """A bool tensor (or array: a rule's value) or a Python bool (torch wraps it as one;
    np.bool_ it reads as a float)."""
    if type(x) is _ndarray:
        return x.dtype == np.bool_
    return type(x) is bool or getattr(getattr(x, "_data", None), "dtype", None) == np.bool_


def _no_bool_subtraction(a, b):
    bool_a, bool_b = _is_bool(a), _is_bool(b)
    if bool_a and bool_b:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if bool_a or bool_b:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


@function("add", methods=("add", "__add__", "__radd__"))
def add(input, other, *, alpha=1):
    """input + alpha * other"""
    return call(ADD, (input, other), _ALPHA1 if alpha is _ALPHA1[0] else _alpha(input, other, alpha))


@function("sub", "subtract", methods=("sub", "subtract", "__sub__"))
def sub(input, other, *, alpha=1):
    """input - alpha * other"""
    _no_bool_subtraction(input, other)
    return call(SUB, (input, other), _ALPHA1 if alpha is _ALPHA1[0] else _alpha(input, other, alpha))


# tensor - tensor, reflected: other - alpha * self, keeping self as the first edge
RSUB_T = op("rsub", "RsubBackward0", lambda a, b, alpha: _sub_scaled(b, a, alpha),
            backward=lambda F, ctx, g: (-g if ctx.params[0] == 1 else g * -ctx.params[0], g),
            inputs=("self", "other"), param_names=("alpha",))


@function("rsub", methods="__rsub__")
def rsub(input, other, *, alpha=1):
    """other - alpha * input"""
    other = py_number(other)  # a numpy scalar is a number to torch (RsubBackward1)
    _no_bool_subtraction(input, other)
    if type(other) in _PY:
        if alpha == 1 and in_recorded_rule():
            # torch's C++ `number - tensor` fills a tensor and subtracts (SubBackward0, the
            # filled operand's edge None), NOTE [rule scalars]
            return call(SUB, (_filled(input, other), input), _ALPHA1)
        return call(RSUB, (input,), (other, alpha))
    return call(RSUB_T, (input, other), (alpha,))


@function(methods=("add_", "__iadd__"), module=False)
def add_(self, other, *, alpha=1):
    if alpha is not _ALPHA1[0]:
        check_inplace(self)  # torch names a leaf before a bad alpha
    return call_inplace(ADD, self, (other,), _alpha(self, other, alpha))


@function(methods=("sub_", "__isub__"), module=False)
def sub_(self, other, *, alpha=1):
    if alpha is not _ALPHA1[0] or _is_bool(self) or _is_bool(other):
        check_inplace(self)  # torch names a leaf before a bool subtraction or a bad alpha
    _no_bool_subtraction(self, other)
    return call_inplace(SUB, self, (other,), _alpha(self, other, alpha))


# ---- mul / div --------------------------------------------------------------------------


_times, _over = _pointwise(np.multiply, opmath=True), _pointwise(np.true_divide, floating=True, opmath=True)


def _mul_bwd(F, ctx, g, self, other):
    need_self, need_other = ctx.needs
    return (g * other if need_self else None, g * self if need_other else None)


MUL = op("mul", "MulBackward0", _times, _mul_bwd,
         inputs=("self", "other"), saves=(("self", (1,)), ("other", (0,))),
         kernel={(): np.multiply})


def _div_bwd(F, ctx, g, self, other):
    need_self, need_other = ctx.needs
    return (g / other if need_self else None,
            -g * ((self / other) / other) if need_other else None)  # torch's grouping


DIV = op("div", "DivBackward0", _over, _div_bwd,
         inputs=("self", "other"), saves=(("self", (1,)), ("other", (0, 1))),
         kernel={(): np.true_divide})

RECIPROCAL = op("reciprocal", "ReciprocalBackward0",
                lambda a: np.reciprocal(a, dtype=float_dtype(a.dtype)),
                lambda F, ctx, g, result: (-g * (result * result),),
                saves=(("result", (0,)),))


# float16 times or over a Python number: ops of their own under torch's node names (not in
# the registry, whose names are unique), whose backward computes g * number as the forward
# does (_half_by_scalar); MUL's and DIV's rules stay plain expressions, which tape.compile
# inlines (NOTE [inlining is exact] in tape/codegen.py)
MUL_HALF = Op(name="mul", node="MulBackward0", forward=_times, backward=lambda F, ctx, g, self, other: (
    _times(g, other) if F is prims else g * other, None),
    inputs=("self", "other"), saves=(("self", (1,)), ("other", (0,))))
DIV_HALF = Op(name="div", node="DivBackward0", forward=_over, backward=lambda F, ctx, g, self, other: (
    _over(g, other) if F is prims else g / other, None),
    inputs=("self", "other"), saves=(("self", (1,)), ("other", (0, 1))))


def _by_number(op, half_op, input, other):
    """`half_op` for a float16 tensor by a Python number, else `op`."""
    if type(other) in _PY and getattr(getattr(input, "_data", None), "dtype", None) is _HALF:
        return half_op
    return op


@function("mul", "multiply", methods=("mul", "multiply", "__mul__", "__rmul__"))
def mul(input, other):
    """input * other"""
    return call(MUL if type(other) not in _PY else _by_number(MUL, MUL_HALF, input, other),
                (input, other))


_TRUE_DIVIDE = _pointwise(np.true_divide, floating=True)
_NO_MODE = object()  # div called without rounding_mode (None given is torch's other overload)


def _div_mode_fwd(a, b, mode):
    if mode is None:
        return _TRUE_DIVIDE(a, b)
    _check_divisor(f"div_{mode}_cpu", a, b)
    q = _floor_divide(a, b)  # the operands' own dtype: integers stay integers
    if mode == "trunc":
        if q.dtype.kind == "f":
            return np.trunc(_TRUE_DIVIDE(a, b).astype(q.dtype, copy=False))
        # toward zero: one up where the floor went below a non-whole negative quotient
        return q + ((_remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
    return q


def _div_mode_bwd(F, ctx, g, self, other):
    if ctx.params[0] is None:
        return _div_bwd(F, ctx, g, self, other)
    need_self, need_other = ctx.needs  # a rounded quotient is flat: zeros (even for an inf g)
    return (F.zeros_like(g) if need_self else None, F.zeros_like(g) if need_other else None)


# div with rounding_mode given (None too: torch's Tensor_mode overload, DivBackward2)
DIV_MODE = op("div", "DivBackward2", _div_mode_fwd, _div_mode_bwd, inputs=("self", "other"),
              saves=(("self", (1,)), ("other", (0, 1))), param_names=("rounding_mode",))


def _rounding(mode):
    if mode not in (None, "trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    return (mode,)


@function("div", "divide", "true_divide", methods=("div", "divide", "true_divide", "__truediv__"))
def div(input, other, *, rounding_mode=_NO_MODE):
    """input / other (true division: integers give the default float dtype); rounding_mode
    "trunc" or "floor" rounds the quotient, in the operands' dtype, with a zero gradient"""
    if rounding_mode is _NO_MODE:
        return call(_by_number(DIV, DIV_HALF, input, other), (input, other))
    return call(DIV_MODE, (input, other), _rounding(rounding_mode))


@function("reciprocal", methods="reciprocal")
def reciprocal(input):
    """1 / input"""
    return call(RECIPROCAL, (input,))


@function(methods="__rtruediv__", module=False)
def rdiv(self, other):
    # torch computes number / tensor as reciprocal(tensor) * number (a numpy scalar too)
    other = py_number(other)
    if type(other) in _PY:
        inverse = call(RECIPROCAL, (self,))
        return call(_by_number(MUL, MUL_HALF, inverse, other), (inverse, other))
    return call(DIV, (other, self))


@function(methods=("mul_", "__imul__"), module=False)
def mul_(self, other):
    return call_inplace(_by_number(MUL, MUL_HALF, self, other), self, (other,))


@function(methods=("div_", "__itruediv__"), module=False)
def div_(self, other, *, rounding_mode=_NO_MODE):
    if rounding_mode is _NO_MODE:
        return call_inplace(_by_number(DIV, DIV_HALF, self, other), self, (other,))
    check_inplace(self)  # torch names a leaf before a bad rounding mode
    return call_inplace(DIV_MODE, self, (other,), _rounding(rounding_mode))


# ---- neg / pow --------------------------------------------------------------------------

NEG = op("neg", "NegBackward0", np.negative, lambda F, ctx, g: (-g,))


@function("neg", "negative", methods=("neg", "negative", "__neg__"))
def neg(input):
    """-input"""
    _no_bool_negation(input)
    return call(NEG, (input,))


@function(methods="neg_", module=False)
def neg_(self):
    _no_bool_negation(self)
    return call_inplace(NEG, self, ())


def _no_bool_negation(input):
    if _is_bool(input):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _pow_scalar_bwd(F, ctx, g, self):
    (exponent,) = ctx.params
    if exponent == 0:  # zeros, whatever g holds (torch's pow_backward)
        return (F.zeros_like(g),)
    return (g * (exponent * F.pow(self, exponent - 1)),)  # torch's grouping, and its pow


def _pow_tensor_bwd(F, ctx, g, self, exponent, result):
    need_self, need_exp = ctx.needs
    gs = ge = None
    if need_self:
        _no_bool_subtraction(F.value(exponent), 1)  # torch's rule computes exponent - 1
        # where exponent == 0 the gradient is 0, even at self == 0 (torch's pow_backward)
        gs = F.where(F.value(exponent) == 0, 0.0, g * (exponent * self ** (exponent - 1)))
    if need_exp:
        # d/de self**e = result * log(self); torch defines it as 0 where self == 0 and e >= 0,
        # and takes the log in the result's dtype (a float32 base's log, for a float64
        # exponent, was the gradient's float32 accuracy)
        mask = (F.value(self) == 0) & (F.value(exponent) >= 0)
        base = F.to_dtype(self, F.value(result).dtype)
        ge = g * F.where(mask, 0.0, result * F.log(base))  # (torch's grouping)
    return gs, ge


def _pow_base_bwd(F, ctx, g, result):
    (base,) = ctx.params
    if base == 0:  # torch: g * (0 where exponent >= 0, else result * log(0)); 0**e <= 1 there
        return (g * F.where(F.const(result <= 1), 0.0, result * -np.inf),)
    return (g * (result * float(np.log(base))),)  # torch: grad * (result * log(base))


_pow = _pointwise(np.power)


def _pow_tensor_fwd(a, b):
    dt = binary_dtype(a, b)
    if dt is None:
        dt = _dtype_of(a, b)
    if dt.kind == "b":
        if type(b) is bool:  # torch's pow(Tensor, Scalar): x ** 1 copies, x ** 0 is ones
            return np.array(a, copy=True) if b else np.ones_like(a)
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if dt.kind in "iu" and np.any(np.asarray(b) < 0):
        if type(b) in _PY:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return _int_pow_negative(a, b, dt)
    if type(b) in _PY and dt in prims.POW_FLOATS:  # a number exponent: torch's paths
        return prims.pow(a if a.dtype == dt else a.astype(dt), b)
    return np.power(a, b, dtype=dt)


def _int_pow_negative(a, b, dt):
    """Integer powers with some negative exponents, as torch computes them elementwise:
    1 and -1 keep their magnitude, every other base truncates to 0."""
    a = np.asarray(a).astype(dt, copy=False)
    b = np.asarray(b)
    neg = b < 0
    out = np.power(a, np.where(neg, 0, b), dtype=dt)
    odd = (b % 2) != 0
    tiny = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, tiny, out).astype(dt, copy=False)


POW = op("pow", "PowBackward0", lambda a, e: _pow_tensor_fwd(a, e), _pow_scalar_bwd,
         saves=(("self", (0,)),), param_names=("exponent",))
POW_TT = op("pow", "PowBackward1", _pow_tensor_fwd, _pow_tensor_bwd,
            inputs=("self", "exponent"),
            saves=(("self", (0, 1)), ("exponent", (0, 1)), ("result", (0, 1))))  # (torch keeps all three)
POW_ST = op("pow", "PowBackward2", lambda e, base: _pow_tensor_fwd(base, e),
            lambda F, ctx, g, exponent, result: _pow_base_bwd(F, ctx, g, result),
            inputs=("exponent",), saves=(("exponent", (0,)), ("result", (0,))), param_names=("self",))


_MISSING, _GIVEN_AS_SELF = object(), object()  # (pow's arguments not given)


@function("pow", methods=("pow", "__pow__"))
def pow(input=_GIVEN_AS_SELF, exponent=_MISSING, *, self=_MISSING):
    """input ** exponent (`self=` is the name torch's overload for a number base gives it)"""
    if input is _GIVEN_AS_SELF:
        input = self
    elif self is not _MISSING:
        raise TypeError("pow() got multiple values for argument 'self'")
    if input is _MISSING or exponent is _MISSING:
        raise TypeError(f"pow() missing required argument '{'input' if input is _MISSING else 'exponent'}'")
    input, exponent = py_number(input), py_number(exponent)
    for number in (input, exponent):
        if type(number) is int:
            int_scalar(number)  # past 64 bits: Python's OverflowError, as torch's parser gives
    if type(input) in _PY:
        return call(POW_ST, (exponent,), (input,))
    if type(exponent) in _PY:
        _exponent_fits(input, exponent)
        return call(POW, (input,), (exponent,))
    return call(POW_TT, (input, exponent))


def _exponent_fits(input, exponent) -> None:
    """torch converts a number exponent to an integer or float16 base's own dtype, checked
    (int32 ** 2**31, float16 ** 70000. are its errors); float32 and float64 take it as a double."""
    dt = getattr(getattr(input, "_data", None), "dtype", None)
    if dt is not None and not isinstance(exponent, bool) and (
            dt == _HALF or (dt.kind in "iu" and isinstance(exponent, int))):
        check_scalar_fits(exponent, dt)


@function(methods="__rpow__", module=False)
def rpow(self, other):
    other = py_number(other)
    if type(other) in _PY:
        return call(POW_ST, (self,), (other,))
    return call(POW_TT, (other, self))


@function(methods=("pow_", "__ipow__"), module=False)
def pow_(self, exponent):
    exponent = py_number(exponent)
    if type(exponent) in _PY:
        _exponent_fits(self, exponent)
        return call_inplace(POW, self, (), (exponent,))
    return call_inplace(POW_TT, self, (exponent,))


# ---- exp / log --------------------------------------------------------------------------


def _float_unary(ufunc):
    return lambda a: ufunc(a, dtype=float_dtype(a.dtype)) if a.dtype.kind not in "fc" else ufunc(a)


EXP = op("exp", "ExpBackward0", _float_unary(np.exp), lambda F, ctx, g, result: (g * result,),
         saves=(("result", (0,)),), kernel={(): np.exp})
LOG = op("log", "LogBackward0", _float_unary(np.log), lambda F, ctx, g, self: (g / self,),
         saves=(("self", (0,)),), kernel={(): np.log})


@function("exp", methods="exp")
def exp(input):
    """e ** input"""
    return call(EXP, (input,))


@function(methods="exp_", module=False)
def exp_(self):
    return call_inplace(EXP, self, ())


@function("log", methods="log")
def log(input):
    """natural logarithm"""
    return call(LOG, (input,))


# ---- floor_divide / remainder -----------------------------------------------------------


def _check_divisor(kernel: str, a, b):
    """torch's errors: bools are not divided, integers not by zero."""
    dt = binary_dtype(a, b) or _dtype_of(a, b)
    if dt.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if dt.kind in "iu" and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


_floor_divide = _pointwise(np.floor_divide)
def _remainder_kernel(a, b, **kw):
    """numpy's remainder (the divisor's sign, as torch's), but a zero takes the dividend's
    sign, as torch's fmod-based kernel gives it (-4 % 2 is -0.0; numpy gives +0.0)."""
    r = np.remainder(a, b, **kw)
    if r.dtype.kind == "f":
        r = np.where(r == 0, np.copysign(r, a).astype(r.dtype, copy=False), r)[()]
    return r


_remainder = _pointwise(_remainder_kernel)


def _raise_no_derivative(F, ctx, g):
    raise RuntimeError(f"derivative for aten::{ctx.params[-1]} is not implemented")


# torch's placeholder node for an op without a derivative formula: the result requires grad,
# its edges go to the inputs that do, and backward through it raises. Not registered in the
# op table: it is no differentiable primitive (tests/test_op_errors_shape.py covers it).
NOT_IMPLEMENTED = Op(name="not_implemented", node="NotImplemented",
                     forward=lambda *a: a[-2](*a[:-2]), backward=_raise_no_derivative)


def _no_derivative(aten: str, compute, *operands):
    """compute(*operand values), recorded as a NotImplemented node whose inputs are the
    operands that require grad (the others are fixed in the forward it keeps)."""
    check_operands(aten, True, input=operands[0], other=operands[1])
    values = [_value(x) for x in operands]
    slots = [i for i, x in enumerate(operands) if getattr(x, "_rg", False)]

    def forward(*arrays):
        vals = list(values)
        for i, a in zip(slots, arrays):
            vals[i] = a
        return compute(*vals)

    return call(NOT_IMPLEMENTED, tuple(operands[i] for i in slots), (forward, aten))


def _floor_div_values(a, b):
    _check_divisor("div_floor_cpu", a, b)
    return _floor_divide(a, b)


@function("floor_divide", methods=("floor_divide", "__floordiv__"))
def floor_divide(input, other):
    """floor(input / other), rounding toward -inf; not differentiable (torch records a
    NotImplemented node when an input requires grad)."""
    return _no_derivative("floor_divide", _floor_div_values, py_number(input), py_number(other))


@function(methods="__rfloordiv__", module=False)
def rfloordiv(self, other):
    return _no_derivative("floor_divide", _floor_div_values, py_number(other), self)


@function(methods=("floor_divide_", "__ifloordiv__"), module=False)
def floor_divide_(self, other):
    check_operands("floor_divide", True, input=self, other=other)
    if getattr(other, "_rg", False):
        return call_inplace(NOT_IMPLEMENTED, self, (other,), (_floor_div_values, "floor_divide"))
    b = _value(other)
    return call_inplace(NOT_IMPLEMENTED, self, (), (lambda a: _floor_div_values(a, b), "floor_divide"))


def _remainder_values(a, b):
    _check_divisor("remainder_cpu", a, b)
    return _remainder(a, b)


def _remainder_tensor_bwd(F, ctx, g, self, other):
    need_self, need_other = ctx.needs
    # d/d other of self - other * floor(self / other): -floor(self / other) (recorded, torch's
    # div(rounding_mode="floor"), whose own gradient is 0)
    return (g if need_self else None, -g * F.floor_divide(self, other) if need_other else None)


REMAINDER = op("remainder", "RemainderBackward0", lambda a, b: _remainder_values(a, b),
               lambda F, ctx, g: (g,))
REMAINDER_T = op("remainder", "RemainderBackward1", _remainder_values, _remainder_tensor_bwd,
                 inputs=("self", "other"), saves=(("self", (1,)), ("other", (1,))))


@function("remainder", methods=("remainder", "__mod__"))
def remainder(input, other):
    """input - other * floor(input / other): the remainder with the divisor's sign."""
    input, other = py_number(input), py_number(other)  # numpy scalars are numbers to torch
    if type(input) in _PY:  # torch's remainder(Scalar, Tensor) has no derivative
        return _no_derivative("remainder", _remainder_values, input, other)
    if type(other) in _PY:
        return call(REMAINDER, (input,), (other,))
    return call(REMAINDER_T, (input, other))


@function(methods="__rmod__", module=False)
def rmod(self, other):
    return remainder(other, self)


@function(methods=("remainder_", "__imod__"), module=False)
def remainder_(self, other):
    other = py_number(other)
    if type(other) in _PY:
        return call_inplace(REMAINDER, self, (), (other,))
    return call_inplace(REMAINDER_T, self, (other,))


# ---- ops with a Python number as operand, as torch's C++ composites record them ----------
# (`x * 2.5` from Python wraps the number into a tensor: MulBackward0; losses written in C++
# call mul.Scalar, add.Scalar, div.Scalar: MulBackward1, AddBackward1, DivBackward1)

MUL_SCALAR = op("mul", "MulBackward1", MUL.forward,  # (other is the op's param, not an input)
                lambda F, ctx, g: (g * ctx.params[0],), param_names=("other",))
ADD_SCALAR = op("add", "AddBackward1", _add, lambda F, ctx, g: (g,))
DIV_SCALAR = op("div", "DivBackward1", DIV.forward,
                lambda F, ctx, g: (g / ctx.params[0],), param_names=("other",))


SUB_SCALAR = op("sub", "SubBackward1", _sub, lambda F, ctx, g: (g,))


def _scalar_overload(scalar_op):
    """A recorded rule's `tensor <op> number` (alpha 1): torch's C++ Scalar overload, one
    edge (NOTE [rule scalars] in tape/engine.py); anything else is recorded as usual."""
    def record(inputs, params):
        if (len(inputs) == 2 and type(inputs[1]) in (int, float) and hasattr(inputs[0], "_data")
                and params in ((), _ALPHA1)):
            return call(scalar_op, (inputs[0],), (inputs[1],))
        return None

    return record


for _tensor_op, _scalar_op in ((MUL, MUL_SCALAR), (DIV, DIV_SCALAR), (ADD, ADD_SCALAR), (SUB, SUB_SCALAR)):
    rule_form(_tensor_op, _scalar_overload(_scalar_op))


def mul_scalar(input, other):
    """input * other for a Python number `other`, recorded as torch's mul.Scalar."""
    return call(MUL_SCALAR, (input,), (other,))


def add_scalar(input, other):
    return call(ADD_SCALAR, (input,), (other,))


def div_scalar(input, other):
    return call(DIV_SCALAR, (input,), (other,))


# ---- outer --------------------------------------------------------------------------------


@function("outer", "ger", methods=("outer", "ger"))
def outer(input, vec2):
    """input[:, None] * vec2 for 1-d tensors, as torch records it (a reshape, then mul)."""
    for name, x in (("self", input), ("vec2", vec2)):
        if x.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {x.ndim}-D")
    from .shape import reshape

    return mul(reshape(input, (input.shape[0], 1)), vec2)
