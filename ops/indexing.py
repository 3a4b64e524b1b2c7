"""Indexing: reading `x[...]`, writing `x[...] = v`, gather, index_select, masked_fill, index_put.

`x[...]` is decomposed as torch decomposes it: select / slice / unsqueeze views for the basic
items, then one `index` (a copy) for integer-array and boolean-mask items. `x[...] = v` finds
the same views and writes into them in place (torch's `copy_` / `fill_`, which the engine
records as CopySlices when the target is a view), or calls `index_put_` for advanced items.

NOTE [check, then record]
An index is first walked on shapes alone (`_plan`), checking everything torch checks, and only
then applied. So a bad index or value raises before any view is recorded: the tape and every
version counter are as they were (a recorded view would stay alive in the traceback).
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from . import registry
from .convert import COPY, FILL_T
from .dims import as_given, check_broadcast, wrap_dim
from .dtypes import C_NAMES, check_scalar_fits
from .registry import (
    call,
    call_inplace,
    contiguous_result,
    function,
    op,
    param_array,
    self_sizes,
    watch_params,
)
from .shape import ALIAS, EXPAND, SELECT, SLICE, UNSQUEEZE, VIEW, expand_rank_error


def _index_bwd(F, ctx, g):
    (index,) = ctx.params
    return (F.index_put_zeros(ctx.shapes[0], index, g, g, True, node="IndexPutImplBackward0"),)


def torch_indices(ctx) -> tuple:
    """`_saved_indices` as torch keeps them: one entry per dim up to the last indexed one,
    None for a dim taken whole, the index arrays (copies: the record's own stay unchanged)."""
    items = list(ctx.params[0])
    while items and not isinstance(items[-1], np.ndarray):
        items.pop()
    return tuple(np.array(it) if isinstance(it, np.ndarray) else None for it in items)


# gathers (a copy); repeated indices accumulate their gradients (scatter-add)
INDEX = op("index", "IndexBackward0", contiguous_result(lambda a, index: a[index]), _index_bwd,
           saved_attrs={"indices": torch_indices, "self_sym_sizes": self_sizes})


def _put_fwd(g, shape, index, accumulate):
    return _put_into_fwd(np.zeros(shape, dtype=g.dtype), g, shape, index, accumulate)


def _put_into_fwd(base, g, shape, index, accumulate):
    out = np.array(base, copy=True)
    if accumulate:
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


def _scatter_add_fwd(base, g, shape, index, accumulate):
    """scatter_add: torch's kernel sums float16 in float32 and rounds once (gather's gradient
    of 2,000 picks of one element, 1.7 each: 3400, where float16 sums reach 3750); index_add
    and index_put sum in float16, as _put_into_fwd."""
    if base.dtype != np.float16:
        return _put_into_fwd(base, g, shape, index, accumulate)
    return _put_into_fwd(base.astype(np.float32), g.astype(np.float32), shape, index,
                         accumulate).astype(np.float16)


# zeros with `g` written (or added) at `index`: the backward of indexing, itself
# differentiable (its gradient takes `g`'s entries back). Recorded, it is named after the op
# torch's formula calls: select_backward and slice_backward take the gradient alone; index,
# gather, index_select and max(dim) write it into new zeros (a second input, which needs no
# gradient). prims.index_put_zeros(..., node=) picks one.
INDEX_PUT_ZEROS = op("index_put_zeros", "IndexPutZerosBackward0", _put_fwd,
                     lambda F, ctx, g: (F.take(g, ctx.params[1]),))
for _name, _node in (("select_backward", "SelectBackwardBackward0"),
                     ("slice_backward", "SliceBackwardBackward0")):
    op(_name, _node, _put_fwd, INDEX_PUT_ZEROS.backward, inputs=("grad_output",))
for _name, _node, _src in (("_index_put_impl_", "IndexPutImplBackward0", "values"),
                           ("scatter_add", "ScatterAddBackward0", "src"),
                           ("index_add", "IndexAddBackward0", "source"),
                           ("scatter", "ScatterBackward0", "src")):
    op(_name, _node, _scatter_add_fwd if _name == "scatter_add" else _put_into_fwd,
       lambda F, ctx, g: (None, F.take(g, ctx.params[1])), inputs=("self", _src))


# ---- reading an index ---------------------------------------------------------------------

_INVALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            "valid indices (got {})")
_NOT_INDEX_DTYPE = "tensors used as indices must be long, int, byte or bool tensors"
_ZERO_DIM_SLICE = "slice() cannot be applied to a 0-dim tensor."
_ZERO_DIM = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
             "in C++ to convert a 0-dim tensor to a number")


