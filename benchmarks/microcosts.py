"""Micro-costs behind tape's per-op overhead, in nanoseconds (timeit, best of several repeats).

Two parts. "primitives": what a Python/numpy building block costs on this machine
(weakref.ref, a 10-field attrs slotted init against a hand-written __slots__ class, numpy
scalar against 0-d array arithmetic, a threading.local read, ...). "engine": the pieces of
tape's hot path timed on the real objects of W1 (`y * a` with `y` a recorded 0-d float64
and `a` a leaf), so docs/benchmarks.md can say where each microsecond goes.

    python benchmarks/microcosts.py [--json PATH]

Timed on the process's CPU clock; best-of-repeats is the right statistic here (a
micro-cost is a lower bound; noise only adds). The numbers are machine-specific: compare
them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import heapq
import json
import threading
import time
import timeit
import weakref

import attrs
import numpy as np

import tape
from tape import engine
from tape.api import PRIMS_NP
from tape.grad_mode import STATE
from tape.recording import Record, next_position
from tape.tensor import _wrap


def ns(stmt, globals_: dict, number: int = 100_000, repeat: int = 5) -> float:
    """Best per-call time of `stmt` in nanoseconds."""
    # process CPU time: on a shared machine, time spent descheduled does not count
    t = timeit.Timer(stmt, timer=time.process_time, globals=globals_)
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
    put("z[()] (0-d array to numpy scalar)", "z[()]", number=1_000_000)
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
# Engine pieces on W1's objects: y * a, u + x, sin(v), tanh(s)


def w1_ops():
    """The four ops of one W1 iteration, on live objects: (name, public call, op, inputs, params)."""
    from tape.ops import arith, unary

    x = tape.tensor(0.3, dtype=tape.float64, requires_grad=True)
    a = tape.tensor(0.7, dtype=tape.float64, requires_grad=True)
    y = tape.tanh(tape.sin(x * a + x))  # a recorded 0-d result, as inside the chain
    u = y * a
    v = u + x
    s = tape.sin(v)
    return [
        ("mul", lambda: y * a, arith.MUL, (y, a), ()),
        ("add", lambda: u + x, arith.ADD, (u, x), (1,)),
        ("sin", lambda: tape.sin(v), unary.SIN, (v,), ()),
        ("tanh", lambda: tape.tanh(s), unary.TANH, (s,), ()),
    ], (x, a, y, u, v, s)


def engine_pieces(number: int = 20_000) -> dict:
    """Per W1 op: the public call with and without recording, and the parts of recording
    and of the backward step, each timed on its own (ns). Only stable names are used (the
    engine's internals move); "dispatch" and "recording" are differences of two timings."""
    from tape.graph import accumulate_grad
    from tape.tensor import Tensor

    ops, keep = w1_ops()
    x = keep[0]
    rows = {}
    for name, public, op, inputs, params in ops:
        arrays = [t._data if isinstance(t, Tensor) else t for t in inputs]
        res = public()
        rec = res._rec
        vals = [None if e is None else (e[0]._data if isinstance(e[0], Tensor) else e[0])
                for e in rec.saved_entries()]
        env = {"op": op, "arrays": arrays, "params": params, "rec": rec, "F": PRIMS_NP,
               "inputs": inputs,
               "g": np.float64(1.0), "public": public, "vals": vals, "Record": Record,
               "_wrap": _wrap, "out": res._data, "weakref": weakref,
               "accumulate_grad": accumulate_grad, "x": x, "engine": engine}
        r = {}

        def put(key, stmt, env=env, r=r):
            r[key] = ns(stmt, env, number=number)

        put("op, recorded (public call)", "public()")
        put("engine.call, recorded", "engine.call(op, inputs, params)")
        STATE.grad_enabled = False
        try:
            put("engine.call under no_grad", "engine.call(op, inputs, params)")
        finally:
            STATE.grad_enabled = True
        put("op.forward (numpy + dtype rule)", "op.forward(*arrays, *params)")
        put("no_grad's output step (_plain_outputs)", "engine._plain_outputs(op, inputs, out)")
        fwd = r["op.forward (numpy + dtype rule)"]
        r["= public function frame (public - engine.call)"] = (
            r["op, recorded (public call)"] - r["engine.call, recorded"])
        r["= call's input loop and checks (no_grad call - forward - output step)"] = (
            r["engine.call under no_grad"] - fwd - r["no_grad's output step (_plain_outputs)"])
        r["= recording, incl. the output tensor (recorded call - forward - input loop)"] = (
            r["engine.call, recorded"] - fwd
            - r["= call's input loop and checks (no_grad call - forward - output step)"])
        put("  Record(...) init", "Record(op, 1, rec.inputs, rec.input_idx, rec.needs, rec.saved, "
            "rec.params, rec.shapes, rec.dtypes)")
        put("  _wrap (a Tensor)", "_wrap(out, rec, 0, True, None, None)")
        put("  outs weakref + tuple", "(weakref.ref(rec),)")
        put("  accumulate_grad(leaf), cached", "accumulate_grad(x)")
        put("backward rule alone (numpy)", "op.backward(F, rec, g, *vals)")
        if hasattr(engine, "_run"):
            put("engine._run (unpack + rule)", "engine._run(rec, [g], F, True, False)")
        rows[name] = {k: round(v, 1) for k, v in r.items()}
    keys = list(rows["mul"])
    rows["mean of the 4"] = {k: round(sum(rows[n][k] for n in ("mul", "add", "sin", "tanh")) / 4, 1)
                             for k in keys}
    del keep
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    res = {"primitives": primitives(), "engine": engine_pieces()}
    print("\n| primitive | ns |\n|---|---:|")
    for k, v in res["primitives"].items():
        print(f"| {k} | {v:.0f} |")
    eng = res["engine"]
    cols = list(eng)
    print("\n| W1 op, piece (ns) | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for k in eng["mul"]:
        print(f"| {k} | " + " | ".join(f"{eng[c][k]:.0f}" for c in cols) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
