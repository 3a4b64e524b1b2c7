"""tape.compile's forward buffers (NOTE [plan buffers]): reused only when nothing sees them."""

import threading

import numpy as np
import pytest

import tape
from tape import plan_buffers

N = 20_000  # float64: 160 kB a value, above MIN_BYTES


def chain(x, w):
    y = (x * w).sin() + x
    return ((y * 0.5).exp() * y).tanh().sum()


def leaves(seed):
    rng = np.random.default_rng(seed)
    return (tape.tensor(rng.uniform(-1, 1, N), requires_grad=True),
            tape.tensor(rng.uniform(-1, 1, N), requires_grad=True))


def run(fn, x, w, retain=False):
    x.grad = w.grad = None
    out = fn(x, w)
    out.backward(retain_graph=retain)
    return out.item(), x.grad.numpy().copy(), w.grad.numpy().copy()


def equal(a, b):
    return a[0] == b[0] and all(np.array_equal(u, v) for u, v in zip(a[1:], b[1:]))


def plan_of(f):
    (plan,) = f.plans.values()
    return plan


def test_large_intermediates_are_written_into_buffers_reused_call_after_call():
    f = tape.compile(chain)
    x, w = leaves(0)
    want = run(chain, x, w)
    seen, seen_backward = set(), set()
    for _ in range(4):
        assert equal(run(f, x, w), want)
        seen |= {id(s) for s in plan_of(f).buffers.sets}
        # the backward's own pool: gradients of the function's values, never what reaches
        # the leaves (nor a view of it)
        (pool,) = plan_of(f).backward_buffers.values()
        seen_backward |= {id(s) for s in pool.sets}
        assert not any(np.shares_memory(b, g.numpy()) for s in pool.sets for b in s
                       for g in (x.grad, w.grad))
    forward_src, backward_src = f.source(x, w).split("def backward")
    assert "out=B[0]" in forward_src
    assert len(plan_of(f).buffers.specs) == 7  # every value an op makes, but the output
    assert "out=B[0]" in backward_src and backward_src.count("out=B[") == len(pool.specs) >= 4
    assert len(seen) == 1  # each call's backward freed the one set for the next call
    assert len(seen_backward) == 1  # and its own set, free again once it returned


def test_small_values_get_no_buffer():
    f = tape.compile(chain)
    x, w = tape.ones(10, requires_grad=True), tape.ones(10, requires_grad=True)
    f(x, w).backward()
    assert plan_of(f).buffers is None and "out=" not in f.source(x, w)


def test_graphs_alive_at_once_each_keep_their_own_values():
    f = tape.compile(chain)
    inputs = [leaves(seed) for seed in range(plan_buffers.MAX_SETS + 3)]
    outs = [f(x, w) for x, w in inputs]  # every graph waits for its backward
    assert len(plan_of(f).buffers.sets) <= plan_buffers.MAX_SETS
    for (x, w), out in zip(inputs, outs):
        out.backward()
        got = (out.item(), x.grad.numpy().copy(), w.grad.numpy().copy())
        assert equal(got, run(chain, x, w))


def test_a_retained_graph_keeps_its_buffers_through_later_calls():
    f = tape.compile(chain)
    x, w = leaves(1)
    x2, w2 = leaves(2)
    out = f(x, w)
    out.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    run(f, x2, w2)  # a later call on other values must not write into the retained graph's
    x.grad = None
    out.backward()
    assert np.array_equal(x.grad.numpy(), first)


@pytest.mark.parametrize("leave", [lambda y: y[1:], lambda y: y.detach()], ids=["view", "detach"])
def test_a_value_that_leaves_the_function_gets_no_buffer(leave):
    def parts(x, w):
        y = (x * w).exp()
        return leave(y), (y * 2.0).sum()  # y leaves through a view or an alias of it

    f = tape.compile(parts)
    x, w = leaves(3)
    first = f(x, w)[0].detach().numpy().copy()
    kept = f(x, w)
    f(*leaves(4))  # other values through the same plan
    assert np.array_equal(kept[0].detach().numpy(), first)
    src = f.source(x, w)
    assert "multiply_0(v0, v1, out=B[0])" in src and "exp" in src and "exp_1(v2)\n" in src
    assert f.stats["eager"] == 0


