"""What crosses the boundary of a tape.compile'd function: its arguments, keyed and
flattened into a plan's (NOTE [arguments in containers]), and its results, flattened,
rebuilt and checked for aliases (NOTE [results that alias]). tape/compiled.py records and
replays what happens inside."""

from __future__ import annotations

import inspect

import numpy as np

from .grad_mode import INFERENCE_ENTERED, STATE
from .ops.dtypes import DEFAULT_FLOAT
from .python_guards import guardable_scalar, value_key
from .tensor import Tensor


class Unsupported(Exception):
    """Something fn does that a replayed plan cannot express: fn then runs eagerly."""


CONTAINERS = (list, tuple, dict)  # what a call's arguments are flattened through


def plan_key(args) -> tuple | None:
    """What a plan is for: grad mode (inference mode when it is off), the default
    dtype (Python floats and factories follow it), and per argument its shape, dtype,
    strides (a view, a reshape and contiguous() plan differently on another layout),
    requires_grad and whether it is a leaf (`if x.is_leaf:`), or the type and value of a
    non-tensor (hashed by the caller's lookup); None when an argument is a container."""
    key = [STATE.grad_enabled or (False, STATE.inference), DEFAULT_FLOAT[0]]
    inference = INFERENCE_ENTERED[0]  # (then an inference tensor is another plan: eager raises)
    for a in args:
        if type(a) is Tensor or isinstance(a, Tensor):
            d = a._data
            key.append((d.shape, d.dtype, d.strides, a._rg, a._rec is None) if not inference else
                       (d.shape, d.dtype, d.strides, a._rg, a._rec is None, a.is_inference()))
        elif type(a) in CONTAINERS:
            return None  # flattened first (NOTE [arguments in containers])
        else:
            key.append(_value_or_identity(a))
    return tuple(key)


def _value_or_identity(a):
    """A non-tensor argument in a plan's key. A number, string or tuple of them by type and
    value (2 == 2.0 == True, but an int tensor times each differs; -0.0 == 0.0, but not
    1 / each: python_guards.value_key); a slice by its bounds alike. Anything else (a model,
    a config object) by identity: the guards on the attributes the function reads are the
    recorded object's, and an equal object (its __eq__ may skip a field, or compare 1 with
    1.0) is not the same one. A numpy array stays unhashable: no plan can be keyed on it."""
    if guardable_scalar(a) or (isinstance(a, tuple) and all(map(guardable_scalar, a))):
        return value_key(a)
    t = type(a)
    if t is slice:
        return t, value_key((a.start, a.stop, a.step))
    if t is np.ndarray:
        return t, a
    return t, _Identity(a)


class _Identity:
    """Hashed and compared by the object's identity (and keeping it alive, so its id is not
    reused while a plan is keyed on it)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other) -> bool:
        return type(other) is _Identity and other.obj is self.obj


def takes_var_keywords(fn) -> bool:
    """Does `fn` take **kwargs (so it may see the order keyword arguments come in)?"""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # (no signature to read: assume it may)
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def flattened_call(fn, args: tuple, kwargs: dict, ordered: bool = True):
    """(plan key, the plan's arguments, how to call fn with them, what containers_changed
    takes), for a call plan_key could not key alone.

    NOTE [arguments in containers]
    A plan takes its arguments as a flat tuple. Keyword arguments and lists, tuples and
    dicts of tensors (a parameter list, a batch dict), nested, are flattened into it:
    their tensors become arguments like positional ones (each set of keyword names
    and each shape of containers has plans of its own, so `f(x, scale=2.0)` and
    `f([w1, w2], x)` replay). fn itself is still called with what it was given when
    recording, so it sees the caller's own containers; a function that changes one
    runs eagerly (a replay would not change it)."""
    flat, spec = flatten_call(args, kwargs, ordered)
    return (plan_key(flat) + (spec,), flat, lambda *_: fn(*args, **kwargs),
            (args, kwargs, flat, spec, ordered))


def flatten_call(args: tuple, kwargs: dict, ordered: bool = True):
    """The leaves of a call's arguments (tensors, numbers, anything not a list, tuple or
    dict), and a hashable description of the containers around them. A dict's keys come in
    their own order (fn may iterate over them); keyword arguments too when `ordered` (fn
    takes **kwargs, whose order it sees), else in name order (binding does not depend on it)."""
    leaves: list = []

    def walk(v):
        t = type(v)
        if t is list or t is tuple:
            return (t.__name__, tuple(walk(x) for x in v))
        if t is dict:
            return ("dict", tuple((k, walk(x)) for k, x in v.items()))
        leaves.append(v)
        return None

    names = kwargs if ordered else sorted(kwargs)
    spec = (walk(args), tuple((n, walk(kwargs[n])) for n in names))
    return tuple(leaves), spec


def containers_changed(args, kwargs, flat, spec, ordered) -> bool:
    """Did fn change a container it was given (an append, an item replaced)?"""
    now, now_spec = flatten_call(args, kwargs, ordered)
    return now_spec != spec or any(a is not b for a, b in zip(now, flat))


def flatten_result(result):
    """(the output tensors, what rebuilds the result from a tuple of them: None for a lone
    tensor, the type for a tuple or list of tensors, else a function). Lists, tuples, named
    tuples and dicts of tensors nest; None may stand among them."""
    if isinstance(result, Tensor):
        return [result], None
    if isinstance(result, (tuple, list)) and all(isinstance(r, Tensor) for r in result):
        return list(result), type(result)
    outs: list = []

    def walk(v):
        if isinstance(v, Tensor):
            i = len(outs)
            outs.append(v)
            return lambda o: o[i]
        if v is None:
            return lambda o: None
        t = type(v)
        if t is list or t is tuple:
            parts = [walk(x) for x in v]
            return lambda o: t([p(o) for p in parts])
        if isinstance(v, tuple) and hasattr(t, "_fields"):  # a named tuple
            parts = [walk(x) for x in v]
            return lambda o: t(*[p(o) for p in parts])
        if t is dict:
            items = [(k, walk(x)) for k, x in v.items()]
            return lambda o: {k: p(o) for k, p in items}
        raise Unsupported(f"a result holding a {t.__name__} (tensors, and lists, tuples and "
                           "dicts of them, replay)")

    build = walk(result)
    if not outs:
        raise Unsupported("a result with no tensor in it")
    return outs, build


def check_aliases(trace, outs) -> None:
    """NOTE [results that alias]
    A result that shares memory with an argument, a tensor from outside or another result
    (a view, a detach(), the same tensor twice) is linked to it in eager: an in-place op on
    it changes the other's values and, through the shared base and version counter, its
    history. A replay's results are plain tensors over the same arrays, values only: the
    gradients would come out wrong, so such a function runs eagerly. A view of a value
    made inside the function, which nothing else holds, replays."""
    held = [t._data for t in trace.keep[:trace.n_args]] + [t._data for _, t in trace.outside]
    for i, o in enumerate(outs):
        if any(o is p for p in outs[:i]):  # (0-d too: an in-place op on one is on both)
            raise Unsupported("the same tensor twice among its results")
        d = o._data
        if type(d) is not np.ndarray:  # (a numpy scalar: immutable, shares no memory)
            continue
        if any(type(a) is np.ndarray and np.may_share_memory(d, a) for a in held):
            raise Unsupported("a result that shares memory with an argument, a tensor from "
                               "outside or another result (a view, say)")
        held.append(d)  # (the later results are checked against this one too)
