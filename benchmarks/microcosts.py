"""Micro-costs behind tape's per-op overhead, in nanoseconds (timeit, best of several repeats).

Two parts. "primitives": what a Python/numpy building block costs on this machine
(weakref.ref, a 10-field attrs slotted init against a hand-written __slots__ class, numpy
scalar against 0-d array arithmetic, a threading.local read, ...). "engine": the pieces of
tape's hot path timed on the real objects of W1 (`y * a` with `y` a recorded 0-d float64
and `a` a leaf), so docs/benchmarks.md can say where each microsecond goes.

    python benchmarks/microcosts.py [--json PATH]

Best-of-repeats is the right statistic here (a micro-cost is a lower bound; noise only adds).
The numbers are machine-specific: compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import heapq
import json
import threading
import timeit
import weakref

import attrs
import numpy as np
from tape.ops import arith
from tape.ops.dtypes import binary_dtype

import tape
from tape import engine
from tape.api import PRIMS_NP
from tape.grad_mode import STATE
from tape.graph import accumulate_grad
from tape.recording import TAPE, Record, next_position
from tape.tensor import _wrap


def ns(stmt, globals_: dict, number: int = 200_000, repeat: int = 7) -> float:
    """Best per-call time of `stmt` in nanoseconds."""
    t = timeit.Timer(stmt, globals=globals_)
    return min(t.repeat(repeat=repeat, number=number)) / number * 1e9


# ---------------------------------------------------------------------------------------
# Primitives


@attrs.define(eq=False, slots=True, weakref_slot=True)
class AttrsRec:
    op: object
    pos: int
    inputs: tuple
    needs: tuple
    saved: object = attrs.field(repr=False)
    params: tuple = attrs.field(repr=False)
    shapes: tuple = ()
    dtypes: tuple = ()
    outs: tuple = attrs.field(repr=False, default=())
    node: object = attrs.field(repr=False, default=None)
    extra: object = attrs.field(repr=False, default=None)


class SlotsRec:
    __slots__ = ("op", "pos", "inputs", "needs", "saved", "params", "shapes", "dtypes", "outs",
                 "node", "extra", "__weakref__")

    def __init__(self, op, pos, inputs, needs, saved, params, shapes=(), dtypes=()):
        self.op = op
        self.pos = pos
        self.inputs = inputs
        self.needs = needs
        self.saved = saved
        self.params = params
        self.shapes = shapes
        self.dtypes = dtypes
        self.outs = ()
        self.node = None
        self.extra = None


class SlotsRec6:
    """The same record with the per-input facts folded into 6 fields (see proposal 3)."""

    __slots__ = ("op", "pos", "inputs", "saved", "params", "outs", "node", "extra", "__weakref__")

    def __init__(self, op, pos, inputs, saved, params, outs):
        self.op = op
        self.pos = pos
        self.inputs = inputs
        self.saved = saved
        self.params = params
        self.outs = outs
        self.node = None
        self.extra = None


class Plain:
    pass


class Local(threading.local):
    grad_enabled = True


def primitives() -> dict:
    s = np.float64(0.3)
    z = np.array(0.7)
    z2 = np.array(0.9)
    g = {
        "weakref": weakref, "s": s, "s2": np.float64(0.9), "z": z, "z2": z2, "np": np,
        "AttrsRec": AttrsRec, "SlotsRec": SlotsRec, "SlotsRec6": SlotsRec6,
        "obj": Plain(), "local": Local(), "STATE": STATE, "heapq": heapq,
        "lst": [], "t3": ((None, 0), (None, 0)), "f": lambda: None, "T": tape.Tensor,
        "count": next_position, "ones": (True, True), "sh": (), "dt": np.dtype(np.float64),
    }
    g["plain"] = Plain()
    g["plain"].grad_enabled = True
    out = {}

    def put(key, stmt, **kw):
        out[key] = round(ns(stmt, g, **kw), 1)

    put("empty statement (loop floor)", "pass", number=1_000_000)
    put("python call, no args: f()", "f()", number=1_000_000)
    put("weakref.ref(obj)", "weakref.ref(obj)")
    put("attrs slotted init, 11 fields (Record today)",
        "AttrsRec(1, 2, t3, ones, None, (), sh, sh)")
    put("hand __slots__ __init__, 11 fields", "SlotsRec(1, 2, t3, ones, None, (), sh, sh)")
    put("hand __slots__ __init__, 8 fields", "SlotsRec6(1, 2, t3, None, (), ())")
    put("numpy scalar * numpy scalar", "s * s2", number=1_000_000)
    put("0-d array * 0-d array", "z * z2", number=1_000_000)
    put("numpy scalar * 0-d array", "s * z", number=1_000_000)
    put("np.multiply(scalar, scalar)", "np.multiply(s, s2)", number=1_000_000)
    put("np.multiply(scalar, scalar, dtype=dt)", "np.multiply(s, s2, dtype=dt)")
    put("float(s) * float(s2) (Python floats)", "float(s) * float(s2)", number=1_000_000)
    put("np.sin(scalar)", "np.sin(s)", number=1_000_000)
    put("threading.local attribute read", "local.grad_enabled", number=1_000_000)
    put("STATE.grad_enabled (tape's threading.local subclass)", "STATE.grad_enabled",
        number=1_000_000)
    put("plain object attribute read", "plain.grad_enabled", number=1_000_000)
    put("isinstance(t, Tensor)", "isinstance(obj, T)", number=1_000_000)
    put("type(t) is Tensor", "type(obj) is T", number=1_000_000)
    put("scalar.shape (builds a tuple)", "s.shape", number=1_000_000)
    put("scalar.dtype", "s.dtype", number=1_000_000)
    put("scalar.shape != () and dtype != dt", "s.shape != sh or s.dtype != dt", number=1_000_000)
    put("heappush + heappop", "heapq.heappush(lst, (-5, obj)); heapq.heappop(lst)")
    put("next_position()", "count()", number=1_000_000)
    put("tuple(genexpr of 1)", "tuple(x for x in (obj,))")
    put("(x,) literal", "(obj,)", number=1_000_000)
    put("any(genexpr over 1)", "any(ones[w] for w in (0,))")
    put("[None] * 2 list", "[None] * 2", number=1_000_000)
    return out


# ---------------------------------------------------------------------------------------
# Engine pieces on W1's objects


def engine_pieces() -> dict:
    x = tape.tensor(0.3, dtype=tape.float64, requires_grad=True)
    a = tape.tensor(0.7, dtype=tape.float64, requires_grad=True)
    y = x * a + x  # recorded, data is a numpy scalar
    out = y._data * a._data
    rec = engine._record(arith.MUL, (y, a), ())
    g = {
        "engine": engine, "arith": arith, "MUL": arith.MUL, "ADD": arith.ADD, "y": y, "a": a,
        "x": x, "yd": y._data, "ad": a._data, "out": out, "rec": rec, "Record": Record,
        "TAPE": TAPE, "_wrap": _wrap, "binary_dtype": binary_dtype, "np": np,
        "accumulate_grad": accumulate_grad, "F": PRIMS_NP, "gs": np.float64(1.0),
        "next_position": next_position, "STATE": STATE, "heapq": heapq,
    }
    out_ = {}

    def put(key, stmt, number=100_000):
        out_[key] = round(ns(stmt, g, number=number), 1)

    # forward
    put("y * a (whole forward op)", "y * a")
    put("arith.mul(y, a)", "arith.mul(y, a)")
    put("engine.call(MUL, (y, a))", "engine.call(MUL, (y, a))")
    put("MUL.forward(yd, ad) (binary_dtype + np.multiply)", "MUL.forward(yd, ad)")
    put("np.multiply(yd, ad)", "np.multiply(yd, ad)")
    put("binary_dtype(yd, ad)", "binary_dtype(yd, ad)")
    put("engine._record(MUL, (y, a), ())", "engine._record(MUL, (y, a), ())")
    put("accumulate_grad(a) (cached)", "accumulate_grad(a)")
    put("Record(...) init", "Record(MUL, 1, ((None, 0), (None, 0)), (True, True), [None, None], (), "
        "((), ()), (yd.dtype, yd.dtype))")
    put("engine._save(value, vc, v)", "engine._save(yd, y._vc, 0)")
    put("engine._recorded_outputs(MUL, rec, (y, a), out)",
        "engine._recorded_outputs(MUL, rec, (y, a), out)")
    put("_wrap(out, rec, 0, True)", "_wrap(out, rec, 0, True, None, None)")
    put("TAPE.append(rec)", "TAPE.append(rec)")
    put("STATE read (x1)", "STATE.anomaly", number=1_000_000)
    # backward (retain=True so the record can be replayed)
    put("engine._run(rec, [g], F, True, False) (unpack + MulBackward0 rule)",
        "engine._run(rec, [gs], F, True, False)")
    put("engine.unpack_saved(rec, entry, 0, False)",
        "engine.unpack_saved(rec, rec.saved[0], 0, False)")
    put("MulBackward0 rule alone", "MUL.backward(F, rec, gs, yd, ad)")
    put("engine._send(bufs, heap, rec, 0, g), first arrival + heappop",
        "b = {}; h = []; engine._send(b, h, rec, 0, gs); heapq.heappop(h)")
    put("playback's per-input checks (shape, dtype) x2",
        "for e, gi, sh, dt in zip(rec.inputs, (gs, gs), rec.shapes, rec.dtypes):\n"
        "    if e is None or gi is None: continue\n"
        "    if gi.shape != sh: pass\n"
        "    if gi.dtype != dt: pass")
    return out_


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    res = {"primitives": primitives(), "engine": engine_pieces()}
    for part, rows in res.items():
        print(f"\n| {part} | ns |\n|---|---:|")
        for k, v in rows.items():
            print(f"| {k} | {v:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
