"""The Wengert list: one `Record` per recorded op, and the global tape that numbers them.

NOTE [who keeps records alive]
A record is kept alive by the tensors it produced (`Tensor._rec`) and by later records that
consume those tensors (`Record.inputs`), as torch's graph is. The global tape holds no
reference at all (NOTE [the global tape keeps no list]), so dropping a graph's outputs frees
its records and their saved arrays.

NOTE [positions]
Positions come from one global counter, so an op's inputs always have lower positions than
the op itself: reverse playback pops the highest position first and never needs a
dependency count. AccumulateGrad sinks take a position when created, which is before any
record that feeds them (and decides when they run only while no user code can watch:
NOTE [torch's order] in engine.py).
"""

from __future__ import annotations

import gc
import itertools
import weakref
from typing import Any

import attrs

next_position = itertools.count().__next__  # atomic under the GIL: safe across threads


@attrs.define(eq=False, slots=True, weakref_slot=True)
class Record:
    """One recorded op: what ran, on what, and what its backward will need.

    The engine's hot path (engine.call) sets every field itself instead of calling
    __init__ (a Python call per op): a new field must be set there too."""

    op: Any  # ops.registry.Op
    pos: int
    # per input: the node its gradient goes to (the producer Record, or the leaf's
    # AccumulateGrad), or None (no grad); and which output of that node it is (0 for a
    # leaf and for None). Two flat tuples, not one (node, index) pair per input: NOTE [flat]
    inputs: tuple
    input_idx: tuple
    needs: tuple  # per input: does it need a gradient
    # per entry of op.saves, three items in a row: value, version counter, version when
    # saved (None, None, 0 when not saved); FREED after playback. NOTE [flat]
    saved: Any = attrs.field(repr=False)
    params: tuple = attrs.field(repr=False)
    shapes: tuple = ()  # input shapes, for reducing broadcast gradients
    dtypes: tuple = ()  # input dtypes, for casting gradients back
    # a weak reference to the output, a tuple of them for an op with several, or None: one
    # output, not looked up yet (NOTE [outputs found when asked])
    outs: Any = attrs.field(repr=False, default=())
    node: Any = attrs.field(repr=False, default=None)  # weakref to the cached graph-view Node
    extra: Any = attrs.field(repr=False, default=None)  # RecordExtras when hooks etc. exist

    @property
    def name(self) -> str:
        return self.op.node

    def edges(self) -> tuple:
        """Per input: (node, output index), or None when it needs no gradient."""
        return tuple(None if n is None else (n, i) for n, i in zip(self.inputs, self.input_idx))

    def out_refs(self) -> tuple:
        """Weak references to the outputs, one per output (NOTE [outputs found when asked])."""
        outs = self.outs
        if outs is None:
            find_outputs()
            outs = self.outs
        return outs if type(outs) is tuple else (outs,)

    def saved_entries(self):
        """Per entry of op.saves: (value, version counter, version when saved), or None when
        not saved; FREED after playback without retain_graph."""
        return unflat_saved(self.saved)


# NOTE [flat]
# A graph of many small ops is bounded by Python's cyclic garbage collector, which walks
# every tracked object a graph keeps (issue 6's W4: 10,000 ops, the collector took about
# half of tape's time). So a record keeps its edges and saved entries in flat tuples, not
# as one small tuple per input and per saved value: a two-input op that saves both keeps
# one tuple where it kept seven. `Record.edges()` and `Record.saved_entries()` give the
# paired views for code off the hot path. Likewise a one-output record's `outs` is the weak
# reference itself, not a tuple of one (`Record.out_refs()` gives the tuple).

# NOTE [outputs found when asked]
# Only introspection asks a record for its output tensor (printing or drawing the tape,
# anomaly mode's culprit, retain_grad), so a record made on the engine's hot path keeps no
# weak reference to its one output (outs is None): a weak reference is one more object per
# op for the collector, and its own cost on every op. When asked, find_outputs() scans the
# live tensors once, as Tape.records() scans the live records, and points every such
# record at its output, or at a dead reference when the output is gone. A tensor that
# stops being its record's output (an in-place op, detach_()) first pins the record's
# reference to itself (pin_output), as the reference made at record time would have.
# A scan walks the whole heap (tens of ms in a process with torch imported), so once a
# program has asked, records made from then on keep the reference again (KEEP_OUTPUTS):
# a program that looks at its tapes pays one scan, one that never looks pays nothing.


def _gone():  # a dead reference: the output no longer exists
    return None


KEEP_OUTPUTS = [False]  # [0]: the engine gives each new record its output's reference


def find_outputs() -> None:
    """Point each record whose output was not looked up yet at that output, or at _gone."""
    from .tensor import Tensor

    KEEP_OUTPUTS[0] = True
    waiting = []
    for o in gc.get_objects():  # one pass: a test process can hold millions of objects
        tp = type(o)
        if tp is Record:
            if o.outs is None:
                waiting.append(o)
        elif tp is Tensor or issubclass(tp, Tensor):  # (isinstance: some __class__ warns)
            rec = o._rec
            if rec is not None and rec.outs is None and o._idx == 0:
                rec.outs = weakref.ref(o)
    for rec in waiting:
        if rec.outs is None:
            rec.outs = _gone


