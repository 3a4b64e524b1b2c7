"""tape.compile: replaying a recorded plan equals eager, guards included."""

import warnings

import numpy as np
import pytest

import tape

rng = np.random.default_rng(7)
W1 = tape.tensor(rng.standard_normal((4, 6)), requires_grad=True)
B1 = tape.tensor(rng.standard_normal(6), requires_grad=True)
W2 = tape.tensor(rng.standard_normal((6, 3)), requires_grad=True)
PARAMS = (W1, B1, W2)


def mlp(x):
    h = (x @ W1 + B1).relu() if hasattr(tape.Tensor, "relu") else (x @ W1 + B1).exp()
    return (h @ W2).tanh().sum() if hasattr(tape.Tensor, "tanh") else (h @ W2).sum()


def two_outputs(x, y):
    return x * y + 1.0, (x / (y * y + 1.0)).sum()


def indexing(x):
    return x[1:, 0].exp().sum() + x.t().reshape(-1)[::2].sum()


def reductions(x):
    return (x.mean(0, keepdim=True) - x).pow(2).sum(1).mean()


CASES = [
    ("mlp", mlp, [(5, 4)]),
    ("two_outputs", two_outputs, [(3,), (3,)]),
    ("indexing", indexing, [(3, 4)]),
    ("reductions", reductions, [(4, 3)]),
]


def _grads(fn, arrays):
    for p in PARAMS:
        p.grad = None
    xs = [tape.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    tape.autograd.backward([o.sum() for o in outs])
    return ([o.detach().numpy().copy() for o in outs], [x.grad.numpy().copy() for x in xs],
            [None if p.grad is None else p.grad.numpy().copy() for p in PARAMS], outs)


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_compiled_equals_eager_over_calls(name, fn, shapes):
    compiled = tape.compile(fn)
    for _ in range(3):
        arrays = [rng.standard_normal(s) for s in shapes]
        want = _grads(fn, arrays)
        got = _grads(compiled, arrays)
        for a, b in zip(want[0] + want[1], got[0] + got[1]):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
        for a, b in zip(want[2], got[2]):  # parameters the function closes over accumulate too
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
        assert type(got[3][0].grad_fn).__name__ == "CompiledFunctionBackward"
    # the first call records, then replays too, so its outputs carry the compiled node
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_replay_creates_no_per_op_records():
    compiled = tape.compile(mlp)
    compiled(tape.tensor(rng.standard_normal((5, 4)), requires_grad=True))
    before = len(tape.TAPE.records())
    y = compiled(tape.tensor(rng.standard_normal((5, 4)), requires_grad=True))
    assert len(tape.TAPE.records()) == before + 1  # one CompiledFunctionBackward record
    assert y.grad_fn.next_functions and all(
        type(n).__name__ == "AccumulateGrad" for n, _ in y.grad_fn.next_functions)


def test_value_dependent_control_flow_is_guarded():
    def branchy(x):
        if x.sum() > 0:
            return x * 2
        return x * 3

    compiled = tape.compile(branchy)
    for v, factor in [(1.0, 2), (2.0, 2), (-1.0, 3), (1.5, 2), (-4.0, 3)]:
        x = tape.tensor([v, v], requires_grad=True)
        out = compiled(x)
        out.sum().backward()
        assert out.tolist() == [v * factor] * 2
        assert x.grad.tolist() == [float(factor)] * 2


def test_item_guard_and_shape_guard():
    compiled = tape.compile(lambda x: x * x.sum().item())
    a = compiled(tape.tensor([1.0, 2.0]))
    b = compiled(tape.tensor([2.0, 2.0]))
    assert a.tolist() == [3.0, 6.0] and b.tolist() == [8.0, 8.0]
    c = compiled(tape.tensor([1.0, 1.0, 1.0]))  # a new shape records a new plan
    assert c.tolist() == [3.0, 3.0, 3.0]
    assert compiled.stats["recorded"] == 3


def test_requires_grad_change_records_a_new_plan():
    compiled = tape.compile(lambda x: (x * x).sum())
    plain = compiled(tape.tensor([1.0, 2.0]))
    assert not plain.requires_grad
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    compiled(x).backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_outside_tensor_updates_are_seen():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    compiled = tape.compile(lambda x: (x * w).sum())
    x = tape.tensor([3.0, 4.0])
    assert compiled(x).item() == 11.0
    with tape.no_grad():
        w -= 1.0  # an SGD-style update between calls
    assert compiled(x).item() == 4.0


def test_where_condition_computed_inside_is_replayed():
    compiled = tape.compile(lambda x: tape.where(x > 0, x, x * 0.5).sum())
    for v in ([1.0, -1.0], [-1.0, 1.0]):
        x = tape.tensor(v, requires_grad=True)
        compiled(x).backward()
        assert x.grad.tolist() == [1.0 if e > 0 else 0.5 for e in v]


def test_in_place_ops_fall_back_to_eager_with_a_warning():
    def inplace(x):
        y = x * 1
        y += 1
        return y

    compiled = tape.compile(inplace)
    with pytest.warns(RuntimeWarning, match="in-place op add_"):
        out = compiled(tape.tensor([1.0, 2.0], requires_grad=True))
    assert out.tolist() == [2.0, 3.0] and compiled.eager


def test_random_numbers_fall_back_to_eager():
    compiled = tape.compile(lambda x: x + tape.randn(2))
    with pytest.warns(RuntimeWarning, match="random numbers"):
        compiled(tape.tensor([1.0, 2.0]))
    first = compiled(tape.tensor([0.0, 0.0])).tolist()
    second = compiled(tape.tensor([0.0, 0.0])).tolist()
    assert first != second  # fresh numbers each call, as eager


def test_repeated_rerecording_falls_back_to_eager():
    compiled = tape.compile(lambda x: x * 2 if x.item() > 0 else x * 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(20):
            v = 1.0 if i % 2 else -1.0
            assert compiled(tape.tensor(v)).item() == (2 * v if v > 0 else 3 * v)
    assert compiled.eager
    assert any("re-recorded" in str(w.message) for w in caught)


def test_double_backward_through_compiled_is_refused():
    compiled = tape.compile(lambda x: (x * x * x).sum())
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    compiled(x)
    y = compiled(x)
    (g,) = tape.autograd.grad(y, x, create_graph=False)
    assert g.tolist() == [3.0, 12.0]
    with pytest.raises(RuntimeError, match="double backward through a tape.compile"):
        tape.autograd.grad(compiled(x), x, create_graph=True)
