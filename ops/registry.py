"""The op table: every differentiable primitive is one `Op`, registered here.

An `Op` is pure numpy: a forward on arrays, the names of the values its backward needs,
and a backward rule written against a namespace `F` of primitives (see `ops.prims`), so the
same rule runs on raw arrays (fast path) and on tape tensors (when the backward is itself
recorded, for higher-order gradients). Nothing here knows about tensors or the tape; the
engine (`tape/`) calls `forward`, records what `saves` names, and calls `backward`.

The torch-shaped functions users call (`tape.sum(x, dim=1)`, `x.sum(1)`, `x * y`) are
registered with `@function`; they pick the overload and call `call(op, inputs, params)`,
which the engine binds at import time.
"""

from __future__ import annotations

import functools
import inspect
import os
import types
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from .dims import GivenInt, GivenTuple
from .dtypes import can_cast


@attrs.frozen(kw_only=True, eq=False)  # eq=False: hashed by identity, cheap dict keys
class Op:
    """One primitive: forward on numpy values, what it saves, and its backward rule.

    backward(F, ctx, grad, *saved) -> one gradient (or None) per input in `inputs`.
    `grad` is the output's gradient, or a tuple of them (None where none arrived) when the
    op has several outputs. `saved` follows the order of `saves`; a value whose gradients
    are not needed was not saved and is None. `ctx.needs[i]` says whether input i needs a
    gradient, `ctx.params` holds the op's non-tensor arguments, `ctx.shapes[i]` and
    `ctx.dtypes[i]` describe input i. Gradients may keep the broadcast shape: the engine
    reduces them to each input's shape once (STYLE lesson 5).
    """

    name: str  # torch's function name (several overloads may share it)
    node: str  # torch's backward node class name, e.g. "MulBackward0"
    forward: Callable[..., Any]
    backward: Callable[..., tuple] | None = None  # None: outputs never require grad
    inputs: tuple[str, ...] = ("self",)  # tensor inputs, named as torch names them
    # (name, input indices whose gradient needs it); name is an input or "result"
    saves: tuple[tuple[str, tuple[int, ...]], ...] = ()
    outputs: int = 1
    view: bool = False  # outputs are views of input 0: same storage and version counter
    # names of the non-tensor params, for Node._saved_<name> (e.g. where's condition); None
    # for one torch's node does not keep (a reduction's dtype)
    param_names: tuple[str | None, ...] = ()
    # which outputs may carry a gradient (e.g. max's values yes, its indices no)
    differentiable_outputs: tuple[int, ...] | None = None
    # {params: numpy callable on the tensor inputs alone}: forward's exact result for those
    # params when every input already has the result's floating dtype (tape.compile binds it
    # after checking it against the recorded result)
    kernel: dict | None = None
    # derive(input arrays, params) -> params: the values forward and backward need that are
    # computed from tensor data (nll_loss's picked classes, from the target's values). The
    # engine calls it before forward; tape.compile calls it again on every replay, where a
    # value the Python wrapper computed would be stale (NOTE [values computed outside ops])
    derive: Callable[..., tuple] | None = None
    # input indices that may be None: an absent optional tensor (clamp's min or max)
    optional: tuple[int, ...] = ()
    # in place, call_inplace does not check its tensor operands for memory shared with the
    # target: torch reads them as numbers first (fill_'s and masked_fill_'s 0-d value), or
    # the op's wrapper applies its own rules (index_put_). Other in-place ops refuse an
    # operand overlapping the target in part (NOTE [memory overlap] in tape/views.py)
    skip_overlap_check: bool = False
    # in place, it may write a tensor that repeats an element (an expand()ed one): zero_,
    # fill_ with a number, masked_fill_, index_put_, as torch; other in-place ops refuse one
    writes_repeated: bool = False
    # torch's other Node._saved_<name> values, each computed from the record (as a backward
    # rule's ctx: params, input shapes, needs, saved values): what a param means to torch
    # when it is not the param itself (see `self_sizes`)
    saved_attrs: dict | None = None
    # rule_form(inputs, params) -> result, or None: how this op is recorded from one of ops'
    # own backward rules being recorded, where torch's C++ formula calls another overload
    # (NOTE [rule scalars] in tape/engine.py); None: as usual. Set with `rule_form`
    rule_form: Callable[..., Any] | None = None
    # the rule reads what was saved itself, when it asks (a custom Function's
    # ctx.saved_tensors): a record whose saved values were freed still runs, and only
    # that read raises torch's "backward through the graph a second time"
    reads_saved_itself: bool = False
    # torch's formula computes every input's gradient, needed or not (cat's and stack's
    # list): a post-hook on the node sees them all, where for other ops it sees None
    grads_all_inputs: bool = False

    # (input index, or -1 for the result; input indices whose gradient needs it), from saves
    save_plan: tuple = attrs.field(init=False, repr=False)
    saves_result: bool = attrs.field(init=False, repr=False)
    save_masks: dict = attrs.field(init=False, repr=False)  # needs -> save_mask(needs)
    save_recipes: dict = attrs.field(init=False, repr=False)  # needs -> save_recipe(needs)
    save_all: tuple = attrs.field(init=False, repr=False)  # save_recipe when every input needs
    direct: bool = attrs.field(init=False, repr=False)  # no view, no derive: the hot path
    single: bool = attrs.field(init=False, repr=False)  # one output, not a view (ditto)
    # save_all is every input, in order (mul's self and other): the hot path saves them at once
    saves_inputs: bool = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self):
        plan = tuple((-1 if name == "result" else self.inputs.index(name), tuple(which))
                     for name, which in self.saves)
        object.__setattr__(self, "save_plan", plan)
        object.__setattr__(self, "saves_result", any(i < 0 for i, _ in plan))
        object.__setattr__(self, "save_masks", {})
        object.__setattr__(self, "save_recipes", {})
        object.__setattr__(self, "save_all", self.save_recipe((True,) * len(self.inputs)))
        object.__setattr__(self, "saves_inputs", self.save_all == tuple(range(len(self.inputs))))
        object.__setattr__(self, "direct", not self.view and self.derive is None)
        object.__setattr__(self, "single", self.outputs == 1 and not self.view)

    def save_mask(self, needs: tuple) -> tuple:
        """Per save_plan entry: is it saved, given which inputs need a gradient (cached)."""
        mask = self.save_masks.get(needs)
        if mask is None:
            mask = self.save_masks[needs] = tuple(
                any(needs[w] for w in which) for _, which in self.save_plan)
        return mask

    def save_recipe(self, needs: tuple) -> tuple:
        """Per save_plan entry, what the engine's hot path saves given `needs`: the input
        index, -1 for the result, or None for nothing (cached)."""
        recipe = self.save_recipes.get(needs)
        if recipe is None:
            recipe = self.save_recipes[needs] = tuple(
                i if m else None for (i, _), m in zip(self.save_plan, self.save_mask(needs)))
        return recipe

    @property
    def saved_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.saves)

    @staticmethod
    def shown(name: str, value):
        """A param or saved attribute as torch's node shows it under `_saved_<name>`: as the
        caller gave it (NOTE [arguments as given] in ops/dims.py), an int64 one unsigned."""
        if type(value) is GivenInt or type(value) is GivenTuple:
            value = value.given
        if name in INT64_ATTRS:
            value = _unsigned(value)
        return value


