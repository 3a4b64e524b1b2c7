"""`python -m tape.tour`: it runs, and it shows what the tutorial shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import warnings

import pytest

from tape import tour


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "tape.tour", *args], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=60)


@pytest.fixture(scope="module")
def out() -> str:
    proc = _run()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    # warnings (the non-leaf .grad one above all) must not leak
    assert proc.stderr == ""
    return proc.stdout


def _section(out: str, n: int) -> str:
    """Example n's part of the output, from its heading to the next one."""
    start = re.search(rf"^ {n}\. ", out, flags=re.M)
    assert start, f"no example {n}"
    end = re.search(rf"^ {n + 1}\. ", out[start.end():], flags=re.M)
    return out[start.start():start.end() + end.start()] if end else out[start.start():]


def _flat(text: str) -> str:
    """Whitespace collapsed: prose and error messages are wrapped to the page."""
    return " ".join(text.split())


def test_every_example_in_order(out):
    titles = [m.group(1) for m in re.finditer(r"^ (\d)\. ", out, flags=re.M)]
    assert titles == ["1", "2", "3", "4", "5", "6", "7"]
    assert "!! example" not in out  # the tour's own failure marker


def test_node_names(out):
    for name in ("MulBackward0", "AddBackward0", "DivBackward0", "UnbindBackward0", "AccumulateGrad"):
        assert name in out


def test_big_example_gradients(out):
    assert re.search(r"^>>> c\.grad\ntensor\(36\.\)$", out, flags=re.M)
    assert re.search(r"^>>> h\.grad\ntensor\(-64\.\)$", out, flags=re.M)
    assert re.search(r"^>>> i\.grad\ntensor\(18\.\)$", out, flags=re.M)
    assert re.search(r"^>>> j\.grad\nNone$", out, flags=re.M)  # not retained
    # and in the boxes: the grad row under the box titled c, h, i
    section = _section(out, 5)
    for name, grad in (("c", "36."), ("h", "-64."), ("i", "18."), ("a", "None")):
        assert _box_field(section, name, "grad") == grad


def _box_field(text: str, name: str, field: str) -> str:
    """A field of the box titled `name` (boxes sit side by side, so go by column)."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        m = re.search(rf"┌─ {name} ─", line)
        if m:
            for below in lines[n + 1:n + 7]:
                cell = below[m.start():]
                fm = re.match(rf"│ {field} +(\S+)", cell)
                if fm:
                    return fm.group(1)
    raise AssertionError(f"no box {name} with field {field}")


def test_single_multiply(out):
    section = _section(out, 1)
    assert "─(0)→ AccumulateGrad (a)" in section
    assert "─(0)→ None" in section  # b needs no gradient
    assert re.search(r"^>>> a\.grad\ntensor\(3\.\)$", section, flags=re.M)
    assert _box_field(section, "c", "grad_fn") == "<MulBackward0>"
    assert _box_field(section, "c", "is_leaf") == "False"
    # the no-grad case: c is a leaf with no graph and nothing was recorded
    tail = section[section.index("when no input requires grad"):]
    assert _box_field(tail, "c", "grad_fn") == "None"
    assert _box_field(tail, "c", "is_leaf") == "True"
    assert "nothing recorded" in tail


def test_deeper_graph(out):
    section = _section(out, 2)
    assert re.search(r"next_functions\[0\]\[0\] is c\.grad_fn\nTrue", section)
    for name, value in (("a", "12"), ("b", "8"), ("d", "6"), ("a", "15"), ("b", "10")):
        assert re.search(rf"^>>> {name}\.grad\ntensor\({value}\.\)$", section, flags=re.M), name
    assert "<freed>" in section


def test_inplace_error_and_add_version(out):
    section = _section(out, 3)
    flat = _flat(section)
    assert "RuntimeError: one of the variables needed for gradient computation has been " \
           "modified by an inplace operation" in flat
    assert "(now v1: stale)" in section
    after_add = section[section.index("add saves nothing"):]
    assert "RuntimeError" not in after_add
    assert re.search(r"^>>> d\.grad\ntensor\(1\.\)$", after_add, flags=re.M)


def test_unbind_output_indices(out):
    section = _section(out, 4)
    assert "tensor([6., 3., 2.])" in section
    for idx in (0, 1, 2):
        assert f"─({idx})→ UnbindBackward0 (b, c, d)" in section
    assert "#{0}.0, #{0}.1".format(re.search(r"(\d+)\s+unbind\s", section).group(1)) in section


def test_big_example_graph_converges(out):
    section = _section(out, 5)
    graph = section[section.index("the backward graph"):section.index("records leading to k")]
    assert graph.count("AccumulateGrad (h)") == 2
    assert "AccumulateGrad (h)  (same node as above)" in graph
    assert "DivBackward0 (i)" in graph and "(same node as above)" in graph.splitlines()[-3]
    assert "AccumulateGrad (c)" in graph
    assert "records leading to k (5 records)" in section


def test_detach_and_values_out(out):
    six = _section(out, 6)
    assert _box_field(six, "m", "grad_fn") == "None"
    assert _box_field(six, "m", "requires_grad") == "False"
    assert "tensor(81., grad_fn=<MulBackward0>)" in six
    seven = _section(out, 7)
    assert "Can't call numpy() on Tensor that requires grad" in _flat(seven)
    assert "[[1, 2], [3, 4]]" in seven and re.search(r"^>>> k\.item\(\)\n81\.0$", seven, flags=re.M)


def test_ascii_and_only():
    proc = _run("--ascii", "--only", "4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()
    assert re.findall(r"^ (\d)\. ", proc.stdout, flags=re.M) == ["4"]
    assert "-(2)> UnbindBackward0" in proc.stdout


def test_in_process_is_fast_and_quiet(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        status = tour.main([])
        elapsed = time.perf_counter() - start
    assert status == 0
    assert elapsed < 1.0, elapsed
    assert not caught, [str(w.message) for w in caught]
    assert "The big example" in capsys.readouterr().out
