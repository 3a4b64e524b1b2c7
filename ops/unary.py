"""Unary pointwise ops: sqrt, rsqrt, abs, sin, cos, tan, tanh, sigmoid, relu, erf, log1p, expm1.

Each op saves what torch's derivatives.yaml names (sin saves `self`, tanh saves `result`...),
so the in-place error fires exactly where torch's does. Float-valued ops give integer and bool
inputs the default float dtype; abs and relu keep integer dtypes, as torch does. At points
where the derivative is undefined the value is torch's: abs'(0) = relu'(0) = 0, sqrt'(0) = inf.
"""

from __future__ import annotations

import math

import numpy as np

from . import prims
from .dtypes import float_dtype, opmath
from .prims import keep_where
from .registry import call, call_inplace, function, op

_FLOAT_SCALARS = frozenset({np.float64, np.float32, np.float16})


def _floating(ufunc):
    """`ufunc` computed in the input's float dtype (integers and bools: the default float)."""

    def forward(a):
        if type(a) in _FLOAT_SCALARS or a.dtype.kind in "fc":  # (a type test is the cheaper)
            return ufunc(a)
        return ufunc(a, dtype=float_dtype(a.dtype))

    return forward


def _as_float(a):
    return a if a.dtype.kind in "fc" else a.astype(float_dtype(a.dtype))


def _inplace(OP, name: str, *method_aliases: str):
    """Register `x.NAME_()` and `tape.NAME_(x)`: the op written into `x`, bumping its version."""

    def inplace(self):
        return call_inplace(OP, self, ())

    inplace.__name__ = f"{name}_"
    inplace.__doc__ = f"In-place `{name}`."
    function(f"{name}_", methods=(f"{name}_",) + method_aliases)(inplace)


# ---- roots ------------------------------------------------------------------------------

SQRT = op("sqrt", "SqrtBackward0", _floating(np.sqrt),
          lambda F, ctx, g, result: (g / (2 * result),),  # inf at 0, as torch
          saves=(("result", (0,)),), kernel={(): np.sqrt})


@function("sqrt", methods="sqrt")
def sqrt(input):
    """sqrt(input); d/dx = 1 / (2 sqrt(x))"""
    return call(SQRT, (input,))


_inplace(SQRT, "sqrt")


def _rsqrt(a):
    a = _as_float(a)
    return 1 / np.sqrt(a)


RSQRT = op("rsqrt", "RsqrtBackward0", opmath(_rsqrt),
           lambda F, ctx, g, result: (-0.5 * g * result ** 3,),
           saves=(("result", (0,)),))


@function("rsqrt", methods="rsqrt")
def rsqrt(input):
    """1 / sqrt(input); d/dx = -result**3 / 2"""
    return call(RSQRT, (input,))


_inplace(RSQRT, "rsqrt")


# ---- abs --------------------------------------------------------------------------------

def _abs(a):
    if a.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return np.abs(a)


ABS = op("abs", "AbsBackward0", _abs,
         lambda F, ctx, g, self: (g * F.sign(self),),  # sign(0) = 0: abs'(0) = 0, as torch
         saves=(("self", (0,)),))


@function("abs", "absolute", methods=("abs", "absolute", "__abs__"))
def abs(input):
    """|input| (integers stay integers); d/dx = sign(x)"""
    return call(ABS, (input,))


_inplace(ABS, "abs", "absolute_")


# ---- trigonometric and hyperbolic -------------------------------------------------------

SIN = op("sin", "SinBackward0", _floating(np.sin),
         lambda F, ctx, g, self: (g * F.cos(self),), saves=(("self", (0,)),), kernel={(): np.sin})


@function("sin", methods="sin")
def sin(input):
    """sin(input); d/dx = cos(x)"""
    return call(SIN, (input,))


_inplace(SIN, "sin")

COS = op("cos", "CosBackward0", _floating(np.cos),
         lambda F, ctx, g, self: (g * -F.sin(self),), saves=(("self", (0,)),), kernel={(): np.cos})


@function("cos", methods="cos")
def cos(input):
    """cos(input); d/dx = -sin(x)"""
    return call(COS, (input,))


_inplace(COS, "cos")

