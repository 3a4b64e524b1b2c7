"""tape.compile: replaying a recorded plan equals eager, guards included."""

import collections
import dataclasses
import functools
import random
import sys
import warnings

import numpy as np
import pytest

import tape

rng = np.random.default_rng(7)
_RANDOM = random.random
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


def _twice(f, compiled, call, leaves):
    """call(f) and call(compiled) with fresh gradients: (value, gradients) of each."""
    got = []
    for g in (f, compiled):
        for t in leaves:
            t.grad = None
        out = call(g)
        out.backward()
        got.append((out.item(), [None if t.grad is None else t.grad.tolist() for t in leaves]))
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    return got


def test_keyword_arguments_replay_with_a_plan_per_set_of_names():
    def f(x, w, scale=1.0, bias=None):
        y = (x * w).sin() * scale
        return (y + bias).sum() if bias is not None else y.sum()

    compiled = tape.compile(f)
    leaves = [tape.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3)]
    x, w, b = leaves
    calls = [lambda g: g(x, w=w, scale=2.0, bias=b),
             lambda g: g(x, bias=b, w=w, scale=2.0),  # the same names in another order
             lambda g: g(x, w, scale=0.5),
             lambda g: g(x=x, w=w)]
    for call in calls * 2:
        want, got = _twice(f, compiled, call, leaves)
        assert want == got  # the same numpy calls: equal, not close
    # scale=2.0 with bias, scale=0.5 without, x= and w= by name: three plans, each replayed
    assert compiled.stats == {"recorded": 3, "replayed": 8, "eager": 0}


def test_lists_tuples_and_dicts_of_tensors_replay():
    """A parameter list, a batch dict, a nested tuple: their tensors are arguments of the
    plan (NOTE [arguments in containers]), so new tensors of the same shapes replay."""
    def loss(params, batch, pair):
        w, b = params
        return ((batch["x"] @ w + b).tanh() * pair[0][0] + pair[1]).sum()

    compiled = tape.compile(loss)
    params = [tape.tensor(rng.standard_normal((3, 4)), requires_grad=True),
              tape.tensor(rng.standard_normal(4), requires_grad=True)]
    for _ in range(3):  # a new batch and new tuple members every call
        batch = {"x": tape.tensor(rng.standard_normal((5, 3)))}
        pair = ((tape.tensor(rng.standard_normal(4), requires_grad=True),),
                tape.tensor(rng.standard_normal(4)))
        want, got = _twice(loss, compiled, lambda g, b=batch, p=pair: g(params, b, p),
                           params + [pair[0][0]])
        assert want == got
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_dicts_and_nested_results_replay():
    pair = collections.namedtuple("pair", "doubled first")

    def f(x):
        y = x * 3
        return {"loss": y.sum(), "parts": [y, None, (x.exp(),)], "named": pair(y * 2, x[0] * 1)}

    compiled = tape.compile(f)
    for _ in range(3):
        x = tape.tensor(rng.standard_normal(2), requires_grad=True)
        got = compiled(x)
        want = f(x)
        assert type(got["parts"][2]) is tuple and got["parts"][1] is None
        assert type(got["named"]) is pair
        for g, w in [(got["loss"], want["loss"]), (got["parts"][0], want["parts"][0]),
                     (got["parts"][2][0], want["parts"][2][0]), (got["named"].first, want["named"].first)]:
            assert g.tolist() == w.tolist()
        got["loss"].backward()
        assert x.grad.tolist() == [3.0, 3.0]
        assert type(got["named"].doubled.grad_fn).__name__ == "CompiledFunctionBackward"
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_a_result_holding_a_number_runs_eagerly():
    compiled = tape.compile(lambda x: (x.sum(), 3.0))
    with pytest.warns(RuntimeWarning, match="a result holding a float"):
        assert compiled(tape.tensor([1.0, 2.0]))[1] == 3.0


def test_a_function_that_changes_an_argument_list_runs_eagerly():
    def appends(seen, x):
        seen.append(x)
        return (x * 2).sum()

    compiled = tape.compile(appends)
    seen = []
    with pytest.warns(RuntimeWarning, match="an argument list, tuple or dict that it changes"):
        compiled(seen, tape.tensor([1.0], requires_grad=True))
    compiled(seen, tape.tensor([2.0], requires_grad=True))
    assert [t.item() for t in seen] == [1.0, 2.0]  # as eager: every call appends
    assert compiled.stats == {"recorded": 1, "replayed": 0, "eager": 1}


def test_a_warning_raised_as_an_error_still_leaves_the_function_eager():
    compiled = tape.compile(lambda x: x * tape.rand(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="random numbers"):
            compiled(tape.tensor([1.0, 2.0]))
        assert compiled(tape.tensor([1.0, 2.0])).shape == (2,)  # eager now, no warning
    assert compiled.stats == {"recorded": 1, "replayed": 0, "eager": 1}


def _no_grad_sum(x, w):
    with tape.no_grad():
        s = x.sum()  # a constant to the gradient
    return (x * s).sum()


def _inference_mode_scale(x, w):
    with tape.inference_mode():
        s = (x * 3).sum()
    return (x + s).sum()


def _no_grad_add_into_a_plain_tensor(x, w):
    y = x.detach() * 1
    with tape.no_grad():
        y.add_(w)  # w requires grad, but the write is not recorded: y still needs none
    return (x * y).sum()


@pytest.mark.parametrize("fn", [_no_grad_sum, _inference_mode_scale, _no_grad_add_into_a_plain_tensor])
def test_ops_eager_did_not_record_pass_no_gradient_on_replay(fn):
    x, w = (tape.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    compiled = tape.compile(fn)
    for _ in range(3):
        want, got = _twice(fn, compiled, lambda g: g(x, w), [x, w])
        assert want == got
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_an_unrecorded_in_place_op_on_a_tensor_that_requires_grad_runs_eagerly():
    def f(x):
        y = x * 2
        with tape.no_grad():
            y.mul_(3)  # eager's gradient still goes through y's history: 2, not 6
        return (y * 1).sum()

    compiled = tape.compile(f)
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="in-place op mul_ under no_grad on a tensor that requires"):
        compiled(x).backward()
    assert x.grad.tolist() == [2.0, 2.0]


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


def test_in_place_ops_on_values_made_inside_replay_as_eager_computes_them():
    # NOTE [in-place ops in a plan]
    def inplace(x):
        h = x @ W1
        h += B1
        h.mul_(0.5)
        h.relu_()
        return (h * h).sum()

    compiled = tape.compile(inplace)
    for _ in range(3):
        arrays = [rng.standard_normal((3, 4))]
        want, got = _grads(inplace, arrays), _grads(compiled, arrays)
        for a, b in zip(want[0] + want[1] + want[2], got[0] + got[1] + got[2]):
            np.testing.assert_array_equal(b, a)
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}
    assert "_as_dtype(mul_" in compiled.source(tape.tensor(arrays[0], requires_grad=True))


def test_an_in_place_op_casts_into_its_targets_dtype_on_replay():
    def f(x, y):
        h = x * 1
        h += y  # float32 += float64: the result is float32, as eager
        return h

    compiled = tape.compile(f)
    for k in range(3):
        x = tape.tensor(np.arange(3.0, dtype=np.float32) + k)
        y = tape.tensor(np.full(3, 0.1) * k)
        got, want = compiled(x, y), f(x, y)
        assert got.dtype == want.dtype == tape.float32
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert compiled.stats["replayed"] == 3