# NOTE [unsigned saved ints]
# torch's Python getters of a node's int64 attributes (dims, indices, sizes, slice bounds,
# ignore_index) convert through an unsigned 64-bit integer, so a negative value reads as
# 2**64 + value: `x.sum(-1).grad_fn._saved_dim` is (18446744073709551615,), and
# `_saved_ignore_index` of nll_loss's default -100 is 18446744073709551516. tape shows
# them alike. Scalar attributes (alpha, min, max, exponent) read as the numbers they are.
INT64_ATTRS = frozenset({"dim", "dims", "dim0", "dim1", "index", "ignore_index", "start",
                         "end", "step", "split_size", "split_sizes"})


def _unsigned(value):
    if type(value) is int:
        return value + 2 ** 64 if value < 0 else value
    if type(value) is tuple:
        return tuple(_unsigned(v) for v in value)
    return value


OPS: dict[str, Op] = {}  # node name -> Op
FUNCTIONS: dict[str, Callable] = {}  # torch function name -> implementation
METHODS: dict[str, Callable] = {}  # Tensor method / operator name -> implementation
# other torch namespaces: "nn.functional" -> {name: implementation}
NAMESPACES: dict[str, dict[str, Callable]] = {"nn.functional": {}}


def op(name: str, node: str, forward: Callable, backward: Callable | None = None, **kw) -> Op:
    """Register one primitive under its node name (node names are unique, as in torch)."""
    if node in OPS:
        raise ValueError(f"op node {node!r} is registered twice")
    new = Op(name=name, node=node, forward=forward, backward=backward, **kw)
    OPS[node] = new
    return new


