"""Guards on the Python values a compiled function reads: its globals, closure cells and the
attributes of the objects it reaches.

NOTE [python state guards]
A plan bakes in every Python value the recorded call gave to an op: `x * scale` replays
with the recorded `scale`. If `scale` is a global or a closure variable that changes
between calls, a replay would silently compute with the old value (torch.compile guards on
such reads too). So at recording time we list where the function can read Python values
from: its closure cells and the globals its code names (nested lambdas and comprehensions
included), then the same for the Python functions found there (helpers it calls, to a
small depth), and the attributes of the objects it reaches (a bound method's or callable
object's instance, an object given as an argument or a default argument, a global or
closure object, a user's module, a user's class it names, objects in a list or dict it
reads) that the visited code names, the instance's own and its class's (and the places
that would shadow a class's: the instance, earlier classes of the MRO), following the
methods it calls on them (`__call__` too, a property's getter, a classmethod). Each place
keeps its value at recording time; every call checks them before replaying, and any
difference re-records:

- numbers, strings, None, numpy scalars, and tuples of them: by type and value, a float
  zero by its sign too (value_key);
- lists, tuples, dicts (subclasses too), sets and numeric numpy arrays, nested, up to
  MAX_CONTAINER items in all: by a copy of their contents, since they can change in place:
  scalar items by value, other items (a list of parameter tensors) by identity. An array
  a replay reads afresh (copied into a tensor, an op's operand) is guarded by identity;
- a tensor: by identity, and its shape, dtype and requires_grad, which Python may read
  without an op (`x * w.shape[0]`) and `.data =` or `requires_grad_()` change in place
  (a tensor in a container: by identity only);
- anything else (functions, modules, other objects): by identity.

Not guarded: values read through calls into libraries (tape, numpy and the standard library
are not followed), and anything past MAX_DEPTH. (An object with __slots__ has them read
through their descriptors.)

A value that changes while the recording call runs (the function updates a counter it
reads) cannot be replayed at all: the caller then runs the function eagerly.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import itertools
import operator
import os
import random
import sys
import sysconfig
import types

import numpy as np

from .tensor import Tensor

MAX_DEPTH = 3  # helper functions followed from the compiled function
MAX_CONTAINER = 1024  # items of a list or dict guarded by their contents
_SCALARS = (bool, int, float, complex, str, bytes, type(None), np.generic)
_MISSING = object()
_is = operator.is_
# whose functions are not followed (their globals are not the user's state): these
# packages, and the standard library's own files
_LIBRARIES = ("tape", "numpy")
_STDLIB = tuple({os.path.join(sysconfig.get_paths()[k], "") for k in ("stdlib", "platstdlib")})
# tape's own files, by place as well as by name: a copy imported under another name (two
# versions side by side, as benchmarks/ab_variants.py does) is still not the user's code
_OWN = tuple(os.path.join(os.path.dirname(os.path.abspath(m.__file__)), "")
             for m in (sys.modules[__package__], sys.modules[__package__ + ".ops"]))


class Guard:
    """One place a Python value is read from, and the value it held when recorded."""

    __slots__ = ("where", "namespace", "key", "obj", "kind", "expected", "items")

    def __init__(self, where: str, namespace, key=None):
        self.where = where  # for messages: "the global 'scale'"
        self.namespace = namespace  # a dict (globals, an instance's __dict__) or a cell
        self.key = key  # the name in the dict; None for a cell
        self.obj = value = self.read()
        # "identity": the same object; "value": an equal immutable value; "contents": a
        # list or dict whose items are equal (the same object may have changed in place)
        self.kind, self.expected = _snapshot(value)
        # a container's items as they were, kept alive: while each is still the very same
        # object, the contents are equal without comparing them one by one (a list of a
        # model's parameter tensors is checked on every call)
        self.items = _flat_items(value) if self.kind == "contents" else None

    def by_identity(self) -> None:
        """Guard the object itself, not its contents (an array a replay reads afresh)."""
        self.kind, self.expected, self.items = "identity", self.obj, None

    def read(self):
        if self.key is None:
            try:
                return self.namespace.cell_contents
            except ValueError:  # an empty cell
                return _MISSING
        return self.namespace.get(self.key, _MISSING)

    def holds(self) -> bool:
        value = self.read()
        if self.kind == "identity":
            return value is self.obj
        if self.kind == "tensor":
            return value is self.obj and _tensor_meta(value) == self.expected
        if self.kind == "value" and value is self.obj:
            return True
        if self.kind == "contents" and value is self.obj and self.items is not None:
            items = self.items
            if type(value) is list:
                if len(value) == len(items) and all(map(_is, value, items)):
                    return True
            elif (len(value) == len(items[0]) and all(map(_is, value.values(), items[1]))
                  and all(map(_is, value, items[0]))):
                return True
        return _snapshot(value) == (self.kind, self.expected)


def guardable_scalar(value) -> bool:
    if isinstance(value, _SCALARS):
        return not isinstance(value, np.generic) or value.dtype.kind in "biufcSU"
    if type(value) is tuple:
        return all(guardable_scalar(v) for v in value)
    return False


_INEXACT = (float, complex, np.inexact)


def value_key(value):
    """A scalar, or a tuple of them, as a replay must compare it: by type and value (2, 2.0
    and True are equal, and promote differently), a float zero by its sign too (1 / -0.0 is
    -inf, yet -0.0 == 0.0), and NaN equal to NaN."""
    t = type(value)
    if isinstance(value, tuple):
        return t, tuple(map(value_key, value))
    if isinstance(value, _INEXACT) and not (value != 0 and value == value):
        return t, repr(value)
    return t, value


def _snapshot(value):
    """(kind, what to compare against): the value, a copy of a container's contents, a
    tensor's metadata, or the object itself."""
    if guardable_scalar(value):
        return "value", value_key(value)
    if isinstance(value, Tensor):  # its shape, dtype and requires_grad read in Python
        return "tensor", _tensor_meta(value)
    frozen = _freeze(value, [MAX_CONTAINER])
    if type(frozen) is _Same:
        return "identity", value
    return "contents", frozen


