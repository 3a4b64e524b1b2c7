"""The graph view: grad_fn nodes named as torch names them, next_functions, AccumulateGrad,
identity, name(), metadata (issue 2)."""

from __future__ import annotations

import pytest
from helpers import compare, kind, node_tree

import tape


def _inputs(mod):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mod.tensor([0.5, 1.5, 2.5], requires_grad=True)
    m = mod.arange(9.0).reshape(3, 3).requires_grad_()
    B = mod.arange(18.0).reshape(2, 3, 3).requires_grad_()
    n = mod.arange(9.0).reshape(3, 3)  # needs no grad
    return dict(mod=mod, a=a, b=b, m=m, B=B, n=n)


NODES = [
    # (expression, torch's node name for its grad_fn)
    ("a + b", "AddBackward0"),
    ("a + 2", "AddBackward0"),
    ("2 + a", "AddBackward0"),
    ("mod.add(a, b, alpha=2)", "AddBackward0"),
    ("a - b", "SubBackward0"),
    ("a - 2", "SubBackward0"),
    ("2 - a", "RsubBackward1"),
    ("n - a", "SubBackward0"),
    ("a * b", "MulBackward0"),
    ("a * 2", "MulBackward0"),
    ("2 * a", "MulBackward0"),
    ("a * n", "MulBackward0"),
    ("a / b", "DivBackward0"),
    ("a / 2", "DivBackward0"),
    ("2 / a", "MulBackward0"),
    ("n / a", "DivBackward0"),
    ("-a", "NegBackward0"),
    ("a.neg()", "NegBackward0"),
    ("a ** 2", "PowBackward0"),
    ("a ** 0.5", "PowBackward0"),
    ("a.pow(3)", "PowBackward0"),
    ("a ** b", "PowBackward1"),
    ("2 ** a", "PowBackward2"),
    ("a.exp()", "ExpBackward0"),
    ("mod.exp(a)", "ExpBackward0"),
    ("a.log()", "LogBackward0"),
    ("a.sum()", "SumBackward0"),
    ("mod.sum(m)", "SumBackward0"),
    ("m.sum(0)", "SumBackward1"),
    ("m.sum(-1)", "SumBackward1"),
    ("m.sum((0, 1))", "SumBackward1"),
    ("m.sum(1, keepdim=True)", "SumBackward1"),
    ("a.mean()", "MeanBackward0"),
    ("m.mean(1)", "MeanBackward1"),
    ("m.mean((0, 1), keepdim=True)", "MeanBackward1"),
    ("a @ b", "DotBackward0"),
    ("mod.dot(a, b)", "DotBackward0"),
    ("m @ a", "MvBackward0"),
    ("mod.mv(m, a)", "MvBackward0"),
    ("m @ m", "MmBackward0"),
    ("mod.mm(m, n)", "MmBackward0"),
    ("a @ m", "SqueezeBackward4"),
    ("B @ m", "UnsafeViewBackward0"),
    ("B @ a", "UnsafeViewBackward0"),
    ("a @ B", "UnsafeViewBackward0"),
    ("m @ B", "CloneBackward0"),
    ("B @ B", "UnsafeViewBackward0"),
    ("B @ B.transpose(1, 2)", "UnsafeViewBackward0"),
    ("B.transpose(1, 2) @ n", "UnsafeViewBackward0"),
    ("mod.bmm(B, B)", "BmmBackward0"),
    ("mod.matmul(m, a)", "MvBackward0"),
    ("a.unbind()[1]", "UnbindBackward0"),
    ("m.unbind(1)[0]", "UnbindBackward0"),
    ("m.view(9)", "ViewBackward0"),
    ("m.view(-1, 1)", "ViewBackward0"),
    ("m.reshape(9)", "ViewBackward0"),
    ("m.t().reshape(9)", "UnsafeViewBackward0"),
    ("m.t().reshape(3, 1, 3)", "ReshapeAliasBackward0"),
    ("m.transpose(0, 1)", "TransposeBackward0"),
    ("B.transpose(-1, 0)", "TransposeBackward0"),
    ("m.t()", "TBackward0"),
    ("a.t()", "TBackward0"),
    ("m.permute(1, 0)", "PermuteBackward0"),
    ("a.unsqueeze(0)", "UnsqueezeBackward0"),
    ("m[None].squeeze()", "SqueezeBackward0"),
    ("m[None].squeeze(0)", "SqueezeBackward1"),
    ("m[None].squeeze((0,))", "SqueezeBackward2"),
    ("a.expand(2, 3)", "ExpandBackward0"),
    ("a.clone()", "CloneBackward0"),
    ("mod.stack([a, b])", "StackBackward0"),
    ("m[0]", "SelectBackward0"),
    ("m[-1]", "SelectBackward0"),
    ("m[:, 1]", "SelectBackward0"),
    ("m[..., 0]", "SelectBackward0"),
    ("m[1:]", "SliceBackward0"),
    ("m[:]", "SliceBackward0"),
    ("m[::2]", "SliceBackward0"),
    ("m[0, 1:]", "SliceBackward0"),
    ("m[None]", "UnsqueezeBackward0"),
    ("m[:, None]", "UnsqueezeBackward0"),
    ("m[...]", "AliasBackward0"),
    ("m[[0, 2]]", "IndexBackward0"),
    ("m[mod.tensor([0, 1])]", "IndexBackward0"),
    ("a[a > 1.5]", "IndexBackward0"),
    ("m[m > 4]", "IndexBackward0"),
    ("m[None, 0, [1, 2]]", "IndexBackward0"),
    ("m.narrow(0, 1, 2)", "SliceBackward0"),
    ("a.detach() * b", "MulBackward0"),
    ("(a * b + a).exp().sum()", "SumBackward0"),
    ("(m[0] * m[1]).sum()", "SumBackward0"),
]


