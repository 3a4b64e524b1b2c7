"""Custom differentiable functions: `tape.autograd.Function`, as torch's.

A Function's `apply` runs `forward` without recording, then appends one record whose op is
made once per Function class (node name `<ClassName>Backward`) and whose rule calls the
user's `backward` with tensors. Under create_graph the user's backward runs with grad mode
on, so a backward written with tape ops is itself differentiable.

NOTE [Function saved tensors]
What `ctx.save_for_backward` names lives on the record (so playback frees it and the
"second time" error fires as for any op), one `_Slot` per tensor. As in torch, each read of
`ctx.saved_tensors` checks the versions and goes through the saved-tensor unpack hook,
and a saved output comes back attached to this node (double backward flows through it).
An output is kept as its array, not as the tensor, so the record does not keep its own
output alive.
"""

from __future__ import annotations

import functools
import warnings
import weakref

import numpy as np

from .engine import _check_inplace_allowed, _inplace_error, _record, _wrap, call, second_time_error
from .grad_mode import STATE, no_grad, untraceable
from .hooks import USER_CODE as _USER_CODE
from .hooks import _Packed, pack_saved
from .hooks import unpack_saved as _unpack_packed
from .ops.registry import Op
from .quiet import as_user
from .recording import FREED, TAPE, flat_saved, pin_output
from .tensor import Tensor


class FunctionCtx:
    """The `ctx` handed to forward and backward (and read through the node, as in torch)."""

    is_function_ctx = True  # what graph.Node looks for (it does not import this module)

    def __init__(self):
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._to_save: tuple = ()
        self._tensor_mask: tuple = ()  # which positional arguments were tensors
        self._dirty: tuple = ()
        self._non_diff: tuple = ()
        self._output_meta: tuple = ()  # per output: (shape, dtype), None for a non-tensor
        self._rec = None

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        rec = self._rec
        if rec is None:  # still in forward (or nothing recorded): nothing saved yet, as torch
            return ()
        if rec.saved is FREED:
            raise second_time_error()
        return tuple(None if e is None else e[0].get(rec, k) for k, e in enumerate(rec.saved_entries()))

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
                     backward=lambda *a: _function_backward(*a), inputs=("input",),
                     reads_saved_itself=True)  # (ctx.saved_tensors)


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `apply`.
    torch 2's other style works too: `forward(*args)` plus `setup_context(ctx, inputs, output)`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all "
                      "static, so you should invoke them on the class itself. Instantiating an autograd "
                      "function will raise an error in a future version of PyTorch.", DeprecationWarning,
                      stacklevel=2)

    def __call__(self, *args, **kwargs):  # torch's old style: Function()(x)
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        untraceable("a custom autograd.Function inside the function")
        ctx = FunctionCtx()
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        ctx._tensor_mask = tuple(isinstance(a, Tensor) for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:
                result = cls.forward(ctx, *args, **kwargs)
            else:  # forward without ctx, then setup_context (torch >= 2.0)
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        for d in ctx._dirty:
            if not any(d is o for o in outputs):
                raise RuntimeError(
                    "Some elements marked as dirty during the forward method were not returned as "
                    "output. The inputs that are modified inplace must all be outputs of the Function.")
            d._vc[0] += 1  # torch bumps the version of what mark_dirty names
            if not any(d is t for t in tensors):
                warnings.warn("ctx.mark_dirty() received a tensor that was not an input. Only input "
                              "Tensors that have been mutated should be passed to ctx.mark_dirty().",
                              UserWarning, stacklevel=2)
        recording = STATE.grad_enabled and not STATE.inference and any(t._rg for t in tensors)
        if not recording:
            return _unrecorded_outputs(result, outputs, tensors, ctx, single)
        for o in outputs:  # (checked before anything changes: an error leaves every tensor as it was)
            if isinstance(o, Tensor) and o._rg and any(o is d for d in ctx._dirty):
                if o._rec is None and o._base is None:
                    raise RuntimeError(
                        "a leaf Variable that requires grad has been used in an in-place operation.")
                _check_inplace_allowed(o)  # a view of a leaf, a view made under no_grad...
        _USER_CODE[0] = True  # its backward is user code
        rec = _record(cls._op, tensors, (ctx, cls))
        final, diff = [], []
        for i, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                final.append(o)
                diff.append(False)
                continue
            marked = any(o is n for n in ctx._non_diff)  # (asked before o may be re-wrapped)
            dirty = any(o is d for d in ctx._dirty)
            if not dirty and any(o is t for t in tensors):
                o = _alias(o)  # an input returned as is: a view of it
            differentiable = o._data.dtype.kind in "fc" and not marked
            if differentiable:
                pin_output(o)  # (NOTE [outputs found when asked])
                o._rec, o._idx, o._rg = rec, i, True
                if o._base is not None and not dirty:
                    # torch refuses it once it, its base or another view of that base is
                    # written in place (engine._stale_view)
                    x = o._extras()
                    x.function_view = True
                    if x.view_version is None:
                        x.view_version = o._vc[0]
            else:
                o._rg = False
                if o._base is not None:
                    o._extras().fixed_view = True
            final.append(o)
            diff.append(differentiable)
        # saved values live on the record, so the engine frees them (NOTE [Function saved tensors])
        rec.saved = _saved_entries(ctx, final, diff)  # (an input returned as is: saved as the input)
        rec.outs = tuple(weakref.ref(o) if isinstance(o, Tensor) else _dead for o in final)
        # each tensor output's shape and dtype: a materialized zero gradient has them, also
        # once the output itself is gone
        ctx._output_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                                 for o in final)
        ctx._rec = rec
        TAPE.append(rec)
        if (len(final) == 1 and diff[0] and final[0]._base is not None
                and any(final[0] is d for d in ctx._dirty)):
            # a view written in place: its base's history is rewritten around this record
            from .views import record_function_on_view

            record_function_on_view(rec, final[0], next(k for k, t in enumerate(tensors) if t is final[0]))
        return final[0] if single else tuple(final)


