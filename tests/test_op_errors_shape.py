"""Errors of the shape, join and arithmetic ops (issue 3): torch's exception type and message,
and nothing left on the tape. Plus what the op database cannot express: floor_divide's
NotImplemented node, torch's deprecation warnings of x.T / x.mT, the in-place arithmetic.
"""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
import torch
from helpers import compare, kind, node_tree, outcome

import tape


def _x(m, *shape, rg=True):
    n = int(np.prod(shape)) if shape else 1
    return m.tensor(np.arange(1.0, n + 1).reshape(shape), requires_grad=rg)


# (name, body, key phrase of the message); each body must raise with tape and with torch
ERRORS = [
    # cat / concat
    ("cat empty list", lambda m: m.cat([]), "expected a non-empty list of Tensors"),
    ("cat of a tensor", lambda m: m.cat(_x(m, 2, 3)), "must be tuple of Tensors, not Tensor"),
    ("cat sizes", lambda m: m.cat([_x(m, 2, 3), _x(m, 3, 3)], 1),
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1"),
    ("cat ndim", lambda m: m.cat([_x(m, 2, 3), _x(m, 3)]),
     "Tensors must have same number of dimensions: got 2 and 1"),
    ("cat 0-d", lambda m: m.cat([_x(m, 2), _x(m)]),
     "zero-dimensional tensor (at position 1) cannot be concatenated"),
    ("cat dim", lambda m: m.cat([_x(m, 2, 3), _x(m, 2, 3)], 2), "Dimension out of range"),
    ("cat dim negative", lambda m: m.cat([_x(m, 2, 3)], -3), "but got -3"),
    ("concat sizes", lambda m: m.concat([_x(m, 2, 3), _x(m, 2, 2)]), "Sizes of tensors must match"),
    # split / chunk
    ("split zero size", lambda m: m.split(_x(m, 2, 3), 0), "split_size can only be 0 if dimension size is 0"),
    ("split negative size", lambda m: m.split(_x(m, 2, 3), -1), "split expects split_size be non-negative"),
    ("split sizes sum", lambda m: m.split(_x(m, 2, 3), [1, 1], 1),
     "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1)"),
    ("split negative sizes", lambda m: m.split(_x(m, 2, 3), [4, -1], 1),
     "split_with_sizes expects split_sizes have only non-negative entries"),
    ("split 0-d", lambda m: m.split(_x(m), 1), "split expects at least a 1-dimensional tensor"),
    ("split dim", lambda m: _x(m, 2, 3).split(1, 2), "Dimension out of range"),
    ("unbind 0-d", lambda m: _x(m).unbind(), "Dimension specified as 0 but tensor has no dimensions"),
    ("unbind 0-d, dim -1", lambda m: m.unbind(_x(m), -1),
     "Dimension specified as 0 but tensor has no dimensions"),
    ("unbind 0-d, dim 1", lambda m: _x(m).unbind(1), "Dimension out of range"),
    ("split tensor sizes", lambda m: _x(m, 2, 3).split(m.tensor([2, 1]), 1),
     "must be tuple of ints, not Tensor"),
    ("chunk zero", lambda m: m.chunk(_x(m, 2, 3), 0), "chunk expects `chunks` to be greater than 0, got: 0"),
    ("chunk 0-d", lambda m: m.chunk(_x(m), 2), "chunk expects at least a 1-dimensional tensor"),
    ("chunk dim", lambda m: m.chunk(_x(m, 2, 3), 2, -3), "Dimension out of range"),
    # flatten, movedim, outer
    ("flatten order", lambda m: m.flatten(_x(m, 2, 3, 4), 2, 1), "start_dim cannot come after end_dim"),
    ("flatten dim", lambda m: _x(m, 2, 3).flatten(0, 2), "Dimension out of range"),
    ("movedim counts", lambda m: m.movedim(_x(m, 2, 3, 4), (0, 1), (2,)),
     "movedim: Invalid source or destination dims: source ([0, 1] dims) should contain the same number"),
    ("movedim repeated source", lambda m: m.movedim(_x(m, 2, 3, 4), (0, 0), (1, 2)),
     "movedim: repeated dim in `source` ([0, 0])"),
    ("movedim repeated destination", lambda m: m.movedim(_x(m, 2, 3, 4), (0, 1), (2, -1)),
     "movedim: repeated dim in `destination` ([2, -1])"),
    ("movedim dim", lambda m: m.movedim(_x(m, 2, 3, 4), 3, 0), "Dimension out of range"),
    ("outer 2-d", lambda m: m.outer(_x(m, 2, 3), _x(m, 3)), "outer: Expected 1-D argument self, but got 2-D"),
    ("outer 0-d vec2", lambda m: m.outer(_x(m, 3), _x(m)), "outer: Expected 1-D argument vec2, but got 0-D"),
    # x.mT, view / expand with -1, negative dims
    ("mT of a vector", lambda m: _x(m, 3).mT,
     "tensor.mT is only supported on matrices or batches of matrices"),
    ("view two -1", lambda m: _x(m, 2, 3).view(-1, -1), "only one dimension can be inferred"),
    ("view -1 misfit", lambda m: _x(m, 2, 3).view(-1, 4), "shape '[-1, 4]' is invalid for input of size 6"),
    ("view -1 ambiguous", lambda m: m.zeros(0, 3).view(-1, 0),
     "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified dimension size -1"),
    ("reshape -1 ambiguous", lambda m: m.zeros(0, 3).reshape(0, -1), "can be any value and is ambiguous"),
    ("expand leading -1", lambda m: _x(m, 3).expand(-1, 3),
     "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"),
    ("expand mismatch", lambda m: _x(m, 2, 3).expand(-1, 4), "must match the existing size (3)"),
    ("squeeze -3", lambda m: _x(m, 2, 1).squeeze(-3), "expected to be in range of [-2, 1], but got -3"),
    ("squeeze tuple", lambda m: _x(m, 2, 1).squeeze((0, -3)), "but got -3"),
    ("unsqueeze -4", lambda m: _x(m, 2, 3).unsqueeze(-4), "expected to be in range of [-3, 2], but got -4"),
    ("unsqueeze 3", lambda m: _x(m, 2, 3).unsqueeze(3), "but got 3"),
    ("narrow negative length", lambda m: _x(m, 2, 3).narrow(1, 0, -1), None),
    # floor_divide / remainder
    ("floor_divide int by 0", lambda m: m.tensor([1, 2]) // m.tensor([0, 1]), "ZeroDivisionError"),
    ("floor_divide int by number 0", lambda m: m.tensor([1, 2]) // 0, "ZeroDivisionError"),
    ("remainder int by 0", lambda m: m.tensor([1, 2]) % m.tensor([1, 0]), "ZeroDivisionError"),
    ("rfloordiv int by 0", lambda m: 3 // m.tensor([1, 0]), "ZeroDivisionError"),
    ("floor_divide bools", lambda m: m.tensor([True]) // m.tensor([True]), "not implemented for 'Bool'"),
    ("remainder bools", lambda m: m.tensor([True]) % m.tensor([True]), "not implemented for 'Bool'"),
    ("remainder shapes", lambda m: _x(m, 2, 3) % _x(m, 2), "must match the size of tensor b"),
    ("floor_divide shapes", lambda m: _x(m, 2, 3) // _x(m, 4), "must match the size of tensor b"),
    ("remainder_ broadcast self", lambda m: _x(m, 3).clone().remainder_(_x(m, 2, 3)),
     "doesn't match the broadcast"),
    ("floor_divide_ float into int", lambda m: m.tensor([3, 4]).floor_divide_(1.5), "can't be cast"),
    # in-place arithmetic of the API list, checked against torch
    ("pow_ on a leaf", lambda m: _x(m, 3).pow_(2), "a leaf Variable that requires grad"),
    ("neg_ on a leaf", lambda m: _x(m, 3).neg_(), "a leaf Variable that requires grad"),
    ("exp_ on an int tensor", lambda m: m.tensor([1, 2]).exp_(),
     "can't be cast to the desired output type Long"),
    ("pow_ int to a negative power", lambda m: m.tensor([2, 3]).pow_(-1),
     "Integers to negative integer powers are not allowed"),
    ("pow int 0-d to a negative number", lambda m: m.tensor(2) ** -1, "Integers to negative integer powers"),
    # permute: the count, then each dim's range, then repeats
    ("permute repeated dim", lambda m: _x(m, 2, 3).permute(0, 0), "permute(): duplicate dims are not"),
    ("permute repeated negative dim", lambda m: _x(m, 2, 3).permute(0, -2), "duplicate dims are not allowed"),
    ("permute no dims", lambda m: _x(m, 2, 3).permute(), 'missing 1 required positional arguments: "dims"'),
    ("permute of 0-d, no dims", lambda m: m.zeros(()).permute(), "missing 1 required positional"),
    ("permute too many dims", lambda m: _x(m, 2, 3).permute(0, 1, 2),
     "input.dim() = 2 is not equal to len(dims) = 3"),
    # an operand that is neither a tensor nor a number
    ("add a string", lambda m: m.add(_x(m, 2), "a"),
     "add(): argument 'other' (position 2) must be Tensor, not str"),
    ("mul a list", lambda m: m.mul(_x(m, 2), [[1.0]]),
     "mul(): argument 'other' (position 2) must be Tensor, not list"),
    ("tensor + a string", lambda m: _x(m, 2) + "a", "unsupported operand type(s) for +: 'Tensor' and 'str'"),
    ("add None", lambda m: m.add(_x(m, 2), None),
     "add(): argument 'other' (position 2) must be Tensor, not NoneType"),
    ("sub a string first", lambda m: m.sub("a", _x(m, 2)),
     "sub(): argument 'input' (position 1) must be Tensor, not str"),
    ("matmul a list", lambda m: m.matmul(_x(m, 2), [1.0, 2.0]),
     "matmul(): argument 'other' (position 2) must be Tensor, not list"),
    ("matmul a number", lambda m: m.matmul(2, _x(m, 2)), "must be Tensor, not int"),
    ("floor_divide a string", lambda m: m.floor_divide(_x(m, 2), "a"), "str"),
    ("pow None", lambda m: m.pow(_x(m, 2), None), "NoneType"),
    ("lt a list", lambda m: m.lt(_x(m, 2), [1]), "list"),
    ("add_ a string", lambda m: _x(m, 2).detach().add_("a"), "str"),
    ("mul_ None", lambda m: _x(m, 2).detach().mul_(None), "NoneType"),
    ("floor_divide_ a string", lambda m: _x(m, 2).detach().floor_divide_("a"), "str"),
    # div's rounding_mode
    ("div rounding_mode round", lambda m: m.div(_x(m, 2), 2, rounding_mode="round"),
     "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'round'"),
    ("div floor of integers by 0", lambda m: m.div(m.tensor([7]), 0, rounding_mode="floor"),
     "ZeroDivisionError"),
    ("div trunc of bools", lambda m: m.div(m.tensor([True]), m.tensor([True]), rounding_mode="trunc"),
     "\"div_trunc_cpu\" not implemented for 'Bool'"),
    ("div_ of integers without rounding", lambda m: m.tensor([7]).div_(2),
     "result type Float can't be cast to the desired output type Long"),
    # bools in sub, and add/sub's alpha against the result's dtype
    ("sub of two bool tensors", lambda m: m.tensor([True]) - m.tensor([True]),
     "Subtraction, the `-` operator, with two bool tensors is not supported"),
    ("sub of a bool tensor and a number", lambda m: m.tensor([True]) - 1,
     "Subtraction, the `-` operator, with a bool tensor is not supported"),
    ("number minus a bool tensor", lambda m: 1 - m.tensor([True]), "with a bool tensor is not supported"),
    ("sub_ of bool tensors", lambda m: m.tensor([True]).sub_(m.tensor([False])), "with two bool tensors"),
    ("add of integers, float alpha", lambda m: m.add(m.tensor([1]), m.tensor([1]), alpha=2.5),
     "For integral input tensors, argument alpha must not be a floating point number."),
    ("add_ of integers, float alpha", lambda m: m.tensor([1]).add_(1, alpha=2.5),
     "argument alpha must not be a floating point number"),
    ("add of floats, bool alpha", lambda m: m.add(_x(m, 2), _x(m, 2), alpha=True),
     "Boolean alpha only supported for Boolean results."),
    # negating a bool tensor
    ("neg of a bool tensor", lambda m: -m.tensor([True]), "Negation, the `-` operator, on a bool tensor"),
]


# NOTE [operators give way]: an operator whose op cannot take the other operand returns
# NotImplemented, so Python's own fallbacks and messages follow (the same under both)
def _iop(sign, other):
    def body(m):
        env = {"t": m.ones(2), "other": other}
        return eval(f"t.__i{sign}__(other)", env) if sign.isalpha() else exec(f"t {sign}= other", env)
    return body


OPERATORS = [(f"{left} {sign} {right}", eval(f"lambda m: {left} {sign} {right}"))
             for sign in ("+", "-", "*", "/", "//", "%", "**", "@", "<", ">=")
             for left, right in (("m.ones(2)", "'a'"), ("'a'", "m.ones(2)"), ("m.ones(2)", "None"),
                                 ("None", "m.ones(2)"), ("m.ones(2)", "[1, 2]"), ("(1,)", "m.ones(2)"))]
OPERATORS += [("t @ 2", lambda m: m.ones(2) @ 2), ("2 @ t", lambda m: 2 @ m.ones(2)),
              ("t += 'a'", _iop("+", "a")), ("t -= None", _iop("-", None)), ("t *= 'a'", _iop("*", "a")),
              ("t /= [1]", _iop("/", [1])), ("t.__iadd__('a')", _iop("add", "a"))]
# comparisons for equality fall back to identity: False / True, never an error
EQUALITY = [(f"t {sign} {other}", eval(f"lambda m: m.ones(2) {sign} {other}"))
            for sign in ("==", "!=") for other in ("'a'", "None", "[1, 2]", "(1,)", "object()")]
EQUALITY += [("t in ['a', None]", lambda m: m.ones(2) in ["a", None]),
             ("None == t", lambda m: None == m.ones(2)),  # noqa: E711 - the operator is the point
             ("t.__eq__('a')", lambda m: m.ones(2).__eq__("a")),
             ("t.__add__(None)", lambda m: m.ones(2).__add__(None)),
             ("a list's index of t", lambda m: (lambda t: [1, "a", t].index(t))(m.ones(2)))]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in OPERATORS])
def test_operator_with_an_operand_it_cannot_take(body):
    """Both raise TypeError with Python's message (or the operand's own: str concatenation,
    sequence repetition asking the tensor for an index), or both give the operand's result
    (`'a' % t` formats a string)."""
    a, b = outcome(body, tape), outcome(body, torch)
    if isinstance(b, tuple) and b[0] == "raised":
        assert b[1] == "TypeError"
        assert a == b
    else:
        compare(body)


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in EQUALITY])
def test_equality_with_a_non_number_is_identity(body):
    compare(body)


@pytest.mark.parametrize("body, phrase", [pytest.param(b, p, id=n) for n, b, p in ERRORS])
def test_error_like_torch(body, phrase):
    compare(body, phrase=phrase)


def _raises(body) -> bool:
    try:
        body(tape)
    except Exception:  # noqa: BLE001 - the type is compared with torch's in test_error_like_torch
        return True  # the exception (and the frames it holds) is dropped here
    return False


def assert_leaves_no_record(body):
    """A failing call leaves the tape as it was once its temporaries are gone."""
    before = len(tape.TAPE)
    assert _raises(body), "expected an error"
    if len(tape.TAPE) != before:  # only cyclic garbage could still hold a record
        gc.collect()
    assert len(tape.TAPE) == before
    assert tape.is_grad_enabled()


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b, _ in ERRORS])
def test_error_leaves_no_record(body):
    assert_leaves_no_record(body)


