"""Indexing: `x[...]` as torch decomposes it, into select / slice / unsqueeze / alias views,
then one `index` (a copy) for integer-array and boolean-mask indices."""

from __future__ import annotations

import numpy as np

from .registry import call, function, op
from .shape import ALIAS, SELECT, SLICE, UNSQUEEZE


def _index_bwd(F, ctx, g):
    (index,) = ctx.params
    return (F.index_put_zeros(ctx.shapes[0], index, g, g, True),)


# gathers (a copy); repeated indices accumulate their gradients (scatter-add)
INDEX = op("index", "IndexBackward0", lambda a, index: a[index], _index_bwd)


def _is_advanced(item) -> bool:
    return not isinstance(item, (int, slice, type(None), type(Ellipsis))) or isinstance(item, bool)


def _as_index_array(item):
    """A list, array or tensor index as a numpy integer or boolean array."""
    arr = item._arr() if hasattr(item, "_arr") else np.asarray(item)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind not in "iu":
        if arr.size == 0:
            return arr.astype(np.int64)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr.astype(np.intp, copy=False)


@function(methods="__getitem__", module=False)
def getitem(self, index):
    """Basic indices become view ops (as torch records them), the rest one IndexBackward0."""
    items = index if isinstance(index, tuple) else (index,)
    if not isinstance(index, tuple) and isinstance(index, slice):
        # a lone slice is always recorded, even a full one
        size = self.shape[0] if self.ndim else 0
        if self.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                             "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        return call(SLICE, (self,), (0, *index.indices(size)))
    if index is Ellipsis:
        return call(ALIAS, (self,))
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis
                   and not (_is_advanced(it) and np.asarray(getattr(it, "_data", it)).dtype.kind == "b"))
    consumed += sum(np.asarray(getattr(it, "_data", it)).ndim for it in items
                    if _is_advanced(it) and np.asarray(getattr(it, "_data", it)).dtype.kind == "b")
    if consumed > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim}")
    out, dim, advanced = self, 0, []
    for pos, item in enumerate(items):
        if item is Ellipsis:
            rest = sum(1 for it in items[pos + 1:] if it is not None)
            skip = out.ndim - dim - rest
            advanced += [slice(None)] * skip
            dim += skip
        elif item is None:
            out = call(UNSQUEEZE, (out,), (dim,))
            advanced.append(None)
            dim += 1
        elif isinstance(item, bool) or _is_advanced(item):
            arr = _as_index_array(np.asarray(item) if isinstance(item, bool) else item)
            advanced.append(arr)
            dim += max(arr.ndim, 1) if arr.dtype.kind == "b" else 1
        elif isinstance(item, slice):
            size = out.shape[dim]
            start, stop, step = item.indices(size)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            if (start, stop, step) != (0, size, 1):
                out = call(SLICE, (out,), (dim, start, stop, step))
            advanced.append(slice(None))
            dim += 1
        else:
            item = int(item)
            size = out.shape[dim]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {size}")
            out = call(SELECT, (out,), (dim, item % size))
    if any(isinstance(a, np.ndarray) for a in advanced):
        idx = tuple(slice(None) if a is None else a for a in advanced)
        _check_bounds(out.shape, idx)
        return call(INDEX, (out,), (idx,))
    if out is self:
        return call(ALIAS, (self,))
    return out


def _check_bounds(shape, idx):
    dim = 0
    for a in idx:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "b":
                if a.shape != tuple(shape[dim:dim + a.ndim]):
                    raise IndexError(
                        f"The shape of the mask {list(a.shape)} at index {dim} does not match the "
                        f"shape of the indexed tensor {list(shape)}")
                dim += a.ndim
                continue
            size = shape[dim]
            if a.size and (a.max() >= size or a.min() < -size):
                bad = a.max() if a.max() >= size else a.min()
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        dim += 1


def _put_fwd(g, shape, index, accumulate):
    out = np.zeros(shape, dtype=g.dtype)
    if accumulate:
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


# zeros with `g` written (or added) at `index`: the backward of indexing, itself differentiable
INDEX_PUT_ZEROS = op("index_put_zeros", "IndexPutZerosBackward0", _put_fwd,
                     lambda F, ctx, g: (F.take(g, ctx.params[1]),))