def _dead():  # stands for a non-tensor output in Record.outs
    return None


def _alias(t: Tensor) -> Tensor:
    """A view of `t` as a whole (torch's view_as(self)): its storage and version counter."""
    return _wrap(t._arr(), vc=t._vc, base=t if t._base is None else t._base)


def _unrecorded_outputs(result, outputs, tensors, ctx, single):
    """apply()'s results when nothing is recorded (no_grad, inference mode, no input that
    requires grad): as torch, an input returned is a new tensor that needs no gradient (its
    alias, or detach()ed when it requires grad), never the input itself with its history."""
    final = []
    for o in outputs:
        if isinstance(o, Tensor) and any(o is t for t in tensors):
            if o._rg:
                o = o.detach()
            elif not any(o is d for d in ctx._dirty):
                o = _alias(o)
        final.append(o)
    if all(a is b for a, b in zip(final, outputs)):
        return result
    return final[0] if single else tuple(final)


class _Slot:
    """One tensor given to save_for_backward (NOTE [Function saved tensors])."""

    __slots__ = ("entry", "output", "differentiable")

    def __init__(self, entry, output: int, differentiable: bool):
        self.entry = entry  # (value or _Packed, version counter, version when saved)
        self.output = output  # which output it is, or -1 for anything else
        self.differentiable = differentiable

    def get(self, rec, k: int):
        value, vc, version = self.entry
        if vc[0] != version:
            raise _inplace_error(rec, value, k, vc[0], version)
        if type(value) is _Packed:
            value = _unpack_packed(rec, value, k, vc, True)
            if self.output < 0:
                return value
            value = value._data
        elif self.output < 0:
            return value
        if self.differentiable:  # a saved output is this node's output again
            return _wrap(value, rec, self.output, True, vc)
        return _wrap(value, vc=vc)


def _saved_entries(ctx, outputs, diff):
    hooks = STATE.saved_hooks
    entries = []
    for t in ctx._to_save:
        if t is None:
            entries.append(None)
            continue
        idx = next((i for i, o in enumerate(outputs) if o is t), -1)
        if hooks:
            entry = pack_saved(hooks[-1], t, t._vc, t._vc[0])
        elif idx >= 0:  # saving an output: keep its array, not the tensor (no reference cycle)
            entry = (t._arr(), t._vc, t._vc[0])
        else:
            entry = (t, t._vc, t._vc[0])
        # (slot, None, 0): the engine passes it through untouched; the slot checks and unpacks
        entries.append((_Slot(entry, idx, idx >= 0 and diff[idx]), None, 0))
    ctx._to_save = ()
    return flat_saved(entries)


