"""tape.nn.functional beyond the op database (issue 3): the cross_entropy option matrix against
torch, stability with large logits, dropout's random mask, second derivatives against
torch's, the names torch offers, and the errors (type, message, nothing recorded).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from helpers import compare, node_tree
from test_op_errors_shape import assert_leaves_no_record

import tape

RNG = np.random.default_rng(1234)  # tape-only tests (tape and torch runs use _logits)


def _logits(*shape, scale=2.0, seed=0):
    """Random logits, the same on every call with the same arguments (so tape and torch,
    each running a test body, see the same values)."""
    return np.random.default_rng([seed, *shape]).standard_normal(shape) * scale


def _leaf(m, a, dtype="float64"):
    return m.tensor(np.asarray(a).astype(dtype), requires_grad=True)


def _loss_and_grads(m, fn, leaves):
    """fn(m, *tensors) -> loss; the loss (or losses), d(sum of weighted losses)/d leaves, node tree."""
    ts = [_leaf(m, a, dt) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a, dt in leaves]
    out = fn(m, *ts)
    diff = [t for t in ts if hasattr(t, "requires_grad") and t.requires_grad]
    up = m.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1))[:out.numel()].reshape(tuple(out.shape)),
                  dtype=out.dtype)
    grads = m.autograd.grad(out, diff, grad_outputs=up, allow_unused=True)
    return out, grads, node_tree(out.grad_fn)


# ---------------------------------------------------------------------------------------
# cross_entropy: every combination of its options, values, gradients and node trees as torch


_INDEX_CASES = {
    "(N,C)": ((4, 5), np.array([0, 4, 2, 1])),
    "(N,C) with ignored": ((4, 5), np.array([0, -100, 2, -100])),
    "(C,)": ((5,), np.array(3)),
    "(N,C,d)": ((2, 5, 3), np.array([[0, 1, 4], [2, -100, 3]])),
    "(N,C,h,w)": ((2, 5, 2, 2), np.array([[[0, 1], [4, 2]], [[3, 3], [-100, 0]]])),
}


# every reduction in float64, and the mean in float32 too
_REDUCTIONS = [("mean", "float64"), ("sum", "float64"), ("none", "float64"), ("mean", "float32")]


def _tol(dtype):
    return 1e-5 if dtype == "float32" else 1e-10


@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("ignore_index", [-100, 1], ids=["", "ignore1"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25], ids=["", "smooth"])
@pytest.mark.parametrize("case", list(_INDEX_CASES))
def test_cross_entropy_class_indices(case, label_smoothing, ignore_index, weighted):
    shape, target = _INDEX_CASES[case]
    x = _logits(*shape)
    w = np.linspace(0.5, 2.0, 5)
    for reduction, dtype in _REDUCTIONS:
        def run(m, reduction=reduction, dtype=dtype):
            kw = dict(reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)
            if weighted:
                kw["weight"] = m.tensor(w, dtype=getattr(m, dtype))
            fn = lambda m, xt: m.nn.functional.cross_entropy(xt, m.tensor(target), **kw)  # noqa: E731
            return _loss_and_grads(m, fn, [(x, dtype)])

        compare(run, rtol=_tol(dtype), atol=_tol(dtype))


@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3], ids=["", "smooth"])
@pytest.mark.parametrize("target_grad", [False, True], ids=["", "target_grad"])
@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 5, 3)], ids=str)
def test_cross_entropy_class_probabilities(shape, target_grad, label_smoothing, weighted):
    x = _logits(*shape)
    p = np.exp(_logits(*shape, seed=1))
    p = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = np.linspace(0.5, 2.0, 5)
    for reduction, dtype in _REDUCTIONS:
        def run(m, reduction=reduction, dtype=dtype):
            kw = dict(reduction=reduction, label_smoothing=label_smoothing)
            if weighted:
                kw["weight"] = m.tensor(w, dtype=getattr(m, dtype))
            fn = lambda m, xt, pt: m.nn.functional.cross_entropy(xt, pt, **kw)  # noqa: E731
            pt = p.astype(dtype) if target_grad else m.tensor(p.astype(dtype))
            return _loss_and_grads(m, fn, [(x, dtype), (pt, dtype)])

        compare(run, rtol=_tol(dtype), atol=_tol(dtype))


def test_cross_entropy_all_targets_ignored():
    """The mean over no target is 0/0 (NaN); the gradient is zeros, as torch's."""
    for smoothing in (0.0, 0.2):
        compare(lambda m, s=smoothing: _loss_and_grads(
            m, lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([-100, -100]), label_smoothing=s),
            [(_logits(2, 3), "float64")]))