def _is_tensor(x) -> bool:
    return hasattr(x, "_data")


def _type_name(x) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


_INDEX_TENSOR_DTYPES = frozenset(map(np.dtype, (np.int64, np.int32, np.uint8, np.bool_)))


def _index_array(arr: np.ndarray, tensor: bool = False) -> np.ndarray:
    """An index array as numpy indexes with it: bool masks, or intp positions. A tensor index
    must be long, int, byte or bool (an empty float one too, an int16 one too); a sequence
    or numpy array was made an index by torch's own conversion."""
    kind = arr.dtype.kind
    if tensor and arr.dtype not in _INDEX_TENSOR_DTYPES:
        raise IndexError(_NOT_INDEX_DTYPE)
    if kind == "b":
        return arr
    if arr.dtype == np.uint8:
        warnings.warn("indexing with dtype uint8 is now deprecated, please use a dtype bool "
                      "instead.", UserWarning, stacklevel=4)
        return arr.astype(bool)
    if kind in "iu":
        return arr.astype(np.intp, copy=False)
    if arr.size == 0:  # x[[]]: an empty list is an empty index, whatever its dtype
        return arr.astype(np.intp)
    raise IndexError(_NOT_INDEX_DTYPE)


def _item(it):
    """(kind, value) of one index item, as torch reads it: 0-d integer tensors and numpy
    integers select, 0-d bool tensors act as Python bools, sequences become index tensors."""
    if it is None:
        return "none", None
    if it is Ellipsis:
        return "ellipsis", None
    if isinstance(it, bool):
        return "bool", it
    if _is_int(it):
        return "int", int(it)
    if isinstance(it, slice):
        return "slice", it
    if isinstance(it, str):  # a sequence to torch, which cannot make an index tensor of it
        raise TypeError("new(): invalid data type 'str'")
    if _is_tensor(it) or isinstance(it, _SEQUENCES):
        arr = np.asarray(it._data if _is_tensor(it) else it)
        if not _is_tensor(it) and arr.dtype.kind in "fc" and arr.size:
            # torch makes an int64 index of a sequence (a range, a list, a numpy array) unless
            # it holds bools or uint8: floats are truncated
            arr = arr.real.astype(np.int64) if arr.dtype.kind == "c" else arr.astype(np.int64)
        if arr.ndim == 0:  # (a tensor's own int() and bool(): a tape.compile trace sees them)
            if arr.dtype.kind in "iu" and arr.dtype != np.uint8:
                return "int", int(it) if _is_tensor(it) else int(arr)
            if arr.dtype.kind == "b" or arr.dtype == np.uint8:
                return "bool", bool(it) if _is_tensor(it) else bool(arr)
        return "array", _index_array(arr, _is_tensor(it))
    try:
        return "int", operator.index(it)
    except TypeError:
        raise IndexError(_INVALID.format(_type_name(it))) from None


# what torch reads as a sequence (PySequence_Check) in an index
_SEQUENCES = (list, tuple, range, np.ndarray)


def _as_items(index) -> tuple:
    """The index as a tuple of items. A short list (or str) holding a sequence (a range, a
    numpy array, a str...), slice, tensor, None or `...` is read as a tuple (numpy's old rule,
    which torch keeps with a warning)."""
    if isinstance(index, tuple):
        return index
    if isinstance(index, (list, str)) and len(index) < 32 and any(
            it is None or it is Ellipsis or _is_tensor(it)
            or isinstance(it, (*_SEQUENCES, str, slice)) for it in index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; use "
                      "x[tuple(seq)] instead of x[seq]", UserWarning, stacklevel=3)
        return tuple(index)
    return (index,)


