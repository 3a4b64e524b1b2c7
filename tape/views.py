"""In-place ops on views of tensors that require grad: torch's CopySlices.

NOTE [in-place on a view]
Writing into a view changes its base, so the base's history must change: the base becomes
the output of a CopySlices record whose inputs are the base's old history and the op's
other operands. Its backward sends the incoming gradient to the base's old history
everywhere except under the view, where it runs the op's own rule. Where the view lies in
the base is kept as flat element positions, so the rule is written with ordinary
differentiable primitives (gather, scatter) and works for any view numpy can make.
The view itself is then re-expressed as an AsStridedBackward0 view of the new base.
"""

from __future__ import annotations

import numpy as np

from .ops.registry import Op
from .recording import TAPE, Record, next_position, pin_output, rehome


def _memory_offsets(arr: np.ndarray, start: int) -> np.ndarray:
    """Each element's offset in memory, in items, laid out in `arr`'s shape."""
    out = np.full(arr.shape, start, dtype=np.int64)
    for d, stride in enumerate(arr.strides):
        shape = [1] * arr.ndim
        shape[d] = arr.shape[d]
        out = out + (np.arange(arr.shape[d]) * (stride // arr.itemsize)).reshape(shape)
    return out


def _positions(base_arr: np.ndarray, view_arr: np.ndarray) -> np.ndarray:
    """For each element of `view_arr`, its flat (C-order) position in `base_arr`."""
    offset = (view_arr.__array_interface__["data"][0]
              - base_arr.__array_interface__["data"][0]) // base_arr.itemsize
    base_mem = _memory_offsets(base_arr, 0).ravel()
    order = np.argsort(base_mem, kind="stable")
    view_mem = _memory_offsets(view_arr, offset)
    return order[np.searchsorted(base_mem[order], view_mem)]


def _copy_slices_bwd(F, ctx, g):
    # k: which input of `inner` the view is; overlapping: the view repeats an element (it was
    # written through an expand()), which torch's backward refuses
    inner, positions, base_shape, k, overlapping = ctx.params
    from .engine import _run

    if overlapping:
        raise internal_overlap_error()

    flat = F.reshape(g, (-1,))
    g_view = F.take(flat, positions)
    # the inner record keeps its saved values for as long as this record lives
    create = not isinstance(g, (np.ndarray, np.generic))
    inner_grads = _run(inner, [g_view], F, retain=True, create=create)
    mask = np.ones(int(np.prod(base_shape)), dtype=bool)
    mask[positions.ravel()] = False
    rest = F.keep_where(mask, flat)  # zeros under the view, even where g is inf or NaN
    g_self = inner_grads[k]
    if g_self is not None:
        if g_self.shape != positions.shape:
            g_self = F.sum_to(g_self, positions.shape)
        rest = rest + F.index_put_zeros((rest.shape[0],), positions, g_self, g_self, True)
    return (F.reshape(rest, base_shape),) + tuple(inner_grads[:k]) + tuple(inner_grads[k + 1:])


COPY_SLICES = Op(name="copy_slices", node="CopySlices", forward=None, backward=_copy_slices_bwd,
                 inputs=("self", "src"))


def _as_strided_bwd(F, ctx, g):
    positions, base_shape = ctx.params
    n = int(np.prod(base_shape))
    return (F.reshape(F.index_put_zeros((n,), positions, g, g, True), base_shape),)


AS_STRIDED = Op(name="as_strided", node="AsStridedBackward0", forward=None,
                backward=_as_strided_bwd)


def record_inplace_on_view(op, view, others, params, out):
    """Apply an in-place op to `view` and rewrite its base's history (NOTE above)."""
    from .engine import _record, _wrap, accumulate_grad

    base = view._base
    base_arr, view_arr = base._arr(), view._arr()
    positions = _positions(base_arr, view_arr)
    snapshot = _wrap(np.array(view_arr, copy=True), view._rec, view._idx, view._rg)  # (as in call_inplace)
    inner = _record(op, (snapshot,) + others, params, need_self=view._rg)
    inner.shapes = (view_arr.shape,) + inner.shapes[1:]
    inner.dtypes = (view_arr.dtype,) + inner.dtypes[1:]
    np.copyto(view_arr, out, casting="unsafe")
    view._vc[0] += 1
    if inner.saved and op.save_plan:
        saved = list(inner.saved)
        for k, (i, which) in enumerate(op.save_plan):
            if i < 0 and any(inner.needs[w] for w in which):
                saved[3 * k:3 * k + 3] = (view_arr, view._vc, view._vc[0])
        inner.saved = tuple(saved)
    base_node, base_idx = ((base._rec, base._idx) if base._rec is not None else
                           (accumulate_grad(base) if base._rg else None, 0))
    nodes = (base_node,) + inner.inputs[1:]
    params = (inner, positions, base_arr.shape, 0, has_internal_overlap(view_arr))
    rec = Record(COPY_SLICES, next_position(), nodes, (base_idx,) + inner.input_idx[1:],
                 tuple(n is not None for n in nodes), (), params,
                 (base_arr.shape,) + inner.shapes[1:], (base_arr.dtype,) + inner.dtypes[1:])
    return _rehistory(base, view, rec, positions)


def _rehistory(base, view, rec, positions):
    """`rec` (a CopySlices) becomes the base's history and the view an AsStridedBackward0 of it."""
    from .engine import _ref

    base_arr = base._arr()
    rec.outs = _ref(base)
    pin_output(base)  # (NOTE [outputs found when asked])
    old = (base._rec, base._idx)
    base._rec, base._idx, base._rg = rec, 0, True
    rehome(base, *old)
    TAPE.append(rec)
    vrec = Record(AS_STRIDED, next_position(), (rec,), (0,), (True,), (),
                  (positions, base_arr.shape), (base_arr.shape,), (base_arr.dtype,))
    vrec.outs = _ref(view)
    pin_output(view)
    old = (view._rec, view._idx)
    view._rec, view._idx, view._rg = vrec, 0, True
    rehome(view, *old)
    view._extras().view_version = view._vc[0]  # its history is current again
    TAPE.append(vrec)
    return view


def record_function_on_view(inner, view, k: int):
    """A custom Function wrote into `view`, its input k, and marked it dirty: the base's
    history becomes CopySlices around the Function's record `inner`, as torch rewrites it
    (and as record_inplace_on_view does for an op)."""
    from .engine import accumulate_grad

    base = view._base
    base_arr = base._arr()
    positions = _positions(base_arr, view._arr())
    base_node, base_idx = ((base._rec, base._idx) if base._rec is not None else
                           (accumulate_grad(base) if base._rg else None, 0))
    rest = [i for i in range(len(inner.inputs)) if i != k]
    nodes = (base_node,) + tuple(inner.inputs[i] for i in rest)
    rec = Record(COPY_SLICES, next_position(), nodes,
                 (base_idx,) + tuple(inner.input_idx[i] for i in rest),
                 tuple(n is not None for n in nodes), (),
                 (inner, positions, base_arr.shape, k, has_internal_overlap(view._arr())),
                 (base_arr.shape,) + tuple(inner.shapes[i] for i in rest),
                 (base_arr.dtype,) + tuple(inner.dtypes[i] for i in rest))
    return _rehistory(base, view, rec, positions)


# NOTE [stale views]
# A view made by a recorded op remembers the shared version when its history was recorded
# (TensorExtras.view_version). When its base, or another view of the base, changes in place,
# the version moves on and that history no longer says how the view's values came to be: the
# base has a new history (its in-place record, or CopySlices). Used again (as an op's input,
# as a backward root, or asked for its grad_fn), the view gets the history torch gives it then:
# an AsStridedBackward0 of the base's current history. An output of a multi-output view
# (unbind, split) is refused instead, as torch refuses it.


def regenerate(view) -> None:
    """The view's history made again from its base's current one (NOTE [stale views])."""
    from .engine import _ref, accumulate_grad

    base = view._base
    if base._rec is not None:
        node, idx = base._rec, base._idx
    elif base._rg:
        node, idx = accumulate_grad(base), 0
    else:  # the base no longer requires grad (detach_()): nothing to regenerate from
        view._x.view_version = view._vc[0]
        return
    base_arr = base._arr()
    vrec = Record(AS_STRIDED, next_position(), (node,), (idx,), (True,), (),
                  (_positions(base_arr, view._arr()), base_arr.shape), (base_arr.shape,),
                  (base_arr.dtype,))
    vrec.outs = _ref(view)
    pin_output(view)
    old = (view._rec, view._idx)
    view._rec, view._idx = vrec, 0
    rehome(view, *old)
    view._x.view_version = view._vc[0]
    TAPE.append(vrec)


# NOTE [views of a base that gained a history]
# A view made while its base needed no gradient is a plain tensor (no record, no grad).
# When the base is later written in place with a value that needs one (`base.copy_(x)`,
# `base[1:] = x`, or through another view of it), the base gets a history, and torch gives
# every older view of it one too, the next time the view is used: an AsStridedBackward0 of
# the base's current history, requiring grad. `grow` does that where the view is used (an
# op's input, requires_grad, grad_fn, is_leaf, a backward root); only a tensor that does
# not require grad and has a base pays the check.


def grow(view) -> bool:
    """Give `view` its base's gained history (NOTE above); True when it now requires grad."""
    base = view._base
    if view._rg or view._rec is not None or base is None or base._rec is None or (
            view._x is not None and view._x.fixed_view):
        return False
    view._extras()  # (regenerate keeps the version it is made at)
    regenerate(view)
    view._rg = True
    return True


# NOTE [memory overlap]
# torch refuses some in-place writes whose operands share memory with the written-to tensor
# (ATen's MemoryOverlap.cpp), with the checks below on the operands' numpy arrays:
# - internal overlap: the target repeats an element (a stride 0 over a size > 1, as expand()
#   gives). Refused by most in-place ops; zero_, fill_ with a number, masked_fill_ and
#   index_put_ write such a tensor.
# - partial overlap: an operand and the target are both dense and share some memory, but not
#   exactly the same elements in the same layout. Refused by every elementwise in-place op
#   (copy_, add_, ...). The same memory in the same layout (`a.add_(a)`) is allowed.
# - any overlap (partial or full): refused by index_put_ for its values and indices.
# Where either operand is not dense (a strided view) torch does not decide ("too hard") and
# allows the write.

NO_OVERLAP, FULL_OVERLAP, PARTIAL_OVERLAP, TOO_HARD = range(4)

_OVERLAP_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to "
                    "tensor refer to a single memory location. Please clone() the tensor before "
                    "performing the operation.")


def has_internal_overlap(arr) -> bool:
    """Does `arr` repeat an element (torch's has_internal_overlap(...) == Yes)?"""
    return isinstance(arr, np.ndarray) and arr.size > 0 and any(
        s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))  # (empty: no element at all)


