"""Where tape's time goes on W1 (see benchmarks/chain.py): the evidence for docs/benchmarks.md.

    python benchmarks/profile_chain.py            # all four parts
    python benchmarks/profile_chain.py --part cprofile

Parts:
  cprofile  cProfile of 200 forward + backward passes of W1 on tape, by own time. cProfile
            charges a fixed cost to every Python call, so it overstates small functions;
            read it for the shape, and microcosts.py for the nanoseconds.
  split     forward and backward per op, separately (median of blocks, process CPU time).
  gc        the cyclic garbage collector's share: W1 and the 100,000-op chain with gc
            enabled and disabled (tape makes no reference cycles, so disabling it only
            removes the collector's scans of live objects).
  objects   GC-tracked objects each recorded op keeps alive (what every full collection
            walks), by type.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import chain  # noqa: E402  (the benchmark next to this file)
from bench_timing import cprofile  # noqa: E402

import tape  # noqa: E402


def _leaves():
    x = tape.tensor(chain.X0, dtype=tape.float64, requires_grad=True)
    a = tape.tensor(chain.A0, dtype=tape.float64, requires_grad=True)
    b = tape.tensor(chain.B0, dtype=tape.float64)
    c = tape.tensor(chain.C0, dtype=tape.float64)
    return x, a, b, c


def _chain():
    return chain.chain_trig if chain.has_trig() else chain.chain_sub


def part_cprofile(calls: int = 200, top: int = 25) -> str:
    run = chain.make_runners(chain.has_trig())["tape"]
    for _ in range(20):
        run()
    ops = calls * chain.ITERS * chain.OPS_PER_ITER
    head = f"cProfile: {calls} x W1 = {ops} ops; tottime per op = tottime / {ops}\n"
    return head + cprofile(run, calls, top)


def part_split(blocks: int = 60, reps: int = 5) -> str:
    fn = _chain()
    x, a, b, c = _leaves()
    ops = chain.ITERS * chain.OPS_PER_ITER
    fw, bw = [], []
    for _ in range(blocks):
        f = bk = 0.0
        for _ in range(reps):
            x.grad = a.grad = None
            t0 = time.process_time()
            y = fn(tape, x, a, b, c, chain.ITERS)
            t1 = time.process_time()
            y.backward()
            t2 = time.process_time()
            del y
            f += t1 - t0
            bk += t2 - t1
        fw.append(f / reps / ops * 1e6)
        bw.append(bk / reps / ops * 1e6)
    f, bk = statistics.median(fw), statistics.median(bw)
    return f"split: forward {f:.2f} µs/op, backward {bk:.2f} µs/op, total {f + bk:.2f} µs/op"


def part_gc(blocks: int = 40, reps: int = 5) -> str:
    fn = _chain()
    x, a, b, c = _leaves()
    ops = chain.ITERS * chain.OPS_PER_ITER
    res = {True: [], False: []}
    for i in range(blocks):
        for enabled in ((True, False) if i % 2 else (False, True)):
            if not enabled:
                gc.disable()
            t0 = time.process_time()
            for _ in range(reps):
                x.grad = a.grad = None
                fn(tape, x, a, b, c, chain.ITERS).backward()
            res[enabled].append((time.process_time() - t0) / reps / ops * 1e6)
            gc.enable()
    lines = [f"gc, W1: enabled {statistics.median(res[True]):.2f} µs/op, disabled "
             f"{statistics.median(res[False]):.2f} µs/op"]
    for enabled in (True, False):
        if not enabled:
            gc.disable()
        gc.collect()
        d = chain.deep_chain(chain.has_trig())
        gc.enable()
        lines.append(f"gc, {d['ops']:,}-op chain, gc {'enabled' if enabled else 'disabled'}: forward "
                     f"{d['forward_s']:.2f} s, backward {d['backward_s']:.2f} s, freeing {d['free_s']:.2f} s")
    return "\n".join(lines)


def part_objects(iters: int = 250) -> str:
    x, a, b, c = _leaves()
    fn = _chain()
    gc.collect()
    before = collections.Counter(type(o).__name__ for o in gc.get_objects())
    y = fn(tape, x, a, b, c, iters)
    gc.collect()  # also untracks tuples that hold only atomic values
    after = collections.Counter(type(o).__name__ for o in gc.get_objects())
    ops = iters * chain.OPS_PER_ITER
    diff = after - before
    per = ", ".join(f"{k} {v / ops:.2f}" for k, v in diff.most_common(8))
    del y
    return f"objects: {sum(diff.values()) / ops:.2f} GC-tracked objects kept alive per recorded op ({per})"


PARTS = {"cprofile": part_cprofile, "split": part_split, "gc": part_gc, "objects": part_objects}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=sorted(PARTS), action="append",
                   help="run only these parts (repeatable); default: all")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        for name in args.part or list(PARTS):
            print(PARTS[name]())
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
