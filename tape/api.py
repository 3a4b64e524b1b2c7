"""Binds the op table to the engine: module functions, Tensor methods and operators, and the
two primitive namespaces backward rules run with."""

from __future__ import annotations

import importlib
import pkgutil
import types

from . import engine, ops
from .ops import prims, registry
from .tensor import Tensor

# Bound before the families import `call` from the registry, so their functions call the
# engine directly (one Python frame less per op on the hot path).
registry.bind_engine(engine)

# every module of ops/ registers its ops on import: a new family file needs no edit here
for _mod in pkgutil.iter_modules(ops.__path__):
    importlib.import_module(f"{ops.__name__}.{_mod.name}")

# NOTE [operators give way]
# A binary operator returns NotImplemented where its op raises TypeError (an operand it
# cannot take), as torch's do: Python then tries the other operand's reflected method and
# gives its own message ("unsupported operand type(s) for +"), `"a" * t` asks t.__index__,
# and `t == None` or `t in ["a"]` falls back to identity (False) instead of raising. The
# function forms (`tape.add(t, "a")`, `t.add("a")`) raise the TypeError itself.
_BINARY = frozenset(f"__{p}{n}__" for n in ("add", "sub", "mul", "truediv", "floordiv", "mod",
                                            "pow", "matmul", "and", "or", "xor")
                    for p in ("", "r", "i"))
_BINARY |= {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


def _operator(fn, name):
    def method(self, other):
        try:
            return fn(self, other)
        except TypeError:
            return NotImplemented

    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


for _name, _fn in registry.METHODS.items():
    setattr(Tensor, _name, _operator(_fn, _name) if _name in _BINARY else _fn)

FUNCTIONS = dict(registry.FUNCTIONS)
NAMESPACES = registry.NAMESPACES

# The numpy namespace: ops.prims itself. The tape namespace: the same names, built from
# differentiable tape functions, so a rule run with it is recorded (create_graph=True).
PRIMS_NP = prims


def _tape_prims() -> types.SimpleNamespace:
    from . import tape_prims

    ns = types.SimpleNamespace(**{n: getattr(tape_prims, n) for n in prims.NAMES})
    return ns


PRIMS_TAPE = _tape_prims()
engine.PRIMS_NP, engine.PRIMS_TAPE = PRIMS_NP, PRIMS_TAPE  # playback's two namespaces