def test_cross_entropy_legacy_reduction_flags():
    x = _logits(3, 4)
    t = np.array([0, 3, 1])
    for size_average, reduce in itertools.product((None, True, False), repeat=2):
        compare(lambda m, a=size_average, r=reduce: m.nn.functional.cross_entropy(
            m.tensor(x), m.tensor(t), size_average=a, reduce=r))


# ---------------------------------------------------------------------------------------
# large logits: finite losses and gradients, equal to torch's


_BIG = np.array([[1e4, 0.0, -1e4, 5e3], [-2e4, 2e4, 2e4, 0.0], [3e4, 3e4 - 1, -1e4, 1.0]])

STABLE = {
    "cross_entropy": lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 1, 3])),
    "cross_entropy smoothed": lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([2, 1, 3]),
                                                                         label_smoothing=0.1),
    "cross_entropy probabilities": lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor([[0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.75, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=x.dtype)),
    "log_softmax": lambda m, x: m.nn.functional.log_softmax(x, dim=1),
    "softmax": lambda m, x: m.nn.functional.softmax(x, dim=1),
    "log_softmax dim 0": lambda m, x: m.log_softmax(x, 0),
    "nll of log_softmax": lambda m, x: m.nn.functional.nll_loss(m.log_softmax(x, 1), m.tensor([2, 0, 1])),
    "bce with logits": lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
        x, m.tensor((_BIG > 0) * 1.0, dtype=x.dtype)),
    "bce with logits, pos_weight": lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
        x, m.tensor(np.full(_BIG.shape, 0.3), dtype=x.dtype), pos_weight=m.tensor([1.0, 2.0, 3.0, 0.5],
                                                                                    dtype=x.dtype)),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "silu": lambda m, x: m.nn.functional.silu(x),
    # (+ 0.0: the sign of gelu's float32 zeros far left depends on the CPU torch runs on)
    "gelu": lambda m, x: m.nn.functional.gelu(x) + 0.0,
    "gelu tanh": lambda m, x: m.nn.functional.gelu(x, approximate="tanh"),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(STABLE))
def test_large_logits_are_stable(name, dtype):
    fn = STABLE[name]
    out, grads, _ = _loss_and_grads(tape, fn, [(_BIG, dtype)])
    assert np.all(np.isfinite(out.detach().numpy())), "loss is not finite"
    assert np.all(np.isfinite(grads[0].numpy())), "gradient is not finite"
    compare(lambda m: _loss_and_grads(m, fn, [(_BIG, dtype)]), rtol=1e-6, atol=1e-6)


def test_logits_of_ten_thousand():
    """The issue's case: logits 1e4 give a finite loss and gradient equal to torch's."""
    x = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]])
    for m_fn in (lambda m, t: m.nn.functional.cross_entropy(t, m.tensor([1, 0])),
                 lambda m, t: m.nn.functional.binary_cross_entropy_with_logits(t, m.ones(2, 3))):
        compare(lambda m, f=m_fn: _loss_and_grads(m, f, [(x, "float32")]), rtol=1e-6, atol=1e-6)
        loss, grads, _ = _loss_and_grads(tape, m_fn, [(x, "float32")])
        assert np.isfinite(loss.item()) and loss.item() > 1e3
        assert np.all(np.isfinite(grads[0].numpy()))


# ---------------------------------------------------------------------------------------
# second derivatives, against torch's


