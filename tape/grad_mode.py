"""Grad modes: thread-local switches, usable as context managers and as decorators.

Each context manager saves the state on entry and restores exactly that state on exit,
exceptions included, so they nest and re-enter freely.
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings


class _State(threading.local):
    grad_enabled = True
    inference = False
    anomaly = False
    anomaly_check_nan = True
    anomaly_check_forward = False
    saved_hooks: tuple = ()  # stack of (pack, unpack) pairs, innermost last
    trace = None  # the tape.compile trace recording in this thread, if any
    in_rule = False  # running a built-in backward rule that is recorded (NOTE [rule scalars])
    # NOTE [fast flag] grad mode on, and none of anomaly, anomaly_check_forward,
    # saved_hooks, inference: the engine's hot path then records an op after one read of
    # this flag (a thread-local read costs ~55 ns, a recorded op ~3 µs). Kept by
    # __setattr__, so the places that switch those modes need not know about it.
    fast = True
    slow = False  # any of anomaly, anomaly_check_forward, saved_hooks, inference

    def __setattr__(self, name, value):
        if name == "grad_enabled":  # every backward() sets it twice: kept cheap
            _set_grad_enabled(self, value)
            return
        _set(self, name, value)
        if name == "inference" and value:
            INFERENCE_ENTERED[0] = True
        if name in _SLOW_INPUTS:
            slow = bool(self.anomaly or self.anomaly_check_forward or self.saved_hooks
                        or self.inference)
            _set(self, "slow", slow)
            _set_fast(self, bool(self.grad_enabled) and not slow)


_set = threading.local.__setattr__
# set once any thread enters inference mode (never reset): until then no inference tensor
# exists, and tape.compile's plan key need not ask each argument whether it is one
INFERENCE_ENTERED = [False]
_SLOW_INPUTS = frozenset({"anomaly", "anomaly_check_forward", "saved_hooks", "inference"})
STATE = _State()

# NOTE [threads not fast]
# Reading a thread-local attribute costs as much as a dozen plain statements (~600
# instructions on CPython 3.11), once per recorded op. So the engine first asks a set:
# which threads have `fast` off right now. When it is empty every thread, this one
# included, is in the common mode and `STATE.fast` need not be read. A thread changing its
# own flag adds or removes its own id (set.add and set.discard are atomic: no lock, which
# playback's two grad-mode switches per backward would pay); a new thread starts with
# `fast` on, as the empty set assumes. A thread that ends with `fast` off leaves its id
# behind: the engine then reads `STATE.fast`, slower but right.
NOT_FAST: set = set()
RULE_THREADS: set = set()  # the threads with `in_rule` on (the same idea: NOTE [rule scalars])
_get_ident = threading.get_ident


def _set_fast(state: _State, fast: bool) -> None:
    if state.fast is not fast:
        if fast:
            NOT_FAST.discard(_get_ident())
        else:
            NOT_FAST.add(_get_ident())
        _set(state, "fast", fast)


def _set_grad_enabled(state: _State, value) -> None:
    _set(state, "grad_enabled", value)
    _set_fast(state, bool(value) and not state.slow)


def swap_grad_enabled(value: bool) -> bool:
    """Set grad mode and return the previous one: what `STATE.grad_enabled = value` does,
    without the generic __setattr__ (~0.4 µs, and playback does it twice per backward)."""
    prev = STATE.grad_enabled
    _set_grad_enabled(STATE, value)
    return prev


# tape.compile traces active in any thread (tape/compiled.py): while it is empty, no thread
# is recording and `STATE.trace` (a thread-local read, NOTE [threads not fast]) need not be read
TRACES: list = []


def untraceable(what: str) -> None:
    """`what` happens inside a function tape.compile is recording in this thread: a replay
    could not do it (a hook, a custom Function's backward), so the function runs eagerly."""
    if TRACES and STATE.trace is not None:
        STATE.trace.unsupported(what)


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _Mode:
    """Base for context managers that are also decorators (a fresh instance per call)."""

    def __call__(self, fn):
        if inspect.isclass(fn):  # torch: deprecated, and the class becomes a function
            warnings.warn("Decorating classes is deprecated and will be disabled in future versions. "
                          "You should only decorate functions or methods. To preserve the current "
                          "behavior of class decoration, you can directly decorate the `__init__` "
                          "method and nothing else.", FutureWarning, stacklevel=2)
            cls = fn

            def fn(*args, **kwargs):
                return cls(*args, **kwargs)
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                # the mode holds while the generator runs, not while the caller holds a value
                gen = fn(*args, **kwargs)
                try:
                    with self._clone():
                        value = gen.send(None)
                    while True:
                        try:
                            sent = yield value
                        except GeneratorExit:
                            with self._clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self._clone():
                                value = gen.throw(exc)
                        else:
                            with self._clone():
                                value = gen.send(sent)
                except StopIteration as stop:
                    return stop.value

            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)

        return wrapper

    def _clone(self):
        return type(self)()

    def clone(self):
        """A new context manager of the same mode (torch's; a decorator makes one per call)."""
        return self._clone()

    def __enter__(self):
        self._prev = (STATE.grad_enabled, STATE.inference)
        self._apply()
        return None

    def __exit__(self, *exc):
        STATE.grad_enabled, STATE.inference = self._prev
        return False

    def _apply(self):
        raise NotImplementedError


class _NoParamMode(_Mode):
    """Also a decorator without parentheses (`@no_grad`), as torch allows."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):  # noqa: N801 - torch's name
    """Inside, ops are not recorded and their results do not require grad."""

    def _apply(self):
        STATE.grad_enabled = False


class enable_grad(_NoParamMode):  # noqa: N801
    """Inside, ops are recorded again (e.g. within a no_grad block)."""

    def _apply(self):
        STATE.grad_enabled = True


class set_grad_enabled(_Mode):  # noqa: N801
    """Sets grad mode on construction (so it works as a plain call too) and restores it
    when used as a context manager."""

    def __init__(self, mode: bool):
        if type(mode) is not bool:  # torch's argument parser takes a bool only
            raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{type(mode).__name__}")
        self._prev = (STATE.grad_enabled, STATE.inference)
        self.mode = mode
        STATE.grad_enabled = self.mode

    def _clone(self):
        return type(self)(self.mode)

    def __enter__(self):
        return None  # already applied by __init__; _prev holds what to restore

    def __call__(self, fn):
        STATE.grad_enabled = self._prev[0]  # as a decorator, construction must not stick
        return super().__call__(fn)

    def _apply(self):
        STATE.grad_enabled = self.mode


class inference_mode(_Mode):  # noqa: N801
    """no_grad that also marks the tensors made inside as inference tensors."""

    def __new__(cls, mode=True):
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # `@inference_mode` without parentheses decorates `mode`

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _clone(self):
        return type(self)(self.mode)

    def _apply(self):
        if self.mode:
            STATE.grad_enabled = False
            STATE.inference = True
        else:
            STATE.grad_enabled = True  # torch: InferenceMode(false) turns grad mode on
            STATE.inference = False
