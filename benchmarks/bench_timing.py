"""Clocks for benchmarks/suite.py: interleaved rounds, medians, process CPU time, RSS.

The approach of benchmarks/chain.py, generalised to any set of runners: every round times
each backend for a calibrated number of back-to-back calls, in a rotating order, and the
median over rounds is reported, so drift in machine speed hits all backends alike. The clock
is the process's CPU time (time.process_time: all of this process's threads, none of other
processes'), which is what a busy shared machine leaves comparable; wall time is kept
alongside. A cyclic garbage collection runs before each timed block, outside the clock, so
one backend does not pay for another's garbage.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import resource
import statistics
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def time_block(fn, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per call of `fn`, over `n` back-to-back calls."""
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


def calibrate(fn, target: float, warmed: bool = False) -> int:
    """Calls per timed block so that a block takes about `target` CPU seconds (at least 1).
    Unless `warmed`, a first call is made and not counted (a warm-up: first-call costs such
    as lazy imports, and tape.compile recording its plan)."""
    if not warmed:
        fn()
    n = 1
    while True:
        dt = time_block(fn, n)[0] * n
        if dt >= min(0.02, target) or n >= 1 << 16:
            break
        n *= 4
    return max(1, round(target * n / max(dt, 1e-9)))


def measure(runners: dict, rounds: int, target: float, warmed: bool = False) -> dict:
    """{name: {"cpu": median s/call, "wall": median s/call, "cpu_rounds": [...], "reps": n,
    "faults": minor page faults per call}}."""
    names = list(runners)
    reps = {name: calibrate(runners[name], target, warmed) for name in names}
    cpu = {name: [] for name in names}
    wall = {name: [] for name in names}
    faults = dict.fromkeys(names, 0)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:  # rotate who goes first
            gc.collect()
            f0 = page_faults()[0]
            c, w = time_block(runners[name], reps[name])
            faults[name] += page_faults()[0] - f0
            cpu[name].append(c)
            wall[name].append(w)
    return {name: {"cpu": statistics.median(cpu[name]), "wall": statistics.median(wall[name]),
                   "cpu_rounds": cpu[name], "reps": reps[name],
                   "faults": faults[name] / (reps[name] * rounds)}
            for name in names}


def rss_bytes() -> int:
    """This process's resident set size now (from /proc/self/statm; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def page_faults() -> tuple[int, int]:
    """(minor, major) page faults of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_minflt, r.ru_majflt


def pinned():
    """BLAS/OpenMP pools limited to one thread (threadpoolctl), or nothing if it is missing
    (the report then says the pools were not pinned)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def thread_pools() -> list[dict] | None:
    """The pools threadpoolctl sees now (None: threadpoolctl is not installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: d.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for d in threadpool_info()]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def instructions(argv: list) -> int:
    """CPU instructions valgrind's cachegrind counts for the process `argv` (BLAS and hash
    seeds pinned, so repeats agree to well under 1%). Needs `valgrind` on PATH."""
    import re
    import subprocess

    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                           "--cachegrind-out-file=/dev/null", *argv],
                          capture_output=True, text=True, env=env)
    m = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"valgrind failed for {argv[-3:]}: {proc.stderr[-500:]}")
    return int(m.group(1).replace(",", ""))


def cprofile(run, calls: int, top: int = 25) -> str:
    """cProfile of `calls` calls of `run`, by own time: the `top` rows, as text."""
    import cProfile
    import io
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    for _ in range(calls):
        run()
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