def _plan(shape, items, check=True):
    """Walk `items` over a tensor of `shape`, on shapes alone (NOTE [check, then record]).

    Returns (steps, advanced, out_shape): the view ops to apply in order as (op, params),
    the index for the advanced items over the result of those views (None when there are
    none), and that result's shape. Full slices are no views (torch skips them too).
    check=False leaves the advanced index unchecked (_check_advanced): a write checks it
    after the operands' memory, as torch's kernel does.
    """
    kinds = [_item(it) for it in items]
    ndim = len(shape)
    specified = 0
    for kind, val in kinds:
        if kind in ("int", "slice"):
            specified += 1
        elif kind == "array":
            specified += val.ndim if val.dtype.kind == "b" else 1
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    steps, adv = [], []
    cur = list(shape)
    dim = real = 0  # position in the result so far; dim of the indexed tensor (for messages)
    for kind, val in kinds:
        if kind == "ellipsis":
            skip = ndim - specified
            adv += [slice(None)] * skip
            dim += skip
            real += skip
        elif kind in ("none", "bool"):
            steps.append((UNSQUEEZE, (dim,)))
            cur.insert(dim, 1)
            # x[True] is x[None][[0]], x[False] is x[None][[]]
            adv.append(slice(None) if kind == "none" else np.zeros(1 if val else 0, np.intp))
            dim += 1
        elif kind == "int":
            size = cur[dim]
            if not -size <= val < size:
                raise IndexError(f"index {val} is out of bounds for dimension {real} with size {size}")
            steps.append((SELECT, (dim, val if val >= 0 else as_given(val % size, val))))
            del cur[dim]
            real += 1
        elif kind == "slice":
            size = cur[dim]
            start, stop, step = val.indices(size)  # ValueError for a zero step, as Python's
            if step < 0:
                raise ValueError("step must be greater than zero")
            # (a range that starts as written at 0 and covers the dim is skipped, as torch
            # skips it: x[:, 0:100] is an alias, x[:, -2:] a slice even over a size-2 dim)
            if (start, stop, step) != (0, size, 1) or val.start not in (None, 0):
                steps.append((SLICE, _slice_params(dim, val, start, stop, step)))
                cur[dim] = len(range(start, stop, step))
            adv.append(slice(None))
            dim += 1
            real += 1
        else:
            adv.append(val)
            n = val.ndim if val.dtype.kind == "b" else 1
            dim += n
            real += n
    if not any(isinstance(a, np.ndarray) for a in adv):
        return steps, None, tuple(cur)
    if check:
        _check_advanced(cur, adv)
    return steps, tuple(adv), tuple(cur)


_INT64_MAX = 2 ** 63 - 1


def _slice_params(dim, item: slice, start, stop, step) -> tuple:
    """SLICE's params for `item` over a dim: the bounds normalised, remembering torch's
    (NOTE [arguments as given]): its node keeps them as written, None as 0 and INT64_MAX."""
    first = 0 if item.start is None else operator.index(item.start)
    end = _INT64_MAX if item.stop is None else operator.index(item.stop)
    return (dim, start if first == start else as_given(start, first),
            stop if end == stop else as_given(stop, end), step)


def _check_advanced(shape, adv):
    """Mask shapes and index bounds, with torch's messages (which count the advanced dims);
    first, that the index tensors broadcast (a mask as one index of its count per dim)."""
    shapes = []
    for a in adv:
        if isinstance(a, np.ndarray):
            shapes += ([(int(np.count_nonzero(a)),)] * a.ndim if a.dtype.kind == "b" else [a.shape])
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(sh)) for sh in shapes)) from None
    dim = ordinal = 0
    for a in adv:
        if not isinstance(a, np.ndarray):
            dim += 1
            continue
        if a.dtype.kind == "b":
            for j in range(a.ndim):
                if a.shape[j] != shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(a.shape)} at index {j} does not match the shape "
                        f"of the indexed tensor {list(shape)} at index {dim + j}")
            dim += a.ndim
            ordinal += a.ndim
            continue
        size = shape[dim]
        if a.size:
            hi, lo = a.max(), a.min()
            if hi >= size or lo < -size:
                bad = hi if hi >= size else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {ordinal} with size {size}")
        dim += 1
        ordinal += 1


def _apply(x, steps):
    for OP, params in steps:
        x = call(OP, (x,), params)
    return x


