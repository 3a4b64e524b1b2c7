"""How reductions and scans accumulate, as torch's CPU kernels do (ops/reduction.py).

- float16 reductions accumulate in float32 and round once (sum, mean, var, std, norm, the
  sum inside logsumexp, cumsum). (Not prod: torch's multiplies in float16, in an order
  that follows its CPU's vector width; tape's rounds once, as the others);
- float32 cumsum accumulates in float64, each running sum rounded to float32 (and so does
  its backward, a reversed cumsum);
- numpy's Python-level reductions (np.mean, np.prod, np.cumsum) raise no RuntimeWarning
  from inside tape (NOTE [quiet IEEE] in tape/quiet.py), while the user's own still warn.

The opdb tables run float32 and float64 only, hence this file for float16.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
import torch

import tape

INF = math.inf


def _rand(shape, lo, hi, seed):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float16)


_RAMP = (np.arange(3000) * 0.01).astype(np.float16)  # arange(3000, dtype=half) * 0.01 as values
_WIDE = _rand((37, 300), -2, 2, 0) * np.float16(8)

# (case, fn(m, x), float16 input)
FORWARD = [
    ("sum", lambda m, x: x.sum(), _RAMP),
    ("sum dim", lambda m, x: x.sum(1), _WIDE),
    ("mean", lambda m, x: x.mean(), _RAMP),
    ("mean dim", lambda m, x: x.mean(0), _WIDE),
    ("var", lambda m, x: x.var(), _RAMP),
    ("var dim", lambda m, x: x.var(1), _WIDE),
    ("std", lambda m, x: x.std(), _RAMP),
    ("std dim", lambda m, x: x.std(0, correction=0), _WIDE),
    ("norm", lambda m, x: x.norm(), _RAMP),
    ("norm dim", lambda m, x: x.norm(dim=1), _WIDE),
    ("norm p=1", lambda m, x: x.norm(p=1), _WIDE),
    ("norm p=3", lambda m, x: x.norm(p=3), _RAMP),
    ("logsumexp", lambda m, x: m.logsumexp(x, 0), _RAMP),
    ("logsumexp dim", lambda m, x: m.logsumexp(x, 1), _WIDE),
    ("cumsum", lambda m, x: x.cumsum(0), _RAMP),
    ("cumsum of ones", lambda m, x: m.ones_like(x).cumsum(0), _RAMP),
    ("cumsum dim 1", lambda m, x: x.cumsum(1), _WIDE),
    ("cumsum dim 0", lambda m, x: m.cumsum(x, 0), _WIDE),
    ("cumsum to float16", lambda m, x: m.cumsum(x.double(), 1, dtype=m.float16), _WIDE),
    ("softmax", lambda m, x: m.softmax(x, 1), _WIDE),
    ("log_softmax", lambda m, x: m.log_softmax(x, 1), _WIDE),
]


def _assert_within_float16_rounding(actual, expected):
    """Equal up to one float16 step at the expected value (NaNs and infs equal)."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape
    finite = np.isfinite(e)
    np.testing.assert_array_equal(a[~finite], e[~finite])
    step = np.spacing(np.abs(e[finite]).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(a[finite] - e[finite]) <= step), np.max(np.abs(a[finite] - e[finite]) / step)


