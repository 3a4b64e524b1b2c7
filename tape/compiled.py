"""`tape.compile(fn)`: torch.compile's contract, kept by replaying a recorded tape.

The first call records every op `fn` runs (all of them, not only those that need a
gradient) into a plan: a straight list of numpy forward calls over numbered value slots,
and the reverse list of backward rules. Later calls with inputs of the same shapes, dtypes
and requires_grad run the plan: no per-op tensors, no records. The outputs carry one
backward node, `CompiledFunctionBackward`, whose rule runs the planned backward and hands
gradients to the inputs and to every tensor `fn` used from outside (parameters it closes
over), so leaves accumulate as in eager mode.

NOTE [guards]
A replay must never silently differ from eager (ReverseDiff.jl's known failure). A plan is
keyed by grad mode, the default dtype and the inputs' shapes/dtypes/strides/requires_grad/is_leaf
and the types and values of the rest (tape/compile_boundary.py); the outside tensors' shapes,
dtypes and requires_grad are checked on every call; and every value that left the tape
while recording (`bool(t)`, `t.item()`, `t.tolist()`, `t.numpy()`...) is recomputed and
compared during replay; a tensor read as an op's parameter (a mask, an index) is read afresh
on every replay, and the shapes after it are checked, since they may depend on its values.
Python values the function reads from its globals and closure cells are guarded too
(NOTE [python state guards] in tape/python_guards.py): `x * scale` with a global `scale`
re-records when `scale` changes. On any mismatch the call runs eagerly while recording a
new plan. After MAX_RERECORDS re-recordings the function falls back to eager for good, with a
warning. Things a plan cannot express fall back: random numbers, in-place ops others can
see, what a replay would skip (hooks, retain_grad, custom Functions: grad_mode.untraceable),
and results that alias what the caller holds (NOTE [results that alias]).
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import linecache
import operator
import re
import threading
import types
import warnings
import weakref

import numpy as np

from . import codegen, creation, engine, plan_buffers
from .api import PRIMS_NP
from .compile_boundary import (
    Unsupported,
    check_aliases,
    containers_changed,
    flatten_result,
    flattened_call,
    plan_key,
    takes_var_keywords,
)
from .grad_mode import NOT_FAST, STATE, TRACES
from .graph import kept_sinks
from .ops.dtypes import DEFAULT_FLOAT
from .ops.registry import Op
from .plan_buffers import BufferPool
from .python_guards import Advancing, checker, first_changed, python_guards, tensors_guarded, value_key
from .quiet import quiet, unquiet
from .recording import Record, next_position
from .tensor import Tensor, _wrap

MAX_RERECORDS = 8
MAX_INLINED = 500  # distinct inlinings a generated backward makes (NOTE [inlining templates])
_SLOT_NAME = re.compile(r"[vg]\d+")


class _GuardFailed(Exception):
    pass


class _SlotRef:
    """A parameter that is the value of a slot (e.g. where's condition computed in fn)."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


def _refs_in(p, array_slot):
    """`p` with every array that is some slot's value, also inside tuples and lists (an
    index like `x[mask]`), replaced by a _SlotRef to that slot."""
    if isinstance(p, np.ndarray) and id(p) in array_slot:
        return _SlotRef(array_slot[id(p)])
    if type(p) in (tuple, list):
        return type(p)(_refs_in(q, array_slot) for q in p)
    return p


def _slots_of(p) -> list:
    """The slots a parameter reads."""
    if type(p) is _SlotRef:
        return [p.slot]
    if type(p) in (tuple, list):
        return [s for q in p for s in _slots_of(q)]
    return []


def _resolve(p, vals):
    """The parameter with this call's slot values in place of its _SlotRefs."""
    if type(p) is _SlotRef:
        return vals[p.slot]
    if type(p) in (tuple, list) and _slots_of(p):
        return type(p)(_resolve(q, vals) for q in p)
    return p


def _param_source(p, ns) -> str:
    """Source for a parameter: slot variables for _SlotRefs, bound constants otherwise."""
    if type(p) is _SlotRef:
        return f"v{p.slot}"
    if type(p) in (tuple, list) and _slots_of(p):
        items = [_param_source(q, ns) for q in p]
        return _tuple(items) if type(p) is tuple else f"[{', '.join(items)}]"
    return ns.expr(p, "param")


class _Step:
    """One planned op: which slots feed it, which it fills, and what its rule needs."""

    __slots__ = ("op", "ins", "params", "outs", "needs", "shapes", "dtypes", "grad", "checks",
                 "dynamic", "multi", "cast", "recorded")

    def __init__(self, op, ins, params, outs, multi):
        self.op = op
        self.ins = ins  # per input: slot number, or ("const", value)
        self.params = params
        # derive: the op's params are recomputed per call from these (NOTE [values computed
        # outside ops]); the rule then reads them from the call's d<k> tuple
        self.dynamic = op.derive is not None or any(_slots_of(p) for p in params)
        self.outs = outs  # slot numbers of the outputs
        self.multi = multi  # forward returns a tuple (the rule gets a tuple of gradients)
        self.needs = ()  # per input: does it need a gradient (the ctx.needs of the rule)
        self.shapes = ()
        self.dtypes = ()
        self.grad = False  # does this step take part in the backward
        self.checks = ()  # (slot, kind, value): observations to re-check after this step
        self.cast = None  # an in-place op's: the dtype its target keeps (NOTE [in-place ops])
        # did eager record it (an output requires grad)? Not under no_grad, say, whatever
        # its inputs need: no gradient flows through it then
        self.recorded = True


class _Trace:
    """Records one eager run of fn into slots and steps."""

    def __init__(self, args):
        self.slot_of: dict[int, int] = {}  # id(tensor) -> slot
        self.array_slot: dict[int, int] = {}  # id(tensor's array) -> slot
        self.keep: list = []  # tensors seen, kept alive so their ids stay unique
        self.n = 0
        self.steps: list[_Step] = []
        self.outside: list[tuple[int, Tensor]] = []  # (slot, tensor) used from outside fn
        self.observed: list = []  # (slot, kind, value)
        # slots whose tensor an in-place op changed later: their recorded values are not
        # theirs any more (the tensor holds a later value)
        self.clobbered: set[int] = set()
        self.copies: dict = {}  # id(tensor) -> (tensor, array, dtype): NOTE [arrays copied in]
        self.problem = None
        self.same_args: list[tuple[int, int]] = []  # (slot, earlier slot): one tensor twice
        for a in args:
            if isinstance(a, Tensor):
                first = self.slot_of.get(id(a))
                s = self._new_slot(a)
                if first is not None:
                    self.same_args.append((s, first))
        self.n_args = self.n

    def _new_slot(self, t) -> int:
        s = self.slot_of[id(t)] = self.n
        self.array_slot[id(t._data)] = s
        self.n += 1
        self.keep.append(t)
        return s

    def _slot(self, t) -> int:
        s = self.slot_of.get(id(t))
        if s is None:
            s = self._new_slot(t)
            self.outside.append((s, t))
        return s

    def _ins(self, inputs) -> tuple:
        """Per input: its slot, or ("const", value) for a non-tensor."""
        return tuple(self._slot(x) if isinstance(x, Tensor) else ("const", x) for x in inputs)

    def _untraced(self, run, *args):
        """`run(*args)` with this trace off (the engine's own call, which records nothing here)."""
        STATE.trace = None
        try:
            return run(*args)
        finally:
            STATE.trace = self

    def _params(self, params) -> tuple:
        """The params with every array that is some slot's value as a _SlotRef to that slot
        (read from the slot on replay), and whether any other numpy value is left.

        NOTE [values computed outside ops] such a value was made by the op's Python wrapper,
        e.g. from a tensor's data (a boolean mask's indices): a replay could not recompute it
        and would silently reuse this call's. Ops that need one declare `Op.derive` instead."""
        params = tuple(_refs_in(p, self.array_slot) for p in params)
        return params, any(_numpy_inside(p) for p in params)

    def call(self, op, inputs, params):
        ins = self._ins(inputs)
        result = self._untraced(engine.call, op, inputs, params)
        outs = result if isinstance(result, tuple) else (result,)
        params, outside_values = self._params(params)
        if outside_values:
            self.unsupported(f"{op.name}() with arguments computed from tensor values")
        step = _Step(op, ins, params, tuple(self._new_slot(t) for t in outs),
                     isinstance(result, tuple))
        step.recorded = any(isinstance(t, Tensor) and t._rg for t in outs)
        self.steps.append(step)
        return result

    def call_inplace(self, op, target, others, params):
        """NOTE [in-place ops in a plan]
        `t.op_(x)` is planned as the out-of-place `t' = op(t, x)`, cast to t's dtype, after
        which the tensor t stands for the new slot t'; the old slot keeps its own array. That
        is eager's computation exactly when nothing else can see the write: t was made
        inside the function (not an argument or an outside tensor), it is not a view, no
        other value shares its memory (the op's other operands included), and no earlier op
        saved it for its backward (eager's backward would raise on that). Otherwise the
        function runs eagerly."""
        old = self.slot_of.get(id(target))
        ins = (old,) + self._ins(others)
        why = self._inplace_problem(op, target, others, old)
        history = target._rec
        result = self._untraced(engine.call_inplace, op, target, others, params)
        recorded = target._rec is not history
        params, outside_values = self._params(params)
        if why is None and outside_values:
            why = f"{op.name.rstrip('_')}_() with arguments computed from tensor values"
        if why is None and not recorded and target._rg:
            # (under no_grad: the gradient still flows to the history before the write)
            why = f"the in-place op {op.name.rstrip('_')}_ under no_grad on a tensor that requires grad"
        if why is not None:
            self.unsupported(why)
            return result
        self.clobbered.add(old)
        step = _Step(op, ins, params, (self._new_slot(target),), False)
        step.cast = target._data.dtype
        step.recorded = recorded
        self.steps.append(step)
        return result

    def copied(self, t, src, dtype) -> None:
        """NOTE [arrays copied in]
        `tape.tensor(array)` inside the function copies the array, as eager does on every
        call: a replay copies the same array object again (a global mask changed in place
        is read afresh; Python guards cover rebinding the name). The copy is not an op, so
        without this the plan would replay the first call's values."""
        self.copies[id(t)] = (t, src, dtype)

    def arrays_read(self) -> set:
        """The ids of the numpy arrays a replay reads afresh: those copied into tensors
        (NOTE [arrays copied in]) and those ops take as operands."""
        ids = {id(src) for _t, src, _dtype in self.copies.values()}
        ids.update(id(x[1]) for step in self.steps for x in step.ins
                   if type(x) is tuple and type(x[1]) is np.ndarray)
        return ids

    def argument_changed(self, t, what: str) -> None:
        """The function changes an argument's `what` (requires_grad): every call's argument
        is the caller's, which a replay would leave as it was."""
        s = self.slot_of.get(id(t))
        if s is not None and s < self.n_args:
            self.unsupported(f"{what} of an argument set inside the function")

    def callers(self, s) -> bool:
        """Is slot `s` (None: no slot yet) a tensor the caller holds: an argument, or a
        tensor from outside the function?"""
        return s is None or s < self.n_args or any(s == o for o, _ in self.outside)

    def graph_read(self, t, what: str) -> None:
        """NOTE [graph reads]
        The function read `t.grad_fn` or `t.retains_grad`. For a value it made that is the
        same on every replay; an argument's or an outside tensor's may be another node next
        call (a plan is keyed by `is_leaf` only), so such a function runs eagerly."""
        if self.callers(self.slot_of.get(id(t))):
            self.unsupported(f"{what} of a tensor from outside the function")

    def param(self, t) -> None:
        """A tensor whose array an op takes as a parameter: give it a slot (an outside one if
        the function did not make it), so the array maps to that slot on replay."""
        self._slot(t)

    def alias(self, src, out) -> None:
        """`detach()` or `.data` inside the function (`out`, made from `src`): a step that
        hands on the same values (eager's `_arr()` of them) and takes no part in the backward."""
        self.steps.append(_Step(_ALIAS, (self._slot(src),), (), (self._new_slot(out),), False))

    def _inplace_problem(self, op, target, others, old) -> str | None:
        name = f"the in-place op {op.name.rstrip('_')}_"  # (copy_'s own name ends in _)
        if op.view or op.outputs != 1:
            return name
        if self.callers(old):
            return f"{name} on a tensor from outside the function"
        if target._base is not None:
            return f"{name} on a view"
        data = target._data
        if any(t is not target and np.may_share_memory(t._data, data) for t in self.keep):
            return f"{name} on a tensor that another value shares memory with"
        if any(isinstance(o, Tensor) and np.may_share_memory(o._data, data) for o in others):
            # x.mul_(x): eager saves the operand before the write, and its backward raises
            return f"{name} with its target as an operand"
        for step in self.steps:
            for i, _ in step.op.save_plan:
                if (step.outs[0] if i < 0 else step.ins[i]) == old:
                    return f"{name} on a value {step.op.name}() saved for its gradient"
        return None

    def observe(self, t, value) -> None:
        # (a tensor no op has used yet is given a slot here: an outside tensor's value may
        # change between calls, `scale.item()` with `scale` filled in place)
        s = self._slot(t)
        kind = "array" if isinstance(value, np.ndarray) else "value"
        self.observed.append((s, kind, value))

    def unsupported(self, what: str) -> None:
        if self.problem is None:
            self.problem = what


def _table_kernel(step: _Step):
    """The plain numpy kernel the op's table (Op.kernel) gives for this step's params, or None."""
    table = step.op.kernel
    if not table:
        return None
    try:
        return table.get(step.params)
    except TypeError:  # unhashable params (arrays): no kernel
        return None


def _recorded_inputs(trace: _Trace, step: _Step) -> list | None:
    """The values a step's inputs had while recording, to try a plain numpy call against the
    recorded result: None when that is no test of it (a recorded value was overwritten in
    place later, an input of another dtype than a float result, a non-number constant)."""
    if any(type(i) is int and i in trace.clobbered for i in step.ins + step.outs):
        return None
    out = trace.keep[step.outs[0]]._data
    if out.dtype.kind not in "fc":
        return None
    values = []
    for i in step.ins:
        if type(i) is tuple:
            if type(i[1]) not in (bool, int, float):
                return None
            values.append(i[1])
        elif trace.keep[i]._data.dtype != out.dtype:
            return None
        else:
            values.append(trace.keep[i]._data)
    return values


def _buffer_candidates(trace: _Trace, out_slots) -> set:
    """Slots an op fills whose value may live in a plan buffer (NOTE [plan buffers]): a
    large C-contiguous array owning its memory, not an output, not overwritten in place
    later, and sharing memory with no other recorded value (no view of it, no alias)."""
    owners: dict[int, int] = {}  # id of the array owning the memory -> values using it
    for t in trace.keep:
        d = t._data
        if type(d) is np.ndarray:
            root = d if d.base is None else d.base
            owners[id(root)] = owners.get(id(root), 0) + 1
    found = set()
    for step in trace.steps:
        if step.multi:
            continue
        s = step.outs[0]
        d = trace.keep[s]._data
        if (type(d) is np.ndarray and d.base is None and d.ndim and d.nbytes >= plan_buffers.MIN_BYTES
                and d.flags.c_contiguous and owners[id(d)] == 1 and s not in out_slots
                and s not in trace.clobbered):
            found.add(s)
    return found


def _numpy_inside(p, depth: int = 3) -> bool:
    """Is there a numpy array or scalar or a tensor in parameter `p` (a slot's own value
    aside), or among the values a function parameter closes over (a NotImplemented node's
    forward keeps the operands that need no gradient so: a replay would reuse this call's)?"""
    if isinstance(p, (np.ndarray, np.generic, Tensor)):  # (a tensor: narrow's start, say)
        return True
    if isinstance(p, (tuple, list)):
        return any(_numpy_inside(q, depth) for q in p)
    if isinstance(p, slice):
        return any(_numpy_inside(q, depth) for q in (p.start, p.stop, p.step))
    if isinstance(p, types.FunctionType) and p.__closure__ and depth:
        for cell in p.__closure__:
            try:
                value = cell.cell_contents
            except ValueError:  # (an empty cell)
                continue
            if _numpy_inside(value, depth - 1):
                return True
    return False


class _Stale(Exception):
    """A generated backward met a gradient its first run did not see (see NOTE [codegen])."""


_INTERPRET = object()  # backwards[pattern]: this pattern runs the interpreter for good
# kernels the generated code writes as Python operators (ndarray's operators are these ufuncs)
_OPERATORS = {np.add: ("+", operator.add), np.subtract: ("-", operator.sub),
              np.multiply: ("*", operator.mul), np.true_divide: ("/", operator.truediv)}
_plan_ids = itertools.count()


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _as_dtype(v, dtype):
    """An in-place op's result as its target holds it (eager copies it in, casting)."""
    return v if v.dtype == dtype else v.astype(dtype)


def _as_array(v):
    """What eager hands a view op: a numpy scalar becomes a 0-d array (Tensor._arr)."""
    return v if type(v) is np.ndarray else np.array(v)


def _compile_source(name: str, src: str, ns: codegen.Namespace):
    """Compile generated source; linecache keeps it, so tracebacks show the generated lines."""
    filename = f"<tape.compile {name}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(builtins.compile(src, filename, "exec"), ns.globals)  # noqa: S102 - our own generated code
    return ns.globals[name.split()[-1]]


class _Plan:
    """What replaying needs: the steps, the slots of args/outside tensors and outputs, and
    the generated functions that run them.

    NOTE [codegen]
    A plan is run by generated straight-line Python (`plan.source` shows it). `call` runs
    the forward: guards on outside tensors and observed values, one line per op, then the
    one CompiledFunctionBackward record. A pointwise op calls its plain numpy kernel (or
    its Python operator) when the plan's dtypes allow it and that gives exactly the
    recorded eager result; otherwise it calls op.forward as eager does. The backward is
    generated per pattern of which outputs got a gradient, after its first run: that run
    goes through the interpreter (`_interpret`, eager's own steps), which also notes, per
    contribution, whether it was None and whether it needs sum_to or a dtype cast (shapes
    and dtypes are fixed per plan, so these are too). The generated backward then runs
    only the rules whose outputs got a gradient, inlined where tape/codegen.py can (NOTE
    [inlining is exact]), and accumulates each slot's gradients in eager's order. A
    contribution that turns out None (or not None) where the first run saw otherwise
    raises _Stale, and that pattern goes back to the interpreter for good.
    """

    def __init__(self, trace: _Trace, outputs, treedef, args, name: str, guards: list):
        # NOTE [python state guards]: the Python values fn read, checked before each replay
        self.python_check = checker(guards)
        self.read_outside = tensors_guarded(guards)  # NOTE [arguments that alias]
        self.n = trace.n
        self.n_args = trace.n_args
        self.steps = trace.steps
        self.name = f"{name}_{next(_plan_ids)}"
        self.slot_shapes = [t._data.shape for t in trace.keep]
        # strong references: constants made inside fn live as long as the plan
        self.outside = [(s, t, t._data.shape, t._data.dtype, t._rg) for s, t in trace.outside]
        out_slots = [trace.slot_of.get(id(o)) for o in outputs]
        if None in out_slots:  # (tape.ones(2), say: made inside fn, but not by an op)
            raise Unsupported("an output that no op inside the function produced")
        self.out_slots = tuple(out_slots)
        # the results' versions as eager left them (an in-place op on a result, or torch's
        # own squeeze_ in vector @ matrix): each replay's fresh results are set to them
        self.out_versions = tuple(o._vc[0] for o in outputs)
        self.treedef = treedef
        producer = {}
        for k, step in enumerate(self.steps):
            for s in step.outs:
                producer[s] = k
        for s in self.out_slots:
            if s not in producer:
                raise Unsupported("an output that no op inside the function produced")
        checks: dict[int, list] = {}
        self.arg_checks = []
        for s, kind, value in trace.observed:
            if s in producer:
                checks.setdefault(producer[s], []).append((s, kind, value))
            else:
                self.arg_checks.append((s, kind, value))
        for k, lst in checks.items():
            self.steps[k].checks = tuple(lst)
        self._plan_backward(trace)
        # NOTE [saved values the caller can change]: the saved values that are arguments,
        # tensors from outside, results or share memory with a result (a result that is a
        # view of a saved value, or the base of one) carry a version counter, checked in
        # backward: (saved slot, None for the tensor's own, or the result's index)
        outside = {s for s, *_ in self.outside}
        self.watched = []
        for s in self.saved_slots:
            if s < self.n_args or s in outside:
                self.watched.append((s, None))
                continue
            v = trace.keep[s]._data
            for i, o in enumerate(self.out_slots):
                d = trace.keep[o]._data
                if o == s or (type(v) is np.ndarray and type(d) is np.ndarray and np.shares_memory(v, d)):
                    self.watched.append((s, i))
        # results that are views of one base (h[0], h[1]) share its version counter, as in eager
        first_of: dict = {}  # id(base) -> the first result viewing it
        self.shared_vc = {}  # result index -> the earlier result whose counter it shares
        for i, o in enumerate(self.out_slots):
            base = _owner(trace.keep[o]._data)
            if base is not None:
                j = first_of.setdefault(id(base), i)
                if j != i:
                    self.shared_vc[i] = j
        self.buffers = None  # the BufferPool, when some value gets a buffer (NOTE [plan buffers])
        self.backwards: dict = {}  # pattern of outputs with a gradient -> generated function
        self._generating = threading.Lock()  # a backward being generated (by one thread)
        self.backward_sources: dict = {}
        self.backward_buffers: dict = {}  # pattern -> its backward's BufferPool, if any
        self.forward_source = self._build_call(trace, args)

    def _plan_backward(self, trace: _Trace) -> None:
        """Which slots need gradients, and each step's rule context (fixed per plan)."""
        needs_grad = [False] * self.n
        if STATE.grad_enabled:
            for i, t in enumerate(trace.keep[: self.n_args]):
                needs_grad[i] = t._rg
            for s, t in trace.outside:
                needs_grad[s] = t._rg
        self.grad_slots = needs_grad
        saved, derived = set(), []
        for k, step in enumerate(self.steps):
            needs = tuple(not isinstance(i, tuple) and needs_grad[i] for i in step.ins)
            step.grad = step.recorded and step.op.backward is not None and any(needs)
            if step.grad:
                step.needs = needs
                step.shapes = tuple(None if isinstance(i, tuple) else trace.keep[i]._data.shape
                                    for i in step.ins)
                step.dtypes = tuple(None if isinstance(i, tuple) else trace.keep[i]._data.dtype
                                    for i in step.ins)
                for s in step.outs:
                    needs_grad[s] = trace.keep[s]._data.dtype.kind in "fc"
                saved.update(s for p in step.params for s in _slots_of(p))
                if step.op.derive is not None:
                    derived.append(k)
                for i, which in step.op.save_plan:
                    if any(needs[w] for w in which):
                        src = step.outs[0] if i < 0 else step.ins[i]
                        if type(src) is int:
                            saved.add(src)
        self.saved_slots = sorted(saved)  # the values the backward reads
        self.derived_steps = derived  # steps whose derived params the backward reads
        self.saved_names = [f"v{s}" for s in self.saved_slots] + [f"d{k}" for k in derived]
        self.sources = [i for i in range(self.n_args) if needs_grad[i]] + [
            s for s, *_ in self.outside if needs_grad[s]]

    # ---- the generated forward ---------------------------------------------------------

    def _build_call(self, trace: _Trace, args) -> str:
        ns = codegen.Namespace(_GuardFailed=_GuardFailed, _check=_check, _arr=_as_array,
                               _as_dtype=_as_dtype, _copy_in=_copy_in,
                               Record=Record, COMPILED=COMPILED, next_position=next_position,
                               edges_of=engine.edges_of, _wrap=_wrap,
                               _ref=weakref.ref,
                               _tape_append=engine.TAPE.append)
        names, slot = [], 0
        body = []
        for i, a in enumerate(args):  # non-tensor arguments are part of the plan's key
            if isinstance(a, Tensor):
                names.append(f"x{slot}")
                body.append(f"v{slot} = x{slot}._data")
                slot += 1
            else:
                names.append(f"_{i}")
        # NOTE [arguments that alias]
        # A replay reads each tensor from the place it was recorded from. One tensor given
        # as two arguments (`f(x, x)`), or as an argument the function also reads from
        # outside (`f(w)`, w a parameter it closes over), was one slot when recording: a
        # replay with two tensors would compute with one of them for both. So each such
        # coincidence is checked on every call. The other way round (recorded with two
        # tensors, called with one) the values agree, but the gradients of the sources that
        # need one would be summed in another order than eager's (an ulp off): that call
        # re-records too.
        for s, first in trace.same_args:
            body += [f"if x{s} is not x{first}:",
                     "    raise _GuardFailed('arguments that were one tensor are not')"]
        again = {s for s, _ in trace.same_args}
        distinct = [s for s in self.sources if s not in again]
        if len(distinct) > 1 and distinct[0] < self.n_args:
            ids = ", ".join(f"id(x{s})" if s < self.n_args else f"id({ns.bind(trace.keep[s], 'outside')})"
                            for s in distinct)
            body += [f"if len({{{ids}}}) != {len(distinct)}:",
                     "    raise _GuardFailed('one tensor given for two that need a gradient')"]
        for s in range(self.n_args):
            t = trace.keep[s]
            if id(t) in self.read_outside:
                body += [f"if x{s} is not {ns.bind(t, 'outside')}:",
                         "    raise _GuardFailed('an argument that was a tensor the function "
                         "reads from outside is not')"]
        for s, t, shape, dtype, rg in self.outside:
            name = ns.bind(t, "outside")
            copied = trace.copies.get(id(t))
            if copied is not None:  # NOTE [arrays copied in]
                body += [f"v{s} = _copy_in({ns.bind(copied[1], 'array')}, {ns.bind(copied[2], 'dtype')})",
                         f"if v{s}.shape != {shape!r}:",
                         "    raise _GuardFailed('an array a tensor was made from changed shape')"]
                continue
            body += [f"v{s} = {name}._data",
                     f"if v{s}.shape != {shape!r} or v{s}.dtype != {ns.bind(dtype, 'dtype')} "
                     f"or {name}._rg is not {rg}:",
                     "    raise _GuardFailed('an outside tensor changed')"]
        for s, kind, value in self.arg_checks:
            body.append(f"_check(v{s}, {kind!r}, {ns.expr(value, 'seen')})")
        first_step = len(body)
        candidates, specs = _buffer_candidates(trace, self.out_slots), []
        for k, step in enumerate(self.steps):
            body += self._forward_step(ns, trace, k, step, candidates, specs)
            if step.dynamic:
                # an op reading values as parameters (a mask, indices) may give another
                # shape on other values: every shape after it was planned for this one
                for s in step.outs:
                    body += [f"if v{s}.shape != {trace.keep[s]._data.shape!r}:",
                             "    raise _GuardFailed('a shape that depends on values changed')"]
            for s, kind, value in step.checks:
                body.append(f"_check(v{s}, {kind!r}, {ns.expr(value, 'seen')})")
        if specs:  # NOTE [plan buffers]: a free set for this call, back in the pool after it
            self.buffers = BufferPool(specs)
            body.insert(first_step, f"B = {ns.bind(self.buffers.take, 'take')}()")
            body.append(f"{ns.bind(self.buffers.give, 'give')}(B)")
        body += self._outputs(ns, trace)
        src = f"def call({', '.join(names)}):\n" + "".join(f"    {line}\n" for line in body)
        self.call = _compile_source(f"{self.name} call", src, ns)
        return src

    def _forward_step(self, ns, trace: _Trace, k: int, step: _Step, candidates: set,
                      specs: list) -> list[str]:
        op = step.op
        args = []
        for i in step.ins:
            if type(i) is tuple:  # eager hands numpy scalars to forward as Python numbers
                x = i[1]
                args.append(ns.expr(x.item() if isinstance(x, np.generic) else x, "const"))
            else:
                args.append(f"v{i}")
        lines = []
        i0 = step.ins[0] if step.ins else None
        if op.view and type(i0) is int and trace.keep[i0]._data.shape == ():
            lines.append(f"v{i0} = _arr(v{i0})")
        call = self._buffered(ns, trace, step, args, candidates, specs)
        if call is None:
            call = self._kernel(ns, trace, step, args)
        if call is None:
            params = [_param_source(p, ns) for p in step.params]
            if op.derive is not None:
                lines.append(f"d{k} = {ns.bind(op.derive, 'derive')}({_tuple(args)}, "
                             f"{_tuple(params) if params else '()'})")
                params = [f"*d{k}"]
            call = f"{ns.bind(op.forward, op.name)}({', '.join(args + params)})"
        if step.cast is not None:  # eager writes the result into the target's dtype
            call = f"_as_dtype({call}, {ns.bind(step.cast, 'dtype')})"
        targets = [f"v{s}" for s in step.outs]
        target = ", ".join(targets) + ("," if len(targets) == 1 else "") if step.multi \
            else targets[0]
        lines.append(f"{target} = {call}")
        return lines

    @staticmethod
    def _buffered(ns, trace: _Trace, step: _Step, args: list, candidates: set,
                  specs: list) -> str | None:
        """The op's numpy ufunc writing into buffer B[j] of the call's set, if its output is a
        candidate (NOTE [plan buffers]) and that gives exactly the recorded eager result."""
        s = step.outs[0]
        if s not in candidates or step.dynamic or step.cast is not None:
            return None
        fn = _table_kernel(step)
        if fn is None and not step.params:
            fn = step.op.forward  # e.g. mm's np.matmul: eager's own call, given an out=
        if not isinstance(fn, np.ufunc) or fn.nout != 1:
            return None
        values = _recorded_inputs(trace, step)
        if values is None:
            return None
        out = trace.keep[s]._data
        buf = np.empty_like(out)
        try:
            with np.errstate(all="ignore"):
                got = fn(*values, out=buf)
        except Exception:  # noqa: BLE001 - any failure: no buffer, the plain call
            return None
        if got is not buf or not np.array_equal(buf, out, equal_nan=True):
            return None
        specs.append((out.shape, out.dtype))
        return f"{ns.bind(fn, fn.__name__)}({', '.join(args)}, out=B[{len(specs) - 1}])"

    def _kernel(self, ns, trace: _Trace, step: _Step, args: list) -> str | None:
        """The op's plain numpy kernel, if it gives exactly the recorded eager result."""
        if step.multi or step.dynamic or step.cast is not None:
            return None
        kernel = _table_kernel(step)
        if kernel is None:
            return None
        values = _recorded_inputs(trace, step)
        if values is None:
            return None
        out = trace.keep[step.outs[0]]._data
        symbol, pyop = _OPERATORS.get(kernel, (None, None))
        if symbol is not None and len(values) != 2:
            symbol = None
        try:
            with np.errstate(all="ignore"):
                got = (pyop if symbol else kernel)(*values)
        except Exception:  # noqa: BLE001 - any failure: call op.forward as eager does
            return None
        if (type(got) is not type(out) or got.dtype != out.dtype or got.shape != out.shape
                or not np.array_equal(got, out, equal_nan=True)):
            return None
        if symbol is not None:
            return f"{args[0]} {symbol} {args[1]}"
        return f"{ns.bind(kernel, step.op.name)}({', '.join(args)})"

    def _outputs(self, ns, trace: _Trace) -> list[str]:
        """The output tensors: plain, or carrying the one CompiledFunctionBackward record."""
        wrap = self.treedef is not None
        treedef = ns.bind(self.treedef, "treedef") if wrap else None
        star = "*" if hasattr(self.treedef, "_fields") else ""  # a named tuple takes fields
        grads = [self.grad_slots[s] for s in self.out_slots]
        versions = [f"o{i}._vc[0] = {n}" for i, n in enumerate(self.out_versions) if n]
        if not self.sources or not any(grads):
            if not self.shared_vc and not versions:
                outs = [f"_wrap(v{s})" for s in self.out_slots]
                return [f"return {treedef}({star}{_tuple(outs)})" if wrap else f"return {outs[0]}"]
            lines = [f"o{i} = _wrap(v{s}, vc={f'o{self.shared_vc[i]}._vc' if i in self.shared_vc else None})"
                     for i, s in enumerate(self.out_slots)]
            outs = [f"o{i}" for i in range(len(self.out_slots))]
            return lines + versions + [f"return {treedef}({star}{_tuple(outs)})" if wrap else "return o0"]
        outside = {s: t for s, t, *_ in self.outside}
        srcs = [f"x{s}" if s < self.n_args else ns.bind(outside[s], "outside") for s in self.sources]
        shapes = tuple(trace.keep[s]._data.shape for s in self.sources)
        dtypes = tuple(trace.keep[s]._data.dtype for s in self.sources)
        saved = _tuple(self.saved_names) if self.saved_names else "()"
        # the edges first: a leaf's AccumulateGrad made for them takes a position before the
        # record's, as in eager (after it, playback would sink the leaf's gradient before
        # this record's contribution arrives: twice in one backward)
        # nothing saved: nothing to free, so a second backward runs, as eager's records
        # that save nothing (add, sum) allow
        kept = f"({saved}, None, 0)" if self.saved_names or self.watched else "()"
        lines = [f"edges = edges_of({_tuple(srcs)}, {ns.bind(kept_sinks(), 'kept')})",
                 f"rec = Record(COMPILED, next_position(), *edges, "
                 f"{(True,) * len(srcs)!r}, {kept}, ({ns.bind(self, 'plan')},), "
                 f"{ns.expr(shapes, 'shapes')}, {ns.bind(dtypes, 'dtypes')})"]
        outs = []
        for i, (s, g) in enumerate(zip(self.out_slots, grads)):
            vc = f"o{self.shared_vc[i]}._vc" if i in self.shared_vc else "None"
            lines.append(f"o{i} = _wrap(v{s}, rec, {i}, True, {vc})" if g else
                         f"o{i} = _wrap(v{s}, vc={vc})")
            outs.append(f"o{i}")
        lines += versions
        if self.watched:  # NOTE [saved values the caller can change]
            checks = []
            for s, i in self.watched:
                if i is not None:  # (a result: made by this call, at its eager version; its
                    # array, not the tensor, which holds this record: no cycle)
                    checks.append(f"(o{i}._vc, {self.out_versions[i]}, v{s})")
                else:
                    t = f"x{s}" if s < self.n_args else ns.bind(outside[s], "outside")
                    checks.append(f"({t}._vc, {t}._vc[0], {t})")
            lines.append(f"rec.saved = ({_tuple(self.saved_names + [_tuple(checks)])}, None, 0)")
        refs = f"_ref({outs[0]})" if len(outs) == 1 else _tuple(f"_ref({o})" for o in outs)
        lines += [f"rec.outs = {refs}", "_tape_append(rec)",
                  f"return {treedef}({star}{_tuple(outs)})" if wrap else "return o0"]
        return lines

    # ---- the backward ------------------------------------------------------------------

    def backward(self, saved, grads) -> tuple:
        """Gradients for self.sources, given the outputs' gradients (None where none)."""
        pattern = _ONE_GRAD if len(grads) == 1 and grads[0] is not None else \
            tuple(g is not None for g in grads)
        fn = self.backwards.get(pattern)
        if fn is None:
            with self._generating:  # (one thread at a time: the generator keeps state on self)
                fn = self.backwards.get(pattern)
                if fn is None:
                    return self._first_backward(pattern, saved, grads)
        if fn is not _INTERPRET:
            try:
                return fn(saved, *grads)
            except _Stale:
                self.backwards[pattern] = _INTERPRET
        return self._interpret(saved, grads)

    def _first_backward(self, pattern, saved, grads) -> tuple:
        """The interpreter's gradients, and the generated backward for this pattern."""
        learned: dict = {}
        result = self._interpret(saved, grads, learned)
        fn = self._build_backward(pattern, learned)
        if pattern in self.backward_buffers and not self._agrees(fn, saved, grads, result):
            # a buffered call gave another result than eager's: plain calls, then
            del self.backward_buffers[pattern]
            fn = self._build_backward(pattern, learned, buffered=False)
        self.backwards[pattern] = fn
        return result

    def _interpret(self, saved, out_grads, learned=None) -> tuple:
        """Eager's backward over the plan; `learned` gets, per (step, input) contribution,
        None (no gradient) or (needs sum_to, needs a dtype cast, its shape)."""
        F = PRIMS_NP
        vals = dict(zip(self.saved_slots, saved))
        derived = dict(zip(self.derived_steps, saved[len(self.saved_slots):]))
        grads: dict[int, object] = {}
        for s, g in zip(self.out_slots, out_grads):
            if g is not None:
                grads[s] = g if s not in grads else grads[s] + g
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            if not step.grad:
                continue
            gs = [grads.pop(s, None) for s in step.outs]
            if all(g is None for g in gs):
                continue
            saved_args = []
            for i, which in step.op.save_plan:
                if not any(step.needs[w] for w in which):
                    saved_args.append(None)
                elif i < 0:
                    saved_args.append(vals[step.outs[0]])
                else:
                    src = step.ins[i]
                    saved_args.append(src[1] if type(src) is tuple else vals[src])
            ctx = _Ctx(step, derived[k]) if step.op.derive is not None else self._ctx(step, vals)
            in_grads = step.op.backward(F, ctx, gs[0] if not step.multi else tuple(gs),
                                        *saved_args)
            for j, (src, gi, shape, dt) in enumerate(zip(step.ins, in_grads, step.shapes,
                                                         step.dtypes)):
                if type(src) is tuple or not self.grad_slots[src]:
                    continue
                if gi is None:
                    if learned is not None:
                        learned[k, j] = None
                    continue
                fix = (gi.shape != shape, gi.dtype != dt, gi.shape)
                if learned is not None:
                    learned[k, j] = fix
                if fix[0]:
                    gi = F.sum_to(gi, shape)
                if fix[1]:
                    gi = F.to_dtype(gi, dt)
                grads[src] = gi if src not in grads else grads[src] + gi
        return tuple(grads.get(s) for s in self.sources)

    @staticmethod
    def _ctx(step: _Step, vals):
        if not step.dynamic:
            return step
        return _Ctx(step, tuple(_resolve(p, vals) for p in step.params))

    @staticmethod
    def _agrees(fn, saved, grads, want) -> bool:
        """Does the generated backward give exactly the interpreter's gradients?"""
        try:
            with np.errstate(all="ignore"):
                got = fn(saved, *grads)
        except Exception:  # noqa: BLE001 - any failure: the plan without buffers
            return False
        return all(g is None and w is None or (
            g is not None and w is not None and type(g) is type(w) and np.shape(g) == np.shape(w)
            and np.result_type(g) == np.result_type(w) and np.array_equal(g, w, equal_nan=True))
            for g, w in zip(got, want))

    def _build_backward(self, pattern: tuple, learned: dict, buffered: bool = True):
        ns = codegen.Namespace(F=PRIMS_NP, _Stale=_Stale, _Ctx=_Ctx)
        # NOTE [plan buffers]: large gradients of values inside the function (not returned)
        # that one numpy ufunc computes are written into a buffer set's arrays
        self._bspecs = [] if buffered else None
        outs = [f"o{i}" for i in range(len(self.out_slots))]
        body = [f"{', '.join(self.saved_names)}, = saved"] if self.saved_names else []
        has: set[int] = set()
        # inlining a rule costs ~0.5 ms: steps alike (same rule, context and kinds of
        # arguments) share one inlining, renamed (NOTE [inlining templates]), and past
        # MAX_INLINED distinct ones the plan calls its rules
        self._templates: dict = {}
        for o, s, present in zip(outs, self.out_slots, pattern):
            if present:
                body.append(f"g{s} = {o}" if s not in has else f"g{s} = g{s} + ({o})")
                has.add(s)
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            if step.grad and any(s in has for s in step.outs):
                body += self._backward_step(ns, k, step, has, learned)
        if self._bspecs:
            pool = self.backward_buffers[pattern] = BufferPool(self._bspecs)
            body.insert(0, f"B = {ns.bind(pool.take, 'take')}()")
            body.append(f"{ns.bind(pool.give, 'give')}(B)")
        body.append(f"return {_tuple(f'g{s}' if s in has else 'None' for s in self.sources)}")
        name = f"backward_{''.join('1' if p else '0' for p in pattern)}"
        src = f"def {name}(saved, {', '.join(outs)}):\n" + "".join(f"    {b}\n" for b in body)
        self.backward_sources[pattern] = src
        return _compile_source(f"{self.name} {name}", src, ns)

    def _backward_step(self, ns, k: int, step: _Step, has: set, learned: dict) -> list[str]:
        op = step.op
        lines = [f"# {op.node}"]
        g = f"g{step.outs[0]}" if not step.multi else \
            _tuple(f"g{s}" if s in has else "None" for s in step.outs)
        saved_args = []
        for i, which in op.save_plan:
            if not any(step.needs[w] for w in which):
                saved_args.append("None")
            elif i < 0:
                saved_args.append(f"v{step.outs[0]}")
            else:
                src = step.ins[i]
                saved_args.append(ns.expr(src[1], "const") if type(src) is tuple else f"v{src}")
        ctx = f"c{k}" if step.dynamic else ns.bind(step, f"ctx{k}")
        elems, pre = (None, None) if op.derive is not None else \
            self._inline_alike(ns, k, step, g, saved_args, ctx)
        if elems is None:  # called, not inlined
            pre = [f"r{k} = {ns.bind(op.backward, 'rule')}(F, {ctx}, {g}, {', '.join(saved_args)})"]
            elems = [(f"r{k}[{j}]", True) for j in range(len(step.ins))]
        if op.derive is not None:
            lines.append(f"{ctx} = _Ctx({ns.bind(step, f'step{k}')}, d{k})")
        elif step.dynamic and any(ctx in line for line in pre + [e for e, _ in elems]):
            params = _tuple(_param_source(p, ns) for p in step.params) if step.params else "()"
            lines.append(f"{ctx} = _Ctx({ns.bind(step, f'step{k}')}, {params})")
        lines += pre
        for j, src in enumerate(step.ins):
            if type(src) is tuple or not self.grad_slots[src]:
                continue
            expr, maybe_none = elems[j] if j < len(elems) else ("None", False)
            if (k, j) not in learned:
                continue  # no gradient reached this rule, or it returned none for input j
            info = learned[k, j]
            if info is None:  # the first run got None here
                if expr != "None":
                    lines.append(f"if {expr} is not None: raise _Stale")
                continue
            if self._bspecs is not None and not info[0] and not info[1] \
                    and src not in self.sources:
                expr = _buffered_expr(ns, expr, step.shapes[j], step.dtypes[j], self._bspecs)
            if maybe_none:
                lines += [f"t = {expr}", "if t is None: raise _Stale"]
                expr = "t"
            if info[0]:
                expr = _sum_to_expr(ns, expr, info[2], step.shapes[j])
            if info[1]:
                expr = f"F.to_dtype({expr}, {ns.bind(step.dtypes[j], 'dtype')})"
            # (parenthesized: eager adds the rule's whole result, g + (a - b), not (g + a) - b)
            lines.append(f"g{src} = {expr}" if src not in has else f"g{src} = g{src} + ({expr})")
            has.add(src)
        # a slot's gradient is complete once its producer ran: let big arrays go now
        dead = [f"g{s}" for s in step.outs if s in has and self.slot_shapes[s] != ()]
        if dead:
            lines.append(f"del {', '.join(dead)}")
        return lines

    def _inline_alike(self, ns, k: int, step: _Step, g: str, saved_args: list, ctx: str):
        """_inline, through a template shared by alike steps.

        NOTE [inlining templates]
        A 10,000-op plan has 10,000 rule steps but a handful of kinds; inlining each took a
        minute. A step whose gradient and saved arguments are plain slot variables is
        inlined once per (rule, context, argument kinds) with placeholder names, and each
        alike step gets that source with its own names put in: the inliner's output depends
        on nothing else (the context's values are part of the key, and dynamic steps, whose
        params are slot variables, are inlined one by one)."""
        names = [g] + saved_args
        plain = [_SLOT_NAME.fullmatch(a) is not None for a in names]
        try:
            key = (step.op.backward, step.needs, step.shapes, step.dtypes, step.params,
                   tuple(None if p else a for p, a in zip(plain, names)))
            hash(key)
        except TypeError:
            key = None
        if key is None or step.dynamic or not plain[0]:
            return self._inline(ns, k, step, g, saved_args, ctx)
        template = self._templates.get(key)
        if template is None:
            if len(self._templates) >= MAX_INLINED:
                return None, None
            holders = [f"__tape_a{i}__" if p else a for i, (p, a) in enumerate(zip(plain, names))]
            template = self._templates[key] = self._inline(ns, "__tape_k__", step, holders[0],
                                                           holders[1:], ctx)
        elems, pre = template
        if elems is None:
            return None, None

        def fill(text):
            for i in range(len(names) - 1, -1, -1):  # a10 before a1
                if plain[i]:
                    text = text.replace(f"__tape_a{i}__", names[i])
            return text.replace("__tape_k__", str(k))

        return [(fill(e), maybe) for e, maybe in elems], [fill(line) for line in pre]

    def _inline(self, ns, k, step: _Step, g: str, saved_args: list, ctx: str):
        """The rule's gradient expressions as [(source, may be None)], and the statements
        before them; (None, None) when the rule cannot be inlined."""
        inl = codegen.Inliner(ns, PRIMS_NP, f"_{k}_")
        params = ast.Tuple([ast.parse(_param_source(p, ns), mode="eval").body if _slots_of(p)
                            else ns.node(p, "param") for p in step.params], ast.Load())
        inl.ctx = {"needs": ast.Constant(step.needs), "shapes": ns.node(step.shapes, "shapes"),
                   "dtypes": ns.node(step.dtypes, "dtypes"), "params": params}
        args = [ast.Name(codegen.F_MARK, ast.Load()), ast.Name(codegen.CTX_MARK, ast.Load()),
                ast.parse(g, mode="eval").body] + [ast.parse(a, mode="eval").body
                                                   for a in saved_args]
        stmts: list = []
        try:
            result = inl.call(step.op.backward, args, stmts)
        except codegen.CannotInline:
            return None, None
        if isinstance(result, ast.Constant) and isinstance(result.value, tuple):
            parts = [ast.Constant(v) for v in result.value]
        elif isinstance(result, ast.Tuple):
            parts = result.elts
        else:
            return None, None
        pre = [ast.unparse(codegen.unmark(st, "F", ctx)) for st in stmts]
        elems = [(ast.unparse(codegen.unmark(p, "F", ctx)), not isinstance(
            p, (ast.BinOp, ast.UnaryOp, ast.Name))) for p in parts]
        return elems, pre


_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide}


