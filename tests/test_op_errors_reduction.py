"""Bad input to the reductions and indexing ops: torch's exception types and messages, and
nothing changed when they raise (no record left on the tape, no version counter moved).
Also the return conventions that the op database cannot check: max/min's named tuple,
allclose's Python bool, and the one place tape's gradient deliberately differs from torch's.
"""

from __future__ import annotations

import contextlib
import gc
import math
import warnings

import numpy as np
import pytest
import torch

import tape

INF = math.inf
_X = np.arange(12.0).reshape(3, 4) / 4 - 1


def _inputs(m):
    return {
        "x": m.tensor(_X, requires_grad=True),
        "e": m.zeros(0, 3, dtype=m.float64, requires_grad=True),
        "z": m.tensor(2.0, dtype=m.float64, requires_grad=True),
        "i": m.arange(6).reshape(2, 3),
        "b": m.tensor([True, False]),
        "idx": m.tensor([[0, 1], [2, 0], [1, 1]]),
        "mask": m.tensor([True, False, True, False]),
    }


# (label, fn(m, t) with t the inputs above, how messages compare: "same", "prefix", "type")
BAD = [
    # reductions: dims
    ("prod dim out of range", lambda m, t: m.prod(t["x"], 2), "same"),
    ("prod tuple dim", lambda m, t: m.prod(t["x"], (0, 1)), "type"),
    ("max dim out of range", lambda m, t: t["x"].max(2), "same"),
    ("max of a 0-d tensor, dim 1", lambda m, t: t["z"].max(1), "same"),
    ("max tuple dim", lambda m, t: m.max(t["x"], (0, 1)), "type"),
    ("max keepdim without dim", lambda m, t: m.max(t["x"], keepdim=True), "type"),
    ("max of nothing", lambda m, t: t["e"].max(), "same"),
    ("min of nothing", lambda m, t: m.min(t["e"]), "same"),
    ("max over an empty dim", lambda m, t: t["e"].max(0), "same"),
    ("min over an empty dim, negative", lambda m, t: t["e"].min(-2), "same"),
    ("amax of nothing", lambda m, t: t["e"].amax(), "same"),
    ("amax over an empty dim", lambda m, t: t["e"].amax(-2), "same"),
    ("amin over empty dims", lambda m, t: m.amin(t["e"], (1, 0)), "same"),
    ("amax repeated dim", lambda m, t: t["x"].amax((1, 1)), "same"),
    ("amax dim out of range", lambda m, t: t["x"].amax(5), "same"),
    ("argmax of nothing", lambda m, t: t["e"].argmax(), "same"),
    ("argmax over an empty dim", lambda m, t: t["e"].argmax(0), "same"),
    ("argmin of bools", lambda m, t: t["b"].argmin(), "same"),
    ("argmax dim out of range", lambda m, t: t["x"].argmax(-3), "same"),
    ("var of integers", lambda m, t: t["i"].var(), "same"),
    ("std dim out of range", lambda m, t: t["x"].std(2), "same"),
    ("var repeated dim", lambda m, t: m.var(t["x"], (0, 0)), "same"),
    ("var unbiased and correction", lambda m, t: m.var(t["x"], 1, unbiased=True, correction=1), "type"),
    ("norm of integers", lambda m, t: t["i"].norm(), "same"),
    ("norm narrowing dtype", lambda m, t: t["x"].norm(dtype=m.float32), "same"),
    ("inf norm of nothing", lambda m, t: t["e"].norm(INF), "same"),
    ("-inf norm over an empty dim", lambda m, t: t["e"].norm(-INF, dim=0), "same"),
    ("-1 norm of nothing", lambda m, t: t["e"].norm(-1), "same"),
    ("-0.5 norm of nothing", lambda m, t: t["e"].norm(-0.5), "same"),
    ("-2 norm over an empty dim", lambda m, t: t["e"].norm(-2.0, dim=0), "same"),
    ("norm unknown order", lambda m, t: t["x"].norm("foo"), "same"),
    ("fro norm over 3 dims", lambda m, t: m.norm(t["x"], "fro", (0, 1, 2)), "same"),
    ("norm dim out of range", lambda m, t: t["x"].norm(dim=2), "same"),
    ("logsumexp without dim", lambda m, t: m.logsumexp(t["x"]), "type"),
    ("logsumexp dim out of range", lambda m, t: t["x"].logsumexp(2), "same"),
    ("logsumexp over ()", lambda m, t: t["x"].logsumexp(()), "same"),
    ("cumsum without dim", lambda m, t: m.cumsum(t["x"]), "type"),
    ("cumsum dim out of range", lambda m, t: t["x"].cumsum(-3), "same"),
    ("cumsum tuple dim", lambda m, t: t["x"].cumsum((0,)), "same"),
    ("cumsum tuple dim, function", lambda m, t: m.cumsum(t["x"], (0,)), "same"),
    ("cumsum_ to another dtype", lambda m, t: t["x"].detach().cumsum_(0, dtype=m.float32), "same"),
    # gather / index_select
    ("gather dim out of range", lambda m, t: t["x"].gather(2, t["idx"]), "same"),
    ("gather float index", lambda m, t: t["x"].gather(1, t["idx"].double()), "same"),
    ("gather index of other ndim", lambda m, t: t["x"].gather(1, t["idx"][0]), "same"),
    ("gather index too large", lambda m, t: t["x"].gather(0, m.zeros(3, 5, dtype=m.int64)), "same"),
    ("gather index out of bounds", lambda m, t: t["x"].gather(1, t["idx"] + 3), "same"),
    ("gather negative index", lambda m, t: m.gather(t["x"], 1, t["idx"] - 1), "same"),
    ("gather list index", lambda m, t: t["x"].gather(1, [[0]]), "same"),
    ("index_select 2-d index", lambda m, t: t["x"].index_select(1, t["idx"]), "same"),
    ("index_select float index", lambda m, t: t["x"].index_select(1, m.tensor([0.0])), "same"),
    ("index_select out of bounds", lambda m, t: t["x"].index_select(1, m.tensor([4])), "same"),
    ("index_select negative", lambda m, t: m.index_select(t["x"], 0, m.tensor([-1])), "same"),
    ("index_select dim out of range", lambda m, t: t["x"].index_select(-3, m.tensor([0])), "same"),
    ("index_select 0-d, two", lambda m, t: t["z"].index_select(0, m.tensor([0, 0])), "same"),
    ("index_select 0-d, out of range", lambda m, t: t["z"].index_select(0, m.tensor([1])), "same"),
    # masked_fill
    ("masked_fill float mask", lambda m, t: t["x"].masked_fill(t["mask"].double(), 1.0), "same"),
    ("masked_fill long mask", lambda m, t: t["x"].masked_fill(t["mask"].long(), 1.0), "same"),
    ("masked_fill 1-d value", lambda m, t: t["x"].masked_fill(t["mask"], t["x"][0].detach()), "same"),
    ("masked_fill mask shape", lambda m, t: m.masked_fill(t["x"], t["mask"][:3], 1.0), "same"),
    # out of place, torch broadcasts before it checks the mask's dtype; in place, the other way
    ("masked_fill long mask of a bad shape", lambda m, t: t["x"].masked_fill(t["mask"][:3].long(), 1.0),
     "same"),
    ("masked_fill_ long mask of a bad shape", lambda m, t: t["x"].detach().masked_fill_(
        t["mask"][:3].long(), 1.0), "same"),
    ("masked_fill_ result larger", lambda m, t: t["x"][0].detach().masked_fill_(
        m.ones(3, 4, dtype=m.bool), 1.0), "prefix"),
    ("masked_fill_ on a leaf", lambda m, t: t["x"].masked_fill_(t["mask"], 1.0), "same"),
    ("masked_fill_ on a leaf, float mask", lambda m, t: t["x"].masked_fill_(t["mask"].double(), 1.0),
     "same"),
    # allclose
    ("allclose dtypes", lambda m, t: m.allclose(t["x"], t["x"].detach().float()), "same"),
    ("allclose shapes", lambda m, t: m.allclose(t["x"], m.zeros(2, dtype=m.float64)), "same"),
    ("allclose number", lambda m, t: m.allclose(t["x"], 1.0), "same"),
    # reading an index
    ("index out of bounds", lambda m, t: t["x"][5], "same"),
    ("index out of bounds, second dim", lambda m, t: t["x"][0, 5], "same"),
    ("array index out of bounds", lambda m, t: t["x"][:, [0, 9]], "same"),
    ("array index out of bounds, second array", lambda m, t: t["x"][m.tensor([0]), m.tensor([-5])], "same"),
    ("float index", lambda m, t: t["x"][1.5], "same"),
    ("float index tensor", lambda m, t: t["x"][m.tensor([0.5, 1.0])], "same"),
    ("too many indices", lambda m, t: t["x"][0, 0, 0], "same"),
    ("mask of the wrong shape", lambda m, t: t["x"][..., m.tensor([True, False])], "same"),
    ("negative step", lambda m, t: t["x"][::-1], "same"),
    ("zero step", lambda m, t: t["x"][:, ::0], "same"),
    ("int index of a 0-d tensor", lambda m, t: t["z"][0], "same"),
]