SECOND = {
    "softmax": (lambda m, x: m.softmax(x, 1) ** 2, (3, 4)),
    "log_softmax": (lambda m, x: m.log_softmax(x, 0) ** 2, (3, 4)),
    "cross_entropy": (lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 3, 1])), (3, 4)),
    "cross_entropy smoothed weighted": (lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor([0, 3, 1]), weight=m.tensor([1.0, 2.0, 0.5, 1.0], dtype=x.dtype),
        label_smoothing=0.2), (3, 4)),
    "cross_entropy probabilities": (lambda m, x: m.nn.functional.cross_entropy(
        x, m.softmax(x.detach() * 0.5, 1)), (3, 4)),
    "nll_loss 4-d": (lambda m, x: m.nn.functional.nll_loss(
        m.log_softmax(x, 1), m.tensor([[[0, 1], [2, 0]]]), reduction="sum"), (1, 3, 2, 2)),
    "bce with logits": (lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
        x, m.sigmoid(x.detach() * 2), pos_weight=m.tensor([2.0, 0.5, 1.0], dtype=x.dtype)), (2, 3)),
    "gelu": (lambda m, x: m.nn.functional.gelu(x), (2, 3)),
    "gelu tanh": (lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), (2, 3)),
    "silu": (lambda m, x: m.nn.functional.silu(x), (2, 3)),
    "logsigmoid": (lambda m, x: m.nn.functional.logsigmoid(x), (2, 3)),
    "mse_loss": (lambda m, x: m.nn.functional.mse_loss(x ** 2, x.detach() * 0.5), (2, 3)),
    "mse_loss target, sum": (lambda m, x: m.nn.functional.mse_loss(x ** 2, x.sin(), reduction="sum"), (2, 3)),
    "mse_loss none": (lambda m, x: m.nn.functional.mse_loss(x.exp(), x * 0.5, reduction="none"), (2, 3)),
    "tanh": (lambda m, x: m.tanh(x) ** 2, (2, 3)),
    "sigmoid": (lambda m, x: m.sigmoid(x * 2), (2, 3)),
    "nll_loss ignored": (lambda m, x: m.nn.functional.nll_loss(
        m.log_softmax(x, 1), m.tensor([0, 2, 1]), ignore_index=2), (3, 4)),
    "linear": (lambda m, x: m.nn.functional.linear(x ** 2, m.tensor(np.ones((2, 3)) * 0.5, dtype=x.dtype),
                                                   m.tensor([1.0, -1.0], dtype=x.dtype)), (4, 3)),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives_like_torch(name):
    fn, shape = SECOND[name]
    x0 = _logits(*shape, scale=1.0)

    def run(m):
        x = _leaf(m, x0)
        (g,) = m.autograd.grad(fn(m, x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * m.tensor(np.linspace(-1, 1, g.numel()).reshape(shape))).sum(), x)
        return g.detach(), h  # the nodes of recorded backward passes are tape's own

    compare(run, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------------------
# dropout: the random mask


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_mask_is_the_gradient(p):
    """Forward and backward use one mask: y = x * mask and dy/dx = mask, mask in {0, 1/(1-p)}."""
    tape.manual_seed(7)
    x = tape.tensor(RNG.uniform(0.5, 2.0, (40, 50)), requires_grad=True)
    y = tape.nn.functional.dropout(x, p)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    (g,) = tape.autograd.grad(y.sum(), x)
    mask = g.numpy()
    scale = 1 / (1 - p)
    assert set(np.unique(mask)) <= {0.0, scale}
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask, rtol=1e-15)
    kept = np.mean(mask != 0)
    assert abs(kept - (1 - p)) < 0.05, f"kept {kept:.3f} of the elements, expected about {1 - p}"
    # the expected value is preserved: mean(mask) ~ 1
    assert abs(mask.mean() - 1) < 0.15


def test_dropout_float32_scale_like_torch():
    """The kept elements are scaled by 1/(1-p) computed in the input's dtype."""
    x = tape.ones(1000, requires_grad=True)
    y = tape.nn.functional.dropout(x, 0.3)
    t = torch.nn.functional.dropout(torch.ones(1000), 0.3)
    assert y.dtype == tape.float32
    assert set(np.unique(y.detach().numpy())) <= {0.0, np.float32(1) / np.float32(0.7)}
    assert set(np.unique(t.numpy())) <= {0.0, np.float32(1) / np.float32(0.7)}


def test_dropout_follows_manual_seed():
    tape.manual_seed(3)
    a = tape.nn.functional.dropout(tape.ones(100)).numpy()
    b = tape.nn.functional.dropout(tape.ones(100)).numpy()
    tape.manual_seed(3)
    c = tape.nn.functional.dropout(tape.ones(100)).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_identity_cases_return_the_input(mod):
    x = mod.ones(3, 2, requires_grad=True)
    assert mod.nn.functional.dropout(x, 0.5, training=False) is x
    assert mod.nn.functional.dropout(x, 0.0) is x
    assert mod.dropout(x, 0.5, False) is x
    e = mod.ones(0, 2, requires_grad=True)
    assert mod.nn.functional.dropout(e, 0.5) is e


