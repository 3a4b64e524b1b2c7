"""tape.autograd.functional against torch.autograd.functional: jacobian, hessian, vjp, jvp,
vhp, hvp on functions of one and two inputs returning one and two outputs; the result
structures (tensor, tuple, tuple of tuples), create_graph, strict, vectorize, and errors."""

import numpy as np
import pytest
import torch
from helpers import compare

import tape

X0 = np.array([0.3, -0.5, 0.8, 1.2])
Y0 = np.array([1.1, 0.2, -0.4, 0.7])


def F(m):  # noqa: N802 - the functions under test, by name
    return {
        "scalar of one": lambda x: (x.exp() * x.sin()).sum(),
        "vector of one": lambda x: x.exp() * x.sin(),
        "matrix of two": lambda x, y: (x.reshape(2, 2) @ y.reshape(2, 2)).tanh(),
        "two of two": lambda x, y: ((x * y).sum(), x.sigmoid() / (y * y + 1)),
        "two of one": lambda x: ((x * x).sum(), x.exp() / (x * x + 1)),
        "scalar of two": lambda x, y: (x * x * y).sum() + (y ** 3).sum() + (x / (y * y + 1)).sum(),
        "linear": lambda x, y: x * 2,
    }


def x(m, rg=False):
    return m.tensor(X0, requires_grad=rg)


def y(m):
    return m.tensor(Y0)