def rule_form(op: Op, form) -> None:
    """Set `op.rule_form` (the ops are frozen once made; the form often names a later op)."""
    object.__setattr__(op, "rule_form", form)


# torch's argument parser takes numpy's names too: x.sum(axis=1, keepdims=True)
_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def _takes_dims(fn) -> bool:
    """Has `fn` a `dim` or `keepdim` parameter (so it takes numpy's names for them too)?"""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "dim" in params or "keepdim" in params


def _with_numpy_names(fn, name: str, method: bool = False):
    """`fn` taking `axis=` for its `dim` and `keepdims=` for its `keepdim`, as torch's
    bindings do, and with _with_argument_errors' TypeError (this wrapper takes *args and
    **kwargs, to rename them, so it checks arguments in the same frame)."""
    @functools.wraps(fn)
    def with_numpy_names(*args, **kw):
        if kw and ("axis" in kw or "keepdims" in kw):
            for numpy_name, torch_name in _NUMPY_NAMES.items():
                if numpy_name in kw:
                    if torch_name in kw:  # (torch's words)
                        raise TypeError(f"{name}() got an unexpected keyword argument '{numpy_name}'")
                    kw[torch_name] = kw.pop(numpy_name)
        try:
            return fn(*args, **kw)
        except AttributeError as exc:
            try:
                given = inspect.signature(fn).bind_partial(*args, **kw).arguments
            except TypeError:
                raise exc from None
            _argument_error(exc, fn, name, method, given)
            raise
        except TypeError as exc:
            if exc.__traceback__.tb_next is None:  # binding fn's parameters: Python named fn
                raise TypeError(str(exc).replace(f"{fn.__qualname__}()", f"{name}()", 1)) from None
            raise

    return _named(with_numpy_names, name)


def function(*names: str, methods: tuple[str, ...] | str = (), module: bool = True,
             namespace: str = ""):
    """Register a torch-shaped function as `tape.NAME` (or `tape.<namespace>.NAME`, e.g.
    namespace="nn.functional") and as the Tensor methods named."""
    if isinstance(methods, str):
        methods = (methods,)
    table = NAMESPACES.setdefault(namespace, {}) if namespace else FUNCTIONS

    def register(fn):
        name = (names or methods)[0]
        # torch's own bindings (not nn.functional's Python functions) take numpy's names too
        wrap = _with_numpy_names if not namespace and _takes_dims(fn) else _with_argument_errors
        for n in names if module else ():
            table[n] = wrap(fn, name)
        if methods:
            as_method = wrap(fn, name, method=True)
            for m in methods:  # (operators give way instead: NOTE [operators give way])
                METHODS[m] = fn if m.startswith("__") and wrap is _with_argument_errors else as_method
        return fn  # ops' own calls to each other skip the public wrappers

    return register


