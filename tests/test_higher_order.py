"""Beyond first order: autograd.grad / backward(inputs=...) with torch's errors, second and
third derivatives through create_graph, and Newton's method with an autograd Hessian."""

import warnings

import numpy as np
import pytest
import torch
from helpers import compare, grads

import tape

X0 = np.array([0.3, -0.5, 0.8, 1.2])

# ---------------------------------------------------------------------------------------
# grad() and backward(inputs=...): results and errors as torch's


def _leaves(m):
    return m.tensor([1.0, 2.0], requires_grad=True), m.tensor([3.0], requires_grad=True)


ERRORS = {
    "unused input": (lambda m: m.autograd.grad((_leaves(m)[0] * 2).sum(), list(_leaves(m))),
                     "appears to not have been used in the graph"),
    "input without grad": (lambda m: m.autograd.grad((_leaves(m)[0] * 2).sum(),
                                                     [m.tensor([1.0])]),
                           "One of the differentiated Tensors does not require grad"),
    "a number among the outputs": (lambda m: m.autograd.grad([(_leaves(m)[0] * 2).sum(), 3], _leaves(m)[0]),
                                   "Expected output to be a"),
    "None among backward's tensors": (lambda m: m.autograd.backward([(_leaves(m)[0] * 2).sum(), None]),
                                      "Expected output to be a"),
    "output without grad": (lambda m: m.autograd.grad(m.tensor([1.0, 2.0]) * 2, _leaves(m)[0]),
                            "element 0 of tensors does not require grad and does not have a grad_fn"),
    "non-scalar output": (lambda m: m.autograd.grad(_leaves(m)[0] * 2, _leaves(m)[0]),
                          "grad can be implicitly created only for scalar outputs"),
    "non-scalar backward": (lambda m: (_leaves(m)[0] * 2).backward(),
                            "grad can be implicitly created only for scalar outputs"),
    "grad_output shape": (lambda m: m.autograd.grad(_leaves(m)[0] * 2, _leaves(m)[0], m.ones(3)),
                          "Mismatch in shape"),
    "too few grad_outputs": (lambda m: m.autograd.grad([_leaves(m)[0] * 2, _leaves(m)[1].sum()],
                                                       [_leaves(m)[0]], [m.ones(2)]),
                             "got 2 tensors and 1 gradients"),
    "empty inputs": (lambda m: m.autograd.grad((_leaves(m)[0] * 2).sum(), []), "cannot be empty"),
    "non-tensor input": (lambda m: m.autograd.grad((_leaves(m)[0] * 2).sum(), [_leaves(m)[0], 3]),
                         "all inputs have to be Tensors"),
    "backward inputs without grad": (lambda m: (_leaves(m)[0] * 2).sum().backward(inputs=[m.tensor([1.0])]),
                                     "can't retain_grad on Tensor that has requires_grad=False"),
    "backward empty inputs": (lambda m: (_leaves(m)[0] * 2).sum().backward(inputs=[]),
                              "cannot be empty"),
    "freed graph": (lambda m: (lambda x: (lambda y: (m.autograd.grad(y, x), m.autograd.grad(y, x)))(
        (x * x).sum()))(_leaves(m)[0]), "Trying to backward through the graph a second time"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_grad_errors_match_torch(name):
    body, phrase = ERRORS[name]
    compare(body, phrase=phrase)


def test_materialize_grads_with_allow_unused_false_is_a_value_error():
    def body(m):
        x, y = _leaves(m)
        return m.autograd.grad((x * 2).sum(), [x, y], allow_unused=False, materialize_grads=True)

    compare(body, phrase="Expected allow_unused to be True")


CASES = {
    "allow_unused": lambda m: (lambda x, y: m.autograd.grad((x * 2).sum(), [x, y], allow_unused=True))(
        *_leaves(m)),
    "materialize_grads": lambda m: (lambda x, y: m.autograd.grad((x * 2).sum(), [x, y],
                                                                  materialize_grads=True))(*_leaves(m)),
    "non-leaf input": lambda m: (lambda x: (lambda y: m.autograd.grad((y * y).sum(), [y, x]))(x * 3))(
        _leaves(m)[0]),
    "several outputs, a None grad_output": lambda m: (lambda x: m.autograd.grad(
        [(x * x).sum(), x * 3], [x], [None, m.ones(2)]))(_leaves(m)[0]),
    "extra grad_outputs are ignored": lambda m: (lambda x: m.autograd.grad(
        [x * 2], [x], [m.ones(2), m.ones(2)]))(_leaves(m)[0]),
    "a single input gives a 1-tuple": lambda m: (lambda x: m.autograd.grad((x * x).sum(), x))(
        _leaves(m)[0]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_grad_results_match_torch(name):
    compare(CASES[name])


def _cast_case(out_dtype, go_dtype, how, go_requires_grad=False):
    """A grad_output of another dtype than its output: torch casts it first (recorded under
    create_graph), so the gradient's value, dtype and graph follow the output's dtype."""

    def body(m):
        x = m.tensor([1.0, -2.0], dtype=getattr(m, out_dtype), requires_grad=True)
        go = m.tensor([0.1, 0.3], dtype=getattr(m, go_dtype), requires_grad=go_requires_grad)
        y = x.double() * 3 if how.endswith("double") else x * 3
        if how.startswith("backward"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y.backward(go, create_graph=True)
            g = x.grad
        else:
            (g,) = m.autograd.grad(y, x, go, create_graph=True)
        names = [type(n).__name__ for n, _ in g.grad_fn.next_functions] if g.grad_fn else []
        return g.tolist(), str(g.dtype).split(".")[1], g is go, names

    return body


GRAD_OUTPUT_CASTS = {
    f"{how} {o} output, {g} grad_output{' requiring grad' if rg else ''}": _cast_case(o, g, how, rg)
    for how in ("grad", "backward", "grad through double")
    for o, g in (("float64", "float32"), ("float32", "float64"), ("float64", "float64"))
    for rg in (False, True)
}


@pytest.mark.parametrize("name", list(GRAD_OUTPUT_CASTS))
def test_grad_outputs_are_cast_to_the_outputs_dtype_under_create_graph(name):
    """(tape cast them only without create_graph: 0.1 as float32 reached a float64 result
    unrounded to float64's 0.1, and a float32 leaf got a float64 .grad)"""
    compare(GRAD_OUTPUT_CASTS[name], rtol=0, atol=0)


def test_backward_inputs_accumulates_only_there(mod):
    x, y = _leaves(mod)
    h = x * y
    out = (h * h).sum()
    out.backward(inputs=[y], retain_graph=True)
    gx, gy = grads(x, y)
    assert gx is None and gy.tolist() == [30.0]  # sum(2 h x) with h = x y = [3, 6]
    out.backward(inputs=[h])  # a non-leaf input: retains its grad, as torch does
    assert h.retains_grad and grads(h)[0].tolist() == [6.0, 12.0]
    assert grads(x)[0] is None


def test_backward_inputs_non_leaf_matches_torch():
    def body(m):
        x, y = _leaves(m)
        h = x * y
        (h * h).sum().backward(inputs=[h, y])
        return grads(h, x, y), h.retains_grad

    compare(body)


# ---------------------------------------------------------------------------------------
# Second and third derivatives


COMPOSITIONS = {
    "exp sin": lambda m, x: (m.exp(m.sin(x)) * x).sum(),
    "log tanh": lambda m, x: m.log(m.tanh(x) + 2).sum(),
    "sigmoid pow": lambda m, x: (m.sigmoid(x) ** 3).sum(),
    "div": lambda m, x: (x / (x * x + 1)).sum(),
    "matmul": lambda m, x: (x.reshape(2, 2) @ x.reshape(2, 2)).exp().sum(),
    "mean of exp squared": lambda m, x: (m.exp(x) ** 2).mean(),
    "tensor pow": lambda m, x: (x.abs() + 1).pow(x).sum(),
    "sum over a dim": lambda m, x: (x.reshape(2, 2).sum(0) ** 3).sum() / x.sum().cos(),
}


def _derivatives(m, f):
    """f, its gradient, the Hessian (row by row) and the gradient of each Hessian row's sum."""
    x = m.tensor(X0, requires_grad=True)
    y = f(m, x)
    (g,) = m.autograd.grad(y, x, create_graph=True)
    rows, thirds = [], []
    for i in range(X0.size):
        (h,) = m.autograd.grad(g[i], x, create_graph=True, retain_graph=True)
        rows.append(h.detach().numpy().copy())
        if h.requires_grad:
            (t3,) = m.autograd.grad(h.sum(), x, retain_graph=True, allow_unused=True)
            thirds.append(np.zeros(X0.size) if t3 is None else t3.numpy().copy())
        else:
            thirds.append(np.zeros(X0.size))
    return y.item(), g.detach().numpy().copy(), np.array(rows), np.array(thirds)


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_second_and_third_derivatives_match_torch(name):
    f = COMPOSITIONS[name]
    got, want = _derivatives(tape, f), _derivatives(torch, f)
    for a, b, what in zip(got, want, ("value", "gradient", "hessian", "third")):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"{name}: {what}")


def _fd_hessian(f, x0, eps=1e-5):
    def grad_np(x):
        t = tape.tensor(x, requires_grad=True)
        return tape.autograd.grad(f(tape, t), t)[0].numpy()

    return np.stack([(grad_np(x0 + eps * e) - grad_np(x0 - eps * e)) / (2 * eps)
                     for e in np.eye(x0.size)])


@pytest.mark.parametrize("name", ["exp sin", "div", "tensor pow"])
def test_hessian_matches_finite_differences_of_the_gradient(name):
    f = COMPOSITIONS[name]
    _, _, hess, _ = _derivatives(tape, f)
    np.testing.assert_allclose(hess, _fd_hessian(f, X0), rtol=1e-6, atol=1e-7)


def test_third_derivative_of_a_scalar_by_nested_grads(mod):
    x = mod.tensor(0.7, dtype=mod.float64, requires_grad=True)
    y = x.sin() * x.exp()
    (d1,) = mod.autograd.grad(y, x, create_graph=True)
    (d2,) = mod.autograd.grad(d1, x, create_graph=True)
    (d3,) = mod.autograd.grad(d2, x)
    v = 0.7
    # (sin x e^x)''' = 2 e^x (cos x - sin x)
    assert d3.item() == pytest.approx(2 * np.exp(v) * (np.cos(v) - np.sin(v)), rel=1e-12)
    assert type(d1.grad_fn).__name__ == "AddBackward0"


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_then_backward_of_grad(mod):
    x = mod.tensor([0.5, 1.5], dtype=mod.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.5, 1.5]))


# ---------------------------------------------------------------------------------------
# Newton's method on Rosenbrock with the Hessian from autograd


def _rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _newton(m, how, steps=8):
    p = m.tensor([-1.2, 1.0], dtype=m.float64, requires_grad=True)
    path = []
    for _ in range(steps):
        f = _rosenbrock(p)
        if how == "grad":
            (g,) = m.autograd.grad(f, p, create_graph=True)
            hess = m.stack([m.autograd.grad(g[i], p, retain_graph=True)[0] for i in range(2)])
        else:
            g = m.autograd.functional.jacobian(_rosenbrock, p.detach())
            hess = m.autograd.functional.hessian(_rosenbrock, p.detach())
        step = np.linalg.solve(hess.detach().numpy(), g.detach().numpy())
        with m.no_grad():
            p -= m.tensor(step, dtype=m.float64)
        path.append((f.item(), hess.detach().numpy().copy(), p.detach().numpy().copy()))
    return path


@pytest.mark.parametrize("how", ["grad", "functional"])
def test_newton_on_rosenbrock_matches_torch_step_by_step(how):
    ours, theirs = _newton(tape, how), _newton(torch, how)
    for k, ((fa, ha, pa), (fb, hb, pb)) in enumerate(zip(ours, theirs)):
        assert fa == pytest.approx(fb, rel=1e-12, abs=1e-300), f"step {k}"
        np.testing.assert_allclose(ha, hb, rtol=1e-12, err_msg=f"step {k}")
        np.testing.assert_allclose(pa, pb, rtol=1e-12, atol=1e-15, err_msg=f"step {k}")
    np.testing.assert_allclose(ours[-1][2], [1.0, 1.0], atol=1e-12)  # the minimum
