"""Run a torch script with torch or with tape standing in for it; the child side of `tape.compare`.

    python -m tape._torch_shim --backend tape --out RESULT.pickle SCRIPT [args...]

With `--backend tape`, `import torch`, `import torch.nn.functional as F`, `from torch import
...` and `torch.autograd...` all resolve to tape: `sys.modules["torch"]` is a proxy module
that forwards attribute reads to `tape`, and a meta path finder answers every `torch.*`
import with the proxy of the matching tape module. A name tape lacks does not fail where it
is read but where it is used (called, subclassed, computed with), and it fails with
`MissingFeature` naming the full torch path (`torch.linalg.solve`, not just `torch.linalg`).

The script runs as `__main__` (argv, sys.path[0] and `__file__` as python would set them).
Its stdout goes to our stdout; what it left behind is pickled to RESULT: how it ended (ok, an
exception, or a missing feature) and a summary of its top-level tensors and numbers
(`tape.testing.summarize`). The parent (`tape.compare`) compares two such runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import os
import pickle
import re
import sys
import traceback
import types

# ---------------------------------------------------------------------------------------
# Names tape lacks


class MissingFeature(AttributeError):
    """A torch name the script used that tape does not have (`.feature` is its torch path)."""

    def __init__(self, feature: str):
        super().__init__(f"tape lacks {feature}")
        self.feature = feature


TOUCHED: list[str] = []  # missing names the script has read so far, most specific last


class Missing:
    """Stands for a torch name tape lacks; reading an attribute gives a longer missing name,
    using it in any other way raises MissingFeature."""

    __slots__ = ("_feature",)

    def __init__(self, feature: str):
        object.__setattr__(self, "_feature", feature)
        parent = feature.rpartition(".")[0]
        if TOUCHED and TOUCHED[-1] == parent:
            TOUCHED[-1] = feature  # `torch.linalg` then `.solve`: keep the full name
        elif feature not in TOUCHED:
            TOUCHED.append(feature)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return Missing(f"{self._feature}.{name}")

    def __setattr__(self, name, value):
        raise MissingFeature(self._feature)

    def _fail(self, *args, **kwargs):
        raise MissingFeature(self._feature)

    def __mro_entries__(self, bases):  # class Net(torch.nn.Module): ...
        raise MissingFeature(self._feature)

    def __repr__(self) -> str:
        return f"<missing {self._feature}>"

    __call__ = __bool__ = __iter__ = __len__ = __getitem__ = __enter__ = __float__ = __int__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail
    __pow__ = __rpow__ = __neg__ = __lt__ = __le__ = __gt__ = __ge__ = __index__ = _fail


class ModuleProxy(types.ModuleType):
    """`torch` (or `torch.nn`, ...) backed by a tape module; `target` None: tape has no such
    module, every attribute is missing."""

    def __init__(self, name: str, target):
        super().__init__(name, getattr(target, "__doc__", None))
        self.__dict__["_tape_target"] = target
        self.__path__ = []  # a package: `import torch.nn.functional` goes through our finder

    def __getattr__(self, name: str):
        target = self.__dict__["_tape_target"]
        full = f"{self.__name__}.{name}"
        try:
            if target is None:
                raise AttributeError(name)
            value = getattr(target, name)
        except AttributeError:
            if name.startswith("__"):
                raise
            value = _tape_module(full)  # a submodule tape has but has not imported yet
            if value is None:
                return Missing(full)
        if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "tape":
            return proxy(full, value)
        return value

    def __dir__(self):
        target = self.__dict__["_tape_target"]
        return sorted(set(dir(target) if target is not None else ()) | set(self.__dict__))


def _tape_module(torch_name: str):
    """The tape module for `torch.a.b` (`tape.a.b`), or None."""
    name = "tape" + torch_name[len("torch"):]
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def proxy(torch_name: str, target) -> ModuleProxy:
    """The one proxy module for `torch_name` (cached in sys.modules, so `import torch.nn` and
    `torch.nn` are the same object)."""
    mod = sys.modules.get(torch_name)
    if isinstance(mod, ModuleProxy):
        return mod
    mod = ModuleProxy(torch_name, target)
    mod.__spec__ = importlib.machinery.ModuleSpec(torch_name, _FINDER, is_package=True)
    sys.modules[torch_name] = mod
    return mod


class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers `import torch.x.y` with the proxy of `tape.x.y` (or a missing-module proxy)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        if spec.name == "torch":
            import tape

            return proxy("torch", tape)
        parent, _, last = spec.name.rpartition(".")
        target = _tape_module(spec.name)
        if target is None:  # maybe an attribute of the parent that is a module (torch.autograd.graph)
            value = getattr(importlib.import_module(parent), last, None)
            if isinstance(value, ModuleProxy):
                return value
            Missing(spec.name)
        return proxy(spec.name, target)

    def exec_module(self, module):
        pass


_FINDER = _TorchFinder()


def install() -> None:
    """Make every later `import torch...` resolve to tape (this process only)."""
    import tape

    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _FINDER)
    proxy("torch", tape)


# ---------------------------------------------------------------------------------------
# What tape lacks, read off an exception


# tape's classes under the torch names a script knows them by
_TORCH_CLASS_NAMES = {"Tensor": "torch.Tensor", "Size": "torch.Size", "dtype": "torch.dtype",
                      "device": "torch.device", "FunctionCtx": "torch.autograd.function.FunctionCtx"}


def _torch_name_of(obj) -> str | None:
    """The torch path of a tape object (a module, class or instance), for an attribute it lacks."""
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
        if name.split(".")[0] == "tape" and not isinstance(obj, ModuleProxy):
            return "torch" + name[len("tape"):]
        return name if isinstance(obj, ModuleProxy) else None
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "") or ""
    if not module.startswith("tape"):
        return None
    from tape.graph import Node

    if issubclass(cls, Node):
        return "torch.autograd.graph.Node"
    for klass in cls.__mro__:
        if klass.__name__ in _TORCH_CLASS_NAMES and klass.__module__.startswith("tape"):
            return _TORCH_CLASS_NAMES[klass.__name__]
    return "torch." + cls.__name__


_KEYWORD = re.compile(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'")


def _raised_in_tape(exc: BaseException) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_globals.get("__name__", "")
        tb = tb.tb_next
    return bool(last) and last.split(".")[0] == "tape"


def missing_feature(exc: BaseException, use_touched: bool = True) -> str | None:
    """The torch name tape lacks that made the script fail with `exc`, or None.
    use_touched: blame the last missing name read when the exception names none itself."""
    if isinstance(exc, MissingFeature):
        return exc.feature
    if isinstance(exc, AttributeError) and getattr(exc, "obj", None) is not None:
        owner = _torch_name_of(exc.obj)
        if owner is not None and exc.name:
            return f"{owner}.{exc.name}"
    if isinstance(exc, TypeError):  # raised at the call site, so not "in tape": the parent
        m = _KEYWORD.search(str(exc))  # checks that torch's run did not raise it too
        if m:
            return f"the keyword argument {m.group(2)}= of {m.group(1)}()"
    if isinstance(exc, NotImplementedError) and _raised_in_tape(exc):
        return str(exc) or type(exc).__name__
    if use_touched and TOUCHED:  # failed somewhere after reading a name tape lacks: that name is the suspect
        return TOUCHED[-1]
    return None


# ---------------------------------------------------------------------------------------
# Running the script


def _location(exc: BaseException, script: str) -> str | None:
    """`file:line` of the script's last frame in the exception's traceback."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == script:
            where = f"{os.path.basename(script)}:{frame.lineno}"
    return where


