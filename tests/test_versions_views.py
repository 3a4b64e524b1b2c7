"""Version counters, views sharing storage, in-place ops on leaves, non-leaves and views
(issue 2). Everything here is compared with torch."""

from __future__ import annotations

import re

import pytest
from helpers import compare, kind, node_tree

# ---------------------------------------------------------------------------------------
# Every in-place op bumps _version and returns self

INPLACE = [
    ("add_", lambda m, t: t.add_(1)),
    ("add_ tensor", lambda m, t: t.add_(m.tensor([1.0, 2.0, 3.0, 4.0]))),
    ("add_ alpha", lambda m, t: t.add_(m.ones(4), alpha=2)),
    ("sub_", lambda m, t: t.sub_(1.5)),
    ("mul_", lambda m, t: t.mul_(2)),
    ("mul_ tensor", lambda m, t: t.mul_(m.tensor([1.0, 2.0, 3.0, 4.0]))),
    ("div_", lambda m, t: t.div_(2)),
    ("div_ tensor", lambda m, t: t.div_(m.tensor([1.0, 2.0, 4.0, 8.0]))),
    ("zero_", lambda m, t: t.zero_()),
    ("pow_", lambda m, t: t.pow_(2)),
    ("neg_", lambda m, t: t.neg_()),
    ("exp_", lambda m, t: t.exp_()),
    ("fill_", lambda m, t: t.fill_(7.0)),
    ("copy_", lambda m, t: t.copy_(m.tensor([4.0, 3.0, 2.0, 1.0]))),
]

OPERATORS = [
    ("+=", lambda t: t.__iadd__(1)),
    ("-=", lambda t: t.__isub__(1)),
    ("*=", lambda t: t.__imul__(3)),
    ("/=", lambda t: t.__itruediv__(2)),
]


@pytest.mark.parametrize("op", [c[1] for c in INPLACE], ids=[c[0] for c in INPLACE])
def test_inplace_op_bumps_version_and_returns_self(mod, op):
    t = mod.tensor([1.0, 2.0, 3.0, 4.0])
    assert t._version == 0
    assert op(mod, t) is t
    assert t._version == 1
    op(mod, t)
    assert t._version == 2


@pytest.mark.parametrize("op", [c[1] for c in INPLACE], ids=[c[0] for c in INPLACE])
def test_inplace_op_values_equal_torch(op):
    compare(lambda mod: (lambda t: (op(mod, t), t._version))(mod.tensor([1.0, 2.0, 3.0, 4.0])))


def test_augmented_assignment_bumps_version(mod):
    t = mod.tensor([1.0, 2.0])
    alias = t
    t += 1
    assert t is alias and t._version == 1 and t.tolist() == [2.0, 3.0]
    t -= 0.5
    assert t is alias and t._version == 2
    t *= 2
    assert t is alias and t._version == 3
    t /= 4
    assert t is alias and t._version == 4 and t.tolist() == [0.75, 1.25]


@pytest.mark.parametrize("op", [c[1] for c in OPERATORS], ids=[c[0] for c in OPERATORS])
def test_augmented_assignment_equals_torch(op):
    compare(lambda mod: (lambda t: (op(t), t._version))(mod.tensor([1.0, 2.0])))


def test_int_tensor_inplace_refuses_float_result():
    compare(lambda mod: mod.tensor([1, 2]).div_(2), phrase="can't be cast to the desired output type")
    compare(lambda mod: mod.tensor([1, 2]).mul_(1.5), phrase="can't be cast to the desired output type")


def test_inplace_broadcast_shape_error_equals_torch():
    compare(lambda mod: mod.ones(3).add_(mod.ones(2, 3)), phrase="doesn't match the broadcast shape")


# ---------------------------------------------------------------------------------------
# Views share storage and the version counter with their base