def _indexed_shape(shape, index) -> tuple:
    """The shape of `x[index]` for an advanced index (numpy's rules, which are torch's)."""
    return np.broadcast_to(np.zeros((), np.int8), shape)[index].shape


@function(methods="__getitem__", module=False)
def getitem(self, index):
    """Basic items become view ops (as torch records them), the rest one IndexBackward0."""
    if isinstance(index, slice):
        # a lone slice is always recorded, even a full one (torch turns its shortcut off here)
        if self.ndim == 0:
            raise IndexError(_ZERO_DIM_SLICE)
        size = self.shape[0]
        start, stop, step = index.indices(size)
        if step < 0:
            raise ValueError("step must be greater than zero")
        return call(SLICE, (self,), _slice_params(0, index, start, stop, step))
    if self.ndim == 0 and _is_int(index):
        raise IndexError(_ZERO_DIM)
    steps, adv, _ = _plan(self.shape, _as_items(index))
    out = _apply(self, steps)
    if adv is not None:
        # (the index tensors are torch's saved `indices`: watched for in-place changes)
        return watch_params(call(INDEX, (out,), (adv,)), *[
            ("indices", it) for it in (index if isinstance(index, tuple) else (index,))
            if _is_tensor(it) and it.ndim])
    if out is self:
        return call(ALIAS, (self,))  # x[...] is a new tensor: an alias
    return out


# ---- writing an index -------------------------------------------------------------------


def _value_operand(self, value):
    """The value of `x[i] = value`: a tensor, or a number as a 0-d array of x's dtype,
    converted as torch converts it. (numpy's integers and float64, a float, are numbers to
    torch here; its other scalars are refused.)"""
    if _is_tensor(value):
        return value
    if isinstance(value, (bool, int, float, np.integer)):
        dt = self._data.dtype
        if isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        if dt != np.float16:  # (float16 takes its overflow as inf here, unlike fill_)
            check_scalar_fits(value, dt)  # NaN into an int, 2**40 into int32: torch's error
        with np.errstate(over="ignore"):  # (70000 into float16 is inf, silently as torch's)
            return np.asarray(value).astype(dt)  # (a negative int into uint8 wraps, as torch's)
    raise TypeError(f"can't assign a {_type_name(value)} to a {self.type_name()}")


def _strip_leading_ones(shape) -> tuple:
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return tuple(shape[k:])


def _check_expand(vtype, src, dst) -> None:
    """Can `src` (a value's shape, leading 1s stripped) be expanded to `dst`? torch's errors."""
    if len(src) > len(dst):
        raise expand_rank_error(vtype, src, dst)
    lead = len(dst) - len(src)
    for i, s in enumerate(src):
        if s != 1 and s != dst[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({dst[lead + i]}) must match the existing size ({s}) "
                f"at non-singleton dimension {lead + i}.  Target sizes: {list(dst)}.  "
                f"Tensor sizes: {list(src)}")


def _check_put(self, value, shape, index, stripped) -> None:
    """`value` must broadcast to `self[index]` and have self's dtype (index_put_'s rules)."""
    result = _indexed_shape(shape, index)
    vshape = tuple(np.shape(value._data if _is_tensor(value) else value))
    if stripped:
        vshape = _strip_leading_ones(vshape)
    try:
        ok = np.broadcast_shapes(vshape, result) == result
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast "
                           f"to indexing result of shape {list(result)}")
    if _is_tensor(value) and value._data.dtype != self._data.dtype and not (
            _one_mask(index) and value._data.size == 1):  # torch: masked_fill_ with its item
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{self.dtype.torch_name} for the destination and {value.dtype.torch_name} for the source.")


def _one_mask(index) -> bool:
    """Is the advanced index one bool mask from the first dim (then torch's index_put_ writes
    a one-element value as a number, cast to the target's dtype)?"""
    items = list(index)
    while items and isinstance(items[-1], slice) and items[-1] == slice(None):
        items.pop()
    return len(items) == 1 and isinstance(items[0], np.ndarray) and items[0].dtype == np.bool_


