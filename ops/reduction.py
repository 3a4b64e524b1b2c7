"""Reductions: sum and mean over all elements or over dims.

NOTE [accumulation] torch's CPU kernels accumulate float16 in float32 and round the result
once (sum, mean, var, std, norm, the sum inside logsumexp, cumsum); cumsum accumulates
float32 in float64, each running sum rounded (as its backward, a reversed cumsum). Each
result keeps its dtype. Not followed: torch's float16 prod keeps a float16 accumulator, in
an order set by its CPU's vector width (so its overflows and roundings vary by machine);
numpy's rounds once. numpy's float16 reductions accumulate in float32 only within one
buffer (8192 entries), and its cumsum in the input's dtype: ones(4000, float16).cumsum()
ends at 2048.
"""

from __future__ import annotations

import numpy as np

from . import prims
from .dims import as_given, wrap_dim, wrap_dims
from .dtypes import check_dtype_arg, float_dtype
from .pointwise import maximum, minimum
from .registry import call, call_inplace, contiguous_result, function, grad_enabled, op, self_sizes


def _np_dtype(dtype):
    return None if dtype is None else np.dtype(getattr(dtype, "np", dtype))


# np.add.reduce is np.sum without its Python wrapper (~2 µs a call, most of a small sum)
_add_reduce = np.add.reduce
_HALF = np.dtype(np.float16)
_F32 = np.dtype(np.float32)


def _sum_all(a, dtype):
    dt = _np_dtype(dtype) or _sum_dtype(a)
    # a float16 result (NOTE [accumulation]; dtypes are canonical: `is`); dtype=float32 of a
    # float16 input sums in float32 and stays float32, as torch's
    if dt is _HALF or (dt is None and a.dtype is _HALF):
        return _half_sum(a, None, False)
    return _add_reduce(a, axis=None, dtype=dt)


def _sum_dims(a, dims, keepdim, dtype):
    dt = _np_dtype(dtype) or _sum_dtype(a)
    if dt is _HALF or (dt is None and a.dtype is _HALF):  # (as _sum_all)
        return _half_sum(a, _axes(dims), keepdim)
    return _add_reduce(a, axis=_axes(dims), keepdims=keepdim, dtype=dt)


def _half_sum(a, axis, keepdims):
    """A float16 sum as torch's: the entries as float16, summed in float32, rounded once."""
    return _add_reduce(a.astype(_HALF, copy=False), axis=axis, keepdims=keepdims,
                       dtype=np.float32).astype(_HALF)


def _axes(dims):
    # torch's sum and mean read an empty dim list as every dim (the node keeps dim=())
    return dims or None


def _sum_dtype(a):
    # torch sums integers and bools in int64, floats in their own dtype
    return np.int64 if a.dtype.kind in "biu" else None


def _expand_back(F, ctx, g, dims, keepdim):
    """The gradient of a reduction over `dims`: put the dims back, then broadcast."""
    if not keepdim and dims:
        g = F.unsqueeze_dims(g, dims)
    return F.expand(g, ctx.shapes[0])


_NO_DTYPE = (None,)  # shared params of a plain sum (as arith's _ALPHA1)
_SIZES = {"self_sym_sizes": self_sizes}
SUM = op("sum", "SumBackward0", _sum_all, lambda F, ctx, g: (F.expand(g, ctx.shapes[0]),),
         saved_attrs=_SIZES)
SUM_DIM = op("sum", "SumBackward1", contiguous_result(_sum_dims),
             lambda F, ctx, g: (_expand_back(F, ctx, g, ctx.params[0], ctx.params[1]),),
             param_names=("dim", "keepdim"), saved_attrs=_SIZES)


def _mean_all(a, dtype):
    if not a.size:
        return _mean_of_none(a, None, False, dtype)
    dt = _np_dtype(dtype)
    if dt is _HALF or (dt is None and a.dtype is _HALF):  # torch: sum in float32, divide, round
        return np.mean(a, dtype=np.float32).astype(_HALF)
    return np.mean(a, dtype=_np_dtype(dtype))  # a numpy scalar, as the ufuncs give (see sum)


def _mean_dims(a, dims, keepdim, dtype):
    dims = _axes(dims)
    if not a.size and not _numel(a.shape, dims):
        return _mean_of_none(a, dims, keepdim, dtype)
    dt = _np_dtype(dtype)
    if dt is _HALF or (dt is None and a.dtype is _HALF):  # (as _mean_all)
        return np.mean(a, axis=dims, keepdims=keepdim, dtype=np.float32).astype(_HALF)
    return np.mean(a, axis=dims, keepdims=keepdim, dtype=_np_dtype(dtype))


def _mean_of_none(a, dims, keepdim, dtype):
    """A mean over no elements: NaN, the empty sum over 0, as torch (and np.mean) compute it,
    without np.mean's "Mean of empty slice" warning (torch gives none)."""
    dt = _np_dtype(dtype) or a.dtype
    total = _add_reduce(a, axis=dims, keepdims=keepdim, dtype=dt)
    with np.errstate(invalid="ignore"):
        return np.true_divide(total, 0, dtype=dt)