def _with_argument_errors(fn, name: str, method: bool = False):
    """`fn` behind a wrapper of the same signature that turns the AttributeError a
    non-tensor argument raises inside (a list where a tensor belongs: 'list' object has no
    attribute 'ndim') into torch's TypeError naming that argument (operand_error; a method
    counts positions after self). Generated with fn's own parameters, so a call costs one
    plain frame (a *args, **kwargs wrapper cost W1 ~5%); the try costs nothing until it
    catches."""
    if not isinstance(fn, types.FunctionType) or _thin(fn):  # (a property, say; or a thin
        return fn  # call of one op, whose operands the engine checks: W1's sin and tanh)
    params = list(inspect.signature(fn).parameters.values())
    defs, call_args, ns = [], [], {"_fn": fn, "_name": name, "_method": method,
                                   "_raise": _argument_error}
    star = False
    for i, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL:
            defs.append(f"*{p.name}")
            call_args.append(f"*{p.name}")
            star = True
            continue
        if p.kind is p.VAR_KEYWORD:
            defs.append(f"**{p.name}")
            call_args.append(f"**{p.name}")
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            defs.append("*")
            star = True
        default = ""
        if p.default is not p.empty:
            ns[f"_d{i}"] = p.default
            default = f"=_d{i}"
        defs.append(f"{p.name}{default}")
        call_args.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
    src = (f"def checked({', '.join(defs)}):\n"
           f"    try:\n        return _fn({', '.join(call_args)})\n"
           f"    except AttributeError as exc:\n        _raise(exc, _fn, _name, _method, locals())\n"
           f"        raise\n")
    # (a file name inside ops/: anomaly mode's stacks and tracebacks treat the frame as tape's)
    where = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"<argument check of {name}>")
    exec(compile(src, where, "exec"), ns)  # noqa: S102 - our own source
    return _named(functools.wraps(fn)(ns["checked"]), name)


def _named(wrapper, name: str):
    """The public wrapper under torch's name, which Python's own argument errors then say
    ("reshape() takes 2 positional arguments"), whatever tape calls the function inside."""
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _thin(fn) -> bool:
    """Does `fn` only hand its arguments to `call(OP, ...)` (its names: call and ops, no
    attribute read)? Then the engine checks them, with torch's TypeError (operand_error)."""
    g = fn.__globals__
    return all(n == "call" or isinstance(g.get(n), Op) for n in fn.__code__.co_names)


def _argument_error(exc, fn, name, method, given) -> None:
    """Raise torch's TypeError if the AttributeError `exc` was about a non-tensor argument
    (one of `given`, fn's parameters by name); return otherwise (the caller re-raises)."""
    obj = getattr(exc, "obj", exc)
    if hasattr(obj, "_data"):
        return
    position = 0
    for p in inspect.signature(fn).parameters.values():
        values = given.get(p.name, ())
        if p.kind is p.VAR_POSITIONAL:
            for v in values:
                position += 1
                if v is obj:
                    raise operand_error(name, "input", position - method, v) from None
            continue
        if p.kind is p.VAR_KEYWORD:
            for k, v in dict(values).items():
                if v is obj:
                    raise operand_error(name, k, position + 1 - method, v) from None
            continue
        position += 1
        if p.name in given and given[p.name] is obj:
            raise operand_error(name, p.name, position - method, obj) from None


def self_sizes(ctx) -> tuple:
    """Node._saved_self_sym_sizes: the input's shape (Op.saved_attrs)."""
    return tuple(ctx.shapes[0])


# what a torch function takes where it takes a Tensor or a Number (numpy's scalars count as
# numbers, arrays as tensors)
NUMBERS = (bool, int, float, np.bool_, np.number)


def operand_error(fn: str, arg: str, position: int, x) -> TypeError:
    """torch's argument-parser error for a value a function cannot take. Raised before
    anything runs; a Tensor operator turns it into NotImplemented (NOTE [operators give way])."""
    kind = type(x).__name__
    if type(x).__module__ == "numpy":  # torch names a numpy scalar's type in full
        kind = f"numpy.{kind}"
    return TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Tensor, not {kind}")


def tensor_list(tensors) -> tuple:
    """A list of tensors argument (cat's, stack's) as a tuple, with torch's error for an
    element that is not a tensor."""
    tensors = tuple(tensors)
    for i, t in enumerate(tensors):
        if not hasattr(t, "_data"):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def check_operands(fn: str, numbers: bool, **named) -> None:
    """Each named value must be a tensor (or, with `numbers`, a number or a numpy array), in
    argument order; the first is position 1, called 'input' as torch calls it."""
    for position, (arg, x) in enumerate(named.items(), 1):
        if not (hasattr(x, "_data") or (numbers and isinstance(x, (*NUMBERS, np.ndarray)))):
            raise operand_error(fn, arg, position, x)


