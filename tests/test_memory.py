"""Memory: the tape never keeps a graph alive (issue 2, DESIGN "Memory").

Records live as long as the tensors that came out of them; the global tape only refers to
them weakly. These tests run with the cyclic garbage collector switched off, so what they
check is freed by reference counting alone, the moment the last reference goes.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tape


@pytest.fixture
def no_gc():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def live_records() -> int:
    return len(tape.TAPE.records())


def test_training_loop_keeps_the_tape_bounded(no_gc):
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    x = tape.tensor([3.0, 4.0])
    start = live_records()
    most = 0
    for i in range(10_000):
        y = (w * x).sum()
        y.backward()
        if i % 500 == 0:
            most = max(most, live_records())
    assert live_records() - start < 100
    assert most - start < 100
    assert len(tape.TAPE) == live_records()
    assert w.grad.tolist() == [30_000.0, 40_000.0]


def test_training_loop_with_updates_keeps_the_tape_bounded(no_gc):
    rng = np.random.default_rng(0)
    w = tape.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    data = tape.tensor(rng.standard_normal((4, 3)))
    target = tape.tensor(rng.standard_normal((4, 2)))
    start = live_records()
    for _ in range(2_000):
        loss = ((data @ w - target) ** 2).mean()
        loss.backward()
        with tape.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
    assert live_records() - start < 100


def test_dropped_graph_is_freed_without_backward(no_gc):
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    x = tape.tensor([5.0, 6.0])  # used only by the graph
    y = w * x  # saves x (w needs grad)
    rec = weakref.ref(y._rec)
    saved = weakref.ref(x)
    node = weakref.ref(y.grad_fn)
    del x
    assert saved() is not None  # the record holds it for backward
    del y
    assert rec() is None
    assert saved() is None
    assert node() is None


def test_dropped_chain_is_freed(no_gc):
    a = tape.tensor([1.0], requires_grad=True)
    first = a * 2
    first_rec = weakref.ref(first._rec)
    h = first
    del first
    for _ in range(50):
        h = (h * 0.1).exp() + 1
    last = weakref.ref(h._rec)
    acc = weakref.ref(h._rec.inputs[0])
    assert first_rec() is not None  # kept alive by the records that consume it
    del h
    assert first_rec() is None and last() is None and acc() is None


def test_saved_values_are_released_by_backward(no_gc):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    b = tape.tensor([3.0, 4.0])
    y = (a * b).sum()
    saved = weakref.ref(b)
    del b
    assert saved() is not None
    y.backward()
    assert saved() is None  # y is alive, its graph's saved values are not


def test_retain_graph_keeps_saved_values(no_gc):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    b = tape.tensor([3.0, 4.0])
    y = (a * b).sum()
    saved = weakref.ref(b)
    del b
    y.backward(retain_graph=True)
    assert saved() is not None
    y.backward()
    assert saved() is None


def test_saved_result_array_is_released(no_gc):
    a = tape.tensor(np.arange(4.0), requires_grad=True)
    y = a.exp()
    s = y.sum()
    rec = weakref.ref(y._rec)
    del y
    assert rec() is not None  # s's record consumes it
    s.backward()
    del s
    assert rec() is None


def test_accumulate_grad_is_freed_with_its_graph(no_gc):
    a = tape.tensor([1.0], requires_grad=True)
    y = a * 2
    acc = weakref.ref(y.grad_fn.next_functions[0][0])
    same = (a + 1).grad_fn.next_functions[0][0]
    assert same is acc()
    del same
    del y
    assert acc() is None
    assert a.is_leaf and a.requires_grad  # the leaf itself is untouched


def test_nothing_is_recorded_without_grad(no_gc):
    start = live_records()
    a = tape.tensor([1.0, 2.0])
    kept = [a * 2, a.exp(), a.sum(), a[0]]
    w = tape.tensor([1.0], requires_grad=True)
    with tape.no_grad():
        kept += [w * 2, w.exp()]
    assert live_records() == start
    assert all(t.grad_fn is None for t in kept)


def test_records_appear_while_their_outputs_live(no_gc):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    start = live_records()
    y = a * 2
    z = y.exp()
    assert live_records() == start + 2
    recs = tape.TAPE.records()
    assert recs[-2] is y._rec and recs[-1] is z._rec
    assert y._rec.pos < z._rec.pos
    del recs, z
    assert live_records() == start + 1
    del y
    assert live_records() == start


def test_inplace_records_are_freed(no_gc):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    c = a.clone()
    c.mul_(3)
    c.add_(1)
    rec = weakref.ref(c._rec)
    del c
    assert rec() is None


@pytest.mark.parametrize("fail", [
    lambda a: a * tape.ones(3),
    lambda a: a @ tape.ones(3),
    lambda a: a.view(3),
    lambda a: a[5],
    lambda a: (a * 2).add_(tape.ones(2, 2)),
], ids=["broadcast", "matmul", "view", "index", "inplace broadcast"])
def test_failed_op_leaves_the_tape_as_it_was(no_gc, fail):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    start = live_records()
    with pytest.raises((RuntimeError, IndexError)):
        fail(a)
    assert live_records() == start
    assert a._version == 0 and a.grad_fn is None