def _numel(shape, dims=None):
    n = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            n *= s
    return n


def _per_element(g, count):
    # a mean over no elements has an empty input: its gradient is empty, undivided
    return g / count if count else g


def _mean_bwd(F, ctx, g, dims=None, keepdim=False):
    """The gradient spread back, divided by the count. torch divides the expanded gradient
    (DivBackward1 when recorded); the numpy path divides first and keeps the broadcast
    view, the same numbers without a full-size array."""
    count = _numel(ctx.shapes[0], None if dims is None else _axes(dims))
    if F is prims:
        return (_expand_back(F, ctx, _per_element(g, count), dims, keepdim),)
    return (_expand_back(F, ctx, g, dims, keepdim) / count,)  # (count 0: an empty gradient)


_SIZES_NUMEL = {"self_sym_sizes": self_sizes, "self_sym_numel": lambda ctx: _numel(ctx.shapes[0])}
MEAN = op("mean", "MeanBackward0", _mean_all, _mean_bwd, saved_attrs=_SIZES_NUMEL)
MEAN_DIM = op("mean", "MeanBackward1", contiguous_result(_mean_dims),
              lambda F, ctx, g: _mean_bwd(F, ctx, g, ctx.params[0], ctx.params[1]),
              param_names=("dim", "keepdim"), saved_attrs=_SIZES_NUMEL)


# torch's two overloads: sum(dtype=) and sum(dim, keepdim=False, dtype=), where dim may be
# None (every dim: SumBackward1, and keepdim keeps them); keepdim alone matches neither
_NO_DIM = object()


def check_keepdim(name: str, keepdim, where: str = "") -> None:
    """torch's parser takes a bool and nothing else (keepdim=1 would read as True, and 0 or
    None as False, giving another shape silently). `where`: " (position n)" if torch says."""
    if type(keepdim) is not bool:
        kind = type(keepdim)
        kind = f"numpy.{kind.__name__}" if kind.__module__ == "numpy" else kind.__name__
        raise TypeError(f"{name}(): argument 'keepdim'{where} must be bool, not {kind}")


def check_grad_dtype(input, dtype) -> None:
    """An integer or bool `dtype=` for a reduction of a tensor that requires grad (with grad
    mode on) is torch's error: its result could carry no gradient."""
    if dtype is None or not input._rg or not grad_enabled():
        return
    npd = np.dtype(getattr(dtype, "np", dtype))
    if npd.kind not in "fc":
        from .._dtypes import from_np

        raise RuntimeError(f"Autograd not support dtype: {from_np(npd).torch_name}")


def _dims_or_all(name: str, input, dim, keepdim):
    """The dims of the dim overload (None given means all of them), or None for the plain one."""
    if dim is _NO_DIM:
        if keepdim is not _NO_DIM:
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            "(keepdim=bool), but expected (Tensor input, tuple of ints dim, bool "
                            "keepdim, *, dtype) or (Tensor input, *, dtype)")
        return None
    if keepdim is not _NO_DIM:
        check_keepdim(name, keepdim)
    return as_given((), None) if dim is None else wrap_dims(dim, input.ndim)  # (torch keeps None)


@function("sum", methods="sum")
def sum(input, dim=_NO_DIM, keepdim=_NO_DIM, *, dtype=None):
    """Sum of all elements, or over `dim` (int or tuple; None or () for all, keepdim kept)."""
    dims = _dims_or_all("sum", input, dim, keepdim)
    if dtype is not None:
        check_dtype_arg("sum", dtype)
        check_grad_dtype(input, dtype)
    if dims is None:
        return call(SUM, (input,), _NO_DTYPE if dtype is None else (dtype,))
    return call(SUM_DIM, (input,), (dims, keepdim is True, dtype))


@function("mean", methods="mean")
def mean(input, dim=_NO_DIM, keepdim=_NO_DIM, *, dtype=None):
    """Arithmetic mean of all elements, or over `dim` (int or tuple; None or () for all)."""
    dims = _dims_or_all("mean", input, dim, keepdim)
    if dtype is not None and not hasattr(dtype, "np"):  # (Python's float: float64, as torch)
        from .._dtypes import from_np, to_np

        dtype = from_np(to_np(dtype, "mean"))
    dt = input.dtype if dtype is None else dtype
    if not dt.is_floating_point:
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype "
            f"must be either a floating point or complex dtype. Got: {dt.torch_name}")
    if dims is None:
        return call(MEAN, (input,), (dtype,))
    return call(MEAN_DIM, (input,), (dims, keepdim is True, dtype))


# ---------------------------------------------------------------------------------------
# Shared by the reductions below


def _reduce_dims(dim, ndim: int):
    """`dim` as a sorted tuple of non-negative dims, or None for all of them (None or ())."""
    if dim is None or ndim == 0:
        if dim is not None:
            wrap_dims(dim, ndim)  # still checks the range: 0-d tensors accept 0 and -1
        return None
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    return wrap_dims(dim, ndim)


def _kept(F, g, dims, keepdim):
    """A reduced gradient (or result) with its reduced dims back as size-1 dims, so that it
    broadcasts against the input (a full reduction's 0-d value broadcasts as it is)."""
    if keepdim or not dims:
        return g
    return F.unsqueeze_dims(g, dims)


