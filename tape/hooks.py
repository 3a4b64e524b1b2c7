"""Hooks: registration (handles with `.remove()`), running them in torch's order during
playback, and the packing of saved values for `saved_tensors_hooks`.

NOTE [hook order]
For one backward node torch runs, in this order: the tensor hooks of its outputs (each
output's hooks in registration order, a non-None return replacing the gradient for the
hooks after it and for the node), then `retain_grad` (so `.grad` sees the hooked value,
whatever the order of registration), then the node's pre-hooks (`register_prehook`), the
node itself, and its post-hooks (`register_hook`, which may replace the input gradients).
A leaf's AccumulateGrad runs the leaf's tensor hooks, its own pre-hooks, accumulates into
`.grad`, then the leaf's post-accumulate-grad hooks and its own post-hooks. Every return
value is checked as torch checks it (same shape, same dtype, same number of values).

NOTE [hooks and captured gradients]
`autograd.grad` captures the gradients of its inputs instead of running their sinks.
As in torch: a leaf input's tensor hooks run and the hooked value is captured, but its
AccumulateGrad is not executed (no pre-hooks, no post-accumulate hooks). A non-leaf input
whose node must run anyway (it leads to another input) is captured *before* its tensor
hooks; one whose node need not run gets its tensor hooks (and retain_grad) first and is
captured after them, and its node is skipped.
"""

from __future__ import annotations

import itertools

import numpy as np

from .grad_mode import swap_grad_enabled, untraceable
from .quiet import as_user
from .tensor import Tensor, _wrap

_ids = itertools.count()

# [0]: some user code may run during a backward (a hook, a custom Function's backward, an
# unpack hook) and so see the order nodes run in: playback then keeps torch's ready order
# (NOTE [torch's order] in engine.py). Set for good by the first such registration.
USER_CODE = [False]


class RemovableHandle:
    """Returned by every register_* call; `.remove()` unregisters the hook."""

    __slots__ = ("_table", "id")

    def __init__(self, table: dict, hid: int):
        self._table = table
        self.id = hid

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(table: dict, fn) -> RemovableHandle:
    untraceable("a hook registered inside the function")
    USER_CODE[0] = True
    hid = next(_ids)
    table[hid] = fn
    return RemovableHandle(table, hid)


def register_tensor_hook(t, fn) -> RemovableHandle:
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._rec is None:
        return add_hook(t._extras().hooks, fn)
    from .recording import extras

    return add_hook(extras(t._rec).tensor_hooks.setdefault(t._idx, {}), fn)


def register_post_accumulate_hook(t, fn) -> RemovableHandle:
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._rec is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    return add_hook(t._extras().post_acc_hooks, fn)


# ---------------------------------------------------------------------------------------
# Running hooks (called by playback, see NOTE [hook order])


def _as_tensor(g, create):
    return g if g is None or create or isinstance(g, Tensor) else _wrap(g)


def _as_value(g, create):
    if create or g is None:
        return g
    return g._data if isinstance(g, Tensor) else g


def _hook_name(fn) -> str:
    return getattr(fn, "__name__", "<unknown>")


def _type_name(x) -> str:
    cls = type(x)
    if cls.__module__ == "builtins" or isinstance(x, Tensor):  # (torch names its Tensor bare)
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


def _check_single(original, result, fn) -> None:
    """torch's check of one value a hook returned in place of `original` (not None)."""
    if original is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{_type_name(result)}'")
    if np.result_type(result._data) != np.result_type(original._data):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the type of value (was "
                           f"{original.type()} got {result.type()})")
    if np.shape(result._data) != np.shape(original._data):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the size of value")


def _check_tuple(prev: tuple, result, fn) -> None:
    if not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{_type_name(result)}'")
    if len(result) != len(prev):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(result)}, but expected {len(prev)})")
    for p, r in zip(prev, result):
        if r is not None:
            _check_single(p, r, fn)


def _run_tensor_hooks(hooks: dict, g, create):
    """One tensor's hooks in registration order; each sees the value the previous returned."""
    t = _as_tensor(g, create)
    for fn in list(hooks.values()):
        out = as_user(fn, t)
        if out is None or out is t:
            continue
        _check_single(t, out, fn)
        t = out
    return _as_value(t, create)


def _run_tuple_hooks(hooks: dict, grads: tuple, create, *extra_args):
    """Node pre-hooks (`fn(grad_outputs)`) or post-hooks (`fn(grad_inputs, grad_outputs)`)."""
    ts = tuple(_as_tensor(g, create) for g in grads)
    extra = tuple(tuple(_as_tensor(g, create) for g in a) for a in extra_args)
    for fn in list(hooks.values()):
        out = as_user(fn, ts, *extra)
        if out is None or out is ts:
            continue
        _check_tuple(ts, out, fn)
        ts = out
    return [_as_value(g, create) for g in ts]


def tensor_hooks(rec, grads, create) -> list:
    """The tensor hooks of a record's outputs, then retain_grad."""
    ex = rec.extra
    grads = list(grads)
    for i, hooks in ex.tensor_hooks.items():
        if hooks:  # torch calls them also with None (an output that got no gradient)
            grads[i] = _run_tensor_hooks(hooks, grads[i], create)
    for i in ex.retain:
        t = rec.out_refs()[i]() if i < len(rec.out_refs()) else None
        g = grads[i]
        if t is not None and g is not None and t._rec is rec:
            if create:  # torch's retain_grad hook clones the first one (CloneBackward0)
                t._grad = g.clone() if t._grad is None else t._grad + g
            elif t._grad is None:
                t._grad = _wrap(np.array(g, copy=True))
            else:
                t._grad = _wrap(t._grad._data + g)
    return grads