def _check_writable(self, steps) -> None:
    """torch's errors for writing into a leaf (or a view of one) or into a view that a
    multi-output op (unbind) made, raised before any view of `self` is recorded."""
    if not self._rg or not registry._engine.STATE.grad_enabled:
        return
    view_msg = "a view of a leaf Variable that requires grad is being used in an in-place operation."
    if self._rec is None and self._base is None:  # a leaf that requires grad
        raise RuntimeError(view_msg if steps else
                           "a leaf Variable that requires grad is being used in an in-place operation.")
    base = self._base
    if base is not None and base._rec is None:  # a view of a leaf (engine._check_inplace_allowed)
        raise RuntimeError(view_msg)
    rec = self._rec
    if steps and rec is not None and rec.op.view and rec.op.outputs != 1:
        # the view the write goes through inherits the restriction (writing into self itself
        # is the engine's check)
        name = steps[0][0].node.removesuffix("Backward0")
        raise RuntimeError(
            f"Output 0 of {name} is a view and is being modified inplace. This view is the output "
            "of a function that returns multiple views. Such functions do not allow the output "
            "views to be modified inplace. You should replace the inplace operation by an "
            "out-of-place one.")


def _copy_to(target, value, vshape) -> None:
    """torch's `copy_to`: copy_ when the shapes agree, fill_ from a 0-d value, else copy_ from
    the value viewed without its leading 1s and expanded."""
    shape = tuple(target.shape)
    if vshape == shape:
        call_inplace(COPY, target, (value,))
    elif vshape == ():
        call_inplace(FILL_T, target, (value,))
    else:
        src = call(VIEW, (value,), (_strip_leading_ones(vshape),))
        if tuple(src.shape) != shape:
            src = call(EXPAND, (src,), (shape,))
        call_inplace(COPY, target, (src,))


def _np_apply(arr: np.ndarray, steps) -> np.ndarray:
    """The numpy view that `_apply(x, steps)` gives (its memory), without recording."""
    for OP, params in steps:
        dim = params[0]
        if OP is UNSQUEEZE:
            arr = np.expand_dims(arr, dim)
        elif OP is SELECT:
            arr = arr[(slice(None),) * dim + (params[1],)]
        else:  # SLICE
            arr = arr[(slice(None),) * dim + (slice(*params[1:]),)]
    return arr


def _check_copy_overlap(target: np.ndarray, value, vshape, shape) -> None:
    """copy_'s check of its source against the written-to view (NOTE [memory overlap] in
    tape/views.py), on the source `_copy_to` makes; fill_ from a 0-d value does not check."""
    if not _is_tensor(value) or vshape == () != shape or not isinstance(value._data, np.ndarray):
        return
    from ..views import assert_no_partial_overlap

    src = value._data
    if vshape != shape:
        src = src.reshape(_strip_leading_ones(vshape))  # (a copy, if no view: no overlap then)
        if src.shape != shape:
            src = np.broadcast_to(src, shape)
    assert_no_partial_overlap(target, src)


def _warn_expanded(target: np.ndarray, name: str, example: str) -> None:
    """torch's deprecation warning of index_put_ / masked_fill_ into a tensor that repeats an
    element (expand()), which they write where other in-place ops refuse."""
    from ..views import has_internal_overlap

    if has_internal_overlap(target):
        warnings.warn(f"Use of {name} on expanded tensors is deprecated. Please clone() the tensor "
                      "before performing this operation. This also applies to advanced indexing "
                      f"e.g. {example}", UserWarning, stacklevel=4)


def _check_put_overlap(target: np.ndarray, value, index, accumulate) -> None:
    """index_put_'s checks: its values and indices may share no memory with the target, unless
    it writes one value through one mask (torch runs masked_fill_ then, which does not check)."""
    from ..views import assert_no_overlap

    _warn_expanded(target, "index_put_", "tensor[indices] = tensor")
    arrays = [a for a in index if isinstance(a, np.ndarray)]
    values = value._data if _is_tensor(value) else value
    if (not accumulate and np.size(values) == 1 and len(arrays) == 1 and arrays[0].dtype.kind == "b"
            and all(isinstance(a, np.ndarray) or a == slice(None) for a in index)):
        _warn_expanded(target, "masked_fill_", "tensor[mask] = scalar")
        return
    assert_no_overlap(target, values)
    for a in arrays:
        assert_no_overlap(target, a)


