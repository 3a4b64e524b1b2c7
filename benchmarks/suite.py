"""Issue 6's benchmark suite: tape against numpy, torch, HIPS autograd and MyGrad.

    python benchmarks/suite.py            # 9 rounds, ~0.25 s per backend per round
    python benchmarks/suite.py --quick    # 3 short rounds (about a minute of CPU)
    python benchmarks/suite.py --smoke    # tiny sizes: gradient agreement only, nothing timed
    python benchmarks/suite.py --profile W2   # cProfile of tape on one workload

Workloads (each a forward + backward; see bench_workloads.py):
  W1  200-op chain on 0-d float64, y = tanh(sin(y * a + x)) x 50     µs per op
  W2  MLP 784-256-128-10, batch 64, relu, softmax cross-entropy, f32   ms per step
  W3  10-op elementwise chain on 4M float32                             ms
  W4  one wide graph of 9,999 tiny ops on 0-d/1-d float64               ms
  W5  RSS after 100 and after 2,000 SGD steps of W2 (flat: < 5% growth), and a
      100,000-op chain on tape that must complete (seconds)

Backends: tape eager; tape.compile (when tape has it: the same code, compiled); the
hand-written numpy floor; torch eager on one thread; HIPS autograd and MyGrad when installed.

Method. Every backend's gradients are checked against the numpy floor's before anything is
timed (a backend that disagrees is reported and not timed). Backends are interleaved in
rounds and the median per call is reported, with ratios to numpy and to torch from the same
run. The clock is process CPU time (wall time alongside); BLAS/OpenMP pools are pinned to
one thread with threadpoolctl. W1-W4 are also measured in a subprocess that never
imports torch (torch's import changes how glibc's heap is trimmed, so page-fault costs
differ, and gives Python's cyclic GC ~145,000 more objects to walk); W5 runs each backend
in a fresh subprocess, with and without torch imported.

Writes the tables into docs/benchmarks.md (between the suite's markers; the rest of the
page is kept) and a chart to docs/images/benchmarks.png, unless --no-write.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_timing as bt  # noqa: E402
import bench_workloads as bw  # noqa: E402

import tape  # noqa: E402

ROOT = os.path.dirname(HERE)
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
PNG = os.path.join(ROOT, "docs", "images", "benchmarks.png")
MODES = {  # rounds, target CPU seconds per backend per round
    "full": (9, 0.25),
    "quick": (3, 0.05),
    "smoke": (1, 0.0),
}
LR = 0.01
FLAT = 0.05  # W5: "flat" means RSS grows by less than 5% from step 100 to the last step


# ---------------------------------------------------------------------------------------
# Gradient agreement, then timing, for one workload in this process


def run_workload(key: str, backends: list, size: dict, rounds: int, target: float,
                 time_it: bool = True) -> dict:
    build, title, unit, convert, rtol, atol = bw.WORKLOADS[key]
    out = {"title": title, "unit": unit, "skipped": {}, "check": {}, "results": {}, "notes": ""}
    runners, grads = {}, {}
    for b in ["numpy"] + [b for b in backends if b != "numpy"]:
        why = bw.missing(b)
        if why:
            out["skipped"][b] = why
            continue
        try:
            runners[b] = build(b, size)
            # two calls, both checked: the second shows that gradients are reset between
            # calls, and is tape.compile's first replay (its first call records eagerly)
            grads[b] = (runners[b](), runners[b]())
        except Exception as exc:  # an optional backend (or a tape op) failing is reported
            out["skipped"][b] = f"failed: {type(exc).__name__}: {exc}"[:300]
            runners.pop(b, None)
    if key == "W2" and "tape" in runners:
        out["notes"] = bw.W2("tape", size).notes
    ref = grads.get("numpy")
    for b in list(runners):
        if b == "numpy":
            continue
        try:
            err = max(bw.compare(ref[1], g, rtol, atol) for g in grads[b])
        except ValueError as exc:
            err, why = float("inf"), str(exc)
        else:
            why = f"max error {err:.3g} × tolerance"
        out["check"][b] = err
        if not err <= 1.0:
            out["skipped"][b] = f"gradients disagree with numpy ({why}; rtol {rtol:g})"
            del runners[b]
    del grads
    gc.collect()
    if time_it and runners:
        res = bt.measure(runners, rounds, target, warmed=True)
        for r in res.values():
            r["value"] = convert(r["cpu"], size)
            r["wall_value"] = convert(r["wall"], size)
        out["results"] = res
    return out


def deep_chain(ops: int) -> dict:
    """One forward + backward of an `ops`-deep W1 chain on tape (seconds for each part)."""
    x = tape.tensor(bw.W1_X, dtype=tape.float64, requires_grad=True)
    a = tape.tensor(bw.W1_A, dtype=tape.float64, requires_grad=True)
    c0 = time.process_time()
    y = bw.w1_chain(tape, x, a, ops // 4)
    c1 = time.process_time()
    y.backward()
    c2 = time.process_time()
    del y  # frees the whole graph (deallocation must not recurse either)
    c3 = time.process_time()
    ok = bool(np.isfinite(x.grad.item()) and np.isfinite(a.grad.item()))
    return {"ops": ops, "forward_s": c1 - c0, "backward_s": c2 - c1, "free_s": c3 - c2,
            "total_s": c2 - c0, "finite": ok}


# ---------------------------------------------------------------------------------------
# Subprocess workers


NOTORCH = ("W1", "W2", "W3", "W4")  # measured again in a process that never imports torch


def worker_notorch(size: dict, rounds: int, target: float, time_it: bool, only=NOTORCH) -> dict:
    """The workloads for tape, tape.compile and numpy in a process that never imports torch.

    torch's ~145,000 objects make every full collection of Python's cyclic GC walk them:
    a graph of many recorded ops (W4) pays for that in a process that imported torch."""
    with bt.pinned():
        res = {k: run_workload(k, ["tape", "tape.compile", "numpy"], size, rounds, target, time_it)
               for k in NOTORCH if k in only}
        pools = bt.thread_pools()
    return {"workloads": res, "torch_imported": "torch" in sys.modules, "thread_pools": pools}


def worker_rss(backend: str, size: dict, import_torch: bool) -> dict:
    """W2 training with SGD for size["w5_steps"][-1] steps; RSS at each of w5_steps."""
    if import_torch:
        import torch

        torch.set_num_threads(1)
    checkpoints = size["w5_steps"]
    with bt.pinned():
        w = bw.W2(backend, size)
        gc.collect()
        rss = {"start": bt.rss_bytes()}
        cpu, faults = {}, {}
        c0, f0 = time.process_time(), bt.page_faults()[0]
        for i in range(1, checkpoints[-1] + 1):
            grads = w.step()
            w.sgd(LR)
            if i in checkpoints:
                rss[i] = bt.rss_bytes()
                cpu[i] = time.process_time() - c0
                faults[i] = bt.page_faults()[0] - f0
        finite = all(np.all(np.isfinite(bw.to_numpy(g))) for g in grads if g is not None)
    first, last = checkpoints[0], checkpoints[-1]
    return {"backend": backend, "torch_imported": "torch" in sys.modules, "rss": rss,
            "peak": bt.peak_rss_bytes(), "growth": rss[last] / rss[first] - 1.0,
            "ms_per_step": (cpu[last] - cpu[first]) / (last - first) * 1e3,
            "faults_per_step": (faults[last] - faults[first]) / (last - first), "finite": finite}


def spawn(args: list) -> dict:
    """Run this file as a worker with `args`; return the JSON it wrote."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "out.json")
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), *args, "--out", path],
                              cwd=ROOT, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        with open(path) as f:
            return json.load(f)


