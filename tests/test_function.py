"""Custom autograd.Function: the same program on tape and torch gives the same results."""

import numpy as np
import pytest
import torch

import tape


def make_cube(mod):
    class Cube(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x * x * x * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x * ctx.scale, None

    return Cube


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_node_name_and_next_functions(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(mod).apply(x, 2.0)
    assert type(y.grad_fn).__name__ == "CubeBackward"
    (acc, idx), = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and idx == 0


def run_cube(mod):
    x = mod.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    y = make_cube(mod).apply(x, 2.0)
    y.sum().backward()
    first = x.grad.detach().numpy().copy()
    x.grad = None
    (g,) = mod.autograd.grad(make_cube(mod).apply(x, 2.0).sum(), x, create_graph=True)
    g.sum().backward()
    return first, x.grad.detach().numpy()


def test_gradients_and_double_backward_match_torch():
    got, want = run_cube(tape), run_cube(torch)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])  # the backward built of tape ops is differentiable
    np.testing.assert_allclose(got[0], 6 * np.array([0.5, -1.5, 2.0]) ** 2)


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_saved_input_modified_in_place_raises(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    x = a * 1
    y = make_cube(mod).apply(x, 1.0)
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_second_backward_raises_after_saved_freed(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(mod).apply(x, 1.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_needs_input_grad_and_non_differentiable_outputs(mod):
    seen = {}

    class SplitSign(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            s = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(s)
            return x * 2, s

        @staticmethod
        def backward(ctx, g, gs):
            return g * 2, None

    x = mod.tensor([1.0, -2.0], requires_grad=True)
    y = mod.tensor([1.0, 1.0])
    out, s = SplitSign.apply(x, y)
    assert seen["needs"] == (True, False)
    assert out.requires_grad and not s.requires_grad
    out.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
