"""docs/supported.md, generated: which torch names tape has, and which behaviours differ.

    python -m tape.compare --supported > docs/supported.md

The names: for each torch namespace of the API.md subset (module functions, Tensor
attributes/methods/operators, nn.functional, autograd and its parts), every name of the
subset, whether torch 2.x has it and whether tape does; then the further torch names tape
has beyond the subset, and tape's own names. The behaviours: small probe programs run with
both modules through `tape.testing`; each probe that finds a difference is listed with the
first divergence and the reason. Everything here is computed, so the page changes when the
code does (tests/test_compare.py checks the committed page is the generated one).
"""

from __future__ import annotations

import types
from collections.abc import Callable

import attrs
import numpy as np

from .testing import _ADDRESS, compare, compare_results, import_torch, normalize_text, summarize

# ---------------------------------------------------------------------------------------
# The API.md subset, namespace by namespace

_FUNCTIONS = """add sub mul div neg pow exp log log1p expm1 sqrt rsqrt abs sign sin cos tan tanh
sigmoid relu erf maximum minimum where clamp matmul mm bmm dot outer sum mean prod max min amax
amin argmax argmin var std norm logsumexp softmax log_softmax cumsum cat stack unbind split chunk
reshape view transpose permute squeeze unsqueeze expand flatten t narrow gather index_select
masked_fill eq ne lt le gt ge isnan isfinite allclose""".split()

_MODULE = """tensor zeros ones full zeros_like ones_like full_like empty arange linspace eye rand randn
manual_seed from_numpy as_tensor float32 float64 float16 int32 int64 bool float double half long
int get_default_dtype set_default_dtype is_floating_point device Tensor no_grad enable_grad
set_grad_enabled is_grad_enabled inference_mode is_inference_mode_enabled""".split()

_TENSOR = """data grad grad_fn is_leaf requires_grad retains_grad shape dtype ndim T mT _version device
backward requires_grad_ retain_grad detach detach_ clone item tolist numpy size dim numel view
view_as reshape contiguous expand expand_as type_as float double long to register_hook
register_post_accumulate_grad_hook
__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__
__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __neg__ __abs__ __eq__
__ne__ __lt__ __le__ __gt__ __ge__ __getitem__ __setitem__ __len__ __iter__ __bool__ __float__
__int__ __array__ __iadd__ __isub__ __imul__ __itruediv__ __repr__
add_ sub_ mul_ div_ pow_ neg_ exp_ clamp_ zero_ fill_ copy_ relu_ sigmoid_ tanh_""".split()

_NN_FUNCTIONAL = """relu gelu silu softmax log_softmax mse_loss l1_loss cross_entropy nll_loss
binary_cross_entropy_with_logits linear dropout""".split()

_AUTOGRAD = "backward grad Function gradcheck gradgradcheck detect_anomaly set_detect_anomaly".split()
_AUTOGRAD_FUNCTIONAL = "jacobian hessian vjp jvp hvp".split()
_AUTOGRAD_GRAPH = "saved_tensors_hooks Node".split()
_NODE = "name next_functions metadata register_hook register_prehook".split()
_FUNCTION = "forward backward apply".split()
_CTX = """save_for_backward saved_tensors needs_input_grad mark_dirty mark_non_differentiable
set_materialize_grads""".split()


def _own_attr(cls: type, name: str) -> bool:
    """`cls` defines `name` itself (or a base other than `object` does)."""
    return any(name in vars(k) for k in cls.__mro__ if k is not object)


def _has(obj, name: str) -> bool:
    if isinstance(obj, type):
        return _own_attr(obj, name)
    return obj is not None and hasattr(obj, name)