def _np_kept(a, dims, keepdim):
    a = np.asarray(a)
    return a if keepdim or dims is None else np.expand_dims(a, dims)


def _like(F, a, g):
    """A numpy constant in the dtype of the gradient `g` (so float32 stays float32)."""
    return np.asarray(a, dtype=np.result_type(F.value(g)))


def _check_nonempty(name, input, dims):
    """torch's errors for reducing over nothing (max, amax, argmax... have no identity)."""
    if dims is None:
        if input.numel() == 0:
            raise _empty_error(name)
        return
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _empty_error(name):
    if name in ("argmax", "argmin"):
        return IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    return RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                        "Specify the reduction dim with the 'dim' argument.")


# ---------------------------------------------------------------------------------------
# prod


def _prod_all(a, dtype):
    return np.prod(a, dtype=_np_dtype(dtype) or _sum_dtype(a))


def _prod_dim(a, dim, keepdim, dtype):
    if a.ndim == 0:
        return _prod_all(a, dtype)
    return np.prod(a, axis=dim, keepdims=keepdim, dtype=_np_dtype(dtype) or _sum_dtype(a))


def _prod_grad(F, g, self, result, dim):
    """d prod / d x_i = the product of the others. Without zeros that is result / x_i (torch's
    formula); with zeros it is built so that its own derivative is right too (create_graph):
    others_i = P / x_i' * Q_i, P the product of the nonzero entries, x' the input with zeros
    made 1, Q_i the product of the zero entries other than x_i (1 with none; with exactly one,
    that entry's value written as a sum, so that it carries its derivative; else 0)."""
    if np.result_type(F.value(self)) != np.result_type(F.value(g)):
        self = F.to_dtype(self, np.result_type(F.value(g)))  # torch: self.to(grad's dtype)
    s = F.value(self)
    zero = s == 0
    if not zero.any():
        return g * (result / self)
    keep = dim is not None
    ones = F.where(F.const(zero), 1.0, self)
    P = F.prod(ones, dim, keep)
    zeros_only = F.where(F.const(zero), self, 0.0)
    count = np.sum(zero, axis=dim, keepdims=keep) - zero  # zero entries other than x_i
    single = F.sum(zeros_only, dim, keep) - zeros_only
    Q = F.where(F.const(count == 0), 1.0, F.where(F.const(count == 1), single, 0.0))
    return g * (P / ones * Q)


def _others_product(x, axis: int):
    """Each entry's product of the others along `axis`, as torch's prod_safe_zeros_backward
    computes it (exclusive cumulative products from both ends, multiplied): exact where
    entries are 0, and with inf or nan beside a 0 it gives torch's values (0 * inf where
    result / x would give nan)."""
    x = np.moveaxis(x, axis, -1)
    acc = np.float64 if x.dtype != np.float16 else np.float32  # (torch's cumprod accumulates
    ones = np.ones(x.shape[:-1] + (1,), x.dtype)  # in its acc type, each entry rounded back)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], -1), -1, dtype=acc).astype(x.dtype)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], -1), -1, dtype=acc).astype(x.dtype)
    return np.moveaxis(left * right[..., ::-1], -1, axis)


def _prod_safe_zeros(g, self, axis: int):
    """g times each entry's product of the others, in g's dtype (torch: self.to(grad's
    dtype), as _prod_grad: a float16 input's prod(dtype=float32) differentiates in float32)."""
    dt = np.result_type(g)
    return g * _others_product(self if self.dtype == dt else self.astype(dt), axis)


def _prod_all_bwd(F, ctx, g, self, result):
    if len(ctx.shapes[0]) == 0:
        return (g,)
    if F is prims:  # (with create_graph: the general, differentiable formula of _prod_grad)
        zeros = np.count_nonzero(self == 0)
        if zeros > 1:  # every product of the others has a zero: torch gives zeros, whatever g holds
            return (F.zeros_like(self),)
        if zeros == 1:
            return (_prod_safe_zeros(g, self.reshape(-1), 0).reshape(self.shape),)
    return (_prod_grad(F, g, self, result, None),)


def _prod_dim_bwd(F, ctx, g, self, result):
    dim, keepdim, _ = ctx.params
    if len(ctx.shapes[0]) == 0:
        return (g,)
    if not keepdim:
        g, result = F.unsqueeze_dims(g, (dim,)), F.unsqueeze_dims(result, (dim,))
    if F is prims and (self == 0).any():  # torch: a zero anywhere, the others' products everywhere
        return (_prod_safe_zeros(g, self, dim),)
    return (_prod_grad(F, g, self, result, dim),)


PROD = op("prod", "ProdBackward0", _prod_all, _prod_all_bwd,
          saves=(("self", (0,)), ("result", (0,))), param_names=(None,))
PROD_DIM = op("prod", "ProdBackward1", contiguous_result(_prod_dim), _prod_dim_bwd,
              saves=(("self", (0,)), ("result", (0,))), param_names=("dim", "keepdim", None))


