"""`x[index] = value` against torch: values, gradients, node trees, version counters, errors.

Each case runs once with tape and once with torch. Writes through basic indices are copy_ /
fill_ into a view (CopySlices on the base), or into x itself for `...` and full slices;
advanced indices are index_put_. A failing write changes nothing: no record is left on the
tape and no version counter moves.
"""

from __future__ import annotations

import contextlib
import gc
import warnings

import numpy as np
import pytest
import torch
from helpers import MODULE_IDS, MODULES, node_tree

import tape


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _i(*values):
    return np.array(values, dtype=np.int64)


_X = np.arange(12.0).reshape(3, 4) / 4 - 1
_W = np.random.default_rng(0).standard_normal((3, 4))
_M = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

# (label, index, value): value is a number, or a shape (a float64 tensor that requires grad)
CASES = [
    ("int, number", 0, 2.5),
    ("int, row", 1, (4,)),
    ("int, row with a leading 1", 1, (1, 4)),
    ("int, broadcast 1", -1, (1,)),
    ("int, 0-d tensor", 0, ()),
    ("slice, rows", slice(1, 3), (4,)),
    ("slice, step", slice(None, None, 2), (2, 4)),
    ("full slice, same shape", slice(None), (3, 4)),
    ("full slice, broadcast", slice(None), (4,)),
    ("full slice, number", slice(None), -1.0),
    ("ellipsis, 0-d", Ellipsis, ()),
    ("ellipsis, number", Ellipsis, 0.5),
    ("tuple of full slices", (slice(None), slice(None)), 3.0),
    ("tuple, column", (slice(None), 2), (3,)),
    ("tuple, block", (slice(0, 2), slice(1, 3)), (2, 1)),
    ("None", None, (4,)),
    ("True", True, (3, 4)),
    ("False: nothing written", False, (4,)),
    ("int array", _i(0, 2), (2, 4)),
    ("int array, broadcast row", _i(2, 0), (4,)),
    ("int array, leading 1s", _i(0, 2), (1, 2, 4)),
    ("int array, number", _i(1), 7.0),
    ("list", [0, 2], ()),
    ("two arrays", (_i(0, 2), _i(1, 3)), (2,)),
    ("mask", _M, (6,)),
    ("row mask", _M[:, 0], 1.5),
    ("slice then array", (slice(None), _i(3, 0)), (3, 2)),
    ("int then array (CopySlices of index_put_)", (0, _i(1, 2)), (2,)),
    ("repeated positions: the last write wins", _i(1, 1), (2, 4)),
    ("0-d tensor index", "tensor(1)", (4,)),
    ("numpy integer", np.int64(2), 1.0),
    ("range", range(1, 3), (2, 4)),
    ("range and list", (range(2), [0, 2]), ()),
    ("slice then range", (slice(None), range(3, 1, -1)), (3, 2)),
    ("list holding a range and a list: read as a tuple", [range(2), [0, 2]], (2,)),
    ("list holding a range and an int", [range(3), 1], (3,)),
]


def _index(mod, index):
    return mod.tensor(1) if isinstance(index, str) else index


def _write(mod, index, value):
    """x (a leaf) -> y = x.clone(); y[index] = value. Returns what a test compares."""
    x = mod.tensor(_X, requires_grad=True)
    v = mod.tensor(np.full(value, 0.25) + np.arange(int(np.prod(value))).reshape(value),
                   requires_grad=True) if isinstance(value, tuple) else value
    y = x.clone()
    before = y._version
    result = y.__setitem__(_index(mod, index), v)
    leaves = [x] + ([v] if isinstance(v, mod.Tensor) else [])
    grads = mod.autograd.grad((y * mod.tensor(_W)).sum(), leaves, allow_unused=True)
    return {
        "returned": result,
        "value": _np(y),
        "bump": y._version - before,
        "tree": node_tree(y.grad_fn),
        "grads": [None if g is None else _np(g) for g in grads],
    }