def _normalized(exc):
    return type(exc).__name__, str(exc).replace("torch.", "tape.")


@contextlib.contextmanager
def _gc_paused():
    """Collect first, then no collection inside: the live records change only by what runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("label, fn, how", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_like_torch_and_changes_nothing(label, fn, how):
    errors = []
    for m in (torch, tape):
        t = _inputs(m)
        versions = {k: v._version for k, v in t.items()}
        with warnings.catch_warnings(), _gc_paused():
            warnings.simplefilter("ignore")
            records = len(tape.TAPE.records())
            with pytest.raises(Exception) as info:
                fn(m, t)
            after = len(tape.TAPE.records())
        errors.append(_normalized(info.value))
        if m is tape:
            assert after == records, "a record was left on the tape"
            assert {k: v._version for k, v in t.items()} == versions, "a version counter moved"
    (theirs_type, theirs), (ours_type, ours) = errors
    assert ours_type == theirs_type, f"tape raised {ours_type}: {ours}; torch {theirs_type}: {theirs}"
    if how == "same":
        assert ours == theirs
    elif how == "prefix":
        assert ours.startswith(theirs), f"{ours!r} does not start with {theirs!r}"


# ---- return conventions ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_with_dim_returns_a_named_tuple(name):
    for m in (tape, torch):
        x = m.tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 2.0]], requires_grad=True)
        out = getattr(x, name)(1)
        values, indices = out
        assert out.values is values and out.indices is indices and out[0] is values
        assert type(out).__name__ == name and len(out) == 2
        assert not indices.requires_grad and indices.grad_fn is None and indices.is_leaf
        assert indices.dtype == m.int64 and indices._base is None
        assert type(values.grad_fn).__name__ == ("MaxBackward0" if name == "max" else "MinBackward0")
        assert repr(out).startswith(f"{m.__name__}.return_types.{name}(\nvalues=tensor(")
        assert indices.tolist() == ([1, 0] if name == "max" else [0, 1])


def test_indices_modified_in_place_leave_the_gradient_alone():
    """tape keeps its own copy of max's indices for the backward (torch would raise instead)."""
    x = tape.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    indices.zero_()
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("args, kwargs", [
    ((np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6])), {}),
    ((np.array([1.0, 2.0]), np.array([1.0, 2.1])), {}),
    ((np.array([1.0, 2.0]), np.array([1.0, 2.1])), {"atol": 0.2}),
    ((np.array([1.0, 2.0]), np.array([1.0, 2.1])), {"rtol": 0.1}),
    ((np.array([math.nan, 1.0]), np.array([math.nan, 1.0])), {}),
    ((np.array([math.nan, 1.0]), np.array([math.nan, 1.0])), {"equal_nan": True}),
    ((np.array([INF, -INF]), np.array([INF, -INF])), {}),
    ((np.array([INF]), np.array([-INF])), {}),
    ((np.ones((2, 3)), np.ones(3)), {}),
    ((np.arange(3), np.arange(3)), {}),
    ((np.zeros(0), np.zeros(0)), {}),
])
def test_allclose(args, kwargs):
    got = tape.allclose(*(tape.tensor(a) for a in args), **kwargs)
    want = torch.allclose(*(torch.tensor(a) for a in args), **kwargs)
    assert type(got) is bool and got == want
    assert tape.tensor(args[0]).allclose(tape.tensor(args[1]), **kwargs) == want


def test_isnan_isfinite_never_require_grad():
    x = tape.tensor([1.0, math.nan, INF], requires_grad=True)
    for fn in (tape.isnan, tape.isfinite, tape.Tensor.isnan, tape.Tensor.isfinite):
        out = fn(x)
        assert out.dtype == tape.bool and not out.requires_grad and out.grad_fn is None
    assert x.isnan().tolist() == [False, True, False] and x.isfinite().tolist() == [True, False, False]


def test_var_over_no_dims_is_the_full_variance():
    """var(x, dim=()) reduces over every dim, as torch's forward does. torch's backward then
    divides by 1 - correction (it takes () as "no dims": inf / NaN gradients); tape gives the
    gradient of the value it returned, the same as var(x)'s."""
    x = tape.tensor(_X, requires_grad=True)
    (g_all,) = tape.autograd.grad(x.var(), [x])
    (g_none,) = tape.autograd.grad(x.var(()), [x])
    np.testing.assert_allclose(g_none.numpy(), g_all.numpy(), rtol=1e-12)
    assert x.var(()).item() == pytest.approx(torch.tensor(_X).var(()).item(), rel=1e-12)


def test_degrees_of_freedom_warning():
    for m in (tape, torch):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            m.tensor([1.0]).var()