@function("prod", methods="prod")
def prod(input, dim=_NO_DIM, keepdim=False, *, dtype=None):
    """Product of all elements, or along one `dim`; exact gradients where entries are 0."""
    if dtype is not None:
        check_dtype_arg("prod", dtype)
        check_grad_dtype(input, dtype)
    if dim is _NO_DIM:
        if keepdim is not False:
            raise TypeError("prod() received an invalid combination of arguments - got "
                            "(keepdim=bool), but expected (Tensor input, int dim, bool keepdim, *, "
                            "dtype) or (Tensor input, *, dtype)")
        return call(PROD, (input,), (dtype,))
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    check_keepdim("prod", keepdim)
    return call(PROD_DIM, (input,), (wrap_dim(dim, input.ndim), keepdim, dtype))


# ---------------------------------------------------------------------------------------
# max / min / amax / amin / argmax / argmin


def _evenly_bwd(F, ctx, g, self, result):
    """torch's evenly_distribute_backward: the gradient split among the entries equal to the
    result (among the NaNs, when the result is NaN)."""
    s, r = F.value(self), F.value(result)
    mask = np.isnan(s) if np.isnan(r) else s == r
    # (the count as a 0-d array, not a number: torch divides by mask.sum(), a tensor)
    count = np.asarray(mask.sum(), dtype=np.result_type(F.value(g)))
    return (F.masked_fill(F.zeros(ctx.shapes[0], g), mask, g / count),)


MAX = op("max", "MaxBackward1", lambda a: np.max(a), _evenly_bwd,
         saves=(("self", (0,)), ("result", (0,))))
MIN = op("min", "MinBackward1", lambda a: np.min(a), _evenly_bwd,
         saves=(("self", (0,)), ("result", (0,))))


def _select_fwd(a, dim, keepdim, indices):
    """The values at `indices` (the indices output) along `dim`."""
    if a.ndim == 0:
        return a.copy()
    out = np.take_along_axis(a, indices if keepdim else np.expand_dims(indices, dim), axis=dim)
    return out if keepdim else np.squeeze(out, dim)


def _select_bwd(F, ctx, g):
    """torch's value_selecting_reduction_backward: the gradient scattered to the indices."""
    dim, keepdim, indices = ctx.params
    shape = ctx.shapes[0]
    if len(shape) == 0:  # (a 0-d input: the gradient written into a 0-d zeros, as torch's)
        return (F.index_put_zeros((), (), g, g, False, node="ScatterBackward0"),)
    if not keepdim:  # (torch unsqueezes both)
        indices = np.expand_dims(indices, dim)
        g = F.unsqueeze_dims(g, (dim,))
    idx = [np.arange(n).reshape([n if k == d else 1 for k in range(len(shape))])
           for d, n in enumerate(indices.shape)]
    idx[dim] = indices
    return (F.index_put_zeros(shape, tuple(idx), g, g, False, node="ScatterBackward0"),)


def _arg_fwd(find):
    def forward(a, dim, keepdim):
        if dim is None:
            out = np.asarray(find(a.reshape(-1)), dtype=np.int64)
            return out.reshape((1,) * a.ndim) if keepdim else out
        if a.ndim == 0:
            return np.zeros((), dtype=np.int64)
        return find(a, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)

    return forward


def _derive_indices(find):
    """Op.derive: the indices the values come from (argmax/argmin along dim), kept as torch
    keeps them (_saved_indices); derived per call, so tape.compile replays recompute them."""

    def derive(arrays, params):
        dim, keepdim = params
        return (dim, keepdim, find(arrays[0], dim, keepdim))

    return derive


MAX_DIM = op("max", "MaxBackward0", _select_fwd, _select_bwd, saved_attrs=_SIZES,
             param_names=("dim", "keepdim", "indices"), derive=_derive_indices(_arg_fwd(np.argmax)))
MIN_DIM = op("min", "MinBackward0", _select_fwd, _select_bwd, saved_attrs=_SIZES,
             param_names=("dim", "keepdim", "indices"), derive=_derive_indices(_arg_fwd(np.argmin)))


def _return_type(name):
    import collections

    base = collections.namedtuple(name, ("values", "indices"))

    class ReturnType(base):
        """torch.return_types.<name>: a named tuple (values, indices)."""

        __slots__ = ()

        def __repr__(self):
            return f"tape.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    ReturnType.__name__ = ReturnType.__qualname__ = name
    ReturnType.__module__ = "tape.return_types"
    return ReturnType


return_types = {n: _return_type(n) for n in ("max", "min")}


# never differentiable: registered without a backward, like the comparisons
ARGMAX = op("argmax", "ArgmaxBackward0", _arg_fwd(np.argmax))
ARGMIN = op("argmin", "ArgminBackward0", _arg_fwd(np.argmin))


def _arg(name, OP, input, dim, keepdim):
    check_keepdim(name, keepdim)
    if input._data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        _check_nonempty(name, input, None)
        return call(OP, (input,), (None, keepdim))
    d = wrap_dim(dim, input.ndim)
    if input.ndim:
        _check_nonempty(name, input, (d,))
    return call(OP, (input,), (d, keepdim))