VIEWS = [
    ("slice", lambda b: b[0:1]),
    ("int index", lambda b: b[0]),
    ("column", lambda b: b[:, 1]),
    ("view", lambda b: b.view(4)),
    ("view -1", lambda b: b.view(-1, 1)),
    ("reshape", lambda b: b.reshape(4)),
    ("transpose", lambda b: b.transpose(0, 1)),
    ("t", lambda b: b.t()),
    ("permute", lambda b: b.permute(1, 0)),
    ("unbind", lambda b: b.unbind()[1]),
    ("unbind dim 1", lambda b: b.unbind(1)[0]),
    ("ellipsis", lambda b: b[...]),
    ("None", lambda b: b[None]),
    ("unsqueeze", lambda b: b.unsqueeze(0)),
    ("squeeze", lambda b: b[None].squeeze(0)),
    ("narrow", lambda b: b.narrow(0, 1, 1)),
    ("view of view", lambda b: b[1].view(2)[1:]),
    ("detach", lambda b: b.detach()),
]


@pytest.mark.parametrize("make", [c[1] for c in VIEWS], ids=[c[0] for c in VIEWS])
def test_views_share_storage_and_version_counter(mod, make):
    base = mod.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = make(base)
    assert v._version == base._version == 0
    v.mul_(10)
    assert base._version == 1 and v._version == 1
    assert base.sum().item() > 10.0 * 2  # the base saw the change
    before = v.sum().item()
    base.add_(1)
    assert v._version == 2
    assert v.sum().item() == before + v.numel()  # the view sees the base's change


@pytest.mark.parametrize("make", [c[1] for c in VIEWS], ids=[c[0] for c in VIEWS])
def test_views_equal_torch(make):
    def body(mod):
        base = mod.tensor([[1.0, 2.0], [3.0, 4.0]])
        v = make(base)
        v.mul_(10)
        base.add_(1)
        return base, v, base._version, v._version, v._base is base or v._base is None

    compare(body)


def test_view_base_is_the_root_base(mod):
    base = mod.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert base[0]._base is base
    assert base[0][1:]._base is base
    assert base.t()[0]._base is base
    assert base.unbind()[0][None]._base is base
    assert base._base is None
    assert base.clone()._base is None


NOT_VIEWS = [
    ("clone", lambda m, b: b.clone()),
    ("mask", lambda m, b: b[b > 2]),
    ("list index", lambda m, b: b[[0, 1]]),
    ("tensor index", lambda m, b: b[m.tensor([1])]),
    ("arithmetic", lambda m, b: b * 1),
    ("data", lambda m, b: b.data),
]


@pytest.mark.parametrize("make", [c[1] for c in NOT_VIEWS], ids=[c[0] for c in NOT_VIEWS])
def test_copies_do_not_share_the_version_counter(mod, make):
    base = mod.tensor([[1.0, 2.0], [3.0, 4.0]])
    c = make(mod, base)
    c.add_(0)
    assert base._version == 0 and c._version == 1


# A fresh result's version: 0, except where torch's own composition wrote it in place
# (matmul of a vector by a matrix squeeze_()s its mm result)
FRESH_RESULTS = [
    ("vector @ matrix", lambda m, rg: m.ones(3, requires_grad=rg) @ m.ones(3, 2)),
    ("matrix @ vector", lambda m, rg: m.ones(2, 3, requires_grad=rg) @ m.ones(3)),
    ("vector @ vector", lambda m, rg: m.ones(3, requires_grad=rg) @ m.ones(3)),
    ("vector @ batch", lambda m, rg: m.ones(3, requires_grad=rg) @ m.ones(2, 3, 2)),
    ("matrix @ matrix", lambda m, rg: m.ones(2, 3, requires_grad=rg) @ m.ones(3, 2)),
    ("linear of a vector", lambda m, rg: m.nn.functional.linear(m.ones(3, requires_grad=rg), m.ones(2, 3))),
]


