"""Custom differentiable functions: `tape.autograd.Function`, as torch's.

A Function's `apply` runs `forward` without recording, then appends one record whose op is
made once per Function class (node name `<ClassName>Backward`) and whose rule calls the
user's `backward` with tensors. Under create_graph the user's backward runs with grad mode
on, so a backward written with tape ops is itself differentiable.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from .engine import _record, _wrap, second_time_error
from .grad_mode import STATE, no_grad
from .ops.registry import Op
from .recording import FREED, TAPE
from .tensor import Tensor


class FunctionCtx:
    """The `ctx` handed to forward and backward."""

    def __init__(self):
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._to_save: tuple = ()
        self._unpacked = None  # the saved tensors, while backward runs
        self._tensor_mask: tuple = ()  # which positional arguments were tensors
        self._dirty: tuple = ()
        self._non_diff: tuple = ()
        self._rec = None

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._unpacked is not None:
            return self._unpacked
        if self._rec is not None and self._rec.saved is FREED:
            raise second_time_error()
        return self._to_save

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        # one op per Function class; the rule (defined below) calls cls.backward
        cls._op = Op(name=name, node=f"{name}Backward", forward=None,
                     backward=lambda *a: _function_backward(*a), inputs=("input",))


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `apply`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        if STATE.trace is not None:
            STATE.trace.unsupported(f"the custom Function {cls.__name__}")
        ctx = FunctionCtx()
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        ctx._tensor_mask = tuple(isinstance(a, Tensor) for a in args)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        recording = STATE.grad_enabled and any(t._rg for t in tensors)
        if not recording:
            return result
        rec = _record(cls._op, tensors, (ctx, cls))
        ctx._rec = rec
        # saved values live on the record, so the engine version-checks and frees them
        rec.saved = _saved_entries(ctx, outputs)
        outs = []
        final = []
        for i, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                final.append(o)
                continue
            if any(o is d for d in ctx._dirty):
                if o._rec is None and o._rg:
                    raise RuntimeError(
                        "a leaf Variable that requires grad has been used in an in-place operation.")
            elif any(o is t for t in tensors):
                o = _wrap(o._arr(), vc=o._vc, base=o._base or o)  # an input returned as is
            differentiable = o._data.dtype.kind in "fc" and not any(o is n for n in ctx._non_diff)
            if differentiable:
                o._rec, o._idx, o._rg = rec, i, True
            else:
                o._rg = False
            outs.append(o)
            final.append(o)
        rec.outs = tuple(weakref.ref(o) if isinstance(o, Tensor) else _dead for o in final)
        TAPE.append(rec)
        return final[0] if single else tuple(final)


def _dead():  # stands for a non-tensor output in Record.outs
    return None


def _saved_entries(ctx, outputs):
    entries = []
    for t in ctx._to_save:
        if t is None:
            entries.append(None)
            continue
        idx = next((i for i, o in enumerate(outputs) if o is t), -1)
        if idx >= 0:  # saving an output: keep its array, not the tensor (no reference cycle)
            entries.append((t._arr(), t._vc, t._vc[0]))
        else:
            entries.append((t, t._vc, t._vc[0]))
    ctx._to_save = ()
    return tuple(entries)


def _function_backward(F, rec, g, *saved):
    ctx, cls = rec.params
    grads = g if isinstance(g, tuple) else (g,)
    create = STATE.grad_enabled
    # saved inputs come back as the very tensors saved; saved outputs as tensors again
    ctx._unpacked = tuple(
        None if v is None else v if isinstance(v, Tensor) else
        e[0] if isinstance(e[0], Tensor) else _wrap(v, vc=e[1])
        for v, e in zip(saved, rec.saved))
    tensors = []
    for i, gi in enumerate(grads):
        if gi is None and ctx.materialize_grads:
            o = rec.outs[i]() if i < len(rec.outs) else None
            shape, dt = (o._data.shape, o._data.dtype) if o is not None else ((), np.float32)
            gi = np.zeros(shape, dtype=dt)
        tensors.append(gi if gi is None or isinstance(gi, Tensor) else _wrap(gi))
    try:
        out = cls.backward(ctx, *tensors)
    finally:
        ctx._unpacked = None
    if not isinstance(out, tuple):
        out = (out,)
    n_args = len(ctx.needs_input_grad)
    if len(out) < n_args:
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                           f"gradients (expected {n_args}, got {len(out)})")
    # keep the gradients of tensor arguments only, in the order of the record's inputs
    tensor_grads = [gi for gi, is_tensor in zip(out, ctx._tensor_mask) if is_tensor]
    result = []
    for gi in tensor_grads:
        if gi is None:
            result.append(None)
        elif create:
            result.append(gi if isinstance(gi, Tensor) else _wrap(np.asarray(gi)))
        else:
            result.append(gi._data if isinstance(gi, Tensor) else np.asarray(gi))
    return tuple(result)


def once_differentiable(fn):
    """Marks a backward that cannot itself be differentiated: it runs without recording."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            grads = tuple(g.detach() if isinstance(g, Tensor) else g for g in grads)
            return fn(ctx, *grads)

    return wrapper
