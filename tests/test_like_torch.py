"""Behaviours where torch differs from what numpy (or a plain design) would give, found by
running probe scripts on both modules: values at special points (NaN, signed zeros), dtype
promotion, which results get a graph, argument checks and their errors. Each row runs on
both modules and must agree (values, dtypes, signs of zeros, requires_grad, grad_fn names,
gradients; for errors the type and a key phrase)."""

from __future__ import annotations

import math
import re
import sys
import warnings

import numpy as np
import pytest
import torch
from helpers import compare, doubling_in_place, make_cube, node_tree

import tape

NAN = float("nan")


def _grad(fn, *values):
    def body(m):
        x = m.tensor(list(values), requires_grad=True)
        y = fn(m, x)
        y.sum().backward()
        return y, x.grad
    return body


_NP_SCALARS = (np.bool_(True), np.float16(2), np.float32(2), np.float64(2), np.int32(2), np.int64(2))


def _with(s, fn):
    return lambda m: fn(m, s)


def _pow_graph(m, s):
    x = m.tensor([1.5], requires_grad=True)
    y, z = x ** s, s ** x
    return y, z, [n for n, _ in y.grad_fn.next_functions], [n for n, _ in z.grad_fn.next_functions]


def _upstream_grads(fn, values, upstream):
    """Gradients of fn(x) for an upstream gradient holding inf and NaN, then the same with
    create_graph: a zero gradient stays 0 (not inf * 0) and has no graph of its own."""
    def body(m):
        x = m.tensor(values, requires_grad=True)
        up = m.tensor(upstream)
        fn(m, x).backward(up)
        (g,) = m.autograd.grad(fn(m, x), x, up.clone().requires_grad_(), create_graph=True)
        return x.grad, g, g.requires_grad
    return body


_INF_NAN = [float("inf"), NAN, float("inf"), 1.0]


def _into_slice(m, x):
    y = x * 1
    y[1:3] = m.tensor([5.0, 6.0])
    return y


