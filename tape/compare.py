"""Run a torch script with torch and with tape standing in for torch, and compare.

    python -m tape.compare [--rtol R] [--atol A] [-v] SCRIPT [args...]
    python -m tape.compare --supported > docs/supported.md

The script runs unchanged, twice, each time in a fresh subprocess (`tape._torch_shim`):
once with torch, once with every `import torch...` resolved to tape. What it printed is
compared line by line (after `tape.` -> `torch.` and memory addresses are normalised;
numbers within tolerance, or differing by one unit in their last printed digit, agree), then
the final values of its top-level tensors and numbers, then how it ended. The report shows
the two runs side by side and marks the first divergence with `>>`.

Exit status: 0 the runs agree; 1 they differ; 2 tape lacks something the script uses (the
report names it, e.g. `torch.linalg.solve`, instead of a traceback); 3 no comparison was
possible (torch is not installed, the script is missing, a run crashed or timed out).

Tolerances: a program repeats its ops many times, and numpy and torch round differently
(summation order, fused kernels), so the defaults are looser than torch.testing's:
float32 (and Python floats) rtol 1e-4, atol 1e-5; float64 rtol 1e-7, atol 1e-9; float16
rtol 1e-2, atol 1e-3. `--rtol`/`--atol` set one pair for every dtype.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import pickle
import re
import subprocess
import sys
import tempfile

import attrs

from .testing import TORCH_REQUIREMENT, Report, Row, compare_values, format_rows, normalize_text

EXIT_SAME, EXIT_DIFFERENT, EXIT_MISSING, EXIT_CANNOT = 0, 1, 2, 3

PROGRAM_TOLERANCES = {
    "float16": (1e-2, 1e-3),
    "bfloat16": (5e-2, 1e-2),
    "float32": (1e-4, 1e-5),
    "complex64": (1e-4, 1e-5),
    "float64": (1e-7, 1e-9),
    "complex128": (1e-7, 1e-9),
    "float": (1e-4, 1e-6),  # Python floats: often a float32 tensor's .item()
}

# ---------------------------------------------------------------------------------------
# Running the script twice


@attrs.define(eq=False)
class Run:
    """One run of the script: what it printed and what the shim reported."""

    backend: str
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    result: dict | None = None  # the shim's report; None if the process died first
    timed_out: bool = False


def _start(backend: str, script: str, args: list[str], out: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    cmd = [sys.executable, "-m", "tape._torch_shim", "--backend", backend, "--out", out, script, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)


def _finish(backend: str, proc: subprocess.Popen, out: str, timeout: float) -> Run:
    run = Run(backend)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        run.timed_out = True
    run.stdout = stdout.decode("utf-8", "replace")
    run.stderr = stderr.decode("utf-8", "replace")
    run.returncode = proc.returncode
    if os.path.exists(out):
        with open(out, "rb") as f:
            run.result = pickle.load(f)
    return run


def run_subprocess(backend: str, script: str, args: list[str] = (), timeout: float = 600.0) -> Run:
    """Run the script in a fresh subprocess with `backend` ("tape" or "torch") as torch."""
    with tempfile.TemporaryDirectory(prefix="tape-compare-") as tmp:
        out = os.path.join(tmp, f"{backend}.pickle")
        return _finish(backend, _start(backend, script, list(args), out), out, timeout)


def run_here(script: str, args: list[str] = ()) -> Run:
    """Run the script with real torch in this process (for a caller that has imported torch
    already, e.g. a test suite: it spares a torch import). The tape run always needs a
    subprocess: it replaces `torch` in sys.modules."""
    import contextlib
    import io

    from ._torch_shim import run

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = run(script, list(args), "torch")
    return Run("torch", buf.getvalue(), "", 0, result)


def run_both(script: str, args: list[str], timeout: float) -> tuple[Run, Run]:
    """Run the script with tape and with torch (two subprocesses at once)."""
    with tempfile.TemporaryDirectory(prefix="tape-compare-") as tmp:
        outs = {b: os.path.join(tmp, f"{b}.pickle") for b in ("tape", "torch")}
        procs = {b: _start(b, script, args, outs[b]) for b in ("tape", "torch")}
        runs = {b: _finish(b, procs[b], outs[b], timeout) for b in ("tape", "torch")}
    return runs["tape"], runs["torch"]


# ---------------------------------------------------------------------------------------
# Comparing printed lines

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])|\b(?:nan|inf)\b")


def _last_digit(token: str) -> float:
    """The value of one unit in the last printed digit: '0.1235' -> 1e-4, '1.5e-05' -> 1e-6.
    A number printed short has none: torch's whole-number form ('8.') prints only exact
    integers, and a short Python float ('0.4', '2e-05') is exact as printed, so '8.' and
    '7.', or '0.4' and '0.5', differ for real. Four decimals (torch's precision) or four
    digits keep the allowance for values rounded to fit."""
    mantissa, _, exponent = token.lower().lstrip("+-").partition("e")
    if mantissa.endswith(".") and not exponent:
        return 0.0
    digits = mantissa.replace(".", "").lstrip("0")
    if len(mantissa.partition(".")[2]) < 4 and len(digits) < 4:
        return 0.0  # ('0.4', '2e-05': short enough to be exact, as Python prints floats)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def _is_float_token(token: str) -> bool:
    t = token.lower()
    return "." in t or "e" in t or t in ("nan", "inf")


def line_difference(a: str, b: str, rtol: float, atol: float) -> str | None:
    """None when tape's line `a` agrees with torch's line `b`, else why not.

    The text around the numbers must be the same (spacing aside: torch pads numbers to a
    common width); integers must be equal; other numbers must agree within rtol/atol or
    differ by at most one unit in the last digit printed."""
    a, b = normalize_text(a), normalize_text(b)
    if a == b:
        return None
    skel_a, skel_b = _NUMBER.sub("#", a), _NUMBER.sub("#", b)
    if "".join(skel_a.split()) != "".join(skel_b.split()):
        # the first stretch of text between numbers that differs
        parts_a, parts_b = _NUMBER.split(a), _NUMBER.split(b)
        for k in range(max(len(parts_a), len(parts_b))):
            pa = " ".join(parts_a[k].split()) if k < len(parts_a) else ""
            pb = " ".join(parts_b[k].split()) if k < len(parts_b) else ""
            if pa.replace(" ", "") != pb.replace(" ", ""):
                return f"the text differs: tape has {pa[:40]!r} where torch has {pb[:40]!r}"
        return "the text differs"
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        if x == y:
            continue
        if not (_is_float_token(x) and _is_float_token(y)):
            if x.lstrip("+") != y.lstrip("+"):
                return f"{x} vs {y}"
            continue
        fx, fy = float(x), float(y)
        if fx != fx and fy != fy:  # nan, nan
            continue
        slack = max(atol + rtol * abs(fy), 1.5 * max(_last_digit(x), _last_digit(y)))
        if not abs(fx - fy) <= slack:
            return f"{x} vs {y}"
    return None


def _skeleton(line: str) -> str:
    return "".join(_NUMBER.sub("#", normalize_text(line)).split())


def compare_stdout(a: str, b: str, rtol: float, atol: float) -> list[Row]:
    """One row per printed line, tape's and torch's aligned (difflib, on the text around the
    numbers) so that one extra or missing line does not make every later line differ."""
    la, lb = a.splitlines(), b.splitlines()
    matcher = difflib.SequenceMatcher(None, [_skeleton(x) for x in la], [_skeleton(x) for x in lb],
                                      autojunk=False)
    rows = []

    def label(i, j):
        if i is None or j is None or i == j:
            return f"{(j if i is None else i) + 1}"
        return f"{i + 1}|{j + 1}"

    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs = list(zip(range(i1, i2), range(j1, j2)))
        for i, j in pairs:
            diff = line_difference(la[i], lb[j], rtol, atol)
            rows.append(Row("stdout", label(i, j), la[i], lb[j], diff is None,
                            "" if diff is None else f"{diff}\n  tape:  {la[i]}\n  torch: {lb[j]}"))
        for i in range(i1 + len(pairs), i2):
            rows.append(Row("stdout", label(i, None), la[i], "-", False,
                            f"torch printed no such line\n  tape:  {la[i]}"))
        for j in range(j1 + len(pairs), j2):
            rows.append(Row("stdout", label(None, j), "-", lb[j], False,
                            f"tape printed no such line\n  torch: {lb[j]}"))
    return rows


# ---------------------------------------------------------------------------------------
# Comparing the runs


def _ending(run: Run) -> str:
    r = run.result
    if r is None:
        return "timed out" if run.timed_out else f"crashed (exit status {run.returncode})"
    if r["error"] is not None:
        e = r["error"]
        where = f" at {e['where']}" if e["where"] else ""
        if r["status"] == "missing":
            return f"stopped{where}: tape lacks {e['feature']}"
        first = e["message"].strip().splitlines()[0] if e["message"].strip() else ""
        return f"raised {e['type']}{where}: {first}"
    return "finished" if not r["exit_code"] else f"exited with status {r['exit_code']}"


def _same_message(a: str, b: str) -> bool:
    """Two runs' error messages agree: one holds the other, or they share the first sentence
    (tape may add to torch's text: which saved value, which op)."""
    a, b = (normalize_text(m.strip().splitlines()[0]) if m.strip() else "" for m in (a, b))
    return a in b or b in a or a.split(". ")[0] == b.split(". ")[0]


@attrs.define(eq=False)
class Outcome:
    report: Report
    exit_code: int
    message: str
    tracebacks: list = attrs.Factory(list)  # (backend, text) worth showing


def compare_runs(tape_run: Run, torch_run: Run, rtol=None, atol=None) -> Outcome:
    report = Report("tape.compare")
    table = PROGRAM_TOLERANCES
    fallback_rtol, fallback_atol = table["float"]
    line_rtol = fallback_rtol if rtol is None else rtol
    line_atol = fallback_atol if atol is None else atol
    report.rows.extend(compare_stdout(tape_run.stdout, torch_run.stdout, line_rtol, line_atol))
    ta, tb = tape_run.result, torch_run.result
    if tb is None:
        return Outcome(report, EXIT_CANNOT, f"the torch run {_ending(torch_run)}; nothing to compare",
                       [("torch", torch_run.stderr)])
    if ta is None:
        report.rows.append(Row("outcome", "ending", _ending(tape_run), _ending(torch_run), False,
                               "the tape run died"))
        return Outcome(report, EXIT_DIFFERENT, f"the tape run {_ending(tape_run)}",
                       [("tape", tape_run.stderr)])
    # the top-level tensors and numbers
    va, vb = ta["variables"], tb["variables"]
    for name in list(vb) + [n for n in va if n not in vb]:
        if name not in va or name not in vb:
            report.rows.append(Row("variables", name, "-" if name not in va else "defined",
                                   "-" if name not in vb else "defined", False,
                                   f"only the {'torch' if name in vb else 'tape'} run defines it"))
            continue
        report.rows.extend(compare_values(va[name], vb[name], name, "variables", rtol, atol, table))
    # how the runs ended
    ea, eb = ta["error"], tb["error"]
    if ea is not None and eb is not None:  # the same error, raised at the same line
        same_end = (ea["type"] == eb["type"] and ea["where"] == eb["where"]
                    and _same_message(ea["message"], eb["message"]))
    elif ea is None and eb is None:
        same_end = ta["exit_code"] == tb["exit_code"]
    else:
        same_end = False
    report.rows.append(Row("outcome", "ending", _ending(tape_run), _ending(torch_run), same_end,
                           "" if same_end else "the runs ended differently"))
    tracebacks = []
    if ta["status"] == "missing" and (eb is None or eb["type"] != ea["type"]):
        report.missing.append(ea["feature"])
        where = f" (used at {ea['where']})" if ea["where"] else ""
        return Outcome(report, EXIT_MISSING,
                       f"tape lacks {ea['feature']}{where}, so the script cannot run with tape", [])
    if ea is not None and not same_end:
        tracebacks.append(("tape", ea["traceback"]))
    if eb is not None and not same_end:
        tracebacks.append(("torch", eb["traceback"]))
    first = report.first_divergence
    if first is None:
        lines = sum(r.section == "stdout" for r in report.rows)
        names = len({r.what.split(".")[0].split("[")[0] for r in report.rows if r.section == "variables"})
        return Outcome(report, EXIT_SAME, f"same: {lines} printed lines and {names} top-level "
                       "values agree with torch", tracebacks)
    where = f"{first.section} {'line ' if first.section == 'stdout' else ''}{first.what}"
    why = first.detail.splitlines()[0] if first.detail else ""
    return Outcome(report, EXIT_DIFFERENT, f"DIFFERENT: first divergence at {where}" +
                   (f": {why}" if why else ""), tracebacks)


# ---------------------------------------------------------------------------------------
# Output


def _rows_to_show(rows: list[Row], verbose: bool, context: int = 3, limit: int = 60) -> set[int] | None:
    """Which rows to print: all when few (or -v), else the head and each divergence's context."""
    if verbose or len(rows) <= limit:
        return None
    show = set(range(min(5, len(rows))))
    bad = [i for i, r in enumerate(rows) if r.ok is False][:5]
    for i in bad:
        show.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    show.update(i for i, r in enumerate(rows) if r.section != "stdout" and len(show) < 4 * limit)
    return show


def render(script: str, outcome: Outcome, verbose: bool, colour: bool) -> str:
    from importlib.metadata import PackageNotFoundError, version

    import tape

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "?"
    head = f"tape.compare {script}   (tape {tape.__version__} vs torch {torch_version})"
    rows = outcome.report.rows
    table = format_rows(rows, width=48, show=_rows_to_show(rows, verbose), detail_lines=True)
    if colour:
        table = "\n".join(f"\x1b[1;31m{line}\x1b[0m" if line.startswith(">>") else line
                          for line in table.splitlines())
    parts = [head, table]
    for backend, text in outcome.tracebacks:
        if text and text.strip():
            tail = text.strip().splitlines()[-12:]
            parts.append(f"{backend}'s traceback (last lines):\n" + "\n".join("  " + t for t in tail))
    verdict = outcome.message
    if colour:
        code = {EXIT_SAME: "1;32", EXIT_DIFFERENT: "1;31"}.get(outcome.exit_code, "1;33")
        verdict = f"\x1b[{code}m{verdict}\x1b[0m"
    parts.append(verdict)
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------
# Command line


def torch_missing_message() -> str:
    return ("tape.compare runs the script with torch too, and torch is not installed.\n"
            f"Install it with:\n    python -m pip install {TORCH_REQUIREMENT}\n"
            "(or tape's test extra: python -m pip install -e '.[test]')")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2, which here means "tape lacks something"
        self.print_usage(sys.stderr)
        self.exit(EXIT_CANNOT, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m tape.compare",
        description="Run a torch script with torch and with tape as torch; compare the two runs.",
        epilog="exit status: 0 same, 1 different, 2 tape lacks something the script uses, "
               "3 no comparison possible")
    parser.add_argument("--rtol", type=float, default=None, help="relative tolerance (all dtypes)")
    parser.add_argument("--atol", type=float, default=None, help="absolute tolerance (all dtypes)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every row")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run (600)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--supported", action="store_true",
                        help="print docs/supported.md (the torch names tape supports) and exit")
    parser.add_argument("script", nargs="?", help="the torch script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    ns = parser.parse_args(argv)
    if ns.supported:
        if importlib.util.find_spec("torch") is None:
            print(torch_missing_message(), file=sys.stderr)
            return EXIT_CANNOT
        from ._supported import supported_markdown

        sys.stdout.write(supported_markdown())
        return EXIT_SAME
    if ns.script is None:
        parser.error("the script to run is missing")
    if importlib.util.find_spec("torch") is None:
        print(torch_missing_message(), file=sys.stderr)
        return EXIT_CANNOT
    if not os.path.isfile(ns.script):
        print(f"tape.compare: no such script: {ns.script}", file=sys.stderr)
        return EXIT_CANNOT
    tape_run, torch_run = run_both(ns.script, ns.args, ns.timeout)
    outcome = compare_runs(tape_run, torch_run, ns.rtol, ns.atol)
    colour = ns.color == "always" or (ns.color == "auto" and sys.stdout.isatty()
                                      and not os.environ.get("NO_COLOR"))
    print(render(ns.script, outcome, ns.verbose, colour))
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
