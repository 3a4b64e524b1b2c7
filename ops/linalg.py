"""Matrix products: dot, mv, mm, bmm, and matmul composed from them as torch composes it."""

from __future__ import annotations

import numpy as np

from .registry import call, function, op
from .shape import CLONE, EXPAND, SQUEEZE_DIMS, UNSAFE_VIEW, UNSQUEEZE, VIEW


def _bwd_pair(ga, gb):
    def backward(F, ctx, g, self, other):
        need_a, need_b = ctx.needs
        return (ga(F, g, other) if need_a else None, gb(F, g, self) if need_b else None)

    return backward


DOT = op("dot", "DotBackward0", np.dot,
         _bwd_pair(lambda F, g, o: g * o, lambda F, g, s: g * s),
         inputs=("self", "tensor"), saves=(("self", (1,)), ("tensor", (0,))))
MV = op("mv", "MvBackward0", np.matmul,
        _bwd_pair(lambda F, g, v: F.outer(g, v), lambda F, g, m: F.matmul(F.mT(m), g)),
        inputs=("self", "vec"), saves=(("self", (1,)), ("vec", (0,))))
MM = op("mm", "MmBackward0", np.matmul,
        _bwd_pair(lambda F, g, b: F.matmul(g, F.mT(b)), lambda F, g, a: F.matmul(F.mT(a), g)),
        inputs=("self", "mat2"), saves=(("self", (1,)), ("mat2", (0,))))
BMM = op("bmm", "BmmBackward0", np.matmul,
         _bwd_pair(lambda F, g, b: F.matmul(g, F.mT(b)), lambda F, g, a: F.matmul(F.mT(a), g)),
         inputs=("self", "mat2"), saves=(("self", (1,)), ("mat2", (0,))))


def _same_dtype(name, a, b, what="expected both vectors to have same dtype"):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name} : {what}, but found {a.dtype.torch_name} and {b.dtype.torch_name}")


@function("dot", methods="dot")
def dot(input, tensor):
    """Inner product of two 1-d tensors."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.shape != tensor.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{tensor.shape[0]}] "
            f"to have the same number of elements, but got {input.shape[0]} and {tensor.shape[0]} "
            "elements respectively")
    _same_dtype("dot", input, tensor)
    return call(DOT, (input, tensor))


@function("mv", methods="mv")
def mv(input, vec):
    """Matrix times vector."""
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0] if input.ndim else ''}), mat "
            f"({'x'.join(map(str, input.shape))}), vec ({vec.shape[0] if vec.ndim else ''})")
    _same_dtype("mv", input, vec, "expected m1 and m2 to have the same dtype")
    return call(MV, (input, vec))


@function("mm", methods="mm")
def mm(input, mat2):
    """Matrix product of two 2-d tensors."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype("mm", input, mat2, "expected m1 and m2 to have the same dtype")
    return call(MM, (input, mat2))


@function("bmm", methods="bmm")
def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _same_dtype("bmm", input, mat2, "expected m1 and m2 to have the same dtype")
    return call(BMM, (input, mat2))


def _reshape(x, shape):
    """As torch's matmul folds batches: a view when possible, else a copy then a view."""
    try:
        return call(VIEW, (x,), (shape,))
    except RuntimeError:
        return call(UNSAFE_VIEW, (call(CLONE, (x,)),), (shape,))


@function("matmul", methods=("matmul", "__matmul__"))
def matmul(input, other):
    """Matrix product with broadcasting over batch dims (1-d operands as vectors)."""
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return call(SQUEEZE_DIMS, (mm(call(UNSQUEEZE, (input,), (0,)), other),), ((0,),))
    if da == 2 and db == 2:
        return mm(input, other)
    if da >= 3 and db <= 2:
        # fold the batch into the rows: one mm (or mv)
        k = input.shape[-1]
        folded = _reshape(input, (int(np.prod(input.shape[:-1])), k))
        if db == 1:
            out = mv(folded, other)
            return call(UNSAFE_VIEW, (out,), (input.shape[:-1],))
        out = mm(folded, other)
        return call(UNSAFE_VIEW, (out,), (input.shape[:-1] + (other.shape[-1],),))
    # general case: broadcast the batch dims and use bmm
    a = call(UNSQUEEZE, (input,), (0,)) if da == 1 else input
    b = call(UNSQUEEZE, (other,), (1,)) if db == 1 else other
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{int(np.prod(a.shape[:-2]))}, {a.shape[-1]}] but got: "
            f"[{int(np.prod(b.shape[:-2]))}, {b.shape[-2]}].")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = int(np.prod(batch))
    a3 = _reshape(_expand_to(a, batch + a.shape[-2:]), (n,) + a.shape[-2:])
    b3 = _reshape(_expand_to(b, batch + b.shape[-2:]), (n,) + b.shape[-2:])
    out_shape = batch + (a.shape[-2], b.shape[-1])
    out = call(UNSAFE_VIEW, (bmm(a3, b3),), (out_shape,))
    if da == 1:
        out = call(SQUEEZE_DIMS, (out,), ((len(batch),),))
    if db == 1:
        out = call(SQUEEZE_DIMS, (out,), ((out.ndim - 1,),))
    return out


def _expand_to(x, shape):
    return x if x.shape == shape else call(EXPAND, (x,), (shape,))