@pytest.mark.parametrize("label, index, value", CASES, ids=[c[0] for c in CASES])
def test_setitem_matches_torch(label, index, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _write(tape, index, value), _write(torch, index, value)
    assert ours["returned"] is None
    np.testing.assert_allclose(ours["value"], theirs["value"], rtol=1e-12)
    assert ours["bump"] == theirs["bump"]
    assert ours["tree"] == theirs["tree"]
    for a, b in zip(ours["grads"], theirs["grads"]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def _double_backward(mod, through_view):
    x = mod.tensor(_X, requires_grad=True)
    v = mod.tensor([0.5, -1.0, 2.0, 1.5], dtype=mod.float64, requires_grad=True)
    y = x * 2
    y[...] = x * v
    y[_i(0, 2)] = v * v
    if through_view:
        y[1:, 1] = x[0, :2] * x[2, 3]
    loss = (y * y * mod.tensor(_W)).sum()
    gx, gv = mod.autograd.grad(loss, [x, v], create_graph=True)
    return [_np(t) for t in (gx, gv) + mod.autograd.grad((gx * gx).sum() + gv.sum(), [x, v])]


@pytest.mark.parametrize("through_view", [False, True])
def test_setitem_double_backward(through_view):
    """create_graph through writes into a tensor (copy_, index_put_) and into a view."""
    for a, b in zip(_double_backward(tape, through_view), _double_backward(torch, through_view)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# ---- versions and views ---------------------------------------------------------------


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_views_share_the_write(mod):
    y = mod.zeros(3, 4)
    row = y[1]
    v0 = row._version
    y[1, 2] = 5.0
    assert row._version == v0 + 1 == y._version
    assert row.tolist() == [0.0, 0.0, 5.0, 0.0]
    row[0] = 1.0
    assert y[1, 0].item() == 1.0 and y._version == v0 + 2


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_value_requiring_grad_into_a_plain_tensor(mod):
    y = mod.zeros(3)
    v = mod.tensor(2.0, requires_grad=True)
    y[1] = v
    y[[0, 2]] = v * 3
    assert y.requires_grad and y.tolist() == [6.0, 2.0, 6.0]
    y.sum().backward()
    assert v.grad.item() == 7.0


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_write_after_save_breaks_backward(mod):
    """A value saved for backward and then overwritten: torch's error, in both."""
    w = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w.clone()
    z = (y * w).sum()  # mul saves y (for w's gradient)
    y[0] = 10.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_no_grad_writes_into_a_leaf(mod):
    x = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with mod.no_grad():
        x[0] = 5.0
        x[[1]] = 6.0
    assert x.tolist() == [5.0, 6.0, 3.0] and x._version == 2 and x.is_leaf and x.grad_fn is None


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_integer_and_bool_tensors(mod):
    y = mod.zeros(4, dtype=mod.int64)
    y[1] = 2.7  # truncated, as torch converts the number to the tensor's dtype
    y[mod.tensor([False, False, True, True])] = 3
    b = mod.zeros(2, dtype=mod.bool)
    b[0] = True
    assert y.tolist() == [0, 2, 3, 3] and b.tolist() == [True, False]


# ---- errors ---------------------------------------------------------------------------


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


BAD = [
    ("leaf", lambda m, x: x, 0, 1.0),
    ("leaf, full slice", lambda m, x: x, slice(None), 1.0),
    ("leaf, ellipsis", lambda m, x: x, Ellipsis, 1.0),
    ("leaf, advanced", lambda m, x: x, [0], 1.0),
    ("leaf, value of the wrong size", lambda m, x: x, 0, (3,)),
    ("leaf, advanced, value of the wrong size", lambda m, x: x, [0, 1], (3,)),
    ("leaf, advanced, other dtype", lambda m, x: x, [0], "float32 (4,)"),
    ("view of a leaf", lambda m, x: x[0], 1, 1.0),
    ("view of a leaf, whole", lambda m, x: x[1:], Ellipsis, 1.0),
    ("output of unbind", lambda m, x: x.clone().unbind(0)[0], Ellipsis, 1.0),
    ("output of unbind, through a view", lambda m, x: x.clone().unbind(0)[0], 0, 1.0),
    ("output of unbind, advanced", lambda m, x: x.clone().unbind(0)[1], [0], 1.0),
    ("float index tensor", lambda m, x: x.clone(), "float tensor", 1.0),
    ("float index", lambda m, x: x.clone(), 1.5, 1.0),
    ("out of bounds", lambda m, x: x.clone(), 5, 1.0),
    ("out of bounds, second dim", lambda m, x: x.clone(), (0, 4), 1.0),
    ("out of bounds, advanced", lambda m, x: x.clone(), (slice(None), [0, 9]), 1.0),
    ("too many indices", lambda m, x: x.clone(), (0, 0, 0), 1.0),
    ("mask of the wrong shape", lambda m, x: x.clone(), "mask [2]", 1.0),
    ("value too big", lambda m, x: x.clone(), 0, (2, 4)),
    ("value of the wrong size", lambda m, x: x.clone(), 0, (3,)),
    ("value of the wrong size, advanced", lambda m, x: x.clone(), [0, 1], (3,)),
    ("advanced, other dtype", lambda m, x: x.clone(), [0], "float32 (4,)"),
    ("a list value", lambda m, x: x.clone(), 0, [1.0, 2.0, 3.0, 4.0]),
    ("a numpy value", lambda m, x: x.clone(), 0, np.ones(4)),
    ("0-d tensor, int index", lambda m, x: x.clone().sum(), 0, 1.0),
    ("zero slice step", lambda m, x: x.clone(), slice(None, None, 0), 1.0),
    ("negative slice step", lambda m, x: x.clone(), (slice(None), slice(None, None, -1)), 1.0),
]


def _bad_index(m, index):
    if not isinstance(index, str):
        return index
    if index == "float tensor":
        return m.tensor([0.0])
    if index == "mask [2]":
        return m.tensor([True, False])
    return index


def _bad_value(m, value):
    if isinstance(value, str):
        return m.ones(4, dtype=m.float32)
    if isinstance(value, tuple):
        return m.ones(value, dtype=m.float64, requires_grad=True)
    return value


@pytest.mark.parametrize("label, target, index, value", BAD, ids=[b[0] for b in BAD])
def test_bad_writes_raise_like_torch_and_change_nothing(label, target, index, value):
    errors = []
    for m in (torch, tape):
        x = m.tensor(_X, requires_grad=True)
        t = target(m, x)
        idx, val = _bad_index(m, index), _bad_value(m, value)
        before_versions = (x._version, t._version)
        before_values = _np(t)
        with _gc_paused():
            before_records = len(tape.TAPE.records())
            with pytest.raises(Exception) as info:
                t[idx] = val
            after_records = len(tape.TAPE.records())
        errors.append(_normalized(info.value))
        if m is tape:
            assert after_records == before_records, "a record was left on the tape"
            assert (x._version, t._version) == before_versions, "a version counter moved"
            np.testing.assert_array_equal(_np(t), before_values)
            assert t.grad_fn is None or type(t.grad_fn).__name__ != "CopySlices"
    assert errors[1] == errors[0]


# ---- index_put_ / index_put -----------------------------------------------------------


@pytest.mark.parametrize("mod", MODULES, ids=MODULE_IDS)
def test_index_put_accumulate(mod):
    y = mod.zeros(3, 2, dtype=mod.float64)
    v = mod.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mod.float64, requires_grad=True)
    out = y.index_put_((mod.tensor([0, 0, 2]),), v, accumulate=True)
    assert out is y and y.tolist() == [[4.0, 6.0], [0.0, 0.0], [5.0, 6.0]]
    assert type(y.grad_fn).__name__ == "IndexPutBackward0" and y._version == 1
    (y * mod.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mod.float64)).sum().backward()
    assert v.grad.tolist() == [[1.0, 2.0], [1.0, 2.0], [5.0, 6.0]]


INDEX_PUT_BAD = [
    ("number value", lambda m, x, v: x.index_put((m.tensor([0]),), 1.0)),
    ("other dtype", lambda m, x, v: x.index_put((m.tensor([0]),), m.tensor(1.0))),
    ("too many indices", lambda m, x, v: x.index_put((m.tensor(0), m.tensor(0), m.tensor(0)), v)),
    ("out of bounds", lambda m, x, v: x.index_put((m.tensor([3]),), v)),
    ("float index", lambda m, x, v: x.index_put((m.tensor([1.0]),), v)),
    ("shape", lambda m, x, v: x.index_put((m.tensor([0, 1]),), m.ones(3, dtype=m.float64))),
    ("leaf, in place", lambda m, x, v: x.index_put_((m.tensor([0]),), v)),
    ("leaf, in place, bad index", lambda m, x, v: x.index_put_((m.tensor([0.5]),), v)),
]


@pytest.mark.parametrize("label, fn", INDEX_PUT_BAD, ids=[b[0] for b in INDEX_PUT_BAD])
def test_index_put_errors(label, fn):
    errors = []
    for m in (torch, tape):
        x = m.tensor(_X, requires_grad=True)
        v = m.tensor(1.0, dtype=m.float64)
        with _gc_paused():
            before = len(tape.TAPE.records())
            with pytest.raises(Exception) as info:
                fn(m, x, v)
            after = len(tape.TAPE.records())
        errors.append(_normalized(info.value))
        if m is tape:
            assert after == before and x._version == 0
    assert errors[0] == errors[1]


# ---- writes whose source shares memory with the target ----------------------------------
# torch refuses a source that overlaps the written-to tensor in part (some elements in
# common, or the same elements in another layout) where both are dense; the same memory read
# as the same layout is allowed (`a.copy_(a)`, `a += a`). index_put_ refuses any overlap of
# the target with its values or indices, unless it writes one value through one mask (then it
# is masked_fill_). Overlaps torch cannot decide cheaply (strided views) are not checked.

def _engine(label, body):  # an in-place op's operand: tape/engine.py's call_inplace checks it
    return pytest.param(body, id=label)


def _set(t, index, value):
    t[index] = value
    return t


OVERLAP = [
    pytest.param(lambda m, a: _set(a, slice(1, None), a[:-1]), id="shifted right"),
    pytest.param(lambda m, a: _set(a, slice(None, -1), a[1:]), id="shifted left"),
    pytest.param(lambda m, a: _set(a, slice(0, 2), a[1:3]), id="overlapping halves"),
    pytest.param(lambda m, a: _set(a, slice(1, None), a[None, :-1]), id="value with a leading 1"),
    pytest.param(lambda m, a: _set(a, slice(1, 3), a[1]), id="0-d value inside the target (fill_)"),
    pytest.param(lambda m, a: _set(a, slice(None), a), id="the same memory"),
    pytest.param(lambda m, a: _set(a, Ellipsis, a), id="the same memory, ellipsis"),
    pytest.param(lambda m, a: _set(a, slice(0, 2), a[2:]), id="disjoint halves"),
    pytest.param(lambda m, a: _set(a, slice(1, None), a[:1]), id="expanded value (not checked)"),
    pytest.param(lambda m, a: _set(a.view(2, 3), (0, slice(1, None)), a[:2]), id="row, shifted"),
    pytest.param(lambda m, a: _set(a.view(2, 3), 1, a[:3]), id="row from another row"),
    pytest.param(lambda m, a: _set(a.view(2, 3), (slice(None), 0), a[1:3]),
                 id="strided target (not checked)"),
    pytest.param(lambda m, a: _set(a, [1, 2, 3], a[:-1]), id="advanced, shifted"),
    pytest.param(lambda m, a: _set(a, m.tensor([0, 1, 2, 3, 4, 5]), a), id="advanced, the same memory"),
    pytest.param(lambda m, a: _set(a, [4, 5], a[0]), id="advanced, 0-d value elsewhere in the target"),
    pytest.param(lambda m, a: _set(a, m.tensor([True] * 6), a), id="mask, the same memory"),
    pytest.param(lambda m, a: _set(a, m.tensor([True, False] * 3), a[0]),
                 id="mask, 0-d value (masked_fill_)"),
    pytest.param(lambda m, a: _set(a, m.tensor([True, False] * 3), a[:1]), id="mask, 1-element value"),
    pytest.param(lambda m, a: _set(a, [0, 1], a[2:4].clone()), id="advanced, a clone"),
    pytest.param(lambda m, a: _set(a, [0, 1], a[:3]), id="advanced, overlap before the shape check"),
    pytest.param(lambda m, a: a.index_put_((m.tensor([0, 1]),), a[2:4]), id="index_put_"),
    pytest.param(lambda m, a: a.index_put_((m.tensor([0, 1]),), a[2:4], accumulate=True),
                 id="index_put_ accumulate"),
    pytest.param(lambda m, a: a.index_put_((m.tensor([True] * 6),), a[0]), id="index_put_ mask, 0-d value"),
    pytest.param(lambda m, a: (lambda b: b.index_put_((b[:2],), m.tensor([5, 6])))(a.long()),
                 id="index_put_, the index in the target"),
    pytest.param(lambda m, a: (lambda b: _set(b, b[:2], 5))(a.long()), id="setitem, the index in the target"),
    _engine("copy_ shifted", lambda m, a: a[1:].copy_(a[:-1])),
    _engine("copy_ transposed", lambda m, a: (lambda b: b.copy_(b.t()))(a[:4].view(2, 2))),
    _engine("add_ shifted", lambda m, a: a[1:].add_(a[:-1])),
    _engine("+= shifted", lambda m, a: _iadd(a, slice(1, None), a[:-1])),
    _engine("mul_ by an element inside", lambda m, a: a[1:].mul_(a[2])),
    _engine("clamp_ by a shifted bound", lambda m, a: a[1:].clamp_(min=a[:-1])),
    _engine("overlap before the broadcast check", lambda m, a: a.add_(a.view(1, 6))),
    pytest.param(lambda m, a: a.copy_(a), id="copy_ the same memory"),
    pytest.param(lambda m, a: a.add_(a), id="add_ the same memory"),
    pytest.param(lambda m, a: a[:3].add_(a[3:]), id="add_ disjoint"),
    pytest.param(lambda m, a: a[1:].add_(a[:1]), id="add_ a 1-element neighbour"),
]


def _iadd(t, index, value):
    t[index] += value
    return t


def _after(body, m):
    a = m.arange(6.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = body(m, a)
    except Exception as exc:  # noqa: BLE001 - compared with torch's
        return ("raised", type(exc).__name__, str(exc).replace("torch.", "tape."), a.tolist(), a._version)
    return (out.tolist(), a.tolist(), a._version)


@pytest.mark.parametrize("body", OVERLAP)
def test_overlapping_source_like_torch(body):
    with _gc_paused():
        before = len(tape.TAPE.records())
        ours = _after(body, tape)
        after = len(tape.TAPE.records())
    assert ours == _after(body, torch)
    if ours[0] == "raised":
        assert after == before, "a record was left on the tape"


# ---- writes into an expanded tensor (elements sharing memory) ----------------------------
# torch allows zero_, fill_ with a number, masked_fill_ and index_put_ (with a warning) and
# writes through views with no repeated element (e[0]); the rest raise, changing nothing.


def _allowed(label, body):
    return pytest.param(body, id=label)


EXPANDED = [
    _allowed("zero_", lambda m, e: e.zero_()),
    _allowed("fill_ number", lambda m, e: e.fill_(1.5)),
    _allowed("detach().zero_()", lambda m, e: e.detach().zero_()),
    _allowed("masked_fill_", lambda m, e: e.masked_fill_(m.tensor([True, False, True]), 2.0)),
    _allowed("index_put_", lambda m, e: e.index_put_((m.tensor([0]),), m.tensor(3.0))),
    _allowed("setitem, one element", lambda m, e: _set(e, (0, 0), 1)),
    _allowed("setitem, a row", lambda m, e: _set(e, 0, m.tensor([1.0, 2.0, 3.0]))),
    _allowed("setitem, advanced", lambda m, e: _set(e, [0], 5.0)),
    _allowed("setitem, mask", lambda m, e: _set(e, m.tensor([True, False]), 5.0)),
    _allowed("+= into a row", lambda m, e: _iadd(e, 0, 1.0)),
    _allowed("add_ into a row", lambda m, e: e[0].add_(1.0)),
    _allowed("zero_ a column", lambda m, e: e[:, 0].zero_()),
    pytest.param(lambda m, e: e.fill_(m.tensor(2.0)), id="fill_ 0-d tensor"),
    pytest.param(lambda m, e: e.add_(1.0), id="add_"),
    pytest.param(lambda m, e: e.copy_(m.ones(2, 3)), id="copy_"),
    pytest.param(lambda m, e: e.neg_(), id="neg_"),
    pytest.param(lambda m, e: _set(e, (slice(None), 0), 5.0), id="setitem, a column"),
    pytest.param(lambda m, e: _set(e, Ellipsis, m.ones(3)), id="setitem, everything"),
    pytest.param(lambda m, e: e[:, 0].add_(1.0), id="add_ into a column"),
]


def _expanded_after(body, m):
    base = m.zeros(1, 3)
    e = base.expand(2, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            body(m, e)
            error = None
        except Exception as exc:  # noqa: BLE001 - compared with torch's
            error = (type(exc).__name__, str(exc))
    deprecated = sorted(str(w.message).split(" on ")[0] for w in caught if "expanded" in str(w.message))
    return error, base.tolist(), base._version, e._version, deprecated


@pytest.mark.parametrize("body", EXPANDED)
def test_write_into_an_expanded_tensor_like_torch(body):
    assert _expanded_after(body, tape) == _expanded_after(body, torch)


# ---- numbers written into a tensor, converted as torch converts them ----------------------
# (tape wrote NaN into an int64 tensor as -2**63, 2**40 into int32 as garbage, took a
# numpy.float32 value, and refused a one-element value of another dtype through a bool mask)


def _number_write(how, dtype, value):
    def body(m):
        x = m.zeros(3, dtype=getattr(m, dtype))
        if how == "fill_":
            x.fill_(value)
        elif how == "slice":
            x[1:] = value
        elif how == "mask":
            x[m.tensor([True, False, True])] = value
        else:
            x[m.tensor([0, 2])] = value
        return x.tolist(), str(x.dtype).split(".")[1]
    return body


NUMBER_WRITES = [
    (f"{how} {value!r} into {dtype}", _number_write(how, dtype, value))
    for how in ("fill_", "slice", "mask", "index")
    for dtype, values in (("float16", (70000.0, 3.5)), ("float32", (1e39, float("inf"))),
                          ("int64", (2 ** 63, 2 ** 64, -2 ** 63, float("nan"), float("inf"), 3.7)),
                          ("int32", (2 ** 31, -2 ** 31, 1e10)), ("uint8", (-1, -1.0, 256, -255, 300.0)),
                          ("bool", (2.5, 0)))
    for value in values
] + [
    (f"setitem {type(v).__name__}", _number_write("slice", "float32", v))
    for v in (np.float32(1.25), np.float64(1.25), np.int64(3), np.int32(-3), np.bool_(True), np.float16(1))
]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in NUMBER_WRITES])
def test_numbers_written_as_torch_converts_them(body):
    assert _outcome(body, tape) == _outcome(body, torch)


def _outcome(body, m):
    """What `body(m)` gave or raised, and the warnings it gave (torch gives none here)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            got = body(m)
        except Exception as exc:  # noqa: BLE001 - compared with torch's
            got = "raised", type(exc).__name__, str(exc).replace("torch.", "tape.")
    return got, [w.category.__name__ for w in seen]


@pytest.mark.parametrize("target, value", [
    (t, v) for t in ("float32", "int64", "bool") for v in ("int64 0-d", "float64 [1]", "bool [[1]]")
] + [("float32", "float64 0-d requiring grad")])  # (torch's int tensors that end up requiring
def test_one_element_value_through_a_bool_mask_is_cast(target, value):  # grad are its own corner)
    """torch's index_put_ writes it as a number (masked_fill_), whatever its dtype; the
    gradient reaching a value that requires grad is cast back to its dtype."""
    def body(m):
        dt, rest = value.split(" ", 1)
        shape = () if rest.startswith("0-d") else (1,) if rest.startswith("[1]") else (1, 1)
        v = m.full(shape, 7.9 if dt == "float64" else 1, dtype=getattr(m, dt),
                   requires_grad=rest.endswith("grad"))
        x = m.zeros(3, dtype=getattr(m, target))
        if v.requires_grad and target == "float32":
            x = x.requires_grad_() * 1
        x[m.tensor([True, False, True])] = v
        out = [x.tolist(), str(x.dtype).split(".")[1], node_tree(x.grad_fn)]
        if v.requires_grad and x.requires_grad:
            x.sum().backward()
            out += [v.grad.tolist(), str(v.grad.dtype).split(".")[1]]
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _outcome(body, tape), _outcome(body, torch)
    assert ours == theirs