TAN = op("tan", "TanBackward0", _floating(np.tan),
         lambda F, ctx, g, result: (g * (1 + result ** 2),), saves=(("result", (0,)),),
         kernel={(): np.tan})


@function("tan", methods="tan")
def tan(input):
    """tan(input); d/dx = 1 + tan(x)**2"""
    return call(TAN, (input,))


_inplace(TAN, "tan")

TANH = op("tanh", "TanhBackward0", _floating(np.tanh),
          lambda F, ctx, g, result: (F.tanh_backward(g, result),), saves=(("result", (0,)),),
          kernel={(): np.tanh})


def _tanh_backward_bwd(F, ctx, gg, grad_output, output):
    need_grad, need_output = ctx.needs
    return (F.tanh_backward(gg, output) if need_grad else None,
            gg * (-2 * output * grad_output) if need_output else None)


# tanh's backward when recorded (create_graph=True): a node of its own, as torch's
TANH_BACKWARD = op("tanh_backward", "TanhBackwardBackward0", prims.tanh_backward, _tanh_backward_bwd,
                   inputs=("grad_output", "output"),
                   saves=(("grad_output", (1,)), ("output", (0, 1))))


@function("tanh", methods="tanh")
def tanh(input):
    """tanh(input); d/dx = 1 - tanh(x)**2"""
    return call(TANH, (input,))


_inplace(TANH, "tanh")


# ---- sigmoid and relu -------------------------------------------------------------------


def _sigmoid(a):
    return prims.sigmoid(_as_float(a))


SIGMOID = op("sigmoid", "SigmoidBackward0", opmath(_sigmoid),
             lambda F, ctx, g, result: (F.sigmoid_backward(g, result),), saves=(("result", (0,)),))


def _sigmoid_backward_bwd(F, ctx, gg, grad_output, output):
    need_grad, need_output = ctx.needs
    return (F.sigmoid_backward(gg, output) if need_grad else None,
            gg * grad_output * (-2 * output + 1) if need_output else None)


# sigmoid's backward when recorded: a node of its own, as torch's
SIGMOID_BACKWARD = op("sigmoid_backward", "SigmoidBackwardBackward0", prims.sigmoid_backward,
                      _sigmoid_backward_bwd, inputs=("grad_output", "output"),
                      saves=(("grad_output", (1,)), ("output", (0, 1))))


@function("sigmoid", methods="sigmoid")
def sigmoid(input):
    """1 / (1 + exp(-input)); d/dx = result * (1 - result)"""
    return call(SIGMOID, (input,))


_inplace(SIGMOID, "sigmoid")


try:  # numpy's clip ufunc itself, without np.clip's Python wrapper (which, for a lower bound
    from numpy._core.umath import clip as _clip  # alone, calls np.maximum(a, 0): +0.0 for -0.0)
except ImportError:  # numpy 1.x
    from numpy.core.umath import clip as _clip


def _clip_is_relu(dtype) -> bool:
    """Is clip(a, 0, inf) torch's relu bit for bit in `dtype` on this machine? It is where
    numpy's loops keep `a` for two equal zeros (so -0.0 stays) and keep a NaN operand itself
    (sign and payload): x86's SIMD and scalar loops do, for float16 too. Asked once, of the
    values that tell, in the layouts that take different loops (contiguous with and without
    a tail, strided). (np.maximum(0, a) keeps them too, but its scalar-first loop is ~4x
    slower: W2's two relus cost 3 us a step more.)"""
    nan = np.array([0x7FC12345, 0xFFC00001], np.uint32).view(np.float32).astype(dtype)
    values = np.concatenate([np.array([-0.0, 0.0, -1.0, 2.0, -np.inf, np.inf, -1e-40], dtype),
                             nan, -nan])
    zero, inf = dtype.type(0), dtype.type(np.inf)
    for n in (1, 3, 8, 37, 200):
        a = np.resize(values, n)
        for v in (a, np.resize(values, 2 * n)[::2], a[::-1]):
            got, want = _clip(v, zero, inf), np.where(v < 0, zero, v)
            if not np.array_equal(np.ascontiguousarray(got).view(np.uint8),
                                  np.ascontiguousarray(want).view(np.uint8)):
                return False
    return True


