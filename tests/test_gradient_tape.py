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


# ---------------------------------------------------------------------------------------
# Against torch-style autograd, and the parts of the API the first tests left out


def test_gradient_equals_autograd_grad_of_the_same_ops():
    x0 = np.array([0.5, -1.0, 2.0])
    w = tape.tensor(x0, requires_grad=True)
    with tape.GradientTape(persistent=True) as t:
        y = (w.exp() * w.sin()).sum()
    (want,) = tape.autograd.grad(y, w, retain_graph=True)
    np.testing.assert_allclose(t.gradient(y, w).numpy(), want.numpy())
    wt = torch.tensor(x0, requires_grad=True)
    (wt.exp() * wt.sin()).sum().backward()
    np.testing.assert_allclose(t.gradient(y, w).numpy(), wt.grad.numpy(), rtol=1e-12)


def test_output_gradients_and_list_targets():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    with tape.GradientTape(persistent=True) as t:
        y = w * w
        z = (w * 3).sum()
    assert t.gradient(y, w, output_gradients=tape.tensor([1.0, 10.0])).tolist() == [2.0, 40.0]
    assert t.gradient([y, z], w).tolist() == [5.0, 7.0]  # targets are summed, as TensorFlow
    assert t.gradient(y, (w,))[0].tolist() == [2.0, 4.0]  # a tuple of sources gives a tuple
    assert isinstance(t.gradient(y, (w,)), tuple)


def test_watch_accessed_variables_false():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    x = tape.tensor([3.0, 4.0])
    with tape.GradientTape(watch_accessed_variables=False, persistent=True) as t:
        t.watch(x)
        h = w * x
        y = h.sum()
    gw, gx = t.gradient(y, [w, x])
    assert gw is None and gx.tolist() == [1.0, 2.0]
    assert t.gradient(y, h).tolist() == [1.0, 1.0]  # recorded in the scope: tracked
    assert t.watched_variables() == (x,)
    assert t.gradient(y, [w], unconnected_gradients="zero")[0].tolist() == [0.0, 0.0]


def test_reset_forgets_records_and_watches():
    x = tape.tensor(3.0, requires_grad=True)
    v = tape.tensor(2.0)
    with tape.GradientTape() as t:
        t.watch(v)
        a = x * x * v
        t.reset()
        assert not v.requires_grad and t.watched_variables() == ()
        b = a + x * 3
    assert t.gradient(b, x).item() == 3.0 and len(t.records) == 2


def test_gradient_inside_the_scope_is_recorded():
    x = tape.tensor(2.0, requires_grad=True)
    with tape.GradientTape(persistent=True) as t:
        y = x ** 3
        g = t.gradient(y, x)  # 3 x^2, itself recorded on t
    assert g.item() == 12.0 and g.requires_grad
    assert t.gradient(g, x).item() == 12.0  # 6 x


def test_jacobian_several_sources_matches_torch_functional():
    x0, y0 = np.array([0.5, -1.0]), np.array([2.0, 0.3, 1.0])
    x, y = tape.tensor(x0, dtype=tape.float64), tape.tensor(y0, dtype=tape.float64)
    with tape.GradientTape() as t:
        t.watch([x, y])
        out = x.reshape(2, 1) * y.sin().reshape(1, 3)
    jx, jy = t.jacobian(out, [x, y])
    want = torch.autograd.functional.jacobian(
        lambda a, b: a.reshape(2, 1) * b.sin().reshape(1, 3), (torch.tensor(x0), torch.tensor(y0)))
    assert tuple(jx.shape) == (2, 3, 2) and tuple(jy.shape) == (2, 3, 3)
    np.testing.assert_allclose(jx.numpy(), want[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(jy.numpy(), want[1].numpy(), rtol=1e-12)


def test_hessian_from_nested_tapes_matches_torch():
    x0 = np.array([0.5, -1.0, 0.25])
    x = tape.tensor(x0, dtype=tape.float64)
    with tape.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with tape.GradientTape() as inner:
            inner.watch(x)
            y = (x.exp() * x ** 3).sum()
        g = inner.gradient(y, x)
    hess = outer.jacobian(g, x)
    want = torch.autograd.functional.hessian(lambda v: (v.exp() * v ** 3).sum(), torch.tensor(x0))
    np.testing.assert_allclose(hess.numpy(), want.numpy(), rtol=1e-12)


def test_records_and_printed_wengert_list():
    x = tape.tensor([0.5, -1.0])
    with tape.GradientTape() as t:
        t.watch(x)
        y = (x.exp() * x).sum()
    assert [r.op.node for r in t.records] == ["ExpBackward0", "MulBackward0", "SumBackward0"]
    positions = [r.pos for r in t.records]
    assert positions == sorted(positions)
    text = str(t)
    assert text.startswith("GradientTape (3 records)")
    for word in ("exp", "ExpBackward0", "MulBackward0", "SumBackward0", f"#{positions[0]}", "@v0"):
        assert word in text
    assert y.item() == pytest.approx(float(np.exp(0.5) * 0.5 - np.exp(-1.0)))


def test_scope_is_left_cleanly_on_exceptions():
    x = tape.tensor([1.0])
    with pytest.raises(ValueError):
        with tape.GradientTape() as t:
            t.watch(x)
            raise ValueError("boom")
    assert not x.requires_grad and tape.TAPE.scopes == []
    with pytest.raises(RuntimeError, match="already recording"):
        with t, t:
            pass
    assert tape.TAPE.scopes == []


def test_watch_errors():
    with tape.GradientTape() as t:
        with pytest.raises(TypeError, match="expects tensors"):
            t.watch(3.0)
        with pytest.raises(RuntimeError, match="only floating tensors"):
            t.watch(tape.tensor([1, 2]))


@pytest.mark.parametrize("inner_first", [True, False], ids=["inner watches first", "outer watches first"])
def test_nested_scopes_watch_a_tensor_until_the_last_of_them_closes(inner_first):
    x = tape.tensor(3.0)
    with tape.GradientTape(persistent=True) as outer:
        with tape.GradientTape() as inner:
            for t in ((inner, outer) if inner_first else (outer, inner)):
                t.watch(x)
            y = x ** 4
        d1 = inner.gradient(y, x)
        assert x.requires_grad  # the outer scope still watches it
        z = x * x * x  # recorded by the outer scope after the inner one closed
    assert not x.requires_grad
    assert (d1.item(), outer.gradient(d1, x).item(), outer.gradient(z, x).item()) == (108.0, 108.0, 27.0)


def test_gradient_of_a_watched_tensor_by_itself_is_ones_after_the_scope():
    x = tape.tensor([3.0, 4.0])
    with tape.GradientTape() as t:
        t.watch(x)
    assert t.gradient(x, x).tolist() == [1.0, 1.0]


def test_a_gradient_taken_while_recording_is_stopped_is_not_recorded():
    x = tape.tensor(2.0)
    with tape.GradientTape() as t:
        t.watch(x)
        y = x ** 2
        with t.stop_recording():
            g = t.gradient(y, x)
    assert (g.item(), g.requires_grad, len(t.records)) == (4.0, False, 1)