def _retained_create_graph(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward(create_graph=True)
    return h.grad, [type(n).__name__ for n, _ in h.grad.grad_fn.next_functions]


def _user_python_in_create_graph(m):
    """NOTE [rule scalars] is for ops' own rules: a custom Function's backward and a hook are
    the user's Python, recorded as torch records Python (`g * 2` is MulBackward0)."""
    class Double(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = m.tensor([1.0, 2.0], requires_grad=True)
    up = m.tensor([1.0, -1.0], requires_grad=True)  # (so the gradients are recorded)
    (g1,) = m.autograd.grad(Double.apply(x), x, up, create_graph=True)
    y = x * 3
    y.register_hook(lambda g: g * 2)
    (g2,) = m.autograd.grad(y, x, up, create_graph=True)
    return g1, g2, [[type(n).__name__ for n, _ in g.grad_fn.next_functions] for g in (g1, g2)]


def _grad_version(fn):
    def body(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        fn(m, x)
        return x.grad, x.grad._version
    return body


def _first_grad_node_name(m):
    x = m.ones(2, requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    return x.grad.grad_fn.name()


def _copy_slices_saved_then_written(m):
    a = m.ones(3, requires_grad=True) * 1
    a[0] = 5.0
    c = a * a  # saves a, an output of CopySlices, at version 1
    a[1] = 3.0
    c.sum().backward()


def _function_node(m):
    """A custom Function's node is a BackwardCFunction: `apply` runs the user's backward as
    it is (its Nones too), `_forward_cls` is the Function, and the node is not callable."""
    cls = make_cube(m)
    node = cls.apply(m.tensor([1.0, 2.0], requires_grad=True), 3.0).grad_fn
    try:
        node(m.ones(2))
        called = "called"
    except TypeError as exc:
        called = str(exc)
    return (isinstance(node, m.autograd.function.BackwardCFunction), node._forward_cls is cls,
            node.apply(m.ones(2)), node.scale, called)


def _dtype_views(m):
    """view(dtype): the same bytes as another dtype, sharing storage and version counter,
    outside the graph (no grad_fn, even from a tensor that requires grad)."""
    a = m.tensor([1.0, 2.0, 3.0, 4.0])
    bits = a.view(m.int32)
    bits[0] = 0
    b = m.ones(2, requires_grad=True)
    return (a, a._version, bits, a.view(m.float16), a.view(dtype=m.float64),
            m.tensor([[1.0, 2.0], [3.0, 4.0]]).t().view(m.int32), m.tensor(1.0).view(m.int32),
            [(w.requires_grad, w.grad_fn is None, w.is_leaf)
             for w in (b.view(m.float32), (b * 2).view(m.int32))])


def _leaf_roots(m):
    """A leaf as the root of backward: torch's AccumulateGrad copies the gradient the engine
    holds, so .grad starts at version 1 (a later backward adds in place: 2)."""
    a = m.tensor(2.0, requires_grad=True)
    a.backward()
    first = (a.grad.clone(), a.grad._version)
    a.backward()
    e = m.tensor(3.0, requires_grad=True)
    e.backward(m.tensor(2.0))
    f = m.tensor(3.0, requires_grad=True)
    f.backward(inputs=[f])
    d = m.tensor(3.0, requires_grad=True)
    m.autograd.backward([d, d * 2])  # summed with another gradient first: taken, version 0
    return first, [(t.grad, t.grad._version) for t in (a, e, f, d)]


def _sequence_numbers(m):
    a = m.ones(2, requires_grad=True)
    b = a * 2
    c = b.sin()
    d = c + b
    nodes = [b.grad_fn, c.grad_fn, d.grad_fn]
    return ([x._sequence_nr() < y._sequence_nr() for x, y in zip(nodes, nodes[1:])],
            b.grad_fn.next_functions[0][0]._sequence_nr())


def _half_by_number(fn):
    """fn(x) on float16 values and its gradient for an upstream of 0.3: torch computes a
    float16 times or over a number in float32 (the number too), rounded once."""
    def body(m):
        x = m.tensor(np.random.default_rng(0).standard_normal(200).astype(np.float16) * 50,
                     requires_grad=True)
        y = fn(m, x)
        y.backward(m.full(tuple(y.shape), 0.3, dtype=m.float16))
        return y, x.grad
    return body


def _int_float_half(m):
    return m.tensor([3, -7]), m.tensor([3.5, -7.0]), m.tensor(3.0, dtype=m.float16)


def _reflected_graph(m, s):
    x = m.tensor([1.5, -2.0], requires_grad=True)
    ys = [s - x, s / x, x % s]
    sum(y.sum() for y in ys).backward()
    return [node_tree(y.grad_fn) for y in ys], ys, x.grad


def _out(make):
    """`make(m, out)` with an out= tensor: the result, whether it is `out`, and out's version."""
    def body(m):
        out = m.empty(0)
        got = make(m, out)
        return got, got is out, out._version
    return body


VALUES = [
    ("an empty list beside ints is the default float", lambda m: m.tensor([[], [1]])),
    ("an empty list beside bools", lambda m: m.tensor([[], [True]])),
    ("a nested empty list beside ints", lambda m: m.tensor([[[]], [[1]]])),
    ("an empty list beside an int32 tensor", lambda m: m.tensor([[], [m.tensor(1, dtype=m.int32)]])),
    ("full of a negative uint8 wraps", lambda m: (
        m.full((2,), -1, dtype=m.uint8), m.full((2,), -255, dtype=m.uint8),
        m.full_like(m.tensor([1, 2], dtype=m.uint8), -1))),
    ("full of inf and of a float into ints", lambda m: (
        m.full((2,), float("inf")), m.full((2,), 3.7, dtype=m.int32), m.full((2,), 255.0, dtype=m.uint8),
        m.zeros(2, dtype=m.int32).masked_fill(m.tensor([True, False]), 3.9))),
    ("prod's gradient with inf beside a zero", lambda m: (lambda x: m.autograd.grad(x.prod(), x))(
        m.tensor([float("inf"), 0.0, 2.0], requires_grad=True))),
    ("prod's gradient with nan beside a zero", lambda m: (lambda x: m.autograd.grad(x.prod(), x))(
        m.tensor([float("nan"), 0.0, 2.0], requires_grad=True))),
    ("prod's gradient along a dim with a zero and an inf", lambda m: (lambda x: m.autograd.grad(
        x.prod(1).sum(), x))(m.tensor([[float("inf"), 0.0, 2.0], [1.5, 3.0, -2.0]], requires_grad=True))),
    ("factories take pin_memory=False and layout=None", lambda m: (
        m.zeros(2, pin_memory=False), m.ones(2, layout=None), m.full((2,), 1.0, pin_memory=False),
        m.arange(3, pin_memory=False), m.linspace(0, 1, 3, pin_memory=False), m.eye(2, pin_memory=False),
        m.zeros_like(m.ones(2), layout=None, pin_memory=False), m.empty(2, pin_memory=False).shape,
        m.rand(2, pin_memory=False).shape, m.randint(0, 3, (2,), pin_memory=False).shape)),
    ("a tensor where a list's sizes say a row", lambda m: (
        m.tensor([[1.0, 2.0], m.tensor([3.0, 4.0])]),
        m.tensor([[1, 2], m.tensor([3.0, 4.0], dtype=m.float64)]),
        m.tensor([[[1, 2]], m.tensor([[3, 4]])]), m.tensor([[1.0], [m.tensor(2.0)]]))),
    ("prod's gradient with a zero, float16 reduced in float32", lambda m: (lambda x: (
        m.autograd.grad(x.prod(dtype=m.float32), x),
        m.autograd.grad(x.reshape(2, 3).prod(1, dtype=m.float32).sum(), x)))(
        m.tensor([0.7119140625, 1.5048828125, 1.572265625, 0.0, 1.09375, 1.865234375],
                 dtype=m.float16, requires_grad=True))),
    ("a bool tensor as an index", lambda m: ([10, 20][m.tensor(True)], m.tensor(False).__index__())),
    ("integer arange of float bounds", lambda m: (m.arange(0.2, 2.5, 1, dtype=m.int64),
                                                  m.arange(0, 3.7, dtype=m.int64))),
    ("linear of a vector with a 0-d bias: matmul's squeeze_ result takes the bias in place", lambda m: (
        lambda x, w: (lambda y: (node_tree(y.grad_fn), y))(m.nn.functional.linear(x, w, m.tensor(0.5))))(
        m.tensor([1.0, 2.0, 3.0], requires_grad=True), m.ones(2, 3, requires_grad=True))),
    ("where's number branches that fit, or give a float result", lambda m: [m.where(
        m.tensor([True, False]), m.tensor([1, 2], dtype=dt), v) for dt, v in (
        (m.uint8, -1), (m.int32, 2.5), (m.float16, 70000.0), (m.int32, -2 ** 31))]),
    ("float32 ** 1e39 takes it as a double", lambda m: (m.tensor([1.0]) ** 1e39,
                                                        m.tensor([2], dtype=m.int32) ** 3)),
    ("sigmoid and silu where exp(-x) overflows: exactly 0 and -0, as 1 / (1 + exp(-x))", lambda m: [
        [(v == 0.0, math.copysign(1.0, v)) for v in f(m.tensor(xs, dtype=dt)).tolist()]
        for f in (m.sigmoid, m.nn.functional.silu)
        for xs, dt in (([-710.0, -745.0, -1000.0], m.float64), ([-91.3, -103.0, -88.8], m.float32))]),
    ("gelu in float32 keeps torch's zeros and tail", lambda m: m.nn.functional.gelu(
        m.tensor([-14.0, -12.0, -10.0, -5.5404477, -4.0953345, -3.0, -2.0, -1.0, -0.0, 0.0, 1.0, 1.8e38]))),
    ("float16 sigmoid and erf: computed in float32, rounded once", lambda m: (
        lambda xs: (m.sigmoid(xs).double().numpy().tolist(), m.erf(xs).double().numpy().tolist()))(
        m.tensor(np.linspace(-8, 8, 401), dtype=m.float16))),
    ("reductions, softmax, cumsum and indexing give contiguous results, as torch's", lambda m: (
        lambda x, y: ([t.is_contiguous() for t in (
            x.permute(1, 2, 0).sum(0), x.permute(1, 2, 0).amax(0), x.permute(2, 0, 1).mean(1),
            x.permute(1, 2, 0).var(0), x.permute(1, 2, 0).prod(0), x.permute(1, 2, 0).norm(dim=0),
            x.permute(1, 2, 0).logsumexp(0), y[:, m.tensor([0, 2])], y.t().softmax(0),
            y.t().log_softmax(1), y.t().cumsum(0))],
            # a view of the result then, so a write through it shows
            (lambda s: (s.flatten().zero_(), s.sum().item())[1])(x.permute(1, 2, 0).sum(0)),
            type(y[:, m.tensor([0, 2])].reshape(-1).grad_fn).__name__))(
        m.tensor(np.arange(24.0).reshape(2, 3, 4)), m.tensor(np.arange(12.0).reshape(3, 4)))),
    ("add and sub with alpha: the operands' dtype, alpha * other in its opmath", lambda m: (
        m.add(m.tensor([1.0, 2.0]), m.tensor([1, 2]), alpha=0.5),
        m.sub(m.tensor(0.0, dtype=m.float64), m.tensor(0.14, dtype=m.float16), alpha=3).item(),
        m.add(m.tensor([0.1], dtype=m.float64), m.tensor([0.1]), alpha=3).item(),
        m.add(m.tensor([1.5], dtype=m.float16), m.tensor([0.1], dtype=m.float16), alpha=3),
        m.sub(m.tensor([1.0, 2.0], dtype=m.float64), m.tensor(2.0), alpha=0.1))),
    ("float16 sums and means in the dtype asked for", lambda m: (
        lambda h: (m.sum(h, dtype=m.float32), m.mean(h, dtype=m.float64), h.sum(0, dtype=m.float32),
                   h.sum(), h.mean(), m.sum(m.ones(3) * 0.1, dtype=m.float16)))(
        m.tensor([1000.0, 1000.0, 0.5], dtype=m.float16))),
    ("a whole-dim slice written as a slice: Slice or Alias as torch records it", lambda m: (
        lambda x: [type(f(x).grad_fn).__name__ for f in (
            lambda x: x[:, -2:], lambda x: x[:, 0:2], lambda x: x[:, 0:], lambda x: x[:, ::1],
            lambda x: x[:, 0:100], lambda x: x[:, -5:], lambda x: x[0:3])])(
        m.ones(3, 2, requires_grad=True))),
    ("grad() of one input listed twice: one tensor", lambda m: (
        lambda a: (lambda g: (g[0] is g[1], g))(m.autograd.grad((a * a).sum(), [a, a])))(
        m.ones(2, requires_grad=True))),
    ("reshape, permute, squeeze: one sequence to the function, several ints to the method", lambda m: (
        tuple(m.reshape(m.ones(2, 3), (3, 2)).shape), tuple(m.reshape(m.ones(6), shape=[2, 3]).shape),
        tuple(m.ones(2, 3).reshape(3, 2).shape), tuple(m.permute(m.ones(2, 3), (1, 0)).shape),
        tuple(m.permute(m.ones(2, 3), dims=[1, 0]).shape), tuple(m.ones(2, 3).permute(1, 0).shape),
        tuple(m.squeeze(m.ones(1, 2, 1), (0, 2)).shape), tuple(m.squeeze(m.ones(1, 2), dim=0).shape),
        tuple(m.squeeze(m.ones(1, 2, 1)).shape), tuple(m.ones(1, 2, 1).squeeze(0, 2).shape))),
    ("new_* in the tensor's dtype unless one is given", lambda m: [
        (t.dtype, tuple(t.shape), t.requires_grad, t.tolist() if k != "empty" else None)
        for k, t in (("zeros", m.ones(2, dtype=m.float64).new_zeros(2, 3)),
                     ("zeros", m.ones(1).new_zeros((2,), dtype=m.int64)),
                     ("zeros", m.ones(1, dtype=m.float16).new_zeros(size=(1, 2))),
                     ("ones", m.ones(1, dtype=m.int32).new_ones(3)),
                     ("ones", m.ones(1).new_ones(2, requires_grad=True)),
                     ("empty", m.ones(1, dtype=m.float64).new_empty(2, 2)),
                     ("full", m.ones(1, dtype=m.float64).new_full((2,), 3)),
                     ("full", m.ones(1, dtype=m.int64).new_full([1, 2], 2.7)),
                     ("tensor", m.ones(1, dtype=m.float64).new_tensor([1, 2])),
                     ("tensor", m.ones(1).new_tensor(3.5, dtype=m.float64)),
                     ("tensor", m.ones(1, dtype=m.int64).new_tensor([[True], [False]])))]),
    ("rand_like, randn_like, randint_like: shaped as the input, in its dtype", lambda m: [
        (t.dtype, tuple(t.shape), t.requires_grad)
        for t in (m.rand_like(m.ones(2, 3, dtype=m.float64)), m.randn_like(m.ones(2), dtype=m.float16),
                  m.randn_like(m.ones(()), requires_grad=True), m.randint_like(m.ones(4), 5),
                  m.randint_like(m.ones(2, dtype=m.int32), 3, 9))] + [
        bool(((m.randint_like(m.ones(50), 3, 9) >= 3) & (m.randint_like(m.ones(50), 3, 9) < 9)).all()),
        bool(((m.rand_like(m.ones(50)) >= 0) & (m.rand_like(m.ones(50)) < 1)).all())]),
    ("dtypes as torch takes them: its own, Python's types, legacy type names", lambda m: (
        m.zeros(1, dtype=float).dtype, m.zeros(1, dtype=int).dtype, m.ones(1).to(bool).dtype,
        m.ones(1).type("torch.DoubleTensor").dtype, m.ones(1).type(m.int32).dtype,
        m.ones(1).to(None).dtype, m.ones(2).sum(dtype=m.float64).dtype)),
    ("to() with non_blocking and copy given positionally", lambda m: (
        m.ones(2).to(m.float64, False, False).dtype, m.ones(2).to("cpu", m.float64, False, True).dtype,
        m.ones(2).to(m.ones(1, dtype=m.float64), False, True).dtype)),
    ("is_floating_point(input=) and device(type=)", lambda m: (
        m.is_floating_point(input=m.ones(1)), str(m.device(type="cpu")))),
    ("the legacy constructor of a Size", lambda m: m.Tensor(m.Size([2])).shape),
    ("arange with an int dtype casts its bounds first", lambda m: (
        m.arange(0.5, dtype=m.int64), m.arange(2.7, dtype=m.int64), m.arange(0.5, 3.7, dtype=m.int64),
        m.arange(-2.5, 0, dtype=m.int64))),
    # keywords under the names torch's binding gives them, and out= written into
    *[(f"keyword {name}", fn) for name, fn in (
        ("view(size=)", lambda m: m.arange(6.0).view(size=(3, 2))),
        ("reshape(shape=)", lambda m: m.arange(6.0).reshape(shape=(3, 2))),
        ("reshape(input=, shape=)", lambda m: m.reshape(input=m.arange(6.0), shape=(2, 3))),
        ("expand(size=)", lambda m: m.ones(1, 3).expand(size=(2, 3))),
        ("expand(implicit=)", lambda m: m.ones(1, 3).expand(2, 3, implicit=True)),
        ("split(split_size=)", lambda m: m.arange(4.0).split(split_size=3)),
        ("split(split_size_or_sections=)", lambda m: m.split(m.arange(4.0), split_size_or_sections=3)),
        ("rand(size=)", lambda m: m.rand(size=(2, 3)).shape),
        ("randn(size=)", lambda m: m.randn(size=(4,)).shape),
        ("pow(self=, exponent=)", lambda m: m.pow(self=2, exponent=m.arange(3.0))),
        ("pow(input=, exponent=)", lambda m: m.pow(input=m.arange(3.0), exponent=2)),
        ("copy_(other=)", lambda m: m.zeros(2).copy_(other=m.ones(2))),
        ("to(float)", lambda m: m.ones(2).to(float)),
        ("to(int)", lambda m: m.ones(2).to(int)),
        ("mean(dtype=float)", lambda m: m.arange(3.0).mean(dtype=float)),
        ("squeeze(0, 2)", lambda m: m.zeros(1, 2, 1).squeeze(0, 2)))],
    ("cat(out=)", _out(lambda m, o: m.cat([m.ones(2), m.zeros(1)], out=o))),
    ("zeros(out=)", _out(lambda m, o: m.zeros(3, out=o))),
    ("ones(out=)", _out(lambda m, o: m.ones(2, 2, out=o))),
    ("zeros(out=) of an int64 out", lambda m: m.zeros(3, out=m.empty(0, dtype=m.int64))),
    # a Python int operand of an integer tensor is cast as C++ casts it (modulo 2**bits)
    *[(f"int operand {name}", fn) for name, fn in (
        ("int32 + 2**40", lambda m: m.tensor([1, 2], dtype=m.int32) + 2 ** 40),
        ("int32 * 2**40", lambda m: m.tensor([1, 2], dtype=m.int32) * 2 ** 40),
        ("int8 + 300", lambda m: m.tensor([1], dtype=m.int8) + 300),
        ("int64 + 2**63", lambda m: m.tensor([1]) + 2 ** 63),
        ("uint8 * -1", lambda m: m.tensor([1, 7], dtype=m.uint8) * -1),
        ("2**40 - int32", lambda m: 2 ** 40 - m.tensor([1], dtype=m.int32)),
        ("int32.add_(2**40)", lambda m: m.tensor([5], dtype=m.int32).add_(2 ** 40)),
        ("tensor([-1, 3], uint8)", lambda m: m.tensor([-1, 3], dtype=m.uint8)))],
    # float16 by a number (a third of x * 0.01 was off by an ulp); + and - round the number
    # to float16 as numpy does
    *[(f"float16 {name}", _half_by_number(fn)) for name, fn in (
        ("times a float", lambda m, x: x * 0.01), ("a float times", lambda m, x: 0.01 * x),
        ("over a float", lambda m, x: x / 7.3), ("a float over", lambda m, x: 7.3 / x),
        ("times an int", lambda m, x: x * 3001), ("times a 0-d float32", lambda m, x: x * m.tensor(0.01)),
        ("mul_ by a float", lambda m, x: (x * 1).mul_(0.01)),
        ("div_ by a float", lambda m, x: (x * 1).div_(7.3)),
        ("plus a float", lambda m, x: x + 0.01), ("minus a float", lambda m, x: x - 3001.0))],
    ("nodes' sequence numbers", _sequence_numbers),
    ("a leaf as the root", _leaf_roots),
    ("view as another dtype", _dtype_views),
    ("a custom Function's node", _function_node),
    # torch's hand-written nodes are named by their C++ class (AccumulateGrad, CopySlices too)
    ("a create_graph .grad's node name", _first_grad_node_name),
    ("copy_'s node name", lambda m: (m.ones(2, requires_grad=True) * 1).copy_(m.zeros(2)).grad_fn.name()),
    # sign(NaN) is 0 (numpy: NaN), and so is abs's gradient there; a bool stays a bool
    ("sign of NaN", lambda m: m.sign(m.tensor([NAN, -0.0, 0.0, -2.0, 3.0]))),
    ("sign of a 0-d NaN", lambda m: m.tensor(NAN).sign()),
    ("sign of bools", lambda m: m.sign(m.tensor([True, False]))),
    ("sign of integers", lambda m: m.sign(m.tensor([3, -2, 0]))),
    ("abs at NaN", _grad(lambda m, x: x.abs(), NAN, 0.0, -1.0)),
    ("sign's gradient", _grad(lambda m, x: x.sign(), NAN, 0.0, -1.0)),
    # gradients that are zero whatever the upstream gradient holds (torch: zeros_like(grad))
    ("sign, upstream inf", _upstream_grads(lambda m, x: x.sign(), [1.0, -2.0, 0.0, 4.0], _INF_NAN)),
    ("x ** 0, upstream inf", _upstream_grads(lambda m, x: x ** 0, [1.0, -2.0, 0.0, 4.0], _INF_NAN)),
    ("fill_, upstream inf", _upstream_grads(lambda m, x: (x * 1).fill_(2.0), [1.0, -2.0, 0.0, 4.0],
                                            _INF_NAN)),
    ("zero_, upstream inf", _upstream_grads(lambda m, x: (x * 1).zero_(), [1.0, -2.0, 0.0, 4.0],
                                            _INF_NAN)),
    ("copy_, upstream inf", _upstream_grads(lambda m, x: (x * 1).copy_(m.ones(4)),
                                            [1.0, -2.0, 0.0, 4.0], _INF_NAN)),
    ("written slice, upstream inf", _upstream_grads(_into_slice, [1.0, -2.0, 0.0, 4.0], _INF_NAN)),
    # 0 ** x: torch's g * where(x >= 0, 0, result * log(0)), so -inf where x < 0
    ("0 ** x, upstream 1", _upstream_grads(lambda m, x: 0.0 ** x, [-1.0, 0.0, 2.0, 0.5], [1.0] * 4)),
    ("0 ** x, upstream inf", _upstream_grads(lambda m, x: 0.0 ** x, [-1.0, 0.0, 2.0, 0.5], _INF_NAN)),
    # a gradient summed back to a size-1 dim is playback's own array: taken, version 0
    (".grad's version, a size-1 dim summed back", lambda m: (lambda x: (
        (x.expand(3) * m.arange(3.0)).sum().backward(), x.grad, x.grad._version))(
        m.tensor([2.0], requires_grad=True))),
    ("user Python under create_graph", _user_python_in_create_graph),
    # a non-leaf's retained gradient under create_graph: a recorded clone of the incoming one
    ("retain_grad with create_graph", lambda m: _quiet(lambda: _retained_create_graph(m))),
    # a bool tensor to a Python bool power: torch's x ** 1 (a copy) and x ** 0 (ones)
    ("bool ** True, False", lambda m: (m.tensor([True, False]) ** True, m.tensor([True, False]) ** False,
                                       m.tensor(True) ** True, m.tensor([True, False]) ** 2)),
    # torch's bindings take numpy's argument names (nn.functional's Python functions do not)
    ("axis= and keepdims=", lambda m: (m.ones(2, 3).sum(axis=1), m.sum(m.ones(2, 3), axis=0, keepdims=True),
                                       m.ones(2, 3).mean(axis=(0, 1)), m.max(m.eye(3), axis=1).indices,
                                       m.cat([m.ones(1, 2), m.zeros(1, 2)], axis=0),
                                       m.ones(2, 3).softmax(axis=1), m.ones(3).unsqueeze(axis=0),
                                       m.tensor([[1.0, 5.0], [3.0, 2.0]]).argmax(axis=0, keepdims=True))),
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
    # relu's gradient, recorded, is differentiable again (ThresholdBackwardBackward0)
    ("relu's recorded gradient", lambda m: _relu_grads(m)),
    # gelu's zeros keep the sign torch's kernels give them: -0.0 in float64 (float32's
    # depends on the CPU torch runs on: its AVX2 kernel gives +0.0, its AVX-512 one -0.0)
    ("gelu far left, float64", lambda m: m.nn.functional.gelu(m.tensor([-1e4, -0.0], dtype=m.float64))),
    # numpy scalars as arguments are Python numbers (np.bool_ a float), as torch's parser reads them
    *[(f"numpy {type(s).__name__} {name}", _with(s, fn)) for s in _NP_SCALARS for name, fn in (
        ("* int tensor", lambda m, s: m.tensor([1, 2]) * s),
        ("- int32 tensor", lambda m, s: m.tensor([1], dtype=m.int32) - s),
        ("as alpha", lambda m, s: m.add(m.tensor([1.0]), m.tensor([1.0]), alpha=s)),
        ("as clamp's min", lambda m, s: m.clamp(m.tensor([1, 5]), s)),
        ("as an exponent", lambda m, s: _pow_graph(m, s)),
        ("as full's value", lambda m, s: m.full((2,), s)),
        # (tape turned them into tensors here: float64 results, RsubBackward0, DivBackward0)
        ("// and reflected //", lambda m, s: [(t // s, s // t) for t in _int_float_half(m)]),
        ("% and reflected %", lambda m, s: [t % s for t in _int_float_half(m)] + [
            s % m.tensor([3.0, -2.5])]),
        ("reflected - and / of a tensor requiring grad", lambda m, s: _reflected_graph(m, s)))],
    # tensor(): the elements' own dtypes, promoted as torch promotes (float beats int whatever
    # the width); a tensor inside a list is a scalar
    ("tensor([np.float64])", lambda m: m.tensor([np.float64(1.5)])),
    ("tensor([np.int32, 2])", lambda m: m.tensor([np.int32(1), 2])),
    ("tensor([True, np.int32])", lambda m: m.tensor([True, np.int32(3)])),
    ("tensor([np.uint8, np.int8])", lambda m: m.tensor([np.uint8(1), np.int8(1)])),
    ("tensor([np.float16, 2.0])", lambda m: m.tensor([np.float16(1), 2.0])),
    ("tensor([[np.float64], [1]])", lambda m: m.tensor([[np.float64(1)], [1]])),
    ("tensor([float64 0-d tensor])", lambda m: m.tensor([m.tensor(1.0, dtype=m.float64)])),
    ("tensor([float16 0-d tensor, 2])", lambda m: m.tensor([m.tensor(1.0, dtype=m.float16), 2])),
    ("tensor([one-element tensors])", lambda m: m.tensor([m.tensor([1.0]), m.tensor([2.0])])),
    ("tensor(range)", lambda m: m.tensor(range(3))),
    ("tensor([arrays])", lambda m: _quiet(lambda: m.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]))),
    # Size, strides, devices, membership and unary +
    ("a Size sliced", lambda m: (m.zeros(2, 3, 4).shape[1:], type(m.zeros(2, 3).shape[:1]).__name__)),
    ("a Size added", lambda m: (m.zeros(2, 3).shape + (4,), type((1,) + m.zeros(2).shape).__name__)),
    ("stride()", lambda m: (m.zeros(2, 3).stride(), m.zeros(2, 3).t().stride(), m.zeros(2, 3).stride(-1),
                            m.tensor(1.0).stride())),
    ("device('cpu:0')", lambda m: (str(m.device("cpu:0")), m.device("cpu:0").index, m.device("cpu").index)),
    ("a device is not a string", lambda m: (m.device("cpu") == "cpu", m.device("cpu") == m.device("cpu"))),
    ("in", lambda m: (2 in m.tensor([1.0, 2.0]), 3 in m.tensor([1.0, 2.0]),
     m.tensor(1.0) in m.tensor([1.0]))),
    ("format of a 0-d", lambda m: f"{m.tensor(1.5):.2f}"),
    ("+t", lambda m: (lambda t: (+t is t, +t))(m.tensor([1.0, -2.0], requires_grad=True))),
    ("manual_seed(-1)", lambda m: m.manual_seed(-1) is not None),
    # numpy integers and 0-d integer tensors as dims and sizes
    ("view(np.int64)", lambda m: m.ones(2, 3).view(np.int64(6)).shape),
    ("expand(np.int64, ...)", lambda m: m.ones(6).expand(np.int64(2), 6).shape),
    ("sum(np.int64)", lambda m: (m.ones(2, 3).sum(np.int64(1)), m.sum(m.ones(2, 3), np.int64(0)))),
    ("mean(np.int64)", lambda m: m.ones(2, 3).mean(np.int64(1))),
    ("squeeze(np.int64)", lambda m: m.ones(1, 3).squeeze(np.int64(0)).shape),
    ("reshape(0-d tensor)", lambda m: m.ones(2, 3).reshape(m.tensor(6)).shape),
    ("factories' size= and 0-d sizes", lambda m: (
        m.zeros(size=(2,)), m.ones(size=[2, 1]), m.zeros(m.tensor(2)), m.zeros(np.int64(2)),
        m.arange(end=3))),
    ("grad modes clone", lambda m: [type(c.clone()).__name__ for c in (
        m.no_grad(), m.enable_grad(), m.set_grad_enabled(True), m.inference_mode())]),
    ("is_anomaly_check_nan_enabled", lambda m: m.is_anomaly_check_nan_enabled()),
    # .grad under create_graph: a recorded copy first (CopyBackwards), then old + new; a plain
    # backward after it adds in place into the same tensor, keeping its graph
    ("create_graph .grad", lambda m: _quiet(lambda: _create_graph_grads(m))),
    # a custom Function writing into a view it marks dirty rewrites the base's history
    ("mark_dirty on a view", lambda m: _dirty_view(m, lambda h: h[:2], False)),
    ("mark_dirty on a view, then the view used", lambda m: _dirty_view(m, lambda h: h[1:], True)),
    # calling a node by hand: under grad mode its results have a graph (the saved x), not under no_grad
    ("a node called", lambda m: (lambda y: (y.grad_fn(m.ones(3)), _no_grad_call(m, y)))(
        m.ones(3, requires_grad=True) * m.ones(3, requires_grad=True))),
    ("a class decorated with no_grad", lambda m: _quiet(lambda: _decorated_class(m))),
    # a leaf's first .grad: taken from playback (version 0) or a copy of it (version 1), as torch
    *[(f".grad's version, {name}", _grad_version(fn)) for name, fn in (
        ("mul", lambda m, x: (x * 2).sum().backward()), ("sum", lambda m, x: x.sum().backward()),
        ("the leaf itself", lambda m, x: x.backward(m.ones(2))),
        ("expand", lambda m, x: x.expand(3, 2).sum().backward()),
        ("a preset .grad", lambda m, x: (setattr(x, "grad", m.zeros(2)), (x * 2).sum().backward())),
        ("backward(inputs=)", lambda m, x: (x * m.tensor([2.0, 3.0], requires_grad=True)).sum().backward(
            inputs=[x])))],
]



def _no_grad_call(m, y):
    with m.no_grad():
        return y.grad_fn(m.ones(3))


def _decorated_class(m):
    @m.no_grad()
    class Probe:
        def __init__(self):
            self.enabled = m.is_grad_enabled()

    return Probe().enabled, type(Probe).__name__


def _dirty_view(m, view, use_result):
    x = m.ones(3, requires_grad=True)
    h = x * 1
    r = doubling_in_place(m).apply(view(h))
    (r.sum() * 10 + h.sum() if use_result else h.sum()).backward()
    return h, r, x.grad


def _create_graph_grads(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    first = x.grad
    names = [None if n is None else type(n).__name__ for n, _ in first.grad_fn.next_functions]
    (x * 3).sum().backward()
    same = first is x.grad
    y = m.tensor([1.0, 2.0], requires_grad=True)
    (y * y).sum().backward(create_graph=True)
    (y * y).sum().backward(create_graph=True)
    return names, same, x.grad, x.grad._version, y.grad


def _relu_grads(m):
    x = m.tensor([-1.0, 2.0, 0.0], requires_grad=True)
    (g0,) = m.autograd.grad(m.relu(x).sum(), x, create_graph=True)
    (g1,) = m.autograd.grad((m.nn.functional.relu(x) * x).sum(), x, create_graph=True)
    (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = m.autograd.grad(g2.sum(), x)
    return g0, [n for n, _ in g0.grad_fn.next_functions], g1, g2, g3


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



def _numpy_without_grad_mode(m):
    """numpy() of a tensor that requires grad: refused only while grad mode is on."""
    t = m.ones(2, requires_grad=True) * 2
    out = []
    with m.no_grad():
        out += [t.numpy(), np.asarray(t)]
    with m.inference_mode():
        out.append(t.numpy())
    with m.set_grad_enabled(False):
        out.append(t.numpy())
    return [(type(a).__name__, a.tolist()) for a in out]


def _legacy_shares(m, dtype, default=None):
    """Tensor(ndarray): an array of the default dtype is shared, as from_numpy shares it."""
    before = m.get_default_dtype()
    if default is not None:
        m.set_default_dtype(getattr(m, default))
    try:
        a = np.array([1.0, 2.0], dtype=dtype)
        t = m.Tensor(a)
        a[0] = 9.0
        return t
    finally:
        m.set_default_dtype(before)


VALUES += [
    ("numpy() without grad mode", _numpy_without_grad_mode),
    *[(f"full with a 0-d {dt} tensor as the fill", lambda m, dt=dt, v=v: (
        m.full((2,), m.tensor(v, dtype=getattr(m, dt))),
        m.full_like(m.ones(2, dtype=m.float64), m.tensor(v, dtype=getattr(m, dt)))))
      for dt, v in (("float64", 1.1), ("int32", 3), ("bool", True), ("float16", 1.5))],
    ("Tensor(float32 array) shares it", lambda m: _legacy_shares(m, np.float32)),
    ("Tensor(float64 array) shares it under float64", lambda m: _legacy_shares(m, np.float64, "float64")),
    ("Tensor(float64 array) copies it", lambda m: _legacy_shares(m, np.float64)),
    *[(f"arange({args}, dtype={dt})", lambda m, args=args, dt=dt: m.arange(*args, dtype=getattr(m, dt)))
      for dt in ("int32", "int16", "int8", "uint8", "int64")
      for args in ((2.5,), (0, 10, 2.5), (0, 1, 0.1), (0.5, 3.7, 0.9), (7.5, 1, -1.5))],
    *[(f"linspace({a}, {b}, {n}, dtype={dt})", lambda m, a=a, b=b, n=n, dt=dt: m.linspace(
        a, b, n, dtype=getattr(m, dt)).tolist())
      for dt in ("float32", "float64", "float16", "int32", "int64", "uint8")
      for a, b, n in ((0, float("inf"), 3), (float("-inf"), 1, 4), (-3, 7, 7), (-1, 1, 7), (2, 40, 13),
                      (-1e10, 0, 1), (0, 1e10, 0), (0, 10, 4))
      if not (dt in ("int32", "int64", "uint8") and a == float("-inf"))],
]



def _var_float32(m, name, dim):
    """float32 var/std: torch's kernel works in double and rounds once (compared exactly)."""
    a = np.random.default_rng(5).standard_normal((40, 3, 7)).astype(np.float32) * 3
    out = getattr(m.tensor(a), name)() if dim is None else getattr(m.tensor(a), name)(dim)
    return out.numpy().tobytes()


VALUES += [
    *[(f"float32 {name}({dim})", lambda m, name=name, dim=dim: _var_float32(m, name, dim))
      for name in ("var", "std") for dim in (None, 0, 2, (1, 2))],
    ("var/std's saved correction", lambda m: [
        f(m.ones(2, 3, requires_grad=True)).grad_fn._saved_correction for f in (
            lambda x: x.var(), lambda x: x.var(None), lambda x: x.var(dim=None),
            lambda x: x.var(unbiased=True), lambda x: x.var(True), lambda x: x.var(None, unbiased=False),
            lambda x: x.std(dim=None),
            lambda x: x.var(keepdim=True), lambda x: m.std(x), lambda x: x.var(False), lambda x: x.std(0))]),
    *[(f"logsumexp({shape}, [], {kd})", lambda m, shape=shape, kd=kd: (lambda x: (
        lambda r: (r, r.grad_fn._saved_dim, r.sum().backward(), x.grad))(m.logsumexp(x, [], kd)))(
            m.ones(*shape, requires_grad=True)))
      for shape, kd in (((0,), False), ((0, 3), False), ((0,), True), ((2, 3), True))],
    ("norm's saved dim", lambda m: [m.norm(m.ones(2, 3, requires_grad=True), 2, d).grad_fn._saved_dim
                                    for d in (None, [], 1, (0, 1))]),
    ("cross_entropy of no classes, label smoothing", lambda m: [m.nn.functional.cross_entropy(
        m.zeros(*s, requires_grad=True), m.zeros(*s), label_smoothing=0.1) for s in ((0,), (2, 0))]),
    ("softmax of an empty int tensor", lambda m: [f(x, 0, dtype=dt) for f in (
        m.softmax, m.log_softmax, m.nn.functional.softmax) for x, dt in (
            (m.zeros(0), m.int64), (m.zeros(0, dtype=m.int64), None), (m.zeros(2, 0, dtype=m.int32), None))]),
    ("strides of empty tensors", lambda m: [t.stride() for t in (
        m.zeros(0, 4), m.tensor([]), m.zeros(2, 0, 3), m.empty_like(m.zeros(0, 2)), m.ones(1, 0))]),
]



def _saved_dims_of_matmul(m, left, right, transpose_left=False):
    """Every node of a matmul's decomposition with its saved dims, depth first."""
    a, b = m.ones(*left, requires_grad=True), m.ones(*right, requires_grad=True)
    out, stack = [], [((a.mT if transpose_left else a) @ b).grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        out.append((node.name(), {k: getattr(node, k) for k in dir(node) if k.startswith("_saved_dim")}))
        stack.extend(n for n, _ in node.next_functions)
    return out


VALUES += [
    ("an int32 index saved as given", lambda m: (lambda x, i: [
        x.index_select(0, i).grad_fn._saved_index, x.gather(0, i).grad_fn._saved_index])(
            m.ones(5, requires_grad=True), m.tensor([1, 2, 2], dtype=m.int32))),
    ("narrow by a tensor start", lambda m: (lambda g: (g._saved_start, g._saved_end))(
        m.ones(5, requires_grad=True).narrow(0, m.tensor(1), 2).grad_fn)),
    *[(f"matmul {left} @ {right}{' (left transposed)' if tl else ''}: saved dims",
       lambda m, left=left, right=right, tl=tl: _saved_dims_of_matmul(m, left, right, tl))
      for left, right, tl in (((1, 3), (2, 3, 3), False), ((2, 3, 2), (3,), True), ((3,), (2, 3, 4), False),
                              ((4, 3), (2, 3, 5), False), ((2, 2, 3), (3,), False))],
    *[(f"bool mm of {left} and {right}", lambda m, left=left, right=right, f=f: getattr(m, f)(
        m.ones(*left, dtype=m.bool), m.ones(*right, dtype=m.bool)))
      for left, right in (((2, 3), (3, 0)), ((3, 0), (0, 3)), ((0, 3), (3, 2))) for f in ("mm", "matmul")],
]



VALUES += [
    ("reversed()", lambda m: (lambda x: (list(reversed(x)), reversed(x)))(m.tensor([[1.0, 2.0], [3.0, 4.0]],
                                                                                   requires_grad=True))),
    ("integers and floats into int64 and uint8", lambda m: [
        m.tensor([2 ** 62, 1.5], dtype=m.int64), m.tensor([-1, 2], dtype=m.uint8),
        m.tensor([[1.5, 2], [3, 4]], dtype=m.int32), m.tensor(float("nan"), dtype=m.bool)]),
]



# one element of a floating dtype is filled unchecked, as torch's fast path; a bool takes any number
VALUES += [
    *[(f"fill: {name}", body) for name, body in (
        ("full_like one float16 element with 1e10", lambda m: m.full_like(m.ones(1, dtype=m.float16), 1e10)),
        ("full () with 2**40 into float16", lambda m: m.full((), 2 ** 40, dtype=m.float16)),
        ("full (1, 1) with 1e10 into float16", lambda m: m.full((1, 1), 1e10, dtype=m.float16)),
        ("fill_ one float16 element with 1e10", lambda m: m.zeros(1, dtype=m.float16).fill_(1e10)),
        ("full bools with 2**63", lambda m: m.full((2,), 2 ** 63, dtype=m.bool)),
        ("fill_ bools with 2**63 and 0.5", lambda m: (m.zeros(2, dtype=m.bool).fill_(2 ** 63),
                                                     m.zeros(2, dtype=m.bool).fill_(0.5))),
        ("full bools with NaN and 0.0", lambda m: (m.full((2,), float("nan"), dtype=m.bool),
                                                   m.full((2,), 0.0, dtype=m.bool))))],
]



def _nodes_called(m):
    """A node called by hand gives one tensor for one input edge, a tuple for more."""
    x = m.tensor([1.0, 2.0], requires_grad=True)
    out = []
    for y in (x.exp(), x.sum(), x * 2, x * x, x.unbind(0)[0], m.cat([x, x]), x[0]):
        n = y.grad_fn
        grads = [m.ones(())] * 2 if n.name() == "UnbindBackward0" else [m.ones(y.shape)]
        with m.no_grad():
            out.append(n(*grads))
    return out


VALUES += [("nodes called by hand", _nodes_called)]



def _randint_form(m, call):
    """randint's two forms: shape, dtype and whether every value is in range (not values)."""
    t, lo, hi = call(m)
    return tuple(t.shape), t.dtype, bool(((t >= lo) & (t < hi)).all())


VALUES += [(f"randint {name}", lambda m, call=call: _randint_form(m, call)) for name, call in (
    ("(high, size)", lambda m: (m.randint(10, (300,)), 0, 10)),
    ("(low, high, size)", lambda m: (m.randint(2, 5, (300,)), 2, 5)),
    ("(high=, size=)", lambda m: (m.randint(high=5, size=(3, 2)), 0, 5)),
    ("(low=, high=, size=)", lambda m: (m.randint(low=-2, high=3, size=(40,)), -2, 3)),
    ("(high, size=)", lambda m: (m.randint(5, size=(3,)), 0, 5)),
    ("(high, Size, dtype=)", lambda m: (m.randint(3, m.Size([2, 2]), dtype=m.float32), 0, 3)),
    ("like (high)", lambda m: (m.randint_like(m.ones(3, 2), 5), 0, 5)),
    ("like (low, high)", lambda m: (m.randint_like(m.ones(30), 2, 5), 2, 5)))]



def _shallow_copies(m):
    """copy.copy(t): a new leaf on the same memory, its own version counter, no .grad."""
    import copy

    x = m.ones(3, requires_grad=True)
    x.grad = m.full((3,), 5.0)
    c = copy.copy(x)
    seen = [c.grad, c.requires_grad, c._version, c.is_leaf]
    with m.no_grad():
        x.add_(1)
    seen += [c, x._version, c._version]
    c2 = copy.copy(x * 2)
    c2.sum().backward()
    w = m.ones(3)
    c3 = copy.copy(w)
    w.add_(10)
    return seen + [c2.is_leaf, c2.grad, x.grad, c3]


VALUES += [("copy.copy", _shallow_copies)]



VALUES += [(f"in place: {name}", body) for name, body in (  # torch's canCast: int64 into uint8 wraps
    ("uint8 += int64", lambda m: m.tensor([5, 6], dtype=m.uint8).add_(m.tensor([2, 300]))),
    ("uint8 *= int32", lambda m: m.tensor([5, 6], dtype=m.uint8).mul_(m.tensor([100, 3], dtype=m.int32))),
    ("int8 += uint8", lambda m: m.tensor([5, 6], dtype=m.int8).add_(m.tensor([200, 3], dtype=m.uint8))),
    ("uint8 &= int8", lambda m: m.tensor([5, 6], dtype=m.uint8).__iand__(m.tensor([2, 3], dtype=m.int8))))]



VALUES += [
    ("compile(model=fn)", lambda m: m.compile(model=lambda x: x * 2 + 1, **(
        {"backend": "eager"} if m is torch else {}))(m.ones(2))),
    ("numel(input=)", lambda m: (m.numel(input=m.ones(2, 3)), m.numel(m.ones(4)))),
]



def _join_post_hook(m, join, other):
    """What a post-hook on cat's or stack's node sees: every input's gradient (torch's
    formula computes the whole list), cast to the input's dtype when it is floating."""
    x = m.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    z = getattr(m, join)([x * 1, other(m)])
    z.grad_fn.register_hook(lambda gi, go: seen.append(list(gi)))
    (z * m.arange(z.numel()).reshape(z.shape)).sum().backward()
    return seen, x.grad


VALUES += [(f"{join} post-hook with {name}",
            lambda m, join=join, other=other: _join_post_hook(m, join, other))
           for join in ("cat", "stack") for name, other in (
               ("a float32 input needing no gradient", lambda m: m.tensor([3.0, 4.0])),
               ("an int64 input", lambda m: m.tensor([3, 4])),
               ("a float64 input", lambda m: m.tensor([3.0, 4.0], dtype=m.float64)))]



# a Python int beside an integer tensor is converted to its dtype first, wrapping
VALUES += [(f"narrow integers: {name}", body) for name, body in (
    ("uint8 == -3", lambda m: m.tensor([253, 3], dtype=m.uint8) == -3),
    ("uint8 < -3", lambda m: m.tensor([5, 254], dtype=m.uint8) < -3),
    ("int8 > 300", lambda m: m.tensor([5, 100], dtype=m.int8) > 300),
    ("int32 < 2**40", lambda m: m.tensor([5], dtype=m.int32) < 2 ** 40),
    ("-3 == uint8", lambda m: -3 == m.tensor([253], dtype=m.uint8)),
    ("0-d uint8 + -3", lambda m: m.tensor(5, dtype=m.uint8) + -3),
    ("0-d int8 * 300", lambda m: m.tensor(5, dtype=m.int8) * 300),
    ("0-d int16 - 70000", lambda m: m.tensor(5, dtype=m.int16) - 70000))]



VALUES += [("out=: cat of int64 into uint8",  # (torch's canCast: integers into integers wrap)
            lambda m: m.cat([m.tensor([1, 300])], out=m.zeros(2, dtype=m.uint8)))]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in VALUES])
def test_value_like_torch(body):
    compare(body)


def _clamp_bools(bounds):
    return lambda m: m.tensor([True, False]).clamp(**bounds(m))


def _number_first(name, a):
    return lambda m: getattr(m, name)(a, m.tensor([1, 5]))


ERRORS = [
    # found by probe helpers; each of these ran, or raised another error, before
    *[(f"clamp of bools by bools, {k}", _clamp_bools(kw), f'"{kernel}" not implemented for \'Bool\'')
      for k, kw, kernel in (
        ("min", lambda m: dict(min=True), "clamp_min_scalar_cpu"),
        ("max", lambda m: dict(max=False), "clamp_max_scalar_cpu"),
        ("both", lambda m: dict(min=True, max=True), "clamp_scalar_cpu"),
        ("both tensors", lambda m: dict(min=m.tensor(True), max=m.tensor(True)), "clamp_cpu"))],
    ("clamp of float32 by 1e39", lambda m: m.tensor([1.0]).clamp(min=1e39),
     "value cannot be converted to type float without overflow"),
    ("clamp of float16 by 70000", lambda m: m.tensor([1.0], dtype=m.float16).clamp(max=70000.0),
     "value cannot be converted to type c10::Half without overflow"),
    ("clamp of int32 by 2**31", lambda m: m.tensor([1], dtype=m.int32).clamp(min=2 ** 31),
     "value cannot be converted to type int without overflow"),
    *[(f"a Python int past 64 bits, {k}", f, phrase) for k, f, phrase in (
        ("+", lambda m: m.tensor([1.0]) + 10 ** 20, "int too big to convert"),
        ("==", lambda m: m.tensor([1.0]) == -2 ** 63 - 1, "can't convert negative int to unsigned"),
        ("**", lambda m: m.tensor([1.0]) ** 2 ** 64, "int too big to convert"),
        ("clamp", lambda m: m.tensor([1.0]).clamp(max=2 ** 64), "int too big to convert"),
        ("fill_", lambda m: m.zeros(2).fill_(-2 ** 63 - 1), "can't convert negative int to unsigned"))],
    *[(f"{name}(number, tensor)", _number_first(name, a),
       f"{name}() received an invalid combination of arguments - got") for name, a in (
        ("lt", 3), ("eq", np.float64(2.0)), ("ge", np.array([1, 2])))],
    ("narrow from past the end", lambda m: m.arange(6.0).narrow(0, 7, 1),
     "start out of range (expected to be in range of [-6, 6], but got 7)"),
    ("narrow of a negative length", lambda m: m.arange(6.0).narrow(0, 1, -1),
     "narrow(): length must be non-negative."),
    ("an int16 tensor as an index", lambda m: m.arange(6.0)[m.tensor([1, 0], dtype=m.int16)],
     "tensors used as indices must be long, int, byte or bool tensors"),
    ("an empty float tensor as an index", lambda m: m.arange(6.0)[m.tensor([])],
     "tensors used as indices must be long, int, byte or bool tensors"),
    ("copy_ from a numpy array", lambda m: m.zeros(3).copy_(np.ones(3)),
     "copy_(): argument 'other' (position 1) must be Tensor, not numpy.ndarray"),
    ("copy_ from a list", lambda m: m.zeros(3).copy_([1.0, 2.0, 3.0]),
     "copy_(): argument 'other' (position 1) must be Tensor, not list"),
    ("masked_fill of ints by a value requiring grad",
     lambda m: m.arange(4).masked_fill(m.tensor([True, False, True, False]),
                                       m.tensor(3.5, requires_grad=True)),
     "Autograd not support dtype: Long"),
    ("add_ of a numpy float into ints: a Python number's result type",
     lambda m: m.tensor([1, 2]).add_(np.float64(2.0)), "result type Float can't be cast to the desired "
     "output type Long"),
    ("add_ of a numpy int into bools", lambda m: m.tensor([True]).add_(np.int32(3)),
     "result type Long can't be cast to the desired output type Bool"),
    ("a 0-d tensor sliced", lambda m: m.tensor(5.0)[:], "slice() cannot be applied to a 0-dim tensor."),
    ("a 0-d tensor sliced, written", lambda m: m.tensor(5.0).__setitem__(slice(None), 1.0),
     "slice() cannot be applied to a 0-dim tensor."),
    ("masked_fill_ names the target first", lambda m: m.zeros(4).masked_fill_(m.tensor([True, False]), 1.0),
     "The size of tensor a (4) must match the size of tensor b (2) at non-singleton dimension 0"),
    ("split's sizes along dim -1", lambda m: m.zeros(2, 3).split([1, 1], -1),
     "split_sizes to sum exactly to 3 (input tensor's size at dimension -1)"),
    ("the gradient of x ** a bool tensor", lambda m: (m.tensor([1.5], requires_grad=True) ** m.tensor(
        [True])).sum().backward(), "Subtraction, the `-` operator, with a bool tensor is not supported"),
    *[(f"where of ints and a number past the dtype, {k}", f, phrase) for k, f, phrase in (
        ("int32 beside 2**31", lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2], dtype=m.int32),
                                                 2 ** 31), "converted to type int without overflow"),
        ("the number first", lambda m: m.where(m.tensor([True, False]), -2 ** 31 - 1,
                                               m.tensor([1, 2], dtype=m.int32)), "type int without overflow"),
        ("int64 beside 2**63", lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 2 ** 63),
         "value cannot be converted to type int64_t without overflow"),
        ("the method", lambda m: m.tensor([1, 2], dtype=m.int32).where(m.tensor([True, False]), 2 ** 31),
         "type int without overflow"))],
    ("int32 ** 2**31", lambda m: m.tensor([1], dtype=m.int32) ** 2 ** 31,
     "value cannot be converted to type int without overflow"),
    ("float16 ** 70000", lambda m: m.tensor([1.0], dtype=m.float16) ** 70000.0,
     "value cannot be converted to type c10::Half without overflow"),
    ("float16 pow_ 70000", lambda m: m.tensor([1.0], dtype=m.float16).pow_(70000.0),
     "value cannot be converted to type c10::Half without overflow"),
    ("split by a float", lambda m: m.zeros(4).split(2.0),
     "split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not float"),
    ("pinned memory without an accelerator", lambda m: m.zeros(2, pin_memory=True),
     "pin_memory=True requires a CUDA or other accelerator backend"),
    ("tensors where a list's sizes say scalars",
     lambda m: m.tensor([m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])]),
     "only one element tensors can be converted to Python scalars"),
    ("integer tensors where a list's sizes say scalars",
     lambda m: m.tensor([m.tensor([1, 2]), m.tensor([3, 4])]),
     "only integer tensors of a single element can be converted to an index"),
    ("a tensor row of the wrong length", lambda m: m.tensor([[1, 2], m.tensor([3])]),
     "expected sequence of length 2 at dim 1 (got 1)"),
    ("arange of bools", lambda m: m.arange(5, dtype=m.bool), "\"arange_cpu\" not implemented for 'Bool'"),
    ("full past float32", lambda m: m.full((2,), 1e40),
     "value cannot be converted to type float without overflow"),
    ("full past float16", lambda m: m.full((2,), 1e40, dtype=m.float16),
     "value cannot be converted to type c10::Half without overflow"),
    ("full of NaN integers", lambda m: m.full((2,), float("nan"), dtype=m.int64),
     "value cannot be converted to type int64_t without overflow"),
    ("full_like of NaN integers", lambda m: m.full_like(m.tensor([1, 2]), float("nan")),
     "value cannot be converted to type int64_t without overflow"),
    ("full past uint8", lambda m: m.full((2,), 300, dtype=m.uint8),
     "value cannot be converted to type uint8_t without overflow"),
    ("full past int64", lambda m: m.full((2,), 2 ** 63),
     "value cannot be converted to type int64_t without overflow"),
    ("full_like past float32", lambda m: m.full_like(m.ones(2), 1e300),
     "value cannot be converted to type float without overflow"),
    ("full of a negative float into uint8", lambda m: m.full((2,), -0.5, dtype=m.uint8),
     "value cannot be converted to type uint8_t without overflow"),
    ("full of a float past uint8", lambda m: m.full((2,), 255.7, dtype=m.uint8),
     "value cannot be converted to type uint8_t without overflow"),
    ("masked_fill of a negative float into uint8", lambda m: m.zeros(2, dtype=m.uint8).masked_fill(
        m.tensor([True, False]), -0.5), "value cannot be converted to type uint8_t without overflow"),
    ("linspace of bools", lambda m: m.linspace(0, 1, 3, dtype=m.bool),
     "\"linspace_cpu\" not implemented for 'Bool'"),
    ("integer arange below zero", lambda m: m.arange(-0.5, dtype=m.int64),
     "upper bound and lower bound inconsistent with step sign"),
    ("integer arange of a fractional step", lambda m: m.arange(0, 2.5, 0.5, dtype=m.int64),
     "step must be nonzero"),
    ("tensor of a list holding None", lambda m: m.tensor([1, None]), "Could not infer dtype of NoneType"),
    ("tensor of an object", lambda m: m.tensor([object()]), "Could not infer dtype of object"),
    ("sum's keepdim as an int", lambda m: m.ones(2, 2).sum(0, keepdim=1),
     "sum(): argument 'keepdim' must be bool, not int"),
    ("mean's keepdim as an int", lambda m: m.ones(2, 2).mean(1, keepdim=0),
     "argument 'keepdim' must be bool, not int"),
    # every reduction's keepdim is a bool, as torch's parser wants (an int picked a shape)
    *[(f"{name}'s keepdim as {what}", (lambda f, v: lambda m: f(m.ones(2, 3), v))(fn, value), phrase)
      for name, fn, phrase in (
          ("amax", lambda x, k: x.amax(1, keepdim=k), "amax(): argument 'keepdim' must be bool"),
          ("amin", lambda x, k: x.amin(1, keepdim=k), "amin(): argument 'keepdim' must be bool"),
          ("max(dim)", lambda x, k: x.max(1, keepdim=k), "max(): argument 'keepdim' must be bool"),
          ("min(dim)", lambda x, k: x.min(1, keepdim=k), "min(): argument 'keepdim' must be bool"),
          ("argmax", lambda x, k: x.argmax(1, keepdim=k), "argmax(): argument 'keepdim' must be bool"),
          ("argmin", lambda x, k: x.argmin(keepdim=k), "argmin(): argument 'keepdim' must be bool"),
          ("prod", lambda x, k: x.prod(1, keepdim=k), "prod(): argument 'keepdim' must be bool"),
          ("logsumexp", lambda x, k: x.logsumexp(1, keepdim=k),
           "logsumexp(): argument 'keepdim' must be bool"),
          ("norm", lambda x, k: x.norm(dim=1, keepdim=k),
           "linalg_vector_norm(): argument 'keepdim' (position 4) must be bool"),
          ("var", lambda x, k: x.var(1, keepdim=k), "keepdim"),
          ("std", lambda x, k: x.std(1, keepdim=k), "keepdim"))
      for what, value in (("an int", 1), ("None", None))],
    # a dtype is torch's (or Python's float, int, bool): numpy's dtypes, types and names
    # are TypeErrors, as a program passing one would not run on torch. A function of one
    # overload names the argument; one of several says no overload took the arguments
    *[(f"{name} with dtype={label}", (lambda f, v: lambda m: f(m, v))(fn, value),
       f"{name.split('(')[0]}(): argument 'dtype' must be torch.dtype, not {label}" if one else
       f"{name.split('(')[0]}() received an invalid combination of arguments")
      for name, fn, one in (
          ("zeros", lambda m, d: m.zeros(2, dtype=d), True),
          ("ones", lambda m, d: m.ones(2, dtype=d), True),
          ("empty", lambda m, d: m.empty(2, dtype=d), True),
          ("full", lambda m, d: m.full((2,), 1.0, dtype=d), True),
          ("tensor", lambda m, d: m.tensor([1.0], dtype=d), True),
          ("as_tensor", lambda m, d: m.as_tensor([1.0], dtype=d), True),
          ("zeros_like", lambda m, d: m.zeros_like(m.ones(2), dtype=d), True),
          ("cumsum", lambda m, d: m.ones(2).cumsum(0, dtype=d), True),
          ("softmax", lambda m, d: m.ones(2).softmax(0, dtype=d), True),
          ("arange", lambda m, d: m.arange(3, dtype=d), False),
          ("linspace", lambda m, d: m.linspace(0, 1, 3, dtype=d), False),
          ("eye", lambda m, d: m.eye(2, dtype=d), False),
          ("rand", lambda m, d: m.rand(2, dtype=d), False),
          ("sum", lambda m, d: m.ones(2).sum(dtype=d), False),
          ("mean", lambda m, d: m.ones(2).mean(dtype=d), False),
          ("prod", lambda m, d: m.ones(2).prod(dtype=d), False),
          ("to(dtype=)", lambda m, d: m.ones(2).to(dtype=d), False),
          ("to()", lambda m, d: m.ones(2).to(d) if not isinstance(d, str) else m.ones(2).to(dtype=d), False))
      for label, value in (("str", "float32"), ("type", np.float32),
                           ("numpy.dtypes.Float64DType", np.dtype(np.float64)))],
    ("new_zeros() with no size", lambda m: m.ones(1).new_zeros(),
     'new_zeros() missing 1 required positional arguments: "size"'),
    ("new_full(int)", lambda m: m.ones(1).new_full(2, 1.0),
     "new_full(): argument 'size' (position 1) must be tuple of ints, not int"),
    ("new_full() with no value", lambda m: m.ones(1).new_full((2,)),
     'new_full() missing 1 required positional arguments: "fill_value"'),
    ("new_tensor() with no data", lambda m: m.ones(1).new_tensor(),
     'new_tensor() missing 1 required positional arguments: "data"'),
    ("new_zeros with a numpy dtype", lambda m: m.ones(1).new_zeros(2, dtype=np.float32),
     "new_zeros(): argument 'dtype' must be torch.dtype, not type"),
    ("rand_like of integers", lambda m: m.rand_like(m.ones(2, dtype=m.int64)),
     "\"check_uniform_bounds\" not implemented for 'Long'"),
    ("randn_like of a list", lambda m: m.randn_like([1.0]),
     "randn_like(): argument 'input' (position 1) must be Tensor, not list"),
    # a string that is no device: torch's errors, in device() and in to() alike
    *[(f"{how} of {spec!r}", fn, phrase) for spec, phrase in (
        ("float32", "Invalid device string: 'float32'"), ("cpu:x", "Invalid device string: 'cpu:x'"),
        ("cpu:-1", "Invalid device string: 'cpu:-1'"),
        ("gpu", "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                "xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device "
                "string: gpu"))
      for how, fn in (("device", (lambda s: lambda m: m.device(s))(spec)),
                      ("to", (lambda s: lambda m: m.ones(1).to(s))(spec)))],
    # the function forms take one sequence, where the methods take several ints too
    ("reshape(x, 3, 2)", lambda m: m.reshape(m.ones(2, 3), 3, 2),
     "reshape() takes 2 positional arguments but 3 were given"),
    ("permute(x, 1, 0)", lambda m: m.permute(m.ones(2, 3), 1, 0),
     "permute() takes 2 positional arguments but 3 were given"),
    ("squeeze(x, 0, 1)", lambda m: m.squeeze(m.ones(1, 1), 0, 1),
     "squeeze() received an invalid combination of arguments - got (Tensor, int, int)"),
    # writing through an expand(): torch's backward refuses the overlapping memory
    ("backward through fill_ on an expand()", lambda m: (
        lambda a: (lambda b: (b.expand(2, 3).fill_(1.0), b.sum().backward()))(a * 1))(
        m.ones(1, 3, requires_grad=True)),
     "more than one element of the written-to tensor refers to a single memory location"),
    ("accumulating into an expand()ed .grad", lambda m: (
        lambda a: (setattr(a, "grad", m.zeros(1, 2).expand(2, 2)), (a * 2).sum().backward()))(
        m.ones(2, 2, requires_grad=True)),
     "more than one element of the written-to tensor refers to a single memory location"),
    # found by a differential fuzzer (tape against torch on random programs)
    *[(f"masked_fill of {value} into {dt}", (lambda d, v: lambda m: m.tensor([1, 2]).to(getattr(m, d))
                                              .masked_fill(m.tensor([True, False]), v))(dt, value),
       f"value cannot be converted to type {ctype} without overflow")
      for dt, value, ctype in (("int8", 300, "int8_t"), ("int64", float("-inf"), "int64_t"),
                               ("int64", float("nan"), "int64_t"), ("float16", -1e9, "c10::Half"),
                               ("float32", 1e39, "float"), ("int64", 2 ** 63, "int64_t"))],
    *[(f"{name} of a tensor that requires grad, dtype={dt}", fn, f"Autograd not support dtype: {torch_name}")
      for name, dt, torch_name, fn in (
          ("sum", "int64", "Long", lambda m: m.ones(3, requires_grad=True).sum(dtype=m.int64)),
          ("sum(dim)", "int32", "Int", lambda m: m.ones(3, requires_grad=True).sum(0, dtype=m.int32)),
          ("prod", "bool", "Bool", lambda m: m.ones(3, requires_grad=True).prod(dtype=m.bool)),
          ("cumsum", "int64", "Long", lambda m: m.ones(3, requires_grad=True).cumsum(0, dtype=m.int64)))],
    # in place on a leaf: torch names the leaf before the op's own argument checks
    ("sub_(True) on a leaf", lambda m: m.ones(3, requires_grad=True).sub_(True),
     "a leaf Variable that requires grad is being used in an in-place operation."),
    ("add_(alpha=True) on a leaf", lambda m: m.ones(3, requires_grad=True).add_(1, alpha=True),
     "a leaf Variable that requires grad is being used in an in-place operation."),
    ("sub_(True) on a view of a leaf", lambda m: m.ones(3, requires_grad=True)[:2].sub_(True),
     "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    ("reshape()", lambda m: m.ones(2).reshape(),
     'reshape() missing 1 required positional arguments: "shape"'),
    ("view()", lambda m: m.ones(2).view(), "view() received an invalid combination of arguments - got ()"),
    ("narrow of a 0-d tensor", lambda m: m.tensor(1.0).narrow(0, 0, 1),
     "narrow() cannot be applied to a 0-dim tensor."),
    ("index_select along an empty dim", lambda m: m.ones(0, 2).index_select(0, m.tensor([0])),
     "index_select(): self indexing axis dim should be positive"),
    ("type(float)", lambda m: m.ones(2).type(float), "invalid type: 'float'"),
    ("type(np.float32)", lambda m: m.ones(2).type(np.float32), "invalid type: 'numpy.float32'"),
    ("type('float64')", lambda m: m.ones(2).type("float64"), "invalid type: 'float64'"),
    ("type(np.dtype)", lambda m: m.ones(2).type(np.dtype(np.float64)),
     "dtype must be a type, str, or dtype object"),
    ("requires_grad_(None)", lambda m: m.ones(1).requires_grad_(None),
     "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not NoneType"),
    ("requires_grad_(1)", lambda m: m.ones(1).requires_grad_(1), "must be bool, not int"),
    ("requires_grad = 1", lambda m: setattr(m.ones(1), "requires_grad", 1), "requires_grad must be a bool"),
    ("zeros() with no size", lambda m: m.zeros(), "zeros() missing 1 required positional arguments"),
    ("ones() with no size", lambda m: m.ones(), "ones() missing 1 required positional arguments"),
    # a list where a tensor belongs: torch's TypeError, not an AttributeError from inside
    *[(f"a list as {name}", fn, phrase) for name, fn, phrase in (
        ("dot's input", lambda m: m.dot([1.0], m.ones(1)),
         "dot(): argument 'input' (position 1) must be Tensor, not list"),
        ("outer's vec2", lambda m: m.outer(m.ones(2), [1.0]), "must be Tensor, not list"),
        ("mean's input", lambda m: m.mean([1.0]),
         "mean(): argument 'input' (position 1) must be Tensor, not list"),
        ("amax's input", lambda m: m.amax([1.0]), "must be Tensor, not list"),
        ("argmax's input", lambda m: m.argmax([1.0]), "must be Tensor, not list"),
        ("softmax's input", lambda m: m.softmax([1.0], 0),
         "softmax(): argument 'input' (position 1) must be Tensor"),
        ("unbind's input", lambda m: m.unbind([1.0]), "must be Tensor, not list"),
        ("t's input", lambda m: m.t([1.0]), "t(): argument 'input' (position 1) must be Tensor, not list"),
        ("flatten's input", lambda m: m.flatten([1.0]), "must be Tensor, not list"),
        ("view_as's other", lambda m: m.ones(2).view_as([1.0, 2.0]),
         "view_as(): argument 'other' (position 1) must be Tensor, not list"),
        ("expand_as's other", lambda m: m.ones(1).expand_as([1.0, 2.0]), "must be Tensor, not list"),
        ("gelu's input", lambda m: m.nn.functional.gelu([1.0]),
         "gelu(): argument 'input' (position 1) must be Tensor"),
        ("linear's weight", lambda m: m.nn.functional.linear(m.ones(2), [[1.0, 2.0]]),
         "must be Tensor, not list"),
        ("cross_entropy's target", lambda m: m.nn.functional.cross_entropy(m.ones(2, 3), [0, 1]),
         "argument 'target' (position 2) must be Tensor, not list"),
        ("an element of cat's list", lambda m: m.cat([m.ones(2), [1.0]]),
         "expected Tensor as element 1 in argument 0, but got list"),
        ("an element of stack's list", lambda m: m.stack([m.ones(2), None]),
         "expected Tensor as element 1 in argument 0, but got NoneType"))],
    ("squeeze(dim=None)", lambda m: m.zeros(1, 2).squeeze(dim=None),
     "squeeze() received an invalid combination"),
    ("copy_(src=)", lambda m: m.zeros(2).copy_(src=m.ones(2)), "copy_()"),
    ("cat(out=) of inputs that require grad",
     lambda m: m.cat([m.ones(2, requires_grad=True)], out=m.empty(0)),
     "cat(): functions with out=... arguments don't support automatic differentiation"),
    ("cat(out=) into a narrower dtype", lambda m: m.cat([m.ones(2)], out=m.empty(0, dtype=m.int64)),
     "cat(): input types can't be cast to the desired output type Long"),
    ("abs of bools", lambda m: m.abs(m.tensor([True])), "\"abs_cpu\" not implemented for 'Bool'"),
    # matrix products: no bool kernel (NotImplementedError), each under torch's kernel name
    ("mm of bools", lambda m: m.tensor([[True]]) @ m.tensor([[True]]),
     "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    ("dot of bools", lambda m: m.tensor([True]) @ m.tensor([True]), "\"dot\" not implemented for 'Bool'"),
    ("mv of bools", lambda m: m.tensor([[True]]) @ m.tensor([True]),
     "\"addmv_impl_cpu\" not implemented for 'Bool'"),
    ("bmm of bools", lambda m: m.ones(1, 1, 1, dtype=m.bool) @ m.ones(1, 1, 1, dtype=m.bool),
     "\"bmm\" not implemented for 'Bool'"),
    # integers past 64 bits: ValueError in tensor(), OverflowError as an operand
    ("tensor() of an int past int64", lambda m: m.tensor([1, 2 ** 63]), "Overflow when unpacking long long"),
    ("tensor() of an int below int64", lambda m: m.tensor([[1], [-2 ** 63 - 1]]),
     "Overflow when unpacking long long"),
    ("an int past 64 bits as an operand", lambda m: m.tensor([1], dtype=m.int32) + 2 ** 64,
     "int too big to convert"),
    ("an int below int64 as an operand", lambda m: m.tensor([1], dtype=m.int32) + (-2 ** 63 - 1),
     "can't convert negative int to unsigned"),
    ("tensor() of -256 as uint8", lambda m: m.tensor([-256], dtype=m.uint8),
     "value cannot be converted to type uint8 without overflow"),
    ("view(dtype) of a 0-d tensor, other size", lambda m: m.tensor(1.0).view(m.float16),
     "self.dim() cannot be 0 to view Float as Half (different element sizes)"),
    ("view(dtype) of a strided last dim", lambda m: m.arange(4.0)[::2].view(m.float16),
     "self.stride(-1) must be 1 to view Float as Half (different element sizes), but got 2"),
    ("view(dtype) of an odd last dim", lambda m: m.ones(3).view(m.float64),
     "self.size(-1) must be divisible by 2 to view Float as Double (different element sizes), but got 3"),
    ("view with a shape and a dtype", lambda m: m.ones(4).view(2, dtype=m.int32),
     "view() received an invalid combination of arguments - got (int, dtype="),
    ("a saved output of CopySlices written", _copy_slices_saved_then_written,
     "which is output 0 of torch::autograd::CopySlices, is at version 2; expected version 1"),
    ("bool of an empty tensor", lambda m: bool(m.tensor([])), "Boolean value of Tensor with no values is"),
    ("bool of an empty matrix", lambda m: bool(m.zeros(0, 3)), "Boolean value of Tensor with no values is"),
    ("mul_ of a string", lambda m: m.ones(2).mul_("a"), "mul_(): argument 'other' (position 1) must be"),
    ("mul_ of a string on a leaf", lambda m: m.ones(2, requires_grad=True).mul_("a"),
     "mul_(): argument 'other' (position 1) must be Tensor"),
    ("fill_ of a 1-d value on a leaf", lambda m: m.ones(2, requires_grad=True).fill_(m.ones(2)),
     "a leaf Variable that requires grad is being used in an in-place operation"),
    ("clamp_ without bounds on a leaf", lambda m: m.ones(2, requires_grad=True).clamp_(),
     "a leaf Variable that requires grad is being used in an in-place operation"),
    ("clamp_ without bounds", lambda m: m.ones(2).clamp_(), "At least one of 'min' or 'max' must not be"),
    ("div_ with a bad mode on a leaf", lambda m: m.ones(2, requires_grad=True).div_(2, rounding_mode="up"),
     "a leaf Variable that requires grad is being used in an in-place operation"),
    ("expand to fewer dims", lambda m: m.zeros(2, 2, 3).expand(4, 3),
     "FloatTensor{[2, 2, 3]}, size=[4, 3]): the number of sizes provided (2) must be greater or "
     "equal to the number of dimensions in the tensor (3)"),
    ("detect_anomaly is no decorator", lambda m: m.autograd.detect_anomaly()(lambda: 1),
     "'detect_anomaly' object is not callable"),
    ("mm of a list", lambda m: m.mm(m.ones(2, 3), [1, 2]), "argument 'mat2' (position 2) must be Tensor"),
    ("bool ** bool", lambda m: m.tensor([True, False]) ** m.tensor([True, True]),
     "\"pow\" not implemented for 'Bool'"),
    ("True ** bool tensor", lambda m: True ** m.tensor([True, False]), "\"pow\" not implemented for 'Bool'"),
    ("axis= to nn.functional", lambda m: m.nn.functional.softmax(m.ones(2), axis=0),
     "unexpected keyword argument 'axis'"),
    ("axis= and dim= both", lambda m: m.ones(2).sum(dim=0, axis=0), "unexpected keyword argument 'axis'"),
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
    ("an inference tensor requiring grad, times a leaf", lambda m: _inference_grad(m) * m.ones(
        2, requires_grad=True), "Inference tensors cannot be saved for backward"),
    ("a leaf times an inference tensor requiring grad",
     lambda m: m.ones(2, requires_grad=True) * _inference_grad(m),
     "Inference tensors cannot be saved for backward"),
    ("exp of a Python float", lambda m: m.exp(1.0),
     "exp(): argument 'input' (position 1) must be Tensor, not float"),
    ("sigmoid of an int", lambda m: m.sigmoid(2), "must be Tensor, not int"),
    ("mean with an int dtype", lambda m: m.mean(m.tensor([1.0]), dtype=m.int64),
     "Optional dtype must be either a floating point or complex dtype. Got: Long"),
    ("a Function instance called", lambda m: _quiet(lambda: _NonDiff.get(m)()(m.ones(1))),
     "Legacy autograd function with non-static forward method is deprecated"),
    ("a pack hook writing into its input", lambda m: _pack_writes(m),
     "A saved tensor pack hook is modifying its input in place"),
    ("a view made under no_grad, changed in place, then used", lambda m: _stale_no_grad_view(m),
     "A view was created in no_grad mode and its base or another view of its base has been modified"),
    ("softmax over a tuple", lambda m: m.ones(2, 3).softmax((0, 1)), "must be int, not tuple"),
    ("argmax over a tuple", lambda m: m.ones(2, 3).argmax((0,)), "must be int, not tuple"),
    ("unsqueeze at a tuple", lambda m: m.ones(2, 3).unsqueeze((0,)), "must be int, not tuple"),
    ("tensor([two-element tensors])", lambda m: m.tensor([m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])]),
     "only one element tensors can be converted to Python scalars"),
    ("zeros of a float size", lambda m: m.zeros(2.5),
     "zeros(): argument 'size' (position 1) must be tuple of ints"),
    ("full with an int size", lambda m: m.full(2, 1.0), "must be tuple of ints, not int"),
    ("arange against its step", lambda m: m.arange(3, 1),
     "upper bound and lower bound inconsistent with step sign"),
    ("rand of integers", lambda m: m.rand(2, dtype=m.int64),
     "\"check_uniform_bounds\" not implemented for 'Long'"),
    ("randn of integers", lambda m: m.randn(2, dtype=m.int32),
     "\"normal_kernel_cpu\" not implemented for 'Int'"),
    ("Tensor(2.5)", lambda m: m.Tensor(2.5), "new(): data must be a sequence (got float)"),
    ("Tensor(data, requires_grad=)", lambda m: m.Tensor([1.0], requires_grad=True),
     "new() received an invalid"),
    ("set_default_dtype(float)", lambda m: m.set_default_dtype(float),
     "only floating-point types are supported"),
    ("from_numpy of negative strides", lambda m: m.from_numpy(np.arange(3)[::-1]),
     "At least one stride in the given numpy array is negative"),
    ("ones(-1)", lambda m: m.ones(-1), "Trying to create tensor with negative dimension -1: [-1]"),
    ("zeros(2, -3)", lambda m: m.zeros(2, -3), "zeros: Dimension size must be non-negative."),
    ("eye(2, -1)", lambda m: m.eye(2, -1), "m must be greater or equal to 0, got -1"),
    ("linspace with -1 steps", lambda m: m.linspace(0, 1, -1), "number of steps must be non-negative"),
    ("tensor(None)", lambda m: m.tensor(None), "Could not infer dtype of NoneType"),
    ("'a' in t", lambda m: "a" in m.ones(2), "Tensor.__contains__ only supports Tensor or scalar"),
    ("format of a 1-d", lambda m: f"{m.ones(2):.2f}",
     "unsupported format string passed to Tensor.__format__"),
    ("zeros_like(ndarray)", lambda m: m.zeros_like(np.zeros(2)),
     "zeros_like(): argument 'input' (position 1) must be Tensor, not numpy.ndarray"),
    ("is_floating_point(3)", lambda m: m.is_floating_point(3), "must be Tensor, not int"),
    ("add_ into an expanded tensor", lambda m: m.ones(2, 1).expand(2, 3).add_(1),
     "more than one element of the written-to tensor refers to a single memory location"),
    ("+ of bools", lambda m: +m.tensor([True]), "The `+` operator, on a bool tensor is not supported."),
    ("~ of floats", lambda m: ~m.tensor([1.0]),
     "~ (operator.invert) is only implemented on integer and Boolean"),
    ("bitwise_not of floats", lambda m: m.bitwise_not(m.tensor([1.0])),
     "\"bitwise_not_cpu\" not implemented for 'Float'"),
    ("& of floats", lambda m: m.tensor([1.0]) & m.tensor([1.0]),
     "\"bitwise_and_cpu\" not implemented for 'Float'"),
    ("|= of an int into bools", lambda m: m.tensor([True]).__ior__(m.tensor([2])),
     "result type Long can't be cast to the desired output type Bool"),
    ("maximum with a numpy scalar", lambda m: m.maximum(m.ones(2), np.float64(2)),
     "maximum(): argument 'other' (position 2) must be Tensor, not numpy.float64"),
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
    ("a node hook returning a tensor", lambda m: _node_hook_returns(m),
     "expected tuple, but hook returned 'Tensor'"),
    ("AccumulateGrad hook returning a tuple", lambda m: _acc_hook_returns(m),
     "hook '<lambda>' has returned an incorrect number of values (got 1, but expected 0)"),
]