@pytest.mark.parametrize("rg", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("make", [c[1] for c in FRESH_RESULTS], ids=[c[0] for c in FRESH_RESULTS])
def test_a_fresh_result_has_torchs_version(make, rg):
    compare(lambda m: make(m, rg)._version)


# ---------------------------------------------------------------------------------------
# In-place on leaves that require grad (and their views) is refused

LEAF_INPLACE = [
    ("add_", lambda a: a.add_(1)),
    ("sub_", lambda a: a.sub_(1)),
    ("mul_", lambda a: a.mul_(2)),
    ("div_", lambda a: a.div_(2)),
    ("zero_", lambda a: a.zero_()),
    ("exp_", lambda a: a.exp_()),
    ("+=", lambda a: a.__iadd__(1)),
    ("-=", lambda a: a.__isub__(1)),
    ("*=", lambda a: a.__imul__(2)),
    ("/=", lambda a: a.__itruediv__(2)),
]

LEAF_VIEW_INPLACE = [
    ("slice", lambda a: a[0:2].mul_(2)),
    ("int", lambda a: a[0].add_(1)),
    ("view", lambda a: a.view(3).add_(1)),
    ("unsqueeze", lambda a: a[None].zero_()),
    ("view of view", lambda a: a[1:][0].sub_(1)),
]


@pytest.mark.parametrize("op", [c[1] for c in LEAF_INPLACE], ids=[c[0] for c in LEAF_INPLACE])
def test_inplace_on_leaf_requiring_grad_raises(mod, op):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError,
                       match="a leaf Variable that requires grad is being used in an in-place operation."):
        op(a)
    assert a._version == 0 and a.tolist() == [1.0, 2.0, 3.0]
    assert a.is_leaf and a.grad_fn is None


@pytest.mark.parametrize("op", [c[1] for c in LEAF_VIEW_INPLACE], ids=[c[0] for c in LEAF_VIEW_INPLACE])
def test_inplace_on_view_of_leaf_requiring_grad_raises(mod, op):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        op(a)
    assert a._version == 0 and a.tolist() == [1.0, 2.0, 3.0]


def test_inplace_on_unbind_output_of_leaf_names_unbind():
    compare(lambda mod: mod.tensor([1.0, 2.0], requires_grad=True).unbind()[0].add_(1),
            phrase="Output 0 of Unbind is a view and is being modified inplace")


def test_inplace_on_unbind_output_of_non_leaf_raises():
    compare(lambda mod: (mod.tensor([1.0, 2.0], requires_grad=True) * 2).unbind()[1].mul_(2),
            phrase="Output 1 of Unbind is a view and is being modified inplace")