# ---------------------------------------------------------------------------------------
# Machine facts


def versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "numpy": np.__version__,
           "tape": getattr(tape, "__version__", "?")}
    for name in ("torch", "autograd", "mygrad", "threadpoolctl", "matplotlib"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------
# Targets


def ratio(results: dict, b: str, ref: str) -> float | None:
    if b in results and ref in results:
        return results[b]["cpu"] / results[ref]["cpu"]
    return None


def round_spread(results: dict, b: str, ref: str) -> str:
    """The lowest and highest of the ratios the single rounds gave (both backends are timed
    in every round, so each round is one paired reading): how far one reading strays from
    the median's ratio, so a target passed or missed by less than that reads as noise."""
    if b not in results or ref not in results:
        return ""
    rs = [x / y for x, y in zip(results[b]["cpu_rounds"], results[ref]["cpu_rounds"])]
    return f"{min(rs):.2f}–{max(rs):.2f}×" if len(rs) > 1 else ""


def targets(rep: dict) -> list:
    """[(target, measured text, passed or None when not measured)]."""
    w, nt, w5 = rep["workloads"], rep["notorch"].get("workloads", {}), rep["w5"]
    rows = []

    def res(src, k):
        return src.get(k, {}).get("results", {})

    def row(text, src, k, b, ref, limit):
        r = ratio(res(src, k), b, ref)
        rows.append((text, "not measured" if r is None else f"{r:.2f}×",
                     None if r is None else r <= limit, round_spread(res(src, k), b, ref)))

    row("W1 tape ≤ 0.5× torch", w, "W1", "tape", "torch", 0.5)
    row("W2 tape ≤ 1.1× numpy (torch imported)", w, "W2", "tape", "numpy", 1.1)
    row("W2 tape ≤ 1.1× numpy (torch never imported)", nt, "W2", "tape", "numpy", 1.1)
    row("W3 tape ≤ 1.1× numpy (torch imported)", w, "W3", "tape", "numpy", 1.1)
    row("W3 tape ≤ 1.1× numpy (torch never imported)", nt, "W3", "tape", "numpy", 1.1)
    row("W4 tape ≤ 0.5× torch", w, "W4", "tape", "torch", 0.5)
    for k in ("W1", "W4"):
        # tape from the process without torch, torch from the main one: two processes, so
        # shown for what torch's presence costs tape (its GC walks torch's objects), not judged
        t, ref = res(nt, k).get("tape"), res(w, k).get("torch")
        if t and ref:
            rows.append((f"{k} tape (torch never imported) ÷ torch (main process)",
                         f"{t['cpu'] / ref['cpu']:.2f}×", None, ""))
    for r in w5:
        if r.get("backend") in ("tape", "tape.compile") and "growth" in r:
            where = "torch imported" if r["torch_imported"] else "torch never imported"
            rows.append((f"W5 {r['backend']} RSS flat, step {r['steps'][0]}→{r['steps'][1]} "
                         f"({where})", f"{r['growth'] * 100:+.1f}%", r["growth"] < FLAT, ""))
    deep = rep.get("deep")
    if deep:
        rows.append((f"W5 tape {deep['ops']:,}-op chain completes",
                     "failed" if "error" in deep else f"{deep['total_s']:.2f} s", deep["finite"], ""))
    if hasattr(tape, "compile"):
        row("W1 tape.compile ≤ 1.5× numpy", w, "W1", "tape.compile", "numpy", 1.5)
        row("W2 tape.compile ≤ 1.05× numpy (torch imported)", w, "W2", "tape.compile", "numpy", 1.05)
        row("W2 tape.compile ≤ 1.05× numpy (torch never imported)", nt, "W2", "tape.compile",
            "numpy", 1.05)
    else:
        rows.append(("W1 tape.compile ≤ 1.5× numpy", "tape has no compile", None, ""))
        rows.append(("W2 tape.compile ≤ 1.05× numpy", "tape has no compile", None, ""))
    return rows


# ---------------------------------------------------------------------------------------
# Markdown


def fmt(v: float) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def workload_table(wl: dict, with_torch: bool = True) -> str:
    res = wl["results"]
    unit = wl["unit"]
    head = f"| backend | {unit} (CPU) | × numpy |" + (" × torch |" if with_torch else "") + \
        f" {unit} (wall) | calls/round | minor faults/call |"
    lines = [head, "|---|---:|---:|" + ("---:|" if with_torch else "") + "---:|---:|---:|"]
    order = [b for b in bw.BACKENDS if b in res]
    for b in order:
        r = res[b]
        rn = ratio(res, b, "numpy")
        rt = ratio(res, b, "torch")
        cells = [bw.LABELS[b], fmt(r["value"]), f"{rn:.2f}" if rn else "–"]
        if with_torch:
            cells.append(f"{rt:.2f}" if rt else "–")
        cells += [fmt(r["wall_value"]), str(r["reps"]), fmt(r["faults"])]
        lines.append("| " + " | ".join(cells) + " |")
    for b, why in wl["skipped"].items():
        lines.append(f"| {bw.LABELS[b]} | skipped: {why} |" + " |" * (4 + with_torch))
    return "\n".join(lines)


def markdown(rep: dict) -> str:
    m = rep["machine"]
    v = rep["versions"]
    out = ["## Latest run", ""]
    out.append(f"- command: `{rep['command']}` ({rep['mode']}: {rep['rounds']} rounds, "
               f"~{rep['target']} s of CPU per backend per round; took {rep['elapsed_s']:.0f} s wall, "
               f"{rep['cpu_s']:.0f} s CPU in the main process)")
    out.append(f"- date: {rep['date']}; commit {rep['commit']}")
    out.append(f"- machine: {m['cpu']}, {m['cpus']} CPUs, {m['platform']}")
    la, lb = rep["load_before"], rep["load_after"]
    out.append(f"- load average: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} before, "
               f"{lb[0]:.2f} {lb[1]:.2f} {lb[2]:.2f} after (the machine was "
               f"{'busy: CPU time is the figure to read' if la[0] > 1.0 else 'idle'})")
    out.append("- versions: " + ", ".join(f"{k} {x}" for k, x in v.items()))
    if rep["thread_pools"] is None:
        out.append("- thread pools: **not pinned** (threadpoolctl is not installed; workers got "
                   "OMP/OPENBLAS/MKL_NUM_THREADS=1); torch intra-op threads = 1")
    else:
        out.append("- thread pools pinned to 1 (threadpoolctl): " + (", ".join(
            f"{p['internal_api']} {p.get('version') or ''} = {p['num_threads']}".replace("  ", " ")
            for p in rep["thread_pools"]) or "none found") + "; torch intra-op threads = 1")
    nt = rep["notorch"]
    if "error" in nt:
        out.append(f"- the no-torch subprocess failed: {nt['error']}")
    else:
        out.append("- the no-torch subprocess imported torch: "
                   f"{'YES (its numbers are not torch-free)' if nt['torch_imported'] else 'no'}")
    notes = rep["workloads"].get("W2", {}).get("notes")
    if notes:
        out.append(f"- tape's W2 ops: {notes}")
    out.append("- clock: process CPU time per call, median over rounds; "
               "wall time per call alongside (median). Ratios are CPU-time ratios from the same run.")
    out.append("")
    out.append("### Targets")
    out.append("")
    out.append("Targets from issue 6, not assertions: measured in this run.")
    out.append("")
    out.append("Judged on the ratio of the medians; \"single rounds\" is the range of the ratios the "
               "rounds gave one by one (each round times both backends), for how much one reading moves.")
    out.append("")
    out.append("| target | measured | single rounds | pass |")
    out.append("|---|---:|---:|:---:|")
    for text, measured, ok, spread in rep["targets"]:
        out.append(f"| {text} | {measured} | {spread or '–'} | "
                   f"{'–' if ok is None else ('pass' if ok else '**fail**')} |")
    out.append("")
    for key, wl in rep["workloads"].items():
        out.append(f"### {key}: {wl['title']} — {wl['unit']}, forward + backward")
        out.append("")
        out.append(workload_table(wl))
        out.append("")
        ntw = nt.get("workloads", {}).get(key)
        if ntw and ntw["results"]:
            out.append(f"{key} again in a subprocess that never imports torch:")
            out.append("")
            out.append(workload_table(ntw, with_torch=False))
            out.append("")
    out.append("### W5: memory over a training loop (W2 + SGD), one fresh process each")
    out.append("")
    out.append("| backend | torch imported | RSS at start | after step "
               f"{rep['w5_steps'][0]} | after step {rep['w5_steps'][1]} | growth | flat (< 5%) | "
               "ms/step (CPU) | minor faults/step |")
    out.append("|---|---|---:|---:|---:|---:|:---:|---:|---:|")
    mb = 1 / 2**20
    for r in rep["w5"]:
        if "error" in r:
            out.append(f"| {bw.LABELS[r['backend']]} | {'yes' if r['import_torch'] else 'no'} | "
                       f"failed: {r['error']} | | | | | | |")
            continue
        s0, s1 = (str(s) for s in r["steps"])
        out.append(f"| {bw.LABELS[r['backend']]} | {'yes' if r['torch_imported'] else 'no'} | "
                   f"{r['rss']['start'] * mb:.1f} MB | {r['rss'][s0] * mb:.1f} MB | "
                   f"{r['rss'][s1] * mb:.1f} MB | {r['growth'] * 100:+.1f}% | "
                   f"{'yes' if r['growth'] < FLAT else '**no**'} | {r['ms_per_step']:.2f} | "
                   f"{r['faults_per_step']:.0f} |")
    deep = rep.get("deep")
    if deep and "error" in deep:
        out.append("")
        out.append(f"tape, {deep['ops']:,}-op chain: **failed**: {deep['error']}")
    elif deep:
        out.append("")
        out.append(f"tape, {deep['ops']:,}-op chain (W1's body), once: forward {deep['forward_s']:.2f} s + "
                   f"backward {deep['backward_s']:.2f} s = {deep['total_s']:.2f} s CPU "
                   f"({deep['total_s'] / deep['ops'] * 1e6:.1f} µs/op); freeing the graph "
                   f"{deep['free_s']:.2f} s; gradients finite: {'yes' if deep['finite'] else 'NO'}")
    out.append("")
    out.append("Gradient agreement with the numpy floor, checked before timing "
               "(largest error in units of the tolerance; ≤ 1 agrees):")
    out.append("")
    out.append("| workload | rtol, atol (× max\\|grad\\|) | " + " | ".join(
        bw.LABELS[b] for b in bw.BACKENDS if b != "numpy") + " |")
    out.append("|---|---|" + "---:|" * (len(bw.BACKENDS) - 1))
    for key, wl in rep["workloads"].items():
        _, _, _, _, rtol, atol = bw.WORKLOADS[key]
        cells = [f"{wl['check'][b]:.2g}" if b in wl["check"] else "–"
                 for b in bw.BACKENDS if b != "numpy"]
        out.append(f"| {key} | {rtol:g}, {atol:g} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("![benchmarks chart](images/benchmarks.png)")
    return "\n".join(out)


BEGIN, END = "<!-- suite:begin (written by benchmarks/suite.py) -->", "<!-- suite:end -->"


def write_doc(text: str, path: str = DOC) -> None:
    """Replace the text between the suite's markers, keeping the rest of the page."""
    block = f"{BEGIN}\n{text}\n{END}"
    if os.path.exists(path):
        with open(path) as f:
            page = f.read()
    else:
        page = "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    i, j = page.find(BEGIN), page.find(END)
    if i >= 0 and j > i:
        page = page[:i] + block + page[j + len(END):]
    else:
        page = page.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(page)


# ---------------------------------------------------------------------------------------
# Profiling


def profile(key: str, backend: str, size: dict, calls: int) -> str:
    build = bw.WORKLOADS[key][0]
    with bt.pinned():
        run = build(backend, size)
        run()
        return bt.cprofile(run, calls)


# ---------------------------------------------------------------------------------------
# Main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="3 short rounds (about a minute of CPU)")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, gradient agreement only")
    p.add_argument("--rounds", type=int, help="override the number of rounds")
    p.add_argument("--only", help="comma-separated workloads to run, e.g. W1,W3 (W5 includes the deep chain)")
    p.add_argument("--backends", help="comma-separated backends (default: all available)")
    p.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md or the PNG")
    p.add_argument("--json", metavar="PATH", help="also write the whole report as JSON")
    p.add_argument("--profile", metavar="W", help="cProfile one workload on --backends (default tape)")
    p.add_argument("--worker", choices=["notorch", "rss"], help=argparse.SUPPRESS)
    p.add_argument("--backend", help=argparse.SUPPRESS)
    p.add_argument("--import-torch", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size", help=argparse.SUPPRESS)
    p.add_argument("--target", type=float, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(argv)
    args.argv = argv

    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    size_name = args.size or mode_name
    size = bw.SIZES[size_name]
    rounds = args.rounds or MODES[mode_name][0]
    target = args.target if args.target is not None else MODES[mode_name][1]
    time_it = mode_name != "smoke"

    if args.worker:
        if args.worker == "notorch":
            only = tuple(args.only.split(",")) if args.only else NOTORCH
            res = worker_notorch(size, rounds, target, time_it, only)
        else:
            res = worker_rss(args.backend, size, args.import_torch)
        with open(args.out, "w") as f:
            json.dump(res, f)
        return 0

    if args.profile:
        calls = 3 if args.profile in ("W3", "W4") else 50
        for b in (args.backends or "tape").split(","):
            print(f"## {args.profile}, {b}: cProfile over {calls} calls, by own time\n")
            print(profile(args.profile, b, size, calls))
        return 0

    return run_suite(args, mode_name, size_name, size, rounds, target, time_it)


def problems(rep: dict) -> list:
    """What went wrong with tape itself: a gradient disagreement or a failure of tape or
    tape.compile (a missing optional backend is not a problem)."""
    out = []
    for where, wls in (("", rep["workloads"]), (" (no torch)", rep["notorch"].get("workloads", {}))):
        for k, wl in wls.items():
            for b, why in wl["skipped"].items():
                if b in ("tape", "tape.compile") and not why.startswith("tape has no"):
                    out.append(f"{k} {b}{where}: {why}")
                elif why.startswith("gradients disagree"):
                    out.append(f"{k} {b}{where}: {why}")
    if "error" in rep["notorch"]:
        out.append(f"no-torch worker: {rep['notorch']['error']}")
    for r in rep["w5"]:
        if "error" in r or not r.get("finite", True):
            out.append(f"W5 {r['backend']}: {r.get('error', 'non-finite gradients')}")
    if rep.get("deep") and not rep["deep"]["finite"]:
        out.append(f"deep chain: {rep['deep'].get('error', 'non-finite gradients')}")
    return out


def run_suite(args, mode_name, size_name, size, rounds, target, time_it) -> int:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    load_before = os.getloadavg()
    only = set((args.only or "W1,W2,W3,W4,W5").upper().split(","))
    backends = args.backends.split(",") if args.backends else list(bw.BACKENDS)
    if "numpy" not in backends:
        backends.append("numpy")
    if "torch" in backends and bw.missing("torch") is None:
        import torch

        torch.set_num_threads(1)
    log = sys.stderr.write
    rep = {"mode": mode_name, "rounds": rounds, "target": target, "size": size_name,
           "command": " ".join(["python benchmarks/suite.py", *args.argv]),
           "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "commit": git_commit(), "versions": versions(), "load_before": load_before,
           "machine": {"cpu": bt.cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform()},
           "workloads": {}, "notorch": {}, "w5": [], "w5_steps": list(size["w5_steps"]), "deep": None}
    with bt.pinned():
        rep["thread_pools"] = bt.thread_pools()
        for key in ("W1", "W2", "W3", "W4"):
            if key in only:
                log(f"[suite] {key} ...\n")
                rep["workloads"][key] = run_workload(key, backends, size, rounds, target, time_it)
        if "W5" in only:
            log("[suite] W5: deep chain ...\n")
            try:
                rep["deep"] = deep_chain(size["deep_ops"])
            except Exception as exc:  # e.g. a RecursionError: reported, not fatal
                rep["deep"] = {"ops": size["deep_ops"], "error": f"{type(exc).__name__}: {exc}"[:300],
                               "finite": False}
    if only & set(NOTORCH):
        keys = ",".join(k for k in NOTORCH if k in only)
        log(f"[suite] {keys} in a subprocess without torch ...\n")
        rep["notorch"] = spawn(["--worker", "notorch", "--size", size_name, "--rounds", str(rounds),
                                "--target", str(target), "--only", keys]
                               + (["--smoke"] if mode_name == "smoke" else []))
    if "W5" in only:
        plan = [("tape", False), ("numpy", False), ("tape", True)]
        if "tape.compile" in backends and bw.missing("tape.compile") is None:
            plan.insert(2, ("tape.compile", False))
        if mode_name == "full" and "torch" in backends and bw.missing("torch") is None:
            plan.append(("torch", True))
        for b, with_torch in plan:
            log(f"[suite] W5: {b}{' (torch imported)' if with_torch else ''} ...\n")
            r = spawn(["--worker", "rss", "--backend", b, "--size", size_name]
                      + (["--import-torch"] if with_torch else []))
            r.update(backend=b, import_torch=with_torch, steps=list(size["w5_steps"]))
            rep["w5"].append(r)
    rep["load_after"] = os.getloadavg()
    rep["elapsed_s"] = time.perf_counter() - wall0
    rep["cpu_s"] = time.process_time() - cpu0
    rep["targets"] = targets(rep)

    text = markdown(rep)
    print(text)
    if not args.no_write and mode_name != "smoke":
        write_doc(text)
        try:
            import bench_chart

            bench_chart.draw(rep, PNG)
            log(f"[suite] wrote {os.path.relpath(DOC, ROOT)} and {os.path.relpath(PNG, ROOT)}\n")
        except ImportError as exc:
            log(f"[suite] wrote {os.path.relpath(DOC, ROOT)}; no chart ({exc}: pip install matplotlib)\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1, default=str)
    bad = problems(rep)
    if bad:
        log("[suite] PROBLEMS: " + "; ".join(bad) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
