"""The namespace `F` that backward rules are written against, in its numpy form.

Rules use Python operators (`g * other`, `-g`, `g / x`) and the functions below. The engine
builds a second namespace with the same names out of tape's own differentiable functions;
running a rule with that one records the backward pass (create_graph=True). A test checks
that both namespaces offer the same names.
"""

from __future__ import annotations

import numpy as np

_HALF = np.dtype(np.float16)

# np.add.reduce is np.sum without its Python wrapper (~3 us a call on small arrays); the
# result dtypes are the same (small integers and bools sum in the default int)
_add_reduce = np.add.reduce


def sum_to(x, shape):
    """Sum `x` down to `shape`: the gradient of broadcasting `shape` up to `x.shape`."""
    xs = x.shape
    if xs == shape:
        return x
    if x.dtype is _HALF:  # torch sums float16 in float32 and rounds once (NOTE [accumulation])
        return sum_to(x.astype(np.float32), shape).astype(_HALF)
    lead = len(xs) - len(shape)
    if lead == 1 and shape and xs[1:] == shape:  # one leading dim (a bias's gradient)
        return _add_reduce(x, axis=0)
    kept = tuple(lead + i for i, n in enumerate(shape) if n == 1 and xs[lead + i] != 1)
    if not kept:  # leading dims only: the reduction has the shape already (a fresh array,
        return _add_reduce(x, axis=tuple(range(lead))) if lead else x.reshape(shape)  # not a view)
    out = _add_reduce(x, axis=tuple(range(lead)) + kept, keepdims=True)
    return out if not lead else out.reshape(shape)


def sum(x, dims=None, keepdim=False):
    return _add_reduce(x, axis=dims, keepdims=keepdim)


def mean(x, dims=None, keepdim=False):
    """sum / count (np.mean would accumulate float16 in float32)."""
    n = np.size(x) if dims is None else int(np.prod([np.shape(x)[d] for d in dims]))
    return sum(x, dims, keepdim) / n


def expand(x, shape):
    """Broadcast `x` to `shape` (a read-only view)."""
    if x.ndim == 0:
        # a full reduction's gradient: the view built directly, every stride 0 (np.broadcast_to's
        # Python-level checks cannot fail for a 0-d value). Over a numpy scalar's own buffer,
        # which is read-only, so the view is too without setting its flag: 0.6 µs, not 1.7
        if type(x) is np.ndarray:
            x = x[()]
        return np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
    return np.broadcast_to(x, shape)


def unsqueeze_dims(x, dims):
    """Re-insert the reduced `dims` (sorted, non-negative) as size-1 axes."""
    return np.expand_dims(x, dims)


def squeeze(x, dim):
    """Drop the size-1 axis `dim`."""
    return np.squeeze(x, dim)


def reshape(x, shape):
    return np.reshape(x, shape)


def transpose(x, dim0, dim1):
    return x if np.ndim(x) == 0 else np.swapaxes(x, dim0, dim1)


def permute(x, dims):
    return np.transpose(x, dims)


matmul = np.matmul  # the ufunc itself: no Python frame between a rule and the product


def mT(x):
    """Swap the last two dims (matrix transpose of a batch)."""
    return x.swapaxes(-1, -2)  # the method: np.swapaxes adds ~1 us of Python dispatch


def masked_fill(x, mask, value):
    """`x` with `value` where `mask` holds: torch's masked_fill (the value a number or a 0-d
    array), which its rules use to zero entries."""
    return np.where(mask, value, x)


floor_divide = np.floor_divide


def t(x):
    """torch's t(): a matrix transposed, fewer dims unchanged (recorded all the same)."""
    return x.T


def outer(a, b):
    return np.multiply.outer(a, b)


def stack(xs, dim=0):
    return np.stack(xs, axis=dim)


def zeros(shape, like):
    return np.zeros(shape, dtype=like.dtype)


def zeros_like(x):
    return np.zeros_like(x)


def ones_like(x):
    return np.ones_like(x)


def where(cond, a, b):
    return np.where(cond, a, b)


_BITS = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
         np.dtype(np.float64): np.int64}


def keep_where(cond, g):
    """where(cond, g, 0): `g` where `cond`, +0 elsewhere (NaN and inf in `g` zeroed too).

    For float arrays, as integers: g's bits times cond (1 or 0) are every bit of g or none
    (+0.0). Exact, and one pass like g * cond (which would turn inf * 0 into NaN); np.where
    is about twice as slow."""
    bits = _BITS.get(g.dtype) if type(g) is np.ndarray else None
    if bits is None or type(cond) is not np.ndarray or cond.shape != g.shape:
        return np.where(cond, g, 0.0)
    out = np.empty(g.shape, g.dtype)
    np.multiply(g.view(bits), cond, out=out.view(bits))
    return out


# numpy's ufuncs themselves (as matmul above): a rule calling them has no Python frame in
# between (sin, cos, tanh and abs below too)
exp, log = np.exp, np.log

