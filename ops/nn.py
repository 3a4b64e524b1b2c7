"""torch.nn.functional: activations, softmax, losses, linear and dropout.

Registered under namespace="nn.functional" (`tape.nn.functional.NAME`), plus the module-level
and Tensor-method names torch also has (`tape.softmax`, `x.log_softmax`, `tape.addmm`...).
Where torch has one backward node for an op (SoftmaxBackward0, MseLossBackward0,
NllLossBackward0, BinaryCrossEntropyWithLogitsBackward0, AddmmBackward0) it is one op here;
where torch composes an op in C++ (l1_loss, cross_entropy, linear, dropout) it is composed
here from the same pieces, so the node trees are torch's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import arith, prims, shape, unary
from . import reduction as red_ops
from .convert import convert
from .dims import broadcast_error, check_broadcast, wrap_dim
from .dtypes import check_dtype_arg, result_type
from .dtypes import opmath as _opmath
from .indexing import MASKED_FILL  # masked_fill_(mask, number): torch's label-smoothing term uses it
from .linalg import matrix_layouts
from .prims import erf as _erf
from .prims import log_sigmoid as _log_sigmoid
from .registry import call, call_inplace, contiguous_result, function, op, param_array, watch_params

NN = "nn.functional"


def _np_dtype(dtype):
    return None if dtype is None else np.dtype(getattr(dtype, "np", dtype))


def _require_float(input, kernel: str):
    """torch's CPU kernels exist for floating dtypes only."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype.torch_name}\'')


def _no_grad_argument(fn: str, name: str, value):
    if value is not None and value.requires_grad:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{name}'. "
                           "This input cannot have requires_grad True.")


# ---- activations ------------------------------------------------------------------------


@function("relu", namespace=NN)
def relu(input, inplace=False):
    """max(input, 0); the same op as `tape.relu` (ReluBackward0)."""
    return input.relu_() if inplace else unary.relu(input)


@function("relu_", namespace=NN)
def relu_(input):
    return input.relu_()


_SQRT1_2 = 1 / math.sqrt(2)
_GELU_PDF = 1 / math.sqrt(2 * math.pi)  # normal pdf at 0
_GELU_BETA = math.sqrt(2 / math.pi)
_GELU_KAPPA = 0.044715


def _gelu_fwd(x, approximate):
    if approximate == "tanh":
        inner = _GELU_BETA * (x + _GELU_KAPPA * x * x * x)
        return 0.5 * x * (1 + np.tanh(inner))
    # torch's kernel, rounding for rounding: x * (1 + erf(x / sqrt(2))) * 0.5 (so 1.8e38
    # overflows, as there). In float32, h + h * erf (h = x / 2) rounds at h's scale instead:
    # gelu(-5.54) was -2.4e-7 where torch gives -1.65e-7, and 77% of values in [-6, -4]
    # differed from torch's (26% now, all from torch's own float32 erf)
    return x * (1 + _erf(x * _SQRT1_2)) * 0.5


def _gelu_slope(F, x, approximate):
    """gelu'(x)."""
    if approximate == "tanh":
        x_sq = x * x
        t = F.tanh(_GELU_BETA * (x + _GELU_KAPPA * x_sq * x))
        left = 0.5 * (1 + t)
        right = 0.5 * x * (1 - t * t) * _GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq)
        return left + right
    cdf = 0.5 * (1 + F.erf(x * _SQRT1_2))
    pdf = _GELU_PDF * F.exp(-0.5 * x * x)
    return cdf + x * pdf


def _gelu_curvature(F, x, approximate):
    """gelu''(x): pdf * (2 - x**2); for the tanh form, with u = beta * (x + kappa * x**3)
    and t = tanh(u): (1 - t**2) * (u' - x * t * u'**2 + 3 * beta * kappa * x**2)."""
    if approximate == "tanh":
        x_sq = x * x
        t = F.tanh(_GELU_BETA * (x + _GELU_KAPPA * x_sq * x))
        du = _GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq)
        return (1 - t * t) * (du - x * t * du * du + 3 * _GELU_BETA * _GELU_KAPPA * x_sq)
    return _GELU_PDF * F.exp(-0.5 * x * x) * (2 - x * x)


def _gelu_grad(g, x, approximate):
    """gelu's input gradient on numpy arrays (torch's gelu_backward)."""
    return g * _gelu_slope(prims, x, approximate)


def _gelu_bwd(F, ctx, g, self):
    if F is prims:
        return (_gelu_grad(g, self, ctx.params[0]),)
    return (call(GELU_BACKWARD, (g, self), ctx.params),)  # recorded: torch's node


def _gelu_backward_bwd(F, ctx, gg, grad_output, self):
    need_grad, need_self = ctx.needs
    return (gg * _gelu_slope(F, self, ctx.params[0]) if need_grad else None,
            gg * grad_output * _gelu_curvature(F, self, ctx.params[0]) if need_self else None)