def _tensor_meta(t) -> tuple:
    """What Python may read off a tensor without an op (`w.shape[0]`, `w.dtype`,
    `w.requires_grad`), which `.data =`, `resize_` or `requires_grad_()` change in place."""
    return t._data.shape, t._data.dtype, t._rg


_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray)


def _freeze(value, budget: list):
    """`value` as compared: a scalar by type and value; a list, tuple, dict (subclasses
    too), set or numeric numpy array by a copy of its contents, nested ones included, while
    `budget[0]` items last; anything else (and what the budget leaves) by identity."""
    if guardable_scalar(value):
        return value_key(value)
    t = type(value)
    if not isinstance(value, _CONTAINERS) or budget[0] <= 0:
        return _Same(value)
    budget[0] -= len(value) if t is not np.ndarray else value.size
    if budget[0] < 0:
        return _Same(value)
    if isinstance(value, (list, tuple)):
        return (t, tuple(_freeze(v, budget) for v in value))
    if isinstance(value, dict):
        if all(guardable_scalar(k) for k in value):
            return (t, tuple((k, _freeze(v, budget)) for k, v in dict.items(value)))
    elif isinstance(value, (set, frozenset)):
        if all(guardable_scalar(v) for v in value):
            return (t, frozenset(map(value_key, value)))
    elif value.dtype.kind in "biufc":  # an array read in Python (`float(mask.sum())`)
        return (t, value.dtype.str, value.shape, value.tobytes())
    return _Same(value)


def _flat_items(value):
    """A list's or dict's items when none of them is a container: while each is still the
    very same object the contents are equal (Guard.holds' fast path); else None."""
    if type(value) is list:
        items = values = tuple(value)
    elif type(value) is dict:
        items = (tuple(value), tuple(value.values()))
        values = items[1]
    else:
        return None
    if any(isinstance(v, _CONTAINERS) and not guardable_scalar(v) for v in values):
        return None
    return items