def _inference_grad(m):
    with m.inference_mode():
        return m.ones(2, requires_grad=True)


def _stale_no_grad_view(m):
    a = m.arange(6.0, requires_grad=True)
    with m.no_grad():
        v = a.view(2, 3)
        v.mul_(2)
    return v * 2


def _pack_writes(m):
    x = m.ones(2, requires_grad=True)
    with m.autograd.graph.saved_tensors_hooks(lambda t: t.mul_(1), lambda t: t):
        return (x * 1) * (x * 1)


def _inference(m):
    with m.inference_mode():
        return m.ones(2)


def _post_acc_returns(m):
    x = m.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: t.grad * 100)
    (x * 2).sum().backward()


def _node_hook_returns(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: gi[0])
    y.sum().backward()


def _acc_hook_returns(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: (go[0],))
    y.sum().backward()



ERRORS += [
    ("full with a tensor that requires grad as the fill",
     lambda m: m.full((2,), m.tensor(1.0, requires_grad=True)), "must be Number, not Tensor"),
    ("full with a one-element 1-d tensor as the fill",
     lambda m: m.full((2,), m.ones(1)), "argument 'fill_value' (position 2) must be Number, not Tensor"),
    ("full_like with a 2-element tensor as the fill",
     lambda m: m.full_like(m.ones(2), m.ones(2)), "must be Number, not Tensor"),
    *[(f"tensor({data}, dtype={dt})",
       lambda m, data=data, dt=dt: m.tensor(data, dtype=getattr(m, dt)), phrase)
      for data in ([1.0, None], [[1, 2], [None, 3]], None)
      for dt, phrase in (("float64", "must be real number, not NoneType"),
                         ("float16", "must be real number, not NoneType"),
                         ("int64", "'NoneType' object cannot be interpreted as an integer"),
                         ("bool", "'NoneType' object cannot be interpreted as an integer"))],
    *[(f"linspace({a}, {b}, {n}, dtype={dt})", lambda m, a=a, b=b, n=n, dt=dt: m.linspace(
        a, b, n, dtype=getattr(m, dt)), f"value cannot be converted to type {c} without overflow")
      for dt, c, a, b, n in (("int32", "int", 0, 1e10, 3), ("float16", "c10::Half", 0, 70000.0, 2),
                             ("int64", "int64_t", 0, float("inf"), 3),
                             ("uint8", "uint8_t", float("nan"), 1, 1),
                             ("int32", "int", -1e10, 0, 1))],
]