# ---------------------------------------------------------------------------------------
# floor_divide: torch has no derivative for it


FLOOR_DIVIDES = {
    "tensor // number": lambda m, x, y: x // 0.7,
    "tensor // tensor": lambda m, x, y: x // y,
    "tensor // tensor without grad": lambda m, x, y: x // y.detach(),
    "number // tensor": lambda m, x, y: 2.5 // x,
    "floor_divide()": lambda m, x, y: m.floor_divide(x, y),
    "number % tensor": lambda m, x, y: 7.5 % x,
    "remainder(number, tensor)": lambda m, x, y: m.remainder(7.5, x),
    "//= on a non-leaf": lambda m, x, y: x.clone().__ifloordiv__(y),
    "floor_divide_ on a non-leaf": lambda m, x, y: x.clone().floor_divide_(2.0),
}


def _pair(m):
    return (m.tensor([[5.5, -5.5, 3.0]], requires_grad=True),
            m.tensor([[-2.0, 2.0, 1.5]], requires_grad=True))


@pytest.mark.parametrize("body", list(FLOOR_DIVIDES.values()), ids=list(FLOOR_DIVIDES))
def test_no_derivative_node_like_torch(body):
    """The result requires grad; its node is NotImplemented with edges to the inputs that
    require grad; backward through it raises torch's error."""
    def run(m):
        out = body(m, *_pair(m))
        return out, out.requires_grad, node_tree(out.grad_fn)

    compare(run)
    compare(lambda m: body(m, *_pair(m)).sum().backward(), phrase="is not implemented")