def run(script: str, args: list[str], backend: str) -> dict:
    """Run `script` as __main__ with `backend` as torch; what happened, as plain data."""
    script = os.path.abspath(script)
    if backend == "tape":
        install()
    with open(script, encoding="utf-8") as f:
        source = f.read()
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = __builtins__
    saved = sys.modules.get("__main__"), sys.argv, list(sys.path)
    sys.modules["__main__"] = main
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(script))
    result = dict(backend=backend, status="ok", exit_code=0, error=None)
    try:
        exec(compile(source, script, "exec"), main.__dict__)  # noqa: S102 - running the user's script
    except SystemExit as exc:
        code = exc.code
        result["exit_code"] = code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException as exc:  # reported to the parent, compared with the other backend's
        feature = missing_feature(exc) if backend == "tape" else None
        result["status"] = "missing" if feature else "raised"
        result["error"] = dict(type=type(exc).__name__, message=str(exc), feature=feature,
                               where=_location(exc, script),
                               traceback="".join(traceback.format_exception(exc)))
    finally:
        sys.stdout.flush()
        if saved[0] is not None:
            sys.modules["__main__"] = saved[0]
        sys.argv, sys.path[:] = saved[1], saved[2]
    result["touched_missing"] = list(TOUCHED)
    from tape.testing import summarize_namespace

    result["variables"] = summarize_namespace(main.__dict__)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tape._torch_shim")
    parser.add_argument("--backend", choices=("torch", "tape"), required=True)
    parser.add_argument("--out", required=True, help="where to pickle the result")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    result = run(ns.script, ns.args, ns.backend)
    with open(ns.out, "wb") as f:
        pickle.dump(result, f)
    return 0


if __name__ == "__main__":
    # run as `python -m`, this file is __main__; use the importable module's classes
    from tape._torch_shim import main as _main

    sys.exit(_main())
