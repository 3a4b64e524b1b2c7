"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (issue 2).

Each mode nests, works as a decorator, restores the previous state on exceptions, and is
thread-local. The bodies run with tape and with torch (the `mod` fixture).
"""

from __future__ import annotations

import contextlib
import re
import threading

import numpy as np
import pytest

import tape

MODES = [
    # (id, context manager factory, grad enabled inside)
    ("no_grad", lambda m: m.no_grad(), False),
    ("enable_grad", lambda m: m.enable_grad(), True),
    ("set_grad_enabled(False)", lambda m: m.set_grad_enabled(False), False),
    ("set_grad_enabled(True)", lambda m: m.set_grad_enabled(True), True),
    ("inference_mode", lambda m: m.inference_mode(), False),
    ("inference_mode(False)", lambda m: m.inference_mode(False), True),
]
IDS = [c[0] for c in MODES]


def _state(mod):
    return mod.is_grad_enabled(), mod.is_inference_mode_enabled()


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_mode_sets_and_restores(mod, make, enabled):
    a = mod.tensor([1.0], requires_grad=True)
    for outer in (mod.enable_grad, mod.no_grad):
        with outer():
            before = _state(mod)
            with make(mod):
                assert mod.is_grad_enabled() is enabled
                y = a * 2
                assert y.requires_grad is enabled
                assert (y.grad_fn is not None) is enabled
            assert _state(mod) == before


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_mode_restores_on_exception(mod, make, enabled):
    with pytest.raises(KeyError):
        with make(mod):
            raise KeyError("boom")
    assert _state(mod) == (True, False)
    with mod.no_grad():
        with pytest.raises(ValueError):
            with make(mod):
                raise ValueError
        assert _state(mod) == (False, False)


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_mode_as_decorator(mod, make, enabled):
    a = mod.tensor([1.0], requires_grad=True)

    @make(mod)
    def f(x):
        return x * 2, mod.is_grad_enabled()

    for outer in (mod.enable_grad, mod.no_grad):
        with outer():
            before = _state(mod)
            y, inside = f(a)
            assert inside is enabled and y.requires_grad is enabled
            assert _state(mod) == before


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_decorator_restores_on_exception(mod, make, enabled):
    @make(mod)
    def f():
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        f()
    assert _state(mod) == (True, False)


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_decorator_without_parentheses(mod, name):
    mode = getattr(mod, name)
    a = mod.tensor([1.0], requires_grad=True)

    @mode
    def f(x):
        """doc"""
        return x * 2

    with mod.no_grad():
        y = f(a)
    assert y.requires_grad is (name == "enable_grad")
    assert f.__doc__ == "doc" and f.__name__ == "f"
    assert _state(mod) == (True, False)


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_decorated_generator(mod, make, enabled):
    @make(mod)
    def gen():
        for _ in range(3):
            yield mod.is_grad_enabled()

    seen = []
    for value in gen():
        seen.append(value)
        assert _state(mod) == (True, False)  # outside the generator: the caller's mode
    assert seen == [enabled] * 3


def test_nesting(mod):
    a = mod.tensor([1.0], requires_grad=True)
    with mod.no_grad():
        b = a * 2
        with mod.enable_grad():
            c = a * 2
            with mod.set_grad_enabled(False):
                d = a * 2
                with mod.inference_mode(False):
                    e = a * 2
                f = a * 2
            g = a * 2
        h = a * 2
    i = a * 2
    assert [x.requires_grad for x in (b, c, d, e, f, g, h, i)] == [False, True, False, True, False, True,
                                                                    False, True]


def test_same_mode_nested(mod):
    with mod.no_grad():
        with mod.no_grad():
            assert not mod.is_grad_enabled()
        assert not mod.is_grad_enabled()
    assert mod.is_grad_enabled()


def test_set_grad_enabled_as_a_function(mod):
    a = mod.tensor([1.0], requires_grad=True)
    mod.set_grad_enabled(False)
    try:
        assert not mod.is_grad_enabled()
        assert not (a * 2).requires_grad
        mod.set_grad_enabled(True)
        assert mod.is_grad_enabled() and (a * 2).requires_grad
    finally:
        mod.set_grad_enabled(True)


def test_set_grad_enabled_function_inside_a_context(mod):
    with mod.no_grad():
        mod.set_grad_enabled(True)
        assert mod.is_grad_enabled()
    assert mod.is_grad_enabled()


def test_set_grad_enabled_decorator_does_not_change_the_mode_when_applied(mod):
    @mod.set_grad_enabled(False)
    def f():
        return mod.is_grad_enabled()

    assert mod.is_grad_enabled()
    assert f() is False
    assert mod.is_grad_enabled()


def test_results_made_under_no_grad_are_leaves(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    with mod.no_grad():
        y = (a * 2).exp().sum()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_graph_recorded_before_no_grad_still_backpropagates(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    with mod.no_grad():
        y.backward()
    assert a.grad.tolist() == [2.0, 4.0]


def test_inference_mode(mod):
    a = mod.tensor([1.0], requires_grad=True)
    assert not mod.is_inference_mode_enabled()
    with mod.inference_mode():
        assert mod.is_inference_mode_enabled() and not mod.is_grad_enabled()
        x = a * 2
        with mod.inference_mode(False):
            assert not mod.is_inference_mode_enabled() and mod.is_grad_enabled()
        assert mod.is_inference_mode_enabled()
    assert not mod.is_inference_mode_enabled() and mod.is_grad_enabled()
    assert not x.requires_grad and x.is_inference() and not a.is_inference()


def test_inference_mode_decorator_marks_results(mod):
    @mod.inference_mode()
    def f(x):
        return x * 2

    out = f(mod.tensor([1.0], requires_grad=True))
    assert out.is_inference() and not out.requires_grad


# every tensor made in inference mode is an inference tensor, factories included
MADE = [("tensor", lambda m: m.tensor([1.0, 2.0])), ("zeros", lambda m: m.zeros(2)),
        ("ones_like", lambda m: m.ones_like(m.empty(2))), ("arange", lambda m: m.arange(2.0)),
        ("from_numpy", lambda m: m.from_numpy(np.ones(2))), ("as_tensor", lambda m: m.as_tensor(np.ones(2))),
        ("op result", lambda m: m.ones(2) * 2)]
WRITES = [("add_", lambda t: t.add_(1)), ("zero_", lambda t: t.zero_()),
          ("setitem", lambda t: t.__setitem__(0, 5.0)), ("copy_", lambda t: t.copy_(t.detach().clone()))]


@pytest.mark.parametrize("make", [c[1] for c in MADE], ids=[c[0] for c in MADE])
def test_tensors_made_in_inference_mode_are_inference_tensors(mod, make):
    with mod.inference_mode():
        t = make(mod)
        t.add_(1)  # in-place updates inside inference mode are allowed
    assert t.is_inference() and not t.requires_grad
    assert not make(mod).is_inference()


@pytest.mark.parametrize("write", [c[1] for c in WRITES], ids=[c[0] for c in WRITES])
def test_inference_tensors_refuse_in_place_updates_outside_inference_mode(mod, write):
    with mod.inference_mode():
        t = mod.zeros(2)
    for mode in (contextlib.nullcontext(), mod.no_grad()):
        with mode, pytest.raises(RuntimeError, match=re.escape(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
                "clone to get a normal tensor before doing inplace update.")):
            write(t)
    if mod is tape:  # torch writes before it refuses; tape refuses first (no half-done change)
        assert t.tolist() == [0.0, 0.0]
    write(t.clone())  # a clone made outside inference mode is a normal tensor


# ops given an inference tensor y and a leaf x: torch refuses when the op would save y
SAVES_Y = [("mul", lambda m, y, x: y * x, True), ("div", lambda m, y, x: x / y, True),
           ("matmul", lambda m, y, x: y @ x, True), ("pow", lambda m, y, x: x ** y, True),
           ("mul_", lambda m, y, x: (x * 1).mul_(y), True), ("add", lambda m, y, x: y + x, False),
           ("exp then add", lambda m, y, x: y.exp() + x, False),
           ("no grad needed", lambda m, y, x: y * m.tensor([1.0]), False)]


@pytest.mark.parametrize("fn, refused", [c[1:] for c in SAVES_Y], ids=[c[0] for c in SAVES_Y])
def test_inference_tensors_cannot_be_saved_for_backward(mod, fn, refused):
    with mod.inference_mode():
        y = mod.tensor([2.0])
    x = mod.tensor([1.0], requires_grad=True)
    if refused:
        with pytest.raises(RuntimeError, match=re.escape(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                "inference mode in computation tracked by autograd.")):
            fn(mod, y, x)
    else:
        out = fn(mod, y, x)
        assert out.requires_grad == (out.grad_fn is not None)


# an inference tensor may require grad only if made so inside inference mode
def _made_inside(m):
    with m.inference_mode():
        return m.tensor([1.0, 2.0])


def _in_mode(make):
    def give(m, t):
        with make(m):
            t.requires_grad_()
    return give


GIVE_GRAD = [("requires_grad_()", lambda m, t: t.requires_grad_()),
             ("requires_grad = True", lambda m, t: setattr(t, "requires_grad", True)),
             ("under no_grad", _in_mode(lambda m: m.no_grad())),
             ("inference_mode(False)", _in_mode(lambda m: m.inference_mode(False))),
             ("its detach()", lambda m, t: t.detach().requires_grad_()),
             ("its view", lambda m, t: t.view(2).requires_grad_())]


@pytest.mark.parametrize("give", [c[1] for c in GIVE_GRAD], ids=[c[0] for c in GIVE_GRAD])
def test_inference_tensors_cannot_require_grad_outside_inference_mode(mod, give):
    t = _made_inside(mod)
    with pytest.raises(RuntimeError, match=re.escape(
            "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")):
        give(mod, t)
    assert not t.requires_grad
    t.requires_grad_(False)  # turning it off is fine


# inference tensors that require grad (made so inside the mode), used outside it: an op whose
# tensor arguments are all inference tensors records nothing, as torch runs no autograd for
# it; a Python number counts as a normal tensor (torch wraps it); a normal tensor records
def _grad_inference(m):
    with m.inference_mode():
        return m.tensor([1.0, 2.0], requires_grad=True), m.tensor([3.0, 4.0], requires_grad=True)


INFERENCE_ONLY = [("a * a", lambda m, a, b: a * a, None), ("a.sin()", lambda m, a, b: a.sin(), None),
                  ("a + b", lambda m, a, b: a + b, None), ("a.sum()", lambda m, a, b: a.sum(), None),
                  ("a.view(2)", lambda m, a, b: a.view(2), None), ("a[0]", lambda m, a, b: a[0], None),
                  ("a * 2", lambda m, a, b: a * 2, "MulBackward0"),
                  ("a + 1", lambda m, a, b: a + 1, "AddBackward0"),
                  ("a + normal leaf", lambda m, a, b: a + m.ones(2, requires_grad=True), "AddBackward0"),
                  ("a + normal constant", lambda m, a, b: a + m.ones(2), "AddBackward0")]


@pytest.mark.parametrize("fn, node", [c[1:] for c in INFERENCE_ONLY], ids=[c[0] for c in INFERENCE_ONLY])
def test_ops_on_inference_tensors_alone_record_nothing(mod, fn, node):
    a, b = _grad_inference(mod)
    assert a.requires_grad and a.is_inference()
    out = fn(mod, a, b)
    assert (type(out.grad_fn).__name__ if out.grad_fn is not None else None) == node
    assert out.requires_grad == (node is not None)


# views, detach() and .data of an inference tensor are inference tensors (and are refused
# when saved for backward); a clone or an op's new result is a normal tensor
DERIVED = [("detach", lambda t: t.detach(), True), ("data", lambda t: t.data, True),
           ("view", lambda t: t.view(4), True), ("t", lambda t: t.t(), True),
           ("index", lambda t: t[0], True), ("unbind", lambda t: t.unbind()[1], True),
           ("reshape", lambda t: t.reshape(4), True), ("clone", lambda t: t.clone(), False),
           ("add", lambda t: t + 1, False)]


@pytest.mark.parametrize("fn, inference", [c[1:] for c in DERIVED], ids=[c[0] for c in DERIVED])
def test_views_of_inference_tensors_are_inference_tensors(mod, fn, inference):
    with mod.inference_mode():
        t = mod.ones(2, 2)
    d = fn(t)
    assert d.is_inference() == inference
    x = mod.ones(d.shape, requires_grad=True)
    if inference:
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            d * x
    else:
        assert (d * x).grad_fn is not None


@pytest.mark.parametrize("make, enabled", [c[1:] for c in MODES], ids=IDS)
def test_modes_are_thread_local(mod, make, enabled):
    """A thread started inside a mode sees the default (grad enabled), and a thread's
    mode does not leak into the main thread."""
    a = mod.tensor([1.0], requires_grad=True)
    seen = []

    def worker():
        seen.append((mod.is_grad_enabled(), mod.is_inference_mode_enabled(), (a * 2).requires_grad))

    with make(mod):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [(True, False, True)]

    started, release = threading.Event(), threading.Event()

    def holder():
        with make(mod):
            started.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    started.wait(10)
    try:
        assert _state(mod) == (True, False)
        assert (a * 2).requires_grad
    finally:
        release.set()
        t.join()


def test_autograd_namespace_has_the_modes(mod):
    assert mod.autograd.no_grad is mod.no_grad
    assert mod.autograd.enable_grad is mod.enable_grad
    assert mod.autograd.set_grad_enabled is mod.set_grad_enabled


def test_a_thread_that_ends_inside_no_grad_leaves_other_threads_modes_right(mod):
    """tape keeps the ids of threads with its fast path off (NOTE [threads not fast]), an
    ended thread's too; every other thread must still record, and stop, as its mode says."""
    a = mod.tensor([1.0], requires_grad=True)

    def ends_inside():
        mod.set_grad_enabled(False)  # never set back: the thread ends in no_grad

    t = threading.Thread(target=ends_inside)
    t.start()
    t.join()
    assert (a * 2).requires_grad
    with mod.no_grad():
        assert not (a * 2).requires_grad
    (a * 3).sum().backward()
    assert a.grad.tolist() == [3.0] and mod.is_grad_enabled()