CASES = {
    # jacobian: Tensor / tuple / tuple of tuples, as torch structures them
    "jacobian, one in one out": lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], x(m)),
    "jacobian, two in one out": lambda m: m.autograd.functional.jacobian(F(m)["matrix of two"],
                                                                         (x(m), y(m))),
    "jacobian, one in two out": lambda m: m.autograd.functional.jacobian(F(m)["two of one"], x(m)),
    "jacobian, two in two out": lambda m: m.autograd.functional.jacobian(F(m)["two of two"],
                                                                         (x(m), y(m))),
    "jacobian, a 1-tuple input": lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], (x(m),)),
    "jacobian, unused input gives zeros": lambda m: m.autograd.functional.jacobian(F(m)["linear"],
                                                                                   (x(m), y(m))),
    "jacobian, create_graph": lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], x(m, True),
                                                                       create_graph=True),
    "jacobian, vectorize accepted": lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], x(m),
                                                                             vectorize=True),
    "jacobian, forward-mode strategy": lambda m: m.autograd.functional.jacobian(
        F(m)["vector of one"], x(m), vectorize=True, strategy="forward-mode"),
    # hessian
    "hessian, one input": lambda m: m.autograd.functional.hessian(F(m)["scalar of one"], x(m)),
    "hessian, two inputs": lambda m: m.autograd.functional.hessian(F(m)["scalar of two"], (x(m), y(m))),
    "hessian, create_graph": lambda m: m.autograd.functional.hessian(F(m)["scalar of one"], x(m, True),
                                                                     create_graph=True),
    # products
    "vjp": lambda m: m.autograd.functional.vjp(F(m)["vector of one"], x(m), y(m)),
    "vjp, scalar output, v=None": lambda m: m.autograd.functional.vjp(F(m)["scalar of one"], x(m)),
    "vjp, two in two out": lambda m: m.autograd.functional.vjp(
        F(m)["two of two"], (x(m), y(m)), (m.tensor(1.5, dtype=m.float64), y(m))),
    "vjp, create_graph": lambda m: m.autograd.functional.vjp(F(m)["vector of one"], x(m, True), y(m),
                                                             create_graph=True),
    "jvp": lambda m: m.autograd.functional.jvp(F(m)["vector of one"], x(m), y(m)),
    "jvp, two in two out": lambda m: m.autograd.functional.jvp(F(m)["two of two"], (x(m), y(m)),
                                                               (y(m), x(m))),
    "jvp, create_graph": lambda m: m.autograd.functional.jvp(F(m)["vector of one"], x(m, True), y(m),
                                                             create_graph=True),
    "hvp": lambda m: m.autograd.functional.hvp(F(m)["scalar of one"], x(m), y(m)),
    "hvp, two inputs": lambda m: m.autograd.functional.hvp(F(m)["scalar of two"], (x(m), y(m)),
                                                           (y(m), x(m))),
    "vhp, two inputs": lambda m: m.autograd.functional.vhp(F(m)["scalar of two"], (x(m), y(m)),
                                                           (y(m), x(m))),
    "hvp of a linear function is zero": lambda m: m.autograd.functional.hvp(lambda t: (t * 2).sum(),
                                                                             x(m), y(m)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_functional_matches_torch(name):
    compare(CASES[name], rtol=1e-10, atol=1e-12)


def test_results_without_create_graph_are_detached(mod):
    jac = mod.autograd.functional.jacobian(F(mod)["vector of one"], x(mod, True))
    out, v = mod.autograd.functional.vjp(F(mod)["vector of one"], x(mod, True), y(mod))
    assert not jac.requires_grad and not out.requires_grad and not v.requires_grad


def test_create_graph_results_differentiate_to_the_users_input(mod):
    """With create_graph the Hessian stays connected to the user's own leaf."""
    xs = x(mod, True)
    hess = mod.autograd.functional.hessian(F(mod)["scalar of one"], xs, create_graph=True)
    hess.sum().backward()
    assert xs.grad is not None and xs.grad.shape == xs.shape


def test_create_graph_gradient_matches_torch():
    def body(m):
        xs = x(m, True)
        m.autograd.functional.hessian(F(m)["scalar of one"], xs, create_graph=True).sum().backward()
        return xs.grad

    compare(body, rtol=1e-10, atol=1e-12)


def test_hessian_matches_finite_differences_of_the_jacobian():
    f = F(tape)["scalar of two"]
    hess = tape.autograd.functional.hessian(f, (x(tape), y(tape)))
    eps = 1e-6
    full = np.block([[h.numpy() for h in row] for row in hess])
    z0 = np.concatenate([X0, Y0])

    def grad_np(z):
        gx, gy = tape.autograd.functional.jacobian(f, (tape.tensor(z[:4]), tape.tensor(z[4:])))
        return np.concatenate([gx.numpy(), gy.numpy()])

    fd = np.stack([(grad_np(z0 + eps * e) - grad_np(z0 - eps * e)) / (2 * eps) for e in np.eye(8)])
    np.testing.assert_allclose(full, fd, rtol=1e-6, atol=1e-7)


ERRORS = {
    "function returns a number": (lambda m: m.autograd.functional.jacobian(lambda t: 3, x(m)),
                                  TypeError, "must be either a Tensor or a tuple of Tensors"),
    "input is not a tensor": (lambda m: m.autograd.functional.jacobian(lambda t, u: t, (x(m), 3)),
                              TypeError, "the value at index 1 has type"),
    "strict: output independent of an input": (
        lambda m: m.autograd.functional.jacobian(F(m)["linear"], (x(m), y(m)), strict=True),
        RuntimeError, "Output 0 of the user-provided function is independent of input 1"),
    "strict: vjp independent": (
        lambda m: m.autograd.functional.vjp(F(m)["linear"], (x(m), y(m)), x(m), strict=True),
        RuntimeError, "is independent of input 1. This is not allowed in strict mode"),
    "strict: output does not require grad": (
        lambda m: m.autograd.functional.vjp(lambda t: m.tensor(X0), x(m), x(m), strict=True),
        RuntimeError, "Output 0 of the user-provided function does not require gradients"),
    "strict: hvp of a linear function": (
        lambda m: m.autograd.functional.hvp(lambda t: (t * 2).sum(), x(m), y(m), strict=True),
        RuntimeError, "the jacobian of the user-provided function with respect to input 0 is "
                      "independent of the input"),
    "v needed for a vector output": (lambda m: m.autograd.functional.vjp(F(m)["vector of one"], x(m)),
                                     RuntimeError, "The vector v can only be None if the user-provided "
                                                   "function returns a single Tensor with a single element"),
    "v of the wrong size": (lambda m: m.autograd.functional.vjp(F(m)["vector of one"], x(m),
                                                                 m.tensor(Y0[:3])),
                            RuntimeError, "v has invalid size: should be"),
    "v of the wrong length": (lambda m: m.autograd.functional.vjp(F(m)["two of two"], (x(m), y(m)),
                                                                   (y(m),)),
                              RuntimeError, "v is a tuple of invalid length: should be 2 but got 1"),
    "jvp without v": (lambda m: m.autograd.functional.jvp(F(m)["vector of one"], x(m)),
                      RuntimeError, "The vector v can only be None if the input to the user-provided "
                                    "function is a single Tensor with a single element"),
    "hessian of a vector": (lambda m: m.autograd.functional.hessian(F(m)["vector of one"], x(m)),
                            RuntimeError, "should contain a single element"),
    "hvp of two outputs": (lambda m: m.autograd.functional.hvp(F(m)["two of one"], x(m), y(m)),
                           RuntimeError, "The function given to hvp should return a single Tensor"),
    "strict with vectorize": (lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], x(m),
                                                                        strict=True, vectorize=True),
                              RuntimeError, "`strict=True` and `vectorized=True` are not supported"),
    "forward-mode without vectorize": (
        lambda m: m.autograd.functional.jacobian(F(m)["vector of one"], x(m), strategy="forward-mode"),
        NotImplementedError, "only implemented for `vectorize=True`"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_functional_errors_match_torch(name):
    body, kind, phrase = ERRORS[name]
    for m in (tape, torch):
        with pytest.raises(kind) as info:
            body(m)
        assert phrase in str(info.value), f"{m.__name__}: {info.value}"


def _structure(r):
    if isinstance(r, (list, tuple)):
        return type(r).__name__, [_structure(e) for e in r]
    return "Tensor", tuple(r.shape)


_STRUCTURE_CASES = {
    "one input, one output": (lambda a: a * 2, lambda x, y: x),
    "a tuple of inputs": (lambda a, b: a * b, lambda x, y: (x, y)),
    "a tuple of outputs": (lambda a: (a * 2, a.sum()), lambda x, y: x),
    "tuples of both": (lambda a, b: (a * b, b * 2), lambda x, y: (x, y)),
    "a tuple of one input": (lambda a: a * 2, lambda x, y: (x,)),
}


@pytest.mark.parametrize("strategy", ["forward-mode", "reverse-mode"])
@pytest.mark.parametrize("case", list(_STRUCTURE_CASES))
def test_jacobian_result_structure_is_torchs(case, strategy):
    """torch's forward-mode builds lists where its reverse-mode builds tuples (tape gave tuples)."""
    fn, args = _STRUCTURE_CASES[case]
    got = {}
    for m in (tape, torch):
        x, y = m.tensor([1.0, 2.0], dtype=m.float64), m.tensor([3.0], dtype=m.float64)
        got[m] = _structure(m.autograd.functional.jacobian(fn, args(x, y), vectorize=True,
                                                           strategy=strategy))
    assert got[tape] == got[torch]


@pytest.mark.parametrize("strategy", ["forward-mode", "reverse-mode"])
def test_hessian_result_structure_is_torchs(strategy):
    got = {}
    for m in (tape, torch):
        x, y = m.tensor([1.0, 2.0], dtype=m.float64), m.tensor([3.0], dtype=m.float64)
        got[m] = _structure(m.autograd.functional.hessian(
            lambda a, b: (a * a).sum() * b.sum(), (x, y), vectorize=True, outer_jacobian_strategy=strategy))
    assert got[tape] == got[torch]
