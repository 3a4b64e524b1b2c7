"""Arrays a compiled plan's forward writes into (`out=`), allocated once and reused.

NOTE [plan buffers]
A replayed forward that allocates every intermediate afresh pays the allocator on each call,
and for large arrays the C library's heap trimming too: freed blocks go back to the kernel
and come back as page faults on the next call (a 4M-element float32 chain took thousands a
step). A plan instead writes each large intermediate that it computes with a numpy ufunc
into a buffer of a *buffer set*: one array per such value, made once.

A set may be reused only when nothing can still see its arrays: not the backward of an
earlier call (its record saves some of them), not a user holding a value that turned out to
alias one, not another thread's call. Rather than tracking owners, the pool asks the arrays'
reference counts, the measure NOTE [stealing] in engine.py uses: a set is free when the set
alone holds each of its arrays (a view holds its base, so views count too). A call takes a
free set out of the pool (or makes a new one) and hands it back when its forward is done;
while it runs, its locals hold the arrays, so no other call can take them. At most
MAX_SETS sets are kept per plan; when more calls are alive at once (graphs kept for a later
backward), the extra sets are made per call and dropped, as eager's arrays would be.

Which values get a buffer is the plan's choice (tape/compiled.py): a value some op computes
with a numpy ufunc (also a matmul), of at least MIN_BYTES, C-contiguous as eager's result,
not an output of the function, and sharing memory with no other recorded value.

The generated backward has its own pool, for the gradients of the function's own values
(never one it returns): a gradient of at least MIN_BYTES that one ufunc computes from
existing arrays (`g * v`, a matmul) is written into the backward's set. An operator with a
computed operand (`g * (1 - y * y)`) is left alone: numpy's temporary elision already
writes the result into that temporary. Whether a returned gradient could still alias a
buffer (a rule passing its gradient through unchanged) needs no analysis: the pool's
reference counts keep such a set out of use, and a leaf's `.grad` copies an array it
cannot steal (NOTE [stealing]). The first backward of each plan runs the buffered code
once more and compares it with the interpreter's gradients bit for bit; any difference and
that backward is planned without buffers.
"""

from __future__ import annotations

import sys

import numpy as np

MAX_SETS = 4
MIN_BYTES = 64 * 1024  # below this the allocator is cheap, and a buffer saves nothing

_getrefcount = sys.getrefcount


def _first_count(s):
    for b in s:
        return _getrefcount(b)


# an array held only by its set, as `take` sees it (measured: the count varies by version)
_FREE = _first_count([np.empty(1)])


class BufferPool:
    """One plan's buffer sets: `take()` a free one for a call, `give()` it back after."""

    __slots__ = ("specs", "sets")

    def __init__(self, specs: list):
        self.specs = specs  # per buffer: (shape, dtype)
        self.sets: list = []

    def take(self) -> list:
        sets = self.sets
        busy = []
        try:
            while sets:
                try:
                    s = sets.pop()  # atomic: another thread cannot take the same set
                except IndexError:
                    break
                for b in s:
                    if _getrefcount(b) > _FREE:
                        busy.append(s)
                        break
                else:
                    return s
        finally:
            if busy:
                sets[:0] = busy  # still in use: back in the pool, behind the free ones
        return [np.empty(shape, dtype) for shape, dtype in self.specs]

    def give(self, s: list) -> None:
        if len(self.sets) < MAX_SETS:
            self.sets.append(s)