def pin_output(t) -> None:
    """`t` is about to stop being its record's output: keep the record's reference to it."""
    rec = t._rec
    if rec is not None and (rec.outs is None or rec.outs is _gone):  # (_gone: a scan missed it)
        rec.outs = weakref.ref(t)

def rehome(t, old, old_idx: int) -> None:
    """`t`'s history moved from record `old` to a new one (an in-place op, a regenerated
    view): a retain_grad() on it follows, as torch moves it; its other hooks stay behind."""
    if old is not None and old.extra is not None and old_idx in old.extra.retain:
        old.extra.retain.discard(old_idx)
        extras(t._rec).retain.add(t._idx)


NOT_SAVED = (None, None, 0)


def flat_saved(entries) -> tuple:
    """A record's `saved` from entries (value, vc, version) or None."""
    out = []
    for e in entries:
        out.extend(NOT_SAVED if e is None else e)
    return tuple(out)


def unflat_saved(saved):
    if saved is FREED:
        return FREED
    return tuple(None if saved[k] is None and saved[k + 1] is None else saved[k:k + 3]
                 for k in range(0, len(saved), 3))


_IDX0 = {n: (0,) * n for n in range(9)}


def zero_idx(n: int) -> tuple:
    """(0,) * n, shared: most inputs are output 0 of their node."""
    t = _IDX0.get(n)
    return t if t is not None else (0,) * n


@attrs.define(eq=False, slots=True)
class RecordExtras:
    """The rarely used parts of a record: hooks, retained grads, node metadata."""

    tensor_hooks: dict = attrs.Factory(dict)  # output index -> {handle id: fn}
    retain: set = attrs.Factory(set)  # output indices whose tensors retain_grad()
    pre_hooks: dict = attrs.Factory(dict)  # Node.register_prehook
    post_hooks: dict = attrs.Factory(dict)  # Node.register_hook
    metadata: dict = attrs.Factory(dict)
    trace: Any = None  # forward stack, captured in anomaly mode
    # (version counter, version, name, array) of each tensor the op took as a param (an
    # index, a mask, class weights): torch saves those, so a change in place before the
    # backward is its error, not a silently different gradient (engine.watch_params)
    watched: tuple = ()
    # False while the record has only `watched` (NOTE [watched alone]): playback's fast path
    # then checks them itself instead of sending the record through hooks and _run
    hooked: bool = True


def extras(rec: Record) -> RecordExtras:
    """The record's extras, made when missing, for a caller about to add a hook, a retained
    output, metadata or a trace (so no longer `watched` alone)."""
    ex = rec.extra
    if ex is None:
        ex = rec.extra = RecordExtras()
    elif not ex.hooked:
        ex.hooked = True
    return ex


# NOTE [watched alone]
# nll_loss and cross_entropy watch their target (engine.watch_params), so every training
# step's loss record has extras. Hooks, retained outputs and metadata need the slow path
# (hooks.before_node, engine._run); a version check does not. Extras that watch_params
# makes say so (hooked=False) until anything else asks for them (extras() above), and
# playback checks such a record's watched tensors where it would run its hooks: W2 spent
# ~43,000 instructions a step (~1%) on the slow path for its one loss record.


class _Freed:
    def __repr__(self):
        return "<freed>"


FREED = _Freed()  # Record.saved after playback without retain_graph


class Tape:
    """The global tape: every live record, in position order.

    NOTE [the global tape keeps no list]
    Positions already order the records, and Python's cyclic garbage collector already
    tracks every live `Record` (a slotted class with references is always tracked). So
    the tape is materialised from the collector when someone looks at it, and recording an
    op costs nothing here: a per-op weak reference was 9% of a recorded op's time on W1 and
    one more object for every collection to walk (issue 6). Its size is what is alive, as
    DESIGN.md asks. Only GradientTape scopes get each record as it is made.
    """

    def __init__(self):
        self.scopes: list = []  # GradientTape scopes currently recording (mutated in place)

    def append(self, rec: Record) -> None:
        """Hand a new record to the recording scopes (the engine skips this when none)."""
        for scope in self.scopes:
            scope._add(rec)

    def records(self) -> list[Record]:
        """The live records, oldest first."""
        recs = [o for o in gc.get_objects() if type(o) is Record]
        recs.sort(key=_position)
        return recs

    def __len__(self) -> int:
        return sum(1 for o in gc.get_objects() if type(o) is Record)

    def __repr__(self) -> str:
        from .wengert import format_records

        return format_records(self.records(), title="the global tape")


def _position(rec: Record) -> int:
    return rec.pos


TAPE = Tape()
