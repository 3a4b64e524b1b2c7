"""Matrix products: dot, mv, mm, bmm, and matmul composed from them as torch composes it."""

from __future__ import annotations

import numpy as np

from .dims import contiguous_strides
from .registry import call, check_operands, function, op
from .shape import (
    SQUEEZE_DIM,
    SQUEEZE_DIMS,
    TRANSPOSE,
    UNSAFE_VIEW,
    UNSQUEEZE,
    T,
    contiguous,
    expand,
    reshape,
)

# Plain module-level rules (no closures), so tape.compile can inline them (NOTE [inlining
# is exact] in tape/codegen.py): mm's backward in a compiled plan is then two matmuls.


def _dot_bwd(F, ctx, g, self, tensor):
    need_self, need_tensor = ctx.needs
    return (g * tensor if need_self else None, g * self if need_tensor else None)


def _mv_bwd(F, ctx, g, self, vec):
    need_self, need_vec = ctx.needs
    return (F.outer(g, vec) if need_self else None,
            F.matmul(F.mT(self), g) if need_vec else None)


def _mm_bwd(F, ctx, g, self, mat2):  # also bmm's: the same products over a batch
    need_self, need_mat2 = ctx.needs
    return (F.matmul(g, F.mT(mat2)) if need_self else None,
            F.matmul(F.mT(self), g) if need_mat2 else None)


DOT = op("dot", "DotBackward0", np.dot, _dot_bwd,
         inputs=("self", "tensor"), saves=(("self", (1,)), ("tensor", (0,))))
MV = op("mv", "MvBackward0", np.matmul, _mv_bwd,
        inputs=("self", "vec"), saves=(("self", (1,)), ("vec", (0,))))


def _layout(name: str, strides: bool):
    """A saved_attrs entry: input `name`'s sizes, or its strides as torch keeps them (in
    elements, only when that input needs a gradient, else ()). The strides are read off the
    saved value when the record still holds it; otherwise (not saved, or freed by a
    backward) they are a contiguous tensor's, which numpy's arrays are unless viewed."""
    def attr(ctx):
        op = ctx.op
        i = op.inputs.index(name)
        shape = tuple(ctx.shapes[i])
        if not strides:
            return shape
        if not ctx.needs[i]:
            return ()
        entries = ctx.saved_entries()  # (not a tuple once a backward freed them)
        entry = (entries[op.saved_names.index(name)]
                 if type(entries) is tuple and name in op.saved_names else None)
        a = None if entry is None else getattr(entry[0], "_data", entry[0])
        if isinstance(a, np.ndarray) and not a.flags.c_contiguous:
            return tuple(st // a.itemsize for st in a.strides)
        return contiguous_strides(shape)
    return attr


def matrix_layouts(*names) -> dict:
    """torch's `_saved_<name>_sym_sizes` and `_sym_strides` for these matrix inputs."""
    out = {}
    for name in names:
        out[f"{name}_sym_sizes"] = _layout(name, False)
        out[f"{name}_sym_strides"] = _layout(name, True)
    return out


MM = op("mm", "MmBackward0", np.matmul, _mm_bwd,
        inputs=("self", "mat2"), saves=(("self", (1,)), ("mat2", (0,))),
        saved_attrs=matrix_layouts("self", "mat2"))
BMM = op("bmm", "BmmBackward0", np.matmul, _mm_bwd,
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
    _not_for_bool("dot", input)
    return call(DOT, (input, tensor))


@function("mv", methods="mv")
def mv(input, vec):
    """Matrix times vector."""
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0] if input.ndim else ''}), mat "
            f"({'x'.join(map(str, input.shape))}), vec ({vec.shape[0] if vec.ndim else ''})")
    _same_dtype("mv", input, vec, "expected m1 and m2 to have the same dtype")
    _not_for_bool("addmv_impl_cpu", input)
    return call(MV, (input, vec))


@function("mm", methods="mm")
def mm(input, mat2):
    """Matrix product of two 2-d tensors."""
    try:
        a, b = input._data, mat2._data  # (the arrays: these checks run for every layer)
    except AttributeError:
        check_operands("mm", False, input=input, mat2=mat2)
        raise
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})")
    if a.dtype != b.dtype:
        _same_dtype("mm", input, mat2, "expected m1 and m2 to have the same dtype")
    if a.dtype.kind == "b" and a.size and b.size:  # (torch fills an empty product, or one
        _not_for_bool("addmm_impl_cpu_", input)  # over nothing, without its kernel: False)
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
    _not_for_bool("bmm", input)
    return call(BMM, (input, mat2))