def internal_overlap_error() -> RuntimeError:
    return RuntimeError(
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location. Please clone() the tensor before performing the operation.")


def _non_overlapping_and_dense(arr: np.ndarray) -> bool:
    """torch's is_non_overlapping_and_dense: the elements fill a block, in some dim order."""
    expected = arr.itemsize
    for stride, size in sorted((s, n) for s, n in zip(arr.strides, arr.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def overlap_status(a, b) -> int:
    """torch's get_overlap_status of two arrays (NOTE [memory overlap])."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return NO_OVERLAP
    if a is b:
        return FULL_OVERLAP
    if a.size == 0 or b.size == 0:
        return NO_OVERLAP
    if not _non_overlapping_and_dense(a) or not _non_overlapping_and_dense(b):
        return TOO_HARD
    a_begin = a.__array_interface__["data"][0]
    b_begin = b.__array_interface__["data"][0]
    a_end, b_end = a_begin + a.nbytes, b_begin + b.nbytes
    if a_begin == b_begin and a_end == b_end:
        # (the strides of size-1 dims are left out: numpy's and torch's differ there)
        same = a.ndim == b.ndim and all(
            sa == sb for sa, sb, n in zip(a.strides, b.strides, a.shape) if n != 1)
        return FULL_OVERLAP if same else PARTIAL_OVERLAP
    if a_begin < b_end and b_begin < a_end:
        return PARTIAL_OVERLAP
    return NO_OVERLAP


def assert_no_partial_overlap(target, other) -> None:
    """torch's error if `other` shares memory with the written-to `target` in part."""
    if overlap_status(target, other) == PARTIAL_OVERLAP:
        raise RuntimeError(_OVERLAP_MESSAGE)


def assert_no_overlap(target, other) -> None:
    """torch's error if `other` shares any memory with the written-to `target`."""
    if overlap_status(target, other) in (PARTIAL_OVERLAP, FULL_OVERLAP):
        raise RuntimeError(_OVERLAP_MESSAGE)
