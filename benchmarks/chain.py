"""W1: a 200-op chain on 0-d float64, forward + backward, in microseconds per op.

    y = x
    for _ in range(50):
        y = tanh(sin(y * a + x))        # 4 ops per iteration: mul, add, sin, tanh

Backends: tape eager, torch eager (one thread), and hand-written numpy (the forward and the
hand-derived backward on numpy scalars: the floor, the cost of the arithmetic alone). A
backend's time is one forward plus one backward (the leaves' `.grad` reset first), divided
by the number of forward ops (200).

When tape lacks `sin`/`tanh`, the chain is the documented substitute of the same length
and shape (one long dependency chain, both leaves used at every step):

    y = (y * a + x) * b - c             # 4 ops per iteration: mul, add, mul, sub

with `b`, `c` constant 0-d tensors that do not require grad. The output says which chain ran.

Before timing, tape's gradients (x.grad, a.grad) are checked against torch's and numpy's.
Backends are interleaved in rounds (every round times each backend for N repetitions, in a
rotating order) and the median over rounds is reported, so drift in machine speed hits all
backends alike. The clock is the process's CPU time (time.process_time), which leaves out
the time other processes hold the CPU on a shared machine; wall time is reported alongside
(on an idle machine the two agree). BLAS/OpenMP pools are pinned to one thread with
threadpoolctl, and torch to one intra-op thread.

Finally a 100,000-op chain (the same body, 25,000 iterations) is run forward and backward
once on tape: playback is a loop, so it must complete (without --quick, torch's time
for it is shown too).

    python benchmarks/chain.py            # 7 rounds, about 0.25 s per backend per round
    python benchmarks/chain.py --quick    # 3 rounds, well under 30 s in total
    python benchmarks/chain.py --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

# the suite's own pieces (this script runs from benchmarks/, so they import directly)
from bench_timing import cpu_model  # noqa: E402
from bench_workloads import w1_numpy  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits

import tape

ITERS = 50  # iterations of the 4-op body: 200 ops
OPS_PER_ITER = 4
DEEP_OPS = 100_000
X0, A0, B0, C0 = 0.3, 0.7, 0.9, 0.1  # the substitute chain contracts (|a * b| < 1): no overflow


def has_trig() -> bool:
    return hasattr(tape, "sin") and hasattr(tape, "tanh")


# ---------------------------------------------------------------------------------------
# The chain, written once for tape and torch (`m` is the module: tape or torch)


def chain_trig(m, x, a, b, c, iters):
    y = x
    for _ in range(iters):
        y = m.tanh(m.sin(y * a + x))
    return y


def chain_sub(m, x, a, b, c, iters):
    y = x
    for _ in range(iters):
        y = (y * a + x) * b - c
    return y


# ---------------------------------------------------------------------------------------
# The floor: numpy scalars, forward keeping what the backward needs, hand-derived backward


# numpy_trig is the suite's W1 floor (bench_workloads.w1_numpy): one definition of the floor


def numpy_sub(x, a, b, c, iters):
    ys = []
    y = x
    for _ in range(iters):
        ys.append(y)
        y = (y * a + x) * b - c
    g = np.float64(1.0)
    gx = ga = np.float64(0.0)
    for i in range(iters - 1, -1, -1):
        gv = g * b
        gx = gx + gv
        ga = ga + gv * ys[i]
        g = gv * a
    return y, gx + g, ga


# ---------------------------------------------------------------------------------------
# One forward + backward per backend


def make_runners(trig: bool, iters: int = ITERS):
    chain = chain_trig if trig else chain_sub

    tx = tape.tensor(X0, dtype=tape.float64, requires_grad=True)
    ta = tape.tensor(A0, dtype=tape.float64, requires_grad=True)
    tb = tape.tensor(B0, dtype=tape.float64)
    tc = tape.tensor(C0, dtype=tape.float64)

    def run_tape():
        tx.grad = None
        ta.grad = None
        chain(tape, tx, ta, tb, tc, iters).backward()
        return tx.grad, ta.grad

    px = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    pa = torch.tensor(A0, dtype=torch.float64, requires_grad=True)
    pb = torch.tensor(B0, dtype=torch.float64)
    pc = torch.tensor(C0, dtype=torch.float64)

    def run_torch():
        px.grad = None
        pa.grad = None
        chain(torch, px, pa, pb, pc, iters).backward()
        return px.grad, pa.grad

    nx, na, nb, nc = np.float64(X0), np.float64(A0), np.float64(B0), np.float64(C0)

    if trig:
        def run_numpy():
            gx, ga = w1_numpy(nx, na, iters)
            return gx, ga
    else:
        def run_numpy():
            _, gx, ga = numpy_sub(nx, na, nb, nc, iters)
            return gx, ga

    return {"tape": run_tape, "torch": run_torch, "numpy": run_numpy}


def check_gradients(runners) -> dict:
    """tape's x.grad and a.grad must equal torch's and numpy's (to float64 rounding)."""
    tg = [float(g.item()) for g in runners["tape"]()]
    pg = [float(g.item()) for g in runners["torch"]()]
    ng = [float(g) for g in runners["numpy"]()]
    for name, other in (("torch", pg), ("numpy", ng)):
        if not np.allclose(tg, other, rtol=1e-12, atol=0.0):
            raise SystemExit(f"gradient mismatch: tape (x.grad, a.grad) = {tg}, {name} = {other}")
    return {"tape": tg, "torch": pg, "numpy": ng}


