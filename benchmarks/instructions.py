"""CPU instructions per unit of W1, W2 and W4 for each backend: ratios no load can move.

    python benchmarks/instructions.py                    # W1, W2, W4 x tape, tape.compile, numpy, torch
    python benchmarks/instructions.py --only W1 --backends tape,torch

Timing on a shared machine moves by ±20% from run to run; an instruction count moves by
well under 1%. For each (workload, backend), valgrind's cachegrind counts the instructions
of a fresh process that sets the workload up and runs it `warm` times, then of one that also
runs it `n` more times: the difference over `n` is the cost per call, setup and imports
excluded. Fewer instructions is not the same as less time (cache misses, branch
prediction and the garbage collector's memory traffic are not in the count), so this
complements benchmarks/suite.py, it does not replace it. Needs `valgrind` on PATH; about
a minute per backend and workload.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_timing  # noqa: E402  (next to this file)

# per workload: calls counted, what one call is, and the unit the result is reported in
PLAN = {"W1": (20, 200, "op"), "W2": (20, 1, "step"), "W4": (3, 1, "step")}


def run_child(workload: str, backend: str, calls: int) -> None:
    """The measured process: set up, warm up, then `calls` more calls."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import bench_workloads as bw

    size = bw.SIZES["full"]
    fn = {"W1": bw.w1, "W2": bw.w2, "W4": bw.w4}[workload](backend, size)
    for _ in range(3):
        fn()
    for _ in range(calls):
        fn()


def count(workload: str, backend: str, calls: int) -> int:
    return bench_timing.instructions(
        [sys.executable, os.path.abspath(__file__), "--child", workload, backend, str(calls)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="W1,W2,W4")
    p.add_argument("--backends", default="tape,tape.compile,numpy,torch")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        run_child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not on PATH", file=sys.stderr)
        return 2
    import bench_workloads as bw

    backends = [b for b in args.backends.split(",") if bw.missing(b) is None]
    print("| workload | backend | instructions per unit | × numpy | × torch |")
    print("|---|---|---:|---:|---:|")
    for w in args.only.split(","):
        calls, per_call, unit = PLAN[w]
        got = {}
        for b in backends:
            got[b] = (count(w, b, calls) - count(w, b, 0)) / calls / per_call
        for b in backends:
            rel = [f"{got[b] / got[r]:.2f}" if r in got else "–" for r in ("numpy", "torch")]
            print(f"| {w} | {b} | {got[b]:,.0f} per {unit} | {rel[0]} | {rel[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