@function(methods="__setitem__", module=False)
def setitem(self, index, value) -> None:
    """`self[index] = value`, in place and recorded as torch records it: copy_ / fill_ into a
    view (CopySlices), or index_put_ for advanced indices."""
    value = _value_operand(self, value)
    vshape = tuple(np.shape(value._data if _is_tensor(value) else value))
    if index is False:
        return None  # torch: nothing to write (not even a version bump)
    if index is True:
        steps, adv, shape = [(UNSQUEEZE, (0,))], None, (1,) + tuple(self.shape)
    else:
        if self.ndim == 0 and (_is_int(index) or isinstance(index, slice)):
            raise IndexError(_ZERO_DIM_SLICE if isinstance(index, slice) else _ZERO_DIM)
        steps, adv, shape = _plan(self.shape, _as_items(index), check=False)
    # torch's order: the value is expanded before copy_ checks the target, while index_put_
    # checks the target before the value; the kernels check memory overlap, then the index
    if adv is None:
        if vshape != shape and vshape != ():
            _check_expand(value.type_name(), _strip_leading_ones(vshape), shape)
        _check_writable(self, steps)
        _check_copy_overlap(_np_apply(self._arr(), steps), value, vshape, shape)
    else:
        _check_writable(self, steps)
        if _is_tensor(value) and isinstance(value._data, np.ndarray):
            stripped = _strip_leading_ones(vshape)
            put = value._data.reshape(stripped) if stripped != vshape else value
        else:
            put = value
        _check_put_overlap(_np_apply(self._arr(), steps), put, adv, False)
        _check_advanced(shape, adv)
        _check_put(self, value, shape, adv, stripped=True)
    target = _apply(self, steps)
    if adv is None:
        _copy_to(target, value, vshape)
        return None
    stripped = _strip_leading_ones(vshape)
    if stripped != vshape:
        value = call(VIEW, (value,), (stripped,))
    call_inplace(INDEX_PUT, target, (value,), (adv, False))
    return None


# ---- index_put ----------------------------------------------------------------------------


def _index_put_fwd(a, values, indices, accumulate):
    out = np.array(a, copy=True)
    values = np.asarray(values).astype(out.dtype, copy=False)
    if accumulate:
        np.add.at(out, indices, values)
    else:
        out[indices] = values
    return out


def _index_put_bwd(F, ctx, g):
    indices, accumulate = ctx.params
    need_self, need_values = ctx.needs
    g_self = None
    if need_self:
        if accumulate:
            g_self = g
        else:  # torch: grad.index_put(indices, zeros_like(values)): 0 where values were written
            g_self = F.index_put(g, indices, F.zeros(ctx.shapes[1] or (), g))
    return g_self, F.take(g, indices) if need_values else None


INDEX_PUT = op("index_put", "IndexPutBackward0", _index_put_fwd, _index_put_bwd,
               inputs=("self", "values"), param_names=("indices", "accumulate"),
               saved_attrs={"indices": torch_indices},
               skip_overlap_check=True, writes_repeated=True)  # (its own rules: _check_put_overlap)


def _put_indices(self, indices, check=True) -> tuple:
    """index_put's `indices` (tensors, or None for a whole dim) as a numpy index, checked."""
    if _is_tensor(indices) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{_type_name(indices)}")
    if len(indices) > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim} (got {len(indices)})")
    index = []
    for it in indices:
        if it is None:
            index.append(slice(None))
        elif not _is_tensor(it):
            raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                            f"{_type_name(it)}")
        else:
            index.append(_index_array(np.asarray(param_array(it)), tensor=True))
    used = sum(a.ndim if isinstance(a, np.ndarray) and a.dtype.kind == "b" else 1 for a in index)
    if used > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim}")
    if check:
        _check_advanced(tuple(self.shape), index)
    return tuple(index) if index else (slice(None),) * self.ndim


def _put_args(name, input, indices, values, accumulate=False):
    if not _is_tensor(values):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not "
                        f"{_type_name(values)}")
    if name == "index_put_":
        _check_writable(input, ())  # torch checks the target before the indices
        index = _put_indices(input, indices, check=False)
        _check_put_overlap(input._arr(), values, index, accumulate)  # then memory, then the index
        _check_advanced(tuple(input.shape), index)
    else:
        index = _put_indices(input, indices)
    _check_put(input, values, tuple(input.shape), index, stripped=False)
    return index