@pytest.mark.parametrize("expr, name", NODES, ids=[e for e, _ in NODES])
def test_node_name(mod, expr, name):
    out = eval(expr, _inputs(mod))
    node = out.grad_fn
    assert type(node).__name__ == name
    assert node.name() == name
    assert not out.is_leaf and out.requires_grad


@pytest.mark.parametrize("expr", [e for e, _ in NODES])
def test_node_tree_and_values_equal_torch(expr):
    """The whole graph, by node names and output indices, and the value, as torch."""

    def body(mod):
        out = eval(expr, _inputs(mod))
        return out, node_tree(out.grad_fn)

    compare(body)


@pytest.mark.parametrize("expr", [e for e, _ in NODES])
def test_gradients_of_each_node_equal_torch(expr):
    def body(mod):
        ns = _inputs(mod)
        out = eval(expr, ns)
        (out * out).sum().backward()
        return [ns[k].grad for k in ("a", "b", "m", "B")]

    compare(body, rtol=1e-4, atol=1e-4)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((3,), (2, 3, 4)),
    ((2, 2, 3), (3, 4)), ((3, 2), (2, 2, 3)), ((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2)),
    ((4, 2, 3), (1, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)), ((2, 3, 1, 2), (2, 4)), ((2, 3), (4, 3, 5)),
    ((2, 3, 4), (3, 2, 4, 5)), ((2, 0, 3), (3, 2)),
]


@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)], ids=["both", "left", "right"])
@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_graph_values_and_grads_equal_torch(sa, sb, needs):
    import numpy as np

    rng = np.random.default_rng(1)
    xa = rng.standard_normal(sa).astype(np.float32)
    xb = rng.standard_normal(sb).astype(np.float32)

    def body(mod):
        a = mod.tensor(xa, requires_grad=needs[0])
        b = mod.tensor(xb, requires_grad=needs[1])
        out = a @ b
        tree = node_tree(out.grad_fn)
        out.sum().backward()
        return out, tree, a.grad, b.grad

    compare(body, rtol=1e-4, atol=1e-5)


def test_matmul_shape_errors_equal_torch():
    bad = [((3,), (4,)), ((2, 3), (4,)), ((2, 3), (4, 5)), ((2, 2, 3), (4, 5)), ((2, 3, 4), (3, 5, 6)),
           ((), (3,))]
    for sa, sb in bad:
        compare(lambda mod, sa=sa, sb=sb: mod.ones(sa) @ mod.ones(sb))


# ---------------------------------------------------------------------------------------
# next_functions, AccumulateGrad, identity


def test_next_functions_structure(mod):
    a = mod.tensor(2.0, requires_grad=True)
    b = mod.tensor(3.0)
    c = a * b
    nf = c.grad_fn.next_functions
    assert isinstance(nf, tuple) and len(nf) == 2
    (acc, i0), (none, i1) = nf
    assert kind(acc) == "AccumulateGrad" and i0 == 0 and acc.variable is a
    assert none is None and i1 == 0
    assert acc.next_functions == ()
    x, y = mod.tensor(2.0), mod.tensor(3.0)
    z = x * y
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None


