"""Tensors: dtype inference and promotion, requires_grad rules, values out, repr (issue 2).

Every body runs with `mod` = tape and = torch (the `mod` fixture), or through `compare`,
which runs it with both and checks that the results agree.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from helpers import compare, dtype_name, kind

import tape

# ---------------------------------------------------------------------------------------
# dtype inference: Python float -> float32, int -> int64, bool -> bool; arrays keep theirs

DATA = [
    ("float", lambda mod: 1.5, "float32"),
    ("int", lambda mod: 2, "int64"),
    ("bool", lambda mod: True, "bool"),
    ("neg int", lambda mod: -7, "int64"),
    ("list of ints", lambda mod: [1, 2, 3], "int64"),
    ("list of floats", lambda mod: [1.0, 2.5], "float32"),
    ("mixed int float", lambda mod: [1, 2.0], "float32"),
    ("mixed bool int", lambda mod: [True, 2], "int64"),
    ("list of bools", lambda mod: [True, False], "bool"),
    ("nested ints", lambda mod: [[1, 2], [3, 4]], "int64"),
    ("nested floats", lambda mod: [[1.0], [2.0], [3.0]], "float32"),
    ("nested mixed", lambda mod: [[1, 2], [3.5, 4]], "float32"),
    ("tuple", lambda mod: (1.0, 2.0), "float32"),
    ("empty list", lambda mod: [], "float32"),
    ("np float64", lambda mod: np.array([1.0, 2.0]), "float64"),
    ("np float32", lambda mod: np.array([1.0, 2.0], dtype=np.float32), "float32"),
    ("np float16", lambda mod: np.array([1.0, 2.0], dtype=np.float16), "float16"),
    ("np int32", lambda mod: np.array([1, 2], dtype=np.int32), "int32"),
    ("np int64", lambda mod: np.array([[1, 2]], dtype=np.int64), "int64"),
    ("np uint8", lambda mod: np.array([1, 2], dtype=np.uint8), "uint8"),
    ("np bool", lambda mod: np.array([True, False]), "bool"),
    ("np 0-d", lambda mod: np.array(3.0), "float64"),
    ("np scalar float64", lambda mod: np.float64(2.0), "float64"),
    ("np scalar int32", lambda mod: np.int32(3), "int32"),
]


@pytest.mark.parametrize("make, expected", [c[1:] for c in DATA], ids=[c[0] for c in DATA])
def test_tensor_infers_dtype_as_torch(mod, make, expected):
    t = mod.tensor(make(mod))
    assert dtype_name(t.dtype) == expected
    assert t.is_leaf and not t.requires_grad and t.grad_fn is None


@pytest.mark.parametrize("make", [c[1] for c in DATA], ids=[c[0] for c in DATA])
def test_tensor_values_and_shapes_equal_torch(make):
    compare(lambda mod: mod.tensor(make(mod)))


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "int64", "bool", "float", "double", "long"])
def test_explicit_dtype(mod, dtype):
    t = mod.tensor([0, 1, 2], dtype=getattr(mod, dtype))
    assert t.dtype == getattr(mod, dtype)
    compare(lambda m: m.tensor([0, 1, 2], dtype=getattr(m, dtype)))


def test_tensor_copies_numpy_data(mod):
    a = np.array([1.0, 2.0])
    t = mod.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory(mod):
    a = np.array([1.0, 2.0])
    t = mod.from_numpy(a)
    a[0] = 100.0
    assert t.tolist() == [100.0, 2.0]
    assert dtype_name(t.dtype) == "float64"


# ---------------------------------------------------------------------------------------
# Type promotion for + - * / with Python scalars, 0-d tensors and other dtypes

PROMOTION = [
    # (id, expression over `mod`, expected dtype)
    ("int64 * 2.5", "mod.tensor([1, 2, 3]) * 2.5", "float32"),
    ("2.5 * int64", "2.5 * mod.tensor([1, 2, 3])", "float32"),
    ("int64 + 1", "mod.tensor([1, 2, 3]) + 1", "int64"),
    ("int64 + True", "mod.tensor([1, 2, 3]) + True", "int64"),
    ("int64 - 1.5", "mod.tensor([1, 2, 3]) - 1.5", "float32"),
    ("1.5 - int64", "1.5 - mod.tensor([1, 2, 3])", "float32"),
    ("2 - int64", "2 - mod.tensor([1, 2, 3])", "int64"),
    ("int/int", "mod.tensor([1, 2, 3]) / mod.tensor([2, 2, 2])", "float32"),
    ("int/2", "mod.tensor([1, 2, 3]) / 2", "float32"),
    ("2/int", "2 / mod.tensor([1, 2, 4])", "float32"),
    ("int0d/int0d", "mod.tensor(3) / mod.tensor(2)", "float32"),
    ("f32[3] * f64 0-d", "mod.tensor([1.0, 2.0, 3.0]) * mod.tensor(2.0, dtype=mod.float64)", "float32"),
    ("f64 0-d * f32[3]", "mod.tensor(2.0, dtype=mod.float64) * mod.tensor([1.0, 2.0, 3.0])", "float32"),
    ("f32[3] + f64[3]", "mod.tensor([1.0, 2.0, 3.0]) + mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64)",
     "float64"),
    ("f32 0-d * int64[3]", "mod.tensor(2.0) * mod.tensor([1, 2, 3])", "float32"),
    ("f64 0-d * int64[3]", "mod.tensor(2.0, dtype=mod.float64) * mod.tensor([1, 2, 3])", "float64"),
    ("int64 0-d * f32[2]", "mod.tensor(3) * mod.tensor([1.5, 2.5])", "float32"),
    ("int32[2] * int64 0-d", "mod.tensor([1, 2], dtype=mod.int32) * mod.tensor(3)", "int32"),
    ("int32[2] + int64[2]", "mod.tensor([1, 2], dtype=mod.int32) + mod.tensor([3, 4])", "int64"),
    ("int32 * 2.5", "mod.tensor([1, 2], dtype=mod.int32) * 2.5", "float32"),
    ("f16 * 2.5", "mod.tensor([1.0, 2.0], dtype=mod.float16) * 2.5", "float16"),
    ("f16 * f64 0-d", "mod.tensor([1.0, 2.0], dtype=mod.float16) * mod.tensor(2.0, dtype=mod.float64)",
     "float16"),
    ("f64 * 2", "mod.tensor([1.0, 2.0], dtype=mod.float64) * 2", "float64"),
    ("f64 0-d * 2.5", "mod.tensor(2.0, dtype=mod.float64) * 2.5", "float64"),
    ("int 0-d * 2.5", "mod.tensor(2) * 2.5", "float32"),
    ("bool + bool", "mod.tensor([True, False]) + mod.tensor([True, True])", "bool"),
    ("bool * 2", "mod.tensor([True, False]) * 2", "int64"),
    ("bool * 1.5", "mod.tensor([True, False]) * 1.5", "float32"),
    ("bool / bool", "mod.tensor([True, False]) / mod.tensor([True, True])", "float32"),
    ("uint8 + int64 0-d", "mod.tensor([1, 2], dtype=mod.uint8) + mod.tensor(300)", "uint8"),
    ("f32 - int 0-d", "mod.tensor([1.5]) - mod.tensor(1)", "float32"),
    ("f32 ** 2", "mod.tensor([1.5, 2.0]) ** 2", "float32"),
    ("int64 ** 2", "mod.tensor([1, 2]) ** 2", "int64"),
    ("int64 ** 0.5", "mod.tensor([1, 4]) ** 0.5", "float32"),
    ("neg int64", "-mod.tensor([1, 2])", "int64"),
]


@pytest.mark.parametrize("expr, expected", [c[1:] for c in PROMOTION], ids=[c[0] for c in PROMOTION])
def test_promotion_as_torch(mod, expr, expected):
    out = eval(expr, {"mod": mod})
    assert dtype_name(out.dtype) == expected


@pytest.mark.parametrize("expr", [c[1] for c in PROMOTION], ids=[c[0] for c in PROMOTION])
def test_promotion_values_equal_torch(expr):
    compare(lambda mod: eval(expr, {"mod": mod}))


@pytest.mark.parametrize("expr", [c[1] for c in PROMOTION if "**" not in c[1] and "bool" not in c[1]
                                  and "-mod" not in c[1]],
                         ids=[c[0] for c in PROMOTION if "**" not in c[1] and "bool" not in c[1]
                              and "-mod" not in c[1]])
def test_promotion_with_grad_gives_grads_in_input_dtypes(expr):
    """Floating inputs require grad; their gradients come back in their own dtype."""

    def body(mod):
        leaves = []

        def tensor(*args, **kwargs):
            t = mod.tensor(*args, **kwargs)
            if t.dtype.is_floating_point:
                t.requires_grad_()
                leaves.append(t)
            return t

        ns = type("M", (), {k: getattr(mod, k) for k in ("float64", "float16", "int32", "uint8")})
        ns.tensor = staticmethod(tensor)
        out = eval(expr, {"mod": ns})
        if out.requires_grad:
            out.sum().backward()
        return out, [t.grad for t in leaves]

    compare(body)


# ---------------------------------------------------------------------------------------
# requires_grad: only floating tensors, and only on leaves

_CREATED = "Only Tensors of floating point and complex dtype can require gradients"
NOT_FLOAT = [
    ("tensor(int)", lambda mod: mod.tensor([1, 2], requires_grad=True), _CREATED),
    ("tensor(bool)", lambda mod: mod.tensor([True], requires_grad=True), _CREATED),
    ("tensor(int32)", lambda mod: mod.tensor([1], dtype=mod.int32, requires_grad=True),
     _CREATED),
    ("zeros(int64)", lambda mod: mod.zeros(2, dtype=mod.int64, requires_grad=True),
     _CREATED),
    ("setter", lambda mod: setattr(mod.tensor([1, 2]), "requires_grad", True),
     "only Tensors of floating point and complex dtype can require gradients"),
    # torch words this one differently
    ("requires_grad_()", lambda mod: mod.tensor([1, 2]).requires_grad_(),
     "only Tensors of floating point dtype can require gradients"),
    ("bool requires_grad_()", lambda mod: mod.tensor([True]).requires_grad_(),
     "only Tensors of floating point dtype can require gradients"),
]


@pytest.mark.parametrize("fn, phrase", [c[1:] for c in NOT_FLOAT], ids=[c[0] for c in NOT_FLOAT])
def test_only_floating_tensors_can_require_grad(mod, fn, phrase):
    with pytest.raises(RuntimeError, match=phrase):
        fn(mod)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_floating_tensors_can_require_grad(mod, dtype):
    t = mod.tensor([1.0], dtype=getattr(mod, dtype), requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None and t.grad is None


def test_requires_grad_setter_on_leaves(mod):
    t = mod.tensor([1.0, 2.0])
    t.requires_grad = True
    assert t.requires_grad and t.is_leaf
    t.requires_grad = False
    assert not t.requires_grad
    y = t * 2
    assert not y.requires_grad and y.is_leaf


@pytest.mark.parametrize("value", [True, False])
def test_requires_grad_setter_refused_on_non_leaf(mod, value):
    y = mod.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = value
    assert y.requires_grad


def test_requires_grad_setter_error_messages_equal_torch():
    for value in (True, False):
        def body(mod, value=value):
            y = mod.tensor([1.0], requires_grad=True) * 2
            y.requires_grad = value

        a = compare(body, phrase="you can only change requires_grad flags of leaf variables")
        if not value:
            assert "var.detach()" in a[2]


def test_requires_grad_method(mod):
    t = mod.tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert t.requires_grad_(False) is t and not t.requires_grad
    y = mod.tensor([1.0], requires_grad=True) * 2
    assert y.requires_grad_() is y  # already requires grad: allowed on a non-leaf
    assert y.requires_grad_(True) is y
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)


def test_leaf_that_becomes_required_starts_a_graph(mod):
    a, b = mod.tensor(2.0), mod.tensor(2.0)
    c = a * b
    c.requires_grad = True
    e = c * 3
    e.backward()
    assert c.is_leaf and c.grad_fn is None and c.grad.item() == 3.0
    assert a.grad is None


# ---------------------------------------------------------------------------------------
# Tensor API: retain_grad, detach, clone, item, tolist, numpy, .grad of a non-leaf


def test_retain_grad(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    assert not b.retains_grad
    assert b.retain_grad() is None
    assert b.retains_grad and not a.retains_grad
    c = b * b
    assert not c.retains_grad
    c.sum().backward(retain_graph=True)
    assert b.grad.tolist() == [4.0, 8.0] and a.grad.tolist() == [8.0, 16.0]
    c.sum().backward()
    assert b.grad.tolist() == [8.0, 16.0] and a.grad.tolist() == [16.0, 32.0]


def test_retain_grad_on_leaf_is_a_no_op_and_refused_without_grad(mod):
    a = mod.tensor([1.0], requires_grad=True)
    a.retain_grad()
    assert not a.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        mod.tensor([1.0]).retain_grad()


def test_grad_of_non_leaf_warns_and_is_none(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert b.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert a.grad is not None  # leaves: no warning
        b.retain_grad()
        assert b.grad is None  # retained: no warning


def test_grad_of_non_leaf_given_one_reads_without_a_warning(mod):
    """torch warns only while a non-leaf has no .grad: one assigned reads back quietly."""
    b = mod.tensor([1.0, 2.0], requires_grad=True) * 2
    b.grad = mod.tensor([3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert b.grad.tolist() == [3.0, 4.0]
    b.grad = None
    with pytest.warns(UserWarning, match="retain_grad"):
        assert b.grad is None


def test_detach_shares_storage_and_version(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = a * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert d._version == y._version == 0
    d.add_(1)
    assert y.tolist() == [4.0, 7.0] and y._version == 1 and kind(y.grad_fn) == "MulBackward0"
    compare(lambda mod: (lambda y: (y.detach().add_(1), y, y._version))(
        mod.tensor([1.0, 2.0], requires_grad=True) * 3))


def test_detach_in_place(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = a * 3
    assert y.detach_() is y
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        (a * 2)[0:1].detach_()


def test_clone(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    c = a.clone()
    assert kind(c.grad_fn) == "CloneBackward0" and not c.is_leaf and c._version == 0
    c.add_(1)
    assert a.tolist() == [1.0, 2.0] and a._version == 0
    (c * c).sum().backward()
    assert a.grad.tolist() == [4.0, 6.0]
    p = mod.tensor([1, 2]).clone()
    assert p.is_leaf and not p.requires_grad and dtype_name(p.dtype) == "int64"


ITEMS = [
    ("float", lambda mod: mod.tensor(1.5), float, 1.5),
    ("int", lambda mod: mod.tensor(3), int, 3),
    ("bool", lambda mod: mod.tensor(True), bool, True),
    ("1-element", lambda mod: mod.tensor([[2.5]]), float, 2.5),
    ("float64", lambda mod: mod.tensor(0.1, dtype=mod.float64), float, 0.1),
    ("requires grad", lambda mod: mod.tensor(2.0, requires_grad=True) * 3, float, 6.0),
    ("int32", lambda mod: mod.tensor([7], dtype=mod.int32), int, 7),
]


@pytest.mark.parametrize("make, typ, value", [c[1:] for c in ITEMS], ids=[c[0] for c in ITEMS])
def test_item_gives_python_numbers(mod, make, typ, value):
    out = make(mod).item()
    assert type(out) is typ and out == value


def test_item_of_many_elements_raises(mod):
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        mod.tensor([1.0, 2.0]).item()


TOLISTS = [
    ("0-d float", lambda mod: mod.tensor(2.5)),
    ("0-d int", lambda mod: mod.tensor(2)),
    ("1-d", lambda mod: mod.tensor([1.0, 2.5])),
    ("2-d int", lambda mod: mod.tensor([[1, 2], [3, 4]])),
    ("bool", lambda mod: mod.tensor([True, False])),
    ("empty", lambda mod: mod.tensor([])),
    ("requires grad", lambda mod: mod.tensor([1.0, 2.0], requires_grad=True) * 2),
    ("float32 rounding", lambda mod: mod.tensor([0.1, 0.2])),
]


@pytest.mark.parametrize("make", [c[1] for c in TOLISTS], ids=[c[0] for c in TOLISTS])
def test_tolist_equals_torch(make):
    a, b = make(tape).tolist(), make(torch).tolist()
    assert a == b
    assert repr(a) == repr(b)  # same Python types all the way down


def test_numpy(mod):
    t = mod.tensor([1.0, 2.0])
    n = t.numpy()
    assert isinstance(n, np.ndarray) and n.dtype == np.float32 and n.tolist() == [1.0, 2.0]
    n[0] = 5.0  # shares memory, as torch
    assert t.tolist() == [5.0, 2.0]
    assert np.asarray(mod.tensor([1, 2])).dtype == np.int64


@pytest.mark.parametrize("call", [lambda t: t.numpy(), lambda t: np.asarray(t)], ids=["numpy()", "asarray"])
def test_numpy_refused_when_requires_grad(mod, call):
    for t in (mod.tensor([1.0], requires_grad=True), mod.tensor([1.0], requires_grad=True) * 2):
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            call(t)
    t = mod.tensor([1.0], requires_grad=True)
    assert call(t.detach()).tolist() == [1.0]


def test_numpy_error_message_equals_torch():
    compare(lambda mod: mod.tensor([1.0], requires_grad=True).numpy(),
            phrase="Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")


# ---------------------------------------------------------------------------------------
# repr in torch's style

REPRS = [
    "mod.tensor(1.5)",
    "mod.tensor(2)",
    "mod.tensor(True)",
    "mod.tensor(-0.5)",
    "mod.tensor([1.0, 2.0, 3.0])",
    "mod.tensor([1.5, 2.25])",
    "mod.tensor([0.12345, 1.0])",
    "mod.tensor([-1.5, 2.0])",
    "mod.tensor([[1.0, 2.0], [3.0, 4.0]])",
    "mod.tensor([[1, 2], [3, 40]])",
    "mod.tensor([-1, 200])",
    "mod.tensor([True, False])",
    "mod.tensor([[True], [False]])",
    "mod.tensor([1.5, 2.0], dtype=mod.float64)",
    "mod.tensor(0.1, dtype=mod.float64)",
    "mod.tensor([1, 2], dtype=mod.int32)",
    "mod.tensor([1.0, 2.0], dtype=mod.float16)",
    "mod.tensor([1.0, 2.0], requires_grad=True)",
    "mod.tensor(2.5, requires_grad=True)",
    "mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)",
    "mod.tensor([1.0, 2.0], requires_grad=True) * 2",
    "mod.tensor([1.0, 2.0], requires_grad=True).exp()",
    "mod.tensor([[1.5, -2.0], [3.0, 4.0]], requires_grad=True).sum()",
    "mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True) / 3",
    "mod.tensor([1.0, 2.0]).exp()",
    "mod.tensor([100.0, 2.5])",
    "mod.tensor([123.456, 1.0])",
    "mod.tensor([1e-3, 1.0])",
    "mod.tensor([1e-5, 1.0])",
    "mod.tensor([1e-8])",
    "mod.tensor([1e10, 1.0])",
    "mod.tensor([1e8, 1.0])",
    "mod.tensor([1e9, 1.0])",
    "mod.tensor([1.0, 2000.0])",
    "mod.tensor([0.1, 1000.0])",
    "mod.tensor([0.1, 1001.0])",
    "mod.tensor(123456789.0)",
    "mod.tensor([1.23456789e-3, 5.0])",
    "mod.tensor([[1e-5, 1.0], [2.0, 3.0]])",
    "mod.tensor([float('nan'), 1.0])",
    "mod.tensor([float('inf'), -1.0])",
    "mod.tensor([0.0, float('inf')])",
    "mod.tensor([[0.5, float('nan')], [-0.0, 10.0]])",
    "mod.tensor([0.0, -0.0])",
    "mod.tensor([0.0, 0.0])",
    "mod.tensor([])",
    "mod.tensor([], dtype=mod.int64)",
    "mod.tensor([], dtype=mod.bool)",
    "mod.tensor([], requires_grad=True)",
    "mod.zeros(0, 3)",
    "mod.zeros(2, 0)",
    "mod.zeros(0, 2, dtype=mod.float64)",
    "mod.arange(12.0).reshape(3, 4)",
    "mod.arange(30.0)",
    "mod.arange(30.0) / 7",
    "mod.arange(50).reshape(5, 10) * 1000",
    "mod.linspace(0, 1, 20)",
    "mod.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])",
    "mod.arange(2000.0)",
    "mod.arange(2000)",
    "mod.arange(3000.0).reshape(100, 30)",
    "mod.arange(3000).reshape(30, 100)",
    "mod.arange(2000.0).reshape(10, 10, 20)",
    "mod.arange(1001) > 5",
    "mod.arange(1001.0) / 7",
    # summarised (> 1000 elements): only the values shown decide the notation and the width
    "mod.tensor(np.where(np.arange(1200).reshape(2, 600) == 300, 1e-5, 1.0), dtype=mod.float32)",
    "mod.tensor(np.where(np.arange(1200).reshape(2, 600) == 300, 1e9, 1.5), dtype=mod.float64)",
    "mod.tensor(np.where(np.arange(2000).reshape(2, 1000) == 500, 10**12, 1))",
    "mod.arange(2000).reshape(2, 1000) != 500",
    "mod.tensor(np.where(np.arange(1200).reshape(2, 600) == 300, 0.5, 1.0), requires_grad=True) * 2",
    *[f"mod.tensor(rand({seed}, 64, 128), dtype=mod.float32)" for seed in range(50)],
    *[f"mod.tensor(rand({seed}, 2000, scale=1e{seed - 3}))" for seed in range(8)],
    *[f"mod.tensor(rand({seed}, 3, 20, 30, scale=1e{2 * seed - 5}), dtype=mod.float64)" for seed in range(6)],
    "mod.tensor(rand(1, 5, 300, scale=1e3).round(), requires_grad=True)",
    "mod.tensor(rand(2, 40, 40, scale=1e-2), dtype=mod.float64, requires_grad=True) * 2",
    "mod.tensor((rand(3, 4, 30, 20, scale=1e6)).astype(np.int64))",
    "mod.tensor((rand(4, 1100, scale=1e4)).astype(np.int32))",
    # line wrapping of the suffixes is measured with torch's names (`torch.float64`)
    "mod.tensor([[-98., 674., -445., 556., -777., 776., -320.]], dtype=mod.float64)",
    "mod.tensor([-98., 674., -445., 556., -777., 776., -320., 1.], dtype=mod.float64)",
    "mod.tensor([[-98., 674., -445., 556., -777., 776., -320.]], dtype=mod.float64, requires_grad=True)",
    "mod.tensor([[-98., 674., -445., 556., -777., 776., -320.]], dtype=mod.float64, requires_grad=True) * 2",
    "mod.tensor([[-98, 674, -445, 556, -777, 776, -320, 5000, 1]], dtype=mod.int16)",
    # format(): a 0-d tensor formats as its item() whatever the spec, others as str()
    "f'{mod.tensor(2.5)}'",
    "'{}'.format(mod.tensor(3))",
    "format(mod.tensor(True))",
    "f'{mod.tensor(2.5, requires_grad=True)}'",
    "f'{mod.tensor(2.5, dtype=mod.float64, requires_grad=True) * 3}'",
    "f'{mod.tensor(0.1)}'",
    "f'{mod.tensor(7, dtype=mod.int32):>5}'",
    "f'{mod.tensor([1.5, 2.0])}'",
    "'{}'.format(mod.tensor([[1.0, 2.0]], requires_grad=True) * 2)",
]


def rand(seed, *shape, scale=1.0):
    """Normal values, the same for tape and torch (both made from this numpy array)."""
    return np.random.default_rng(seed).standard_normal(shape) * scale


@pytest.mark.parametrize("expr", REPRS)
def test_repr_equals_torch(expr):
    """repr (or the text of a format() expression) equals torch's, with torch's names."""
    ours, theirs = (eval(expr, {"mod": mod, "np": np, "rand": rand}) for mod in (tape, torch))
    if not isinstance(ours, str):
        ours, theirs = repr(ours), repr(theirs)
    assert ours.replace("tape.", "torch.") == theirs


def test_repr_names_tape(mod):
    t = mod.tensor([1, 2], dtype=mod.int32)
    assert repr(t) == f"tensor([1, 2], dtype={mod.__name__}.int32)"


def test_dtype_and_size_reprs():
    assert repr(tape.float32) == "tape.float32"
    assert repr(tape.tensor([[1.0, 2.0]]).shape) == "tape.Size([1, 2])"
    assert tape.tensor([[1.0, 2.0]]).shape == (1, 2)


# nested data whose lengths disagree: torch's sizes come from the first elements, and the
# first sequence (depth first) that does not fit them is named
RAGGED = [
    ("short row", [[1, 2], [3]], ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ("long row", [[1], [2, 3]], ValueError, "expected sequence of length 1 at dim 1 (got 2)"),
    ("deep", [[[1, 2], [3, 4]], [[1, 2], [3]]], ValueError, "expected sequence of length 2 at dim 2 (got 1)"),
    ("number for a row", [[1, 2], 3], TypeError, "not a sequence"),
    ("row for an int", [1, [2]], TypeError, "'list' object cannot be interpreted as an integer"),
    ("row for a float", [1.0, [2.0]], TypeError, "must be real number, not list"),
]


@pytest.mark.parametrize("data, error, message", [c[1:] for c in RAGGED], ids=[c[0] for c in RAGGED])
def test_ragged_nested_data_raises_as_torch(mod, data, error, message):
    with pytest.raises(error, match=re.escape(message)):
        mod.tensor(data)


def test_nested_data_with_an_empty_first_row_is_empty(mod):
    # torch stores nothing, so it checks nothing past the sizes [2, 0]
    assert tuple(mod.tensor([[], [1, 2]]).shape) == (2, 0)
    assert tuple(mod.tensor([(1, 2), [3, 4]]).shape) == (2, 2)


@pytest.mark.parametrize("negate", [lambda t: -t, lambda t: t.neg(), lambda t: t.neg_(),
                                    lambda t: t.negative()], ids=["-", "neg", "neg_", "negative"])
def test_negating_a_bool_tensor_is_refused(mod, negate):
    t = mod.tensor([True, False])
    with pytest.raises(RuntimeError, match=re.escape("Negation, the `-` operator, on a bool tensor is not "
                                                     "supported. If you are trying to invert a mask, use the "
                                                     "`~` or `logical_not()` operator instead.")):
        negate(t)
    assert t.tolist() == [True, False]


GRAD_ASSIGNMENTS = [
    ("size", lambda m: m.tensor([1.0, 2.0]), "float32",
     "attempting to assign a gradient of size '[2]' to a tensor of size '[1]'. Please ensure that the "
     "gradient and the tensor are the same size"),
    ("int64", lambda m: m.tensor([1]), "float32",
     "attempting to assign a gradient with dtype 'long int' to a tensor with grad_dtype 'Float'. The "
     "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype)"),
    ("float16 to float64", lambda m: m.tensor([1.0], dtype=m.float16), "float64",
     "attempting to assign a gradient with dtype 'c10::Half' to a tensor with grad_dtype 'Double'"),
    ("int8 to float16", lambda m: m.tensor([1], dtype=m.int8), "float16",
     "attempting to assign a gradient with dtype 'signed char' to a tensor with grad_dtype 'Half'"),
]


@pytest.mark.parametrize("grad, dtype, message", [c[1:] for c in GRAD_ASSIGNMENTS],
                         ids=[c[0] for c in GRAD_ASSIGNMENTS])
def test_assigning_a_mismatched_grad_raises_as_torch(mod, grad, dtype, message):
    t = mod.tensor([1.0], dtype=getattr(mod, dtype), requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        t.grad = grad(mod)
    assert t.grad is None


def test_add_of_bools_with_an_alpha_stays_bool(mod):
    # torch takes alpha as a bool for a bool result: True + True * 2 is True, not 3
    out = mod.add(mod.tensor([True, False]), mod.tensor([True, False]), alpha=2)
    assert out.dtype == mod.bool and out.tolist() == [True, False]
    assert mod.add(mod.tensor([True]), mod.tensor([True]), alpha=0).tolist() == [True]


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps", "meta"])
@pytest.mark.parametrize("how", ["device", "to", "zeros", "tensor"])
def test_a_device_other_than_the_cpu_is_refused_clearly(spec, how):
    # API.md: device arguments are accepted for "cpu"; anything else is a clear error
    make = {"device": lambda: tape.device(spec), "to": lambda: tape.ones(1).to(spec),
            "zeros": lambda: tape.zeros(2, device=spec), "tensor": lambda: tape.tensor([1.0], device=spec)}
    with pytest.raises(RuntimeError, match=re.escape(f"tape runs on the CPU only (numpy); device '{spec}'")):
        make[how]()


# NOTE [a copy's layout]: a tensor made like another is laid out as torch lays it out
# (preserve_format): the other's strides when dense, else their order, an expanded dim
# counting as none (numpy's order "K" made `x.expand(2, 3).clone()` column-major)
COPIES = {
    "clone of an expand": lambda m: m.zeros(3).expand(2, 3).clone(),
    "clone of a row expand": lambda m: m.zeros(1, 3).expand(4, 3).clone(),
    "clone of a middle expand": lambda m: m.zeros(3, 1, 4).expand(3, 5, 4).clone(),
    "clone of a permuted expand": lambda m: m.zeros(2, 1, 3).permute(2, 1, 0).expand(3, 4, 2).clone(),
    "clone of a transpose": lambda m: m.zeros(4, 3).t().clone(),
    "double of an expand": lambda m: m.zeros(3).expand(2, 3).double(),
    "to of an expand": lambda m: m.zeros(3).expand(2, 3).to(m.float64),
    "tensor of a broadcast array": lambda m: m.tensor(np.broadcast_to(np.arange(3.0), (4, 2, 3))),
    "as_tensor of a broadcast array": lambda m: m.as_tensor(np.broadcast_to(np.arange(3.0), (2, 3)),
                                                            dtype=m.float32),
    "zeros_like of a transpose": lambda m: m.zeros_like(m.zeros(2, 3).t()),
    "ones_like of an expand": lambda m: m.ones_like(m.zeros(3).expand(2, 3)),
    "full_like of a permute": lambda m: m.full_like(m.zeros(2, 3, 4).permute(2, 0, 1), 7),
    "empty_like of a slice": lambda m: m.empty_like(m.zeros(4, 6)[:, ::2]).zero_(),
}


@pytest.mark.parametrize("make", COPIES.values(), ids=COPIES.keys())
def test_a_copys_layout_is_torchs(make):
    def body(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (tensor() of a tensor suggests clone())
            t = make(m)
        viewed = t.view(-1).shape if t.is_contiguous() else None
        return t, t.stride(), t.is_contiguous(), viewed
    compare(body)