def test_inplace_on_leaf_allowed_under_no_grad(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    with mod.no_grad():
        a.add_(1)
        a[0].mul_(2)
        a -= 1
    assert a.tolist() == [3.0, 2.0] and a._version == 3
    assert a.is_leaf and a.requires_grad and a.grad_fn is None


def test_inplace_on_leaf_without_grad_is_allowed(mod):
    a = mod.tensor([1.0, 2.0])
    a.mul_(2)
    assert a.is_leaf and not a.requires_grad and a.grad_fn is None


def test_inplace_on_detached_leaf_is_allowed(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    a.detach().mul_(2)
    assert a.tolist() == [2.0, 4.0] and a._version == 1


# ---------------------------------------------------------------------------------------
# In-place on non-leaves is recorded: torch's nodes and gradients


def test_inplace_mul_on_non_leaf_graph(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0], requires_grad=True)
    c = a.clone()
    c.mul_(b)
    assert kind(c.grad_fn) == "MulBackward0" and not c.is_leaf and c._version == 1
    (n0, i0), (n1, i1) = c.grad_fn.next_functions
    assert (kind(n0), i0, kind(n1), i1) == ("CloneBackward0", 0, "AccumulateGrad", 0)
    assert n1.variable is b
    c.sum().backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


NON_LEAF_INPLACE = [
    ("c.mul_(b)", lambda m, a, b: (lambda c: (c.mul_(b), c))(a.clone())[1]),
    ("c.mul_(2)", lambda m, a, b: (lambda c: (c.mul_(2), c))(a.clone())[1]),
    ("c.add_(b, alpha=3)", lambda m, a, b: (lambda c: (c.add_(b, alpha=3), c))(a * 1)[1]),
    ("c.sub_(b)", lambda m, a, b: (lambda c: (c.sub_(b), c))(a.clone())[1]),
    ("c.div_(b)", lambda m, a, b: (lambda c: (c.div_(b), c))(a.clone())[1]),
    ("c.div_(2)", lambda m, a, b: (lambda c: (c.div_(2), c))(a.clone())[1]),
    ("c.pow_(2)", lambda m, a, b: (lambda c: (c.pow_(2), c))(a.clone())[1]),
    ("c.pow_(b)", lambda m, a, b: (lambda c: (c.pow_(b), c))(a.clone())[1]),
    ("c.exp_()", lambda m, a, b: (lambda c: (c.exp_(), c))(a.clone())[1]),
    ("c.neg_()", lambda m, a, b: (lambda c: (c.neg_(), c))(a.clone())[1]),
    ("c.zero_()", lambda m, a, b: (lambda c: (c.zero_(), c))(a.clone())[1]),
    ("c.mul_(c)", lambda m, a, b: (lambda c: (c.mul_(c), c))(a * 2)[1]),
    ("chain of operators", lambda m, a, b: (lambda c: (c.__iadd__(1), c.__imul__(b), c.__isub__(3),
                                                       c.__itruediv__(b), c))(a.clone())[-1]),
    ("twice mul_", lambda m, a, b: (lambda c: (c.mul_(b), c.mul_(b), c))(a.exp())[-1]),
    ("leaf without grad += a", lambda m, a, b: (lambda c: (c.__iadd__(a), c))(m.zeros(2))[1]),
    ("leaf without grad mul_(b)", lambda m, a, b: (lambda c: (c.mul_(b), c))(m.ones(2))[1]),
]


@pytest.mark.parametrize("body", [c[1] for c in NON_LEAF_INPLACE], ids=[c[0] for c in NON_LEAF_INPLACE])
def test_inplace_on_non_leaf_equals_torch(body):
    def run(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        b = mod.tensor([3.0, 0.5], requires_grad=True)
        c = body(mod, a, b)
        tree = node_tree(c.grad_fn)
        (c * mod.tensor([1.0, 10.0])).sum().backward()
        return c, tree, c._version, a.grad, b.grad

    compare(run, rtol=1e-5)


def test_inplace_on_non_leaf_then_saved_check(mod):
    """The in-place op saves what its own backward needs: changing that later is caught."""
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    c = a.clone()
    c.exp_()  # saves its result: c at version 1
    c.add_(1)
    with pytest.raises(RuntimeError, match="is at version 2; expected version 1"):
        c.sum().backward()


# ---------------------------------------------------------------------------------------
# In-place on views of non-leaves: CopySlices on the base, AsStridedBackward0 on the view


def test_inplace_on_view_of_non_leaf_nodes(mod):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a.clone()
    v = c[0:2]
    v.mul_(2)
    assert kind(c.grad_fn) == "CopySlices" and c.grad_fn.name() == "torch::autograd::CopySlices"
    assert kind(v.grad_fn) == "AsStridedBackward0"
    assert v.grad_fn.next_functions[0][0] is c.grad_fn
    (inner, _), (other, _) = c.grad_fn.next_functions
    assert kind(inner) == "CloneBackward0" and other is None
    assert c._version == v._version == 1
    (c * mod.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert a.grad.tolist() == [2.0, 20.0, 100.0]


VIEW_INPLACE = [
    ("c[0:2].mul_(2)", lambda m, a, b: (lambda c: (c[0:2].mul_(2), c))(a.clone())[1]),
    ("c[0:2].add_(1)", lambda m, a, b: (lambda c: (c[0:2].add_(1), c))(a.clone())[1]),
    ("c[1].add_(b[0])", lambda m, a, b: (lambda c: (c[1].add_(b[0]), c))(a.clone())[1]),
    ("c[1:].mul_(b)", lambda m, a, b: (lambda c: (c[1:].mul_(b), c))(a * 1)[1]),
    ("c[::2].sub_(b)", lambda m, a, b: (lambda c: (c[::2].sub_(b), c))(a.exp())[1]),
    ("view then mul_", lambda m, a, b: (lambda c: (c.view(3, 1)[1:].mul_(3), c))(a.clone())[1]),
    ("zeros[1:].add_(b)", lambda m, a, b: (lambda c: (c[1:].add_(b * 2), c))(m.zeros(3))[1]),
    ("zeros[1:] += b", lambda m, a, b: (lambda c: (c[1:].__iadd__(b), c))(m.zeros(3))[1]),
    ("two views", lambda m, a, b: (lambda c: (c[0:1].mul_(5), c[2:].add_(1), c))(a.clone())[-1]),
    ("view zero_", lambda m, a, b: (lambda c: (c[1:].zero_(), c))(a.clone())[1]),
    ("view exp_", lambda m, a, b: (lambda c: (c[:2].exp_(), c))(a.clone())[1]),
]


@pytest.mark.parametrize("body", [c[1] for c in VIEW_INPLACE], ids=[c[0] for c in VIEW_INPLACE])
def test_inplace_on_view_of_non_leaf_equals_torch(body):
    def run(mod):
        a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = mod.tensor([3.0, 0.5], requires_grad=True)
        c = body(mod, a, b)
        tree = node_tree(c.grad_fn)
        (c * c * mod.tensor([1.0, 10.0, 100.0])).sum().backward()
        return c, tree, c._version, a.grad, b.grad

    compare(run, rtol=1e-5)


def test_inplace_on_2d_views_of_non_leaf_equals_torch():
    def run(mod):
        a = mod.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        c = a.clone()
        c[0].add_(10)
        c[:, 1].mul_(3)
        c.t()[0].sub_(1)
        tree = node_tree(c.grad_fn)
        (c ** 2).sum().backward()
        return c, tree, a.grad

    compare(run)


def test_view_read_after_inplace_on_view(mod):
    """After v.mul_(), v's node is AsStridedBackward0 and gradients through v are torch's."""
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 1
    v = c[1:]
    v.mul_(2)
    (v * v).sum().backward()
    assert a.grad.tolist() == [0.0, 16.0, 24.0]


def test_inplace_on_view_of_saved_result_is_caught():
    """exp saved its result; writing into a view of it bumps the shared version."""

    def run(mod):
        a = mod.tensor([1.0, 2.0], requires_grad=True)
        y = a.exp()
        y[0:1].mul_(2)
        y.sum().backward()

    compare(run, phrase="modified by an inplace operation")


# NOTE [stale views]: a view used after its base (or a sibling view) changed in place gets
# torch's regenerated history, an AsStridedBackward0 of the base's current one
def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _stale(make, use):
    def body(m):
        b = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        a = b * 1
        views = make(m, a, b)
        out = use(m, *views)
        out.backward(m.ones(out.shape))
        return [_name(v) for v in views], b.grad
    return body


STALE = [
    ("base changed, then the view used", _stale(lambda m, a, b: (a[0], a.mul_(3))[:1],
                                                lambda m, v: v * 2)),
    ("a sibling changed", _stale(lambda m, a, b: (a[:, 1:], a[:, :2].mul_(10), a[:, 1:])[:1],
                                 lambda m, v: v.sum())),
    ("a view's view changed", _stale(lambda m, a, b: (lambda v: (v, v[1:].mul_(3)))(a[0]),
                                     lambda m, v, w: v * 2 + w.sum())),
    ("base changed by a leaf", _stale(lambda m, a, b: (a.view(6), a.mul_(b))[:1],
                                      lambda m, v: v)),
    ("transposed view", _stale(lambda m, a, b: (a.t(), a.add_(1))[:1], lambda m, v: v * v)),
    ("the view as the root", _stale(lambda m, a, b: (a[1], a.mul_(2))[:1], lambda m, v: v)),
    ("both views changed", _stale(lambda m, a, b: (a[0], a[1], a[0].mul_(5), a[1].mul_(7))[:2],
                                  lambda m, v, w: v.sum() + w.sum())),
]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in STALE])
def test_a_stale_view_gets_its_history_made_again(body):
    compare(body)


def test_a_stale_view_keeps_retain_grad_and_asks_grad_fn_lazily(mod):
    b = mod.ones(3, requires_grad=True)
    a = b * 1
    v = a[1:]
    v.retain_grad()
    a.mul_(2)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    assert type(v.grad_fn.next_functions[0][0]).__name__ == "MulBackward0"
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [0.0, 6.0, 6.0]


def test_retain_grad_follows_an_in_place_op(mod):
    b = mod.ones(2, requires_grad=True)
    a = b * 2
    a.retain_grad()
    a.mul_(3)
    (a * a).sum().backward()
    assert a.retains_grad and a.grad.tolist() == [12.0, 12.0]


# views made under no_grad of a tensor that requires grad: they require grad, as leaves with
# no gradient edge, and refuse in-place changes once grad mode is back
NO_GRAD_VIEWS = [
    ("a leaf's view", lambda m, x, h: x[:2]), ("a non-leaf's view", lambda m, x, h: h[:2]),
    ("view()", lambda m, x, h: x.view(3)), ("a view's view", lambda m, x, h: x[:2][1:]),
]


@pytest.mark.parametrize("make", [c[1] for c in NO_GRAD_VIEWS], ids=[c[0] for c in NO_GRAD_VIEWS])
def test_views_made_under_no_grad(mod, make):
    x = mod.ones(3, requires_grad=True)
    h = x * 1
    with mod.no_grad():
        v = make(mod, x, h)
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    y = (v * 3).sum()
    assert y.grad_fn.next_functions[0][0].next_functions[0] == (None, 0)
    y.backward()
    assert x.grad is None and v.grad is None
    with mod.no_grad():
        v.mul_(2)  # inside no_grad: allowed
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being "
                                           "modified inplace with grad mode enabled"):
        v.mul_(2)


