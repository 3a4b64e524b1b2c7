"""backward(), autograd.backward / autograd.grad, freeing the graph, saved values (issue 2)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import compare, grads

# ---------------------------------------------------------------------------------------
# Gradients equal torch's, broadcasting reduced to the input shapes

rng = np.random.default_rng(0)
X23 = rng.standard_normal((2, 3)).astype(np.float32)
X3 = rng.standard_normal(3).astype(np.float32)
X21 = rng.standard_normal((2, 1)).astype(np.float32)
X13 = rng.standard_normal((1, 3)).astype(np.float32)
P3 = (rng.random(3) + 0.5).astype(np.float32)  # positive: log, pow, division

GRADS = [
    # (id, f(mod, x, y) -> scalar, x data, y data)
    ("[2,3] * [3]", lambda m, x, y: (x * y).sum(), X23, X3),
    ("[2,1] + [1,3]", lambda m, x, y: ((x + y) ** 2).sum(), X21, X13),
    ("[2,1] - [1,3]", lambda m, x, y: ((x - y) * (x - y)).sum(), X21, X13),
    ("[2,3] / [3]", lambda m, x, y: (x / y).sum(), X23, P3),
    ("[3] / [2,3]", lambda m, x, y: (y / (x * x + 1)).sum(), X23, P3),
    ("0-d * [2,3]", lambda m, x, y: (x * y).sum(), np.float32(1.5), X23),
    ("[2,3] ** [3]", lambda m, x, y: ((x * x + 1) ** y).sum(), X23, P3),
    ("exp log", lambda m, x, y: (x.exp() * y.log()).sum(), X23, P3),
    ("neg sub", lambda m, x, y: (-(x - y) * x).sum(), X23, X3),
    ("mean", lambda m, x, y: (x * y).mean(), X23, X3),
    ("sum dims", lambda m, x, y: ((x * y).sum(0) * y).sum(), X23, X3),
    ("mean dim keepdim", lambda m, x, y: (x.mean(1, keepdim=True) * x).sum(), X23, X3),
    ("matmul 2d@1d", lambda m, x, y: (x @ y).sum(), X23, X3),
    ("matmul 1d@2d", lambda m, x, y: (y @ x.t()).sum(), X23, X3),
    ("matmul 2d@2d", lambda m, x, y: (x @ x.t() * 2).sum(), X23, X3),
    ("dot", lambda m, x, y: y @ (y * 3), X23, X3),
    ("unbind", lambda m, x, y: (lambda p, q, r: p * q * r)(*y.unbind()), X23, X3),
    ("getitem", lambda m, x, y: (x[0] * x[1, 1:].sum() + x[:, None, 2].sum() + y[[0, 0, 2]].sum()), X23, X3),
    ("mask", lambda m, x, y: (x[x > 0] ** 2).sum(), X23, X3),
    ("view transpose", lambda m, x, y: (x.view(3, 2).transpose(0, 1) * x).sum(), X23, X3),
    ("reused input", lambda m, x, y: (x * x * x + x).sum(), X23, X3),
    ("2 - x, 2 / y", lambda m, x, y: ((2 - x) * (2 / y)).sum(), X23, P3),
    ("scalar ** y", lambda m, x, y: (2 ** y).sum() + (x ** 3).sum(), X23, X3),
]


@pytest.mark.parametrize("f, xd, yd", [c[1:] for c in GRADS], ids=[c[0] for c in GRADS])
def test_gradients_equal_torch(f, xd, yd):
    def body(mod):
        x = mod.tensor(xd, requires_grad=True)
        y = mod.tensor(yd, requires_grad=True)
        out = f(mod, x, y)
        out.backward()
        return out, x.grad, y.grad

    compare(body, rtol=1e-4, atol=1e-5)


def test_broadcast_gradients_have_input_shapes(mod):
    w = mod.ones(2, 3, requires_grad=True)
    v = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * v).sum().backward()
    assert tuple(w.grad.shape) == (2, 3) and tuple(v.grad.shape) == (3,)
    assert v.grad.tolist() == [2.0, 2.0, 2.0] and w.grad.tolist() == [[1.0, 2.0, 3.0]] * 2
    a = mod.ones(2, 1, requires_grad=True)
    b = mod.ones(1, 3, requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.tolist() == [[3.0], [3.0]] and b.grad.tolist() == [[2.0, 2.0, 2.0]]


def test_gradient_dtype_follows_the_input(mod):
    a = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
    b = mod.tensor([1.0, 2.0], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == mod.float64 and b.grad.dtype == mod.float32


# ---------------------------------------------------------------------------------------
# Accumulation, gradient=, retain_graph, second backward


def test_backward_accumulates_into_leaves(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    (a * 3).sum().backward()
    first = a.grad
    assert first.tolist() == [3.0, 3.0]
    (a * a).sum().backward()
    assert a.grad.tolist() == [5.0, 7.0]
    a.grad = None
    (a * 2).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_leaf_reached_twice_gets_the_sum(mod):
    a = mod.tensor(2.0, requires_grad=True)
    y = a * a + a * 3
    y.backward()
    assert a.grad.item() == 7.0


def test_gradient_argument_for_non_scalar_roots(mod):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * a
    y.backward(mod.tensor([1.0, 0.5, 0.0]))
    assert a.grad.tolist() == [2.0, 2.0, 0.0]
    b = mod.tensor([[1.0, 2.0]], requires_grad=True)
    (b * 3).backward(gradient=mod.tensor([[1.0, 2.0]]))
    assert b.grad.tolist() == [[3.0, 6.0]]


def test_gradient_argument_for_scalar_root(mod):
    a = mod.tensor(2.0, requires_grad=True)
    (a * a).backward(mod.tensor(3.0))
    assert a.grad.item() == 12.0


def test_missing_gradient_for_non_scalar_root(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (a * 2).backward()
    assert a.grad is None
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        mod.autograd.grad(a * 2, a)


@pytest.mark.parametrize("shape", [(3,), (2, 1), (1, 2), ()])
def test_mis_shaped_gradient(mod, shape):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(mod.ones(shape))
    assert a.grad is None


def test_mis_shaped_gradient_message_equals_torch():
    out = compare(lambda mod: (mod.tensor([1.0, 2.0], requires_grad=True) * 2).backward(mod.ones(3)),
                  phrase="Mismatch in shape: grad_output[0] has a shape of ")
    assert "Size([3]) and output[0] has a shape of " in out[2]


def test_backward_of_tensor_without_grad(mod):
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a "
                                           "grad_fn"):
        mod.tensor([1.0, 2.0]).sum().backward()


@pytest.mark.parametrize("make", [
    lambda mod, a: (a * a).sum(),
    lambda mod, a: (a * 2).sum(),
    lambda mod, a: a.exp().sum(),
    lambda mod, a: (a / 3).sum(),
    lambda mod, a: (a ** 2).sum(),
    lambda mod, a: (a @ a),
    lambda mod, a: (a + 1).log().sum(),
], ids=["mul", "mul scalar", "exp", "div scalar", "pow", "dot", "log"])
def test_second_backward_raises(mod, make):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make(mod, a)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


@pytest.mark.parametrize("make", [
    lambda mod, a: (a + 1).sum(),
    lambda mod, a: (a - a + 2).sum(),
    lambda mod, a: (-a).sum() + a.sum(),
    lambda mod, a: a.view(2, 1).transpose(0, 1).sum(),
    lambda mod, a: a.mean(),
    lambda mod, a: a[0] + a[1:].sum(),
], ids=["add", "sub", "neg", "views", "mean", "getitem"])
def test_graphs_that_save_nothing_allow_a_second_backward(mod, make):
    """As torch: only a node whose saved values were freed refuses to run again."""
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make(mod, a)
    y.backward()
    first = a.grad.clone()
    y.backward()
    assert a.grad.tolist() == (first * 2).tolist()


def test_retain_graph(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert a.grad.tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_from_an_intermediate_then_from_the_root(mod):
    a = mod.tensor(2.0, requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    c = a * b
    e = c * mod.tensor(4.0)
    c.backward(retain_graph=True)
    e.backward()
    assert (a.grad.item(), b.grad.item()) == (15.0, 10.0)


def test_second_backward_error_message_equals_torch():
    def body(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        y = (a * a).sum()
        y.backward()
        y.backward()

    compare(body, phrase="Specify retain_graph=True if you need to backward through the graph a second time")


# ---------------------------------------------------------------------------------------
# autograd.backward, autograd.grad, backward(inputs=...)


def test_autograd_backward_with_grad_tensors(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    out = mod.autograd.backward([a * b, b * 2], [mod.tensor([1.0, 0.5]), mod.tensor(2.0)])
    assert out is None
    assert a.grad.tolist() == [3.0, 1.5] and b.grad.item() == 1.0 + 1.0 + 4.0
    mod.autograd.backward((a * b).sum())
    assert a.grad.tolist() == [6.0, 4.5] and b.grad.item() == 9.0
    mod.autograd.backward([(a * a).sum()], retain_graph=False)
    assert a.grad.tolist() == [8.0, 8.5]


def test_autograd_backward_checks_the_number_of_grad_tensors():
    compare(lambda mod: mod.autograd.backward([mod.tensor([1.0], requires_grad=True) * 2], []))


def test_autograd_grad(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    y = (a * a * b).sum()
    ga, gb = mod.autograd.grad(y, [a, b], retain_graph=True)
    assert ga.tolist() == [6.0, 12.0] and gb.item() == 5.0
    assert a.grad is None and b.grad is None  # nothing accumulates
    (ga2,) = mod.autograd.grad(y, a)
    assert ga2.tolist() == [6.0, 12.0]
    assert not ga2.requires_grad and ga2.is_leaf
    c = a * 2
    (gc,) = mod.autograd.grad((c * c).sum(), c)  # a non-leaf input
    assert gc.tolist() == [4.0, 8.0]
    (gv,) = mod.autograd.grad(a * 3, a, grad_outputs=mod.tensor([1.0, -1.0]))
    assert gv.tolist() == [3.0, -3.0]


def test_autograd_grad_unused_input(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        mod.autograd.grad((a * 2).sum(), [a, b])
    ga, gb = mod.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert ga.tolist() == [2.0, 2.0] and gb is None


@pytest.mark.parametrize("create", [False, True], ids=["plain", "create_graph"])
def test_materialized_gradients_of_unused_inputs(create):
    """materialize_grads: zeros for an unused input, which under create_graph require grad
    (a leaf, as torch's)."""
    def body(m):
        x, w = m.ones(3, requires_grad=True), m.ones(2, requires_grad=True)
        gx, gw = m.autograd.grad((x * 2).sum(), [x, w], materialize_grads=True, create_graph=create)
        return gx, gw, gw.requires_grad, gw.is_leaf, gw.grad_fn is None

    compare(body)


def test_autograd_grad_errors_equal_torch():
    compare(lambda mod: mod.autograd.grad((mod.tensor([1.0], requires_grad=True) * 2).sum(),
                                          [mod.tensor(1.0, requires_grad=True)]),
            phrase="appears to not have been used in the graph. Set allow_unused=True")
    compare(lambda mod: mod.autograd.grad((mod.tensor([1.0], requires_grad=True) * 2).sum(),
                                          [mod.tensor(1.0)]),
            phrase="One of the differentiated Tensors does not require grad")


def test_backward_inputs(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None
    (a * b).sum().backward(inputs=[b])
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.item() == 3.0
    c = a * 2
    (c * b).sum().backward(inputs=[c])  # a non-leaf input receives .grad
    assert grads(c)[0].tolist() == [3.0, 3.0]
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.item() == 3.0
    mod.autograd.backward([(a * b).sum()], inputs=[a, b])
    assert a.grad.tolist() == [6.0, 6.0] and b.grad.item() == 6.0


def test_backward_inputs_refuses_empty_and_no_grad(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        (a * 2).sum().backward(inputs=[mod.tensor([1.0])])


def test_deep_chain_has_no_recursion_limit(mod):
    """100,000 ops: playback is a loop (and the graph is freed without recursion too)."""
    x = mod.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    assert 100_000 > sys.getrecursionlimit()
    y.backward()
    assert x.grad.item() == 1.0
    del y  # dropping the chain must not recurse either


def test_deep_add_chain(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    y.sum().backward()
    assert x.grad.tolist() == [100_001.0, 100_001.0]


# ---------------------------------------------------------------------------------------
# Saved values: saved only when needed, version-checked before use


def _inplace_error(mod, fn):
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        fn(mod)
    return str(info.value)


def test_mul_saves_other_only_when_self_needs_grad(mod):
    # `a` requires grad, `b` does not: MulBackward0 saves b (for a's grad), not the clone of a
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    x = a.clone()
    y = x * b
    x.mul_(2)  # x is not saved: no error
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 4.0]

    # now b changes: b was saved, the error fires
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    b.mul_(2)
    msg = _inplace_error(mod, lambda m: y.sum().backward())
    assert "is at version 1; expected version 0" in msg


def test_mul_saves_self_when_other_needs_grad(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0], requires_grad=True)
    x = a.clone()
    y = x * b
    x.mul_(2)  # x is saved for b's gradient
    msg = _inplace_error(mod, lambda m: y.sum().backward())
    assert "is at version 1; expected version 0" in msg
    assert "output 0 of Mul" in msg


def test_mul_saves_nothing_when_no_grad_needed_from_it(mod):
    a = mod.tensor([1.0, 2.0])
    b = mod.tensor([3.0, 4.0], requires_grad=True)
    y = b * 2 + a * 3  # a * 3 is not recorded at all
    a.add_(1)
    y.sum().backward()
    assert b.grad.tolist() == [2.0, 2.0]


def test_exp_saves_its_result(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = a.exp()
    y.add_(1)
    msg = _inplace_error(mod, lambda m: y.sum().backward())
    assert "is at version 1; expected version 0" in msg and "output 0 of Exp" in msg
    # the input of exp is not saved: changing it is harmless
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    x = a.clone()
    y = x.exp()
    x.add_(1)
    y.sum().backward()
    assert np.allclose(a.grad.numpy(), np.exp([1.0, 2.0]))


def test_version_counts_every_change(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    b.add_(1)
    b.sub_(1)
    msg = _inplace_error(mod, lambda m: y.sum().backward())
    assert "is at version 2; expected version 0" in msg


def test_change_through_a_view_is_caught(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    b[0:1].mul_(2)
    _inplace_error(mod, lambda m: y.sum().backward())
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    b.detach().add_(1)
    _inplace_error(mod, lambda m: y.sum().backward())


def test_change_through_data_is_not_caught(mod):
    """`.data` does not share the version counter: torch's (dangerous) escape hatch."""
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    b.data.add_(1)
    y.sum().backward()
    assert b._version == 0 and a.grad.tolist() == [4.0, 5.0]


INPLACE_SAVED = [
    # (id, body that changes a saved value in place and calls backward)
    ("mul other", lambda m, a, b: (lambda y: (b.mul_(2), y.sum().backward()))(a * b)),
    ("div other", lambda m, a, b: (lambda y: (b.add_(1), y.sum().backward()))(a / b)),
    ("div self for other", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(
        b.requires_grad_() / x))(a.clone())),
    ("log self", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(x.log()))(
        a.clone())),
    ("pow self", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(x ** 2))(
        a.clone())),
    ("exp result", lambda m, a, b: (lambda y: (y.add_(1), y.sum().backward()))(a.exp())),
    ("exp result via mul", lambda m, a, b: (lambda y: (lambda z: (y.mul_(2), z.sum().backward()))(y * 2))(
        a.exp())),
    ("mm mat2", lambda m, a, b: (lambda y: (b.add_(1), y.sum().backward()))(a.view(1, 2) @ b.view(2, 1))),
    ("mm self", lambda m, a, b: (lambda y: (b.add_(1), y.sum().backward()))(b.view(2, 1) @ a.view(1, 2))),
    ("dot", lambda m, a, b: (lambda y: (b.zero_(), y.backward()))(a @ b)),
]

INPLACE_HARMLESS = [
    ("div self", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(x / 2.0))(
        a.clone())),
    ("add", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(x + b))(a.clone())),
    ("sum", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.backward()))(x.sum()))(a.clone())),
    ("mul other not saved", lambda m, a, b: (lambda x: (lambda y: (x.mul_(3), y.sum().backward()))(x * b))(
        a.clone())),
    ("unrelated tensor", lambda m, a, b: (lambda y: (b.add_(1), y.sum().backward()))(a * 2)),
    ("view op", lambda m, a, b: (lambda x: (lambda y: (x.add_(1), y.sum().backward()))(x.view(2, 1)))(
        a.clone())),
]