def tensors_guarded(guards: list[Guard]) -> set:
    """The ids of the tensors the guarded places hold, as values or as items of their
    containers (nested, up to MAX_CONTAINER items): the tensors the function may read from
    outside rather than through its arguments (NOTE [arguments that alias] in compiled.py)."""
    found: set = set()
    budget = [MAX_CONTAINER]

    def walk(v) -> None:
        if isinstance(v, Tensor):
            found.add(id(v))
        elif isinstance(v, (list, tuple, dict, set, frozenset)) and budget[0] > 0:
            budget[0] -= len(v)
            for item in itertools.islice(v.values() if isinstance(v, dict) else v, MAX_CONTAINER):
                walk(item)

    for g in guards:
        walk(g.obj)
    return found


class _Same:
    """Equal to another _Same of the very same object (a tensor's == would compare values)."""

    __slots__ = ("obj",)
    __hash__ = None

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return type(other) is _Same and other.obj is self.obj


def _names(code: types.CodeType) -> set:
    """Every global or attribute name `code` reads, nested code objects included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _followed(fn) -> bool:
    """Is `fn` a Python function of the user's (not tape's, numpy's or the stdlib's)?"""
    if not isinstance(fn, types.FunctionType):
        return False
    package = (getattr(fn, "__module__", None) or "").partition(".")[0]
    path = fn.__code__.co_filename
    stdlib = path.startswith(_STDLIB) and "-packages" not in path  # (site-/dist-packages)
    return package not in _LIBRARIES and not stdlib and not path.startswith(_OWN)


def _user_module(m: types.ModuleType) -> bool:
    """Not tape's, numpy's or the standard library's (a module made at run time, with no
    file, is the user's: `cfg = types.ModuleType("cfg")`)."""
    name = m.__name__.partition(".")[0]
    if name in _LIBRARIES or name in sys.stdlib_module_names:
        return False
    path = getattr(m, "__file__", None) or ""
    return not (path.startswith(_STDLIB) and "-packages" not in path or path.startswith(_OWN))


def _has_state(v) -> bool:
    """Is `v` an object whose attributes the function may read (`self.layer.w`, `cfg.lr`):
    an instance of a user's class, or a user's module?"""
    if isinstance(v, types.ModuleType):
        return _user_module(v)
    if isinstance(v, type):  # a user's class (`Norm.eps`, a classmethod's `cls.eps`)
        module = (getattr(v, "__module__", None) or "").partition(".")[0]
        return module not in _LIBRARIES and module not in sys.stdlib_module_names
    if isinstance(v, (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                      functools.partial)):
        return False
    module = getattr(type(v), "__module__", None) or ""
    if module.partition(".")[0] in _LIBRARIES:
        return False
    try:  # (a class without __dict__ may answer through its own __getattr__)
        own = object.__getattribute__(v, "__dict__")
    except AttributeError:
        return bool(_slot_names(type(v)))  # a dataclass(slots=True) config, say
    return type(own) is dict


def _slot_names(cls) -> set:
    """The names of the __slots__ along `cls`'s MRO."""
    names: set = set()
    for c in cls.__mro__:
        slots = c.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    return names - {"__dict__", "__weakref__"}


class _AttrView:
    """An object's attributes, read as a guard reads a namespace (`.get`), through getattr:
    a function's `__defaults__`, a partial's `keywords`, what a class's own __getattr__
    serves (`self.w` kept in a dict, as torch's nn.Module keeps parameters)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def get(self, key, default=None):
        try:
            return getattr(self.obj, key)
        except Exception:  # noqa: BLE001 - a __getattr__ refusing a name: not there
            return default


class _SlotView:
    """An object's __slots__ values, read as a guard reads a namespace (`.get`), through
    the slots' own descriptors (never the class's __getattr__)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def get(self, key, default=None):
        try:
            return object.__getattribute__(self.obj, key)
        except AttributeError:  # a slot not set
            return default