def test_a_view_of_a_leaf_that_later_requires_grad_refuses_in_place(mod):
    a = mod.ones(3)
    v = a[:2]
    a.requires_grad_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        v.mul_(2)
    assert a.tolist() == [1.0, 1.0, 1.0]


# leaves that are views themselves (of a base with no history), as common idioms make them
VIEW_LEAVES = [
    ("arange.reshape", lambda m: m.arange(6.0).reshape(2, 3).requires_grad_()),
    ("randn.T", lambda m: m.ones(2, 3).T.requires_grad_()),
    ("indexed with None", lambda m: m.ones(4)[None].requires_grad_()),
    ("sliced", lambda m: m.zeros(5)[1:4].requires_grad_()),
    ("view of a view", lambda m: m.ones(2, 3).view(6)[:4].requires_grad_()),
]
VIEW_LEAF_WRITES = [
    ("add_", lambda w: w.add_(1)),
    ("zero_", lambda w: w.zero_()),
    ("setitem", lambda w: w.__setitem__(0, 5.0)),
    ("a view of it, mul_", lambda w: w[0].mul_(2)),
    ("a view of it, setitem", lambda w: w.unsqueeze(0).__setitem__(0, 2.0)),
    ("+=", lambda w: w.__iadd__(1)),
]


@pytest.mark.parametrize("write", [c[1] for c in VIEW_LEAF_WRITES], ids=[c[0] for c in VIEW_LEAF_WRITES])
@pytest.mark.parametrize("make", [c[1] for c in VIEW_LEAVES], ids=[c[0] for c in VIEW_LEAVES])
def test_a_leaf_that_is_a_view_refuses_in_place(mod, make, write):
    """(tape wrote into it, and the leaf became a non-leaf whose gradient was lost)"""
    w = make(mod)
    before = w.tolist()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        write(w)
    assert w.tolist() == before and w._version == 0
    assert w.is_leaf and w.grad_fn is None
    (w * 2).sum().backward()
    assert (w.grad == 2).all()


