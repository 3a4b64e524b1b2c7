"""A/B of tape source trees on W1 (or W2, W2 compiled, W4): is a hot-path change faster, and by how much?

    python benchmarks/ab_variants.py main=. proto=/tmp/proto [--torch] [--rounds 100]
    python benchmarks/ab_variants.py main=. proto=/tmp/proto --instructions
    python benchmarks/ab_variants.py main=. proto=/tmp/proto --workload W2 --rounds 30

Each NAME=DIR is a checkout (a directory holding `tape/` and `ops/`). Its tree is copied
into a scratch directory as the package `tape_NAME` (tape's imports are relative, so copies
live side by side). All of them are imported into one process, and the workload (W1 by
default; `--workload W2`, `W2c` for W2 under tape.compile, or `W4`, on the suite's data and
graphs from bench_workloads) runs on each in turn, 5 passes at a time (W4: one), for
`--rounds` rounds. This interleaving matters
on a shared machine: whatever load there is hits every variant alike. The report gives the
median forward, backward and total µs/op (W2, W4: ms a step) on the process CPU clock. The
gradients must agree across variants.

`--instructions` also counts CPU instructions per op with valgrind's cachegrind: the
instruction count of 40 W1 passes (10 steps of the others) minus that of 0, in a fresh process per variant,
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

import numpy as np

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


# Each workload: setup(m) -> (leaves, forward) for a tape-like module `m`, where forward()
# returns the tensor whose backward() is timed; plus its unit and how many units a step is.
# W2 and W4 build the suite's own data and graphs (bench_workloads), on `m` instead of tape.


def _setup_w1(m):
    x, a = leaves(m)
    return [x, a], lambda: w1(m, x, a)


def _w2_setup(compiled: bool):
    def setup(m):
        import bench_workloads as bw

        x, labels, params = bw.w2_data({"w2_dims": [784, 256, 128, 10], "w2_batch": 64})
        F = importlib.import_module(m.__name__ + ".nn.functional")
        tx, ty = m.tensor(x), m.tensor(labels, dtype=m.int64)
        ps = [m.tensor(p, requires_grad=True) for p in params]

        def fn(x_, y_, *p):
            return F.cross_entropy(bw.w2_mlp(F.relu, x_, p), y_)

        f = m.compile(fn) if compiled and m.__name__ != "torch" else fn  # (torch: eager)
        return ps, lambda: f(tx, ty, *ps)

    return setup


def _setup_w4(m):
    import bench_workloads as bw

    size = {"w4_terms": 2500}
    ws, ss = bw.w4_data(size)
    pairs = bw.w4_pairs(size)
    tws = [m.tensor(v, requires_grad=True) for v in ws]
    tss = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in ss]
    return tws + tss, lambda: bw.w4_graph(m, tws, tss, pairs)


# name: (setup, unit, units a step, steps a timed pass)
WORKLOADS = {
    "W1": (_setup_w1, "µs/op", OPS, 5),
    "W2": (_w2_setup(False), "ms/step", 1, 5),
    "W2c": (_w2_setup(True), "ms/step", 1, 5),
    "W4": (_setup_w4, "ms/step", 1, 1),
}


def _grads(ls) -> list:
    return [np.asarray(t.grad.detach().numpy() if hasattr(t.grad, "detach") else t.grad,
                       dtype=np.float64) for t in ls]


def timing(mods: dict, rounds: int, workload: str) -> dict:
    setup, unit, units, passes = WORKLOADS[workload]
    scale = 1e6 / units if unit == "µs/op" else 1e3
    setups = {n: setup(m) for n, m in mods.items()}
    names = list(mods)
    res = {n: ([], []) for n in names}
    grads = {}
    clk = time.process_time
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            ls, forward = setups[n]
            f = b = 0.0
            for _ in range(passes):
                for t in ls:
                    t.grad = None
                t0 = clk()
                y = forward()
                t1 = clk()
                y.backward()
                t2 = clk()
                del y
                f += t1 - t0
                b += t2 - t1
            res[n][0].append(f / passes * scale)
            res[n][1].append(b / passes * scale)
            grads[n] = _grads(ls)
    ref = grads[names[0]]
    for n, g in grads.items():
        if not all(np.allclose(u, v, rtol=1e-5, atol=1e-7) for u, v in zip(ref, g)):
            raise SystemExit(f"gradients differ between {names[0]} and {n}")
    return {n: (statistics.median(f), statistics.median(b)) for n, (f, b) in res.items()}


WORKER = """
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {here!r})
import importlib
import ab_variants
m = importlib.import_module({pkg!r})
ls, forward = ab_variants.WORKLOADS[{workload!r}][0](m)
def run():
    for t in ls:
        t.grad = None
    forward().backward()
for _ in range(3 + {n}):
    run()
"""


def instructions(root: str, pkg: str, n: int, workload: str) -> int:
    code = WORKER.format(root=root, here=HERE, pkg=pkg, n=n, workload=workload)
    return bench_timing.instructions([sys.executable, "-c", code])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("variants", nargs="+", metavar="NAME=DIR")
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--torch", action="store_true", help="time torch eager alongside")
    p.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    p.add_argument("--workload", choices=list(WORKLOADS), default="W1",
                   help="W1 (default), W2 eager, W2c (W2 under tape.compile) or W4")
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
            res = timing(mods, args.rounds, args.workload)
        counts = {}
        if args.instructions:
            _, unit, units, _ = WORKLOADS[args.workload]
            steps = 40 if args.workload == "W1" else 10
            for name, _ in pairs:
                hi = instructions(root, f"tape_{name}", steps, args.workload)
                lo = instructions(root, f"tape_{name}", 0, args.workload)
                counts[name] = (hi - lo) / (steps * units)
    base = pairs[0][0]
    unit = WORKLOADS[args.workload][1]
    per = unit.split("/")[1]
    print(f"{args.workload}, {args.rounds} interleaved rounds, median, process CPU time; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"| variant | forward {unit} | backward {unit} | total {unit} | vs {base} |"
          + (f" instructions/{per} |" if counts else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if counts else ""))
    for n, (f, b) in res.items():
        rel = (f + b) / sum(res[base])
        d = 2 if args.workload == "W1" else 3
        row = f"| {n} | {f:.{d}f} | {b:.{d}f} | {f + b:.{d}f} | {rel:.3f}× |"
        if counts:
            row += f" {counts[n]:,.0f} |" if n in counts else " |"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