# per dtype: clip's bounds when clip is relu
_RELU_BOUNDS = {dt: (dt.type(0), dt.type(np.inf))
                for dt in map(np.dtype, (np.float16, np.float32, np.float64)) if _clip_is_relu(dt)}


def _relu(a):
    """a where not a < 0, else +0: as torch, -0.0 and NaN (either sign) are kept bit for bit
    (np.maximum(a, 0) gives +0.0 for -0.0; clip(a, 0, inf) keeps it where numpy's loops
    allow, one pass instead of three)."""
    if a.dtype.kind != "f":
        if a.dtype.kind == "b":
            raise RuntimeError("Boolean inputs not supported for relu")
        return np.maximum(a, a.dtype.type(0))
    if type(a) is np.ndarray and a.ndim:
        bounds = _RELU_BOUNDS.get(a.dtype)
        if bounds is not None:
            return _clip(a, bounds[0], bounds[1])
        keep = np.less(a, 0)
        return keep_where(np.logical_not(keep, out=keep), a)
    v = a[()]  # 0-d: a numpy scalar, as a ufunc would give
    return a.dtype.type(0) if v < 0 else v


# torch's threshold_backward: the gradient is 0 where result <= 0 (so relu'(0) = 0, and NaN
# inputs pass the gradient through). A result is never negative, so that is where it is
# +-0, and the gradient is kept where result != 0 (NaN included). keep_where, not
# g * (result > 0): that would turn an inf or NaN gradient at a zeroed entry into NaN, and
# drop it at a NaN result.
RELU = op("relu", "ReluBackward0", _relu, lambda F, ctx, g, result: (F.threshold_backward(g, result),),
          saves=(("result", (0,)),))


def _threshold_backward_bwd(F, ctx, gg, self):
    need_grad, need_self = ctx.needs  # the mask is flat in `self`: a zero gradient, as torch's
    return (F.threshold_backward(gg, self) if need_grad else None,
            F.zeros_like(gg) if need_self else None)


# relu's backward when recorded (create_graph=True): differentiable again
THRESHOLD_BACKWARD = op("threshold_backward", "ThresholdBackwardBackward0", prims.threshold_backward,
                        _threshold_backward_bwd, inputs=("grad_output", "self"),
                        saves=(("self", (0,)),))


@function("relu", methods="relu")
def relu(input):
    """max(input, 0) (integers stay integers); d/dx = 1 where x > 0, else 0"""
    return call(RELU, (input,))


_inplace(RELU, "relu")


# ---- erf, log1p, expm1 ------------------------------------------------------------------

_erf_object = np.frompyfunc(math.erf, 1, 1)


def _erf(a):
    # numpy has no erf: libm's, elementwise, in float64 (correctly rounded for float32 after
    # the cast); slow on big arrays, but exact
    dt = float_dtype(a.dtype)
    return np.asarray(_erf_object(np.asarray(a, dtype=np.float64)), dtype=np.float64).astype(dt)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

ERF = op("erf", "ErfBackward0", opmath(_erf),
         lambda F, ctx, g, self: ((_TWO_OVER_SQRT_PI * F.exp(-(self ** 2))) * g,),  # torch's
         saves=(("self", (0,)),))


@function("erf", methods="erf")
def erf(input):
    """2/sqrt(pi) * integral of exp(-t**2) from 0 to input; d/dx = 2/sqrt(pi) exp(-x**2)"""
    return call(ERF, (input,))


_inplace(ERF, "erf")

LOG1P = op("log1p", "Log1PBackward0", _floating(np.log1p),
           lambda F, ctx, g, self: (g / (self + 1),), saves=(("self", (0,)),), kernel={(): np.log1p})


@function("log1p", methods="log1p")
def log1p(input):
    """log(1 + input), accurate near 0; d/dx = 1 / (1 + x)"""
    return call(LOG1P, (input,))


_inplace(LOG1P, "log1p")

EXPM1 = op("expm1", "Expm1Backward0", _floating(np.expm1),
           lambda F, ctx, g, result: (g * (result + 1),), saves=(("result", (0,)),), kernel={(): np.expm1})


@function("expm1", methods="expm1")
def expm1(input):
    """exp(input) - 1, accurate near 0; d/dx = result + 1"""
    return call(EXPM1, (input,))


_inplace(EXPM1, "expm1")
