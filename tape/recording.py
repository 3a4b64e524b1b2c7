"""The Wengert list: one `Record` per recorded op, and the global tape that numbers them.

NOTE [who keeps records alive]
A record is kept alive by the tensors it produced (`Tensor._rec`) and by later records that
consume those tensors (`Record.inputs`), as torch's graph is. The global tape holds only
weak references, pruned as they die, so its size is bounded by what is alive and dropping
a graph's outputs frees its records and their saved arrays.

NOTE [positions]
Positions come from one global counter, so an op's inputs always have lower positions than
the op itself: reverse playback pops the highest position first and never needs a
dependency count. AccumulateGrad sinks take a position when created, which is before any
record that feeds them.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import attrs

next_position = itertools.count().__next__  # atomic under the GIL: safe across threads


@attrs.define(eq=False, slots=True, weakref_slot=True)
class Record:
    """One recorded op: what ran, on what, and what its backward will need."""

    op: Any  # ops.registry.Op
    pos: int
    # per input: (producer Record, output index), (AccumulateGrad, 0), or None (no grad)
    inputs: tuple
    needs: tuple  # per input: does it need a gradient
    # per entry of op.saves: (value, version counter, version when saved) or None; FREED after
    saved: Any = attrs.field(repr=False)
    params: tuple = attrs.field(repr=False)
    shapes: tuple = ()  # input shapes, for reducing broadcast gradients
    dtypes: tuple = ()  # input dtypes, for casting gradients back
    outs: tuple = attrs.field(repr=False, default=())  # weak references to the outputs
    node: Any = attrs.field(repr=False, default=None)  # weakref to the cached graph-view Node
    extra: Any = attrs.field(repr=False, default=None)  # RecordExtras when hooks etc. exist

    @property
    def name(self) -> str:
        return self.op.node


@attrs.define(eq=False, slots=True)
class RecordExtras:
    """The rarely used parts of a record: hooks, retained grads, node metadata."""

    tensor_hooks: dict = attrs.Factory(dict)  # output index -> {handle id: fn}
    retain: set = attrs.Factory(set)  # output indices whose tensors retain_grad()
    pre_hooks: dict = attrs.Factory(dict)  # Node.register_prehook
    post_hooks: dict = attrs.Factory(dict)  # Node.register_hook
    metadata: dict = attrs.Factory(dict)
    trace: Any = None  # forward stack, captured in anomaly mode


def extras(rec: Record) -> RecordExtras:
    if rec.extra is None:
        rec.extra = RecordExtras()
    return rec.extra


class _Freed:
    def __repr__(self):
        return "<freed>"


FREED = _Freed()  # Record.saved after playback without retain_graph


class Tape:
    """The global tape: weak references to live records in position order."""

    def __init__(self):
        self._refs: list[weakref.ref] = []
        self._prune_at = 1024
        self.scopes: list = []  # GradientTape scopes currently recording

    def append(self, rec: Record) -> None:
        refs = self._refs
        refs.append(weakref.ref(rec))
        if len(refs) >= self._prune_at:
            # amortised O(1): prune dead entries when the list has doubled
            refs[:] = [r for r in refs if r() is not None]
            self._prune_at = max(1024, 2 * len(refs))
        if self.scopes:
            for scope in self.scopes:
                scope._add(rec)

    def records(self) -> list[Record]:
        """The live records, oldest first."""
        return [r for r in (ref() for ref in self._refs) if r is not None]

    def __len__(self) -> int:
        return len(self.records())

    def __repr__(self) -> str:
        from .wengert import format_records

        return format_records(self.records(), title="the global tape")


TAPE = Tape()