def test_dropout_of_everything():
    def run(m):
        x = m.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        y = m.nn.functional.dropout(x, 1.0)
        (g,) = m.autograd.grad(y.sum(), x)
        return y, g, node_tree(y.grad_fn)

    compare(run)


def test_dropout_in_place():
    def run(m):
        x = m.ones(4, 3, requires_grad=True)
        z = x.clone()
        out = m.nn.functional.dropout(z, 0.5, inplace=True)
        return out is z, z._version, node_tree(z.grad_fn)

    compare(run)
    tape.manual_seed(0)
    x = tape.ones(50, 4, requires_grad=True)
    z = x * 1
    tape.nn.functional.dropout(z, 0.5, inplace=True)
    (g,) = tape.autograd.grad(z.sum(), x)
    np.testing.assert_array_equal(g.numpy(), z.detach().numpy())


def test_dropout_without_grad_records_nothing():
    x = tape.ones(3, 4)
    y = tape.nn.functional.dropout(x, 0.5)
    assert not y.requires_grad and y.grad_fn is None
    with tape.no_grad():
        y = tape.nn.functional.dropout(tape.ones(3, requires_grad=True), 0.5)
    assert y.grad_fn is None


# ---------------------------------------------------------------------------------------
# what the table does not show


def test_relu_in_place_and_the_same_op_as_tape_relu():
    def run(m):
        x = m.tensor([[-1.0, 0.0, 2.0]], requires_grad=True)
        z = x.clone()
        m.nn.functional.relu(z, inplace=True)
        w = x.clone()
        m.nn.functional.relu_(w)
        y = m.nn.functional.relu(x)
        (g,) = m.autograd.grad((z + w + y * 2).sum(), x)
        return z, w, g, node_tree(z.grad_fn), node_tree(y.grad_fn)

    compare(run)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_gradient_at_zeros_nans_and_infinities_like_torch(dtype):
    """relu keeps -0.0 and NaNs of either sign; threshold_backward gives 0 where the result
    is +-0, even for an inf or NaN gradient, and passes it where the result is NaN or inf
    (bit for bit)."""
    x = [-2.0, -0.0, 0.0, 3.0, float("nan"), float("inf"), -float("inf"), 1.5, -float("nan"), 2.0]
    up = [float("inf"), float("nan"), -float("inf"), float("nan"), 2.0, -0.0, float("nan"),
          float("inf"), 5.0, -3.0]

    def run(m):
        t = m.tensor(x, dtype=getattr(m, dtype), requires_grad=True)
        y = m.relu(t)
        (g,) = m.autograd.grad(y, t, m.tensor(up, dtype=getattr(m, dtype)))
        return y, g

    for a, b in zip(run(tape), run(torch)):
        a, b = a.detach().numpy(), b.detach().numpy()
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (a, b)
    for v in (-0.0, -float("nan"), -1.0):  # 0-d
        a, b = (m.relu(m.tensor(v, dtype=getattr(m, dtype))).numpy() for m in (tape, torch))
        assert a.tobytes() == b.tobytes(), (v, a, b)
    # long enough for numpy's vector loops, and in the layouts that take other loops
    long = x * 7

    def layouts(m):
        t = m.tensor(long, dtype=getattr(m, dtype))
        return [m.relu(v).numpy() for v in (t, t[::2], t.flip(0), t.reshape(7, 10).t())]

    for a, b in zip(layouts(tape), layouts(torch)):
        assert a.tobytes() == b.tobytes(), (a, b)


def test_silu_in_place():
    def run(m):
        x = m.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
        z = x.clone()
        m.nn.functional.silu(z, inplace=True)
        (g,) = m.autograd.grad(z.sum(), x)
        return z, g, node_tree(z.grad_fn)

    compare(run)


def test_softmax_implicit_dim_warns_and_picks_torchs_dim():
    for shape in ((3,), (2, 3), (2, 3, 4), (2, 3, 4, 5), ()):
        x = _logits(*shape)
        for name in ("softmax", "log_softmax"):
            def run(m, name=name, x=x):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    out = getattr(m.nn.functional, name)(m.tensor(x))
                assert any("Implicit dimension choice" in str(w.message) for w in caught)
                return out

            compare(run)