def _quietly(fn):
    """fn's result, and the RuntimeWarnings it raised (every warning shown)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("case, fn, x", FORWARD, ids=[c[0] for c in FORWARD])
def test_float16_forward_like_torch(case, fn, x):
    out, raised = _quietly(lambda: fn(tape, tape.tensor(x)))
    expected = fn(torch, torch.tensor(x))
    assert raised == []  # (no overflow on the way: torch accumulates in float32)
    assert out.dtype == tape.float16
    _assert_within_float16_rounding(out.numpy(), expected.numpy())


# (case, fn(m, x), float16 input): gradients of sum(fn(x) * upstream)
BACKWARD = [
    pytest.param("cumsum", lambda m, x: x.cumsum(0), _RAMP, id="cumsum"),
    pytest.param("cumsum dim 1", lambda m, x: x.cumsum(1), _WIDE, id="cumsum dim 1"),
    pytest.param("var", lambda m, x: x.var(), _RAMP, id="var"),
    pytest.param("norm", lambda m, x: x.norm(), _RAMP, id="norm"),
    pytest.param("mean", lambda m, x: x.mean(), _RAMP, id="mean"),
]


@pytest.mark.parametrize("case, fn, x", BACKWARD)
def test_float16_gradient_like_torch(case, fn, x):
    grads = []
    for m in (tape, torch):
        t = m.tensor(x, requires_grad=True)
        y = fn(m, t)
        up = m.ones(tuple(y.shape), dtype=m.float16)
        grads.append(m.autograd.grad(y, t, up)[0])
    assert grads[0].dtype == tape.float16
    _assert_within_float16_rounding(grads[0].numpy(), grads[1].numpy())


def test_float32_cumsum_accumulates_in_float64():
    out = tape.full((100000,), 0.1).cumsum(0)
    expected = torch.full((100000,), 0.1).cumsum(0)
    assert out[-1].item() == expected[-1].item() == 10000.0
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_float32_cumsum_backward_accumulates_in_float64():
    grads = []
    for m in (tape, torch):
        x = m.zeros(100000, requires_grad=True)
        x.cumsum(0).backward(m.full((100000,), 0.1))
        grads.append(x.grad.numpy())
    assert grads[0][0] == grads[1][0] == 10000.0
    np.testing.assert_array_equal(grads[0], grads[1])


def test_float16_cumsum_of_ones_counts_past_2048():
    assert tape.ones(4000, dtype=tape.float16).cumsum(0)[-1].item() == 4000.0


# (case, loss of x on module m, x): inf and nan without warnings, forward and backward
QUIET = [
    ("mean", lambda m, x: x.mean(), [INF, -INF]),
    ("mean dim", lambda m, x: x.reshape(1, 2).mean(1).sum(), [INF, -INF]),
    ("prod", lambda m, x: x.prod(), [INF, 0.0]),
    ("prod dim", lambda m, x: x.reshape(1, 2).prod(1).sum(), [INF, 0.0]),
    ("cumsum", lambda m, x: x.cumsum(0).sum(), [INF, -INF]),
    ("sum", lambda m, x: x.sum(), [INF, -INF]),
    ("var", lambda m, x: x.var(), [INF, 1.0]),
    ("norm", lambda m, x: x.norm(p=3), [INF, 1.0]),
    ("logsumexp", lambda m, x: m.logsumexp(x, 0), [INF, -INF]),
]


@pytest.mark.parametrize("case, loss, x", QUIET, ids=[c[0] for c in QUIET])
def test_no_numpy_warnings_forward_and_backward(case, loss, x):
    results = []
    for m in (tape, torch):
        t = m.tensor(x, requires_grad=True)
        y, raised = _quietly(functools.partial(loss, m, t))
        _, raised_bwd = _quietly(functools.partial(y.backward, m.tensor(INF)))
        results.append((y.item(), t.grad.tolist(), raised, raised_bwd))
    assert results[0][2:] == ([], [])
    np.testing.assert_array_equal(np.array(results[0][1]), np.array(results[1][1]))
    np.testing.assert_array_equal(results[0][0], results[1][0])


def test_cumsum_backward_of_infinite_gradients_is_quiet():
    t = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = t.cumsum(0)
    _, raised = _quietly(lambda: y.backward(tape.tensor([INF, -INF, 1.0])))
    assert raised == []
    p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    p.cumsum(0).backward(torch.tensor([INF, -INF, 1.0]))
    np.testing.assert_array_equal(np.array(t.grad.tolist()), p.grad.numpy())


def test_the_users_own_numpy_reductions_still_warn():
    tape.tensor([INF, -INF]).mean()  # (tape's filter in place)
    for fn, a in ((np.mean, [INF, -INF]), (np.prod, [INF, 0.0]), (np.cumsum, [INF, -INF]),
                  (np.sum, [INF, -INF])):
        _, raised = _quietly(functools.partial(fn, np.array(a)))
        assert raised and "invalid value" in raised[0], fn.__name__