def _getter(v):
    """The function a class attribute runs when read or called: a method itself, a
    property's fget, a cached_property's func, a classmethod's or staticmethod's function."""
    if isinstance(v, (classmethod, staticmethod)):
        return v.__func__
    if isinstance(v, property):
        return v.fget
    if isinstance(v, functools.cached_property):
        return v.func
    return v


def _attribute_places(obj, names: set) -> list:
    """(name, namespace, how to name it, its identity) for each of `names` that `obj.name`
    finds: in the instance's own attributes, and in the first class of its MRO holding it
    (a class attribute changed, a method called), and where it is absent but a later
    assignment would shadow that class's (the instance's own attributes, unless the class
    holds a property or another data descriptor; the classes before it in the MRO). A class
    reached itself (`Norm.eps`, `cls.eps` in a classmethod) has its MRO looked up alike."""
    if isinstance(obj, types.ModuleType):
        own = vars(obj)
        return [(n, own, f"module '{obj.__name__}'", id(own)) for n in sorted(names & own.keys())]
    if isinstance(obj, type):
        cls, own, mro = obj, None, obj.__mro__[:-1]
    else:
        cls, mro = type(obj), type(obj).__mro__[:-1]  # (not object's own: __call__, __init__, ...)
        try:  # (as _has_state: not through a __getattribute__ of its own)
            own = object.__getattribute__(obj, "__dict__")
        except AttributeError:
            own = None
    places = [(n, own, cls.__name__, id(own)) for n in sorted(names & own.keys())] if own else []
    slots = set() if isinstance(obj, type) else names & _slot_names(cls)
    if slots:
        view = _SlotView(obj)
        places += [(n, view, cls.__name__, ("slots", id(obj))) for n in sorted(slots)]
    served = None if isinstance(obj, type) else _own_getattr(cls)
    for n in sorted(names):
        for i, c in enumerate(mro):
            if n in c.__dict__:
                places.append((n, c.__dict__, f"class {c.__name__}", ("class", id(c))))
                places += [(n, b.__dict__, f"class {b.__name__}", ("class", id(b))) for b in mro[:i]]
                if own is not None and n not in own and not hasattr(type(c.__dict__[n]), "__set__"):
                    places.append((n, own, cls.__name__, id(own)))
                break
        else:  # found nowhere else: what the class's own __getattr__ serves, read through it
            if served is not None and n not in (own or ()) and n not in slots:
                view = _AttrView(obj)
                if view.get(n, _MISSING) is not _MISSING:
                    places.append((n, view, f"{cls.__name__} (through __getattr__)", ("getattr", id(obj))))
    return places


def _own_getattr(cls):
    """The __getattr__ a user's class defines (nn.Module's style of keeping attributes), if any."""
    for c in cls.__mro__[:-1]:
        if "__getattr__" in c.__dict__:
            return c.__dict__["__getattr__"]
    return None