ERRORS += [
    ("cumsum into bools", lambda m: m.cumsum(m.tensor([1, 0, 2]), 0, dtype=m.bool),
     '"cumsum_out_cpu" not implemented for \'Bool\''),
    ("cumsum's dim is checked before its dtype",
     lambda m: m.cumsum(m.ones(3, requires_grad=True), 1, dtype=m.int64), "Dimension out of range"),
    *[(f"norm {p} over the empty dim {d}", lambda m, p=p, d=d: m.norm(m.zeros(2, 0), p, d),
       f"on the dimension {d[0] if isinstance(d, tuple) else d}because this dimension is empty")
      for p, d in ((float("inf"), -1), (float("inf"), (-1, 0)), (-1.0, -1))],
]



ERRORS += [
    *[(f"narrow by a {name} start", lambda m, make=make: m.ones(5).narrow(0, make(m), 2),
       "start must be an 0-dim integral Tensor.")
      for name, make in (("1-d", lambda m: m.tensor([1])), ("float", lambda m: m.tensor(1.0)),
                         ("bool", lambda m: m.tensor(True)))],
]



ERRORS += [
    *[(f"{name} of an array with a negative stride",
       lambda m, make=make: make(m, np.arange(6.0).reshape(2, 3)),
       "At least one stride in the given numpy array is negative")
      for name, make in (("tensor", lambda m, a: m.tensor(a[::-1])),
                         ("as_tensor", lambda m, a: m.as_tensor(a[:, ::-1])),
                         ("tensor with a dtype", lambda m, a: m.tensor(a[::-1], dtype=m.float32)),
                         ("Tensor", lambda m, a: m.Tensor(a[::-1])))],
]