# ---------------------------------------------------------------------------------------
# Timing


def time_block(fn, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per call of `fn`, over `n` back-to-back calls."""
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


def calibrate(fn, target: float) -> int:
    """Repetitions that take about `target` seconds (at least 3)."""
    fn()
    n = 1
    while True:
        dt = time_block(fn, n)[1] * n
        if dt >= 0.02 or n >= 1 << 16:
            break
        n *= 4
    return max(3, int(target * n / max(dt, 1e-9)))


def measure(runners, rounds: int, target: float, ops: int) -> dict:
    names = list(runners)
    reps = {name: calibrate(runners[name], target) for name in names}
    cpu = {name: [] for name in names}
    wall = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]  # rotate who goes first
        for name in order:
            c, w = time_block(runners[name], reps[name])
            cpu[name].append(c / ops * 1e6)
            wall[name].append(w / ops * 1e6)
    return {name: {"us_per_op": statistics.median(cpu[name]),
                   "wall_us_per_op": statistics.median(wall[name]),
                   "rounds_us_per_op": cpu[name], "rounds_wall_us_per_op": wall[name],
                   "reps": reps[name]}
            for name in names}


def deep_chain(trig: bool, ops: int = DEEP_OPS, m=tape) -> dict:
    """One forward + backward of an `ops`-deep chain on tape (or torch: m=torch), in seconds."""
    chain = chain_trig if trig else chain_sub
    x = m.tensor(X0, dtype=m.float64, requires_grad=True)
    a = m.tensor(A0, dtype=m.float64, requires_grad=True)
    b = m.tensor(B0, dtype=m.float64)
    c = m.tensor(C0, dtype=m.float64)
    clocks = (time.process_time, time.perf_counter)
    t0 = [c() for c in clocks]
    y = chain(m, x, a, b, c, ops // OPS_PER_ITER)
    t1 = [c() for c in clocks]
    y.backward()
    t2 = [c() for c in clocks]
    del y  # frees the whole 100,000-record graph (deallocation must not recurse either)
    t3 = [c() for c in clocks]
    if not (np.isfinite(x.grad.item()) and np.isfinite(a.grad.item())):
        raise SystemExit("deep chain: non-finite gradients")
    return {"ops": ops, "forward_s": t1[0] - t0[0], "backward_s": t2[0] - t1[0],
            "free_s": t3[0] - t2[0], "total_s": t2[0] - t0[0], "wall_total_s": t2[1] - t0[1]}


# ---------------------------------------------------------------------------------------
# Report


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "tape": getattr(tape, "__version__", "?"),
        "torch_threads": torch.get_num_threads(),
    }


LABELS = {"tape": "tape eager", "torch": "torch eager", "numpy": "numpy (hand-written floor)"}


def table(results: dict) -> str:
    floor = results["numpy"]["us_per_op"]
    ref = results["torch"]["us_per_op"]
    lines = ["| backend | µs/op (CPU) | × numpy | × torch | µs/op (wall) |",
             "|---|---:|---:|---:|---:|"]
    for name in ("tape", "torch", "numpy"):
        r = results[name]
        us = r["us_per_op"]
        lines.append(f"| {LABELS[name]} | {us:.2f} | {us / floor:.1f} | {us / ref:.2f} | "
                     f"{r['wall_us_per_op']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="3 short rounds (under 30 s in total)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--rounds", type=int, help="override the number of rounds")
    p.add_argument("--no-deep", action="store_true", help="skip the 100,000-op chain")
    args = p.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    target = 0.05 if args.quick else 0.25

    load = os.getloadavg()
    torch.set_num_threads(1)
    trig = has_trig()
    chain_text = ("y = tanh(sin(y * a + x))  [mul, add, sin, tanh]" if trig else
                  "y = (y * a + x) * b - c  [mul, add, mul, sub] (substitute: tape has no sin/tanh)")
    ops = ITERS * OPS_PER_ITER
    with threadpool_limits(limits=1):
        pools = [{k: d.get(k) for k in ("user_api", "internal_api", "num_threads", "filepath")}
                 for d in threadpool_info()]
        runners = make_runners(trig)
        grads = check_gradients(runners)
        gc.collect()
        results = measure(runners, rounds, target, ops)
        deep = None if args.no_deep else deep_chain(trig)
        deep_torch = None if args.no_deep or args.quick else deep_chain(trig, m=torch)

    info = machine()
    print(f"W1: {ops}-op chain on 0-d float64, forward + backward; y = x, {ITERS} × {chain_text}")
    print(f"machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs; "
          f"python {info['python']}, numpy {info['numpy']}, torch {info['torch']} "
          f"(threads={info['torch_threads']}), tape {info['tape']}")
    print("thread pools pinned to 1: " + (", ".join(
        f"{d['internal_api']}={d['num_threads']}" for d in pools) or "none found"))
    print(f"gradients agree (x.grad, a.grad): tape {grads['tape']}, torch {grads['torch']}")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; clock: process CPU time "
          "(the process's own; wall time alongside)")
    print(f"{rounds} rounds, median; repetitions per round: "
          + ", ".join(f"{k} {v['reps']}" for k, v in results.items()))
    print()
    print(table(results))
    if deep is not None:
        print()
        print(f"tape, {deep['ops']:,}-op chain, once (CPU time): forward {deep['forward_s']:.2f} s + "
              f"backward {deep['backward_s']:.2f} s = {deep['total_s']:.2f} s "
              f"({deep['total_s'] / deep['ops'] * 1e6:.1f} µs/op; wall {deep['wall_total_s']:.2f} s); "
              f"freeing the graph {deep['free_s']:.2f} s")
        if deep_torch is not None:
            print(f"torch, the same chain: forward {deep_torch['forward_s']:.2f} s + backward "
                  f"{deep_torch['backward_s']:.2f} s = {deep_torch['total_s']:.2f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"workload": "W1", "chain": "trig" if trig else "substitute",
                       "chain_text": chain_text, "ops": ops, "rounds": rounds, "machine": info,
                       "thread_pools": pools, "load_average": load, "gradients": grads, "results": results,
                       "deep_chain": deep, "deep_chain_torch": deep_torch}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