def test_next_functions_of_scalar_operands(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    for out in (a * 2, a + 2, a - 2, a / 2, 2 - a):
        nf = out.grad_fn.next_functions
        assert kind(nf[0][0]) == "AccumulateGrad"
        assert all(n is None for n, _ in nf[1:])


def test_producer_node_identity(mod):
    a = mod.tensor(2.0, requires_grad=True)
    b = mod.tensor(3.0, requires_grad=True)
    c = a * b
    d = mod.tensor(4.0, requires_grad=True)
    e = c * d
    assert e.grad_fn.next_functions[0][0] is c.grad_fn
    assert c.grad_fn is c.grad_fn
    assert kind(e.grad_fn.next_functions[1][0]) == "AccumulateGrad"
    assert e.grad_fn.next_functions[1][0].variable is d


def test_one_accumulate_grad_per_leaf(mod):
    h = mod.tensor(2.0, requires_grad=True)
    g = mod.tensor(3.0, requires_grad=True)
    i = g / h
    j = i + h
    from_add = j.grad_fn.next_functions[1][0]
    from_div = i.grad_fn.next_functions[1][0]
    assert kind(from_add) == "AccumulateGrad" and from_add is from_div
    assert from_add.variable is h
    assert i.grad_fn.next_functions[0][0] is not from_add
    k = h * h
    assert k.grad_fn.next_functions[0][0] is k.grad_fn.next_functions[1][0] is from_add


def test_unbind_outputs_share_one_node(mod):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    assert b.grad_fn is c.grad_fn is d.grad_fn
    assert kind(b.grad_fn) == "UnbindBackward0"
    (acc, idx), = b.grad_fn.next_functions
    assert kind(acc) == "AccumulateGrad" and idx == 0 and acc.variable is a
    e = b * c * d
    nf = e.grad_fn.next_functions
    assert kind(nf[0][0]) == "MulBackward0" and nf[0][1] == 0
    assert nf[1][0] is b.grad_fn and nf[1][1] == 2
    inner = nf[0][0].next_functions
    assert inner[0][0] is b.grad_fn and inner[0][1] == 0 and inner[1][1] == 1
    e.backward()
    assert a.grad.tolist() == [6.0, 3.0, 2.0]


def test_name_is_the_class_name(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    for out in (a * 2, a.exp(), a.sum(), a[0], a.view(2, 1), 2 - a):
        assert out.grad_fn.name() == type(out.grad_fn).__name__
    acc = (a * 2).grad_fn.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad"
    assert acc.name() == "torch::autograd::AccumulateGrad"


def test_metadata_is_a_persistent_dict(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2
    e = c.exp()
    md = c.grad_fn.metadata
    assert isinstance(md, dict) and md == {}
    md["tag"] = "scale"
    assert c.grad_fn.metadata == {"tag": "scale"}
    assert e.grad_fn.next_functions[0][0].metadata["tag"] == "scale"
    assert e.grad_fn.metadata == {}
    acc = c.grad_fn.next_functions[0][0]
    acc.metadata["leaf"] = True
    assert (a + 1).grad_fn.next_functions[0][0].metadata == {"leaf": True}


def test_nodes_are_graph_nodes(mod):
    a = mod.tensor([1.0], requires_grad=True)
    n = (a * 2).grad_fn
    assert isinstance(n, mod.autograd.graph.Node)
    assert isinstance(n.next_functions[0][0], mod.autograd.graph.Node)


def test_non_differentiable_inputs_have_no_edge(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    idx = mod.tensor([1, 0])
    out = a[idx]
    assert len(out.grad_fn.next_functions) == 1
    mask_out = a * (a > 1.5)
    assert mask_out.grad_fn.next_functions[1][0] is None


def test_node_types_are_shared_across_graphs():
    a = tape.tensor([1.0], requires_grad=True)
    assert type((a * 2).grad_fn) is type((a * 3).grad_fn)
    assert type((a * 2).grad_fn) is not type((a + 2).grad_fn)


def test_saved_values_under_torch_names(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = mod.tensor([3.0, 4.0])
    y = a * b
    assert y.grad_fn._saved_other.tolist() == [3.0, 4.0]
    assert y.grad_fn._saved_self is None  # b needs no grad: a is not saved
    e = a.exp()
    assert e.grad_fn._saved_result.tolist() == e.tolist()
    e.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        _ = e.grad_fn._saved_result


# a Python number where torch's op takes a tensor is saved as a wrapped-number 0-d tensor;
# a Scalar argument (pow's exponent) stays a number
NUMBERS = [("int", lambda a: a * 3, "_saved_other", 3, "int64"),
           ("float", lambda a: a / 3.5, "_saved_other", 3.5, "float64"),
           ("bool", lambda a: a * True, "_saved_other", True, "bool"),
           ("exponent", lambda a: a ** 2.0, "_saved_exponent", 2.0, None)]


@pytest.mark.parametrize("fn, name, value, dtype", [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_saved_python_numbers_as_torch_keeps_them(mod, fn, name, value, dtype):
    saved = getattr(fn(mod.tensor([1.0, 2.0], requires_grad=True)).grad_fn, name)
    if dtype is None:
        assert type(saved) is float and saved == value
    else:
        assert isinstance(saved, mod.Tensor) and saved.shape == () and saved.item() == value
        assert saved.dtype == getattr(mod, dtype) and not saved.requires_grad


# an operand tape makes itself (dropout's mask, label smoothing's count of targets) is a
# tensor among the saved values, as every saved value is in torch
MADE_OPERANDS = {
    "dropout's mask": (lambda m: m.nn.functional.dropout(m.tensor([1.0, 2.0, 3.0], requires_grad=True),
                                                         p=0.5).grad_fn),
    "label smoothing's count": (lambda m: m.nn.functional.cross_entropy(
        m.zeros(2, 3, requires_grad=True), m.tensor([0, 1]), label_smoothing=0.1)
        .grad_fn.next_functions[1][0].next_functions[0][0]),
}


@pytest.mark.parametrize("node", MADE_OPERANDS.values(), ids=MADE_OPERANDS.keys())
def test_a_saved_operand_tape_made_is_a_tensor(node):
    def body(m):
        n = node(m)
        saved = n._saved_other
        return (n.name(), type(saved).__name__, str(saved.dtype).split(".")[-1], tuple(saved.shape),
                saved.requires_grad)  # (the values: dropout's are random)
    compare(body)
