"""inf and nan come without warnings, as torch gives them (NOTE [quiet IEEE] in tape/quiet.py):
forward, backward and tape.compile's replay; the user's own numpy code still warns."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import tape

INF, NAN = math.inf, math.nan

# (case, forward on module m, the values torch gives)
FORWARD = [
    ("1 / 0", lambda m: m.ones(2) / 0, [INF, INF]),
    ("0 / 0", lambda m: m.zeros(2) / m.zeros(2), [NAN, NAN]),
    ("scalar 1 / 0", lambda m: m.tensor(-1.0) / 0, -INF),
    ("log(0)", lambda m: m.log(m.zeros(2)), [-INF, -INF]),
    ("sqrt(-1)", lambda m: m.sqrt(-m.ones(2)), [NAN, NAN]),
    ("exp(1000)", lambda m: m.exp(m.full((2,), 1000.0)), [INF, INF]),
    ("float32 overflow", lambda m: m.full((2,), 3e38) * 10, [INF, INF]),
    ("0 ** -1", lambda m: m.zeros(2) ** -1.0, [INF, INF]),
    ("remainder by 0", lambda m: m.remainder(m.ones(2), 0.0), [NAN, NAN]),
    ("mean of no elements", lambda m: m.zeros(0).mean(), NAN),
    ("mean over an empty dim", lambda m: m.zeros(0, 3).mean(0), [NAN, NAN, NAN]),
    ("float16 mean of no elements", lambda m: m.zeros(0, dtype=m.float16).mean(), NAN),
]

# (case, loss of x on module m, x, the gradient torch gives)
BACKWARD = [
    ("log at 0", lambda m, x: m.log(x).sum(), [0.0, 1.0], [INF, 1.0]),
    ("sqrt at 0", lambda m, x: m.sqrt(x).sum(), [0.0, 4.0], [INF, 0.25]),
    ("1 / x at 0", lambda m, x: (1 / x).sum(), [0.0, 2.0], [-INF, -0.25]),
    ("x ** 0.5 at 0", lambda m, x: (x ** 0.5).sum(), [0.0, 4.0], [INF, 0.25]),
    ("mean of no elements", lambda m, x: x[:0].mean(), [1.0, 2.0], [0.0, 0.0]),
]


def _quietly(fn):
    """fn's result, and the RuntimeWarnings it raised under the default warning filters."""
    with warnings.catch_warnings(record=True) as caught:
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("case, fn, expected", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_gives_inf_and_nan_without_warnings(mod, case, fn, expected):
    out, raised = _quietly(lambda: fn(mod))
    assert raised == []
    np.testing.assert_array_equal(np.array(out.tolist(), dtype=float), np.array(expected))


@pytest.mark.parametrize("case, loss, x, expected", BACKWARD, ids=[c[0] for c in BACKWARD])
def test_backward_gives_inf_and_nan_without_warnings(mod, case, loss, x, expected):
    t = mod.tensor(x, requires_grad=True)
    _, raised = _quietly(lambda: loss(mod, t).backward())
    assert raised == []
    np.testing.assert_array_equal(np.array(t.grad.tolist()), np.array(expected))


def test_compiled_replay_is_quiet_and_agrees_with_eager():
    f = tape.compile(lambda x: (tape.log(x) / x).sum())
    for _ in range(3):  # the recording call, then replays
        x = tape.tensor([0.0, 1.0, 2.0], requires_grad=True)
        out, raised = _quietly(functools.partial(f, x))
        _, raised_bwd = _quietly(out.backward)
        assert raised == raised_bwd == []
        assert out.item() == -INF  # log(0) / 0
        assert x.grad.tolist()[:2] == [INF, 1.0]  # (1 - log x) / x**2
    assert (f.stats["recorded"], f.stats["replayed"]) == (1, 3)  # the first call replays too


def test_the_users_own_numpy_still_warns_and_numpy_state_is_restored():
    before = np.geterr()
    x = tape.tensor([0.0], requires_grad=True)
    y = tape.log(x)
    y.register_hook(lambda g: (_ for _ in ()).throw(ValueError("hook failed")))
    with pytest.raises(ValueError, match="hook failed"):
        y.sum().backward()  # leaves playback by an exception
    assert np.geterr() == before
    _, raised = _quietly(lambda: np.log(np.zeros(1)))
    assert raised == ["divide by zero encountered in log"]


# the user's code that playback calls runs with the user's numpy error state, not playback's
def _warns(calls):
    """A user function: numpy's log(0) (a warning unless numpy is quiet), then None."""
    def fn(*args):
        calls.append(len(_quietly(lambda: np.log(np.zeros(1)))[1]))
    return fn


class _LogInBackward(tape.autograd.Function):
    calls: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        _warns(_LogInBackward.calls)()
        return g * 2


USER_CODE = [
    ("tensor hook", lambda x, fn: (lambda y: (y.register_hook(fn), y)[1])(tape.log(x))),
    ("leaf hook", lambda x, fn: (x.register_hook(fn), tape.log(x))[1]),
    ("post-accumulate hook", lambda x, fn: (x.register_post_accumulate_grad_hook(fn), tape.log(x))[1]),
    ("node pre-hook", lambda x, fn: (lambda y: (y.grad_fn.register_prehook(fn), y)[1])(tape.log(x))),
    ("node hook", lambda x, fn: (lambda y: (y.grad_fn.register_hook(fn), y)[1])(tape.log(x))),
    ("unpack hook", lambda x, fn: _with_unpack(x, fn)),
]


def _with_unpack(x, fn):
    def unpack(t):
        fn()
        return t
    with tape.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
        return tape.log(x)


@pytest.mark.parametrize("make", [c[1] for c in USER_CODE], ids=[c[0] for c in USER_CODE])
def test_the_users_code_inside_backward_warns_as_outside(make):
    calls = []
    x = tape.tensor([0.0, 1.0], requires_grad=True)
    y = make(x, _warns(calls))
    _, raised = _quietly(lambda: y.sum().backward())
    assert calls == [1]  # the user's log(0) warned inside playback
    assert raised == []  # tape's own log(0) gradient (1 / 0) did not
    assert x.grad.tolist() == [INF, 1.0]


def test_a_custom_functions_backward_warns_as_outside():
    _LogInBackward.calls = []
    x = tape.tensor([0.0], requires_grad=True)
    _, raised = _quietly(lambda: tape.log(_LogInBackward.apply(x)).sum().backward())
    assert _LogInBackward.calls == [1] and raised == []