def test_no_derivative_message_names_the_op():
    for m in (tape, torch):
        x, y = _pair(m)
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
            (x // y).sum().backward()
        with pytest.raises(RuntimeError, match="derivative for aten::remainder is not implemented"):
            (2.0 % x).sum().backward()


def test_floor_divide_without_grad_records_nothing(mod):
    x = mod.tensor([5.5, -5.5])
    assert (x // 2).grad_fn is None and not (x // 2).requires_grad
    with mod.no_grad():
        y = _pair(mod)[0] // 2
    assert y.grad_fn is None and not y.requires_grad


def test_floor_divide_and_remainder_values():
    """torch's rounding toward -inf and the divisor's sign, also at zero divisors (floats)."""
    a = [[7.0, -7.0, 7.5, -7.5, 0.0, 1.0, -1.0, 0.0]]
    b = [[2.0, 2.0, -2.0, -2.0, 3.0, 0.0, 0.0, 0.0]]
    compare(lambda m: (m.tensor(a) // m.tensor(b), m.tensor(a) % m.tensor(b)))
    compare(lambda m: (m.tensor([7, -7, 0]) // m.tensor([2, -2, 5]),
                       m.tensor([7, -7, 0]) % m.tensor([-2, 2, 5])))
    compare(lambda m: (m.tensor([7, -7]) // 2.5, 7 // m.tensor([2, -3]), 7 % m.tensor([2, -3])))


def test_remainder_gradient_like_torch():
    def run(m):
        x, y = _pair(m)
        out = m.remainder(x, y) * m.tensor([[1.0, 2.0, 3.0]])
        gx, gy = m.autograd.grad(out.sum(), (x, y))
        return out, gx, gy

    compare(run)


def test_inplace_remainder_like_torch():
    def run(m):
        x, y = _pair(m)
        z = x.clone()
        z %= y
        z2 = x.clone().remainder_(0.8)
        gx, gy = m.autograd.grad((z * 2 + z2).sum(), (x, y))
        return z, z2, z._version, node_tree(z.grad_fn), gx, gy

    compare(run)


# ---------------------------------------------------------------------------------------
# x.T, x.mT: torch's warnings and nodes


@pytest.mark.parametrize("shape, warns", [((2, 3), False), ((3,), True), ((2, 3, 4), True), ((), True)])
def test_T_warns_as_torch(shape, warns):  # noqa: N802
    tape.ops.shape._T_WARNED.clear()  # as torch, tape warns for a non-matrix once a process
    for m in (tape, torch):
        x = m.ones(shape, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = x.T
        assert kind(y.grad_fn) == "PermuteBackward0"
        assert tuple(y.shape) == tuple(reversed(shape))
        if m is tape:  # torch warns once per process (TORCH_WARN_ONCE): only tape is checked
            assert bool(caught) == warns
            if warns:
                assert "deprecated" in str(caught[0].message)


def test_mT_of_a_scalar_is_the_tensor_itself():  # noqa: N802
    for m in (tape, torch):
        x = m.tensor(2.0, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert x.mT is x


def test_T_and_mT_are_views(mod):  # noqa: N802
    x = mod.zeros(2, 3)
    x.T[0, 1] = 5.0
    x.mT[2, 0] = 7.0
    assert x.tolist() == [[0.0, 0.0, 7.0], [5.0, 0.0, 0.0]]
    assert x._version == 2


# ---------------------------------------------------------------------------------------
# split / chunk / unbind outputs are views of one multi-output node


def test_split_outputs_are_views_and_refuse_inplace():
    def run(m):
        x = m.ones(4, 3, requires_grad=True).clone()
        a, b = x.split(2)
        a.mul_(2)

    compare(run, phrase="is a view and is being modified inplace")


def test_split_of_a_leaf_view_then_base_modified():
    def run(m):
        base = m.ones(4, 3, requires_grad=True)
        x = base * 1
        a, b = m.chunk(x, 2)
        x.add_(1)
        return (a * b).sum().backward()

    compare(run, phrase="is a view and its base or another view of its base has been modified inplace")


def test_split_shares_storage(mod):
    x = mod.zeros(4, 3)
    a, b = x.split([1, 3])
    b[0, 0] = 9.0
    assert x[1, 0].item() == 9.0 and a._version == b._version == x._version == 1


def test_integer_pow_with_negative_tensor_exponents():
    """Only a negative Python-number exponent is refused; tensor exponents truncate."""
    compare(lambda m: (m.tensor([2, 3, 1, -1, -1, 0]) ** m.tensor([-1, -1, -2, -3, -2, -1]),
                       2 ** m.tensor([-1, 2]), m.tensor([2, -1]).pow_(m.tensor([-1, -1]))))


def test_cat_mixed_dtypes_like_torch():
    def run(m):
        x = m.ones(2, 3, requires_grad=True)
        y = m.ones(1, 3, dtype=m.float64, requires_grad=True)
        z = m.cat([x, y, m.tensor([[1, 2, 3]])])
        gx, gy = m.autograd.grad((z * z).sum(), (x, y))
        return z, gx, gy, node_tree(z.grad_fn)

    compare(run)
    compare(lambda m: (m.cat([m.tensor([1, 2]), m.tensor([1.5])]), m.cat([m.tensor([True]), m.tensor([2])])))


def test_flatten_returns_the_tensor_itself_when_nothing_merges():
    for m in (tape, torch):
        x = m.ones(3, requires_grad=True)
        y = m.ones(2, 3, requires_grad=True)
        assert m.flatten(x) is x and y.flatten(1, -1) is y and y.flatten(0, 0) is y


def test_chunk_of_an_empty_dim_keeps_the_chunks():
    def run(m):
        x = m.zeros(0, 2, requires_grad=True)
        parts = m.chunk(x, 3)
        return len(parts), [node_tree(p.grad_fn) for p in parts], [tuple(p.shape) for p in parts]

    compare(run)


def test_double_backward_through_cat_and_split():
    """The backward rules are recorded (create_graph): second derivatives equal torch's."""
    def run(m):
        x = m.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], requires_grad=True)
        y = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        z = m.cat([x, y]) ** 3
        a, b = z.split([2, 1])
        loss = (a * 2).sum() + (b ** 2).sum()
        gx, gy = m.autograd.grad(loss, (x, y), create_graph=True)
        hx, hy = m.autograd.grad((gx * gx).sum() + gy.sum(), (x, y))
        return gx, gy, hx, hy

    compare(run, rtol=1e-5)