ERRORS += [
    *[(f"size({d}) of a 0-d tensor", lambda m, d=d: m.tensor(1.0).size(d),
       f"Dimension specified as {d} but tensor has no dimensions") for d in (0, 5, -1)],
    ("reversed() of a 0-d tensor", lambda m: list(reversed(m.tensor(1.0))), "iteration over a 0-d tensor"),
    *[(f"tensor({data}, dtype={dt})", lambda m, data=data, dt=dt: m.tensor(data, dtype=getattr(m, dt)),
       f"value cannot be converted to type {dt} without overflow")
      for data, dt in ((float("nan"), "int64"), ([1.0, float("inf")], "int32"), (1e300, "uint8"),
                       (-0.5, "uint8"), ([300.0, 2], "uint8"), ([[1.5, 2], [3e10, 4]], "int32"))],
]



ERRORS += [  # two elements or more are checked, and a masked fill always
    *[(f"fill: {name}", body, "value cannot be converted to type c10::Half without overflow")
      for name, body in (
          ("full_like three float16 elements with 1e10",
           lambda m: m.full_like(m.ones(3, dtype=m.float16), 1e10)),
          ("full (2,) with 2**40 into float16", lambda m: m.full((2,), 2 ** 40, dtype=m.float16)),
          ("fill_ twenty float16 elements with 1e10", lambda m: m.zeros(20, dtype=m.float16).fill_(1e10)),
          ("masked_fill one float16 element with 1e10",
           lambda m: m.zeros(1, dtype=m.float16).masked_fill(m.tensor([True]), 1e10)))],
    ("fill: one int32 element with 2**40", lambda m: m.zeros(1, dtype=m.int32).fill_(2 ** 40),
     "value cannot be converted to type int without overflow"),
    ("fill: bools with 2**64", lambda m: m.full((1,), 2 ** 64, dtype=m.bool), "int too big to convert"),
]



