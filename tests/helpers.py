"""Shared helpers: run one test body with `tape` and with `torch`, and compare what came out.

A test body is a function of the module (`mod`): `tape` or `torch`. `summarize` turns what it
returns (tensors, nodes, numbers, nested tuples/lists/dicts) into plain Python, so the two
results compare with `assert_same`; `outcome` also captures an exception as (type, message).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

import tape

MODULES = (tape, torch)
MODULE_IDS = ("tape", "torch")


def is_tensor(x) -> bool:
    return isinstance(x, (tape.Tensor, torch.Tensor))


def is_node(x) -> bool:
    return not is_tensor(x) and hasattr(x, "next_functions") and hasattr(x, "name")


def dtype_name(dt) -> str:
    """'float32' for tape.float32 and torch.float32."""
    return str(dt).split(".")[-1]


def values(t) -> np.ndarray:
    """A tensor's values as a fresh numpy array (works with requires_grad)."""
    return np.array(t.detach().numpy(), copy=True)


def kind(node) -> str | None:
    return None if node is None else type(node).__name__


def node_tree(node, depth: int = 50):
    """A node as (name, ((child tree, output index), ...)): the graph's shape, by names."""
    if node is None:
        return None
    if depth == 0:
        return (kind(node), "...")
    return (kind(node), tuple((node_tree(n, depth - 1), i) for n, i in node.next_functions))


class Tensor_:
    """A summarized tensor: dtype, shape, values, and its autograd flags."""

    __slots__ = ("dtype", "shape", "values", "requires_grad", "is_leaf", "grad_fn")

    def __init__(self, t):
        self.dtype = dtype_name(t.dtype)
        self.shape = tuple(t.shape)
        self.values = values(t)
        self.requires_grad = t.requires_grad
        self.is_leaf = t.is_leaf
        self.grad_fn = kind(t.grad_fn)

    def __repr__(self):
        return (f"T({self.dtype}, {self.shape}, {self.values.tolist()}, rg={self.requires_grad}, "
                f"leaf={self.is_leaf}, fn={self.grad_fn})")


def summarize(x):
    """Plain Python for anything a test body returns (tensors, nodes, containers, numbers)."""
    if is_tensor(x):
        return Tensor_(x)
    if is_node(x):
        return node_tree(x)
    if isinstance(x, (tuple, list)):
        return type(x)(summarize(y) for y in x) if type(x) in (tuple, list) else tuple(
            summarize(y) for y in x)
    if isinstance(x, dict):
        return {k: summarize(v) for k, v in x.items()}
    if isinstance(x, (tape.dtype, torch.dtype)):
        return ("dtype", dtype_name(x))
    if isinstance(x, BaseException):
        return (type(x).__name__, str(x))
    return x


def assert_same(a, b, rtol=1e-5, atol=1e-6, path="result"):
    """`a` (from tape) and `b` (from torch) agree: types, dtypes, shapes, values, names."""
    if isinstance(a, Tensor_) or isinstance(b, Tensor_):
        assert isinstance(a, Tensor_) and isinstance(b, Tensor_), f"{path}: {a!r} vs {b!r}"
        for attr in ("dtype", "shape", "requires_grad", "is_leaf", "grad_fn"):
            assert getattr(a, attr) == getattr(b, attr), (
                f"{path}.{attr}: tape {getattr(a, attr)!r}, torch {getattr(b, attr)!r}")
        if a.values.dtype.kind in "fc":
            np.testing.assert_allclose(a.values, b.values, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=path)
            zeros = (a.values == 0) & (b.values == 0)  # signed zeros: -0.0 shows in a repr
            np.testing.assert_array_equal(np.signbit(a.values[zeros]), np.signbit(b.values[zeros]),
                                          err_msg=f"{path}: the signs of zeros")
        else:
            np.testing.assert_array_equal(a.values, b.values, err_msg=path)
        return
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, rtol, atol, f"{path}[{i}]")
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: {a!r} vs {b!r}"
        for k in a:
            assert_same(a[k], b[k], rtol, atol, f"{path}[{k!r}]")
        return
    if isinstance(a, float) and isinstance(b, float):
        assert type(a) is type(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=path)
        return
    assert type(a) is type(b), f"{path}: type {type(a).__name__} vs {type(b).__name__} ({a!r}, {b!r})"
    assert a == b, f"{path}: tape {a!r}, torch {b!r}"


def outcome(fn, mod):
    """fn(mod) summarized, or ('raised', exception type name, message) if it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return summarize(fn(mod))
    except Exception as exc:  # compared by type and key phrase
        return ("raised", type(exc).__name__, str(exc))


def compare(fn, *, rtol=1e-5, atol=1e-6, phrase=None):
    """Run `fn(tape)` and `fn(torch)`; their results (or errors) must agree.

    When both raise, the exception types must be the same and, if `phrase` is given, both
    messages must contain it. Returns tape's summarized outcome.
    """
    a, b = outcome(fn, tape), outcome(fn, torch)
    raised_a = isinstance(a, tuple) and len(a) == 3 and a[0] == "raised"
    raised_b = isinstance(b, tuple) and len(b) == 3 and b[0] == "raised"
    assert raised_a == raised_b, f"tape: {a!r}\ntorch: {b!r}"
    if raised_a:
        assert a[1] == b[1], f"exception types differ: tape {a!r}, torch {b!r}"
        if phrase is not None:
            assert phrase in a[2], f"tape's message lacks {phrase!r}: {a[2]}"
            assert phrase in b[2], f"torch's message lacks {phrase!r}: {b[2]}"
        return a
    assert phrase is None, f"expected an error with {phrase!r}; both ran: {a!r}"
    assert_same(a, b, rtol, atol)
    return a


def grads(*tensors):
    """The .grad of each tensor (None where there is none), without the non-leaf warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(t.grad for t in tensors)


def big_example(mod):
    """The tutorial's last example, built with `mod` (tape or torch); tensors by name."""
    a, b = mod.tensor(2.0), mod.tensor(2.0)
    c = a * b
    c.requires_grad = True
    d = mod.tensor(2.0)
    e = c * d
    f = mod.tensor(2.0)
    g = e * f
    h = mod.tensor(2.0, requires_grad=True)
    i = g / h
    j = i + h
    k = j * i
    return dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h, i=i, j=j, k=k)


def make_cube(mod):
    """A custom Function of `mod`: x**3 * scale, saving x and setting ctx.scale."""
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


def doubling_in_place(mod):
    """A custom Function (built with `mod`, tape or torch) that doubles its input in place
    and marks it dirty; its gradient is 2."""

    class Double(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double