GELU = op("gelu", "GeluBackward0", _opmath(_gelu_fwd), _gelu_bwd, saves=(("self", (0,)),),
          param_names=("approximate",))
GELU_BACKWARD = op("gelu_backward", "GeluBackwardBackward0", _gelu_grad, _gelu_backward_bwd,
                   inputs=("grad_output", "self"), saves=(("grad_output", (1,)), ("self", (0, 1))),
                   param_names=("approximate",))


@function("gelu", namespace=NN)
def gelu(input, *, approximate="none"):
    """x * Phi(x) (Phi the standard normal cdf), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _require_float(input, "GeluKernelImpl")
    return call(GELU, (input,), (approximate,))


def _silu_bwd(F, ctx, g, self):
    s = F.sigmoid(self)
    return (g * s * (1 + self * (1 - s)),)


# torch's kernel: x / (1 + exp(-x)), not x * sigmoid(x) (one rounding less)
SILU = op("silu", "SiluBackward0", _opmath(lambda x: x / (1 + np.exp(-x))), _silu_bwd,
          saves=(("self", (0,)),))


@function("silu", namespace=NN)
def silu(input, inplace=False):
    """x * sigmoid(x)"""
    _require_float(input, "silu_cpu")
    return call_inplace(SILU, input, ()) if inplace else call(SILU, (input,))


def _log_sigmoid_grad(g, x):
    """logsigmoid's input gradient on numpy arrays: g * sigmoid(-x)."""
    return g * prims.sigmoid(-x)


def _log_sigmoid_bwd(F, ctx, g, self):
    if F is prims:
        return (_log_sigmoid_grad(g, self),)
    return (call(LOG_SIGMOID_BACKWARD, (g, self)),)  # recorded: torch's node


def _log_sigmoid_backward_bwd(F, ctx, gg, grad_output, self):
    need_grad, need_self = ctx.needs
    s = F.sigmoid(-self)
    return (gg * s if need_grad else None,
            -(gg * grad_output) * s * F.sigmoid(self) if need_self else None)


# torch keeps exp(-|x|) from the forward as `buffer`; the gradient is sigmoid(-x)
LOG_SIGMOID = op("log_sigmoid", "LogSigmoidBackward0", lambda x, buffer: _log_sigmoid(x),
                 _log_sigmoid_bwd, saves=(("self", (0,)),),
                 param_names=("buffer",), derive=lambda arrays, params: (np.exp(-np.abs(arrays[0])),))
LOG_SIGMOID_BACKWARD = op("log_sigmoid_backward", "LogSigmoidBackwardBackward0",
                          _log_sigmoid_grad, _log_sigmoid_backward_bwd,
                          inputs=("grad_output", "self"),
                          saves=(("grad_output", (1,)), ("self", (0, 1))))