ERRORS += [
    ("randint(0, 10)", lambda m: m.randint(0, 10),
     "argument 'size' (position 2) must be tuple of ints, not int"),
    ("randint(10)", lambda m: m.randint(10), "randint() received an invalid combination of arguments"),
    ("randint(5, 2, (3,))", lambda m: m.randint(5, 2, (3,)), "expects 'from' to be less than 'to'"),
]



ERRORS += [
    ("compile(3)", lambda m: m.compile(3), "A callable function is expected, but <class 'int'> is provided."),
    ("numel(3)", lambda m: m.numel(3), "numel(): argument 'input' (position 1) must be Tensor, not int"),
]



ERRORS += [("out=: cat of floats into int64",
            lambda m: m.cat([m.tensor([1.0, 2.0])], out=m.zeros(2, dtype=m.int64)),
            "input types can't be cast to the desired output type Long")]


@pytest.mark.parametrize("body, phrase", [pytest.param(b, p, id=n) for n, b, p in ERRORS])
def test_error_like_torch(body, phrase):
    compare(body, phrase=phrase)


# repr: the line layout torch gives (its width is that of the nonzero finite values: 1 when
# there are none), suffixes that wrap and then follow on the new line, creation overflow
REPRS = [
    ("twenty zeros", lambda m: m.zeros(20)), ("thirty nans", lambda m: m.full((30,), float("nan"))),
    ("zeros and nans", lambda m: m.tensor([0.0, float("nan")] * 12)),
    ("rows of zeros", lambda m: m.zeros(2, 2, 30)),
    ("zeros in float64", lambda m: m.zeros(20, dtype=m.float64)),
    ("ones, zeros and infs", lambda m: m.tensor([1.0, 0.0, float("inf")] * 10)),
    ("two suffixes, wrapped", lambda m: m.tensor([1.5] * 7, dtype=m.float16, requires_grad=True)),
    ("a grad_fn after a dtype", lambda m: m.tensor([1.5] * 20, dtype=m.float64, requires_grad=True) * 2),
    ("float16 overflow is inf", lambda m: m.tensor([70000.0, 1.0], dtype=m.float16)),
]


