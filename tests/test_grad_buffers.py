"""Gradient buffers that playback reuses (NOTE [stealing] in tape/engine.py, issue 6).

A leaf's first `.grad` may take playback's own temporary instead of a copy, and a second
contribution may be added into that temporary in place. Neither may ever be visible: each
case below writes into one gradient and checks that no other gradient, the user's
gradient argument, a hook's copy or a retained gradient changed. Every body runs on tape
and on torch (the `mod` fixture), and values are checked against fixed arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest


def _vec(mod, values, rg=True):
    return mod.tensor(np.array(values, dtype=np.float64), requires_grad=rg)


def test_two_leaves_fed_by_one_add_get_separate_buffers(mod):
    a, b = _vec(mod, [1.0, 2.0]), _vec(mod, [3.0, 4.0])
    (a + b).backward(mod.ones(2, dtype=mod.float64))
    with mod.no_grad():
        a.grad.mul_(10)
    assert b.grad.tolist() == [1.0, 1.0]
    assert a.grad.tolist() == [10.0, 10.0]


def test_a_user_gradient_is_never_taken(mod):
    x = _vec(mod, [1.0, 2.0, 3.0])
    g = mod.tensor([0.5, 0.25, 2.0], dtype=mod.float64)
    (x + 0).backward(g)
    with mod.no_grad():
        x.grad.add_(1)
    assert g.tolist() == [0.5, 0.25, 2.0]
    assert x.grad.tolist() == [1.5, 1.25, 3.0]


def test_a_plain_numpy_gradient_argument_is_refused(mod):
    """torch takes tensors (or None) as gradients, not arrays: nothing runs, nothing changes."""
    x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
    g = np.array([3.0, 4.0])
    with pytest.raises(TypeError, match="gradients can be either Tensors or None, but got ndarray"):
        mod.autograd.backward([x * 1], [g])
    assert x.grad is None and g.tolist() == [3.0, 4.0]


def test_a_hook_keeping_the_gradient_keeps_its_value(mod):
    x = _vec(mod, [1.0, 2.0])
    seen = []
    x.register_hook(seen.append)
    (x * 3).sum().backward()
    with mod.no_grad():
        x.grad.zero_()
    assert seen[0].tolist() == [3.0, 3.0]


def test_a_retained_gradient_and_the_leaf_gradient_stay_apart(mod):
    x = _vec(mod, [1.0, 2.0])
    y = x + 0
    y.retain_grad()
    y.backward(mod.tensor([2.0, 5.0], dtype=mod.float64))
    with mod.no_grad():
        x.grad.mul_(-1)
    assert y.grad.tolist() == [2.0, 5.0]
    assert x.grad.tolist() == [-2.0, -5.0]


@pytest.mark.parametrize("how", ["x + x", "x * x", "three uses", "through a view"])
def test_contributions_added_in_place_sum_correctly(mod, how):
    x = _vec(mod, [1.0, 2.0, -1.0])
    y = {
        "x + x": lambda: x + x,
        "x * x": lambda: x * x,
        "three uses": lambda: x * 2 + x.sin() + x * x,
        "through a view": lambda: x[:2].sum() * x + x.exp(),
    }[how]()
    y.backward(mod.ones(3, dtype=mod.float64))
    v = np.array([1.0, 2.0, -1.0])
    expected = {
        "x + x": 2 * np.ones(3),
        "x * x": 2 * v,
        "three uses": 2 + np.cos(v) + 2 * v,
        "through a view": v[:2].sum() + np.exp(v) + np.array([v.sum(), v.sum(), 0.0]),
    }[how]
    np.testing.assert_allclose(x.grad.detach().numpy(), expected, rtol=1e-12)


def test_gradients_of_two_backward_calls_accumulate(mod):
    x = _vec(mod, [1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    assert first is x.grad  # accumulated into the same tensor, as torch does


def test_autograd_grad_results_are_not_shared(mod):
    x = _vec(mod, [1.0, 2.0])
    y = _vec(mod, [3.0, 4.0])
    gx, gy = mod.autograd.grad((x * y + x + y).sum(), (x, y))
    with mod.no_grad():
        gx.add_(1)
    assert gx.tolist() == [5.0, 6.0]
    assert gy.tolist() == [2.0, 3.0]


def test_a_float32_leaf_gets_float32_gradient_from_a_float64_path(mod):
    x = mod.tensor([1.0, 2.0], dtype=mod.float32, requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == mod.float32
    assert x.grad.tolist() == [3.0, 3.0]


def test_zero_d_leaves_get_a_gradient_they_own(mod):
    x = mod.tensor(2.0, dtype=mod.float64, requires_grad=True)
    y = mod.tensor(3.0, dtype=mod.float64, requires_grad=True)
    (x * y).backward()
    with mod.no_grad():
        x.grad.add_(1)
        y.grad.add_(10)
    assert (x.grad.item(), y.grad.item()) == (4.0, 12.0)
    assert x.grad.shape == () and y.grad.shape == ()


@pytest.mark.parametrize("body", ["chain", "mlp", "fan_out", "pass_through"])
def test_the_common_cases_take_playbacks_arrays_without_a_copy(monkeypatch, body):
    """The saving itself, not only its safety: when nothing else holds a gradient, a leaf's
    first .grad is playback's own array (a regression here costs W3 two 16 MB copies)."""
    import tape
    from tape import engine

    rng = np.random.default_rng(0)
    w = tape.tensor(rng.standard_normal((8, 4)), requires_grad=True)
    b = tape.tensor(rng.standard_normal(4), requires_grad=True)
    x = tape.tensor(rng.standard_normal((5, 8)))
    run = {"chain": lambda: ((w * 2).sin() * 3).sum(),
           "mlp": lambda: (x @ w + b).relu().sum(),
           "fan_out": lambda: ((w * w) + (w * 3)).sum() + (b * b).sum(),
           # add hands its gradient on unchanged: the leaf's array is exp's rule's own
           "pass_through": lambda: (w + 1.0).exp().sum() + (b - 2.0).exp().sum()}[body]
    copies = []
    real = np.array
    monkeypatch.setattr(engine.np, "array", lambda *a, **k: copies.append(1) or real(*a, **k))
    run().backward()
    assert copies == []
    assert w.grad is not None and (b.grad is not None or body == "chain")