def before_node(rec, grads, create) -> list:
    """Everything that runs before a record's rule: tensor hooks, retain_grad, pre-hooks."""
    grads = tensor_hooks(rec, grads, create)
    pre = rec.extra.pre_hooks
    if pre:
        grads = _run_tuple_hooks(pre, tuple(grads), create)
    return grads


def post_hooks(hooks: dict, in_grads, grads, create) -> tuple:
    """A node's post-hooks: `fn(grad_inputs, grad_outputs)`, may return new grad_inputs."""
    return tuple(_run_tuple_hooks(hooks, tuple(in_grads), create, tuple(grads)))


def leaf_hooks(acc, g, create, executed: bool):
    """Before a leaf's accumulation: its tensor hooks, then (if its AccumulateGrad runs,
    not when autograd.grad only captures) the AccumulateGrad's pre-hooks."""
    x = acc.variable._x
    if x is not None and x.hooks:
        g = _run_tensor_hooks(x.hooks, g, create)
    if executed and acc.extra is not None and acc.extra.pre_hooks:
        (g,) = _run_tuple_hooks(acc.extra.pre_hooks, (g,), create)
    return g


def after_accumulate(acc, g, create) -> None:
    """After `.grad` was updated: post-accumulate-grad hooks, then the node's post-hooks."""
    leaf = acc.variable
    x = leaf._x
    if x is not None and x.post_acc_hooks:
        for fn in list(x.post_acc_hooks.values()):
            if as_user(fn, leaf) is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
    if acc.extra is not None and acc.extra.post_hooks:
        for fn in list(acc.extra.post_hooks.values()):
            out = as_user(fn, (), (_as_tensor(g, create),))
            if out is not None:  # an AccumulateGrad has no inputs: only () may be returned
                _check_tuple((), out, fn)


def capture(rec, grads, targets, captured, useful, within, accumulate, create):
    """Capture the gradients of a record's outputs that are targets; returns the grads
    the record runs with, or None when it need not run (NOTE [hooks and captured gradients])."""
    mine = [i for i in range(len(grads)) if (rec, i) in targets]
    needed = (within is None or rec in within) and (
        bool(accumulate and mine) or any(n is not None and n in useful for n in rec.inputs))
    ex = rec.extra
    if not needed and ex is not None:
        grads = tensor_hooks(rec, grads, create)
    for i in mine:
        if grads[i] is not None:
            captured[(rec, i)] = grads[i]
    if not needed:
        return None
    return before_node(rec, grads, create) if ex is not None else grads


# ---------------------------------------------------------------------------------------
# saved_tensors_hooks: values packed when saved, unpacked (and re-attached) when used


class _Packed:
    """A saved value that went through saved_tensors_hooks' pack; unpacked on use."""

    __slots__ = ("packed", "unpack")

    def __init__(self, packed, unpack):
        self.packed = packed
        self.unpack = unpack


def pack_saved(hooks, value, vc, version):
    """The saved entry for `value` under the innermost (pack, unpack) pair. pack gets a
    tensor: an input as given, or (for an op's result, which the engine keeps as an array)
    a tensor sharing the result's storage and version counter."""
    pack, unpack = hooks
    t = value if isinstance(value, Tensor) else _wrap(value, vc=vc)
    prev = swap_grad_enabled(False)  # (as torch: what pack computes is no part of the graph,
    try:  # and saves nothing, so a pack hook's own ops do not pack again)
        packed = as_user(pack, t)
    finally:
        swap_grad_enabled(prev)
    if vc[0] != version:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
            "pack hook cannot be modified by in-place operations as this can lead to unexpected "
            "side-effects. Please open an issue if you need to perform in-place operations on the "
            "input to a pack hook.")
    return (_Packed(packed, unpack), vc, version)


def unpack_saved(rec, packed: _Packed, k: int, vc, as_tensor: bool):
    """unpack's tensor, re-attached to the graph as the saved value was (as torch does):
    a saved input keeps its producer (or its leaf's sink), a saved result is this
    record's output again. Only the values come from unpack."""
    out = as_user(packed.unpack, packed.packed)
    if not isinstance(out, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {_type_name(out)}")
    if not as_tensor:
        return out._data
    i = rec.op.save_plan[k][0] if k < len(rec.op.save_plan) else None
    if i is None:  # a custom Function's saved tensor: kept as unpacked
        return out
    if i < 0:
        return _wrap(out._data, rec, 0, True, vc)
    edge = rec.edges()[i]
    if edge is None:
        return out if out._rec is None and not out._rg else _wrap(out._data, vc=vc)
    node, idx = edge
    if type(node).__name__ == "AccumulateGrad":
        leaf = node.variable
        if out is leaf:
            return out
        # a new leaf whose gradients go to the saved leaf's sink
        t = _wrap(out._data, rg=True, vc=vc)
        t._extras().acc = leaf._x.acc
        return t
    if out._rec is node and out._idx == idx:
        return out
    return _wrap(out._data, node, idx, True, vc)