def _not_for_bool(kernel: str, x) -> None:
    """torch's CPU matrix products have integer kernels but none for bool."""
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _reshape(x, shape):
    """As torch's matmul folds batches: tensor.reshape (a view when possible, else a copy)."""
    return reshape(x, shape)


def _should_fold(a, b) -> bool:
    """torch's should_fold: fold the batch of the larger operand into mm/mv rows instead of
    bmm, when the smaller one requires grad or the fold needs no copy."""
    larger = a.ndim >= b.ndim
    dim_t1, dim_t2 = (a.ndim, b.ndim) if larger else (b.ndim, a.ndim)
    if not (dim_t1 >= 3 and dim_t2 <= 2):
        return False
    if (b if larger else a).requires_grad:
        return True
    if a.ndim == 2:
        return False
    t1 = np.asarray(a._data) if larger else np.swapaxes(np.asarray(b._data), -1, -2)
    if t1.size == 0:
        return True
    shape, strides = t1.shape, t1.strides
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(dim_t1 - 2))


def _mT(x):
    return call(TRANSPOSE, (x,), (-2, -1))  # (torch's dims, as its _saved_dim0/1 show them)


@function(methods="__rmatmul__", module=False)
def rmatmul(self, other):
    """other @ self, for `ndarray @ tensor` and the like."""
    return matmul(other, self)


@function("matmul", methods=("matmul", "__matmul__"))
def matmul(input, other):
    """Matrix product with broadcasting over batch dims (1-d operands as vectors), composed
    of dot / mv / mm / bmm and views exactly as torch's _matmul_impl composes it."""
    a, b = getattr(input, "_data", None), getattr(other, "_data", None)
    if a is None or b is None:
        check_operands("matmul", False, input=input, other=other)
    da, db = a.ndim, b.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        out = call(SQUEEZE_DIMS, (mm(call(UNSQUEEZE, (input,), (0,)), other),), ((0,),))
        out._vc[0] = 1  # torch squeeze_()s its mm result in place: a fresh tensor at version 1
        return out
    if da == 2 and db == 2:
        return mm(input, other)
    if _should_fold(input, other):
        transpose = db > da
        t1 = _mT(other) if transpose else input
        t2 = other if not transpose else (call(T, (input,)) if da == 2 else input)
        out_shape = tuple(t1.shape[:-1])
        folded = _reshape(t1, (int(np.prod(out_shape)), t1.shape[-1]))
        if t2.ndim == 2:
            out = call(UNSAFE_VIEW, (mm(folded, t2),), (out_shape + (t2.shape[1],),))
            return contiguous(_mT(out)) if transpose else out
        return call(UNSAFE_VIEW, (mv(folded, t2),), (out_shape,))
    # the general case: broadcast the batch dims, fold them into one, bmm
    n = input.shape[-2] if da > 1 else 1
    m1 = input.shape[-1]
    batch1 = tuple(input.shape[:max(da - 2, 0)])
    m2 = other.shape[-2] if db > 1 else other.shape[0]
    p = other.shape[-1] if db > 1 else 1
    batch2 = tuple(other.shape[:max(db - 2, 0)])
    if da == 3 and db == 3 and batch1[0] != batch2[0]:
        if batch1[0] == 1 and input.requires_grad:
            return matmul(call(SQUEEZE_DIM, (input,), ((0,),)), other)
        if batch2[0] == 1 and other.requires_grad:
            return matmul(input, call(SQUEEZE_DIM, (other,), ((0,),)))
    try:
        batch = tuple(np.broadcast_shapes(batch1, batch2))
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({batch1}) must match the size of tensor b ({batch2}) at "
            f"non-singleton dimension (matmul of shapes {list(input.shape)} and "
            f"{list(other.shape)})") from None
    if m1 != m2:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{int(np.prod(batch))}, {m1}] but got: [{int(np.prod(batch))}, {m2}].")
    count = int(np.prod(batch))
    a3 = _reshape(expand(input, *(batch + (n, m1))), (count, n, m1))
    vector_rhs = db == 1
    b = expand(other, *(batch + ((m2,) if vector_rhs else (m2, p))))
    if vector_rhs:
        b3 = call(UNSQUEEZE, (_reshape(b, (count, m2)),), (2,))
    else:
        b3 = _reshape(b, (count, m2, p))
    out_shape = batch + ((n,) if da > 1 else ()) + ((p,) if db > 1 else ())
    out = bmm(a3, b3)
    if vector_rhs:
        out = call(SQUEEZE_DIM, (out,), ((-1,),))
    return call(UNSAFE_VIEW, (out,), (out_shape,))