@function("argmax", methods="argmax")
def argmax(input, dim=None, keepdim=False):
    """Index of the largest entry (of the flattened input, or along `dim`); the first on ties,
    NaN counts as largest."""
    return _arg("argmax", ARGMAX, input, dim, keepdim)


@function("argmin", methods="argmin")
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest entry; the first on ties, NaN counts as smallest."""
    return _arg("argmin", ARGMIN, input, dim, keepdim)


def _max_min(name, input, dim, keepdim, other):
    if other is not None or hasattr(dim, "_data"):  # max(x, y): elementwise (torch's overload)
        other = dim if other is None else other
        return (maximum if name == "max" else minimum)(input, other)
    if dim is _NO_DIM:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            "(Tensor, keepdim=bool): keepdim needs a dim")
        _check_nonempty(name, input, None)
        return call(MAX if name == "max" else MIN, (input,))
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(dim).__name__}): dim must be an int, other a Tensor")
    check_keepdim(name, keepdim)
    d = wrap_dim(dim, input.ndim)
    if input.ndim:
        _check_nonempty(name, input, (d,))
    # the indices output (which never requires grad) and, derived again by the values op,
    # what the backward scatters to: changing the output in place cannot change the gradient
    indices = call(ARGMAX if name == "max" else ARGMIN, (input,), (d, keepdim))
    values = call(MAX_DIM if name == "max" else MIN_DIM, (input,), (d, keepdim))
    return return_types[name](values, indices)


@function("max", methods="max")
def max(input, dim=_NO_DIM, keepdim=False, *, other=None):
    """max(x): the largest entry (ties share the gradient evenly); max(x, dim): the named
    tuple (values, indices) along dim; max(x, y): the elementwise `maximum`."""
    return _max_min("max", input, dim, keepdim, other)


@function("min", methods="min")
def min(input, dim=_NO_DIM, keepdim=False, *, other=None):
    """min(x), min(x, dim) -> (values, indices), min(x, y) = minimum(x, y)."""
    return _max_min("min", input, dim, keepdim, other)


def _amax_fwd(reduce):
    def forward(a, dims, keepdim):
        return np.asarray(reduce(a, axis=dims, keepdims=keepdim))

    return forward


def _amax_bwd(F, ctx, g, self, result):
    """torch: (grad / count) * mask, mask where the input equals the result: ties share it
    evenly (a NaN result matches nothing, so its slice gets 0 / 0 = NaN, as torch)."""
    dims, keepdim = ctx.params
    mask = F.value(self) == _np_kept(F.value(result), dims, keepdim)
    count = np.sum(mask, axis=dims, keepdims=True) if np.ndim(mask) else mask.astype(np.int64)
    if not keepdim:  # torch's restore_reduced_dims: a reshape to the kept shape
        g = F.reshape(g, np.shape(count))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g / _like(F, count, g) * _like(F, mask, g),)


# (torch keeps the dims as given: () for every dim, where the forward takes None)
_AMAX_DIM = {"dim": lambda ctx: () if ctx.params[0] is None else ctx.params[0]}
AMAX = op("amax", "AmaxBackward0", contiguous_result(_amax_fwd(np.amax)), _amax_bwd,
          saves=(("self", (0,)), ("result", (0,))), param_names=("dim", "keepdim"), saved_attrs=_AMAX_DIM)
AMIN = op("amin", "AminBackward0", contiguous_result(_amax_fwd(np.amin)), _amax_bwd,
          saves=(("self", (0,)), ("result", (0,))), param_names=("dim", "keepdim"), saved_attrs=_AMAX_DIM)


def _amax(name, OP, input, dim, keepdim):
    check_keepdim(name, keepdim)
    dims = _reduce_dims(dim, input.ndim)
    raw = None if dims is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if dims is None:
        _check_nonempty(name, input, None)
    else:
        for r in raw:
            if input.shape[wrap_dim(r, input.ndim)] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {r} to have non-zero size.")
    return call(OP, (input,), (dims, keepdim))


@function("amax", methods="amax")
def amax(input, dim=(), keepdim=False):
    """The largest entry over `dim` (all dims by default); ties share the gradient evenly."""
    return _amax("amax", AMAX, input, dim, keepdim)


@function("amin", methods="amin")
def amin(input, dim=(), keepdim=False):
    """The smallest entry over `dim` (all dims by default); ties share the gradient evenly."""
    return _amax("amin", AMIN, input, dim, keepdim)


# ---------------------------------------------------------------------------------------
# var / std


def _var_fwd(a, dims, correction, keepdim):
    if a.dtype is _HALF:  # NOTE [accumulation]
        return _var_fwd(a.astype(np.float32), dims, correction, keepdim).astype(_HALF)
    if a.dtype == np.float32:  # torch's CPU kernel accumulates float32 in double, rounds once
        return _var_fwd(a.astype(np.float64), dims, correction, keepdim).astype(np.float32)
    c = 1 if correction is None else correction
    n = a.size if dims is None else _numel(a.shape, dims)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.sum(a, axis=dims, keepdims=True) / a.dtype.type(n) if n else np.full(
            [1] * a.ndim, np.nan, a.dtype)
        d = a - mean
        out = np.sum(d * d, axis=dims, keepdims=keepdim) / a.dtype.type(np.maximum(n - c, 0))
    return np.asarray(out, dtype=a.dtype)


def _std_fwd(a, dims, correction, keepdim):
    if a.dtype is _HALF:  # (the square root in float32 too, then rounded)
        return np.sqrt(_var_fwd(a.astype(np.float32), dims, correction, keepdim)).astype(_HALF)
    if a.dtype == np.float32:  # (in double too: the square root as well)
        return np.sqrt(_var_fwd(a.astype(np.float64), dims, correction, keepdim)).astype(np.float32)
    return np.sqrt(_var_fwd(a, dims, correction, keepdim))


def _var_grad(F, g, self, dims, correction, keepdim, shape):
    """torch's var_backward: 2 / (n - correction) * grad * (x - mean)."""
    c = 1 if correction is None else correction
    if dims is None:
        n = _numel(shape)
        if n - c <= 0:
            # 2 / 0 = inf, times x - mean: NaN where x equals the mean, inf elsewhere
            s = F.value(self)
            if not s.size:  # (no mean to take: numpy would warn "Mean of empty slice")
                return g * F.const(np.zeros(s.shape, s.dtype))
            return g * F.const(np.where(s == np.mean(s), np.nan, np.inf).astype(s.dtype))
        return (2.0 / (n - c)) * g * (self - _mean_of(F, self))
    n = _numel(shape, dims)
    with np.errstate(divide="ignore"):
        factor = float(np.float64(2.0) / np.float64(n - c))
    return factor * _kept(F, g, dims, keepdim) * (self - _mean_of(F, self, dims))