def python_guards(fn, args=()) -> list[Guard]:
    """The guards for `fn` (a function, a bound method or a callable object), values now;
    `args`: the call's arguments, whose objects' attributes it may read (`step(model, x)`:
    the plan is keyed by the model object, not by what it holds)."""
    guards: list[Guard] = []
    placed: set = set()  # (id(namespace), key) already guarded
    seen: set = set()  # code objects visited
    names_read: set = set()  # every global or attribute name the visited code reads
    objects: dict = {}  # id -> (object, depth): objects whose attributes it may read

    def add(g: Guard, ident=None) -> bool:
        where = (ident or id(g.namespace), g.key)  # (a class's namespace: a new proxy each time)
        if where in placed:
            return False
        placed.add(where)
        guards.append(g)
        return True

    def reach(value, depth: int) -> None:
        """Objects with attributes, found as a value or as an item of a list, tuple or dict
        (`for layer in self.layers`)."""
        if depth > MAX_DEPTH:
            return
        items = (value if type(value) in (list, tuple) else
                 value.values() if type(value) is dict else (value,))
        for v in itertools.islice(items, MAX_CONTAINER):
            if id(v) not in objects and _has_state(v):
                objects[id(v)] = (v, depth)

    def visit(f, depth: int, self_obj=None) -> None:
        if isinstance(f, functools.partial):  # its function, its arguments' objects, and its
            # keywords dict, which stays changeable in place (`p.keywords["k"] = 3`)
            g = Guard("the keywords of a partial", _AttrView(f), "keywords")
            if add(g):
                follow(g, depth)
            for v in f.args:
                reach(v, depth + 1)
            visit(f.func, depth)
            return
        if isinstance(f, types.MethodType):
            self_obj, f = f.__self__, f.__func__
        elif not isinstance(f, types.FunctionType) and callable(f):
            call = inspect.getattr_static(type(f), "__call__", None)  # the class's own
            if isinstance(call, types.FunctionType):
                self_obj, f = f, call
        if not isinstance(f, types.FunctionType) or id(f.__code__) in seen:
            return
        seen.add(id(f.__code__))
        code = f.__code__
        found = [Guard(f"the closure variable '{name}' of {code.co_name}", cell)
                 for name, cell in zip(code.co_freevars, f.__closure__ or ())]
        names = _names(code)
        names_read.update(names)
        found += [Guard(f"the global '{name}' read by {code.co_name}", f.__globals__, name)
                  for name in sorted(names) if name in f.__globals__]
        # its default values, which `f.__defaults__ = ...` replaces
        found += [Guard(f"the {what} of {code.co_name}", _AttrView(f), what)
                  for what in ("__defaults__", "__kwdefaults__") if getattr(f, what)]
        if self_obj is not None:
            reach(self_obj, depth)
        for v in (f.__defaults__ or ()) + tuple((f.__kwdefaults__ or {}).values()):
            reach(v, depth + 1)  # `def step(x, model=MODEL)`: the default object's attributes
        for g in found:
            if add(g):
                follow(g, depth)

    def follow(g: Guard, depth: int) -> None:
        """What a guarded value leads to: the objects in it, the function it is."""
        reach(g.obj, depth + 1)
        if depth < MAX_DEPTH and g.kind == "identity" and (_followed(g.obj) or isinstance(
                g.obj, (types.MethodType, functools.partial))):
            visit(g.obj, depth + 1)

    visit(fn, 0)
    for a in args:  # (a function argument's globals and closure: `f(act, x)`)
        if _followed(a) or isinstance(a, (types.MethodType, functools.partial)):
            visit(a, 1)
        reach(a, 1)
    # the attributes of every object reached that some visited code names, and the methods
    # it calls on them (self.forward(x); layer(x) calls __call__), until nothing new turns up
    done: dict = {}  # id(object) -> the names already looked up on it
    while True:
        wanted = names_read | {"__call__"}
        todo = [(obj, depth, wanted - done.get(id(obj), set()))
                for obj, depth in list(objects.values())]
        todo = [(obj, depth, names) for obj, depth, names in todo if names]
        if not todo:
            break
        for obj, depth, names in todo:
            done[id(obj)] = done.get(id(obj), set()) | names
            for name, namespace, owner, ident in _attribute_places(obj, names):
                g = Guard(f"the attribute '{name}' of {owner}", namespace, name)
                if add(g, ident):
                    follow(g, depth)
                # a method it calls on obj, or the getter behind `obj.name` (a property)
                method = _getter(g.obj) if owner.startswith("class") else None
                if depth < MAX_DEPTH and _followed(method):
                    visit(method, depth + 1, obj)
    return guards


# NOTE [state a replay cannot advance]
# A random number generator or an iterator hands the function a new value on every call
# (`x * random.random()`, `x * rng.normal()`, `next(batches)`); the value reaches an op as a
# Python number, and a plan would bake in the first call's. Their state is not where the
# guards above look (an RNG keeps it in C), so at recording time `advancing(guards, args)`
# lists the generators the function can reach (as a value, a module it reads, or the
# instance behind a bound method such as `np.random.rand`) with their state, and the
# iterators among its arguments and the values it reads. An RNG whose state moved while
# the function ran, or any iterator, makes the function run eagerly.

