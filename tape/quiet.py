"""IEEE special values without numpy's warnings, as torch computes them.

NOTE [quiet IEEE] torch gives inf and nan silently: log(0), 1/0, 0/0, sqrt(-1), exp(1000).
numpy computes the same values but warns ("divide by zero encountered in log"), a
RuntimeWarning torch never shows, and an error under a `-W error` run. tape keeps numpy
quiet in two ways, chosen by what they cost:

- one backward playback, and one replay of a tape.compile plan, run with numpy's error
  state set to ignore: `quiet()` / `unquiet(token)`, once per playback (~0.5 µs through
  numpy's context variable; np.errstate costs ~2.3 µs, too much once per op). The user's
  own code called from inside (hooks, a custom Function's backward, a saved-tensor unpack
  hook) runs through `as_user`, with the error state the user had;
- an eager op, one at a time between the user's own lines, would pay that per op (W1's
  ops take ~4 µs), so instead a warnings filter drops numpy's floating-point
  RuntimeWarnings raised from tape's own modules, and leaves the user's own numpy code
  warning as before. It must be the first filter to win over the user's (`-W error`,
  pytest's `filterwarnings = error`, `simplefilter("always")`), and a
  `catch_warnings()` block, pytest's around every test among them, swaps in a list
  without it. So each op checks that the list's first entry is still ours (`FIRST`, a
  few bytecodes) and puts it back in front when it is not.

  Python names a warning after the module of the innermost Python frame. A ufunc that tape
  calls itself warns from a tape module; one that numpy's own Python code calls (np.mean,
  np.prod, np.cumsum, np.var...: numpy._core._methods, numpy._core.fromnumeric) warns
  from a numpy module. So the filter's module test (`_FromTape`) also takes a numpy module
  when the first frame above numpy's own is a tape module: numpy called by tape. The
  user's own np.mean still warns. The test walks the stack only for a numpy
  floating-point RuntimeWarning (the message and category are tested first), never per op.

A filter acts on warnings only: under `np.seterr(all="raise")` an eager op that meets inf
or nan still raises FloatingPointError. The few ops that compute a 0/0 on purpose (var,
logsumexp, nll's empty mean...) keep their own np.errstate for that case.
"""

from __future__ import annotations

import contextvars
import sys
import warnings

import numpy as np

# numpy's floating-point warnings: "<what> encountered in <ufunc>"
_MESSAGE = r"(divide by zero|invalid value|overflow|underflow) encountered in"


FIRST = None  # our filter as warnings.filters holds it, once installed


def _is_tape(module: str) -> bool:
    return module == "tape" or module.startswith("tape.")


class _FromTape:
    """The filter's module test (warnings calls `.match(module)` on a filter's module, a
    compiled regex when filterwarnings made it): a tape module, or numpy's Python code
    called from one (NOTE [quiet IEEE])."""

    __slots__ = ()

    def match(self, module):
        if _is_tape(module):
            return True
        if not module.startswith("numpy"):
            return False
        frame = sys._getframe(1)
        while frame is not None:  # numpy's frames (and a pure-Python warnings module's)
            name = frame.f_globals.get("__name__") or ""
            if not (name.startswith("numpy") or name in ("warnings", __name__)):
                return _is_tape(name)
            frame = frame.f_back
        return False

    def __repr__(self):
        return "<tape's modules, or numpy called from them>"


_FROM_TAPE = _FromTape()


def install_filter() -> None:
    """Put the filter in front of warnings.filters (moved there if it is already in)."""
    global FIRST
    # filterwarnings takes a module pattern only as a string: install with one, then swap
    # in _FROM_TAPE (in the same entry, so warnings' "filters mutated" bookkeeping holds)
    warnings.filterwarnings("ignore", message=_MESSAGE, category=RuntimeWarning,
                            module=r"tape(\.|$)")
    filters = warnings.filters
    FIRST = (*filters[0][:3], _FROM_TAPE, filters[0][4])
    filters[1:] = [f for f in filters[1:] if f != FIRST]  # our earlier entry, if any
    filters[0] = FIRST


def ensure_filter() -> None:
    """The filter first in warnings.filters (engine.call does this check inline)."""
    wf = warnings.filters
    if not wf or wf[0] is not FIRST:
        install_filter()


# the error state the user had when the innermost quiet() began: a hook, a custom Function's
# backward or a saved-tensor unpack hook is the user's code, and runs with it (as_user)
_OUTER: contextvars.ContextVar = contextvars.ContextVar("tape_user_errstate", default=None)

try:  # numpy >= 2: np.errstate sets this context variable
    from numpy._core._ufunc_config import _extobj_contextvar as _EXTOBJ

    with np.errstate(all="ignore"):
        _IGNORE = _EXTOBJ.get()

    def quiet():
        """Ignore numpy's floating-point errors until `unquiet(token)`."""
        outer = _OUTER.set(_EXTOBJ.get())
        return _EXTOBJ.set(_IGNORE), outer

    def unquiet(token) -> None:
        _EXTOBJ.reset(token[0])
        _OUTER.reset(token[1])

    def as_user(fn, *args):
        """fn(*args) with numpy's error state as the user had it before quiet()."""
        user = _OUTER.get()
        if user is None:
            return fn(*args)
        token = _EXTOBJ.set(user)
        try:
            return fn(*args)
        finally:
            _EXTOBJ.reset(token)

except ImportError:  # another numpy layout: the public context manager, slower
    def quiet():
        outer = _OUTER.set(np.geterr())
        state = np.errstate(all="ignore")
        state.__enter__()
        return state, outer

    def unquiet(token) -> None:
        token[0].__exit__(None, None, None)
        _OUTER.reset(token[1])

    def as_user(fn, *args):
        user = _OUTER.get()
        if user is None:
            return fn(*args)
        with np.errstate(**user):
            return fn(*args)