def test_softmax_dtype_argument():
    def run(m):
        x = m.tensor(_logits(2, 3).astype("float32"), requires_grad=True)
        y = m.nn.functional.softmax(x, 1, dtype=m.float64)
        z = x.log_softmax(0, dtype=m.float64)
        s = m.softmax(m.tensor([[1, 2, 3]]), -1, dtype=m.float32)
        (g,) = m.autograd.grad((y * z).sum(), x)
        return y, z, s, g, node_tree(y.grad_fn)

    compare(run)


def test_loss_size_warning_and_broadcast():
    def run(m):
        x = m.tensor(_logits(2, 3), requires_grad=True)
        t = m.tensor(_logits(3), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = m.nn.functional.mse_loss(x, t)
            b = m.nn.functional.l1_loss(x, t, reduction="sum")
        assert sum("Using a target size" in str(w.message) for w in caught) == 2
        gx, gt = m.autograd.grad(a + b, (x, t))
        return a, b, gx, gt, node_tree(a.grad_fn), node_tree(b.grad_fn)

    compare(run)


def test_linear_node_trees_like_torch():
    cases = [((2, 3), (4, 3), (4,)), ((3,), (4, 3), (4,)), ((5, 2, 3), (4, 3), None),
             ((2, 2, 2, 3), (4, 3), (4,)), ((5, 2, 3), (4, 3), ()), ((5, 2, 3), (4, 3), (1, 4)),
             ((3,), (4, 3), (2, 4)), ((2, 3), (3,), None)]
    for xs, ws, bs in cases:
        def run(m, xs=xs, ws=ws, bs=bs):
            x = _leaf(m, _logits(*xs))
            w = _leaf(m, _logits(*ws))
            b = None if bs is None else _leaf(m, _logits(*bs))
            y = m.nn.functional.linear(x, w, b)
            grads = m.autograd.grad(y.sum(), [t for t in (x, w, b) if t is not None])
            return y, grads, node_tree(y.grad_fn)

        compare(run)


def test_linear_bias_only_requires_grad():
    def run(m):
        x = m.tensor(_logits(5, 2, 3))
        w = m.tensor(_logits(4, 3))
        b = m.zeros(4, requires_grad=True)
        y = m.nn.functional.linear(x, w, b)
        (g,) = m.autograd.grad(y.sum(), b)
        return y, g, node_tree(y.grad_fn)

    compare(run)


def test_names_as_torch():
    names = ("relu relu_ gelu silu logsigmoid softmax log_softmax mse_loss l1_loss cross_entropy nll_loss "
             "binary_cross_entropy_with_logits linear dropout").split()
    for n in names:
        assert hasattr(tape.nn.functional, n) == hasattr(torch.nn.functional, n), n
    for n in ("softmax", "log_softmax", "dropout", "addmm", "binary_cross_entropy_with_logits", "gelu",
              "silu",
              "cat", "concat", "concatenate", "split", "split_with_sizes", "chunk", "flatten", "movedim",
              "moveaxis", "outer", "ger", "floor_divide", "remainder"):
        assert hasattr(tape, n) == hasattr(torch, n), f"tape.{n}"
    for n in ("softmax", "log_softmax", "addmm", "split", "split_with_sizes", "chunk", "flatten", "movedim",
              "moveaxis", "outer", "ger", "floor_divide", "floor_divide_", "remainder", "remainder_", "gelu",
              "__floordiv__", "__rfloordiv__", "__ifloordiv__", "__mod__", "__rmod__", "__imod__", "T", "mT"):
        assert hasattr(tape.Tensor, n) == hasattr(torch.Tensor, n), f"Tensor.{n}"


# ---------------------------------------------------------------------------------------
# errors: torch's type and message, nothing left on the tape


def _f(m):
    return m.nn.functional


def _x(m, *shape, rg=True, dtype=None):
    n = int(np.prod(shape)) if shape else 1
    t = m.tensor(np.linspace(-1.0, 1.0, n).reshape(shape), requires_grad=rg)
    return t if dtype is None else t.to(dtype)


NN_ERRORS = [
    ("reduction name", lambda m: _f(m).mse_loss(_x(m, 2), _x(m, 2), reduction="avg"),
     "avg is not a valid value for reduction"),
    ("l1 reduction name", lambda m: _f(m).l1_loss(_x(m, 2), _x(m, 2), reduction="x"),
     "x is not a valid value"),
    ("bce reduction name",
     lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2), _x(m, 2), reduction="x"),
     "x is not a valid value"),
    ("ce reduction name", lambda m: _f(m).cross_entropy(_x(m, 2, 3), m.tensor([0, 1]), reduction="x"),
     "x is not a valid value"),
    ("mse shapes", lambda m: _f(m).mse_loss(_x(m, 2, 3), _x(m, 4)), "must match the size of tensor b (4)"),
    ("mse integers", lambda m: _f(m).mse_loss(m.tensor([1, 2]), m.tensor([3, 0])),
     "not implemented for 'Long'"),
    ("l1 integers", lambda m: _f(m).l1_loss(m.tensor([1, 2]), m.tensor([3, 0])),
     "could not infer output dtype"),
    ("mse weight size", lambda m: _f(m).mse_loss(_x(m, 2), _x(m, 2), weight=m.ones(3)),
     "Weights and input must have the same size"),
    ("softmax dim", lambda m: _f(m).softmax(_x(m, 2, 3), 2), "Dimension out of range"),
    ("softmax integers", lambda m: m.softmax(m.tensor([[1, 2]]), 0), "not implemented for 'Long'"),
    ("log_softmax integers", lambda m: m.log_softmax(m.tensor([1, 2]), 0), "not implemented for 'Long'"),
    ("softmax needs dim", lambda m: m.softmax(_x(m, 2)), "dim"),
    ("gelu approximate", lambda m: _f(m).gelu(_x(m, 2), approximate="erf"),
     "approximate argument must be either none or tanh"),
    ("gelu integers", lambda m: _f(m).gelu(m.tensor([1, 2])), "not implemented for 'Long'"),
    ("gelu approximate given by position", lambda m: _f(m).gelu(_x(m, 2), "tanh"),
     "gelu() takes 1 positional argument but 2 were given"),
    ("silu integers", lambda m: _f(m).silu(m.tensor([1, 2])), "not implemented for 'Long'"),
    ("nll 0-d", lambda m: _f(m).nll_loss(_x(m), m.tensor(0)), "Expected 1 or more dimensions (got 0)"),
    ("nll batch", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 1, 1])),
     "Expected input batch_size (2) to match target batch_size (3)"),
    ("nll target out of bounds", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 3])),
     "Target 3 is out of bounds"),
    ("nll negative target", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([-1, 0])),
     "Target -1 is out of bounds"),
    ("nll float target", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0.0, 1.0])),
     "expected target dtype to be Long or Byte, but got Float"),
    ("nll int32 target", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 1], dtype=m.int32)),
     "but got Int"),
    ("nll 2-d target", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.zeros(2, 1, dtype=m.int64)),
     "0D or 1D target tensor expected, multi-target not supported"),
    ("nll weight size", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 1]), weight=m.ones(4)),
     "weight tensor should be defined either for all 3 classes or no classes"),
    ("nll weight requires grad", lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 1]), weight=_x(m, 3)),
     "is not differentiable with respect to argument 'weight'"),
    ("nll 4-d target dims", lambda m: _f(m).nll_loss(_x(m, 2, 3, 2, 2), m.zeros(2, 2, dtype=m.int64)),
     "only batches of spatial targets supported (3D tensors)"),
    ("nll 4-d target size", lambda m: _f(m).nll_loss(_x(m, 2, 3, 2, 2), m.zeros(2, 2, 3, dtype=m.int64)),
     "size mismatch (got input: [2, 3, 2, 2] , target: [2, 2, 3]"),
    ("nll 3-d target size", lambda m: _f(m).nll_loss(_x(m, 2, 3, 4), m.zeros(2, 3, dtype=m.int64)),
     "Expected target size [2, 4], got [2, 3]"),
    ("ce target out of bounds", lambda m: _f(m).cross_entropy(_x(m, 2, 3), m.tensor([0, 3])),
     "out of bounds"),
    ("ce probabilities of ints", lambda m: _f(m).cross_entropy(_x(m), m.tensor(0)),
     "Expected floating point type for target with class probabilities, got Long"),
    ("ce probabilities with ignore_index",
     lambda m: _f(m).cross_entropy(_x(m, 2, 3), _x(m, 2, 3), ignore_index=1),
     "ignore_index is not supported for floating point target"),
    ("ce smoothing above 1",
     lambda m: _f(m).cross_entropy(_x(m, 2, 3), m.tensor([0, 1]), label_smoothing=1.5),
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    ("ce probabilities smoothing above 1",
     lambda m: _f(m).cross_entropy(_x(m, 2, 3), _x(m, 2, 3, rg=False), label_smoothing=2.0),
     "label_smoothing must be between 0.0 and 1.0"),
    ("ce probabilities weight size",
     lambda m: _f(m).cross_entropy(_x(m, 2, 3), _x(m, 2, 3), weight=m.ones(4)),
     "cross_entropy: weight tensor should be defined either for all 3 classes or no classes"),
    ("ce probabilities shape", lambda m: _f(m).cross_entropy(_x(m, 2, 3), _x(m, 2, 4)),
     "0D or 1D target tensor expected"),
    ("nll weight dtype",
     lambda m: _f(m).nll_loss(_x(m, 2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float32)),
     "expected scalar type Double but found Float"),
    ("ce weight dtype",
     lambda m: _f(m).cross_entropy(_x(m, 2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float32),
                                   label_smoothing=0.1),
     "expected scalar type Double but found Float"),
    ("ce weight requires grad", lambda m: _f(m).cross_entropy(_x(m, 2, 3), m.tensor([0, 1]), weight=_x(m, 3)),
     "is not differentiable with respect to argument 'weight'"),
    ("ce integer logits", lambda m: _f(m).cross_entropy(m.tensor([[1, 2]]), m.tensor([0])),
     "not implemented for 'Long'"),
    ("bce size", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2, 3), _x(m, 3)),
     "must be the same as input size"),
    ("bce weight shape", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2, 3), _x(m, 2, 3),
                                                                          weight=m.ones(4)),
     "must match the size of tensor b (4)"),
    ("bce weight larger", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2, 3), _x(m, 2, 3),
                                                                           weight=m.ones(2, 2, 3)),
     "doesn't match the broadcast shape"),
    ("bce weight requires grad", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2), _x(m, 2),
                                                                                  weight=_x(m, 2)),
     "not differentiable with respect to argument 'weight'"),
    ("bce pos_weight requires grad", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2), _x(m, 2),
                                                                                      pos_weight=_x(m, 2)),
     "not differentiable with respect to argument 'pos_weight'"),
    ("bce integer target", lambda m: _f(m).binary_cross_entropy_with_logits(_x(m, 2), m.tensor([1, 0])),
     "can't be cast to the desired output type Long"),
    ("linear 0-d", lambda m: _f(m).linear(_x(m), _x(m, 4, 3)),
     "both arguments to linear need to be at least 1D"),
    ("linear shapes", lambda m: _f(m).linear(_x(m, 2, 5), _x(m, 4, 3), _x(m, 4)),
     "mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)"),
    ("linear shapes 3-d", lambda m: _f(m).linear(_x(m, 2, 2, 5), _x(m, 4, 3), _x(m, 4)),
     "mat1 and mat2 shapes cannot be multiplied (4x5 and 3x4)"),
    ("linear bias", lambda m: _f(m).linear(_x(m, 2, 3), _x(m, 4, 3), _x(m, 5)),
     "The expanded size of the tensor (4) must match the existing size (5) at non-singleton dimension 1"),
    ("linear dtypes", lambda m: _f(m).linear(_x(m, 2, 3, dtype=m.float64), _x(m, 4, 3, dtype=m.float32),
                                             _x(m, 4, dtype=m.float32)),
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ("addmm self dtype", lambda m: m.addmm(_x(m, 4, dtype=m.float64), _x(m, 2, 3, dtype=m.float32),
                                           _x(m, 3, 4, dtype=m.float32)),
     "self and mat2 must have the same dtype, but got Double and Float"),
    ("addmm vector", lambda m: m.addmm(_x(m, 4), _x(m, 3), _x(m, 3, 4)),
     "mat1 must be a matrix, got 1-D tensor"),
    ("dropout p", lambda m: _f(m).dropout(_x(m, 3), 1.5),
     "dropout probability has to be between 0 and 1, but got 1.5"),
    ("dropout negative p", lambda m: _f(m).dropout(_x(m, 3), -0.1),
     "dropout probability has to be between 0 and 1"),
    ("torch.dropout p", lambda m: m.dropout(_x(m, 3), 1.5, True),
     "dropout probability has to be between 0 and 1"),
]


@pytest.mark.parametrize("body, phrase", [pytest.param(b, p, id=n) for n, b, p in NN_ERRORS])
def test_nn_error_like_torch(body, phrase):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(body, phrase=phrase)


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b, _ in NN_ERRORS])
def test_nn_error_leaves_no_record(body):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_leaves_no_record(body)