# ---------------------------------------------------------------------------------------
# Bound by the engine when `tape` is imported (ops must not import the engine).


def call(op: Op, inputs: tuple, params: tuple = ()):
    """Apply `op` to tensors (or numbers); the engine records it when a gradient is needed."""
    return _engine.call(op, inputs, params)


def check_out(name: str, out, inputs=()) -> None:
    """torch's refusals of `out=` (before anything is computed or recorded): not a tensor, or
    a call whose gradient would be needed (out= is never differentiated)."""
    if not hasattr(out, "_data"):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _engine.STATE.grad_enabled and (out._rg or any(getattr(t, "_rg", False) for t in inputs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


def write_out(name: str, out, result):
    """torch's `out=`: `result` written into the tensor `out` (resized to it, in out's dtype
    where torch casts), which is what the call returns, one version later."""
    check_out(name, out)
    value = np.asarray(result._data)
    if not can_cast(value.dtype, out._data.dtype):
        from .._dtypes import from_np

        raise RuntimeError(f"result type {from_np(value.dtype).torch_name} can't be cast to the desired "
                           f"output type {from_np(out._data.dtype).torch_name}")
    out._data = value.astype(out._data.dtype, copy=True)
    out._vc[0] += 1
    return out


def call_inplace(op: Op, self, others: tuple, params: tuple = ()):
    """Apply `op` and write the result into `self` (bumping its version)."""
    return _engine.call_inplace(op, self, others, params)


def check_inplace(self) -> None:
    """Raise now what writing into `self` would raise (a leaf that requires grad, an inference
    tensor...): for an in-place op whose own argument checks torch runs after these."""
    _engine.check_inplace(self)


def watch_params(out, *named, old=None):
    """`out`, whose record checks that the tensors its op took as params ((name, tensor)
    pairs: an index, a mask, class weights) are unchanged when its rule runs, as torch's
    saved tensors are (engine.watch_params). `old`: the record an in-place op's target had
    before; when the call recorded nothing, `out` still has it, and nothing is watched."""
    if out._rec is not old:
        _engine.watch_params(out, [(n, t) for n, t in named if hasattr(t, "_vc")])
    return out


def contiguous_result(forward):
    """`forward` with its array result made C-contiguous: torch's reductions, softmax,
    cumsum and indexing allocate a contiguous output, where numpy keeps the input's layout
    (a sum over a permuted tensor). The layout decides whether a later reshape or flatten
    is a view (and an in-place write through it shows) or a copy, and its node's name."""
    @functools.wraps(forward)
    def contiguous(*args):
        out = forward(*args)
        return out if type(out) is not np.ndarray or out.flags.c_contiguous else np.ascontiguousarray(out)
    return contiguous


def grad_enabled() -> bool:
    """Is grad mode on in this thread (outside inference mode)?"""
    return _engine.STATE.grad_enabled and not _engine.STATE.inference


def param_array(t):
    """`t._data` for a tensor an op takes as a parameter, not as an input edge (nll_loss's
    target and class weights): through this, tape.compile knows the array is that tensor's
    and reads it afresh on every replay (NOTE [values computed outside ops])."""
    return _engine.param_array(t)


def in_recorded_rule() -> bool:
    """Is one of ops' own backward rules being recorded in this thread (NOTE [rule
    scalars] in tape/engine.py)? Rules' reflected arithmetic asks (`1 - s`)."""
    return _engine.in_recorded_rule()


class _Unbound:
    def __getattr__(self, name):
        raise RuntimeError("tape.ops is used through `import tape`; the engine is not loaded")


_engine: Any = _Unbound()


def bind_engine(engine) -> None:
    """Called by tape before the op families are imported: `call` and `call_inplace` become
    the engine's own functions (families import them from here)."""
    global _engine, call, call_inplace, param_array, in_recorded_rule, check_inplace
    _engine = engine
    call, call_inplace, param_array = engine.call, engine.call_inplace, engine.param_array
    check_inplace = engine.check_inplace
    in_recorded_rule = engine.in_recorded_rule