@pytest.mark.parametrize("make", [c[1] for c in REPRS], ids=[c[0] for c in REPRS])
def test_repr_like_torch(make):
    assert repr(make(tape)).replace("tape.", "M.") == repr(make(torch)).replace("torch.", "M.")


def test_tensor_of_a_tensor_warns_as_torch():
    """torch.tensor(t) recommends detach().clone(), from the caller's line; a list of
    tensors, as_tensor and the legacy Tensor(t) say nothing."""
    for m in (tape, torch):
        src = m.tensor([1.0, 2.0])
        for data, dtype in ((src, None), (m.tensor(3), None), (src, m.float64)):
            with pytest.warns(UserWarning, match=re.escape(
                    "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
                    "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
                    f"{m.__name__}.tensor(sourceTensor).")) as caught:
                m.tensor(data, dtype=dtype)
            assert caught[0].filename == __file__, (m.__name__, caught[0].filename)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m.tensor([src[0], src[1]]), m.as_tensor(src), m.Tensor(src)


def test_a_decorated_class_warns_as_torch():
    with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
        tape.no_grad()(type("Probe", (), {}))


def test_x_T_of_a_non_matrix_warns_once_a_process():
    tape.ops.shape._T_WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tape.ones(3).T, tape.ones(2, 3, 4).T
    assert sum("The use of `x.T`" in str(w.message) for w in caught) == 1


def test_backward_with_create_graph_warns_once_a_process():
    tape.engine._CYCLE_WARNED.clear()
    x = tape.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Using backward\\(\\) with create_graph=True will create a "
                                         "reference cycle") as caught:
        (x * x).sum().backward(create_graph=True)
        (x * x).sum().backward(create_graph=True)
    assert sum("reference cycle" in str(w.message) for w in caught) == 1


