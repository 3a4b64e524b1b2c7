"""`tape.GradientTape`: a recording scope in TensorFlow's spirit, on the global tape.

    with tape.GradientTape() as t:
        t.watch(x)            # track x within the scope even if it does not require grad
        y = f(x)
    dx = t.gradient(y, x)

Only the ops run inside the scope are differentiated: gradients do not flow through
records made before it (as in TensorFlow), and `t.records` is exactly that part of the
Wengert list. Scopes nest: a gradient computed inside an outer scope is itself recorded
(create_graph), so the outer scope can differentiate it again. Leaves that require grad
are watched automatically, unless `watch_accessed_variables=False`: then only what
`watch()` named has gradients (TensorFlow's trainable variables rule). docs/gradient-tape.md
sets all this next to torch-style code.
"""

from __future__ import annotations

import numpy as np

from .engine import grad as _grad
from .grad_mode import STATE, no_grad
from .recording import TAPE
from .tensor import Tensor, _wrap

# id(tensor) -> [tensor, how many open scopes watch it]: a tensor that needed no gradient
# is made to need one by the first scope that watches it, and given back by the last one to
# close, in whatever order they watched it (nested scopes)
_WATCHERS: dict = {}


class GradientTape:
    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.records: list = []
        self._watched: list = []  # every tensor watch() made differentiable, for gradient()
        self._explicit: list = []  # every tensor given to watch()
        self._used = False
        self._recording = False
        self._holds: list = []  # the tensors this scope's watch() holds in _WATCHERS

    # ---- the scope -------------------------------------------------------------------

    def __enter__(self) -> GradientTape:
        if self._recording:
            raise RuntimeError("GradientTape is already recording; it cannot be entered twice")
        self._recording = True
        TAPE.scopes.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        TAPE.scopes.remove(self)
        self._unwatch()
        return False

    def _unwatch(self) -> None:
        holds, self._holds = self._holds, []
        for t in holds:  # watching lasts for the scope only: the last scope watching a
            entry = _WATCHERS[id(t)]  # tensor to close restores it
            entry[1] -= 1
            if not entry[1]:
                del _WATCHERS[id(t)]
                t._rg = False

    def _add(self, rec) -> None:
        self.records.append(rec)

    def watch(self, tensor) -> None:
        """Track `tensor` (a leaf, or several) within the scope even if it does not require grad."""
        for t in tensor if isinstance(tensor, (list, tuple)) else (tensor,):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch expects tensors, got {type(t).__name__}")
            if not t._data.dtype.kind == "f":
                raise RuntimeError(f"GradientTape.watch: only floating tensors can be watched "
                                   f"(got {t.dtype!r})")
            self._explicit.append(t)
            if any(h is t for h in self._holds):
                continue
            entry = _WATCHERS.get(id(t))
            if entry is not None:  # watched by another open scope too: both must close first
                entry[1] += 1
            elif not t._rg:
                if t._rec is not None:
                    raise RuntimeError("GradientTape.watch: a tensor computed without gradients "
                                       "cannot be watched; watch the leaf it came from")
                _WATCHERS[id(t)] = [t, 1]
                t._rg = True
            else:
                continue
            self._holds.append(t)
            self._watched.append(t)

    def stop_recording(self):
        """A block whose ops are not recorded (their results are constants to this scope)."""
        return no_grad()

    def reset(self) -> None:
        """Forget everything recorded and watched so far, as if the scope were left and a new
        one entered (TensorFlow's reset); later ops are recorded as usual."""
        self.records = []
        self._unwatch()
        self._watched, self._explicit = [], []
        self._used = False

    def watched_variables(self) -> tuple:
        """The tensors given to watch() (TensorFlow's name)."""
        return tuple(self._explicit)

    def _tracked(self, s) -> bool:
        if not s._rg:
            return False
        if self.watch_accessed_variables or s._rec is not None:
            return True
        return any(s is w for w in self._explicit)  # only what watch() named

    # ---- gradients -------------------------------------------------------------------

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d target / d sources, shaped like `sources` (a tensor, or a list/tuple of them)."""
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', "
                             f"got {unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients (or jacobians); pass persistent=True to reuse it")
        self._used = True
        single = isinstance(sources, Tensor)
        srcs = [sources] if single else list(sources)
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        grads_out = output_gradients
        if grads_out is not None and not isinstance(grads_out, (list, tuple)):
            grads_out = [grads_out]
        if grads_out is None:
            # TensorFlow sums a non-scalar target; torch would refuse: do as TensorFlow
            grads_out = [_wrap(np.ones_like(t._data)) for t in targets]
        # inside an enclosing scope the gradient must be differentiable again (unless that
        # scope stopped recording: stop_recording() is a no_grad block)
        create = bool(TAPE.scopes) and STATE.grad_enabled
        result = [None] * len(srcs)
        # tensors watched in the scope count as differentiable even after it has closed (a
        # watched target too: gradient(x, x) is ones)
        rewatch = [t for t in self._watched if not t._rg]
        for t in rewatch:
            t._rg = True
        try:
            live = [t for t in targets if t._rg]
            diff = [i for i, s in enumerate(srcs) if self._tracked(s)]
            if live and diff:
                gs = [g for t, g in zip(targets, grads_out) if t._rg]
                got = _grad(live, [srcs[i] for i in diff], gs,
                            retain_graph=self.persistent or create, create_graph=create,
                            allow_unused=True, _within=set(self.records))
                for i, g in zip(diff, got):
                    result[i] = g
        finally:
            for t in rewatch:
                t._rg = False
        if unconnected_gradients == "zero":
            result = [_wrap(np.zeros_like(s._arr())) if g is None else g
                      for s, g in zip(srcs, result)]
        if single:
            return result[0]
        return type(sources)(result) if isinstance(sources, tuple) else result

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """d target[i] / d source[j] for every element: shape target.shape + source.shape."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients (or jacobians); pass persistent=True to reuse it")
        single = isinstance(sources, Tensor)
        srcs = [sources] if single else list(sources)
        rows = [[] for _ in srcs]
        n = target._data.size
        keep, self.persistent = self.persistent, True
        try:
            for k in range(n):
                onehot = np.zeros(n, dtype=target._data.dtype)
                onehot[k] = 1
                g = self.gradient(target, srcs, _wrap(onehot.reshape(target._data.shape)),
                                  unconnected_gradients="zero")
                for r, gi in zip(rows, g):
                    r.append(gi)
        finally:
            self.persistent = keep
            self._used = True
        from .ops.registry import FUNCTIONS

        out = []
        for s, r in zip(srcs, rows):
            stacked = FUNCTIONS["stack"](r, 0) if r else _wrap(np.zeros((0,) + s._data.shape))
            out.append(FUNCTIONS["reshape"](stacked, tuple(target.shape) + tuple(s.shape)))
        return out[0] if single else out

    def __repr__(self) -> str:
        from .wengert import format_records

        return format_records(self.records, title="GradientTape")