@pytest.mark.parametrize("body", [c[1] for c in INPLACE_SAVED], ids=[c[0] for c in INPLACE_SAVED])
def test_inplace_change_of_saved_value_raises_as_torch(body):
    def run(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        b = mod.tensor([3.0, 4.0])
        body(mod, a, b)

    out = compare(run, phrase="modified by an inplace operation")
    assert "expected version 0 instead" in out[2]


@pytest.mark.parametrize("body", [c[1] for c in INPLACE_HARMLESS], ids=[c[0] for c in INPLACE_HARMLESS])
def test_inplace_change_of_unsaved_value_is_harmless_as_torch(body):
    def run(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        b = mod.tensor([3.0, 4.0])
        body(mod, a, b)
        return a.grad

    compare(run)


def test_inplace_error_message_names_the_tensor_as_torch():
    """torch: '[torch.FloatTensor [2]], which is output 0 of Exp, is at version 1; expected ...'"""

    def body(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        y = a.exp()
        y.add_(1)
        y.sum().backward()

    out = compare(body, phrase="which is output 0 of Exp, is at version 1; expected version 0 instead")
    assert "[tape.FloatTensor [2]]" in out[2]


def test_a_leaf_that_stopped_requiring_grad_accumulates_nothing():
    """requires_grad_(False) after the graph was made: torch's AccumulateGrad still runs the
    leaf's hooks and post-accumulate hooks, and leaves .grad alone."""
    def body(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        a.register_hook(lambda g: seen.append(g.tolist()))
        a.register_post_accumulate_grad_hook(lambda t: seen.append("post"))
        b = a * 2
        a.requires_grad_(False)
        b.sum().backward()
        return a.grad, seen

    compare(body)


BATCHED = {
    "rows of an identity": lambda m, y, x, w: m.autograd.grad(y, x, m.eye(2), is_grads_batched=True),
    "a batch of three": lambda m, y, x, w: m.autograd.grad(y, x, m.ones(3, 2), is_grads_batched=True),
    "two outputs": lambda m, y, x, w: m.autograd.grad([y, y.sum()], x, [m.eye(2), m.ones(2)],
                                                      is_grads_batched=True),
    "an unused input": lambda m, y, x, w: m.autograd.grad(y, [x, w], m.eye(2), is_grads_batched=True,
                                                          allow_unused=True),
    "materialized (no batch dim: torch's)": lambda m, y, x, w: m.autograd.grad(
        y, [x, w], m.eye(2), is_grads_batched=True, materialize_grads=True),
    "recorded, then differentiated": lambda m, y, x, w: m.autograd.grad(
        m.autograd.grad(y, x, m.eye(2), is_grads_batched=True, create_graph=True)[0].sum(), x),
    "no batch dim": lambda m, y, x, w: m.autograd.grad(y, x, m.ones(2), is_grads_batched=True),
    "batches of two sizes": lambda m, y, x, w: m.autograd.grad([y, y.sum()], x, [m.eye(2), m.ones(3)],
                                                               is_grads_batched=True),
    "only_inputs=False (deprecated, ignored)": lambda m, y, x, w: m.autograd.grad(
        y, x, m.ones(2), None, False, False),
}


@pytest.mark.parametrize("name", list(BATCHED))
def test_grad_of_batched_grad_outputs(name):
    """is_grads_batched: the first dim of each grad_output is a batch (torch's vmap)."""
    def body(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.ones(2, requires_grad=True)
        return BATCHED[name](m, x ** 2, x, w)

    compare(body)