def _mean_of(F, x, dims=None):
    """F.mean(x, dims, keepdim=True); on float16 arrays torch's (NOTE [accumulation]): prims'
    mean divides a float16 sum in float16."""
    if F is prims and x.dtype is _HALF:
        return _mean_all(x, None) if dims is None else _mean_dims(x, dims, True, None)
    return F.mean(x) if dims is None else F.mean(x, dims, True)


def _var_bwd(F, ctx, g, self):
    dims, correction, keepdim = ctx.params
    return (_var_grad(F, g, self, dims, correction, keepdim, ctx.shapes[0]),)


def _std_bwd(F, ctx, g, self, result):
    """torch: var_backward(grad / (2 result)), with 0 where the result is 0."""
    dims, correction, keepdim = ctx.params
    g_var = F.masked_fill(g / (result * 2), F.value(result) == 0, 0.0)  # (as torch's)
    return (_var_grad(F, g_var, self, dims, correction, keepdim, ctx.shapes[0]),)


# torch keeps the correction (1 when none was given), None for var() itself: _var_args
_CORRECTION = {"correction": lambda ctx: ctx.params[1]}
VAR = op("var", "VarBackward0", contiguous_result(_var_fwd), _var_bwd, saves=(("self", (0,)),),
         param_names=("dim", "correction", "keepdim"), saved_attrs=_CORRECTION)
STD = op("std", "StdBackward0", contiguous_result(_std_fwd), _std_bwd,
         saves=(("self", (0,)), ("result", (0,))),
         param_names=("dim", "correction", "keepdim"), saved_attrs=_CORRECTION)


def _var_args(name, input, dim, unbiased, keepdim, correction):
    check_keepdim(name, keepdim)
    plain = dim is _NO_DIM and unbiased is None and correction is None
    if dim is _NO_DIM:
        dim = None
    if isinstance(dim, bool):  # var(x, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both "
                        "'unbiased' and 'correction': pass one of them")
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _reduce_dims(dim, input.ndim)
    c = 1 if correction is None else correction
    # torch's reduction factor: input numel / output numel (0 when either is empty)
    kept = 1 if dims is None else int(np.prod([s for i, s in enumerate(input.shape) if i not in dims]))
    n = input.numel() // kept if kept else 0
    if n - c <= 0:
        import warnings

        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    if not plain and correction is None:
        correction = 1
    # torch keeps dim=None for a full reduction but the dims for var(x, dim=())
    return dims if dims is not None or dim is None else tuple(range(input.ndim)), correction, keepdim