_ADD_REDUCE = np.add.reduce  # (one object: Namespace.bind keys names on identity)


def _sum_to_expr(ns, expr: str, shape: tuple, to: tuple) -> str:
    """F.sum_to(expr, to) for a gradient of `shape` (fixed per plan), as the one reduction
    sum_to would make when that is a plain sum over leading dims (a bias's gradient): the
    same numpy call without sum_to's frame and shape tests."""
    lead = len(shape) - len(to)
    if lead > 0 and shape[lead:] == to:
        axes = 0 if lead == 1 and to else tuple(range(lead))
        return f"{ns.bind(_ADD_REDUCE, 'add_reduce')}({expr}, axis={axes!r})"
    return f"F.sum_to({expr}, {to!r})"


def _buffered_expr(ns, expr: str, shape, dtype, specs: list) -> str:
    """A gradient expression of the generated backward with its outermost numpy ufunc (an
    arithmetic operator, or a call of a ufunc such as F.matmul) writing into the next array
    of the call's buffer set, B[j], when the value is large (NOTE [plan buffers]); else as
    it is. The first backward checks the whole plan against eager's result
    (CompiledFunction._agrees)."""
    if not shape or int(np.prod(shape)) * np.dtype(dtype).itemsize < plan_buffers.MIN_BYTES:
        return expr
    node = ast.parse(expr, mode="eval").body
    # an operator with a computed operand is left alone: numpy already writes the result into
    # that temporary (its temporary elision), so a buffer would only add memory traffic
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS and not any(
            isinstance(x, (ast.BinOp, ast.UnaryOp, ast.Call)) for x in (node.left, node.right)):
        fn = _BINOPS[type(node.op)]
        call = ast.Call(ast.Name(ns.bind(fn, fn.__name__), ast.Load()), [node.left, node.right], [])
    else:
        fn = ns.globals.get(node.func.id) if isinstance(node, ast.Call) and isinstance(
            node.func, ast.Name) else None
        if not (isinstance(fn, np.ufunc) and fn.nout == 1 and len(node.args) == fn.nin
                and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)):
            return expr
        call = node
    call.keywords = [ast.keyword("out", ast.parse(f"B[{len(specs)}]", mode="eval").body)]
    specs.append((tuple(shape), np.dtype(dtype)))
    return ast.unparse(call)