def _backward_of(cls):
    """The Function's backward rule: `backward`, or `vjp` (torch's other name for it)."""
    own_backward, own_vjp = cls.backward is not Function.backward, cls.vjp is not Function.vjp
    if own_backward and own_vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                           "allowed. You should only implement one of them.")
    return cls.vjp if own_vjp else cls.backward


def _function_backward(F, rec, g, *saved):
    ctx, cls = rec.params
    grads = g if isinstance(g, tuple) else (g,)
    create = STATE.grad_enabled
    tensors = []
    meta = ctx._output_meta
    for i, gi in enumerate(grads):
        # (a non-tensor output's gradient is None, materialized or not)
        if gi is None and ctx.materialize_grads and i < len(meta) and meta[i] is not None:
            shape, dt = meta[i]
            gi = np.zeros(shape, dtype=dt)
        tensors.append(gi if gi is None or isinstance(gi, Tensor) else _wrap(gi))
    out = as_user(_backward_of(cls), ctx, *tensors)
    if not isinstance(out, tuple):
        out = (out,)
    name = f"{cls.__name__}Backward"
    n_args = len(ctx.needs_input_grad)
    if len(out) != n_args and not (len(out) > n_args and all(x is None for x in out[n_args:])):
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {n_args}, got {len(out)})")
    # keep the gradients of tensor arguments only, in the order of the record's inputs
    result = []
    for pos, (gi, is_tensor) in enumerate(zip(out, ctx._tensor_mask)):
        if not is_tensor:
            if gi is not None:
                raise RuntimeError(f"function {name} returned a gradient different than None at "
                                   f"position {pos + 1}, but the corresponding forward input was "
                                   "not a Variable")
            continue
        j = len(result)
        if gi is None or rec.inputs[j] is None:
            result.append(None)
            continue
        if not isinstance(gi, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(gi).__name__})")
        shape = rec.shapes[j]
        if not _expandable(shape, gi.shape):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {j} - got "
                               f"{list(gi.shape)} but expected shape compatible with {list(shape)}")
        result.append(gi if create else gi._data)
    return tuple(result)


def _expandable(shape, grad_shape) -> bool:
    """torch's is_expandable_to: can a gradient of `grad_shape` be summed to `shape`?"""
    if len(shape) > len(grad_shape):
        return False
    return all(s == g or s == 1 for s, g in zip(reversed(shape), reversed(grad_shape)))


# ---------------------------------------------------------------------------------------
# once_differentiable


def _delayed_error(F, rec, g, *saved):
    raise RuntimeError("trying to differentiate twice a function that was marked with "
                       "@once_differentiable")


_ERROR_OPS: dict[int, Op] = {}


def _error_op(n: int) -> Op:
    """torch's DelayedError: passes its inputs through; its backward node `Error` raises."""
    op = _ERROR_OPS.get(n)
    if op is None:
        op = _ERROR_OPS[n] = Op(
            name="DelayedError", node="Error", outputs=n, backward=_delayed_error,
            forward=(lambda a: a) if n == 1 else (lambda *a: a),
            inputs=tuple(f"input{i}" for i in range(n)))
    return op


def once_differentiable(fn):
    """Marks a backward that cannot itself be differentiated: it runs without recording,
    and (under create_graph) its results carry a node that raises if differentiated."""

    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            outputs = fn(ctx, *args, **kwargs)
        if not STATE.grad_enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        live = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        if not live:
            return outputs
        fakes = tuple(_wrap(outs[i]._arr(), rg=True) for i in live)  # detached, requiring grad
        errs = call(_error_op(len(fakes)), fakes)
        errs = (errs,) if len(fakes) == 1 else errs
        result = list(outs)
        for i, e in zip(live, errs):
            result[i] = e
        return result[0] if single else tuple(result)

    return wrapper
