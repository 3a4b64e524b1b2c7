"""Compare tape with torch: run one function with both and say where they part.

    from tape.testing import compare, assert_same_as_torch, leaf

    def f(m, x, w):                       # m is `tape` or `torch`
        return (x @ w).tanh().sum(1)

    report = compare(f, x_np, leaf(w_np))  # leaf(): a tensor that requires grad
    print(report)                          # a side-by-side table; the first divergence marked
    assert report.ok

`compare` converts the numpy inputs to tensors of each module (the same values, dtypes and
`requires_grad`), calls `fn(module, *tensors)`, backpropagates from the outputs (their sum,
or the gradient given) and compares, in order: the outputs (dtype, shape, values, autograd
flags), the backward graph (node names in playback order and each node's next_functions),
any exception (type and key phrase), and the `.grad` of every leaf that requires grad.

Playback order is descending tape position. For torch, `Node._sequence_nr()` gives the
same order of the function nodes (both count the ops as they are recorded). An
`AccumulateGrad` node is placed, on both sides, right after its earliest consumer, later
inputs first: where tape puts it when a graph is built afresh (its position is taken just
before the op that first uses the leaf), and independent of whatever older graph may have
made a leaf's sink first.

Values agree within tolerances chosen per dtype as torch.testing chooses them (float32:
rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers and bools exactly). The summaries
and the comparison work on plain data, so `tape.compare` (the CLI) reuses them across
processes. torch is imported only when a comparison runs.
"""

from __future__ import annotations

import re
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

TORCH_REQUIREMENT = "torch==2.13.0"  # the pin of the test extra in pyproject.toml

# torch.testing.assert_close's defaults: dtype name -> (rtol, atol)
DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
    "float": (1e-7, 1e-7),  # a Python float
}

# the key phrases of the errors API.md lists: when torch's message has one, tape's must too
KEY_PHRASES = (
    "Trying to backward through the graph a second time",
    "modified by an inplace operation",
    "grad can be implicitly created only for scalar outputs",
    "you can only change requires_grad flags of leaf variables",
    "a leaf Variable that requires grad is being used in an in-place operation",
    "Can't call numpy() on Tensor that requires grad",
    "Only Tensors of floating point",
    "does not require grad and does not have a grad_fn",
    "appears to not have been used in the graph",
    "must match the size of tensor",
)


def import_torch():
    """torch, or an ImportError that says how to install it."""
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "torch is not installed, and comparing with torch needs it. Install it with\n"
            f"    python -m pip install {TORCH_REQUIREMENT}\n"
            "(or install tape's test extra: python -m pip install -e '.[test]')") from exc
    return torch


def modules():
    """(tape, torch)."""
    import tape

    return tape, import_torch()


# ---------------------------------------------------------------------------------------
# Summaries: what a tensor, node or value is, as plain picklable data


def _module_prefix(obj) -> str:
    return (getattr(type(obj), "__module__", "") or "").split(".")[0]


def is_tensor(x) -> bool:
    """A torch or tape tensor (duck-typed: tape.testing never imports torch for this)."""
    cls = type(x)  # the class, not the object: a proxy module answers every attribute
    return (_module_prefix(x) in ("torch", "tape") and hasattr(cls, "grad_fn")
            and hasattr(cls, "detach") and hasattr(cls, "dtype"))


def is_node(x) -> bool:
    return not is_tensor(x) and hasattr(x, "next_functions") and callable(getattr(x, "name", None))


def node_name(node) -> str | None:
    return None if node is None else type(node).__name__


def dtype_name(dt) -> str:
    """'float32' for tape.float32 and torch.float32."""
    return str(dt).split(".")[-1]


def _values(t) -> np.ndarray:
    t = t.detach()
    try:
        return np.array(t.numpy(), copy=True)
    except (TypeError, RuntimeError):  # a dtype numpy lacks (torch.bfloat16)
        return np.array(t.double().numpy(), copy=True)