@function("index_put_", methods="index_put_")
def index_put_(input, indices, values, accumulate=False):
    """input[indices] = values in place (or += with accumulate); indices: tensors or None."""
    index = _put_args("index_put_", input, indices, values, bool(accumulate))
    return call_inplace(INDEX_PUT, input, (values,), (index, bool(accumulate)))


@function("index_put", methods="index_put")
def index_put(input, indices, values, accumulate=False):
    """A copy of input with values written (or added) at indices."""
    index = _put_args("index_put", input, indices, values)
    return call(INDEX_PUT, (input, values), (index, bool(accumulate)))


# ---- gather and index_select --------------------------------------------------------------


def _gather_index(shape, dim, index) -> tuple:
    """The numpy index of gather: `index` along `dim`, each position along the others."""
    idx = []
    for d, n in enumerate(shape):
        if d == dim:
            idx.append(index)
        else:
            view = [1] * len(shape)
            view[d] = n
            idx.append(np.arange(n).reshape(view))
    return tuple(idx)


def _gather_fwd(a, dim, index, sparse_grad):
    # the index's values are checked here, not in gather(): tape.compile replays the forward
    # with new values (numpy would take -1 as the last entry; torch raises)
    size = a.shape[dim] if a.ndim else 1
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index[(index < 0) | (index >= size)].reshape(-1)[0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    if a.ndim == 0 or index.ndim == 0:  # torch treats 0-d as 1-d of size 1 here
        return a.reshape(-1)[_gather_index(np.shape(index.reshape(-1)), 0, index.reshape(-1))].reshape(
            index.shape)
    return a[_gather_index(index.shape, dim, index)]


def _gather_bwd(F, ctx, g, self):
    dim, index, _ = ctx.params
    shape = ctx.shapes[0]
    if len(shape) == 0 or index.ndim == 0:
        flat = index.reshape(-1)
        put = F.index_put_zeros((max(int(np.prod(shape)), 1),), _gather_index(flat.shape, 0, flat),
                                F.reshape(g, flat.shape), g, True, node="ScatterAddBackward0")
        return (F.reshape(put, shape),)
    return (F.index_put_zeros(shape, _gather_index(index.shape, dim, index), g, g, True,
                              node="ScatterAddBackward0"),)


# torch keeps `self` (for its shape) as well as the index
GATHER = op("gather", "GatherBackward0", _gather_fwd, _gather_bwd, saves=(("self", (0,)),),
            param_names=("dim", "index", "sparse_grad"))


def _index_tensor(name, index, pos=2):
    if not _is_tensor(index):
        raise TypeError(f"{name}(): argument 'index' (position {pos}) must be Tensor, not "
                        f"{_type_name(index)}")
    return np.asarray(param_array(index))  # (read as a param: tape.compile re-reads it)


@function("gather", methods="gather")
def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (dim=0): values picked along `dim`."""
    idx = _index_tensor("gather", index)
    dim = wrap_dim(dim, input.ndim)
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if max(input.ndim, 1) != max(idx.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    shape = tuple(input.shape) or (1,)
    ishape = idx.shape or (1,)
    for d in range(len(shape)):
        if d != dim and ishape[d] > shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(idx.shape)} to be no "
                f"larger than self {list(input.shape)} apart from dimension {dim}")
    out = call(GATHER, (input,), (dim, idx, bool(sparse_grad)))  # (int32 kept: torch saves it so)
    return watch_params(out, ("index", index))


def _index_select_fwd(a, dim, index):
    index = index.reshape(-1)  # a 0-d index selects as a 1-element vector
    # the values are checked here, as gather's (_gather_fwd)
    size = a.shape[dim] if a.ndim else 1
    if index.size and (index.min() < 0 or index.max() >= size):
        if dim == 1 and a.ndim:  # torch's two kernels word it differently
            bad = index[(index < 0) | (index >= size)][0]
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        raise IndexError("index out of range in self")
    if a.ndim == 0:
        return a.reshape(-1)[index].reshape(())
    return np.take(a, index, axis=dim)


def _index_select_bwd(F, ctx, g):
    dim, index = ctx.params
    index = index.reshape(-1)
    shape = ctx.shapes[0]
    if len(shape) == 0:
        return (F.reshape(F.index_put_zeros((1,), (index,), F.reshape(g, (index.size,)), g, True,
                                            node="IndexAddBackward0"), ()),)
    return (F.index_put_zeros(shape, (slice(None),) * dim + (index,), g, g, True, node="IndexAddBackward0"),)


INDEX_SELECT = op("index_select", "IndexSelectBackward0", _index_select_fwd, _index_select_bwd,
                  param_names=("dim", "index"), saved_attrs={"self_sym_sizes": self_sizes})


@function("index_select", methods="index_select")
def index_select(input, dim, index):
    """The entries `index` (a vector) of `dim`, in that order (a copy)."""
    idx = _index_tensor("index_select", index)
    dim = wrap_dim(dim, input.ndim)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if input.ndim and input.shape[dim] == 0 and idx.size:  # (an int32 index is kept: torch saves it)
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if input.ndim == 0 and idx.size != 1:
        raise RuntimeError(
            f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    return watch_params(call(INDEX_SELECT, (input,), (dim, idx)), ("index", index))


# ---- masked_fill ------------------------------------------------------------------------


def _masked_fill_fwd(a, mask, value):
    return np.where(mask, np.asarray(value).astype(a.dtype), a)


def _masked_fill_t_fwd(a, value, mask):
    return _masked_fill_fwd(a, mask, value)


def _masked_fill_t_bwd(F, ctx, g):
    (mask,) = ctx.params
    need_self, need_value = ctx.needs
    return (F.masked_fill(g, mask, 0.0) if need_self else None,
            F.sum(F.where(F.const(mask), g, 0.0)) if need_value else None)


MASKED_FILL = op("masked_fill", "MaskedFillBackward0", _masked_fill_fwd,
                 lambda F, ctx, g: (F.masked_fill(g, ctx.params[0], 0.0),),
                 param_names=("mask",), writes_repeated=True)
# the value as a 0-d tensor: it gets the sum of the gradient where the mask holds
MASKED_FILL_T = op("masked_fill", "MaskedFillBackward1", _masked_fill_t_fwd, _masked_fill_t_bwd,
                   inputs=("self", "value"), param_names=("mask",), skip_overlap_check=True,
                   writes_repeated=True)


def _masked_fill_args(name, input, mask, value):
    if not _is_tensor(mask):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({_type_name(mask)}, {_type_name(value)}), but expected (Tensor mask, "
                        "Tensor value) or (Tensor mask, Number value)")
    if name == "masked_fill":  # out of place, torch broadcasts first: sizes before the dtype
        check_broadcast(tuple(mask.shape), tuple(input.shape))
    m = np.asarray(param_array(mask))
    if m.dtype.kind != "b":
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{C_NAMES[m.dtype]}")
    if name == "masked_fill":
        check_broadcast(tuple(mask.shape), tuple(input.shape))
    else:  # in place, torch names the target first
        check_broadcast(tuple(input.shape), tuple(mask.shape))
    if _is_tensor(value):
        if value.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s).")
        if (name == "masked_fill" and value._rg and input._data.dtype.kind not in "fc"
                and registry._engine.STATE.grad_enabled):  # (its in-place form lets it through)
            raise RuntimeError(f"Autograd not support dtype: {input.dtype.torch_name}")
        return MASKED_FILL_T, (input, value), (m,)
    check_scalar_fits(value, input._data.dtype)
    return MASKED_FILL, (input,), (m, value)


@function("masked_fill", methods="masked_fill")
def masked_fill(input, mask, value):
    """`value` where `mask` (bool, broadcast) holds, else input."""
    OP, inputs, params = _masked_fill_args("masked_fill", input, mask, value)
    return watch_params(call(OP, inputs, params), ("mask", mask))


@function(methods="masked_fill_", module=False)
def masked_fill_(self, mask, value):
    """In-place `masked_fill`."""
    _check_writable(self, ())  # torch checks the target before the mask
    OP, inputs, params = _masked_fill_args("masked_fill_", self, mask, value)
    _warn_expanded(self._arr(), "masked_fill_", "tensor[mask] = scalar")
    old = self._rec  # (an unrecorded call leaves it: then nothing is watched)
    return watch_params(call_inplace(OP, self, inputs[1:], params), ("mask", mask), old=old)