class _Ctx:
    """A step's rule context with this call's parameter values."""

    __slots__ = ("needs", "params", "shapes", "dtypes", "outs")

    def __init__(self, step, params):
        self.needs, self.shapes, self.dtypes, self.outs = (step.needs, step.shapes, step.dtypes,
                                                          step.outs)
        self.params = params


def _unhashable(args) -> str:
    """The types of the arguments a plan key cannot hold (a numpy array)."""
    kinds = []
    for a in args:
        try:
            hash(a)
        except TypeError:
            kinds.append(f"{type(a).__module__}.{type(a).__name__}")
    return ", ".join(sorted(set(kinds)))


def _modes() -> tuple:
    """The modes a function may switch and leave switched (a replay would not)."""
    return (STATE.grad_enabled, STATE.inference, STATE.anomaly, DEFAULT_FLOAT[0])


def _copy_in(src, dtype):
    """What tape.tensor(src) holds: a copy in `dtype`, a numpy scalar when 0-d."""
    a = np.array(src, dtype=dtype, copy=True)
    return a[()] if a.ndim == 0 else a


def _check(actual, kind, value) -> None:
    """Recompute a value that left the tape while recording; it must be the same."""
    a = np.asarray(actual)
    if kind == "array":  # (bit for bit: -0.0 is not 0.0 here either, and NaN is NaN)
        same = (a.dtype == value.dtype and a.shape == value.shape
                and a.tobytes() == np.ascontiguousarray(value).tobytes())
    elif isinstance(value, list):
        same = _nested_key(a.tolist()) == _nested_key(value)
    else:  # bool(t), int(t), float(t), t.item()
        same = value_key(type(value)(a.item())) == value_key(value)
    if not same:
        raise _GuardFailed("a value read from a tensor while recording is different now")


