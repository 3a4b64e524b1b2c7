"""The primitive namespace of `ops.prims`, made of tape's differentiable functions.

Backward rules run with this namespace when create_graph=True, so the backward pass is
itself recorded and can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from .ops import convert as _convert
from .ops import indexing as _indexing
from .ops import nn as _nn
from .ops import unary as _unary
from .ops.registry import FUNCTIONS as _F
from .ops.registry import OPS as _OPS
from .ops.registry import call as _call
from .tensor import Tensor, _wrap


def sum_to(x, shape):
    """A broadcast gradient summed back to `shape`, recorded as torch's sum_to records it: a
    full sum to a 0-d shape (SumBackward0); else one sum keeping dims (SumBackward1) and a
    view only when leading dims go (ViewBackward0)."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if not shape:
        return _F["sum"](x)
    lead = x.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if dims:
        x = _F["sum"](x, dims, keepdim=True)
    return _F["reshape"](x, shape) if lead else x  # (a sum is contiguous: a view)


def sum(x, dims=None, keepdim=False):
    return _F["sum"](x) if dims is None else _F["sum"](x, dims, keepdim=keepdim)


def mean(x, dims=None, keepdim=False):
    return _F["mean"](x) if dims is None else _F["mean"](x, dims, keepdim=keepdim)


def expand(x, shape):
    return x.expand(tuple(shape))


def unsqueeze_dims(x, dims):
    for d in sorted(dims):
        x = _F["unsqueeze"](x, d)
    return x


def squeeze(x, dim):
    return _F["squeeze"](x, dim)


def reshape(x, shape):
    return _F["reshape"](x, tuple(shape))


def transpose(x, dim0, dim1):
    return _F["transpose"](x, dim0, dim1)


def permute(x, dims):
    return _F["permute"](x, tuple(int(d) for d in dims))


def matmul(a, b):
    # torch's rules call mm and bmm themselves (MmBackward0, BmmBackward0), not matmul's
    # decomposition into expands and views
    if a.ndim == b.ndim and a.ndim in (2, 3):
        return _F["mm" if a.ndim == 2 else "bmm"](a, b)
    return _F["matmul"](a, b)


def mT(x):  # noqa: N802 - torch's name
    # torch's rules transpose a matrix with t() (TBackward0), a batch with transpose
    return _F["t"](x) if x.ndim == 2 else _F["transpose"](x, -2, -1)


def t(x):
    return _F["t"](x)


def outer(a, b):
    # torch's outer: a viewed as a column, times b
    return (_F["reshape"](a, (-1, 1)) if a.ndim == 1 else _F["unsqueeze"](a, -1)) * b


def stack(xs, dim=0):
    return _F["stack"](list(xs), dim)


def zeros(shape, like):
    return _wrap(np.zeros(shape, dtype=like._data.dtype))


def zeros_like(x):
    return _wrap(np.zeros_like(x._arr()))


def ones_like(x):
    return _wrap(np.ones_like(x._arr()))


def where(cond, a, b):
    return _F["where"](cond, a, b)


def threshold_backward(g, result):
    return _call(_unary.THRESHOLD_BACKWARD, (g, result))


def tanh_backward(g, result):
    return _call(_unary.TANH_BACKWARD, (g, result))


def sigmoid_backward(g, result):
    return _call(_unary.SIGMOID_BACKWARD, (g, result))


def softmax_backward(g, result, dims):
    return _call(_nn.SOFTMAX_BACKWARD, (g, result), (dims,))


def log_softmax_backward(g, result, dims):
    return _call(_nn.LOG_SOFTMAX_BACKWARD, (g, result), (dims,))


def masked_fill(x, mask, value):
    return _F["masked_fill"](x, mask if isinstance(mask, Tensor) else _wrap(np.asarray(mask)), value)


def floor_divide(a, b):
    return _F["div"](a, b, rounding_mode="floor")


def keep_where(cond, g):
    return _F["where"](cond, g, 0.0)


def exp(x):
    return _F["exp"](x)


def log(x):
    return _F["log"](x)


def sign(x):
    return _F["sgn"](x)  # torch's rules take sgn


def pow(x, y):
    return _F["pow"](x, y)


def to_dtype(x, dtype):
    return _convert.convert(x, np.dtype(dtype))


def index_put_zeros(shape, index, g, like, accumulate=True, node="IndexPutZerosBackward0"):
    op, shape = _OPS[node], tuple(shape)
    if len(op.inputs) == 1:
        return _call(op, (g,), (shape, index, accumulate))
    zeros = _wrap(np.zeros(shape, dtype=g._data.dtype))
    return _call(op, (zeros, g), (shape, index, accumulate))


def index_put(x, index, values):
    return _call(_indexing.INDEX_PUT, (x, values), (index, False))


def const(x):
    # an array as a tensor too (no gradient): on the left of an operator it stays the left
    # operand, as in torch's formulas (numpy would hand `array * tensor` to the tensor's
    # reflected method, swapping the node's edges)
    if isinstance(x, Tensor):
        return x.detach()
    return _wrap(x) if isinstance(x, np.ndarray) else x


def value(x):
    return x._data if isinstance(x, Tensor) else x


def select(x, dim, index):
    return _F["select"](x, dim, index)


def take(x, index):
    return _call(_indexing.INDEX, (x,), (index,))


def sin(x):
    return _F["sin"](x)


def cos(x):
    return _F["cos"](x)


def cat(xs, dim=0):
    return _F["cat"](list(xs), dim)


def narrow(x, dim, start, length):
    return _F["narrow"](x, dim, start, length)


def sigmoid(x):
    return _F["sigmoid"](x)


def log_sigmoid(x):
    from .ops.registry import NAMESPACES

    return NAMESPACES["nn.functional"]["logsigmoid"](x)


def tanh(x):
    return _F["tanh"](x)


def erf(x):
    return _F["erf"](x)


# ---- for the reductions and scans (ops/reduction.py) ----


def prod(x, dim=None, keepdim=False):
    return _F["prod"](x) if dim is None else _F["prod"](x, dim, keepdim=keepdim)


def cumsum(x, dim):
    return _F["cumsum"](x, dim)


def flip(x, dim):
    return _F["flip"](x, (dim,))


def abs(x):
    return _F["abs"](x)
