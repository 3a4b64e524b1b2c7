"""tape.GradientTape: the recording scope, checked against torch and finite differences."""

import numpy as np
import pytest
import torch

import tape


def test_watch_and_gradient_equal_torch():
    x = tape.tensor([1.0, 2.0, 3.0])
    with tape.GradientTape() as t:
        t.watch(x)
        y = (x * x * x).sum()
    (g,) = [t.gradient(y, x)]
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (xt * xt * xt).sum().backward()
    np.testing.assert_allclose(g.numpy(), xt.grad.numpy())
    assert not x.requires_grad  # watching lasts for the scope only


def test_non_persistent_tape_is_used_once():
    x = tape.tensor(2.0, requires_grad=True)
    with tape.GradientTape() as t:
        y = x * x
    assert t.gradient(y, x).item() == 4.0
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        t.gradient(y, x)


def test_persistent_tape_and_list_sources():
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(5.0, requires_grad=True)
    with tape.GradientTape(persistent=True) as t:
        y = a * b
    ga, gb = t.gradient(y, [a, b])
    assert (ga.item(), gb.item()) == (5.0, 2.0)
    assert t.gradient(y, a).item() == 5.0


def test_only_ops_inside_the_scope_are_differentiated():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    pre = w * 2  # recorded before the scope: TensorFlow does not differentiate through it
    with tape.GradientTape() as t:
        z = (pre * pre).sum()
    assert t.gradient(z, [w, pre])[0] is None
    assert len(t.records) == 2 and [r.op.node for r in t.records] == ["MulBackward0", "SumBackward0"]


def test_unconnected_gradients_zero():
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    u = tape.tensor([3.0], requires_grad=True)
    with tape.GradientTape() as t:
        y = (x * 3).sum()
    gx, gu = t.gradient(y, [x, u], unconnected_gradients="zero")
    assert gx.tolist() == [3.0, 3.0] and gu.tolist() == [0.0]


def test_stop_recording():
    x = tape.tensor(3.0, requires_grad=True)
    with tape.GradientTape() as t:
        with t.stop_recording():
            c = x * 10
        y = x * x + c
    assert t.gradient(y, x).item() == 6.0


def test_nested_scopes_give_second_and_third_derivatives():
    x = tape.tensor(3.0)
    with tape.GradientTape() as t3:
        t3.watch(x)
        with tape.GradientTape() as t2:
            t2.watch(x)
            with tape.GradientTape() as t1:
                t1.watch(x)
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (4 * 27.0, 12 * 9.0, 24 * 3.0)


def test_jacobian_matches_finite_differences():
    x0 = np.array([0.3, -0.7, 1.1])
    x = tape.tensor(x0)
    with tape.GradientTape() as t:
        t.watch(x)
        y = x * x * 2 + x.sum()
    jac = t.jacobian(y, x).numpy()
    eps = 1e-6
    fd = np.stack([((x0 + eps * e) ** 2 * 2 + (x0 + eps * e).sum() - (x0 - eps * e) ** 2 * 2
                    - (x0 - eps * e).sum()) / (2 * eps) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-8)
