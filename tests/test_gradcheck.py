"""tape.autograd.gradcheck / gradgradcheck, public, with torch's main arguments: True for
correct gradients, GradcheckError (a RuntimeError) with torch's message for wrong ones,
False with raise_exception=False; the same verdicts as torch on the same functions."""

import sys
import warnings

import numpy as np
import pytest
import torch
from helpers import compare

import tape

X0 = np.array([0.3, -0.5, 0.8, 1.2])
Y0 = np.array([1.1, 0.2, -0.4, 0.7])


def wrong_first(m):
    """x*x with a backward that says 3x instead of 2x."""
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x * 3

    return Bad.apply


def right_first_not_second(m):
    """x**3 whose backward is right but not differentiable (it detaches x)."""
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    return Cube.apply


def ignores_grad_output(m):
    class NoMul(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):  # right for every non-zero grad_output, not for a zero one
            return g * 2 if float(g.abs().sum()) != 0 else g * 0 + 1

    return NoMul.apply


def leaf(m, v=X0):
    return m.tensor(v, dtype=m.float64, requires_grad=True)


VERDICTS = {
    "pointwise": lambda m: m.autograd.gradcheck(lambda x: x.exp() * x.sin(), (leaf(m),)),
    "two in two out": lambda m: m.autograd.gradcheck(
        lambda x, y: ((x.reshape(2, 2) @ y.reshape(2, 2)).tanh(), x * y), (leaf(m), leaf(m, Y0))),
    "a single tensor input": lambda m: m.autograd.gradcheck(lambda x: x.sigmoid(), leaf(m)),
    "fast mode": lambda m: m.autograd.gradcheck(lambda x: x.exp() * x.sin(), (leaf(m),), fast_mode=True),
    "wrong gradient, no raise": lambda m: m.autograd.gradcheck(wrong_first(m), (leaf(m),),
                                                               raise_exception=False),
    "wrong gradient, fast, no raise": lambda m: m.autograd.gradcheck(wrong_first(m), (leaf(m),),
                                                                     fast_mode=True, raise_exception=False),
    "loose tolerance passes": lambda m: m.autograd.gradcheck(lambda x: x.exp(), (leaf(m),), eps=1e-1,
                                                             atol=0, rtol=1e-2, raise_exception=False),
    "tight tolerance fails": lambda m: m.autograd.gradcheck(lambda x: x.exp(), (leaf(m),), eps=1e-1,
                                                            atol=0, rtol=1e-4, raise_exception=False),
    "non-differentiable output": lambda m: m.autograd.gradcheck(lambda x: (x > 0).double(), (leaf(m),)),
    "gradgradcheck": lambda m: m.autograd.gradgradcheck(
        lambda x, y: x.exp() * y.sin() / (x * x + 1), (leaf(m), leaf(m, Y0))),
    "gradgradcheck, given grad_outputs": lambda m: m.autograd.gradgradcheck(
        lambda x: x ** 3, (leaf(m),), (leaf(m, Y0),)),
    "gradgradcheck of a non-differentiable backward": lambda m: m.autograd.gradgradcheck(
        right_first_not_second(m), (leaf(m),), raise_exception=False),
    "first order of the same": lambda m: m.autograd.gradcheck(right_first_not_second(m), (leaf(m),)),
}


@pytest.mark.parametrize("name", list(VERDICTS))
def test_verdicts_match_torch(name):
    ours, theirs = VERDICTS[name](tape), VERDICTS[name](torch)
    assert ours is theirs


def error_type(m):
    """GradcheckError, where torch keeps it (the module under the gradcheck function's name)."""
    return sys.modules[f"{m.__name__}.autograd.gradcheck"].GradcheckError


def _error(m, fn):
    with pytest.raises(error_type(m)) as info:
        fn(m)
    assert isinstance(info.value, RuntimeError)
    return str(info.value).replace("torch.", "tape.")


def test_mismatch_message_is_torchs():
    def check(m):
        return m.autograd.gradcheck(wrong_first(m), (leaf(m, X0[:2]),))

    ours, theirs = _error(tape, check), _error(torch, check)
    assert ours == theirs
    assert ours.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(")


def test_fast_mode_failure_explains_in_slow_mode():
    def check(m):
        return m.autograd.gradcheck(wrong_first(m), (leaf(m, X0[:2]),), fast_mode=True)

    ours, theirs = _error(tape, check), _error(torch, check)
    assert "computed \nin fast mode" in ours
    # the random vectors differ; the slow-mode part of the message does not
    assert ours.split("Below, we recompute")[1] == theirs.split("Below, we recompute")[1]


def test_backward_must_be_multiplied_by_grad_output():
    for m in (tape, torch):
        with pytest.raises(error_type(m), match="backward not multiplied by grad_output"):
            m.autograd.gradcheck(ignores_grad_output(m), (leaf(m),))


def test_gradgradcheck_names_the_second_order_mismatch():
    for m in (tape, torch):
        with pytest.raises(error_type(m), match="Jacobian mismatch for output 0 with respect to input 0"):
            m.autograd.gradgradcheck(right_first_not_second(m), (leaf(m),))


def test_inputs_must_require_grad(mod):
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require "
                                         "gradient"):
        mod.autograd.gradcheck(lambda x: x * 2, (mod.tensor(X0),))


def test_single_precision_inputs_warn(mod):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = mod.autograd.gradcheck(lambda x: x * 2, (mod.tensor(X0, dtype=mod.float32, requires_grad=True),),
                                    eps=1e-3, atol=1e-3)
    assert ok is True
    assert any("Input #0 requires gradient and is not a double precision" in str(w.message)
               for w in caught)


def test_inputs_are_left_as_they_were():
    x = leaf(tape)
    tape.autograd.gradcheck(lambda t: t.exp(), (x,))
    assert x.detach().numpy().tolist() == X0.tolist() and x._version == 0 and x.grad is None


def test_gradcheck_over_a_custom_function_with_non_tensor_args(mod):
    class Scale(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.k = k
            ctx.save_for_backward(x, y)
            return x * k * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * ctx.k * y, None, g * ctx.k * x

    assert mod.autograd.gradcheck(lambda x, y: Scale.apply(x, 2.5, y), (leaf(mod), leaf(mod, Y0)))
    assert mod.autograd.gradgradcheck(lambda x, y: Scale.apply(x, 2.5, y), (leaf(mod), leaf(mod, Y0)))


GRADCHECK_OUTPUTS = {
    "an integer output: nothing to check": lambda m, a: (a >= 2).long(),
    "a float output with no graph: its numerical gradient must be zero": lambda m, a: (a >= 2).double(),
    "None": lambda m, a: None,
    "a number among the outputs": lambda m, a: (a * 2, 3),
    "an integer output beside a float one": lambda m, a: (a * 2, (a >= 2).long()),
}


@pytest.mark.parametrize("name", list(GRADCHECK_OUTPUTS))
def test_gradcheck_outputs_like_torch(name):
    def body(m):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        return m.autograd.gradcheck(lambda a: GRADCHECK_OUTPUTS[name](m, a), (x,))

    compare(body)