@function("var", methods="var")
def var(input, dim=_NO_DIM, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim` (all by default) with `correction` (1: Bessel's) or `unbiased`."""
    return call(VAR, (input,), _var_args("var", input, dim, unbiased, keepdim, correction))


@function("std", methods="std")
def std(input, dim=_NO_DIM, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt(var); its gradient is 0 where it is 0, as torch."""
    return call(STD, (input,), _var_args("std", input, dim, unbiased, keepdim, correction))


# ---------------------------------------------------------------------------------------
# norm (torch.norm computes linalg.vector_norm)


def _norm_fwd(a, ord, dims, keepdim, dtype):
    dims = dims or None  # (dim=[] is kept as () for torch's _saved_dim: every dim)
    if dtype is not None:
        a = a.astype(_np_dtype(dtype))
    if a.dtype is _HALF:  # NOTE [accumulation]
        return _norm_fwd(a.astype(np.float32), ord, dims, keepdim, None).astype(_HALF)
    x = np.abs(a)
    if ord == 2:
        out = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
    elif ord == 1:
        out = np.sum(x, axis=dims, keepdims=keepdim)
    elif ord == np.inf:
        out = np.max(x, axis=dims, keepdims=keepdim, initial=0.0)
    elif ord == -np.inf:
        out = np.min(x, axis=dims, keepdims=keepdim, initial=np.inf)
    elif ord == 0:
        out = np.sum(x != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
    else:
        with np.errstate(divide="ignore"):
            out = np.sum(x ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(out, dtype=a.dtype)


def _norm_bwd(F, ctx, g, self, result):
    """torch's norm_backward: divisions by a zero norm (or powers of a zero entry) masked to 0."""
    p, dims, keepdim, _ = ctx.params
    dims = dims or None
    if p == 0:
        return (None,)
    g = _kept(F, g, dims, keepdim)
    norm = _kept(F, result, dims, keepdim)
    s, r = F.value(self), np.asarray(_np_kept(F.value(result), dims, keepdim))
    if p == 1:
        return (F.sign(self) * g,)
    if p == 2:
        return (g * F.masked_fill(self / norm, r == 0, 0.0),)
    if p in (np.inf, -np.inf):
        mask = (np.abs(s) == r) | np.isnan(s)
        count = np.sum(mask, axis=dims, keepdims=True)
        return (F.sign(self) * (g / _like(F, count, g) * _like(F, mask, g)),)
    zero_x, zero_n = s == 0, r == 0
    if p < 1:
        scaled = F.sign(self) * F.masked_fill(F.pow(F.abs(self), p - 1), zero_x, 0.0)
        return (scaled * g * F.pow(norm, 1 - p),)
    scaled = F.sign(self) * F.pow(F.abs(self), p - 1) if p < 2 else self * F.pow(F.abs(self), p - 2)
    return (scaled * F.masked_fill(g / F.pow(norm, p - 1), zero_n, 0.0),)


NORM = op("linalg_vector_norm", "LinalgVectorNormBackward0", contiguous_result(_norm_fwd),
          _norm_bwd,
          saves=(("self", (0,)), ("result", (0,))), param_names=("ord", "dim", "keepdim", None))

_NARROW = {np.dtype(np.float64): 2, np.dtype(np.float32): 1, np.dtype(np.float16): 0}


def _p_name(p) -> str:
    """A norm's order as torch's messages print it: -1, -0.5 (a whole float as an int)."""
    return str(int(p)) if float(p).is_integer() else str(p)


@function("norm", methods="norm")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over `dim` (all by default): p = 2 ('fro'), 1, inf, -inf, 0 (count of
    nonzeros) or any number; the gradient at 0 is torch's (0 for p = 2)."""
    check_keepdim("linalg_vector_norm", keepdim, " (position 4)")  # (torch's norm calls it so)
    if dtype is not None:
        check_dtype_arg("linalg_vector_norm", dtype)
    if isinstance(p, str):
        if p == "nuc" or p != "fro" or (dim is not None and not isinstance(dim, int) and len(dim) > 2):
            if p == "fro":
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                                   f"{' '.join(str(d) for d in dim)}")
            if p == "nuc":
                raise NotImplementedError("norm(p='nuc'): the nuclear norm is not supported by tape")
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        p = 2
    elif p is None:
        p = 2
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {input.dtype.torch_name}")
    if dtype is not None:
        want = np.dtype(_np_dtype(dtype))
        if want.kind != "f" or _NARROW.get(want, 0) < _NARROW.get(a.dtype, 0):
            raise RuntimeError(
                f"linalg.vector_norm: the dtype of the input ({input.dtype.torch_name}) should be "
                f"convertible without narrowing to the specified dtype ({dtype.torch_name})")
    dims = _reduce_dims(dim, input.ndim)
    if p == np.inf or p < 0:  # (no identity: the max, or a negative power's sum, of nothing)
        name = "inf" if p == np.inf else "-inf" if p == -np.inf else _p_name(p)
        if dims is None and a.size == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on an empty tensor "
                               "because the operation does not have an identity")
        for shown in (dim if isinstance(dim, (tuple, list)) else (dim,)) if dims else ():
            if a.shape[shown % a.ndim] == 0:  # (torch names the dim as given: -1, not 0)
                raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on the dimension "
                                   f"{shown}because this dimension is empty and the operation does not "
                                   "have an identity")
    if dims is None and isinstance(dim, (tuple, list)) and input.ndim:
        dims = ()  # every dim, as None, but torch keeps the empty list it was given
    return call(NORM, (input,), (p, dims, keepdim, dtype))


# ---------------------------------------------------------------------------------------
# logsumexp


def _logsumexp_fwd(a, dims, keepdim):
    dims = dims or None  # (dim=[] is kept as () for torch's _saved_dim: every dim)
    if a.dtype.kind != "f":
        a = a.astype(float_dtype(a.dtype))
    m = np.max(a, axis=dims, keepdims=True, initial=-np.inf)
    m = np.where(np.isinf(m), 0, m).astype(a.dtype)  # torch: all -inf (or an inf) -> shift 0
    with np.errstate(divide="ignore"):
        e = np.exp(a - m)  # (torch's steps: each in the input's dtype, the sum accumulated)
        s = _half_sum(e, dims, True) if a.dtype is _HALF else np.sum(e, axis=dims, keepdims=True)
        out = np.log(s) + m
    return np.asarray(out if keepdim or a.ndim == 0 else np.squeeze(out, dims), dtype=a.dtype)


def _logsumexp_bwd(F, ctx, g, self, result):
    """grad * exp(x - result)"""
    dims, keepdim = ctx.params
    dims = dims or None
    return (_kept(F, g, dims, keepdim) * F.exp(self - _kept(F, result, dims, keepdim)),)


LOGSUMEXP = op("logsumexp", "LogsumexpBackward0", contiguous_result(_logsumexp_fwd),
               _logsumexp_bwd,
               saves=(("self", (0,)), ("result", (0,))), param_names=("dim", "keepdim"))


@function("logsumexp", methods="logsumexp")
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over `dim`, computed stably (shifted by the max)."""
    check_keepdim("logsumexp", keepdim)
    if isinstance(dim, (tuple, list)) and len(dim) == 0 and input.ndim:
        # torch's own quirk: every dim, but kept ones only with keepdim (or with nothing to sum)
        if not keepdim and input.numel():
            raise RuntimeError(f"output with shape [] doesn't match the broadcast shape {[1] * input.ndim}")
        return call(LOGSUMEXP, (input,), ((), keepdim))  # (its _saved_dim is the () given)
    dims = None if input.ndim == 0 else wrap_dims(dim, input.ndim)
    if input.ndim == 0:
        wrap_dims(dim, 0)
    return call(LOGSUMEXP, (input,), (dims, keepdim))


# ---------------------------------------------------------------------------------------
# cumsum


# the accumulator of torch's CPU scans (at::acc_type<T, false>): NOTE [accumulation]
_SCAN_ACC = {_HALF: np.dtype(np.float32), _F32: np.dtype(np.float64)}


def _cumsum_fwd(a, dim, dtype):
    dt = _np_dtype(dtype) or _sum_dtype(a)
    if a.ndim == 0:
        return np.array(a, dtype=dt or a.dtype)
    out = a.dtype if dt is None else np.dtype(dt)
    acc = _SCAN_ACC.get(out)
    if acc is None:
        return np.add.accumulate(a, axis=dim, dtype=dt)
    # the input in the result's dtype, summed in a wider one, each running sum rounded back
    return np.add.accumulate(a.astype(out, copy=False), axis=dim, dtype=acc).astype(out)


def _cumsum_bwd(F, ctx, g):
    """torch: the reversed cumulative sum of the gradient (in the input's dtype), a cumsum
    with its accumulator (prims' plain np.cumsum has none: the forward's own is used)."""
    (dim, _) = ctx.params
    g = F.to_dtype(g, ctx.dtypes[0])
    shape = ctx.shapes[0]
    if len(shape) == 0 or shape[dim] <= 1:
        return (g,)
    if F is prims:
        return (np.flip(_cumsum_fwd(np.flip(g, dim), dim, None), dim),)
    return (F.flip(F.cumsum(F.flip(g, dim), dim), dim),)


CUMSUM = op("cumsum", "CumsumBackward0", contiguous_result(_cumsum_fwd), _cumsum_bwd,
            param_names=("dim", None))


def _cumsum(input, dim, dtype, position):
    if dtype is not None:
        check_dtype_arg("cumsum", dtype)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"cumsum(): argument 'dim' (position {position}) must be int, not "
                        f"{type(dim).__name__}")
    dim = wrap_dim(dim, input.ndim)  # (torch checks the dim before the dtype)
    if dtype is not None:
        check_grad_dtype(input, dtype)
        if np.dtype(_np_dtype(dtype)).kind == "b":
            raise NotImplementedError('"cumsum_out_cpu" not implemented for \'Bool\'')
    return call(CUMSUM, (input,), (dim, dtype))


@function("cumsum")
def cumsum(input, dim, *, dtype=None):
    """Running sums along `dim` (integers and bools in int64)."""
    return _cumsum(input, dim, dtype, 2)


@function(methods="cumsum", module=False)
def cumsum_method(self, dim, *, dtype=None):
    return _cumsum(self, dim, dtype, 1)


@function(methods="cumsum_", module=False)
def cumsum_(self, dim, dtype=None):
    """In-place `cumsum`."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"cumsum_(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")
    if dtype is not None:
        check_dtype_arg("cumsum_", dtype)
    if dtype is not None and np.dtype(_np_dtype(dtype)) != self._data.dtype:
        raise RuntimeError(f"Bad in-place call: input tensor dtype {_c_name(self._data.dtype)} and output "
                           f"tensor dtype {_c_name(np.dtype(_np_dtype(dtype)))} should match")
    return call_inplace(CUMSUM, self, (), (wrap_dim(dim, self.ndim), None))


def _c_name(dt) -> str:
    return {"float64": "double", "float32": "float", "int64": "long int", "int32": "int",
            "float16": "c10::Half", "bool": "bool"}.get(dt.name, dt.name)
