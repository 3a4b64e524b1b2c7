"""Behaviours where torch differs from what numpy (or a plain design) would give, found by
running probe scripts on both modules: values at special points (NaN, signed zeros), dtype
promotion, which results get a graph, argument checks and their errors. Each row runs on
both modules and must agree (values, dtypes, signs of zeros, requires_grad, grad_fn names,
gradients; for errors the type and a key phrase)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import compare

NAN = float("nan")


def _grad(fn, *values):
    def body(m):
        x = m.tensor(list(values), requires_grad=True)
        y = fn(m, x)
        y.sum().backward()
        return y, x.grad
    return body


VALUES = [
    # sign(NaN) is 0 (numpy: NaN), and so is abs's gradient there; a bool stays a bool
    ("sign of NaN", lambda m: m.sign(m.tensor([NAN, -0.0, 0.0, -2.0, 3.0]))),
    ("sign of a 0-d NaN", lambda m: m.tensor(NAN).sign()),
    ("sign of bools", lambda m: m.sign(m.tensor([True, False]))),
    ("sign of integers", lambda m: m.sign(m.tensor([3, -2, 0]))),
    ("abs at NaN", _grad(lambda m, x: x.abs(), NAN, 0.0, -1.0)),
    ("sign's gradient", _grad(lambda m, x: x.sign(), NAN, 0.0, -1.0)),
    # a zero remainder takes the dividend's sign (numpy: the divisor's)
    ("remainder by 2", lambda m: m.tensor([-4.0, 4.0, -3.5, 0.0, -0.0]) % 2),
    ("remainder by -2", lambda m: m.tensor([4.0, -4.0, 3.5]) % -2),
    ("remainder of a 0-d", lambda m: m.tensor(-4.0) % 2),
    ("reflected remainder", lambda m: -4.0 % m.tensor([2.0, -2.0])),
    ("remainder in float16", lambda m: m.tensor([-4.0], dtype=m.float16) % 2),
    ("remainder_", lambda m: m.tensor([-4.0, 4.0]).remainder_(-2)),
    # stack promotes as cat does (numpy's stack would give int64 + float32 float64)
    ("stack int and float", lambda m: m.stack([m.tensor([1, 3]), m.tensor([2.0, 4.0])])),
    ("stack 0-d int and float", lambda m: m.stack([m.tensor(1), m.tensor(2.0)])),
    ("stack int32 and float16", lambda m: m.stack([m.tensor([1], dtype=m.int32),
                                                   m.tensor([1.5], dtype=m.float16)])),
    ("stack's gradient across dtypes", _grad(lambda m, x: m.stack([x, m.tensor([1, 2])], 1), 1.0, 2.0)),
    # dim=None or () with keepdim: every dim, kept
    ("logsumexp over () kept", _grad(lambda m, x: m.logsumexp(x.view(2, 1), (), keepdim=True), 1.0, 2.0)),
    # contiguous() of a transposed tensor is contiguous (a clone keeps the layout)
    ("contiguous then view", lambda m: m.arange(6.0).view(2, 3).t().contiguous().view(6)),
    ("contiguous is contiguous", lambda m: m.arange(6.0).view(2, 3).t().contiguous().is_contiguous()),
    ("clone keeps the layout", lambda m: m.arange(6.0).view(2, 3).t().clone().is_contiguous()),
    # integer and bool results have no grad_fn, and integer targets take no gradient
    ("long() of a leaf", lambda m: m.tensor([1.5, -2.0], requires_grad=True).long()),
    ("to(int32) of a non-leaf", lambda m: (m.tensor([1.5], requires_grad=True) * 2).to(m.int32)),
    ("type_as an int tensor", lambda m: m.tensor([1.5], requires_grad=True).type_as(m.tensor([1]))),
    ("setitem into an int tensor", lambda m: _set_into_int(m)),
    ("copy_ into an int tensor", lambda m: m.zeros(2, dtype=m.int64).copy_(m.ones(2, requires_grad=True))),
    ("**= is in place", lambda m: _ipow(m)),
    # where(condition) and nonzero: the indices, int64
    ("where(condition)", lambda m: m.where(m.tensor([[1, 0], [2, 0]]) > 0)),
    ("where(0-d condition)", lambda m: m.where(m.tensor(1.0))),
    ("nonzero", lambda m: m.nonzero(m.tensor([[1, 0], [2, 0]]))),
    ("nonzero of a 0-d", lambda m: (m.nonzero(m.tensor(0.0)), m.nonzero(m.tensor(2.0)))),
    ("nonzero as_tuple", lambda m: m.tensor([0, 3]).nonzero(as_tuple=True)),
    ("where of a uint8 condition", lambda m: _quiet(
        lambda: m.where(m.from_numpy(np.array([1, 0], np.uint8)), m.ones(2), m.zeros(2)))),
    # losses: an int target promotes as torch promotes; a 1-d input takes a target of size 1
    ("mse_loss, int target", lambda m: m.nn.functional.mse_loss(m.tensor([1.0, 2.0]), m.tensor([1, 3]))),
    ("mse_loss, int target, none", lambda m: m.nn.functional.mse_loss(m.tensor([1.0, 2.0]), m.tensor([1, 3]),
                                                                      reduction="none")),
    # (forward only: torch 2.13's backward of these refuses the target it took, a size mismatch)
    ("cross_entropy 1-d, target of 1", lambda m: m.nn.functional.cross_entropy(
        m.tensor([0.2, -1.0, 2.0], requires_grad=True), m.tensor([1]))),
    ("nll_loss 1-d, target of 1", lambda m: m.nn.functional.nll_loss(m.tensor([0.2, -1.0]), m.tensor([1]))),
    ("dropout of integers, p=1", lambda m: m.nn.functional.dropout(m.tensor([1, 2]), 1.0)),
    # grad modes and Functions
    ("enable_grad inside inference_mode", lambda m: _enable_in_inference(m)),
    ("mark_non_differentiable on an input returned", lambda m: _NonDiff.get(m).apply(
        m.ones(2, requires_grad=True) * 1)),
    ("a non-tensor output's gradient is None", lambda m: _TwoOut.run(m)),
]


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _set_into_int(m):
    a = m.zeros(3, dtype=m.int64)
    a[0] = m.tensor(2.5, requires_grad=True)
    return a


def _ipow(m):
    a = m.tensor([1.0, 2.0], requires_grad=True) * 1
    b = a
    a **= 2
    return a is b, a._version, a


def _enable_in_inference(m):
    x = m.ones(2, requires_grad=True)
    with m.inference_mode():
        with m.enable_grad():
            y = x * 2
            z = m.ones(2, requires_grad=True)
            z.add_(1)
    return y, y.is_inference(), z.is_inference()


class _NonDiff:
    made: dict = {}

    @classmethod
    def get(cls, m):
        if m not in cls.made:
            class NonDiff(m.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.mark_non_differentiable(x)
                    return x

                @staticmethod
                def backward(ctx, g):
                    return g
            cls.made[m] = NonDiff
        return cls.made[m]


class _TwoOut:
    @staticmethod
    def run(m):
        seen = []

        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 7

            @staticmethod
            def backward(ctx, g, g2):
                seen.append(g2)
                return g * 2

        x = m.ones(2, requires_grad=True)
        Two.apply(x)[0].sum().backward()
        return seen, x.grad


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in VALUES])
def test_value_like_torch(body):
    compare(body)


ERRORS = [
    ("abs of bools", lambda m: m.abs(m.tensor([True])), "\"abs_cpu\" not implemented for 'Bool'"),
    ("abs_ of bools", lambda m: m.tensor([True]).abs_(), "not implemented for 'Bool'"),
    ("relu of bools", lambda m: m.relu(m.tensor([True, False])), "Boolean inputs not supported for relu"),
    ("relu_ of bools", lambda m: m.tensor([True]).relu_(), "Boolean inputs not supported for relu"),
    ("F.relu of bools", lambda m: m.nn.functional.relu(m.tensor([True])), "Boolean inputs not supported"),
    ("sum with keepdim and no dim", lambda m: m.ones(2, 3).sum(keepdim=True),
     "sum() received an invalid combination of arguments"),
    ("mean with keepdim and no dim", lambda m: m.ones(2, 3).mean(keepdim=True),
     "mean() received an invalid combination of arguments"),
    ("prod with keepdim and no dim", lambda m: m.ones(2, 3).prod(keepdim=True),
     "prod() received an invalid combination of arguments"),
    ("prod of dim None", lambda m: m.prod(m.ones(2, 3), None), "prod()"),
    ("max of dim None", lambda m: m.max(m.ones(2, 3), None), "max() received an invalid combination"),
    ("where of a long condition", lambda m: m.where(m.tensor([1, 0]), m.ones(2), m.zeros(2)),
     "where expected condition to be a boolean tensor, but got a tensor with dtype Long"),
    ("where with input and no other", lambda m: m.where(m.tensor([True]), m.ones(1)),
     "where() received an invalid combination of arguments"),
    ("fill_ with a 1-d tensor", lambda m: m.zeros(2).fill_(m.tensor([1.0, 2.0])),
     "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions."),
    ("dropout of integers", lambda m: m.nn.functional.dropout(m.tensor([1, 2]), 0.5),
     "result type Float can't be cast to the desired output type Long"),
    ("nll_loss 1-d input, target of 2",
     lambda m: m.nn.functional.nll_loss(m.tensor([0.2, -1.0]), m.tensor([1, 0])),
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    ("smoothed cross_entropy 1-d, target of 1",
     lambda m: m.nn.functional.cross_entropy(m.tensor([0.2, -1.0]), m.tensor([1]), label_smoothing=0.1),
     "output with shape [] doesn't match the broadcast shape [1]"),
    ("set_grad_enabled(0)", lambda m: m.set_grad_enabled(0),
     "set_grad_enabled(): argument 'enabled' (position 1) must be bool, not int"),
    ("backward with a list of floats",
     lambda m: (m.ones(3, requires_grad=True) * 2).backward([1.0, 1.0, 1.0]),
     "gradients can be either Tensors or None, but got float"),
    ("backward with a float", lambda m: (m.ones((), requires_grad=True) * 2).backward(2.0),
     "'float' object is not iterable"),
    ("grad with grad_outputs of floats",
     lambda m: (lambda x: m.autograd.grad(x * 2, x, grad_outputs=[1.0]))(m.ones((), requires_grad=True)),
     "gradients can be either Tensors or None, but got float"),
    (".data = an int tensor on a tensor requiring grad",
     lambda m: setattr(m.ones(1, requires_grad=True), "data", m.ones(2, dtype=m.int64)),
     "data set to a tensor that requires gradients must be floating point or complex dtype"),
    ("_version of an inference tensor", lambda m: _inference(m)._version,
     "Inference tensors do not track version counter."),
    ("post-accumulate hook returning a value", lambda m: _post_acc_returns(m),
     "Tensor post accumulate grad hooks should return None."),
    ("AccumulateGrad hook returning a tuple", lambda m: _acc_hook_returns(m),
     "hook '<lambda>' has returned an incorrect number of values (got 1, but expected 0)"),
]


def _inference(m):
    with m.inference_mode():
        return m.ones(2)


def _post_acc_returns(m):
    x = m.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: t.grad * 100)
    (x * 2).sum().backward()


def _acc_hook_returns(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: (go[0],))
    y.sum().backward()


@pytest.mark.parametrize("body, phrase", [pytest.param(b, p, id=n) for n, b, p in ERRORS])
def test_error_like_torch(body, phrase):
    compare(body, phrase=phrase)
