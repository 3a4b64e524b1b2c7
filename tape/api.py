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

for _name, _fn in registry.METHODS.items():
    setattr(Tensor, _name, _fn)

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