@function("logsigmoid", namespace=NN)
def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|."""
    _require_float(input, "log_sigmoid_cpu")
    return call(LOG_SIGMOID, (input,), ())


# ---- softmax, log_softmax -----------------------------------------------------------------


def _rows(a, dim):
    """A 0-d array as one row of one element (softmax over dim 0 or -1 of a scalar)."""
    return (a.reshape(1), 0) if a.ndim == 0 else (a, dim)


# the ufuncs' own reduce: np.max / np.sum without their Python wrappers (small inputs)
_max_reduce, _add_reduce = np.maximum.reduce, np.add.reduce


def _softmax_fwd(a, dim):
    x, d = _rows(a, dim)
    # shifted by the max: exp never overflows (an empty dim has max -inf)
    e = np.exp(x - _max_reduce(x, axis=d, keepdims=True, initial=-np.inf))
    return (e / _add_reduce(e, axis=d, keepdims=True)).reshape(a.shape)


def _log_softmax_fwd(a, dim):
    x, d = _rows(a, dim)
    s = x - _max_reduce(x, axis=d, keepdims=True, initial=-np.inf)
    lse = np.log(_add_reduce(np.exp(s), axis=d, keepdims=True))
    return np.subtract(s, lse, out=s).reshape(a.shape)  # s is this function's own temporary


def _softmax_dims(ctx):
    return (ctx.params[0],) if ctx.shapes[0] else None


SOFTMAX = op("softmax", "SoftmaxBackward0", contiguous_result(_opmath(_softmax_fwd)),
             lambda F, ctx, g, result: (F.softmax_backward(g, result, _softmax_dims(ctx)),),
             saves=(("result", (0,)),), param_names=("dim",))
LOG_SOFTMAX = op("log_softmax", "LogSoftmaxBackward0", contiguous_result(_opmath(_log_softmax_fwd)),
                 lambda F, ctx, g, result: (F.log_softmax_backward(g, result, _softmax_dims(ctx)),),
                 saves=(("result", (0,)),), param_names=("dim",))


# Their backwards when recorded (create_graph=True): nodes of their own, as torch's
# _softmax_backward_data and _log_softmax_backward_data, differentiable in both inputs.
# (`dims`: (dim,), or None for a 0-d input)


def _softmax_backward_bwd(F, ctx, gg, grad_output, output):
    (dims,) = ctx.params
    need_grad, need_output = ctx.needs
    return (F.softmax_backward(gg, output, dims) if need_grad else None,
            grad_output * gg - F.sum(output * grad_output, dims, keepdim=True) * gg
            - grad_output * F.sum(output * gg, dims, keepdim=True) if need_output else None)


def _log_softmax_backward_bwd(F, ctx, gg, grad_output, output):
    (dims,) = ctx.params
    need_grad, need_output = ctx.needs
    return (gg - F.sum(gg * F.exp(output), dims, keepdim=True) if need_grad else None,
            -F.sum(grad_output, dims, keepdim=True) * F.exp(output) * gg if need_output else None)


SOFTMAX_BACKWARD = op("softmax_backward", "SoftmaxBackwardDataBackward0", prims.softmax_backward,
                      _softmax_backward_bwd, inputs=("grad_output", "output"),
                      saves=(("grad_output", (1,)), ("output", (0, 1))), param_names=("dims",))
LOG_SOFTMAX_BACKWARD = op("log_softmax_backward", "LogSoftmaxBackwardDataBackward0",
                          prims.log_softmax_backward, _log_softmax_backward_bwd,
                          inputs=("grad_output", "output"),
                          saves=(("grad_output", (1,)), ("output", (0, 1))), param_names=("dims",))


def _softmax_like(OP, name, input, dim, dtype):
    if dtype is not None:
        check_dtype_arg(name, dtype)
        input = convert(input, _np_dtype(dtype))
    ndim = input._data.ndim
    dim = wrap_dim(dim, ndim)
    last = dim == max(ndim, 1) - 1
    if not input._data.size and input._data.dtype.kind != "f":
        return shape.clone(input)  # torch: nothing to compute, no kernel asked for (an int64 result)
    _require_float(input, f"{name}_lastdim_kernel_impl" if last else f"{name}_kernel_impl")
    return call(OP, (input,), (dim,))


@function("softmax", methods="softmax")
def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (computed shifted by the max: no overflow)."""
    return _softmax_like(SOFTMAX, "softmax", input, dim, dtype)


@function("log_softmax", methods="log_softmax")
def log_softmax(input, dim, dtype=None):
    """x - logsumexp(x) along `dim`, stable for large logits."""
    return _softmax_like(LOG_SOFTMAX, "log_softmax", input, dim, dtype)


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