def _owner(d):
    """The array owning a result's memory when it is a view (numpy's base), else None."""
    return d.base if type(d) is np.ndarray and d.base is not None else None


def _nested_key(v):
    """tolist()'s nested lists compared as python_guards.value_key compares scalars."""
    return [_nested_key(x) for x in v] if type(v) is list else value_key(v)


_ONE_GRAD = (True,)  # the pattern of a single output with a gradient (the common case)


# NOTE [saved values the caller can change]
# A plan's backward reads the arrays its forward saved. The values made inside the function
# are the plan's own, but an argument, a tensor from outside and a result are the caller's,
# who may change them in place before backward. Eager's saved tensors carry their version
# counters and its backward raises then; so does the plan's: the record's saved tuple ends
# with (version counter, version when saved, tensor or a result's array) for each such value.


def _compiled_backward(F, rec, g, saved=()):
    if F is not PRIMS_NP:
        raise RuntimeError("double backward through a tape.compile'd function is not supported: "
                           "call the function without tape.compile to differentiate twice")
    plan = rec.params[0]
    if plan.watched:  # NOTE [saved values the caller can change]
        saved, checks = saved[:-1], saved[-1]
        for vc, then, t in checks:
            if vc[0] != then:
                raise engine._inplace_error(rec, t, 0, vc[0], then)
    return plan.backward(saved, g if isinstance(g, tuple) else (g,))