# torch's pow(Tensor, Scalar) for float32 and float64 takes these exponents by other kernels
# (sqrt(-0.) is -0. where (-0.) ** 0.5 is 0., 1 / sqrt(-0.) is -inf, and 1 / (x * x) is 0
# where x * x overflows): every other exponent, and float16, go to pow itself
_POW_PATHS = {0.5: np.sqrt, -0.5: lambda x: 1 / np.sqrt(x), -1: lambda x: 1 / x,
             2: lambda x: x * x, 3: lambda x: x * x * x, -2: lambda x: 1 / (x * x)}
POW_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def pow(x, e):
    """x ** e, with torch's paths for a number `e` (_POW_PATHS)."""
    if type(e) in (int, float) and getattr(x, "dtype", None) in POW_FLOATS:
        path = _POW_PATHS.get(e)
        if path is not None:
            return path(x)
    return np.power(x, e)


def sign(x):
    """torch's sign: 0 for NaN (numpy's is NaN), a bool for a bool (numpy's refuses)."""
    if x.dtype.kind == "b":
        return np.array(x, copy=True)
    s = np.sign(x)
    if x.dtype.kind == "f":
        return np.where(x == x, s, s.dtype.type(0))[()]  # (a 0-d input stays a scalar)
    return s


def to_dtype(x, dtype):
    return x if x.dtype == dtype else x.astype(dtype)


def index_put_zeros(shape, index, g, like, accumulate=True, node=None):
    """Zeros of `shape` with `g` added at `index` (repeated indices accumulate). `node`:
    the name torch records it under (ops.indexing.INDEX_PUT_ZEROS)."""
    out = np.zeros(shape, dtype=like.dtype)
    if accumulate and node == "ScatterAddBackward0" and out.dtype == np.float16:
        from .registry import OPS  # (as the op recorded under that name sums: in float32)

        return OPS[node].forward(out, g, shape, index, accumulate)
    if accumulate:
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


def index_put(x, index, values):
    """A copy of `x` with `values` written at `index`."""
    out = np.array(x, copy=True)
    out[index] = values
    return out


def const(x):
    """A value that takes no part in differentiation (masks, indices)."""
    return x


def value(x):
    """The plain numpy value of `x`, for decisions a rule makes on data (never recorded)."""
    return x


NAMES = tuple(  # the functions defined here, and numpy ufuncs bound here under a public name
    n for n, v in list(globals().items()) if callable(v) and not n.startswith("_") and v is not np
    and (getattr(v, "__module__", None) == __name__ or isinstance(v, np.ufunc))
)


def select(x, dim, index):
    return x[(slice(None),) * dim + (index, Ellipsis)]


NAMES = NAMES + ("select",)


def take(x, index):
    """x[index] for an integer array index (a gather)."""
    return x[index]


NAMES = NAMES + ("take",)


sin, cos = np.sin, np.cos


NAMES = NAMES + ("sin", "cos")


def cat(xs, dim=0):
    return np.concatenate(xs, axis=dim)


def narrow(x, dim, start, length):
    """`length` entries of `dim` from `start` (a view)."""
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def sigmoid(x):
    # torch's kernel, rounding for rounding: 1 / (1 + exp(-x)). exp(-x) overflows to inf below
    # about -88 (float32) or -709 (float64), and the result is 0 as torch's is, where
    # exp(x) / (1 + exp(x)) kept a subnormal (numpy's overflow warning: NOTE [quiet IEEE])
    return 1 / (1 + np.exp(-x))


def log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


tanh = np.tanh


from math import erf as _math_erf  # noqa: E402 - appended with its primitive

_erf_object = np.frompyfunc(_math_erf, 1, 1)


def erf(x):
    # numpy has no erf: libm's, elementwise, in float64, cast back to x's dtype
    x = np.asarray(x)
    return np.asarray(_erf_object(x.astype(np.float64)), dtype=np.float64).astype(x.dtype)


NAMES = NAMES + ("cat", "narrow", "sigmoid", "log_sigmoid", "tanh", "erf")


def threshold_backward(g, result):
    """relu's backward, torch's threshold_backward at 0: `g` where result != 0 (NOTE at
    ops.unary.RELU), a node of its own when recorded, so it has a gradient itself."""
    return keep_where(result != 0, g)


NAMES = NAMES + ("threshold_backward",)


# tanh's and sigmoid's backward, as torch's kernels compute them from the result `y`;
# nodes of their own when recorded (ops.unary.TANH_BACKWARD, SIGMOID_BACKWARD)
def tanh_backward(g, y):
    return g * (1 - y * y)


def sigmoid_backward(g, y):
    return g * (1 - y) * y


def softmax_backward(g, y, dims):
    """softmax's backward from its result `y` along `dims` ((dim,), or None for 0-d)."""
    return (g - sum(g * y, dims, keepdim=True)) * y


def log_softmax_backward(g, y, dims):
    return g - exp(y) * sum(g, dims, keepdim=True)


NAMES = NAMES + ("tanh_backward", "sigmoid_backward", "softmax_backward", "log_softmax_backward")


# ---- for the reductions and scans (ops/reduction.py) ----


def prod(x, dim=None, keepdim=False):
    """Product over one dim (an int), or of all elements."""
    return np.prod(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim):
    return np.cumsum(x, axis=dim)


def flip(x, dim):
    return np.flip(x, axis=dim)


abs = np.abs


NAMES = NAMES + ("prod", "cumsum", "flip", "abs")