@function("softmax", namespace=NN)
def softmax_nn(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return softmax(input, dim, dtype)


@function("log_softmax", namespace=NN)
def log_softmax_nn(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return log_softmax(input, dim, dtype)


# ---- reductions of losses -----------------------------------------------------------------

_NONE, _MEAN, _SUM = 0, 1, 2
_ENUM = {"none": _NONE, "mean": _MEAN, "sum": _SUM}


def _reduction(reduction: str, size_average=None, reduce=None) -> int:
    """torch's Reduction enum of `reduction` (the legacy flags win when given)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    try:
        return _ENUM[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{reduction} is not a valid value for reduction") from None


def _reduce_np(loss, red):
    if red == _MEAN:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.mean(loss) if loss.size else np.array(np.nan, loss.dtype), loss.dtype)
    if red == _SUM:
        return np.asarray(np.sum(loss), loss.dtype)
    return loss


def _apply_reduction(loss, red):
    """torch's apply_loss_reduction: mean() / sum() / the loss itself."""
    if red == _MEAN:
        return red_ops.mean(loss)
    if red == _SUM:
        return red_ops.sum(loss)
    return loss


def _size_warning(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _broadcast_pair(a, b):
    """torch.broadcast_tensors: each expanded to the common shape (untouched if it has it)."""
    try:
        common = tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    except ValueError:
        raise _size_mismatch(tuple(a.shape), tuple(b.shape)) from None
    return tuple(x if tuple(x.shape) == common else shape.expand(x, *common) for x in (a, b))


def _size_mismatch(sa, sb) -> RuntimeError:
    return broadcast_error(sa, sb) or RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast")


def _weighted(errors, weight, input, reduction):
    """torch's Python path of mse_loss / l1_loss with `weight`."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    out = arith.mul(errors, weight)
    if reduction == "none":
        return out
    if reduction == "sum":
        return red_ops.sum(out)
    if reduction == "mean":
        return arith.div(red_ops.sum(out), red_ops.sum(weight))
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


# ---- mse_loss, l1_loss --------------------------------------------------------------------


def _mse_fwd(a, b, red):
    d = a - b
    return _reduce_np(d * d, red)


def _mse_scale(shape, red):
    n = math.prod(shape)
    return 2.0 / n if red == _MEAN and n else 2.0


def _mse_grad(g, self, target, red):
    """torch's mse_loss_backward: the gradient for `self`."""
    return (self - target) * (_mse_scale(np.shape(self), red) * g)


def _mse_bwd(F, ctx, g, self, target):
    need_self, need_target = ctx.needs
    if F is prims:
        d = _mse_grad(g, self, target, ctx.params[0])
        return (d if need_self else None, -d if need_target else None)
    # recorded: torch's node, the target's gradient being the same with the two swapped
    return (call(MSE_BACKWARD, (g, self, target), ctx.params) if need_self else None,
            call(MSE_BACKWARD, (g, target, self), ctx.params) if need_target else None)


def _mse_backward_bwd(F, ctx, gg, grad_output, self, target):
    need_grad, need_self, need_target = ctx.needs
    red = ctx.params[0]
    scale = _mse_scale(ctx.shapes[1], red)  # (from the shape: `self` is saved only for grad_output)
    g_grad = None
    if need_grad:
        g_grad = (self - target) * gg * scale
        if red != _NONE:
            g_grad = F.sum(g_grad)
    both = gg * grad_output * scale if need_self or need_target else None
    return g_grad, both if need_self else None, -both if need_target else None


MSE = op("mse_loss", "MseLossBackward0", _mse_fwd, _mse_bwd, inputs=("self", "target"),
         saves=(("self", (0, 1)), ("target", (0, 1))), param_names=("reduction",))
MSE_BACKWARD = op("mse_loss_backward", "MseLossBackwardBackward0", _mse_grad, _mse_backward_bwd,
                  inputs=("grad_output", "self", "target"),
                  saves=(("grad_output", (1, 2)), ("self", (0,)), ("target", (0,))),
                  param_names=("reduction",))


@function("mse_loss", namespace=NN)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean / sum / elementwise (input - target)**2"""
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = {_NONE: "none", _MEAN: "mean", _SUM: "sum"}[_reduction(reduction, size_average, reduce)]
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted(arith.pow(arith.sub(a, b), 2), weight, input, reduction)
    red = _reduction(reduction)
    dt = result_type(a._data, b._data)  # torch's promotion: float32 with an int64 target is float32
    if dt.kind != "f":
        raise NotImplementedError(f'"mse_cpu" not implemented for \'{input.dtype.torch_name}\'')
    a, b = (x if x._data.dtype.kind == "f" else convert(x, dt) for x in (a, b))
    return call(MSE, (a, b), (red,))


@function("l1_loss", namespace=NN)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean / sum / elementwise |input - target| (torch composes it: sub, abs, mean or sum)"""
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = {_NONE: "none", _MEAN: "mean", _SUM: "sum"}[_reduction(reduction, size_average, reduce)]
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted(unary.abs(arith.sub(a, b)), weight, input, reduction)
    red = _reduction(reduction)
    return _apply_reduction(unary.abs(arith.sub(a, b)), red)


# ---- nll_loss -----------------------------------------------------------------------------
# The target and the class weights are no inputs of the node (torch's NllLossBackward0 has one
# edge); they ride along as parameters, with what forward and backward both need (derived
# from the target's values by _nll_derive): `index`,
# which picks each sample's target class out of the input (x[index] has the target's shape),
# and `neg_w`, minus the per-sample weights (0 where ignored), or None when every sample
# counts with weight 1 (no class weights, nothing ignored: the common case, kept cheap).

_NLL_PARAMS = ("target", "weight", "reduction", "ignore_index", "total_weight")


def _nll_fwd(x, target, weight, red, ignore, total, index, neg_w, valid):
    picked = x[index]
    if neg_w is None:
        terms = -picked
    elif valid is None:
        terms = picked * neg_w
    else:  # ignored entries give +0, even for an inf or NaN input
        terms = np.where(valid, picked * neg_w, np.zeros((), x.dtype))
    if red == _NONE:
        return np.asarray(terms)
    s = np.add.reduce(terms, axis=None, dtype=x.dtype)
    if red == _SUM:
        return np.asarray(s)
    if total != 0:  # else 0/0: NaN, as torch, without numpy's warning
        return np.asarray(s / total, dtype=x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(s / total, dtype=x.dtype)


def _nll_backward(g, self, target, weight, red, ignore, total, index, neg_w, valid):
    """nll_loss's input gradient, on numpy arrays (`self` gives only the shape)."""
    if red == _MEAN and total != 0:  # all ignored: no entry gets a gradient (torch: zeros)
        g = g / total
    # each sample's gradient lands on its target class (one entry per sample: no repeats)
    g = -g if neg_w is None else g * neg_w
    if valid is not None:  # an ignored sample's is 0, even for an inf or NaN upstream
        g = prims.keep_where(valid, g)
    return prims.index_put_zeros(np.shape(self), index, g, g, False)


def _nll_bwd(F, ctx, g, self):  # self is saved (as torch does) but only its shape matters
    if F is prims:
        return (_nll_backward(g, self, *ctx.params),)
    # recorded (create_graph=True): torch's nll_loss_backward node
    return (call(NLL2D_BACKWARD if len(ctx.shapes[0]) == 4 else NLL_BACKWARD, (g, self), ctx.params),)


def _nll_backward_bwd(F, ctx, gg):
    """nll_loss_backward is linear in grad_output: its gradient is nll_loss of `gg` with the
    same target and weights; in `self` (only its shape was used) zeros, as torch's."""
    need_grad, need_self = ctx.needs
    again = None
    if need_grad:
        if F is prims:
            again = _nll_fwd(gg, *ctx.params)
        else:
            again = call(NLL2D if len(ctx.shapes[1]) == 4 else NLL, (gg,), ctx.params[:4])
    return again, F.zeros_like(gg) if need_self else None


def _nll_index(shape, cdim, safe):
    """The index of x (of `shape`, classes along `cdim`) that picks class `safe[...]` for
    each sample: aranges broadcast along the other dims, `safe` along the class dim."""
    rest = [n for d, n in enumerate(shape) if d != cdim]
    index = []
    for d, n in enumerate(shape):
        if d == cdim:
            index.append(safe)
        else:
            k = d if d < cdim else d - 1
            r = [1] * len(rest)
            r[k] = n
            index.append(np.arange(n).reshape(r))
    return tuple(index)


def _nll_derive(arrays, params):
    """(input arrays, (target, weight, reduction, ignore_index)) -> the op's params: the
    picked classes and weights come from the target's values, so they are derived here,
    where tape.compile can run it again on every replay (Op.derive)."""
    (x,) = arrays
    t, weight, red, ignore_index = params
    cdim = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[cdim]
    # the largest target as unsigned finds negative and too large ones alike (max, not
    # `(t >= n).any()`: any() is a Python wrapper, ~3 µs more a call on W2's 64 targets)
    if t.size and (t.view(np.uint64) if t.dtype == np.int64 else t).max() >= n_classes:
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    elif 0 <= ignore_index < n_classes:
        valid = t != ignore_index
    else:
        valid = None  # every target is a class, none is ignore_index
    if valid is None or valid.all():
        valid, safe = None, t.astype(np.intp)  # a copy: the user may change `target` later
    else:
        safe = np.where(valid, t, 0).astype(np.intp)
    wv = None if weight is None else weight.astype(x.dtype, copy=False)
    if wv is None and valid is None:
        neg_w = None
        n_valid = safe.size
    else:
        w = np.ones(safe.shape, x.dtype) if wv is None else wv[safe]
        if valid is None:
            neg_w = -w
        else:
            w = w * valid
            neg_w = np.where(valid, -w, np.zeros((), x.dtype))
        n_valid = np.add.reduce(w, axis=None, dtype=x.dtype)
    # torch keeps the total weight, except for per-sample losses of a batch (then 0)
    batched_none = red == _NONE and x.ndim >= 2
    # (a numpy scalar, not a 0-d array: comparing and dividing by it costs ~1 µs less each)
    total = x.dtype.type(0 if batched_none else n_valid)
    index = ((safe,) if x.ndim == 1 else (np.arange(x.shape[0]), safe) if x.ndim == 2
             else _nll_index(x.shape, cdim, safe))
    return (t, wv, red, ignore_index, total, index, neg_w, valid)


NLL = op("nll_loss", "NllLossBackward0", _nll_fwd, _nll_bwd, saves=(("self", (0,)),),
         param_names=_NLL_PARAMS, derive=_nll_derive)
NLL2D = op("nll_loss2d", "NllLoss2DBackward0", _nll_fwd, _nll_bwd, saves=(("self", (0,)),),
           param_names=_NLL_PARAMS, derive=_nll_derive)
# their backwards when recorded: nodes of their own, as torch's
NLL_BACKWARD = op("nll_loss_backward", "NllLossBackwardBackward0", _nll_backward, _nll_backward_bwd,
                  inputs=("grad_output", "self"), param_names=_NLL_PARAMS)
NLL2D_BACKWARD = op("nll_loss2d_backward", "NllLoss2DBackwardBackward0", _nll_backward,
                    _nll_backward_bwd, inputs=("grad_output", "self"), param_names=_NLL_PARAMS)


def _nll_call(OP, input, target, weight, red, ignore_index):
    t = param_array(target)
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.torch_name}")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(
            f"expected scalar type {input.dtype.torch_name} but found {weight.dtype.torch_name}")
    out = call(OP, (input,), (t, None if weight is None else param_array(weight), red, ignore_index))
    return watch_params(out, ("target", target), ("weight", weight))


def _nll_loss(input, target, weight, red, ignore_index):
    """at::nll_loss: 1-d (C,) or 2-d (N, C) log-probabilities."""
    _no_grad_argument("nll_loss_forward", "weight", weight)
    x_shape, t_shape = input._data.shape, target._data.shape
    if not 0 < len(x_shape) <= 2:
        raise RuntimeError("input tensor should be 1D or 2D")
    if len(t_shape) > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    no_batch = len(x_shape) == 1 and not t_shape
    if not no_batch and x_shape[0] != t_shape[0]:
        raise RuntimeError(f"size mismatch (got input: {list(x_shape)}, target: {list(t_shape)})")
    n_classes = x_shape[-1]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    return _nll_call(NLL, input, target, weight, red, ignore_index)


def _nll_loss2d(input, target, weight, red, ignore_index):
    """at::nll_loss2d: (N, C, H, W) log-probabilities, (N, H, W) targets."""
    _no_grad_argument("nll_loss2d_forward", "weight", weight)
    if target.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of "
                           f"dimension: {target.ndim}")
    if input.ndim != 4:
        raise RuntimeError("only batches of spatial inputs supported (4D tensors), but got input of "
                           f"dimension: {input.ndim}")
    if weight is not None and weight.numel() != input.shape[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    s, t = input.shape, target.shape
    if (s[0], s[2], s[3]) != tuple(t):
        raise RuntimeError(f"size mismatch (got input: {list(s)} , target: {list(t)}")
    return _nll_call(NLL2D, input, target, weight, red, ignore_index)


def _nll_loss_nd(input, target, weight, red, ignore_index):
    """torch's nll_loss_nd: 1-d and 2-d inputs directly, 4-d as nll_loss2d, others viewed
    as 4-d (N, C, 1, rest) with the result viewed back."""
    x_shape = input._data.shape  # (the arrays' shapes: these checks run every step)
    if not x_shape:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    target = _one_target(input, target)
    t_shape = target._data.shape
    if len(x_shape) != 1 and (not t_shape or x_shape[0] != t_shape[0]):
        got = t_shape[0] if t_shape else 1
        raise ValueError(f"Expected input batch_size ({x_shape[0]}) to match target batch_size ({got}).")
    if len(x_shape) <= 2:
        return _nll_loss(input, target, weight, red, ignore_index)
    if len(x_shape) == 4:
        return _nll_loss2d(input, target, weight, red, ignore_index)
    n, c = input.shape[0], input.shape[1]
    out_size = (n,) + tuple(input.shape[2:])
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {list(out_size)}, got {list(target.shape)}")
    x = shape.contiguous(input)
    t = shape.contiguous(target)
    x = shape.view(x, (n, c, 1, x.numel() // (n * c)) if x.numel() else (n, c, 0, 0))
    t = shape.view(t, (n, 1, t.numel() // n) if t.numel() else (n, 0, 0))
    out = _nll_loss2d(x, t, weight, red, ignore_index)
    return shape.view(out, out_size) if red == _NONE else out


def _one_target(input, target):
    """A 1-d input takes a 0-d target, or a 1-d one of size 1 (torch squeezes it)."""
    if input._data.ndim == 1 and target._data.ndim == 1:
        if target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
        return shape.view(target, ())
    return target


@function("nll_loss", namespace=NN)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[i, target[i]] * weight[target[i]], averaged over the total weight, summed, or not
    reduced; entries whose target is `ignore_index` count for nothing."""
    return _nll_loss_nd(input, target, weight, _reduction(reduction, size_average, reduce), ignore_index)


# ---- cross_entropy ------------------------------------------------------------------------


def _class_weight_view(weight, ndim: int, class_dim: int):
    """The class weights shaped to broadcast along `class_dim` of an ndim-d input."""
    shp = [1] * ndim
    shp[class_dim] = weight.shape[0]
    return shape.view(weight, tuple(shp))


def _share(label_smoothing: float, n_classes: int) -> float:
    """label_smoothing / C, as torch divides in double: inf for no classes (a NaN loss)."""
    return label_smoothing / n_classes if n_classes else math.inf


def _ce_label_smoothing(input, target, weight, red, ignore_index, label_smoothing):
    """torch's cross_entropy_loss_label_smoothing: (1 - eps) * nll + eps / C * smoothing term."""
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    nll = _nll_loss_nd(logp, target, weight, red, ignore_index)
    n_classes = logp.shape[class_dim]
    ignore_mask = target._data == ignore_index
    if weight is not None:
        smooth = arith.mul(logp, _class_weight_view(weight, logp.ndim, class_dim))
    else:
        smooth = logp
    smooth = arith.neg(red_ops.sum(smooth, class_dim))
    smooth = call_inplace(MASKED_FILL, smooth, (), (ignore_mask, 0.0))
    if red == _MEAN:
        if weight is not None:
            kept = target._data[~ignore_mask].reshape(-1).astype(np.intp)
            denom = np.asarray(np.sum(weight._data[kept]), dtype=weight._data.dtype)
        else:
            denom = np.asarray(np.sum(~ignore_mask), dtype=np.int64)
        ret = arith.div(red_ops.sum(smooth), denom)  # a 0-d array: no edge, as torch's
    elif red == _SUM:
        ret = red_ops.sum(smooth)
    else:
        ret = smooth
    return arith.add(arith.mul_scalar(nll, 1 - label_smoothing),
                     arith.mul_scalar(ret, _share(label_smoothing, n_classes)))


def _ce_prob_target(input, target, weight, red, label_smoothing):
    """torch's cross_entropy_loss_prob_target: -sum(log_softmax(input) * target [* weight])."""
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: {list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        target = arith.add_scalar(arith.mul_scalar(target, 1 - label_smoothing),
                                  _share(label_smoothing, n_classes))
    prod = arith.mul(logp, target)
    if weight is not None:
        w = _class_weight_view(weight, logp.ndim, class_dim) if logp.ndim > 1 else weight
        prod = arith.mul(prod, w)
    if red == _NONE:
        return arith.neg(red_ops.sum(prod, class_dim))
    total = red_ops.sum(prod)
    if red == _SUM:
        return arith.neg(total)
    if logp.numel() == 0:
        return arith.neg(total.fill_(float("nan")))
    return arith.div_scalar(arith.neg(total), logp.numel() // n_classes)


@function("cross_entropy", namespace=NN)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """nll_loss(log_softmax(input, class dim), target) for class indices; for class
    probabilities (target shaped as input) -sum(target * log_softmax(input)); optional class
    weights, ignored index and label smoothing, as torch composes them."""
    red = _reduction(reduction, size_average, reduce)
    if input._data.shape == target._data.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class probabilities, got "
                               f"{target.dtype.torch_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _ce_prob_target(input, target, weight, red, label_smoothing)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        return _ce_label_smoothing(input, target, weight, red, ignore_index, label_smoothing)
    class_dim = 0 if input._data.ndim == 1 else 1
    return _nll_loss_nd(log_softmax(input, class_dim), target, weight, red, ignore_index)


# ---- binary_cross_entropy_with_logits -----------------------------------------------------


def _bce_fwd(x, t, weight, pos_weight, red):
    ls = _log_sigmoid(x)
    if pos_weight is not None:
        ls = ls * ((pos_weight - 1) * t + 1)
    loss = (1 - t) * x - ls
    if weight is not None:
        loss = loss * weight
    return _reduce_np(loss.astype(t.dtype, copy=False), red)


def _bce_bwd(F, ctx, g, self, target):
    weight, pos_weight, red = ctx.params
    need_self, need_target = ctx.needs
    gi = gt = None
    if need_self:
        if pos_weight is not None:
            tw = F.const(pos_weight) * target  # (torch's order: pos_weight's edge first)
            gi = ((tw + 1 - target) * F.sigmoid(self) - tw) * g
        else:
            gi = (F.sigmoid(self) - target) * g
    if need_target:
        if pos_weight is not None:
            gt = (F.log_sigmoid(-self) - F.log_sigmoid(self) * pos_weight) * g
        else:
            gt = -self * g
    n = np.size(F.value(self))
    out = []
    for gx in (gi, gt):
        if gx is not None:
            if weight is not None:
                gx = gx * weight
            if red == _MEAN:
                gx = gx / n
        out.append(gx)
    return tuple(out)


BCE_LOGITS = op("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
                _bce_fwd, _bce_bwd, inputs=("self", "target"),
                saves=(("self", (0, 1)), ("target", (0, 1))),
                param_names=("weight", "pos_weight", "reduction"))


def _fits_into(out_shape, other_shape):
    """torch's check for `out.mul_(other)`: other broadcasts to out's shape exactly."""
    try:
        common = tuple(np.broadcast_shapes(out_shape, other_shape))
    except ValueError:
        raise _size_mismatch(out_shape, other_shape) from None
    if common != out_shape:
        raise RuntimeError(f"output with shape {list(out_shape)} doesn't match the broadcast shape "
                           f"{list(common)}")


@function("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits_(input, target, weight=None, pos_weight=None, reduction=_NONE):
    """torch.binary_cross_entropy_with_logits: `reduction` is the Reduction enum (an int; torch's
    Python binding defaults to no reduction)."""
    fn = "binary_cross_entropy_with_logits"
    _no_grad_argument(fn, "weight", weight)
    _no_grad_argument(fn, "pos_weight", pos_weight)
    out_shape = tuple(input.shape)
    _fits_into(out_shape, tuple(target.shape))
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"result type {input.dtype.torch_name} can't be cast to the desired output type "
                           f"{target.dtype.torch_name}")
    pw = None
    if pos_weight is not None:
        check_broadcast(tuple(pos_weight.shape), tuple(target.shape))
        _fits_into(out_shape, tuple(np.broadcast_shapes(tuple(pos_weight.shape), tuple(target.shape))))
        pw = param_array(pos_weight)
    w = None
    if weight is not None:
        _fits_into(out_shape, tuple(weight.shape))
        w = param_array(weight)
    out = call(BCE_LOGITS, (input, target), (w, pw, int(reduction)))
    return watch_params(out, ("weight", weight), ("pos_weight", pos_weight))


@function("binary_cross_entropy_with_logits", namespace=NN)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """-[pos_weight * t * log sigmoid(x) + (1 - t) * log(1 - sigmoid(x))] [* weight], computed
    from log_sigmoid so that large logits neither overflow nor lose the loss."""
    red = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return binary_cross_entropy_with_logits_(input, target, weight, pos_weight, red)


# ---- linear -------------------------------------------------------------------------------


def _addmm_fwd(bias, m1, m2, beta, alpha):
    prod = np.matmul(m1, m2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # torch ignores `self` then (even NaN in it)
        return np.broadcast_to(prod, prod.shape).copy()
    return (bias if beta == 1 else bias * beta) + prod


def _addmm_bwd(F, ctx, g, mat1, mat2):
    beta, alpha = ctx.params
    need_self, need1, need2 = ctx.needs
    gs = (g if beta == 1 else g * beta) if need_self else None
    g1 = g2 = None
    if need1:
        g1 = F.matmul(g, F.mT(mat2))
        g1 = g1 if alpha == 1 else g1 * alpha
    if need2:
        g2 = F.matmul(F.mT(mat1), g)
        g2 = g2 if alpha == 1 else g2 * alpha
    return gs, g1, g2


ADDMM = op("addmm", "AddmmBackward0", _addmm_fwd, _addmm_bwd, inputs=("self", "mat1", "mat2"),
           saves=(("mat1", (2,)), ("mat2", (1,))), param_names=("beta", "alpha"),
           saved_attrs=matrix_layouts("mat1", "mat2"))


@function("addmm", methods="addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), `input` broadcast to the product's shape."""
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    if input.dtype != mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {input.dtype.torch_name} and "
                           f"{mat2.dtype.torch_name}")
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {mat1.dtype.torch_name} and "
                           f"{mat2.dtype.torch_name}")
    (n, k), (k2, m) = mat1.shape, mat2.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    shape.expand(input.detach(), n, m)  # torch's expand error when `input` does not broadcast
    return call(ADDMM, (input, mat1, mat2), (beta, alpha))


def _flatten_nd_linear(input, weight, bias):
    """torch's fused path: rows flattened to a matrix, one addmm, viewed back."""
    sizes = tuple(input.shape)
    rows = 1
    for s in sizes[:-1]:
        rows *= s
    out = addmm(bias, shape.view(input, (rows, sizes[-1])), shape.t(weight))
    return shape.view(out, sizes[:-1] + (out.shape[1],))


@function("linear", namespace=NN)
def linear(input, weight, bias=None):
    """input @ weight.T + bias, recorded as torch records it: addmm for a 2-d input or a
    contiguous one with a vector bias, else matmul then an in-place add of the bias."""
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input.ndim}D "
                           f"and {weight.ndim}D")
    if input.ndim == 2 and bias is not None:
        return addmm(bias, input, shape.t(weight))
    # torch's is_bias_likely_fusable: a vector bias (after squeezing), contiguous
    fusable = bias is not None and (bias.ndim == 1 or sum(s != 1 for s in bias.shape) == 1)
    if fusable and bias.is_contiguous() and input.is_contiguous():
        return _flatten_nd_linear(input, weight, bias)
    from .linalg import matmul

    out = matmul(input, shape.t(weight))
    if bias is not None:
        out = arith.add_(out, bias)
    return out


# ---- dropout ------------------------------------------------------------------------------


def _dropout(input, p: float, train: bool, inplace: bool):
    """torch's CPU dropout: the input itself when nothing is dropped, else input * noise with
    noise = bernoulli(1 - p) / (1 - p) drawn from tape's generator (one MulBackward0)."""
    if p == 0 or not train or input.numel() == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        noise = np.zeros((), dtype=dt)
    elif dt.kind not in "fc":  # the scaled noise is a float: it cannot go into an integer
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{input.dtype.torch_name}")
    else:
        from ..creation import _rng  # tape's generator (manual_seed); ops does not import tape

        keep = _rng[0].random(tuple(input.shape)) < (1 - p)
        noise = keep.astype(dt) / dt.type(1 - p)
    if inplace:
        return call_inplace(arith.MUL, input, (noise,))
    return call(arith.MUL, (input, noise))


@function("dropout", namespace=NN)
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _dropout(input, p, training, inplace)


@function("dropout")
def dropout_(input, p, train):
    """torch.dropout(input, p, train)"""
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _dropout(input, p, train, False)
