"""The graph view: torch-shaped `Node` objects reconstructed from records.

`tensor.grad_fn` is a `Node` made from the tensor's record the first time it is asked for
and cached (weakly) on the record, so `e.grad_fn.next_functions[0][0] is c.grad_fn` holds.
Its class is named after torch's node (`MulBackward0`); `next_functions` is read off the
record's inputs. `AccumulateGrad` is more than a view: it is the sink of a leaf's
gradient during playback, one per leaf, shared by every record that uses the leaf.
"""

from __future__ import annotations

import re
import weakref

import numpy as np

from .recording import FREED, Record, extras, next_position

_new = object.__new__


class Node:
    """A backward node, as torch shows it. Subclassed per torch node name."""

    __slots__ = ("_rec", "__weakref__")

    def __init__(self, rec: Record):
        self._rec = rec

    def name(self) -> str:
        return torch_name(type(self).__name__)

    @property
    def next_functions(self) -> tuple:
        rec = self._rec
        return tuple((None, 0) if n is None else (_view_of(n), i)
                     for n, i in zip(rec.inputs, rec.input_idx))

    @property
    def metadata(self) -> dict:
        return extras(self._rec).metadata

    @property
    def position(self) -> int:
        """This node's position on the tape (tape's own; torch has none)."""
        return self._rec.pos

    def _sequence_nr(self) -> int:
        """torch's order of creation: here the tape position (the numbers differ from
        torch's per-thread count, the order is the same)."""
        return self._rec.pos

    @property
    def record(self) -> Record:
        return self._rec

    def register_hook(self, fn):
        """`fn(grad_inputs, grad_outputs)` after this node runs; may return new grad_inputs."""
        from .hooks import add_hook

        return add_hook(extras(self._rec).post_hooks, fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` before this node runs; may return new grad_outputs."""
        from .hooks import add_hook

        return add_hook(extras(self._rec).pre_hooks, fn)

    def __call__(self, *grads):
        from .engine import call_node

        return call_node(self._rec, grads)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __dir__(self):
        """The attributes, the `_saved_<name>` values this node has among them, as torch lists them."""
        names = set(super().__dir__())
        op = self._rec.op if self._rec is not None else None
        if op is not None:
            names.update(f"_saved_{n}" for n in (*op.saved_names, *op.param_names,
                                                  *(op.saved_attrs or ())) if n)
        return sorted(names)


class RecordNode(Node):
    """The node of a record (every node but a leaf's AccumulateGrad): torch's attributes
    that are read off the record. (__getattr__ lives here, not on Node: a class with one
    takes the slow attribute path for every attribute, and playback reads AccumulateGrad's
    on every gradient sent to a leaf.)"""

    __slots__ = ()

    def __getattr__(self, name: str):
        # saved values under torch's names: _saved_self, _saved_other, _saved_result, ...
        if name.startswith("_saved_"):
            return _saved_value(self._rec, name[len("_saved_"):])
        # a custom Function's node is its ctx in torch: needs_input_grad, saved_tensors and
        # what forward set on ctx read through it
        params = self._rec.params if self._rec is not None else ()
        if params and getattr(params[0], "is_function_ctx", False) and not name.startswith("__"):
            try:
                return getattr(params[0], name)
            except AttributeError:
                pass
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _saved_value(rec: Record, name: str):
    """A saved value by torch's name, or a non-tensor argument the op was called with."""
    from .engine import second_time_error, unpack_saved

    op = rec.op
    attrs = op.saved_attrs
    if attrs and name in attrs:
        value = op.shown(name, attrs[name](rec))
        if type(value) is tuple and any(isinstance(v, np.ndarray) for v in value):
            from .tensor import _wrap  # index arrays among them (`_saved_indices`): tensors

            value = tuple(_wrap(v) if isinstance(v, np.ndarray) else v for v in value)
        return value
    names = rec.op.saved_names
    if name in names:
        if rec.saved is FREED:
            raise second_time_error()
        i = names.index(name)
        entry = rec.saved_entries()[i]
        if entry is None:
            return None
        value = unpack_saved(rec, entry, i, as_tensor=True)
        if isinstance(value, np.ndarray):  # an array operand tape made (dropout's mask): a
            from .tensor import _wrap  # tensor in torch, as every saved value there

            return _wrap(value)
        # a Python number given where torch's op takes a tensor (x * 3): torch saves it as
        # a wrapped-number 0-d tensor, of dtype int64, float64 or bool
        return _wrapped_number(value) if isinstance(value, (bool, int, float)) else value
    if name in rec.op.param_names:  # data the op keeps as a parameter (where's condition)
        from .tensor import _wrap

        value = rec.params[rec.op.param_names.index(name)]
        return _wrap(np.asarray(value)) if isinstance(value, (np.ndarray, np.generic)) else \
            op.shown(name, value)
    raise AttributeError(f"'{rec.op.node}' object has no attribute '_saved_{name}'")


def _wrapped_number(value):
    from .tensor import _wrap

    kind = np.bool_ if isinstance(value, bool) else np.int64 if isinstance(value, int) else np.float64
    return _wrap(np.array(value, dtype=kind))


_CLASSES: dict[tuple, type] = {}


class BackwardCFunction(RecordNode):
    """The node of a custom Function's record, as torch's class of this name (whose node is
    the ctx itself; this one reads through to the ctx, see RecordNode.__getattr__)."""

    __slots__ = ()

    @property
    def _forward_cls(self):
        return self._rec.params[1]

    def apply(self, *grads):
        """The Function's own backward, called with these gradients: its result as it
        returns it (Nones included), as torch's BackwardCFunction.apply."""
        from .quiet import as_user

        ctx, cls = self._rec.params
        return as_user(cls.backward, ctx, *grads)

    def __call__(self, *grads):  # torch's C++ nodes are callable; a Function's node is not
        raise TypeError(f"'{type(self).__name__}' object is not callable")


def node_class(name: str, base: type = None) -> type:
    """The `base` subclass named `name` (one class per torch node name); base: RecordNode."""
    base = base or RecordNode
    cls = _CLASSES.get((name, base))
    if cls is None:
        cls = _CLASSES[name, base] = type(name, (base,), {"__slots__": ()})
    return cls


def node_of(rec: Record) -> Node:
    ref = rec.node
    node = ref() if ref is not None else None
    if node is None:
        params = rec.params
        custom = params and getattr(params[0], "is_function_ctx", False)
        node = node_class(rec.op.node, BackwardCFunction if custom else RecordNode)(rec)
        rec.node = weakref.ref(node)
    return node


def _view_of(target):
    return node_of(target) if type(target) is Record else target


class AccumulateGrad(Node):
    """The gradient sink of one leaf; `variable` is the leaf. (accumulate_grad builds it
    without calling __init__: a new field is set there too.)"""

    __slots__ = ("variable", "pos", "extra")
    outs = ()  # it makes no tensor: in playback it has one gradient slot, as a one-output record

    def __init__(self, leaf):
        self.variable = leaf
        self.pos = next_position()
        self.extra = None
        self._rec = None

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # torch's name() (its C++ class name)

    @property
    def next_functions(self) -> tuple:
        return ()

    @property
    def metadata(self) -> dict:
        return _own_extras(self).metadata

    @property
    def position(self) -> int:
        return self.pos

    def _sequence_nr(self) -> int:
        return 2 ** 64 - 1  # torch's: a leaf's sink runs as soon as it is ready

    def register_hook(self, fn):
        from .hooks import add_hook

        return add_hook(_own_extras(self).post_hooks, fn)

    def register_prehook(self, fn):
        from .hooks import add_hook

        return add_hook(_own_extras(self).pre_hooks, fn)


class KeptSinks:
    """The AccumulateGrads one tape.compile plan keeps alive between its calls (NOTE [kept
    sinks])."""

    __slots__ = ("accs", "__weakref__")

    def __init__(self):
        self.accs = []


_KEPT: weakref.WeakSet = weakref.WeakSet()


def kept_sinks() -> KeptSinks:
    kept = KeptSinks()
    _KEPT.add(kept)
    return kept


def _own_extras(acc: AccumulateGrad):
    """The sink's extras, for a hook or metadata about to be added: from then on it lives
    only as long as a graph or the user holds it, as torch's (NOTE [kept sinks])."""
    if acc.extra is None:
        for kept in list(_KEPT):
            if any(a is acc for a in kept.accs):
                kept.accs = [a for a in kept.accs if a is not acc]
    return extras(acc)


# NOTE [kept sinks]
# A leaf's AccumulateGrad lives while a graph holds it (the leaf holds it weakly, as
# torch's does), so a training loop makes one per parameter per step, and a compiled
# function's call spent ~5 µs of W2's step making its six and finding them again
# (engine.edges_of). A plan keeps the ones its last call used instead. That is only
# visible through what a sink carries from one graph to the next: hooks and metadata.
# So a sink leaves every plan's keeping the moment it gets either (_own_extras), and
# from then on lives exactly as long as torch's would. The plan keeps the leaf alive
# too (a sink holds its leaf, as torch's does) until its next call, or until it dies.


def accumulate_grad(leaf) -> AccumulateGrad | None:
    """The leaf's AccumulateGrad: one object while any record uses it (weakly cached); None
    for a view made under no_grad, whose gradients go nowhere (TensorExtras.no_grad_view)."""
    x = leaf._x
    if x is not None:
        if x.acc is not None:  # every recorded op with a leaf input asks
            acc = x.acc()
            if acc is not None:
                return acc
        if x.no_grad_view:
            return None
    acc = _new(AccumulateGrad)  # AccumulateGrad(leaf) without the __init__ call: once per leaf per graph
    acc.variable, acc.pos, acc.extra, acc._rec = leaf, next_position(), None, None
    (leaf._extras() if x is None else x).acc = weakref.ref(acc)
    return acc


_SUFFIX = re.compile(r"Backward\d*$")


# torch's few hand-written nodes: their name() is the C++ class's
_CPP_NODES = frozenset({"CopySlices", "CopyBackwards", "Error", "NotImplemented"})


def torch_name(node_name: str) -> str:
    """What torch's Node.name() gives for a node of this class name."""
    return f"torch::autograd::{node_name}" if node_name in _CPP_NODES else node_name


def short_name(node_name: str) -> str:
    """"MulBackward0" -> "Mul", as torch names a node in its messages (its name() without the
    suffix: CopySlices is "torch::autograd::CopySlices")."""
    return _SUFFIX.sub("", torch_name(node_name))