def test_the_pool_hands_out_a_set_only_when_the_set_alone_holds_its_arrays():
    pool = plan_buffers.BufferPool([((3,), np.dtype(np.float32)), ((2, 2), np.dtype(np.int64))])
    a = pool.take()
    assert [(b.shape, b.dtype) for b in a] == [((3,), np.float32), ((2, 2), np.int64)]
    pool.give(a)
    view = a[1][0]  # someone still sees the second array (through a view)
    del a
    b = pool.take()
    assert view.base is not b[1]  # a new set: the held one went back to the pool
    pool.give(b)
    del view, b
    c, d = pool.take(), pool.take()
    assert c is not d and len(pool.sets) == 0  # both sets free again, one for each caller
    for s in [c, d] + [pool.take() for _ in range(plan_buffers.MAX_SETS)]:
        pool.give(s)
    assert len(pool.sets) == plan_buffers.MAX_SETS  # extra sets are dropped


def test_no_grad_replays_reuse_one_set():
    f = tape.compile(chain)
    x, w = leaves(5)
    with tape.no_grad():
        want = chain(x, w).item()
        got = [f(x, w).item() for _ in range(3)]
    assert got == [want] * 3
    assert len(plan_of(f).buffers.sets) == 1


def test_threads_calling_one_plan_never_share_a_set():
    f = tape.compile(chain)
    inputs = [leaves(10 + k) for k in range(4)]
    wants = [chain(x, w).item() for x, w in inputs]
    f(*inputs[0])  # the plan exists before the threads start
    errors = []

    def work(k):
        x, w = inputs[k]
        with tape.no_grad():
            for _ in range(30):
                got = f(x, w).item()
                if got != wants[k]:
                    errors.append((k, got, wants[k]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize("shape", [(64, 300), (300,)])
def test_matmul_and_broadcasting_ufuncs_write_into_buffers_exactly(shape):
    rng = np.random.default_rng(6)
    a = tape.tensor(rng.standard_normal((64, 200)), requires_grad=True)
    m = tape.tensor(rng.standard_normal((200, 300)), requires_grad=True)
    b = tape.tensor(rng.standard_normal(shape[-1:]), requires_grad=True)

    def layer(a, m, b):
        return ((a @ m + b) * 0.25).tanh().sum()

    f = tape.compile(layer)
    results = []
    for fn in (layer, f, f):
        for t in (a, m, b):
            t.grad = None
        out = fn(a, m, b)
        out.backward()
        results.append((out.item(), *(t.grad.numpy().copy() for t in (a, m, b))))
    assert "matmul" in f.source(a, m, b).split("B = ")[1].split("\n")[1]
    assert equal(results[1], results[0]) and equal(results[2], results[0])


# ---- the backward's buffers (the first test checks their reuse) ------------------------


def test_a_retained_graph_backward_twice_gives_the_same_gradients_through_buffers():
    f = tape.compile(chain)
    x, w = leaves(21)
    want = run(chain, x, w)
    x.grad = w.grad = None
    out = f(x, w)
    out.backward(retain_graph=True)
    run(f, *leaves(22))  # another call of the plan in between, its backward on the same pool
    x.grad = w.grad = None
    out.backward()
    assert equal((out.item(), x.grad.numpy(), w.grad.numpy()), want)


def test_a_buffered_backward_that_disagrees_with_eager_is_planned_without_buffers(monkeypatch):
    from tape import compiled

    # a wrong kernel for `*` in buffered expressions: the first backward must notice
    monkeypatch.setattr(compiled, "_BINOPS", {**compiled._BINOPS, compiled.ast.Mult: np.add})
    f = tape.compile(chain)
    x, w = leaves(23)
    want = run(chain, x, w)
    for _ in range(2):
        assert equal(run(f, x, w), want)
    assert plan_of(f).backward_buffers == {}
    assert "out=" not in f.source(x, w).split("def backward")[1]