def test_float_of_a_tensor_that_requires_grad_warns_once_a_process_and_int_never():
    sys.modules["tape.tensor"]._SCALAR_WARNED.clear()
    x = tape.tensor(2.0, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int(x)
        float(x)
        float(x)
        x.item()
    assert [str(w.message).split(" may")[0] for w in caught] == [
        "Converting a tensor with requires_grad=True to a scalar"]


def test_integer_overflow_on_creation_like_torch():
    compare(lambda m: m.tensor([[3e9]], dtype=m.int32), phrase="value cannot be converted to type int32 "
                                                                "without overflow")


# Node._saved_<name>: the non-tensor values torch keeps on a node, under its names
def _saved(make, *names):
    def body(m):
        node = make(m, m.tensor([[1.0, 3.0], [4.0, 2.0]], dtype=m.float64, requires_grad=True)).grad_fn
        return [getattr(node, f"_saved_{n}") for n in names]
    return body


SAVED = [
    *[(f"pow of two tensors, {name}", _saved(
        lambda m, x, rg=rg: x ** m.tensor([[1.0, 2.0], [3.0, 0.5]], dtype=m.float64, requires_grad=rg),
        "self", "exponent", "result")) for name, rg in (("the exponent needs no gradient", False),
                                                       ("both need one", True))],
    ("var's correction", _saved(lambda m, x: x.var(0), "correction", "dim", "keepdim")),
    ("var()'s correction", _saved(lambda m, x: x.var(), "correction")),
    ("std's correction", _saved(lambda m, x: x.std(1, correction=0), "correction")),
    ("max's indices", _saved(lambda m, x: x[0].max(0)[0], "indices", "dim", "keepdim")),
    ("amin()'s dim", _saved(lambda m, x: x.amin(), "dim", "keepdim")),
    ("sum(dim)", _saved(lambda m, x: x.sum(1), "dim", "keepdim", "self_sym_sizes")),
    ("sum()", _saved(lambda m, x: x.sum(), "self_sym_sizes")),
    ("mean(dim)", _saved(lambda m, x: x.mean(0, keepdim=True), "dim", "keepdim", "self_sym_sizes",
                         "self_sym_numel")),
    ("mean()", _saved(lambda m, x: x.mean(), "self_sym_sizes", "self_sym_numel")),
    ("add's alpha", _saved(lambda m, x: x + x, "alpha")),
    ("sub's alpha", _saved(lambda m, x: m.sub(x, x, alpha=2), "alpha")),
    ("clamp's bounds", _saved(lambda m, x: x.clamp(0.5), "min", "max")),
    ("transpose", _saved(lambda m, x: x.transpose(0, 1), "dim0", "dim1")),
    ("permute", _saved(lambda m, x: x.permute(1, 0), "dims")),
    ("unsqueeze", _saved(lambda m, x: x.unsqueeze(1), "dim")),
    ("squeeze(dim)", _saved(lambda m, x: x[:1].squeeze(0), "dim", "self_sym_sizes")),
    ("squeeze(dims)", _saved(lambda m, x: x[:1].squeeze((0, 1)), "dim", "self_sym_sizes")),
    ("view", _saved(lambda m, x: x.view(4), "self_sym_sizes")),
    ("expand", _saved(lambda m, x: x[:1].expand(3, 2), "self_sym_sizes")),
    ("select", _saved(lambda m, x: x[1], "dim", "index", "self_sym_sizes")),
    ("unbind", _saved(lambda m, x: x.unbind(1)[0], "dim")),
    ("stack", _saved(lambda m, x: m.stack([x, x], 1), "dim")),
    ("split", _saved(lambda m, x: x.split(1)[0], "dim", "split_size", "self_sym_sizes")),
    ("split_with_sizes", _saved(lambda m, x: x.split([1, 1], 1)[0], "dim", "split_sizes")),
    # the sizes of an input that needs no gradient are kept too (tape's record had none: a
    # TypeError); its strides are () as torch's
    ("mm, self needs no gradient", _saved(lambda m, x: m.ones(3, 2, dtype=m.float64) @ x,
                                          "self_sym_sizes", "self_sym_strides", "mat2_sym_sizes")),
    ("mm, mat2 needs no gradient", _saved(lambda m, x: x @ m.ones(2, 4, dtype=m.float64),
                                          "mat2_sym_sizes", "mat2_sym_strides", "self_sym_sizes")),
    ("linear, the input needs no gradient", _saved(
        lambda m, x: m.nn.functional.linear(m.ones(3, 2, dtype=m.float64), x, m.ones(2, dtype=m.float64)),
        "mat1_sym_sizes", "mat1_sym_strides", "mat2_sym_sizes")),
]


# dir(node) lists its _saved_ attributes, as torch's does
SAVED += [(f"dir of {name}", lambda m, make=make: sorted(
    n for n in dir(make(m, m.ones(2, 3, dtype=m.float64, requires_grad=True)).grad_fn)
    if n.startswith("_saved_")))
    for name, make in (("mul", lambda m, x: x * x), ("sum", lambda m, x: x.sum()),
                       ("sum(dim)", lambda m, x: x.sum(1)), ("transpose", lambda m, x: x.t()),
                       ("amax", lambda m, x: x.amax(1)))]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in SAVED])
def test_saved_attributes_like_torch(body):
    compare(body)


# float16 ops torch computes in float32 and rounds once: the same values to the last bit
_HALF = np.random.default_rng(0).standard_normal(200).tolist()


@pytest.mark.parametrize("name, fn", [
    ("softmax", lambda F, x: F.softmax(x, 0)), ("gelu", lambda F, x: F.gelu(x)),
    ("gelu tanh", lambda F, x: F.gelu(x, approximate="tanh")), ("silu", lambda F, x: F.silu(x))])
def test_float16_ops_round_once_as_torch(name, fn):
    a, b = (np.array(fn(m.nn.functional, m.tensor(_HALF, dtype=m.float16)).tolist()) for m in (tape, torch))
    np.testing.assert_array_equal(a, b)


def _half_gradient(m, name):
    """A float16 gradient summed over many entries: over broadcast dims, or gather's scatter-add."""
    rng = np.random.default_rng(11)
    x = m.tensor(rng.uniform(0.5, 2.0, (3, 5)), dtype=m.float16, requires_grad=True)
    w = m.tensor(rng.uniform(0.5, 2.0, (700, 3, 5)), dtype=m.float16)
    if name == "expand":
        (x.expand(700, 3, 5) * w).sum().backward()
    elif name == "broadcast mul":
        (x * w).sum().backward()
    elif name == "batched matmul":
        (w.transpose(1, 2) @ x).sum().backward()
    else:
        index = m.tensor(rng.integers(0, 5, (3, 900)))
        x.gather(1, index).backward(m.tensor(rng.uniform(0.5, 2.0, (3, 900)), dtype=m.float16))
    return np.array(x.grad.tolist())


@pytest.mark.parametrize("name", ["expand", "broadcast mul", "batched matmul", "gather"])
def test_float16_gradients_summed_over_many_entries_round_once_as_torch(name):
    # torch sums them in float32 (index_add and index_put do not, and neither does tape)
    np.testing.assert_array_equal(_half_gradient(tape, name), _half_gradient(torch, name))


@pytest.mark.parametrize("reduce", [lambda x: x.var(), lambda x: x.std(), lambda x: x.var(0),
                                    lambda x: x.std(0)], ids=["var", "std", "var(0)", "std(0)"])
def test_var_and_std_of_nothing_differentiate_without_numpys_warnings(reduce):
    """torch's backward of an empty var/std warns nothing (its forward's degrees-of-freedom
    warning aside): numpy's "Mean of empty slice" must not leak, or warnings-as-errors fails."""
    def body(m):
        x = m.zeros(0, dtype=m.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            y = reduce(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y.backward()
        return x.grad
    compare(body)


_POW_SPECIAL = [0.0, -0.0, float("inf"), float("-inf"), NAN, 1e20, -1e20, 3e19, 1e-30, -1e-30, -2.0, 2.0]


def _same_bits_where_special(a, b):
    """Equal values, NaN where the other has NaN, and zeros of the same sign."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    np.testing.assert_array_equal(a[ok], b[ok])
    np.testing.assert_array_equal(np.signbit(a[ok]), np.signbit(b[ok]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("e", [0.5, -0.5, -1, 2, 3, -2])
def test_pow_by_these_numbers_takes_torchs_paths(e, dtype):
    """torch computes x ** e by sqrt, 1 / sqrt, 1 / x, x * x, x * x * x and 1 / (x * x): at -0.
    and -inf, where x * x overflows, and (but for sqrt, whose float32 torch rounds its own
    way) bit for bit everywhere. (tape's pow gave (-0.) ** -0.5 = inf, not -inf, 1e20 ** -2 =
    1e-40, not 0, and a third of x ** 3 and x ** -2 differed in the last bit.)"""
    rng = np.random.default_rng(7)
    values = np.array(_POW_SPECIAL + ([] if e == 0.5 else list(rng.uniform(-10, 10, 500))), dtype=dtype)
    out = {}
    for m in (tape, torch):
        x = m.tensor(values, requires_grad=True)
        y = x ** e
        y.backward(m.ones_like(y))
        out[m] = (y.detach().numpy(), x.grad.numpy())
    _same_bits_where_special(out[tape][0], out[torch][0])
    ga, gb = out[tape][1], out[torch][1]  # e * x ** (e - 1): one of the paths, or pow itself
    if e - 1 in (-0.5, 2, -2, 1):
        _same_bits_where_special(ga[:len(_POW_SPECIAL)], gb[:len(_POW_SPECIAL)])
    else:  # the two libraries' pow: the same infs, NaNs and zeros, values to the last bits
        special = np.isnan(gb) | np.isinf(gb) | (gb == 0)
        _same_bits_where_special(ga[special], gb[special])
    np.testing.assert_allclose(ga, gb, rtol=2e-6, equal_nan=True)


@pytest.mark.parametrize("base, exponent", [("float32", "float64"), ("float64", "float64"),
                                            ("float64", "float32")])
def test_pow_exponent_gradient_takes_the_log_in_the_results_dtype(base, exponent):
    """(a float32 base's log, for a float64 exponent, gave the float64 gradient float32's
    accuracy: 0.91229646652 where torch gives 0.91229649324)"""

    def body(m):
        b = m.tensor([1.5, 3.0, 0.0, 0.7], dtype=getattr(m, base), requires_grad=True)
        e = m.tensor([2.0, 3.0, 1.5, -0.5], dtype=getattr(m, exponent), requires_grad=True)
        (b ** e).sum().backward()
        return e.grad, b.grad

    compare(body, rtol=1e-15, atol=0)


def _dof_warnings(m, shape, dim, correction):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        m.ones(*shape).var(dim, correction=correction)
    return [str(w.message).split(".")[0] for w in seen]


@pytest.mark.parametrize("shape, dim, correction", [
    ((2, 0, 3), 0, 1), ((2, 0, 3), 0, 0), ((2, 0, 3), 1, 0), ((0,), 0, 0), ((2, 3), 0, 2),
    ((2, 3), 0, 0), ((1,), None, 1), ((4, 5, 6), (0, 2), 1)])
def test_var_warns_of_degrees_of_freedom_as_torch(shape, dim, correction):
    # torch's reduction factor is input numel / output numel: 0 when the output is empty
    assert _dof_warnings(tape, shape, dim, correction) == _dof_warnings(torch, shape, dim, correction)


_PRINTED = [
    lambda m: m.tensor([1.23456, 2.5]), lambda m: m.tensor([1e-5, 1.0]), lambda m: m.tensor([1.0, 2.0]),
    lambda m: m.tensor([1e9, 1.0]), lambda m: m.tensor([0.0, -0.0, float("nan"), float("inf")]),
    lambda m: m.arange(10.0), lambda m: m.arange(6.0).reshape(2, 3) / 7, lambda m: m.arange(2000.0) / 3,
    lambda m: m.arange(40).reshape(5, 8),
    lambda m: m.tensor([1.5, 2.25], requires_grad=True, dtype=m.float64),
]


@pytest.mark.parametrize("options", [
    {"precision": 2}, {"precision": 0}, {"precision": 7}, {"sci_mode": True}, {"sci_mode": False},
    {"precision": 2, "sci_mode": False}, {"threshold": 5, "edgeitems": 1, "linewidth": 20},
    {"linewidth": 30}, {"profile": "short"}, {"profile": "full"}, {"profile": "short", "precision": 5},
], ids=repr)
def test_set_printoptions_prints_as_torch(options):
    printed = {}
    for m in (tape, torch):
        m.set_printoptions(**options)
        try:
            printed[m] = [repr(make(m)).replace(f"{m.__name__}.", "M.") for make in _PRINTED]
        finally:
            m.set_printoptions(profile="default")
    assert printed[tape] == printed[torch]
    assert [repr(make(tape)) for make in _PRINTED[:3]] == [
        "tensor([1.2346, 2.5000])", "tensor([1.0000e-05, 1.0000e+00])", "tensor([1., 2.])"]  # reset


def test_cuda_is_not_available_and_the_usual_device_choice_runs():
    device = "cuda" if tape.cuda.is_available() else "cpu"
    tape.cuda.manual_seed_all(0)
    assert (device, tape.cuda.device_count()) == ("cpu", 0)
    assert tape.ones(2, device=device, layout=tape.strided).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="tape runs on the CPU only"):
        tape.ones(2).cuda()
    tape.manual_seed(123)
    assert tape.initial_seed() == torch.manual_seed(123).initial_seed() == 123


@pytest.mark.parametrize("alpha", [3, 0.3, -2.5])
@pytest.mark.parametrize("name", ["add", "sub", "rsub"])
def test_float32_add_and_sub_with_alpha_fuse_the_multiply_as_torch(name, alpha):
    # torch's kernel is one fused multiply-add in float32: compared bit for bit
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(1000), rng.standard_normal(1000)
    got = [getattr(m, name)(m.tensor(a, dtype=m.float32), m.tensor(b, dtype=m.float32), alpha=alpha).numpy()
           for m in (tape, torch)]
    np.testing.assert_array_equal(got[0], got[1])


def test_rsub_with_alpha_promotes_before_it_multiplies():
    compare(lambda m: m.rsub(m.tensor([0.3333], dtype=m.float16), m.tensor([1.0]), alpha=3), rtol=0, atol=0)