@pytest.mark.parametrize("body, reason", [
    (lambda x: x.add_(1), "add_ on a tensor from outside the function"),
    (lambda x: (x * 1)[0].mul_(2), "mul_ on a view"),
    (lambda x: (lambda y: (y[0], y.add_(1)))(x * 1)[1], "add_ on a tensor that another value shares memory"),
    (lambda x: (lambda y: (y.exp_(), y)[1])(x.exp()), r"exp_ on a value exp\(\) saved for its gradient"),
], ids=["argument", "view", "aliased", "saved"])
def test_in_place_ops_eager_would_treat_differently_fall_back_with_a_warning(body, reason):
    compiled = tape.compile(body)
    x = tape.tensor([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match=reason):
        out = compiled(x * 1)
    assert compiled.eager and out.tolist() == body(x * 1).tolist()


class _NotTheDerivative(tape.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * 2 * a + 1.0  # its own rule, which a replay of a * a would not run


def _hooked(x, w):
    y = x * w
    y.register_hook(lambda g: g * 10)
    return y.sum()


def _node_hooked(x, w):
    y = x * w
    y.grad_fn.register_prehook(lambda grads: (grads[0] * 10,))
    return y.sum()


def _leaf_hooked(x, w):
    w.register_post_accumulate_grad_hook(lambda t: None)  # eager adds one each call
    return (x * w).sum()


def _retained(x, w):
    y = x * w
    y.retain_grad()
    return y.sum()


def _detached_in_place(x, w):
    y = x * 1
    y.detach_()
    return (y * w).sum()


def _custom_function(x, w):
    return _NotTheDerivative.apply(x * w).sum()


def _saved_hooks(x, w):
    with tape.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t):
        return (x * w).sum()


def _reads_grad(x, w):
    g = w.grad  # a replay would use the tensor the first call read
    return (x * w).sum() if g is None else (x * w + g).sum()


def _sets_data(x, w):
    y = x * 1
    y.data = w.data * 3  # y's values change, its history stays
    return (y * w).sum()


@pytest.mark.parametrize("fn, reason", [
    (_reads_grad, r"\.grad inside the function"),
    (_sets_data, "`.data =` inside the function"),
    (_hooked, "a hook registered inside the function"),
    (_node_hooked, "a hook registered inside the function"),
    (_leaf_hooked, "a hook registered inside the function"),
    (_retained, r"retain_grad\(\) inside the function"),
    (_detached_in_place, r"detach_\(\) inside the function"),
    (_custom_function, "a custom autograd.Function inside the function"),
    (_saved_hooks, "saved_tensors_hooks inside the function"),
], ids=[".grad", ".data =", "tensor hook", "node hook", "leaf hook", "retain_grad", "detach_",
        "Function", "saved hooks"])
def test_what_a_replay_would_skip_runs_eagerly_with_the_same_gradients(fn, reason):
    """Each of these changes eager's gradients (or its state) in a way a replayed plan
    would skip: silently wrong answers before, eager now."""
    x, w = (tape.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    compiled = tape.compile(fn)
    with pytest.warns(RuntimeWarning, match=reason):
        compiled(x, w)
    for _ in range(2):
        got = []
        for g in (fn, compiled):
            x.grad = w.grad = None
            g(x, w).backward()
            got.append([None if t.grad is None else t.grad.tolist() for t in (x, w)])
        assert got[0] == got[1]
    assert compiled.eager and compiled.stats["replayed"] == 0


_MASK = np.array([1.0, 0.0, 1.0])
_SCALE = np.array(2.0)


@pytest.mark.parametrize("make", [
    lambda: tape.tensor(_MASK),
    lambda: tape.tensor(_MASK, dtype=tape.float32).double(),
    lambda: tape.as_tensor(_MASK, dtype=tape.float32).double(),
    lambda: tape.tensor(_SCALE) * tape.ones(3, dtype=tape.float64),
], ids=["tensor", "tensor dtype", "as_tensor dtype", "0-d"])
def test_a_numpy_array_copied_in_is_copied_again_on_replay(make):
    """NOTE [arrays copied in]: a global array changed in place between calls."""
    def f(x):
        return (x * make()).sum()

    compiled = tape.compile(f)
    x = tape.tensor([0.5, 1.5, -1.0], dtype=tape.float64, requires_grad=True)
    for values, scale in [([1.0, 0.0, 1.0], 2.0), ([0.0, 1.0, 0.0], 3.0), ([2.0, 2.0, 0.5], -1.0)]:
        _MASK[:] = values
        _SCALE[()] = scale
        want, got = _twice(f, compiled, lambda g: g(x), [x])
        assert want == got
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_a_list_holding_numpy_arrays_made_into_a_tensor_runs_eagerly():
    compiled = tape.compile(lambda x: (x * tape.tensor([_SCALE, _SCALE, _SCALE])).sum())
    with pytest.warns(RuntimeWarning, match="tensor\\(\\) of a list holding numpy arrays"):
        compiled(tape.tensor([1.0, 2.0, 3.0]))


def test_numbers_equal_in_value_but_not_in_type_get_plans_of_their_own():
    """2 == 2.0 == True as keys, but an integer tensor times each has another dtype."""
    compiled = tape.compile(lambda x, k: x * k)
    x = tape.tensor([1, 2, 3])
    for k in (2, 2.0, True, 1, 1.0, np.float32(2)):
        got, want = compiled(x, k), x * k
        assert (got.dtype, got.tolist()) == (want.dtype, want.tolist())


def test_a_changed_default_dtype_records_a_new_plan():
    compiled = tape.compile(lambda x: x * tape.ones(2) + 0.5)
    x = tape.tensor([1.0, 2.0], dtype=tape.float32)
    assert compiled(x).dtype == tape.float32
    tape.set_default_dtype(tape.float64)
    try:
        got, want = compiled(x), x * tape.ones(2) + 0.5
    finally:
        tape.set_default_dtype(tape.float32)
    assert got.dtype == want.dtype == tape.float64
    assert compiled(x).dtype == tape.float32 and compiled.stats["recorded"] == 2


def test_inference_mode_runs_eagerly_and_gives_inference_tensors():
    compiled = tape.compile(lambda x: (x * 2).sum())
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    compiled(x)
    with tape.no_grad():
        assert not compiled(x).is_inference()  # a plan of its own, replayed
    with tape.inference_mode():
        assert compiled(x).is_inference()
    assert compiled.stats == {"recorded": 2, "replayed": 2, "eager": 1}


@pytest.mark.parametrize("fn, reason", [
    (lambda h: h[:2], "shares memory with an argument"),
    (lambda h: h.t(), "shares memory with an argument"),
    (lambda h: h.detach(), "shares memory with an argument"),
    (lambda h: (h * 2, (h * 2)[:2]), None),  # two values, no alias: replays
    (lambda h: (lambda y: (y, y[:2]))(h * 2), "shares memory with .* another result"),
    (lambda h: (lambda y: (y, y))(h * 2), "the same tensor twice"),
    (lambda h: (lambda y: (y, y))((h * 2).sum()), "the same tensor twice"),  # 0-d
    (lambda h: (h * 2)[:2], None),  # a view of a value only the function held: replays
], ids=["slice", "t", "detach", "two values", "view of a result", "twice", "twice 0-d", "inner view"])
def test_results_that_alias_what_the_caller_holds_run_eagerly(fn, reason):
    """NOTE [results that alias]: an in-place op on such a result changes the other
    tensor's history in eager, which a replay's plain results would not."""
    def grads(g):
        x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 1
        out = g(h)
        out = out if isinstance(out, tuple) else (out,)
        out[-1].mul_(2)
        (h * 1).sum().backward()
        return x.grad.tolist(), h.tolist(), [o.tolist() for o in out]

    compiled = tape.compile(fn)
    if reason is None:
        compiled(tape.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1)
    else:
        with pytest.warns(RuntimeWarning, match=reason):
            compiled(tape.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1)
    for _ in range(2):
        assert grads(compiled) == grads(fn)
    assert compiled.eager == (reason is not None)


def test_an_argument_of_another_layout_gets_a_plan_of_its_own():
    """reshape() is a view of a contiguous tensor and a copy of a transposed one: a plan made
    on one layout raised on the other (view's error) before strides were in the key."""
    compiled = tape.compile(lambda x: x.reshape(-1)[1:] * 1)
    base = tape.tensor(np.arange(6.0).reshape(2, 3))
    for x in (base, base.t().contiguous().t(), base):
        assert compiled(x).tolist() == (x.reshape(-1)[1:] * 1).tolist()
    assert compiled.stats == {"recorded": 2, "replayed": 3, "eager": 0}


@pytest.mark.parametrize("rg", [False, True], ids=["no grad", "x requires grad"])
def test_an_op_that_keeps_operand_values_in_its_forward_runs_eagerly(rg):
    """floor_divide has no derivative: its NotImplemented node keeps the operands that need
    no gradient in a closure, which a replay would compute with again (the first call's
    values, silently)."""
    compiled = tape.compile(lambda x, y: x // y)
    for a, b in [([7.0, -7.0, 3.0], [2.0, 2.0, 5.0]), ([7.0, 8.0, 9.0], [1.0, 3.0, 2.0]),
                 ([2.0, 3.0, 4.0], [-1.0, 2.0, 1.0])]:
        x, y = tape.tensor(a, requires_grad=rg), tape.tensor(b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = compiled(x, y)
        assert got.tolist() == (x // y).tolist()
    assert compiled.eager and compiled.stats["replayed"] == 0


@pytest.mark.parametrize("fn", [
    lambda x, k: (x * 1)[k] * 1,  # a 0-d integer tensor indexes as an int: its value is guarded
    lambda x, k: (x * 1)[x.argmax()] * k,
    lambda x, k: (x * 1).narrow(0, k, 2) * 1,  # a tensor start: runs eagerly
], ids=["index by argument", "index by argmax", "narrow"])
def test_integers_read_from_tensors_for_an_index_are_not_baked_into_a_plan(fn):
    compiled = tape.compile(fn)
    for i in range(4):
        x, k = tape.tensor(rng.standard_normal(6)), tape.tensor(i % 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = compiled(x, k)
        assert got.tolist() == fn(x, k).tolist()


@pytest.mark.parametrize("switch, restore", [
    (lambda: tape.set_grad_enabled(False), lambda: tape.set_grad_enabled(True)),
    (lambda: tape.set_default_dtype(tape.float64), lambda: tape.set_default_dtype(tape.float32)),
], ids=["grad mode", "default dtype"])
def test_a_function_that_leaves_a_mode_switched_runs_eagerly(switch, restore):
    def f(x):
        switch()  # and never switched back: every call leaves it so, which a replay would not
        return x * 2

    compiled = tape.compile(f)
    try:
        for _ in range(2):
            restore()
            with pytest.warns(RuntimeWarning, match="leaves changed") if not compiled.eager else \
                    warnings.catch_warnings():
                compiled(tape.tensor([1.0], requires_grad=True))
            assert (tape.is_grad_enabled(), tape.get_default_dtype()) != (True, tape.float32)
    finally:
        restore()
    assert compiled.stats == {"recorded": 1, "replayed": 0, "eager": 1}


_OUTSIDE = tape.tensor([1.0, 2.0, 3.0]) * 1


@pytest.mark.parametrize("fn, change", [
    (lambda h: (h * h).sum(), lambda h, out: h.mul_(2)),  # an argument the backward reads
    (lambda h: (h * _OUTSIDE).sum(), lambda h, out: _OUTSIDE.mul_(2)),  # a tensor from outside
    (lambda h: h.exp(), lambda h, out: out.mul_(2)),  # a result exp's backward reads
], ids=["argument", "outside", "result"])
def test_a_saved_value_changed_in_place_before_backward_raises_as_in_eager(fn, change):
    """NOTE [saved values the caller can change]: a replay's backward used the changed
    values, silently."""
    compiled = tape.compile(fn)
    for g in (fn, compiled, compiled):
        h = tape.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
        out = g(h)
        change(h, out)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    assert compiled.stats["replayed"] == 2
    h = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    compiled(h * 1).sum().backward()  # unchanged: no error
    assert h.grad is not None


@pytest.mark.parametrize("fn, replays", [
    (lambda x: x * 2 if x.is_leaf else x * 3, True),  # is_leaf is in the key
    (lambda x: x * 2 if x.grad_fn is None else x * 3, False),  # NOTE [graph reads]
    (lambda x: x * (2 if x.retains_grad else 3), False),
    (lambda x: (lambda y: y * (2 if y.grad_fn is not None else 3))(x * 1), True),  # its own value
], ids=["is_leaf", "grad_fn", "retains_grad", "grad_fn of its own value"])
def test_branches_on_an_arguments_graph_follow_eager(fn, replays):
    compiled = tape.compile(fn)
    makers = [lambda: tape.tensor([1.0, 2.0], requires_grad=True),
              lambda: tape.tensor([1.0, 2.0], requires_grad=True) * 1,
              lambda: (lambda t: (t.retain_grad(), t)[1])(tape.tensor([1.0, 2.0], requires_grad=True) * 1)]
    for make in makers * 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = compiled(make())
        assert got.tolist() == fn(make()).tolist()
    assert compiled.eager == (not replays)


@pytest.mark.parametrize("fn, rg, replays", [
    (lambda x: (x.requires_grad_(), (x * 2).sum())[1], False, False),  # the caller's tensor
    (lambda x: (x.requires_grad_(False), (x * 2).sum())[1], True, False),
    (lambda x: (lambda c: (c.requires_grad_(), (x * c).sum())[1])(tape.ones(2)), True, True),
], ids=["argument on", "argument off", "its own leaf"])
def test_setting_an_arguments_requires_grad_runs_eagerly(fn, rg, replays):
    """A replay would leave the caller's tensor as it was (and crashed, finding no edge)."""
    compiled = tape.compile(fn)
    got = []
    for g in (fn, compiled, compiled, compiled):
        x = tape.tensor([1.0, 2.0], requires_grad=rg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = g(x)
        if out.requires_grad:
            out.backward()
        got.append((x.requires_grad, out.requires_grad, None if x.grad is None else x.grad.tolist()))
    assert all(r == got[0] for r in got)
    assert compiled.eager == (not replays)


def test_random_numbers_fall_back_to_eager():
    compiled = tape.compile(lambda x: x + tape.randn(2))
    with pytest.warns(RuntimeWarning, match="random numbers"):
        compiled(tape.tensor([1.0, 2.0]))
    first = compiled(tape.tensor([0.0, 0.0])).tolist()
    second = compiled(tape.tensor([0.0, 0.0])).tolist()
    assert first != second  # fresh numbers each call, as eager


def test_a_dtype_view_falls_back_to_eager():
    """view(dtype) reads the bytes as another dtype outside the graph: no plan replays it."""
    def body(x):
        return (x * 2).view(tape.int32) + 1

    compiled = tape.compile(body)
    with pytest.warns(RuntimeWarning, match="view\\(dtype\\)"):
        compiled(tape.tensor([1.0, 2.0]))
    assert compiled.eager
    assert compiled(tape.tensor([3.0, 4.0])).tolist() == body(tape.tensor([3.0, 4.0])).tolist()


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


# ---- the generated code: compiled equals eager, exactly, case by case -------------------

W32 = tape.tensor(rng.standard_normal(3), dtype=tape.float32, requires_grad=True)


def _chain(x, a):  # W1's shape: 0-d values, scalar kernels and inlined rules
    y = x
    for _ in range(3):
        y = tape.tanh(tape.sin(y * a + x))
    return y


def _broadcast(x, b):  # gradients summed back to the (3,) and (4, 1) inputs
    return (x * b + b / (x * x + 1.0) - 2.0 * x).exp().log1p()


def _multi_output(x):  # a multi-output op (unbind), two of its three outputs used
    a, _, c = x.unbind(1)
    return a * 2.0 + c.exp()


def _closed_over(x):  # a parameter the function closes over
    return (x * W32).sum()


def _no_grad_op(x, y):  # y needs no gradient; the int result of argmax needs none either
    return x * y + y.argmax().to(x.dtype), y * 2.0


def _where_inside(x):  # a parameter computed inside (where's condition)
    return tape.where(x > 0, x.sin(), x * 0.5)


EXACT = [
    ("chain", _chain, [(), ()], [True, True]),
    ("broadcast", _broadcast, [(3,), (4, 1)], [True, True]),
    ("multi_output", _multi_output, [(2, 3)], [True]),
    ("closed_over", _closed_over, [(3,)], [True]),
    ("no_grad_op", _no_grad_op, [(3,), (3,)], [True, False]),
    ("where_inside", _where_inside, [(4,)], [True]),
]


def _run(fn, arrays, rgs, dtype, grad=True):
    W32.grad = None
    xs = [tape.tensor(a, dtype=dtype, requires_grad=rg and grad) for a, rg in zip(arrays, rgs)]
    if grad:
        out = fn(*xs)
    else:
        with tape.no_grad():
            out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    used = [o for o in outs if o.requires_grad]
    if used:
        tape.autograd.backward([o.sum() for o in used])
    grads = [None if x.grad is None else x.grad.numpy().copy() for x in xs]
    return ([o.detach().numpy().copy() for o in outs], [o.requires_grad for o in outs], grads,
            None if W32.grad is None else W32.grad.numpy().copy())


@pytest.mark.parametrize("dtype", [tape.float32, tape.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
@pytest.mark.parametrize("name, fn, shapes, rgs", EXACT, ids=[c[0] for c in EXACT])
def test_generated_code_equals_eager_exactly(name, fn, shapes, rgs, dtype, grad):
    compiled = tape.compile(fn)
    for _ in range(3):  # recording, the first replay (learns), generated replays
        arrays = [rng.standard_normal(s) for s in shapes]
        want, got = _run(fn, arrays, rgs, dtype, grad), _run(compiled, arrays, rgs, dtype, grad)
        for w, g in zip(want[0] + want[2] + [want[3]], got[0] + got[2] + [got[3]]):
            assert (w is None) == (g is None)
            if w is not None:
                assert w.dtype == g.dtype and w.shape == g.shape
                np.testing.assert_array_equal(g, w)  # same numpy calls: same bits
        assert want[1] == got[1]  # requires_grad of each output
    assert compiled.stats["replayed"] == 3 and compiled.stats["eager"] == 0


def test_source_shows_generated_forward_and_backward():
    x = tape.tensor(0.5, requires_grad=True)
    compiled = tape.compile(lambda x: (x * x).sin())
    assert "def call(x0):" in compiled.source(x) and "def backward" not in compiled.source(x)
    compiled(x).backward()
    src = compiled.source(x)
    assert "v1 = v0 * v0" in src  # the kernel as an operator, not op.forward
    assert "def backward_1(saved, o0):" in src
    assert "g1 = g2 * F_cos_" in src and "rule_" not in src  # the rules inlined, not called


def test_backward_twice_needs_retain_graph_as_eager():
    compiled = tape.compile(lambda x: (x * x).sum())
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    y = compiled(x)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_a_new_output_gradient_pattern_gets_its_own_backward():
    compiled = tape.compile(lambda x: (x.sin(), x.cos()))
    for which in (0, 1, 0, 1):
        x = tape.tensor([0.3, 0.4], dtype=tape.float64, requires_grad=True)
        outs = compiled(x)
        outs[which].sum().backward()
        want = np.cos([0.3, 0.4]) if which == 0 else -np.sin([0.3, 0.4])
        np.testing.assert_array_equal(x.grad.numpy(), want)
    plan = next(iter(compiled.plans.values()))
    assert sorted(plan.backward_sources) == [(False, True), (True, False)]


def test_guards_still_rerecord_after_code_generation():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    compiled = tape.compile(lambda x: x * w if x.sum().item() > 0 else x * 3.0)
    for _ in range(3):
        compiled(tape.tensor([1.0, 1.0], requires_grad=True)).sum().backward()
    assert compiled.stats["recorded"] == 1
    assert compiled(tape.tensor([-1.0, -1.0])).tolist() == [-3.0, -3.0]  # .item() guard
    w2 = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    compiled = tape.compile(lambda x: (x * w2).sum())
    compiled(tape.tensor([1.0, 1.0, 1.0]))
    w2._data = np.zeros(3, dtype=np.float64)  # the outside tensor's dtype changed
    assert compiled(tape.tensor([1.0, 1.0, 1.0])).item() == 0.0
    assert compiled.stats["recorded"] == 2


# ---- values a wrapper computes from tensor data (NOTE [values computed outside ops]) -----


def _eager_and_compiled(fn, *datas):
    """fn's value and gradients eagerly and through one tape.compile'd fn, per data."""
    cfn = tape.compile(fn)
    out = []
    for data in datas:
        got = []
        for f in (fn, cfn):
            x = tape.tensor(np.array(data, dtype=np.float64), requires_grad=True)
            y = f(x)
            y.backward()
            got.append((y.item(), x.grad.tolist()))
        out.append(got)
    return cfn, out


DATAS = ([1.0, -2.0, 3.0, 0.5], [-1.0, 2.0, 3.0, -4.0], [5.0, 6.0, -7.0, 8.0])


def test_numpy_values_a_wrapper_made_fall_back_to_eager():
    # the index array is made by the indexing wrapper from a Python list: the plan cannot
    # tell it from one computed out of tensor data, so the function runs eagerly
    with pytest.warns(RuntimeWarning, match="index\\(\\) with arguments computed from tensor values"):
        cfn, out = _eager_and_compiled(lambda x: (x[[0, 2, 2]] * x[[1, 1, 3]]).sum(), *DATAS)
    for eager, compiled in out:
        assert compiled == eager
    assert cfn.stats["replayed"] == 0


def test_a_boolean_mask_replays_and_rerecords_when_its_count_changes():
    # the mask is a slot's value, read on every replay; the masked result's shape depends on
    # the values, so a different count of True re-records (a shape guard), never misreads
    def fn(x):
        return (x[x > 0] * 2).sum() + (x * x)[x < 1].sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfn, out = _eager_and_compiled(fn, [1.0, -2.0, 3.0, 0.5], [-1.0, 2.0, 3.0, -4.0],
                                       [5.0, -6.0, 7.0, -8.0], [-5.0, 6.0, -7.0, -8.0])
    for eager, compiled in out:
        assert compiled == eager
    # counts (3, 2), (2, 2), (2, 2), (1, 3): the second call re-records, the third replays
    # its plan, the fourth re-records again
    assert cfn.stats["recorded"] == 3 and cfn.stats["replayed"] == 4


@pytest.mark.parametrize("name, fn", [
    ("max(dim) indices", lambda x: x.reshape(2, 2).max(dim=1).values.sum()),
    ("min(dim) indices", lambda x: (x.reshape(2, 2).min(dim=0).values * 3).sum()),
    ("logsigmoid buffer", lambda x: tape.nn.functional.logsigmoid(x).sum()),
])
def test_derived_params_are_recomputed_on_replay(name, fn):
    # Op.derive: the indices / buffer are derived from the input on every replay
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfn, out = _eager_and_compiled(fn, *DATAS)
    for eager, compiled in out:
        assert compiled == eager
    assert cfn.stats["replayed"] == len(DATAS) and cfn.stats["eager"] == 0


def test_nll_loss_targets_are_derived_again_on_every_replay():
    import tape.nn.functional as F

    def loss(z, t):
        return F.cross_entropy(z, t)

    cfn = tape.compile(loss)
    z0 = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the plan replays
        for t in ([0, 1], [2, 0], [1, 1], [2, 2]):
            got = []
            for f in (loss, cfn):
                z = tape.tensor(z0, requires_grad=True)
                y = f(z, tape.tensor(t))
                y.backward()
                got.append((y.item(), z.grad.numpy().copy()))
            assert got[0][0] == got[1][0]
            np.testing.assert_array_equal(got[0][1], got[1][1])
    assert cfn.stats["replayed"] >= 4 and cfn.stats["eager"] == 0
    # the targets are checked on replay too: torch's error, not numpy's wrap-around
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        cfn(tape.tensor(z0, requires_grad=True), tape.tensor([0, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        cfn(tape.tensor(z0, requires_grad=True), tape.tensor([-1, 0]))


def test_alike_steps_share_one_inlining():
    # NOTE [inlining templates]: 4 rules x 100 steps are inlined 4 times, not 400
    a = tape.tensor(0.7, dtype=tape.float64, requires_grad=True)

    def chain(x):
        y = x
        for _ in range(100):
            y = tape.tanh(tape.sin(y * a + x))
        return y

    cfn = tape.compile(chain)
    x = tape.tensor(0.3, dtype=tape.float64, requires_grad=True)
    cfn(x).backward()
    cfn(x).backward()
    (plan,) = cfn.plans.values()
    assert len(plan._templates) == 4
    (src,) = plan.backward_sources.values()
    assert "rule" not in src and src.count("* (1 - v") == 100  # every tanh inlined
    x2 = tape.tensor(0.3, dtype=tape.float64, requires_grad=True)
    a.grad = None
    chain(x2).backward()
    eager_a = a.grad.item()
    a.grad = None
    x.grad = None
    cfn(x).backward()
    assert (x.grad.item(), a.grad.item()) == (x2.grad.item(), eager_a)


# ---- NOTE [python state guards]: Python values the function reads ----------------------

SCALE = 2.0
OFFSETS = [1.0, 2.0]


def _scaled(x):
    return x * SCALE + OFFSETS[1]


def _helper_reads_global(x):
    return _scaled(x).sum()


class _Affine:
    def __init__(self, scale):
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def _values(fn, x):
    return [fn(x).detach().numpy().copy() for _ in range(2)]


def test_a_changed_global_rerecords_instead_of_replaying_the_old_value(monkeypatch):
    f = tape.compile(_scaled)
    x = tape.tensor([1.0, 2.0])
    assert [v.tolist() for v in _values(f, x)] == [[4.0, 6.0]] * 2
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 3.0)
    assert [v.tolist() for v in _values(f, x)] == [[5.0, 8.0]] * 2  # eager: 3x + 2
    assert f.stats["recorded"] == 2 and f.stats["eager"] == 0


def test_a_list_changed_in_place_rerecords():
    f = tape.compile(_scaled)
    x = tape.tensor([1.0, 2.0])
    _values(f, x)
    OFFSETS[1] = 10.0  # the same list object, new contents
    try:
        assert _values(f, x)[1].tolist() == [12.0, 14.0]
    finally:
        OFFSETS[1] = 2.0
    assert f.stats["recorded"] == 2


def test_a_global_read_by_a_helper_function_is_guarded(monkeypatch):
    f = tape.compile(_helper_reads_global)
    x = tape.tensor([1.0, 2.0])
    assert _values(f, x)[1].item() == 10.0
    monkeypatch.setattr(sys.modules[__name__], "SCALE", -1.0)
    assert _values(f, x)[1].item() == _helper_reads_global(x).item() == 1.0


def test_closure_variables_and_a_bound_methods_attributes_are_guarded():
    k = 2.0
    f = tape.compile(lambda x: x * k)
    x = tape.tensor([1.0, 3.0])
    assert _values(f, x)[1].tolist() == [2.0, 6.0]
    k = 5.0
    assert _values(f, x)[1].tolist() == [5.0, 15.0]
    m = _Affine(2.0)
    g = tape.compile(m.forward)
    assert _values(g, x)[1].tolist() == [2.0, 6.0]
    m.scale = 0.5
    assert _values(g, x)[1].tolist() == [0.5, 1.5]


def test_an_outside_tensor_rebound_to_another_is_not_replayed(monkeypatch):
    f = tape.compile(mlp)
    x = tape.tensor(rng.standard_normal((2, 4)))
    before = f(x).item()
    other = tape.tensor(W2.detach().numpy() * 2, requires_grad=True)
    monkeypatch.setattr(sys.modules[__name__], "W2", other)
    assert f(x).item() == pytest.approx(mlp(x).item(), rel=1e-12)
    assert f(x).item() != pytest.approx(before)


def test_a_function_that_changes_what_it_reads_runs_eagerly():
    state = {"calls": 0}

    def counting(x):
        state["calls"] += 1
        return x * state["calls"]

    f = tape.compile(counting)
    x = tape.tensor([1.0])
    with pytest.warns(RuntimeWarning, match="closure variable 'state'.*changes while it runs"):
        first = f(x).item()
    assert (first, f(x).item(), f(x).item()) == (1.0, 2.0, 3.0)  # as eager: never replayed


class _Model:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        return x * self.scale + SCALE


def test_a_callable_objects_attributes_and_partial_functions_are_guarded(monkeypatch):
    model = _Model(2.0)
    f = tape.compile(model)
    x = tape.tensor([1.0, 3.0])
    assert _values(f, x)[1].tolist() == [4.0, 8.0]
    model.scale = 3.0  # read by the method __call__ calls
    assert _values(f, x)[1].tolist() == [5.0, 11.0]
    g = tape.compile(functools.partial(_scaled))
    assert _values(g, x)[1].tolist() == [4.0, 8.0]
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 1.0)
    assert _values(g, x)[1].tolist() == [3.0, 5.0]
    assert _values(f, x)[1].tolist() == [4.0, 10.0]


class _Layer:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return x * self.w


class _Net:
    bias = 0.0  # a class attribute, read through the instance

    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x + self.bias


NET = _Net([_Layer(tape.tensor([1.0, 2.0])), _Layer(tape.tensor([3.0, 4.0]))])


def _through_net(x):
    return NET.forward(x).sum()


def test_attributes_of_the_objects_the_function_reaches_are_guarded(monkeypatch):
    # a global object's attribute, an attribute of an object in its list (reached through a
    # method it calls on each), and a class attribute: each rebinding re-records
    f = tape.compile(_through_net)
    x = tape.tensor([1.0, 1.0])
    assert _values(f, x)[1].item() == 3.0 + 8.0
    monkeypatch.setattr(NET.layers[1], "w", tape.tensor([0.5, 0.5]))
    assert _values(f, x)[1].item() == _through_net(x).item() == 0.5 + 1.0
    monkeypatch.setattr(_Net, "bias", 10.0)
    assert _values(f, x)[1].item() == _through_net(x).item() == 0.5 + 1.0 + 20.0
    assert f.stats["recorded"] == 3


def test_attributes_of_an_object_or_function_passed_as_an_argument_or_default_are_guarded():
    def step(model, x):  # the plan is keyed by the model object, not by what it holds
        return model(x).sum()

    f = tape.compile(step)
    model = _Layer(tape.tensor([1.0, 2.0]))
    x = tape.tensor([1.0, 1.0])
    assert _values(lambda x: f(model, x), x)[1].item() == 3.0
    model.w = tape.tensor([10.0, 20.0])
    assert _values(lambda x: f(model, x), x)[1].item() == step(model, x).item() == 30.0
    assert f.stats["recorded"] == 2
    # a function as the argument: its closure, and a bound method's instance
    k = 2.0
    act = lambda t: t * k  # noqa: E731
    assert _values(lambda x: f(act, x), x)[1].item() == 4.0
    k = 5.0
    assert _values(lambda x: f(act, x), x)[1].item() == 10.0
    affine = _Affine(2.0)
    assert _values(lambda x: f(affine.forward, x), x)[1].item() == 4.0
    affine.scale = 7.0
    assert _values(lambda x: f(affine.forward, x), x)[1].item() == 14.0
    # an object as a default argument
    g = tape.compile(lambda x, model=model: step(model, x))
    assert _values(g, x)[1].item() == 30.0
    model.w = tape.tensor([1.0, 1.0])
    assert _values(g, x)[1].item() == 2.0


class _Shifted(_Affine):
    shift = 0.0


class _Scaled(_Shifted):  # `scale` set by _Affine's __init__; `shift` from its base class
    pass


class _Slotted:
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __getattr__(self, name):  # asked for __dict__ too: it must not be called for that
        raise RuntimeError(f"no {name}")


def test_base_class_attributes_and_slots_are_guarded(monkeypatch):
    model, slotted = _Scaled(2.0), _Slotted(3.0)
    f = tape.compile(lambda x: model.forward(x) + model.shift + slotted.k)
    x = tape.tensor([1.0])
    assert _values(f, x)[1].tolist() == [5.0]
    monkeypatch.setattr(_Shifted, "shift", 1.0)  # a class attribute, found on a base class
    assert _values(f, x)[1].tolist() == [6.0]
    slotted.k = 10.0  # a slot (read through its descriptor, not the class's __getattr__)
    assert _values(f, x)[1].tolist() == [13.0]
    assert f.stats["recorded"] == 3


class _Derived:
    def __init__(self, s):
        self._s = s

    @property
    def scale(self):  # what it reads is guarded as a method's would be
        return self._s * 2


@dataclasses.dataclass(slots=True)
class _SlottedConfig:
    lr: float


@pytest.mark.parametrize("make, read, change", [
    (lambda: _Derived(2.0), lambda m: m.scale, lambda m: setattr(m, "_s", 5.0)),  # a property
    (lambda: _SlottedConfig(4.0), lambda m: m.lr, lambda m: setattr(m, "lr", 10.0)),  # a slot
], ids=["property", "dataclass slots"])
def test_what_a_property_or_a_slot_holds_is_guarded(make, read, change):
    model = make()
    f = tape.compile(lambda x: x * read(model))
    x = tape.tensor([1.0])
    assert _values(f, x)[1].tolist() == [4.0]
    change(model)
    assert _values(f, x)[1].tolist() == [10.0]
    assert f.stats["recorded"] == 2


GEN = np.random.default_rng(3)


@pytest.mark.parametrize("draw", [
    lambda: random.random(),  # the random module's generator
    lambda: np.random.rand(),  # numpy's global RandomState, through the module
    lambda: GEN.standard_normal(),  # a Generator the function reads
    lambda: _RANDOM(),  # a bound method of random's generator (from random import random)
], ids=["random.random", "np.random.rand", "Generator", "bound method"])
def test_random_numbers_from_outside_tape_run_eagerly(draw):
    # NOTE [state a replay cannot advance]: a replay would give every call the first number
    f = tape.compile(lambda x: x * draw())
    x = tape.tensor([1.0])
    with pytest.warns(RuntimeWarning, match="random numbers from a generator outside tape"):
        first = f(x).item()
    assert len({first, f(x).item(), f(x).item()}) == 3


def test_an_iterator_argument_runs_eagerly_and_numpy_alone_does_not():
    f = tape.compile(lambda x, scales: x * next(scales))
    x = tape.tensor([1.0])
    scales = iter([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match=r"an iterator \(an argument\)"):
        assert [f(x, scales).item() for _ in range(3)] == [1.0, 2.0, 3.0]
    g = tape.compile(lambda x: x * np.float64(2.0))  # reads numpy, draws nothing: replays
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [g(x).item() for _ in range(2)] == [2.0, 2.0]
    assert g.stats["replayed"] == 2


def test_a_user_modules_attribute_is_guarded(monkeypatch):
    import types

    cfg = types.ModuleType("cfg")
    cfg.__file__ = "/home/user/project/cfg.py"
    cfg.scale = 2.0
    monkeypatch.setattr(sys.modules[__name__], "CFG", cfg, raising=False)
    f = tape.compile(lambda x: x * CFG.scale)  # noqa: F821 - set just above
    x = tape.tensor([1.0, 3.0])
    assert _values(f, x)[1].tolist() == [2.0, 6.0]
    cfg.scale = -1.0
    assert _values(f, x)[1].tolist() == [-1.0, -3.0]


def test_an_outside_tensor_read_as_a_number_is_read_again_on_each_call():
    scale = tape.tensor(2.0)
    f = tape.compile(lambda x: x * scale.item())
    x = tape.tensor([1.0, 3.0])
    assert _values(f, x)[1].tolist() == [2.0, 6.0]
    scale.fill_(3.0)  # the same tensor, another value: the guard on item() re-records
    assert _values(f, x)[1].tolist() == [3.0, 9.0]
    assert f.stats["recorded"] == 2


def test_reading_a_callers_tensors_version_runs_eagerly():
    f = tape.compile(lambda x: x * (2.0 if x._version else 1.0))
    x = tape.tensor([1.0, 3.0])
    with pytest.warns(RuntimeWarning, match="_version of a tensor from outside the function"):
        assert f(x).tolist() == [1.0, 3.0]
    x.add_(0.0)
    assert f(x).tolist() == [2.0, 6.0]


def test_a_list_of_tensors_with_an_entry_replaced_rerecords():
    params = [tape.tensor([1.0, 2.0]), tape.tensor([3.0, 4.0])]
    f = tape.compile(lambda x: x * params[0] + params[1])
    x = tape.tensor([1.0, 1.0])
    assert _values(f, x)[1].tolist() == [4.0, 6.0]
    params[1] = tape.tensor([0.0, 0.0])  # the same list, another tensor in it
    assert _values(f, x)[1].tolist() == [1.0, 2.0]
    assert f.stats["recorded"] == 2


def test_a_long_list_or_dict_of_tensors_with_an_entry_replaced_rerecords():
    # a deep model's parameter list: 100 entries (the contents were guarded up to 64 before)
    params = [tape.tensor([float(i)]) for i in range(100)]
    named = {f"w{i}": p for i, p in enumerate(params)}
    f = tape.compile(lambda x: x * params[90] + named["w80"])
    x = tape.tensor([1.0])
    assert _values(f, x)[1].tolist() == [170.0]
    params[90] = tape.tensor([0.0])
    assert _values(f, x)[1].tolist() == [80.0]
    named["w80"] = tape.tensor([1.0])
    assert _values(f, x)[1].tolist() == [1.0]
    params[:] = list(params)  # new list contents, the very same tensors: no re-recording
    assert _values(f, x)[1].tolist() == [1.0]
    assert f.stats["recorded"] == 3


def test_a_value_the_plan_cannot_take_raises_eagers_error_and_replays_after():
    def pick(x, index):
        return x.gather(1, index).sum() + x[:, index[0]].sum()

    f = tape.compile(pick)
    x = tape.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    good, bad = tape.tensor([[0], [2]]), tape.tensor([[0], [3]])
    assert f(x, good).item() == pick(x, good).item() == 12.0
    with pytest.raises(RuntimeError) as eager_error:
        pick(x, bad)
    with pytest.raises(RuntimeError) as compiled_error:  # numpy's IndexError before
        f(x, bad)
    assert str(compiled_error.value) == str(eager_error.value)
    assert "out of bounds for dimension 1 with size 3" in str(eager_error.value)
    assert f(x, good).item() == 12.0
    assert f.stats == {"recorded": 1, "replayed": 2, "eager": 1}


def test_an_argument_whose_gradient_goes_nowhere_replays():
    # a view made under no_grad requires grad but has no edge: eager's gradient for it goes
    # nowhere, the others' as usual (the plan's record crashed building its edges)
    w, u = tape.tensor([1.0, 2.0, 3.0], requires_grad=True), tape.tensor([1.0, 1.0], requires_grad=True)
    with tape.no_grad():
        v = w[1:]

    def f(a, b):
        return (a * a * b).sum()

    compiled = tape.compile(f)
    for fn in (f, compiled, compiled):
        u.grad = None
        y = fn(v, u)
        y.backward()
        assert (y.item(), w.grad, v.grad, u.grad.tolist()) == (13.0, None, None, [4.0, 9.0])
    assert compiled.stats["replayed"] == 2


def test_an_argument_no_plan_can_key_runs_eagerly_and_says_so_once():
    def f(x, mask):
        return (x * tape.tensor(mask)).sum()

    compiled = tape.compile(f)
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match=r"no plan can be keyed on \(numpy.ndarray\)"):
        assert compiled(x, np.array([1.0, 0.0])).item() == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compiled(x, np.array([0.0, 3.0])).item() == 6.0  # eager's value, no warning
    assert compiled(x, 2.0).item() == 6.0  # a plan for keyable arguments as before
    assert compiled.stats == {"recorded": 1, "replayed": 1, "eager": 2}


_ORDERED = collections.OrderedDict(lr=0.5)
_DEFAULTS = collections.defaultdict(float, lr=0.5)
_ALLOWED = {"a"}
_NESTED = {"opt": {"lr": 0.5}, "sizes": [[0.5]]}
_TABLE = np.array([0.25, 0.25])


@pytest.mark.parametrize("read, change", [
    (lambda: _ORDERED["lr"], lambda: _ORDERED.__setitem__("lr", 2.0)),
    (lambda: _DEFAULTS["lr"], lambda: _DEFAULTS.__setitem__("lr", 2.0)),
    (lambda: 2.0 if "b" in _ALLOWED else 0.5, lambda: _ALLOWED.add("b")),
    (lambda: _NESTED["opt"]["lr"], lambda: _NESTED["opt"].__setitem__("lr", 2.0)),
    (lambda: _NESTED["sizes"][0][0], lambda: _NESTED["sizes"][0].__setitem__(0, 2.0)),
    (lambda: float(_TABLE.sum()), lambda: _TABLE.__setitem__(0, 1.75)),  # read in Python
], ids=["OrderedDict", "defaultdict", "set", "nested dict", "nested list", "array"])
def test_containers_of_every_kind_are_guarded_by_their_contents(read, change):
    # each was guarded by identity only: an in-place change replayed the old value
    f = tape.compile(lambda x: x * read())
    x = tape.tensor([1.0])
    assert _values(f, x)[1].tolist() == [0.5]
    change()
    assert _values(f, x)[1].tolist() == [2.0]
    assert f.stats["recorded"] == 2


_META = tape.zeros(3)


@pytest.mark.parametrize("read, change", [
    (lambda x: x * _META.shape[0], lambda: setattr(_META, "data", tape.zeros(5))),
    (lambda x: x * _META.numel(), lambda: setattr(_META, "data", tape.zeros(2, 3))),
    (lambda x: x.to(_META.dtype) * 2, lambda: setattr(_META, "data", tape.zeros(3, dtype=tape.float64))),
    (lambda x: x * (2.0 if _META.requires_grad else 1.0), lambda: _META.requires_grad_()),
], ids=["shape", "numel", "dtype", "requires_grad"])
def test_what_python_reads_off_a_tensor_from_outside_is_guarded(read, change):
    # no op uses _META, so the plan had no slot for it: its metadata replayed as recorded
    _META.data, _META.requires_grad = tape.zeros(3), False
    f = tape.compile(read)
    x = tape.tensor([1.0])
    f(x), f(x)
    change()
    got, want = f(x), read(x)
    assert (got.tolist(), got.dtype) == (want.tolist(), want.dtype)
    assert f.stats["recorded"] == 2


def test_detach_and_data_replay_without_a_gradient_through_them():
    def f(x):
        y = x * x
        return (y - y.detach() + x.data * 2).sum() + (x.exp().detach() * x).sum()

    compiled = tape.compile(f)
    for _ in range(3):
        arrays = [rng.standard_normal(4)]
        want, got = _grads(f, arrays), _grads(compiled, arrays)
        for a, b in zip(want[0] + want[1], got[0] + got[1]):
            np.testing.assert_array_equal(b, a)
        x = arrays[0]  # d/dx: 2x (y's own path) + exp(x) (the detached factor)
        np.testing.assert_allclose(got[1][0], 2 * x + np.exp(x), rtol=1e-12)
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}


def test_helpers_are_followed_unless_they_belong_to_tape_numpy_or_the_standard_library():
    import statistics

    from tape.python_guards import _followed

    def helper(x):
        return x * SCALE

    assert _followed(helper) and _followed(_scaled)
    helper.__module__ = "tapestry.layers"  # a user package whose name starts with "tape"
    assert _followed(helper)
    assert not any(_followed(f) for f in (tape.compile, np.linalg.norm, statistics.mean))


def test_tensors_an_op_takes_as_parameters_replay_and_are_read_afresh():
    import tape.nn.functional as F

    weight = tape.tensor([1.0, 2.0, 0.5], dtype=tape.float64)
    losses = {
        "outside": lambda z, y: F.cross_entropy(z, y, weight=weight),
        "made inside": lambda z, y: F.cross_entropy(
            z, y, weight=tape.tensor([1.0, 2.0, 0.5], dtype=tape.float64)),
        "bce pos_weight": lambda z, y: F.binary_cross_entropy_with_logits(
            z, (y == 1).to(tape.float64).unsqueeze(1).expand(-1, 3), pos_weight=weight),
    }
    for name, loss in losses.items():
        compiled = tape.compile(loss)
        for call in range(4):
            if call == 3:
                with tape.no_grad():
                    weight.mul_(2.0)  # the same tensor, new values: read on the replay
            z = rng.standard_normal((4, 3))
            y = tape.tensor(rng.integers(0, 3, 4))
            za, zb = tape.tensor(z, requires_grad=True), tape.tensor(z, requires_grad=True)
            got, want = compiled(za, y), loss(zb, y)
            got.backward()
            want.backward()
            assert got.item() == want.item(), name
            np.testing.assert_array_equal(za.grad.numpy(), zb.grad.numpy())
        assert compiled.stats == {"recorded": 1, "replayed": 4, "eager": 0}, name


def _hooks_on_a_sink(m, compile_, kind, hold):
    """A hook (or metadata) put on the AccumulateGrad of one call's graph: how often it runs
    in the next graphs, compiled and eager, and whether a later node shows the metadata."""
    w = m.ones(3, requires_grad=True)
    f = compile_(lambda w: (w * 2).sum())
    calls = []
    y = f(w)
    node = _sink_of(y)
    if kind == "hook":
        node.register_hook(lambda grad_inputs, grad_outputs: calls.append("hook"))
    elif kind == "prehook":
        node.register_prehook(lambda grad_outputs: calls.append("prehook"))
    else:
        node.metadata["tag"] = 1
    y.backward()
    if not hold:
        del node
    del y
    f(w).backward()
    (w * 3).sum().backward()
    later = _sink_of(f(w))
    return len(calls), "tag" in later.metadata, w.grad.tolist()


def _sink_of(y):
    node = y.grad_fn
    while not hasattr(node, "variable"):  # (eager torch: SumBackward0, then MulBackward0)
        node = node.next_functions[0][0]
    return node


@pytest.mark.parametrize("hold", [False, True], ids=["node dropped", "node held"])
@pytest.mark.parametrize("kind", ["hook", "prehook", "metadata"])
def test_a_plans_kept_sinks_carry_no_hooks_into_later_graphs(kind, hold):
    # a plan keeps its leaves' AccumulateGrads between calls (NOTE [kept sinks]); one that
    # gets a hook or metadata lives as torch's does: while the user (or a graph) holds it
    torch = pytest.importorskip("torch")
    got = _hooks_on_a_sink(tape, tape.compile, kind, hold)
    assert got == _hooks_on_a_sink(torch, lambda fn: fn, kind, hold)
    assert got[0] == (3 if hold and kind != "metadata" else 1 if kind != "metadata" else 0)


def test_a_hooked_sink_the_user_held_through_a_call_is_not_kept_after_they_drop_it():
    w = tape.ones(3, requires_grad=True)
    f = tape.compile(lambda w: (w * 2).sum())
    calls = []
    node = _sink_of(f(w))
    node.register_hook(lambda gi, go: calls.append(1))
    f(w).backward()  # the held, hooked sink is this graph's: its hook runs, as torch's
    del node
    f(w).backward()  # dropped and no graph holds it: a new sink, no hook (torch: the same)
    assert len(calls) == 1


def test_a_plan_keeps_the_sinks_of_its_leaves_and_no_graph():
    import gc
    import weakref

    w = tape.ones(3, requires_grad=True)
    f = tape.compile(lambda a, w: (a * w).sum())
    a = (tape.ones(3, requires_grad=True) * 2)  # a non-leaf argument: its graph is not kept
    f(a, w).backward()
    a_graph = weakref.ref(a.grad_fn)
    first = f(a, w).grad_fn.next_functions[1][0]
    assert f(a, w).grad_fn.next_functions[1][0] is first  # kept between calls: one sink
    del a
    gc.collect()
    assert a_graph() is None


def test_a_copy_of_tape_under_another_name_still_replays(tmp_path):
    # tape's own functions are not the user's state to guard, found by where they live as
    # well as by package name: two versions side by side (benchmarks/ab_variants.py) replay
    import os
    import shutil
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(tape.__file__)))
    pkg = tmp_path / "tape_copy"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(os.path.join(root, "tape"), pkg, ignore=ignore)
    shutil.rmtree(pkg / "ops", ignore_errors=True)
    shutil.copytree(os.path.join(root, "ops"), pkg / "ops", ignore=ignore)
    code = ("import warnings; warnings.simplefilter('error')\n"
            "import tape_copy as m\n"
            "w = m.ones(3, 2, requires_grad=True)\n"
            "f = m.compile(lambda x, w: (x @ w).relu().sum())\n"
            "for _ in range(3): f(m.ones(4, 3), w).backward()\n"
            "print(f.stats['replayed'], f.stats['eager'], w.grad.tolist()[0])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["3", "0", "[12.0,", "12.0]"]


def _log_softmax_plus_linear(w, x):
    import tape.nn.functional as F

    # w gets two gradients: log_softmax's rule (g - exp(y) * sum(g)) must be added whole
    return (F.log_softmax(w, -1) * 1e8).sum() + (w * x).sum()


@pytest.mark.parametrize("fn", [
    _log_softmax_plus_linear,
    lambda w, x: (w.log_softmax(0) * 3).sum() + (w * w).sum() + w.sum(),
    lambda w, x: w.softmax(-1).mul(x).sum() + (w - w.exp()).sum(),
], ids=["log_softmax * 1e8 + w * x", "log_softmax + w * w + w", "softmax + w - exp(w)"])
def test_a_gradient_added_to_another_is_added_whole_on_replay(fn):
    got = []
    for f in (fn, tape.compile(fn)):
        w = tape.zeros(4, 1, requires_grad=True)
        for _ in range(3):
            w.grad = None
            f(w, tape.ones(1)).backward()
            got.append(w.grad.tolist())
    assert got[3:] == got[:3]  # every replay's gradient is eager's, bit for bit


@pytest.mark.parametrize("fn", [lambda x, s: (x + s).sum(), lambda x, s: (x.reshape(3, 1) - s).clone().sum()],
                         ids=["add, sum", "reshape, sub, clone, sum"])
def test_a_second_backward_of_a_plan_that_saved_nothing_runs_as_eager(fn):
    got = []
    for f in (fn, tape.compile(fn)):
        s = tape.tensor(2.0, requires_grad=True)
        for _ in range(3):
            x = tape.ones(3, requires_grad=True)
            out = f(x, s)
            out.backward()
            out.backward()  # nothing was saved, so nothing was freed
            got.append((x.grad.tolist(), s.grad.item()))
    assert got[3:] == got[:3]


_P = tape.tensor([2, 0, 1])
_M = tape.tensor([True, False, True])


@pytest.mark.parametrize("fn", [
    lambda x: x.index_select(0, _P) * 2, lambda x: x.gather(0, _P) * 2,
    lambda x: x.masked_fill(_M, 0.0) * 2,
], ids=["index_select", "gather", "masked_fill"])
def test_an_index_tensor_from_outside_replays_and_is_read_afresh(fn):
    compiled = tape.compile(fn)
    for i in range(4):
        if i == 2:
            _P[0], _M[1] = 1, True  # changed in place between calls: the replay reads it again
        x = tape.tensor(rng.standard_normal(3), requires_grad=True)
        ref = x.detach().clone().requires_grad_()
        got = compiled(x)
        got.sum().backward()
        fn(ref).sum().backward()
        assert got.tolist() == fn(x).tolist() and x.grad.tolist() == ref.grad.tolist()
    _P[0], _M[1] = 2, False
    assert compiled.stats == {"recorded": 1, "replayed": 4, "eager": 0}