def test_a_read_only_gradient_only_playback_holds_is_summed_anew():
    """A custom backward may return a read-only array that nothing else refers to: the next
    contribution cannot be added into it in place, so the slot gets a new sum (tape only:
    torch warns on read-only numpy arrays)."""
    import tape

    class ReadOnlyGrad(tape.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            arr = np.full(g.shape, 5.0)
            arr.flags.writeable = False
            return tape.from_numpy(arr)

    a = _vec(tape, [1.0, 2.0])
    b = a * 1
    (b * 3 + ReadOnlyGrad.apply(b)).sum().backward()  # ReadOnlyGrad's backward runs first
    assert a.grad.tolist() == [8.0, 8.0]
    with tape.no_grad():
        a.grad.add_(1)  # the leaf's gradient is writable
    assert a.grad.tolist() == [9.0, 9.0]


@pytest.mark.parametrize("root", ["a user gradient", "a sum's broadcast"])
def test_a_slot_held_elsewhere_is_summed_into_the_new_contribution(mod, monkeypatch, root):
    """x's slot first holds what `+` passed on (the user's gradient, or the broadcast view a
    sum's backward makes), which cannot be written; exp's gradient is playback's own, so
    the sum goes into it (torch's input buffer does the same). Nothing the user holds
    changes."""
    x = _vec(mod, [0.5, 1.0, 2.0])
    g = mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64)
    adds = []
    if mod.__name__ == "tape":  # the saving itself: one add, into the new contribution
        real = np.add
        monkeypatch.setattr(np, "add", lambda a, b, out=None, **k: adds.append(
            out is a and out is not None) or real(a, b, out=out, **k))
    if root == "a user gradient":
        (x + x.exp()).backward(g)
        upstream = np.array([1.0, 2.0, 3.0])
    else:
        (x + x.exp()).sum().backward()
        upstream = np.ones(3)
    monkeypatch.undo()
    assert g.tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(x.grad.numpy(), upstream * (1 + np.exp([0.5, 1.0, 2.0])), rtol=1e-15)
    if mod.__name__ == "tape":
        assert adds == [True]


def test_a_contribution_a_hook_kept_is_not_summed_into(mod):
    x = _vec(mod, [0.5, 1.0, 2.0])
    e = x.exp()
    kept = []
    e.grad_fn.register_hook(lambda grad_inputs, grad_outputs: kept.append(grad_inputs[0]))
    (x + e).backward(mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64))
    np.testing.assert_allclose(kept[0].numpy(), [1.0, 2.0, 3.0] * np.exp([0.5, 1.0, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0, 3.0] * (1 + np.exp([0.5, 1.0, 2.0])),
                               rtol=1e-15)