# detach() / .data in a plan: the values again, with no backward rule (so no gradient)
_ALIAS = Op(name="detach", node="(detach)", forward=_as_array)
COMPILED = Op(name="compiled_function", node="CompiledFunctionBackward", forward=None,
              backward=_compiled_backward, inputs=("inputs",))


class CompiledFunction:
    """The callable `tape.compile(fn)` returns."""

    def __init__(self, fn):
        self.fn = fn
        self.plans: dict = {}
        self.rerecords = 0
        self.eager = False  # fell back for good
        self.stats = {"recorded": 0, "replayed": 0, "eager": 0}
        self.warned_unkeyed = False  # said once that calls with such arguments run eagerly
        self.var_keywords = None  # does fn take **kwargs (then their order keys a plan)? (once asked)
        functools.update_wrapper(self, fn)
        # for messages: a callable object or a partial has no __name__ of its own
        self.name = getattr(fn, "__name__", None) or type(fn).__name__

    def __call__(self, *args, **kwargs):
        if self.eager or (NOT_FAST and STATE.slow) or (TRACES and STATE.trace is not None):
            # (anomaly mode, saved-tensor hooks and inference mode, here now: a plan's one
            # node would not name the op that made a NaN, nor pack what eager saves, nor
            # make inference tensors, so eager runs; a recording refuses them alike. Called
            # by a function being recorded: its ops go into that recording)
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        key = None if kwargs else plan_key(args)
        if key is not None:  # tensors and plain values only (the common case: no call)
            call, containers = self.fn, None
        else:
            if self.var_keywords is None:
                self.var_keywords = takes_var_keywords(self.fn)
            key, args, call, containers = flattened_call(self.fn, args, kwargs, self.var_keywords)
        try:
            plan = self.plans.get(key)
        except TypeError:  # unhashable non-tensor arguments: no plan can key them
            self.stats["eager"] += 1
            if not self.warned_unkeyed:
                self.warned_unkeyed = True  # (first: a warnings filter may raise the warning)
                warnings.warn(f"tape.compile: {self.name} got an argument no plan can be keyed "
                              f"on ({_unhashable(args)}): calls with one run eagerly; pass "
                              "tensors to replay", RuntimeWarning, stacklevel=2)
            return call(*args)
        if plan is not None:
            try:
                changed = plan.python_check()  # NOTE [python state guards]
                if changed is not None:
                    raise _GuardFailed(f"{changed.where} changed")
                return self._replay(plan, args)
            except _GuardFailed as why:
                self.rerecords += 1
                if self.rerecords > MAX_RERECORDS:
                    self.eager = True  # (first: a warnings filter may raise the warning)
                    self.plans.clear()
                    warnings.warn(f"tape.compile: {self.name} was re-recorded "
                                  f"{MAX_RERECORDS} times ({why}); running it eagerly from now on",
                                  RuntimeWarning, stacklevel=2)
                    return call(*args)
            except Exception:  # noqa: BLE001 - whatever numpy raised, eager raises its own
                # a value the plan cannot take (an index out of range): the replay changed
                # nothing the caller sees yet, so the function runs eagerly for this call and
                # raises eager's error (torch's type and message, not numpy's)
                self.stats["eager"] += 1
                return call(*args)
        return self._record(key, args, call, containers)

    def _record(self, key, args, call, containers=None):
        if STATE.trace is not None or STATE.slow:
            self.stats["eager"] += 1
            # nested compile, anomaly mode, saved hooks, inference mode (its outputs are
            # inference tensors, which a plan's are not): stay eager
            return call(*args)
        trace = _Trace(args)
        guards = python_guards(self.fn, args)  # the Python values fn reads, before it runs
        advancing = Advancing(guards, args)  # NOTE [state a replay cannot advance]
        rng_before = creation._rng[0].bit_generator.state
        modes_before = _modes()
        TRACES.append(trace)
        STATE.trace = trace
        try:
            result = call(*args)
        finally:
            STATE.trace = None
            TRACES.remove(trace)
        self.stats["recorded"] += 1
        problem = trace.problem
        if problem is None and creation._rng[0].bit_generator.state != rng_before:
            problem = "random numbers"
        if problem is None and advancing.iterator is not None:
            problem = f"an iterator ({advancing.iterator})"
        if problem is None:
            moved = advancing.moved()
            if moved is not None:
                problem = f"random numbers from a generator outside tape ({moved})"
        if problem is None and _modes() != modes_before:
            problem = "a grad mode or default dtype that it leaves changed"
        if problem is None:
            changed = first_changed(guards)
            if changed is not None:
                problem = f"{changed.where}, which changes while it runs"
        if problem is None and containers is not None and containers_changed(*containers):
            problem = "an argument list, tuple or dict that it changes"
        read = trace.arrays_read()
        for g in guards:  # a replay reads these afresh: their values need no guard
            if type(g.obj) is np.ndarray and id(g.obj) in read:
                g.by_identity()
        try:
            if problem is not None:
                raise Unsupported(problem)
            outs, treedef = flatten_result(result)
            check_aliases(trace, outs)
            plan = self.plans[key] = _Plan(trace, outs, treedef, args, self.name, guards)
        except Unsupported as why:
            self.eager = True  # (first: a warnings filter may raise the warning)
            warnings.warn(f"tape.compile: {self.name} uses {why}, which a replayed plan "
                          "cannot express; running it eagerly", RuntimeWarning, stacklevel=3)
            return result
        # every call's outputs carry the one CompiledFunctionBackward node, the first too
        return self._replay(plan, args)

    def _replay(self, plan: _Plan, args):
        token = quiet()  # NOTE [quiet IEEE] (the backward runs in a playback, quiet too)
        try:
            out = plan.call(*args)
        finally:
            unquiet(token)
        self.stats["replayed"] += 1
        return out

    def source(self, *args) -> str:
        """The generated Python of the plan these arguments run (recording one if needed):
        the forward, then each backward generated so far (one per pattern of outputs that
        got a gradient; the first backward call of a pattern generates it)."""
        key = plan_key(args) or flattened_call(self.fn, args, {})[0]
        if key not in self.plans:
            self(*args)
        plan = self.plans.get(key)
        if plan is None:
            return f"# {self.name} runs eagerly: no plan"
        return "\n".join([plan.forward_source] + list(plan.backward_sources.values()))


def compile(model=None, **options):  # noqa: A001 - torch's name
    """A callable that behaves like `model` (a function), gradients included, replaying a
    recorded plan; without one, a decorator.

    torch.compile's options (mode, fullgraph, dynamic, backend...) are accepted and ignored.
    """
    if model is None:
        return lambda f: compile(f)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return CompiledFunction(model)
