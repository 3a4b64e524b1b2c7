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
keyed by grad mode and the inputs' shapes/dtypes/requires_grad; the outside tensors' shapes,
dtypes and requires_grad are checked on every call; and every value that left the tape
while recording (`bool(t)`, `t.item()`, `t.tolist()`, `t.numpy()`...) is recomputed and
compared during replay. On any mismatch the call runs eagerly while recording a new plan.
After MAX_RERECORDS re-recordings the function falls back to eager for good, with a
warning. Things a plan cannot express (in-place ops, random numbers) also fall back.
"""

from __future__ import annotations

import functools
import warnings
import weakref

import numpy as np

from . import creation, engine
from .grad_mode import STATE
from .ops.registry import Op
from .recording import Record, next_position
from .tensor import Tensor, _wrap

MAX_RERECORDS = 8


class _GuardFailed(Exception):
    pass


class _Unsupported(Exception):
    pass


class _SlotRef:
    """A parameter that is the value of a slot (e.g. where's condition computed in fn)."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class _Step:
    """One planned op: which slots feed it, which it fills, and what its rule needs."""

    __slots__ = ("op", "ins", "params", "outs", "needs", "shapes", "dtypes", "grad", "checks",
                 "dynamic")

    def __init__(self, op, ins, params, outs):
        self.op = op
        self.ins = ins  # per input: slot number, or ("const", value)
        self.params = params
        self.dynamic = any(type(p) is _SlotRef for p in params)
        self.outs = outs  # slot numbers of the outputs
        self.needs = ()  # per input: does it need a gradient (the ctx.needs of the rule)
        self.shapes = ()
        self.dtypes = ()
        self.grad = False  # does this step take part in the backward
        self.checks = ()  # (slot, kind, value): observations to re-check after this step


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
        self.problem = None
        for a in args:
            if isinstance(a, Tensor):
                self._new_slot(a)
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

    def call(self, op, inputs, params):
        ins = tuple(self._slot(x) if isinstance(x, Tensor) else ("const", x) for x in inputs)
        STATE.trace = None
        try:
            result = engine.call(op, inputs, params)
        finally:
            STATE.trace = self
        outs = result if isinstance(result, tuple) else (result,)
        # an array parameter that is some slot's value is read from that slot on replay
        params = tuple(_SlotRef(self.array_slot[id(p)])
                       if isinstance(p, np.ndarray) and id(p) in self.array_slot else p
                       for p in params)
        self.steps.append(_Step(op, ins, params, tuple(self._new_slot(t) for t in outs)))
        return result

    def observe(self, t, value) -> None:
        s = self.slot_of.get(id(t))
        if s is None:
            return  # a tensor made outside every op (a constant): nothing to re-check
        kind = "array" if isinstance(value, np.ndarray) else "value"
        self.observed.append((s, kind, value))

    def unsupported(self, what: str) -> None:
        if self.problem is None:
            self.problem = what


class _Plan:
    """What replaying needs: the steps, the slots of args/outside tensors and outputs."""

    def __init__(self, trace: _Trace, outputs, treedef):
        self.n = trace.n
        self.n_args = trace.n_args
        self.steps = trace.steps
        # strong references: constants made inside fn live as long as the plan
        self.outside = [(s, t, t._data.shape, t._data.dtype, t._rg) for s, t in trace.outside]
        self.out_slots = tuple(trace.slot_of[id(o)] for o in outputs)
        self.treedef = treedef
        producer = {}
        for k, step in enumerate(self.steps):
            for s in step.outs:
                producer[s] = k
        for s in self.out_slots:
            if s not in producer:
                raise _Unsupported("an output that no op inside the function produced")
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

    def _plan_backward(self, trace: _Trace) -> None:
        """Which slots need gradients, and each step's rule context (fixed per plan)."""
        needs_grad = [False] * self.n
        if STATE.grad_enabled:
            for i, t in enumerate(trace.keep[: self.n_args]):
                needs_grad[i] = t._rg
            for s, t in trace.outside:
                needs_grad[s] = t._rg
        self.grad_slots = needs_grad
        for step in self.steps:
            needs = tuple(not isinstance(i, tuple) and needs_grad[i] for i in step.ins)
            step.grad = step.op.backward is not None and any(needs)
            if step.grad:
                step.needs = needs
                step.shapes = tuple(None if isinstance(i, tuple) else trace.keep[i]._data.shape
                                    for i in step.ins)
                step.dtypes = tuple(None if isinstance(i, tuple) else trace.keep[i]._data.dtype
                                    for i in step.ins)
                for s in step.outs:
                    needs_grad[s] = trace.keep[s]._data.dtype.kind in "fc"
        self.backward_steps = [st for st in reversed(self.steps) if st.grad]
        self.sources = [i for i in range(self.n_args) if needs_grad[i]] + [
            s for s, *_ in self.outside if needs_grad[s]]

    # ---- replay ------------------------------------------------------------------------

    def forward(self, arrays) -> list:
        vals = [None] * self.n
        vals[: self.n_args] = arrays
        for s, t, shape, dtype, rg in self.outside:
            if t._data.shape != shape or t._data.dtype != dtype or t._rg != rg:
                raise _GuardFailed("an outside tensor changed")
            vals[s] = t._data
        for s, kind, value in self.arg_checks:
            _check(vals[s], kind, value)
        for step in self.steps:
            args = [i[1] if type(i) is tuple else vals[i] for i in step.ins]
            params = step.params
            if step.dynamic:
                params = tuple(vals[p.slot] if type(p) is _SlotRef else p for p in params)
            out = step.op.forward(*args, *params)
            if len(step.outs) == 1:
                vals[step.outs[0]] = out
            else:
                for s, o in zip(step.outs, out):
                    vals[s] = o
            for s, kind, value in step.checks:
                _check(vals[s], kind, value)
        return vals

    def backward(self, vals, out_grads, F) -> list:
        """Gradients for self.sources, given the outputs' gradients (None where none)."""
        grads: dict[int, object] = {}
        for s, g in zip(self.out_slots, out_grads):
            if g is not None:
                grads[s] = g if s not in grads else grads[s] + g
        for step in self.backward_steps:
            gs = [grads.pop(s, None) for s in step.outs]
            if all(g is None for g in gs):
                continue
            if len(gs) == 1:
                g = gs[0]
            else:
                g = tuple(gs)
            saved = []
            for i, which in step.op.save_plan:
                if not any(step.needs[w] for w in which):
                    saved.append(None)
                elif i < 0:
                    saved.append(vals[step.outs[0]])
                else:
                    src = step.ins[i]
                    saved.append(src[1] if type(src) is tuple else vals[src])
            if step.dynamic:  # rules read ctx.params: give them this call's values
                ctx = _Ctx(step, tuple(vals[p.slot] if type(p) is _SlotRef else p
                                       for p in step.params))
            else:
                ctx = step
            in_grads = step.op.backward(F, ctx, g, *saved)
            for src, gi, shape, dt in zip(step.ins, in_grads, step.shapes, step.dtypes):
                if gi is None or type(src) is tuple or not self.grad_slots[src]:
                    continue
                if gi.shape != shape:
                    gi = F.sum_to(gi, shape)
                if gi.dtype != dt:
                    gi = gi.astype(dt)
                grads[src] = gi if src not in grads else grads[src] + gi
        return [grads.get(s) for s in self.sources]


class _Ctx:
    """A step's rule context with this call's parameter values."""

    __slots__ = ("needs", "params", "shapes", "dtypes", "outs")

    def __init__(self, step, params):
        self.needs, self.shapes, self.dtypes, self.outs = (step.needs, step.shapes, step.dtypes,
                                                          step.outs)
        self.params = params


def _check(actual, kind, value) -> None:
    """Recompute a value that left the tape while recording; it must be the same."""
    a = np.asarray(actual)
    if kind == "array":
        same = np.array_equal(a, value)
    elif isinstance(value, list):
        same = a.tolist() == value
    else:
        same = type(value)(a.item()) == value  # bool(t), int(t), float(t), t.item()
    if not same:
        raise _GuardFailed("a value read from a tensor while recording is different now")


def _compiled_backward(F, rec, g, *saved):
    plan, vals = rec.params
    if F is not engine_prims_np():
        raise RuntimeError("double backward through a tape.compile'd function is not supported: "
                           "call the function without tape.compile to differentiate twice")
    grads = g if isinstance(g, tuple) else (g,)
    return tuple(plan.backward(vals, grads, F))


def engine_prims_np():
    from .api import PRIMS_NP

    return PRIMS_NP


COMPILED = Op(name="compiled_function", node="CompiledFunctionBackward", forward=None,
              backward=_compiled_backward, inputs=("inputs",))


def _flatten(result):
    if isinstance(result, Tensor):
        return [result], None
    if isinstance(result, (tuple, list)) and all(isinstance(r, Tensor) for r in result):
        return list(result), type(result)
    raise _Unsupported("a result that is not a tensor or a tuple/list of tensors")


def _unflatten(outs, treedef):
    return outs[0] if treedef is None else treedef(outs)


class CompiledFunction:
    """The callable `tape.compile(fn)` returns."""

    def __init__(self, fn):
        self.fn = fn
        self.plans: dict = {}
        self.rerecords = 0
        self.eager = False  # fell back for good
        self.stats = {"recorded": 0, "replayed": 0, "eager": 0}
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        if self.eager or kwargs:
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        try:
            key = (STATE.grad_enabled,) + tuple(
                (a._data.shape, a._data.dtype, a._rg) if isinstance(a, Tensor) else ("py", a)
                for a in args)
            hash(key)
        except TypeError:
            self.stats["eager"] += 1
            return self.fn(*args)  # unhashable non-tensor arguments: no plan can key them
        plan = self.plans.get(key)
        if plan is not None:
            try:
                return self._replay(plan, args)
            except _GuardFailed as why:
                self.rerecords += 1
                if self.rerecords > MAX_RERECORDS:
                    warnings.warn(f"tape.compile: {self.fn.__name__} was re-recorded "
                                  f"{MAX_RERECORDS} times ({why}); running it eagerly from now on",
                                  RuntimeWarning, stacklevel=2)
                    self.eager = True
                    self.plans.clear()
                    return self.fn(*args)
        return self._record(key, args)

    def _record(self, key, args):
        if STATE.trace is not None or STATE.anomaly or STATE.saved_hooks:
            self.stats["eager"] += 1
            return self.fn(*args)  # nested compile, anomaly mode, saved hooks: stay eager
        trace = _Trace(args)
        rng_before = creation._rng[0].bit_generator.state
        engine.TRACES.append(trace)
        STATE.trace = trace
        try:
            result = self.fn(*args)
        finally:
            STATE.trace = None
            engine.TRACES.remove(trace)
        self.stats["recorded"] += 1
        problem = trace.problem
        if problem is None and creation._rng[0].bit_generator.state != rng_before:
            problem = "random numbers"
        try:
            if problem is not None:
                raise _Unsupported(problem)
            outs, treedef = _flatten(result)
            plan = self.plans[key] = _Plan(trace, outs, treedef)
        except _Unsupported as why:
            warnings.warn(f"tape.compile: {self.fn.__name__} uses {why}, which a replayed plan "
                          "cannot express; running it eagerly", RuntimeWarning, stacklevel=3)
            self.eager = True
            return result
        # every call's outputs carry the one CompiledFunctionBackward node, the first too
        return self._replay(plan, args)

    def _replay(self, plan: _Plan, args):
        arrays = [a._data for a in args if isinstance(a, Tensor)]
        vals = plan.forward(arrays)
        self.stats["replayed"] += 1
        out_arrays = [vals[s] for s in plan.out_slots]
        if not plan.sources:
            return _unflatten([_wrap(a) for a in out_arrays], plan.treedef)
        # one record for the whole function; its inputs are the sources' edges
        tensors = [a for a in args if isinstance(a, Tensor)]
        edge_tensors = [tensors[i] for i in plan.sources if i < plan.n_args] + [
            t for s, t, *_ in plan.outside if s in plan.sources]
        edges = tuple(engine.edge_of(t) for t in edge_tensors)
        rec = Record(COMPILED, next_position(), edges, tuple(True for _ in edges), (),
                     (plan, vals), tuple(t._data.shape for t in edge_tensors),
                     tuple(t._data.dtype for t in edge_tensors))
        outs = [_wrap(a, rec, i, a.dtype.kind in "fc") for i, a in enumerate(out_arrays)]
        rec.outs = tuple(weakref.ref(t) for t in outs)
        engine.TAPE.append(rec)
        return _unflatten(outs, plan.treedef)


def compile(fn=None, **options):  # noqa: A001 - torch's name
    """A callable that behaves like `fn`, gradients included, replaying a recorded plan.

    torch.compile's options (mode, fullgraph, dynamic, backend...) are accepted and ignored.
    """
    if fn is None:
        return lambda f: CompiledFunction(f)
    return CompiledFunction(fn)