def _read_grad(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


@attrs.define(eq=False)
class TensorSummary:
    """A tensor as data: dtype, shape, values, autograd flags, and its .grad if it has one."""

    dtype: str
    shape: tuple
    values: np.ndarray = attrs.field(repr=False)
    requires_grad: bool = False
    is_leaf: bool = True
    grad_fn: str | None = None
    grad: TensorSummary | None = None

    @classmethod
    def of(cls, t, with_grad: bool = True) -> TensorSummary:
        grad = None
        if with_grad and (t.is_leaf or getattr(t, "retains_grad", False)):
            g = _read_grad(t)
            grad = None if g is None else cls.of(g, with_grad=False)
        return cls(dtype_name(t.dtype), tuple(t.shape), _values(t), bool(t.requires_grad),
                   bool(t.is_leaf), node_name(t.grad_fn), grad)

    def brief(self, width: int = 60) -> str:
        return f"{self.dtype}{list(self.shape)} {_short_array(self.values, width)}"


@attrs.define(eq=False)
class NodeSummary:
    """A backward node as the tree of names below it: (name, ((child, output index), ...))."""

    tree: Any

    @classmethod
    def of(cls, node, depth: int = 50) -> NodeSummary:
        return cls(_node_tree(node, depth))


def _node_tree(node, depth: int):
    if node is None:
        return None
    if depth == 0:
        return (node_name(node), "...")
    return (node_name(node), tuple((_node_tree(n, depth - 1), i) for n, i in node.next_functions))


@attrs.define(eq=False)
class Raised:
    """An exception, as its type name and message."""

    type: str
    message: str
    feature: str | None = None  # for tape: the torch name it lacks, when that was the cause

    @classmethod
    def of(cls, exc: BaseException) -> Raised:
        return cls(type(exc).__name__, str(exc), _lacks(exc))

    def brief(self) -> str:
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"{self.type}: {first}"


@attrs.define(eq=False)
class Other:
    """Anything else: compared by its type name."""

    type: str
    text: str


def _lacks(exc: BaseException) -> str | None:
    from ._torch_shim import missing_feature

    try:
        return missing_feature(exc, use_touched=False)
    except Exception:  # never let the diagnosis hide the error itself
        return None


def summarize(x, depth: int = 0):
    """Plain data for anything a function returns: tensors, nodes, dtypes, numbers, containers."""
    if depth > 20:
        return Other(type(x).__name__, "...")
    if is_tensor(x):
        return TensorSummary.of(x)
    if is_node(x):
        return NodeSummary.of(x)
    if x is None or isinstance(x, (bool, int, float, complex, str)):
        return x
    if isinstance(x, np.ndarray):
        return np.array(x, copy=True)
    if isinstance(x, np.generic):
        return np.array(x)
    if type(x).__name__ == "dtype" and _module_prefix(x) in ("torch", "tape"):
        return ("dtype", dtype_name(x))
    if type(x).__name__ == "Size" and isinstance(x, tuple):
        return ("Size", tuple(int(n) for n in x))
    if isinstance(x, (tuple, list)):
        items = [summarize(y, depth + 1) for y in x]
        return items if isinstance(x, list) else tuple(items)
    if isinstance(x, dict):
        return {k: summarize(v, depth + 1) for k, v in x.items()}
    if isinstance(x, BaseException):
        return Raised.of(x)
    return Other(type(x).__name__, normalize_text(repr(x))[:200])


def _plain(x, depth=0) -> bool:
    """Tensors, numbers and arrays, alone or in lists, tuples and dicts: a script's results."""
    if depth > 4:
        return False
    if x is None or is_tensor(x) or isinstance(x, (bool, int, float, complex, np.ndarray, np.generic)):
        return True  # (None too: a variable that is None in one run only is a difference to show)
    if isinstance(x, (list, tuple)) and type(x) in (list, tuple):
        return 0 < len(x) <= 10_000 and all(_plain(y, depth + 1) for y in x)
    if isinstance(x, dict) and type(x) is dict:
        return 0 < len(x) <= 1000 and all(isinstance(k, (str, int)) and _plain(v, depth + 1)
                                          for k, v in x.items())
    return False


def summarize_namespace(ns: dict) -> dict:
    """A script's top-level tensors and numbers (and lists or dicts of them), by name."""
    out = {}
    for name, value in ns.items():
        if name.startswith("_") or isinstance(value, (types.ModuleType, type)):
            continue
        if _plain(value):
            try:
                out[name] = summarize(value)
            except Exception as exc:  # a value that cannot be read is reported, not fatal
                out[name] = Other(type(value).__name__, f"unreadable: {exc}")
    return out


# ---------------------------------------------------------------------------------------
# Text: what differs only because the module is called tape


_MODULE_WORD = re.compile(r"\btape\b")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")


def normalize_text(text: str) -> str:
    """`tape.float32` -> `torch.float32`, memory addresses -> `0x...`: what may differ by name."""
    return _ADDRESS.sub("0x...", _MODULE_WORD.sub("torch", text))


def _short_array(a: np.ndarray, width: int = 60) -> str:
    with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=10_000):
        text = " ".join(str(a.tolist() if a.ndim == 0 else a).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def brief(x, width: int = 60) -> str:
    """One line for a summarized value."""
    if isinstance(x, TensorSummary):
        text = x.brief(width)
        if x.grad_fn:
            text += f" grad_fn={x.grad_fn}"
        elif x.requires_grad:
            text += " requires_grad"
    elif isinstance(x, np.ndarray):
        text = f"ndarray {x.dtype}{list(x.shape)} {_short_array(x, width)}"
    elif isinstance(x, NodeSummary):
        text = str(x.tree[0]) if x.tree else "None"
    elif isinstance(x, Raised):
        text = x.brief()
    elif isinstance(x, Other):
        text = f"<{x.type}> {x.text}"
    elif isinstance(x, float):
        text = repr(x)
    else:
        text = repr(x)
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


# ---------------------------------------------------------------------------------------
# Comparing summaries


@attrs.define(eq=False)
class Row:
    """One line of a report: what was compared, each side's value, and whether they agree.

    ok: True (agree), False (differ), None (information only)."""

    section: str
    what: str
    tape: str
    torch: str
    ok: bool | None = True
    detail: str = ""


def tolerances(dtype: str, rtol: float | None, atol: float | None,
               table: dict | None = None) -> tuple[float, float]:
    """(rtol, atol) for a dtype: the given ones, else the table's default for it."""
    dr, da = (table or DEFAULT_TOLERANCES).get(dtype, (0.0, 0.0))
    return (dr if rtol is None else rtol), (da if atol is None else atol)


def _array_diff(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when tape's `a` and torch's `b` agree, else what differs and where most."""
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return None
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a64, b64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64), b.astype(
            np.complex128 if b.dtype.kind == "c" else np.float64)
        close = np.isclose(a64, b64, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return None
        with np.errstate(invalid="ignore"):
            err = np.where(close, 0.0, np.abs(a64 - b64))
            err = np.where(np.isnan(err), np.inf, err)
        worst = np.unravel_index(int(np.argmax(err)), a.shape)
        where = f" at {tuple(int(i) for i in worst)}" if a.ndim else ""
        return (f"max abs diff {err[worst]:.3g}{where} (tape {_num(a64[worst])}, torch "
                f"{_num(b64[worst])}); "
                f"{int((~close).sum())} of {a.size} differ beyond rtol={rtol:g}, atol={atol:g}")
    if np.array_equal(a, b):
        return None
    diff = a != b
    worst = np.unravel_index(int(np.argmax(diff)), a.shape)
    where = f" at {tuple(int(i) for i in worst)}" if a.ndim else ""
    return (f"first difference{where}: tape {a[worst].item()!r}, torch {b[worst].item()!r}; "
            f"{int(diff.sum())} differ")


def _num(x) -> str:
    x = complex(x) if np.iscomplexobj(x) else float(x)
    return f"{x:.9g}" if isinstance(x, float) else repr(x)


def compare_values(a, b, what: str, section: str, rtol=None, atol=None, table=None) -> list[Row]:
    """Rows comparing tape's summarized `a` with torch's summarized `b`."""
    rows: list[Row] = []

    def row(ok, detail="", ta=None, tb=None):
        rows.append(Row(section, what, brief(a) if ta is None else ta,
                        brief(b) if tb is None else tb, ok, detail))

    if isinstance(a, TensorSummary) and isinstance(b, TensorSummary):
        problems = []
        for field in ("dtype", "shape", "requires_grad", "is_leaf", "grad_fn"):
            va, vb = getattr(a, field), getattr(b, field)
            if va != vb:
                problems.append(f"{field}: tape {va}, torch {vb}")
        if a.shape == b.shape:
            r, t = tolerances(b.dtype, rtol, atol, table)
            d = _array_diff(a.values, b.values, r, t)
            if d:
                problems.append(d)
        row(not problems, "; ".join(problems))
        if a.grad is not None or b.grad is not None:
            rows.extend(compare_values(a.grad, b.grad, what + ".grad", section, rtol, atol, table))
        return rows
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        problems = [] if a.dtype == b.dtype else [f"dtype: tape {a.dtype}, torch {b.dtype}"]
        r, t = tolerances(str(b.dtype), rtol, atol, table)
        d = _array_diff(a, b, r, t)
        if d:
            problems.append(d)
        row(not problems, "; ".join(problems))
        return rows
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b):
        if len(a) != len(b):
            row(False, f"length: tape {len(a)}, torch {len(b)}")
            return rows
        if not any(isinstance(x, (TensorSummary, np.ndarray, list, tuple, dict)) for x in a + b) \
                and len(a) > 8:  # a long list of numbers: one row
            return _compare_number_list(a, b, what, section, rtol, atol, table)
        for i, (x, y) in enumerate(zip(a, b)):
            rows.extend(compare_values(x, y, f"{what}[{i}]", section, rtol, atol, table))
        return rows
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            row(False, f"keys: tape {list(a)}, torch {list(b)}")
            return rows
        for k in a:
            rows.extend(compare_values(a[k], b[k], f"{what}[{k!r}]", section, rtol, atol, table))
        return rows
    if isinstance(a, NodeSummary) and isinstance(b, NodeSummary):
        row(a.tree == b.tree, "" if a.tree == b.tree else "graphs below differ",
            _tree_text(a.tree), _tree_text(b.tree))
        return rows
    if isinstance(a, Raised) and isinstance(b, Raised):
        row(*_same_error(a, b))
        return rows
    if isinstance(a, Other) and isinstance(b, Other):
        row(a.type == b.type, "" if a.type == b.type else "types differ")
        return rows
    if isinstance(a, float) and isinstance(b, float):
        r, t = tolerances("float", rtol, atol, table)
        d = _array_diff(np.array(a), np.array(b), r, t)
        row(d is None, d or "")
        return rows
    if isinstance(a, str) and isinstance(b, str):
        same = normalize_text(a) == normalize_text(b)
        row(same, "" if same else "strings differ")
        return rows
    same = type(a) is type(b) and a == b
    detail = "" if same else (f"type: tape {type(a).__name__}, torch {type(b).__name__}"
                              if type(a) is not type(b) else "values differ")
    row(same, detail)
    return rows


def _compare_number_list(a, b, what, section, rtol, atol, table) -> list[Row]:
    types_a, types_b = [type(x).__name__ for x in a], [type(x).__name__ for x in b]
    if types_a != types_b:
        i = next(k for k, (x, y) in enumerate(zip(types_a, types_b)) if x != y)
        return [Row(section, what, brief(a), brief(b), False,
                    f"[{i}]: type tape {types_a[i]}, torch {types_b[i]}")]
    kind = "float" if any(isinstance(x, float) for x in a) else "int"
    r, t = tolerances(kind, rtol, atol, table)
    try:
        d = _array_diff(np.array(a), np.array(b), r, t)
    except (TypeError, ValueError):
        d = None if a == b else "values differ"
    return [Row(section, what, brief(a), brief(b), d is None, d or "")]


def _tree_text(tree) -> str:
    if tree is None:
        return "None"
    name, children = tree
    if children == "...":
        return f"{name}(...)"
    if not children:
        return str(name)
    return f"{name}({', '.join(_tree_text(c) + (f':{i}' if i else '') for c, i in children)})"


def _same_error(a: Raised, b: Raised, phrase: str | None = None) -> tuple[bool, str]:
    """(same, why not): the same type, and the key phrase torch's message has, in tape's."""
    if a.type != b.type:
        return False, f"exception types differ: tape {a.type}, torch {b.type}"
    phrases = [phrase] if phrase else [p for p in KEY_PHRASES if p in b.message]
    for p in phrases:
        if p not in a.message:
            return False, f"tape's message lacks {p!r}"
        if p not in b.message:
            return False, f"torch's message lacks {p!r}"
    return True, ""


# ---------------------------------------------------------------------------------------
# The backward graph


def _sort_key(node):
    pos = getattr(node, "position", None)  # tape
    if isinstance(pos, int):
        return pos
    seq = getattr(node, "_sequence_nr", None)  # torch
    return seq() if callable(seq) else None


def graph_order(roots: Sequence) -> list:
    """The nodes reachable from `roots`, in playback order (see the module docstring)."""
    nodes, seen, stack = [], set(), [r for r in reversed(list(roots)) if r is not None]
    while stack:  # a loop, not recursion: graphs may be deep
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        nodes.append(n)
        for child, _ in reversed(n.next_functions):
            if child is not None and child not in seen:
                stack.append(child)
    found = {n: i for i, n in enumerate(nodes)}
    first_use: dict = {}  # AccumulateGrad -> (consumer's key, input index there)
    keys = {}
    for n in nodes:
        if node_name(n) != "AccumulateGrad":
            k = _sort_key(n)
            keys[n] = (k, 1, 0) if k is not None else None
    for n in nodes:
        if keys.get(n) is None:
            continue
        for j, (child, _) in enumerate(n.next_functions):
            if child is not None and node_name(child) == "AccumulateGrad":
                cand = (keys[n][0], j)
                if child not in first_use or cand < first_use[child]:
                    first_use[child] = cand
    for n, (k, j) in first_use.items():
        keys[n] = (k, 0, j)
    if any(keys.get(n) is None for n in nodes):  # a node with no order: discovery order
        return nodes
    return sorted(nodes, key=lambda n: (keys[n], -found[n]), reverse=True)


def graph_summary(roots: Sequence) -> list[tuple[str, tuple]]:
    """[(node name, ((index of next node in this list or None, output index), ...)), ...]."""
    order = graph_order(roots)
    index = {n: i for i, n in enumerate(order)}
    return [(node_name(n), tuple((None if c is None else index[c], i) for c, i in n.next_functions))
            for n in order]


def _graph_text(entry) -> str:
    name, nexts = entry
    edges = ", ".join("None" if c is None else f"#{c}:{i}" for c, i in nexts)
    return f"{name} -> ({edges})" if nexts else name


# ---------------------------------------------------------------------------------------
# The report


@attrs.define(eq=False)
class Report:
    """What `compare` found: rows side by side, `ok`, and the first divergence."""

    title: str
    rows: list[Row] = attrs.Factory(list)
    missing: list[str] = attrs.Factory(list)  # torch names tape lacks that the function used

    @property
    def ok(self) -> bool:
        return not self.missing and all(r.ok is not False for r in self.rows)

    @property
    def divergences(self) -> list[Row]:
        return [r for r in self.rows if r.ok is False]

    @property
    def first_divergence(self) -> Row | None:
        d = self.divergences
        return d[0] if d else None

    def verdict(self) -> str:
        if self.missing:
            return "tape lacks " + ", ".join(self.missing)
        first = self.first_divergence
        if first is None:
            n = sum(r.ok is True for r in self.rows)
            return f"same as torch ({n} comparisons)"
        where = f"{first.section}: {first.what}"
        return f"DIFFERS from torch; first divergence at {where}" + (
            f": {first.detail}" if first.detail else "")

    def table(self, width: int = 44, only_divergences: bool = False) -> str:
        return format_rows(self.rows, width=width, only_divergences=only_divergences)

    def __str__(self) -> str:
        return f"{self.title}: {self.verdict()}\n{self.table()}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return self.ok


def format_rows(rows: list[Row], width: int = 36, only_divergences: bool = False,
                headers=("tape", "torch"), show: set[int] | None = None,
                detail_lines: bool = False) -> str:
    """Rows as a side-by-side table; `>>` marks the first divergence, `!!` the others.

    show: the indices of the rows to print (None: all); a gap prints as one `...` line.
    detail_lines: print every line of a divergence's detail (else its first)."""
    label_w = min(max([len(r.what) for r in rows] + [4]), 30)
    lines = [f"   {'':{label_w}}  {headers[0]:{width}}  {headers[1]}"]
    section = None
    first = next((r for r in rows if r.ok is False), None)
    skipped = 0

    def cut(text: str) -> str:
        return text if len(text) <= width else text[:width - 3] + "..."

    for i, r in enumerate(rows):
        if (only_divergences and r.ok is not False) or (show is not None and i not in show):
            skipped += 1
            continue
        if skipped:
            lines.append(f"   {'...':{label_w}}  ({skipped} more rows)")
            skipped = 0
        if r.section != section:
            section = r.section
            lines.append(f"{section}")
        mark = ">> " if r is first else ("!! " if r.ok is False else "   ")
        what = r.what if len(r.what) <= label_w else r.what[:label_w - 3] + "..."
        lines.append(f"{mark}{what:{label_w}}  {cut(r.tape):{width}}  {cut(r.torch)}".rstrip())
        if r.ok is False and r.detail:
            detail = r.detail.splitlines() if detail_lines else r.detail.splitlines()[:1]
            lines.extend(f"   {'':{label_w}}  ^ {d}" if k == 0 else f"   {'':{label_w}}  {d}"
                         for k, d in enumerate(detail))
    if skipped:
        lines.append(f"   {'...':{label_w}}  ({skipped} more rows)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# compare / assert_same_as_torch


@attrs.frozen
class Leaf:
    """An input to make a tensor of, with requires_grad (and optionally a dtype name)."""

    value: Any
    requires_grad: bool = True
    dtype: str | None = None


def leaf(value, requires_grad: bool = True, dtype: str | None = None) -> Leaf:
    """Mark an input: it becomes a leaf tensor with `requires_grad` (in both modules)."""
    return Leaf(value, requires_grad, dtype)


def _to_input(mod, x, rg: bool):
    """A numpy input as a fresh tensor of `mod` (other values are passed as they are)."""
    if isinstance(x, Leaf):
        arr = np.array(x.value, copy=True)
        dt = getattr(mod, x.dtype) if x.dtype else None
        return mod.tensor(arr, dtype=dt, requires_grad=x.requires_grad)
    if isinstance(x, np.ndarray):
        return mod.tensor(np.array(x, copy=True), requires_grad=bool(rg) and x.dtype.kind == "f")
    if isinstance(x, (list, tuple)) and any(isinstance(y, (np.ndarray, Leaf)) for y in x):
        return type(x)(_to_input(mod, y, rg) for y in x)
    return x


def _tensors_in(x) -> list:
    if is_tensor(x):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for y in x for t in _tensors_in(y)]
    if isinstance(x, dict):
        return [t for y in x.values() for t in _tensors_in(y)]
    return []


@attrs.define(eq=False)
class _Run:
    """One module's run of the function: summaries only, comparable across modules."""

    outputs: Any = None
    raised: Raised | None = None
    raised_in: str = ""  # "forward" or "backward"
    graph: list = attrs.Factory(list)
    grads: list = attrs.Factory(list)  # [(label, TensorSummary | None)]


def _run(mod, fn, inputs, requires_grad, grad, backward) -> _Run:
    if requires_grad is None or isinstance(requires_grad, bool):
        flags = [bool(requires_grad)] * len(inputs)
    else:
        flags = list(requires_grad)
        if len(flags) != len(inputs):
            raise ValueError(f"requires_grad has {len(flags)} flags for {len(inputs)} inputs")
    run = _Run()
    try:
        args = [_to_input(mod, x, f) for x, f in zip(inputs, flags)]
    except Exception as exc:  # the inputs themselves: reported like any error
        run.raised, run.raised_in = Raised.of(exc), "making the inputs"
        return run
    leaves = [(f"input[{i}]", t) for i, a in enumerate(args) for t in _tensors_in(a)
              if t.requires_grad]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(mod, *args)
        except Exception as exc:  # compared with the other module's
            run.raised, run.raised_in = Raised.of(exc), "forward"
            return run
        run.outputs = summarize(out)
        tensors = [t for t in _tensors_in(out) if t.requires_grad and t.dtype.is_floating_point]
        roots = [t.grad_fn for t in tensors if t.grad_fn is not None]
        run.graph = graph_summary(roots)
        seen = {id(t) for _, t in leaves}
        for n in graph_order(roots):  # leaves made inside fn: found through their sinks
            var = getattr(n, "variable", None)
            if var is not None and id(var) not in seen:
                seen.add(id(var))
                leaves.append((f"leaf #{len(leaves)} in the graph", var))
        if backward and tensors:
            given = None
            if grad is not None:
                given = [grad] if isinstance(grad, np.ndarray) else list(grad)
                if len(given) != len(tensors):
                    raise ValueError(f"{len(given)} gradients given for {len(tensors)} outputs "
                                     "that require grad")
            try:
                if given is None:
                    gts = [mod.ones_like(t) for t in tensors]
                else:
                    gts = [mod.tensor(np.array(g, copy=True), dtype=t.dtype)
                           for g, t in zip(given, tensors)]
                mod.autograd.backward(tensors, gts)
            except Exception as exc:  # compared with the other module's
                run.raised, run.raised_in = Raised.of(exc), "backward"
        for label, t in leaves:
            g = _read_grad(t)
            run.grads.append((label, None if g is None else TensorSummary.of(g, with_grad=False)))
    return run


def compare(fn: Callable, *inputs, requires_grad=None, grad=None, backward: bool = True,
            rtol: float | None = None, atol: float | None = None, phrase: str | None = None,
            name: str | None = None) -> Report:
    """Run `fn(module, *tensors)` with tape and with torch and compare what happens.

    inputs: numpy arrays become tensors (requires_grad per `requires_grad`: a bool for all
    floating inputs or one flag per input; or mark an input with `leaf(array)`); anything
    else is passed unchanged. grad: the gradient of the outputs (an array, or one per output
    that requires grad); default: the gradient of the sum of the outputs. backward=False:
    outputs only. rtol/atol: None for torch.testing's per-dtype defaults. phrase: the key
    phrase both error messages must contain, when both raise.
    """
    tape, torch = modules()
    title = f"compare({name or getattr(fn, '__name__', 'fn')})"
    a = _run(tape, fn, inputs, requires_grad, grad, backward)
    b = _run(torch, fn, inputs, requires_grad, grad, backward)
    report = Report(title)
    rows = report.rows
    if a.raised is not None and a.raised.feature and (
            b.raised is None or b.raised.type != a.raised.type):
        report.missing.append(a.raised.feature)
    # outputs
    if a.raised_in == "forward" or b.raised_in == "forward" or a.raised_in.startswith("making"):
        rows.append(_error_row(a, b, phrase))
        return report
    rows.extend(compare_values(a.outputs, b.outputs, "output", "outputs", rtol, atol))
    # graph
    for i in range(max(len(a.graph), len(b.graph))):
        ta = _graph_text(a.graph[i]) if i < len(a.graph) else "-"
        tb = _graph_text(b.graph[i]) if i < len(b.graph) else "-"
        rows.append(Row("graph (playback order)", f"#{i}", ta, tb, ta == tb,
                        "" if ta == tb else "nodes or edges differ"))
    # errors in backward
    if a.raised is not None or b.raised is not None:
        rows.append(_error_row(a, b, phrase))
    elif phrase is not None:
        rows.append(Row("errors", "raised", "nothing", "nothing", False,
                        f"expected an error with {phrase!r}; both ran"))
    # gradients
    labels_a = [label for label, _ in a.grads]
    labels_b = [label for label, _ in b.grads]
    if labels_a != labels_b:
        rows.append(Row("grads", "leaves", ", ".join(labels_a) or "-", ", ".join(labels_b) or "-",
                        False, "different leaves require grad"))
    else:
        for (label, ga), (_, gb) in zip(a.grads, b.grads):
            rows.extend(compare_values(ga, gb, label + ".grad", "grads", rtol, atol))
    return report


def _error_row(a: _Run, b: _Run, phrase) -> Row:
    ea, eb = a.raised, b.raised
    what = f"raised in {a.raised_in or b.raised_in}"
    if ea is None or eb is None:
        return Row("errors", what, ea.brief() if ea else "nothing", eb.brief() if eb else "nothing",
                   False, "only one of them raised")
    if a.raised_in != b.raised_in:
        return Row("errors", what, f"{ea.brief()} (in {a.raised_in})",
                   f"{eb.brief()} (in {b.raised_in})", False, "raised at different steps")
    ok, why = _same_error(ea, eb, phrase)
    return Row("errors", what, normalize_text(ea.brief()), eb.brief(), ok, why)


def assert_same_as_torch(fn: Callable, *inputs, rtol: float | None = None,
                         atol: float | None = None, **options) -> Report:
    """`compare`, raising AssertionError with the side-by-side report when tape differs."""
    report = compare(fn, *inputs, rtol=rtol, atol=atol, **options)
    if not report.ok:
        raise AssertionError(str(report))
    return report


def compare_results(a, b, rtol=None, atol=None, section="result", what="result") -> Report:
    """Compare two already summarized results (tape's `a`, torch's `b`)."""
    report = Report(f"{what}")
    report.rows.extend(compare_values(a, b, what, section, rtol, atol))
    return report