def _resolve(root, path: str):
    """tape.autograd.functional from (tape, "autograd.functional"), or None."""
    obj = root
    for part in path.split(".") if path else ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _ctx_of(mod):
    """A FunctionCtx as a Function's forward sees it (its attributes exist per instance)."""
    seen = []

    class Probe(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Probe.apply(mod.ones(1, requires_grad=True))
    return seen[0]


@attrs.define
class Namespace:
    title: str  # "torch.Tensor"
    subset: list[str]  # the API.md names
    tape_obj: object
    torch_obj: object
    beyond: bool = True  # also list further names tape has that torch has


def namespaces(tape, torch) -> list[Namespace]:
    tensor_names = _TENSOR + [n for n in _FUNCTIONS if _own_attr(torch.Tensor, n) and n not in _TENSOR]
    module_names = _MODULE + [n for n in _FUNCTIONS if hasattr(torch, n)]
    return [
        Namespace("torch", module_names, tape, torch),
        Namespace("torch.Tensor", tensor_names, tape.Tensor, torch.Tensor),
        Namespace("torch.nn.functional", _NN_FUNCTIONAL, _resolve(tape, "nn.functional"),
                  torch.nn.functional),
        Namespace("torch.autograd", _AUTOGRAD + ["functional", "graph"], tape.autograd, torch.autograd),
        Namespace("torch.autograd.functional", _AUTOGRAD_FUNCTIONAL,
                  _resolve(tape, "autograd.functional"), torch.autograd.functional),
        Namespace("torch.autograd.graph", _AUTOGRAD_GRAPH, _resolve(tape, "autograd.graph"),
                  torch.autograd.graph),
        Namespace("torch.autograd.graph.Node", _NODE, _resolve(tape, "autograd.graph.Node"),
                  torch.autograd.graph.Node, beyond=False),
        Namespace("torch.autograd.Function", _FUNCTION, tape.autograd.Function,
                  torch.autograd.Function, beyond=False),
        Namespace("torch.autograd.function.FunctionCtx (ctx)", _CTX, _ctx_of(tape), _ctx_of(torch),
                  beyond=False),
    ]


def _public(obj) -> list[str]:
    """The names a user would call on `obj`: no private names, submodules or __future__ flags."""
    if obj is None:
        return []
    if isinstance(obj, type):
        names = {n for k in obj.__mro__ if k is not object for n in vars(k)}
        return sorted(n for n in names if not n.startswith("_") or (
            n.startswith("__") and n.endswith("__") and n not in _CLASS_PLUMBING))
    out = []
    for n in dir(obj):
        if n.startswith("_"):
            continue
        value = getattr(obj, n, None)
        if isinstance(value, types.ModuleType) or type(value).__name__ == "_Feature":
            continue
        out.append(n)
    return out


_CLASS_PLUMBING = {"__dict__", "__doc__", "__module__", "__slots__", "__weakref__", "__init__",
                   "__new__", "__init_subclass__", "__subclasshook__", "__class__", "__hash__",
                   "__reduce_ex__", "__reduce__", "__deepcopy__", "__getattr__", "__setattr__",
                   "__delattr__", "__dir__", "__sizeof__", "__getstate__", "__setstate__",
                   "__annotations__", "__qualname__", "__firstlineno__", "__static_attributes__",
                   "__array_priority__", "__array_ufunc__", "__format__", "__str__", "__copy__",
                   "__torch_function__", "__torch_dispatch__", "__array_wrap__", "__reversed__",
                   "__contains__"}


@attrs.define
class NameTable:
    namespace: Namespace
    rows: list[tuple[str, bool, bool]]  # (name, torch has it, tape has it) for the subset
    beyond: list[str]  # further torch names tape has
    own: list[str]  # tape's names torch does not have


def name_tables(tape, torch) -> list[NameTable]:
    tables = []
    for ns in namespaces(tape, torch):
        rows = [(n, _has(ns.torch_obj, n), _has(ns.tape_obj, n)) for n in dict.fromkeys(ns.subset)]
        beyond, own = [], []
        if ns.beyond:
            subset = set(ns.subset)
            for n in _public(ns.tape_obj):
                if n in subset:
                    continue
                (beyond if _has(ns.torch_obj, n) else own).append(n)
        tables.append(NameTable(ns, rows, beyond, own))
    return tables


# ---------------------------------------------------------------------------------------
# Behaviours: probes run with both modules


@attrs.frozen
class Probe:
    title: str
    reason: str
    fn: Callable  # fn(mod) -> value (compared exactly), or, with `inputs`, a compare() function
    inputs: tuple = ()
    exact: bool = True


def _random(m):
    m.manual_seed(0)
    return m.rand(3)


def _saved_scalar(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    return type((a * 2).grad_fn._saved_other).__name__


def _device(m):
    return m.zeros(2, device="meta").shape


def _repr_wrap(m):
    return repr(m.tensor([2.4447e-08, 2.3242, 0.3, -1.7879], requires_grad=True))


def _inplace_message(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    c = b.sum()
    b.add_(1)
    try:
        c.backward()
    except RuntimeError as exc:
        return str(exc)
    return None


def _leaf_message(m):
    try:
        m.tensor([1.0], requires_grad=True).add_(1)
    except RuntimeError as exc:
        return str(exc)
    return None


def _zero_grad_sign(m):
    g = m.tensor([-1.0, 2.0])
    g.zero_()
    return repr(g)


def _numpy_scalar(m):
    return (m.tensor([1, 2]) + np.float64(1.5)).dtype


PROBES = (
    Probe("Random numbers", "tape draws from numpy's generator, seeded by `manual_seed`; torch's "
          "generator is its own, so one seed gives other numbers. Take data from numpy or formulas "
          "when comparing with torch.", _random),
    Probe("Devices", "tape runs on numpy, on the CPU only: any device but `cpu` is refused.", _device),
    Probe("A Python number saved by an op", "torch wraps a Python scalar operand in a 0-d tensor "
          "before saving it (`_saved_other` is a Tensor); tape saves the number itself.",
          _saved_scalar),
    Probe("Tensor repr line width", "Not matched yet: torch moves `requires_grad=True` / "
          "`grad_fn=` onto a new line when the line would pass 80 columns; tape does not.",
          _repr_wrap),
    Probe("zero_ on negative values", "Not matched yet: tape's zero_ leaves -0. where the value "
          "was negative, torch writes +0. (equal as numbers, different when printed).",
          _zero_grad_sign),
    Probe("Wording of the in-place error", "Same type and key phrase; tape adds which saved value "
          "it is, the op that saved it and its tape position, and names tape in the hint.",
          _inplace_message),
    Probe("Wording of the leaf in-place error", "Same type and key phrase; the rest of the "
          "message differs.", _leaf_message),
    Probe("A numpy float64 scalar as an operand", "Not matched yet: torch treats a numpy scalar "
          "like a Python number (an int tensor + np.float64 gives the default float32); tape "
          "promotes to float64 as numpy would.", _numpy_scalar),
)

# not probed (they depend on the CPU's vector width, so a probe would not be reproducible)
ROUNDING = ("Floating-point results agree to rounding, not bit for bit: numpy sums pairwise and "
            "torch in vectorised blocks, and torch accumulates float16 products in float32. "
            "`tape.testing` compares within torch.testing's per-dtype tolerances; `tape.compare` "
            "allows more (see docs/harness.md), since a program repeats its ops.")


def probe_result(probe: Probe, tape, torch) -> tuple[bool, str]:
    """(differs, the first divergence as a table cell) for one probe."""
    if probe.inputs:
        report = compare(probe.fn, *probe.inputs)
        a = b = None
    else:
        a, b = _outcome(probe.fn, tape), _outcome(probe.fn, torch)
        tol = 0.0 if probe.exact else None
        report = compare_results(a, b, rtol=tol, atol=tol, what=probe.title)
    first = report.first_divergence
    if report.missing:
        return True, "tape lacks " + ", ".join(report.missing)
    if first is None:
        return False, ""
    if isinstance(a, str) and isinstance(b, str):  # show where the two texts part
        ta, tb = (normalize_text(t).replace("\n", "\\n") for t in (a, b))
        i = next((k for k, (x, y) in enumerate(zip(ta, tb)) if x != y), min(len(ta), len(tb)))
        start = max(0, i - 20)
        cut = (lambda t: ("..." if start else "") + t[start:i + 40] + ("..." if len(t) > i + 40 else ""))
        return True, f"tape `{_cell(cut(ta))}`, torch `{_cell(cut(tb))}`"
    return True, f"tape `{_cell(first.tape)}`, torch `{_cell(first.torch)}`"


def _outcome(fn, mod):
    try:
        return summarize(fn(mod))
    except Exception as exc:  # a probe's error is its result
        return summarize(exc)


def _stable(text: str) -> str:
    """Memory addresses out, so the page is the same on every run."""
    return _ADDRESS.sub("0x...", text)


def _cell(text: str, width: int = 100) -> str:
    text = " ".join(_stable(text).split()).replace("|", "\\|").replace("`", "'")
    return text if len(text) <= width else text[:width - 3] + "..."


# ---------------------------------------------------------------------------------------
# The page


def supported_markdown() -> str:
    import tape

    torch = import_torch()
    tables = name_tables(tape, torch)
    in_subset = sum(tape_has and torch_has for t in tables for _, torch_has, tape_has in t.rows)
    subset_total = sum(torch_has for t in tables for _, torch_has, _ in t.rows)
    beyond = sum(len(t.beyond) for t in tables)
    version = torch.__version__.split("+")[0]
    out = [
        "# What tape supports",
        "",
        "<!-- generated by `python -m tape.compare --supported > docs/supported.md`; do not edit -->",
        "",
        f"Compared with torch {version}. **tape supports {in_subset + beyond} torch names**: "
        f"{in_subset} of the {subset_total} names of the API.md subset, and {beyond} more.",
        "",
        "| namespace | API.md subset: tape has | further torch names tape has |",
        "|---|---|---|",
    ]
    for t in tables:
        has = sum(tape_has and torch_has for _, torch_has, tape_has in t.rows)
        total = sum(torch_has for _, torch_has, _ in t.rows)
        further = len(t.beyond) if t.namespace.beyond else "-"
        out.append(f"| `{t.namespace.title}` | {has} / {total} | {further} |")
    out += ["", "## The API.md subset", "",
            "Each name of the subset: ✓ tape has it, ✗ not yet. Names the subset lists for a "
            "namespace where torch itself lacks them are left out.", ""]
    for t in tables:
        rows = [(n, tape_has) for n, torch_has, tape_has in t.rows if torch_has]
        missing = [n for n, h in rows if not h]
        out.append(f"### `{t.namespace.title}`: {len(rows) - len(missing)} of {len(rows)}")
        out.append("")
        out.append(" ".join(f"{'✓' if h else '✗'}&nbsp;`{n}`" for n, h in rows))
        out.append("")
        if missing:
            out.append("Missing: " + ", ".join(f"`{n}`" for n in missing) + ".")
            out.append("")
    out += ["## Beyond the subset", "",
            "Further torch names tape has (same meaning as torch's), and tape's own names (not "
            "in torch).", ""]
    for t in tables:
        if not t.namespace.beyond or not (t.beyond or t.own):
            continue
        out.append(f"### `{t.namespace.title}`")
        out.append("")
        if t.beyond:
            out.append(f"torch's ({len(t.beyond)}): " + ", ".join(f"`{n}`" for n in t.beyond) + ".")
            out.append("")
        if t.own:
            out.append(f"tape's own ({len(t.own)}): " + ", ".join(f"`{n}`" for n in t.own) + ".")
            out.append("")
    out += ["## Behaviours that differ", "",
            "Each probe below is a small program run with torch and with tape "
            "(`tape._supported.PROBES`); those listed found a difference, shown as the first "
            "divergence (texts are compared with tape's module name read as `torch`).", "",
            "| behaviour | first divergence | why |", "|---|---|---|"]
    quiet = []
    for probe in PROBES:
        differs, first = probe_result(probe, tape, torch)
        if differs:
            out.append(f"| {probe.title} | {first} | {probe.reason} |")
        else:
            quiet.append(probe.title)
    out.append("")
    out.append(ROUNDING)
    out.append("")
    if quiet:
        out.append("Probes that found no difference: " + "; ".join(quiet) + ".")
        out.append("")
    return "\n".join(out)
