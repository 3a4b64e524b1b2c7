"""A/B of tape source trees on W1: is a hot-path change faster, and by how much?

    python benchmarks/ab_variants.py main=. proto=/tmp/proto [--torch] [--rounds 100]
    python benchmarks/ab_variants.py main=. proto=/tmp/proto --instructions

Each NAME=DIR is a checkout (a directory holding `tape/` and `ops/`). Its tree is copied
into a scratch directory as the package `tape_NAME` (tape's imports are relative, so copies
live side by side). All of them are imported into one process, and W1 (benchmarks/chain.py)
runs on each in turn, 5 passes at a time, for `--rounds` rounds. This interleaving matters
on a shared machine: whatever load there is hits every variant alike. The report gives the
median forward, backward and total µs/op on the process CPU clock. The gradients must agree
across variants.

`--instructions` also counts CPU instructions per op with valgrind's cachegrind: the
instruction count of 40 W1 passes minus that of 0 passes, in a fresh process per variant,
with PYTHONHASHSEED=0 and BLAS pinned to one thread. Load does not change this count, and
repeats agree to about ±30 instructions, so it settles differences that timing on a busy
machine cannot. It needs `valgrind` on PATH and takes about a minute per variant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_timing  # noqa: E402  (next to this file)

ITERS = 50
OPS = 4 * ITERS


def install(name: str, src: str, into: str) -> str:
    """Copy src/tape and src/ops to into/tape_NAME (ops inside, as the installed package has it)."""
    pkg = os.path.join(into, f"tape_{name}")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(os.path.join(src, "tape"), pkg, ignore=ignore)
    if os.path.isdir(os.path.join(pkg, "ops")):
        shutil.rmtree(os.path.join(pkg, "ops"))
    shutil.copytree(os.path.join(src, "ops"), os.path.join(pkg, "ops"), ignore=ignore)
    return pkg


def w1(m, x, a):
    y = x
    for _ in range(ITERS):
        y = m.tanh(m.sin(y * a + x))
    return y


def leaves(m):
    return (m.tensor(0.3, dtype=m.float64, requires_grad=True),
            m.tensor(0.7, dtype=m.float64, requires_grad=True))


def timing(mods: dict, rounds: int) -> dict:
    setups = {n: (m, *leaves(m)) for n, m in mods.items()}
    names = list(mods)
    res = {n: ([], []) for n in names}
    grads = {}
    clk = time.process_time
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            m, x, a = setups[n]
            f = b = 0.0
            for _ in range(5):
                x.grad = a.grad = None
                t0 = clk()
                y = w1(m, x, a)
                t1 = clk()
                y.backward()
                t2 = clk()
                del y
                f += t1 - t0
                b += t2 - t1
            res[n][0].append(f / 5 / OPS * 1e6)
            res[n][1].append(b / 5 / OPS * 1e6)
            grads[n] = (float(x.grad.item()), float(a.grad.item()))
    ref = grads[names[0]]
    for n, g in grads.items():
        if abs(g[0] - ref[0]) > 1e-12 * abs(ref[0]) or abs(g[1] - ref[1]) > 1e-12 * abs(ref[1]):
            raise SystemExit(f"gradients differ: {names[0]} {ref}, {n} {g}")
    return {n: (statistics.median(f), statistics.median(b)) for n, (f, b) in res.items()}


WORKER = """
import sys
sys.path.insert(0, {root!r})
import importlib
m = importlib.import_module({pkg!r})
x = m.tensor(0.3, dtype=m.float64, requires_grad=True)
a = m.tensor(0.7, dtype=m.float64, requires_grad=True)
def run():
    x.grad = a.grad = None
    y = x
    for _ in range({iters}):
        y = m.tanh(m.sin(y * a + x))
    y.backward()
for _ in range(3 + {n}):
    run()
"""


def instructions(root: str, pkg: str, n: int) -> int:
    code = WORKER.format(root=root, pkg=pkg, iters=ITERS, n=n)
    return bench_timing.instructions([sys.executable, "-c", code])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("variants", nargs="+", metavar="NAME=DIR")
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--torch", action="store_true", help="time torch eager alongside")
    p.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = p.parse_args(argv)
    pairs = [v.split("=", 1) for v in args.variants]
    if any(len(pr) != 2 or not re.fullmatch(r"\w+", pr[0]) for pr in pairs):
        raise SystemExit("variants are NAME=DIR, NAME a Python identifier")
    with tempfile.TemporaryDirectory() as root:
        for name, src in pairs:
            install(name, os.path.abspath(src), root)
        sys.path.insert(0, root)
        mods = {name: importlib.import_module(f"tape_{name}") for name, _ in pairs}
        if args.torch:
            import torch

            torch.set_num_threads(1)
            mods["torch"] = torch
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            res = timing(mods, args.rounds)
        counts = {}
        if args.instructions:
            for name, _ in pairs:
                hi = instructions(root, f"tape_{name}", 40)
                lo = instructions(root, f"tape_{name}", 0)
                counts[name] = (hi - lo) / (40 * OPS)
    base = pairs[0][0]
    print(f"W1 ({OPS} ops), {args.rounds} interleaved rounds, median, process CPU time; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| variant | forward µs/op | backward µs/op | total µs/op | vs " + base + " |"
          + (" instructions/op |" if counts else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if counts else ""))
    for n, (f, b) in res.items():
        rel = (f + b) / sum(res[base])
        row = f"| {n} | {f:.2f} | {b:.2f} | {f + b:.2f} | {rel:.2f}× |"
        if counts:
            row += f" {counts[n]:,.0f} |" if n in counts else " |"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
