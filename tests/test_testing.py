"""tape.testing (compare, assert_same_as_torch, the report) and tape.pytest_plugin.

Each divergence the harness must catch is made on purpose: a function that does something
else when its module is tape (`m is tape`), and the report must point at that first.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tape
from tape.testing import (
    DEFAULT_TOLERANCES,
    assert_same_as_torch,
    compare,
    graph_order,
    graph_summary,
    leaf,
)

pytest_plugins = ["pytester"]  # test_pytest_plugin runs a pytest session in this process

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
W = np.array([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]], dtype=np.float32)


def model(m, x, w):
    return (x @ w).tanh().sum(1)


# ---------------------------------------------------------------------------------------
# agreement


def test_agreeing_function_reports_every_part():
    report = compare(model, X, leaf(W))
    assert report.ok and report.first_divergence is None and not report.missing
    sections = [r.section for r in report.rows]
    assert sections[0] == "outputs" and "graph (playback order)" in sections and sections[-1] == "grads"
    graph = [r.tape for r in report.rows if r.section.startswith("graph")]
    assert graph == ["SumBackward1 -> (#1:0)", "TanhBackward0 -> (#2:0)",
                     "MmBackward0 -> (None, #3:0)", "AccumulateGrad"]
    text = str(report)
    assert "same as torch" in text and "input[1].grad" in text and ">>" not in text


def test_requires_grad_flags_and_a_given_gradient():
    g = np.array([1.0, -2.0], dtype=np.float32)
    report = compare(model, X, W, requires_grad=(True, True), grad=g)
    assert report.ok, report
    grads = [r.what for r in report.rows if r.section == "grads"]
    assert grads == ["input[0].grad", "input[1].grad"]
    with pytest.raises(ValueError, match="2 flags for 3 inputs"):
        compare(lambda m, a, b, c: a, X, X, X, requires_grad=(True, False))


def test_outputs_only_and_plain_values():
    report = compare(lambda m, x: (x.shape, x.dtype, x.sum().item(), [x.ndim, "text"]), X,
                     backward=False)
    assert report.ok, report
    assert all(r.section == "outputs" for r in report.rows)


def test_leaves_made_inside_the_function_are_compared_through_the_graph():
    def f(m, x):
        w = m.tensor([2.0, 3.0, 4.0], requires_grad=True)
        return (x * w).sum()

    report = compare(f, X)
    assert report.ok, report
    assert [r.what for r in report.rows if r.section == "grads"] == ["leaf #0 in the graph.grad"]


def test_the_tensor_stays_a_float64_when_given_float64():
    report = compare(lambda m, x: x * 2, leaf(X.astype(np.float64)))
    assert report.ok and "float64[2, 3]" in report.rows[0].tape


# ---------------------------------------------------------------------------------------
# divergences, each found where it is


def test_a_value_divergence_is_the_first_divergence():
    report = compare(lambda m, x: x * (2.001 if m is tape else 2.0), leaf(X))
    assert not report.ok
    first = report.first_divergence
    assert (first.section, first.what) == ("outputs", "output")
    assert "max abs diff" in first.detail and "at (" in first.detail
    text = str(report)
    assert "DIFFERS from torch; first divergence at outputs: output" in text
    assert text.count(">>") == 1 and "!!" in text  # the grads differ too, marked as later ones


def test_a_dtype_divergence():
    report = compare(lambda m, x: x.double() if m is tape else x, X)
    assert not report.ok and "dtype: tape float64, torch float32" in report.first_divergence.detail


def test_a_gradient_divergence_with_equal_outputs():
    def f(m, x):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t * t

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                return g * t * (3 if m is tape else 2)  # tape's rule is wrong on purpose

        return Square.apply(x)

    report = compare(f, leaf(X))
    assert not report.ok
    assert report.first_divergence.section == "grads"
    graph = [r for r in report.rows if r.section.startswith("graph")]
    assert graph[0].tape == "SquareBackward -> (#1:0)" and all(r.ok for r in graph)


def test_a_graph_divergence_with_equal_values():
    report = compare(lambda m, x: x * x if m is tape else x**2, leaf(X))
    first = report.first_divergence  # the output's own grad_fn already differs
    assert first.section == "outputs" and "grad_fn: tape MulBackward0, torch PowBackward0" in first.detail
    node = next(r for r in report.divergences if r.section == "graph (playback order)")
    assert node.what == "#0" and node.tape == "MulBackward0 -> (#1:0, #1:0)"
    assert node.torch == "PowBackward0 -> (#1:0)"
    assert [r.ok for r in report.rows if r.section == "grads"] == [True]


def test_tolerances_follow_the_dtype_and_can_be_set():
    assert DEFAULT_TOLERANCES["float32"] == (1.3e-6, 1e-5)
    assert DEFAULT_TOLERANCES["float64"] == (1e-7, 1e-7)
    small = lambda m, x: x * (1 + 1e-7 if m is tape else 1.0)  # noqa: E731
    assert compare(small, X.astype(np.float64)).ok
    big = lambda m, x: x * (1 + 1e-4 if m is tape else 1.0)  # noqa: E731
    assert not compare(big, X.astype(np.float64)).ok
    assert compare(big, X.astype(np.float64), rtol=1e-3, atol=0).ok
    with pytest.raises(AssertionError, match="first divergence at outputs"):
        assert_same_as_torch(big, X)
    assert assert_same_as_torch(big, X, rtol=1e-3).ok


def test_integer_outputs_must_be_equal():
    report = compare(lambda m, x: (x > (0 if m is tape else 0.3)).long(), X)
    assert not report.ok and "first difference at" in report.first_divergence.detail


# ---------------------------------------------------------------------------------------
# errors


def _inplace_after_save(m, x):
    y = x.exp()
    z = y.sum()
    y.add_(1)
    return z


def test_the_same_error_in_backward_agrees():
    report = compare(_inplace_after_save, leaf(X))
    assert report.ok, report
    row = next(r for r in report.rows if r.section == "errors")
    assert row.what == "raised in backward" and row.tape.startswith("RuntimeError")


def test_an_error_on_one_side_only_diverges():
    def f(m, x):
        if m is torch:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return x

    report = compare(f, leaf(X))
    first = report.first_divergence
    assert first.section == "errors" and first.tape == "nothing" and "only one of them" in first.detail


def test_the_key_phrase_of_torchs_message_must_be_in_tapes():
    def f(m, x):
        raise RuntimeError("modified by an inplace operation" if m is torch else "something else")

    report = compare(f, leaf(X))
    assert not report.ok and "lacks 'modified by an inplace operation'" in report.first_divergence.detail


def test_a_given_phrase_is_required_of_both():
    report = compare(_inplace_after_save, leaf(X), phrase="is at version 1")
    assert report.ok, report
    report = compare(_inplace_after_save, leaf(X), phrase="no such words")
    assert not report.ok
    report = compare(lambda m, x: x.sum(), leaf(X), phrase="anything")
    assert not report.ok and "both ran" in report.first_divergence.detail


def test_a_name_tape_lacks_is_named():
    report = compare(lambda m, x: m.linalg.solve(x, x), leaf(np.eye(2)))
    assert not report.ok and report.missing == ["torch.linalg"]
    assert str(report).startswith("compare(<lambda>): tape lacks torch.linalg")
    report = compare(lambda m, x: x.no_such_method(), leaf(np.eye(2)))
    assert report.missing == []  # torch lacks it too: the same AttributeError, nothing tape lacks
    assert report.ok


# ---------------------------------------------------------------------------------------
# the graph order


def test_graph_order_is_descending_position_and_matches_torch():
    def build(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0], requires_grad=True)
        keep = (a * 3).sum()  # a's sink first made for an older graph, still alive
        c = (b * a).sin() + a
        d = c.unbind()
        e = d[0] * d[1] / b.sum()
        return e, keep

    (e_tape, _), (e_torch, _) = build(tape), build(torch)
    assert graph_summary([e_tape.grad_fn]) == graph_summary([e_torch.grad_fn])
    order = graph_order([e_tape.grad_fn])
    positions = [n.position for n in order if type(n).__name__ != "AccumulateGrad"]
    assert positions == sorted(positions, reverse=True)
    names = [type(n).__name__ for n in order]
    assert names[:3] == ["DivBackward0", "SumBackward0", "MulBackward0"]
    assert names[-2:] == ["AccumulateGrad", "AccumulateGrad"]


def test_graph_order_of_a_deep_chain_needs_no_recursion():
    x = tape.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    assert len(graph_order([y.grad_fn])) == 5001


# ---------------------------------------------------------------------------------------
# the pytest plugin (run in a pytest of its own)

PLUGIN_TESTS = '''
import numpy as np
import pytest

def test_mul(mod):
    a = mod.tensor(2.0, requires_grad=True)
    (a * 3).backward()
    assert float(a.grad) == 3.0

@pytest.mark.both
def test_tanh_grad(mod):
    x = mod.tensor([0.5, -1.0], requires_grad=True)
    x.tanh().sum().backward()
    return x.grad, x.tanh().grad_fn

@pytest.mark.both
def test_returns_differ(mod):
    return mod.tensor([1.0, 2.0]) * (2.5 if mod.__name__ == "tape" else 2.0)

@pytest.mark.both
def test_body_fails_with_one(mod):
    assert mod.__name__ == "torch"

@pytest.mark.parametrize("mod", ["mine"])
def test_own_parametrization(mod):
    assert mod == "mine"

def test_fixture(same_as_torch):
    from tape.testing import leaf
    same_as_torch(lambda m, x: x.exp(), leaf(np.ones(3)))
'''

OWN_MOD_CONFTEST = '''
import pytest
import tape

@pytest.fixture(params=[tape], ids=["only-tape"])
def mod(request):
    return request.param
'''


def test_pytest_plugin(pytester):
    pytester.makepyfile(test_plugin_use=PLUGIN_TESTS)
    own = pytester.mkpydir("own")
    (own / "conftest.py").write_text(OWN_MOD_CONFTEST)
    (own / "test_own.py").write_text("def test_x(mod):\n    assert mod.__name__ == 'tape'\n")
    result = pytester.runpytest_inprocess("-p", "tape.pytest_plugin", "-p", "no:cacheprovider", "-v")
    out = result.stdout.str()
    assert "test_mul[tape] PASSED" in out and "test_mul[torch] PASSED" in out, out
    assert "test_tanh_grad PASSED" in out and "test_fixture PASSED" in out, out
    assert "test_x[only-tape] PASSED" in out, out  # a conftest's own `mod` wins
    assert "test_own_parametrization[mine] PASSED" in out, out  # and the test's own
    assert "test_returns_differ FAILED" in out and "tape and torch returned different results" in out
    assert ">> returned" in out, out
    assert "test_body_fails_with_one FAILED" in out and "the test failed with mod=tape" in out, out
    result.assert_outcomes(passed=6, failed=2)