_RNGS = (random.Random, np.random.Generator, np.random.RandomState)


def _rng_of(v):
    """The random generator `v` is, draws from or stands for (a module), else None."""
    if isinstance(v, _RNGS):
        return v
    if isinstance(v, types.ModuleType):
        return {"random": getattr(random, "_inst", None),
                "numpy": np.random.mtrand._rand,
                "numpy.random": np.random.mtrand._rand}.get(v.__name__)
    if isinstance(v, (types.MethodType, types.BuiltinMethodType)):  # random.random, rng.normal
        return v.__self__ if isinstance(v.__self__, _RNGS) else None
    return None


def _rng_state(rng):
    if isinstance(rng, random.Random):
        return rng.getstate()
    if isinstance(rng, np.random.Generator):
        return rng.bit_generator.state
    return rng.get_state(legacy=False)


def _same_state(a, b) -> bool:
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same_state(a[k], b[k]) for k in a))
    if isinstance(a, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same_state(x, y) for x, y in zip(a, b)))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return type(a) is type(b) and a == b


class Advancing:
    """The generators and iterators a recording call may advance (NOTE [state a replay
    cannot advance]): `iterator` names the first iterator found (None if none);
    `moved()` names the first generator whose state changed since, or None."""

    def __init__(self, guards: list[Guard], args=()):
        values = [(g.where, g.obj) for g in guards]
        values += [(g.where, v) for g in guards if g.kind == "contents" and g.items is not None
                   for v in (g.items if type(g.obj) is list else g.items[1])]
        values += [("an argument", a) for a in args]
        self.iterator = next((where for where, v in values
                              if isinstance(v, collections.abc.Iterator)), None)
        self.rngs: list = []
        seen: set = set()
        for where, v in values:
            rng = _rng_of(v)
            if rng is not None and id(rng) not in seen:
                seen.add(id(rng))
                self.rngs.append((where, rng, _rng_state(rng)))

    def moved(self) -> str | None:
        for where, rng, state in self.rngs:
            if not _same_state(_rng_state(rng), state):
                return where
        return None


def first_changed(guards: list[Guard]) -> Guard | None:
    """The first guard whose place no longer holds its recorded value, or None."""
    for g in guards:
        if not g.holds():
            return g
    return None


def checker(guards: list[Guard]):
    """`first_changed(guards)` as one generated function: an identity test per guard (the
    common case: the very object is still there), the full comparison only when it fails."""
    ns: dict = {"_first_changed": first_changed, "_guards": guards, "_MISSING": _MISSING}
    lines = ["def check():", "    try:", "        pass"]
    for i, g in enumerate(guards):
        ns[f"n{i}"], ns[f"e{i}"], ns[f"g{i}"] = g.namespace, g.obj, g
        read = f"n{i}.cell_contents" if g.key is None else f"n{i}.get({g.key!r}, _MISSING)"
        if g.kind == "identity":
            lines.append(f"        if {read} is not e{i}: return g{i}")
        elif g.kind == "tensor":  # the same tensor, with the same metadata
            ns[f"s{i}"], ns[f"d{i}"], ns[f"r{i}"] = g.expected
            lines.append(f"        if {read} is not e{i} or e{i}._data.shape != s{i} or "
                         f"e{i}._data.dtype != d{i} or e{i}._rg is not r{i}: return g{i}")
        elif g.kind == "value":
            lines.append(f"        if {read} is not e{i} and not g{i}.holds(): return g{i}")
        else:
            lines.append(f"        if not g{i}.holds(): return g{i}")
    lines += ["    except ValueError:  # a cell emptied since", "        return _first_changed(_guards)",
              "    return None"]
    exec(compile("\n".join(lines), "<tape.compile guards>", "exec"), ns)  # noqa: S102
    return ns["check"]