def _grown_copy(m):
    x = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = m.zeros(4)
    v = a[2:]  # made while `a` needs no gradient
    a.copy_(x)  # now it has one
    (a.sum() + (v * v).sum()).backward()
    return v.requires_grad, type(v.grad_fn).__name__, v.is_leaf, x.grad


def _grown_through_another_view(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = m.zeros(3)
    v1, v2 = base[...], base.view(-1)
    v2.copy_(x)
    ((v1 * 10).sum() + v2.sum()).backward()
    return x.grad


def _grown_by_setitem(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = m.zeros(2, 2)
    v = b.t()
    v[0] = x[:2]
    v.sum().backward()
    return v.requires_grad, type(v.grad_fn).__name__, x.grad


def _grown_as_a_root(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    a = m.zeros(3)
    v = a[:2]
    a[1:] = x
    v.sum().backward()  # the older view as the root
    return x.grad


@pytest.mark.parametrize("body", [_grown_copy, _grown_through_another_view, _grown_by_setitem,
                                  _grown_as_a_root], ids=lambda f: f.__name__)
def test_a_view_of_a_base_that_gained_a_history(body):
    """A view made before its base was written with a value that needs a gradient gets the
    base's history (AsStridedBackward0) when used, as torch's (NOTE [views of a base that
    gained a history] in tape/views.py): its gradients were lost."""
    compare(body)


def _changed_then_backward(make, change):
    def body(m):
        x = m.tensor([[0.5, -1.0]], requires_grad=True)
        y, param = make(m, x)
        change(param)
        y.sum().backward()
        return x.grad
    return body


WATCHED_PARAMS = {
    "gather's index": (lambda m, x: (lambda i: (m.gather(x, 1, i), i))(m.tensor([[1, 1]])),
                       lambda i: i.zero_()),
    "index_select's index": (lambda m, x: (lambda i: (x.index_select(1, i), i))(m.tensor([1])),
                             lambda i: i.zero_()),
    "an index tensor": (lambda m, x: (lambda i: (x[:, i], i))(m.tensor([1])), lambda i: i.zero_()),
    "a bool mask": (lambda m, x: (lambda k: (x[k], k))(m.tensor([[True, False]])),
                    lambda k: k.fill_(False)),
    "masked_fill's mask": (lambda m, x: (lambda k: (x.masked_fill(k, 0.0), k))(m.tensor([[True, False]])),
                           lambda k: k.fill_(False)),
    "masked_fill_'s mask": (lambda m, x: (lambda k: ((x * 1).masked_fill_(k, 0.0), k))(
        m.tensor([[True, False]])), lambda k: k.fill_(False)),
    "cross_entropy's target": (lambda m, x: (lambda t: (m.nn.functional.cross_entropy(x, t), t))(
        m.tensor([1])), lambda t: t.zero_()),
    "nll_loss's weight": (lambda m, x: (lambda w: (m.nn.functional.nll_loss(x, m.tensor([1]), w), w))(
        m.tensor([1.0, 2.0])), lambda w: w.mul_(2)),
    "binary_cross_entropy_with_logits' pos_weight": (
        lambda m, x: (lambda w: (m.nn.functional.binary_cross_entropy_with_logits(
            x, m.ones(1, 2), pos_weight=w), w))(m.tensor([1.0, 2.0])), lambda w: w.mul_(2)),
}


@pytest.mark.parametrize("name", list(WATCHED_PARAMS))
def test_a_changed_index_mask_or_weight_raises_as_torch(name):
    """Tensors an op keeps as params are torch's saved tensors: changed in place before the
    backward, they are its error, not a gradient computed from the new values."""
    compare(_changed_then_backward(*WATCHED_PARAMS[name]), phrase="modified by an inplace operation")


@pytest.mark.parametrize("how", ["autograd.grad", "backward(inputs=)"])
@pytest.mark.parametrize("name", list(WATCHED_PARAMS))
def test_a_changed_index_mask_or_weight_raises_when_gradients_are_captured(name, how):
    """The same through autograd.grad and backward(inputs=), whose playback captures
    gradients (NOTE [watched alone]: the fast path there must check too)."""
    make, change = WATCHED_PARAMS[name]

    def body(m):
        x = m.tensor([[0.5, -1.0]], requires_grad=True)
        y, param = make(m, x)
        change(param)
        if how == "autograd.grad":
            return m.autograd.grad(y.sum(), x)
        y.sum().backward(inputs=[x])
        return x.grad

    compare(body, phrase="modified by an inplace operation")


@pytest.mark.parametrize("name", list(WATCHED_PARAMS))
def test_an_unchanged_index_mask_or_weight_is_fine(name):
    compare(_changed_then_backward(WATCHED_PARAMS[name][0], lambda p: None))


def test_a_changed_mask_of_an_unrecorded_masked_fill_is_no_error():
    """masked_fill_ under no_grad records nothing: its mask is no saved tensor of anything
    (the tensor's older record must not take the check)."""
    def body(m):
        x = m.ones(3, requires_grad=True)
        y = x * 2
        mask = m.tensor([True, False, True])
        with m.no_grad():
            y.masked_fill_(mask, 0.0)
        mask.fill_(False)
        y.sum().backward()
        return x.grad

    compare(body)


# what a user may add to the loss record after cross_entropy watched its target: each must
# still run (the record leaves playback's fast path) and the target must still be checked
LOSS_EXTRAS = {
    "a tensor hook": lambda m, loss, seen: loss.register_hook(lambda g: seen.append(g * 1) or g * 3),
    "retain_grad": lambda m, loss, seen: loss.retain_grad(),
    "a node pre-hook": lambda m, loss, seen: loss.grad_fn.register_prehook(
        lambda gs: seen.append(gs[0] * 1) or (gs[0] * 2,)),
    "a node hook": lambda m, loss, seen: loss.grad_fn.register_hook(
        lambda gi, go: seen.append(gi[0] * 1) or (gi[0] * 5,)),
    "metadata": lambda m, loss, seen: loss.grad_fn.metadata.update(k=1),
}


@pytest.mark.parametrize("changed", [False, True], ids=["unchanged", "changed"])
@pytest.mark.parametrize("name", list(LOSS_EXTRAS))
def test_a_watched_loss_record_with_hooks_runs_them_and_checks_its_target(name, changed):
    """NOTE [watched alone]: a loss record whose only extra is its watched target takes
    playback's fast path; one the user added a hook, a retained gradient or metadata to
    runs them, and either way a target changed in place raises."""
    def body(m):
        x = m.tensor([[0.5, -1.0, 2.0], [0.25, 0.0, -3.0]], requires_grad=True)
        t = m.tensor([2, 0])
        loss = m.nn.functional.cross_entropy(x * 2, t)
        seen = []
        LOSS_EXTRAS[name](m, loss, seen)
        if changed:
            t.zero_()
        loss.backward()
        return x.grad, seen, loss.grad if name == "retain_grad" else None

    compare(body, phrase="modified by an inplace operation" if changed else None)


# ---- views of the outputs of unbind / split / chunk ---------------------------------------
# torch's views keep their base view's creation meta: a view of a multi-output view refuses
# in-place ops as the output itself does, and an output of a tensor that needs no gradient
# refuses one that would give it a history. (tape wrote into both.)

def _grad_base(m):
    return m.arange(6.0).reshape(2, 3).requires_grad_() * 1


MULTI_VIEW_WRITES = [
    ("a slice of unbind's output, add_", lambda m: _grad_base(m).unbind(0)[0][1:].add_(1),
     "Output 0 of Slice is a view and is being modified inplace"),
    ("a view of split's output, mul_", lambda m: _grad_base(m).split(1)[0].view(3).mul_(2),
     "Output 0 of View is a view and is being modified inplace"),
    ("chunk's output transposed, zero_", lambda m: _grad_base(m).chunk(2)[0].t().zero_(),
     "Output 0 of T is a view and is being modified inplace"),
    ("unbind of a plain tensor, mul_ by a tensor requiring grad",
     lambda m: m.zeros(2, 3).unbind(0)[1].mul_(m.ones(3, requires_grad=True)),
     "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
     "This view is the output of a function that returns multiple views."),
    ("a slice of it, setitem of a tensor requiring grad",
     lambda m: m.zeros(2, 3).unbind(0)[1][1:].__setitem__(slice(None), m.ones(2, requires_grad=True)),
     "A view was created in no_grad mode and is being modified inplace with grad mode enabled"),
    ("a slice of it, copy_ of a tensor requiring grad",
     lambda m: m.zeros(2, 3).unbind(0)[1][1:].copy_(m.ones(2, requires_grad=True)),
     "A view was created in no_grad mode and is being modified inplace with grad mode enabled"),
]


@pytest.mark.parametrize("body, phrase", [pytest.param(b, p, id=n) for n, b, p in MULTI_VIEW_WRITES])
def test_views_of_multi_output_views_refuse_in_place(mod, body, phrase):
    with pytest.raises(RuntimeError, match=re.escape(phrase)):
        body(mod)


def test_a_view_of_a_multi_output_view_goes_stale_as_torchs(mod):
    x = _grad_base(mod)
    q = x.unbind(0)[0][1:]
    with mod.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="Output 0 of Slice is a view and its base or another view "
                                           "of its base has been modified inplace"):
        _ = q.grad_fn
    p = mod.zeros(2, 3).unbind(0)[1]
    p.mul_(2)  # no gradient involved: allowed
    assert p.tolist() == [0.0, 0.0, 0.0] and not p.requires_grad
