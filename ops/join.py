"""Joining and splitting: cat (concat, concatenate), split, split_with_sizes, chunk.

`split` and `chunk` return tuples of views of their input, as torch's do: one record with
several outputs (SplitBackward0 / SplitWithSizesBackward0) whose backward concatenates the
outputs' gradients, zeros where an output got none.
"""

from __future__ import annotations

import numpy as np

from .dims import as_given, wrap_dim
from .dtypes import can_cast, result_type
from .registry import call, check_out, function, op, self_sizes, tensor_list, write_out

# ---- cat --------------------------------------------------------------------------------


def _is_legacy_empty(shape) -> bool:
    """torch skips 1-d empty tensors in cat, whatever the other tensors' shapes."""
    return len(shape) == 1 and shape[0] == 0


def _cat_fwd(*arrays_and_params):
    *arrays, dim, dtype = arrays_and_params
    kept = [a for a in arrays if not _is_legacy_empty(a.shape)]
    if not kept:
        return np.zeros((0,), dtype=dtype)
    return np.concatenate(kept, axis=dim, dtype=dtype)


# the inputs' sizes along `dim` are needed for inputs that require no grad too (the record
# keeps shapes only for those that do), so they ride along as the last parameter
def _cat_bwd(F, ctx, g):
    dim, _, sizes = ctx.params
    out, start = [], 0
    for size in sizes:  # (every input's, as torch's cat_tensors_backward: CAT.grads_all_inputs)
        if size is None:  # a skipped (1-d empty) tensor
            out.append(F.zeros((0,), g))
            continue
        out.append(F.narrow(g, dim, start, size))
        start += size
    return tuple(out)


CAT = op("cat", "CatBackward0",
         lambda *a: _cat_fwd(*a[:-1]),  # the last parameter (sizes) is for the backward
         _cat_bwd, inputs=("tensors",), param_names=("dim",), grads_all_inputs=True)


@function("cat", "concat")
def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim (1-d empty tensors are skipped, as torch does)."""
    if hasattr(tensors, "_data"):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = tensor_list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [(i, t) for i, t in enumerate(tensors) if not _is_legacy_empty(t.shape)]
    ref = kept[0][1] if kept else tensors[0]
    dim = wrap_dim(dim, ref.ndim)
    for i, t in kept[1:]:
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list.")
    dtype = result_type(*(t._data for t in tensors))
    sizes = tuple(None if _is_legacy_empty(t.shape) else t.shape[dim] for t in tensors)
    if out is not None:
        check_out("cat", out, tensors)
        if not can_cast(dtype, out._data.dtype):
            from .._dtypes import from_np

            raise TypeError("tape.cat(): input types can't be cast to the desired output type "
                            f"{from_np(out._data.dtype).torch_name}")
    result = call(CAT, tensors, (dim, dtype, sizes))
    return result if out is None else write_out("cat", out, result)


@function("concatenate")
def concatenate(tensors, axis=0, out=None):
    """numpy's name for `cat`."""
    return cat(tensors, axis)


# ---- split, split_with_sizes, chunk -------------------------------------------------------


def _split_fwd(a, dim, sizes):
    lead = (slice(None),) * dim
    out, start = [], 0
    for n in sizes:
        out.append(a[lead + (slice(start, start + n),)])
        start += n
    return tuple(out)


def _split_bwd(F, ctx, grads):
    dim, sizes = ctx.params
    if not isinstance(grads, tuple):  # one output: the engine passes its gradient alone
        grads = (grads,)
    some = next(g for g in grads if g is not None)
    shape = list(ctx.shapes[0])
    parts = []
    for g, n in zip(grads, sizes):
        if g is None:
            shape[dim] = n
            g = F.zeros(tuple(shape), some)
        parts.append(g)
    return (F.cat(parts, dim),)


# as many outputs as there are pieces; each is a view of the input
SPLIT = op("split", "SplitBackward0", _split_fwd, _split_bwd, view=True, outputs=-1,
           saved_attrs={"dim": lambda ctx: ctx.params[0], "self_sym_sizes": self_sizes,
                        "split_size": lambda ctx: getattr(ctx.params[1], "given", ctx.params[1][0])})
SPLIT_WITH_SIZES = op("split_with_sizes", "SplitWithSizesBackward0", _split_fwd, _split_bwd,
                      view=True, outputs=-1,
                      saved_attrs={"dim": lambda ctx: ctx.params[0], "self_sym_sizes": self_sizes,
                                   "split_sizes": lambda ctx: ctx.params[1]})


def _split_size(input, split_size: int, dim: int):
    if input.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if split_size == 0 and size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    count = 1 if split_size == 0 else max((size + split_size - 1) // split_size, 1)
    sizes = tuple(split_size if i < count - 1 else size - split_size * (count - 1) for i in range(count))
    if sizes[0] != split_size:  # one piece, smaller than asked: torch's node keeps what was asked
        sizes = as_given(sizes, split_size)
    return call(SPLIT, (input,), (dim, sizes))


@function("split_with_sizes", methods="split_with_sizes")
def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of the given sizes along `dim` (a tuple of views)."""
    if hasattr(split_sizes, "_data") or not isinstance(split_sizes, (list, tuple)):
        kind = "Tensor" if hasattr(split_sizes, "_data") else type(split_sizes).__name__
        raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, "
                        f"not {kind}")
    if input.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    sizes = tuple(int(s) for s in split_sizes)
    given, dim = dim, wrap_dim(dim, input.ndim)  # (torch's messages name the dim as given)
    if any(s < 0 for s in sizes):
        raise RuntimeError("split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={list(sizes)}")
    if sum(sizes) != input.shape[dim]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {input.shape[dim]} (input tensor's "
            f"size at dimension {given}), but got split_sizes={list(sizes)}")
    return call(SPLIT_WITH_SIZES, (input,), (dim, sizes))


@function("split", methods="split")
def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes.
    (torch's method names its size `split_size`, its function `split_size_or_sections`.)"""
    s = split_size_or_sections if split_size is None else split_size
    if s is None or (split_size is not None and split_size_or_sections is not None):
        raise TypeError("split() missing required argument 'split_size_or_sections'" if s is None else
                        "split() got multiple values for argument 'split_size'")
    if hasattr(s, "_data") and s.numel() == 1:
        s = int(s.item())
    if isinstance(s, (int, np.integer)):
        return _split_size(tensor, int(s), dim)
    return split_with_sizes(tensor, s, dim)


@function("chunk", methods="chunk")
def chunk(input, chunks, dim=0):
    """At most `chunks` pieces of equal size along `dim` (the last may be smaller)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    split_size = (size + chunks - 1) // chunks
    if split_size == 0 and size == 0:
        # split would give one piece: torch keeps the number of (empty) chunks
        return call(SPLIT_WITH_SIZES, (input,), (dim, (0,) * chunks))
    return _split_size(input, split_size, dim)
