"""The Wengert list as a table: what the tape recorded, one row per record.

    >>> import tape, tape.wengert
    >>> a = tape.tensor(2.0, requires_grad=True); b = tape.tensor(3.0); c = a * b
    >>> print(tape.wengert.table(c, names={a: "a", b: "b", c: "c"}))
    records leading to c (1 record)
    pos  op   node          inputs      outputs      saved               params
    ---  ---  ------------  ----------  -----------  ------------------  ------
      1  mul  MulBackward0  leaf(a), -  c float32[]  self=-, other=b@v0

Columns: the record's tape position; the op's torch name (`add_` when it was applied in
place); its backward node; per input where its gradient goes (`#<pos>` / `#<pos>.<output>`
for a recorded producer, `leaf(...)` for a leaf's AccumulateGrad, `-` when no gradient is
needed); its outputs with dtype and shape (`dead` once the tensor is gone); the values its backward
needs, each with the version it had when saved (`stale` when an in-place change has moved
the version on since, `<freed>` after a backward without retain_graph; `-` for a value the
op did not need to save); and its non-tensor arguments.

`format_records` formats any list of records (`repr(tape.TAPE)` uses it for the whole
tape); `records_for` and `table` restrict it to the records one graph is made of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ._format import format_data
from .graph import AccumulateGrad, Node
from .recording import FREED, Record
from .tensor import Tensor

__all__ = ["format_records", "records_for", "rows", "table", "HEADERS"]

HEADERS = ("pos", "op", "node", "inputs", "outputs", "saved", "params")

_SHORT = 24  # longest value shown inline; longer ones are shown as dtype[shape]
_PARAMS = 40  # params are context, not the point: cut them short


# ---------------------------------------------------------------------------------------
# Which records


def records_for(*tensors) -> list[Record]:
    """The records the given tensors' gradients flow through, in position order.

    Accepts tensors (leaves contribute nothing), graph-view nodes and records. Walks
    `Record.edges()` backwards: an edge is `(Record, output index)`, `(AccumulateGrad, 0)`
    (a leaf: the walk stops) or None (no gradient needed).
    """
    seen: dict[int, Record] = {}
    stack = []
    for t in tensors:
        rec = _record_of(t)
        if rec is not None:
            stack.append(rec)
    while stack:
        rec = stack.pop()
        if id(rec) in seen:
            continue
        seen[id(rec)] = rec
        for edge in rec.edges():
            if edge is not None and type(edge[0]) is Record and id(edge[0]) not in seen:
                stack.append(edge[0])
    return sorted(seen.values(), key=lambda r: r.pos)


def _record_of(x) -> Record | None:
    if isinstance(x, Tensor):
        return x._current_rec()  # (a stale view: its history made again, as grad_fn shows it)
    if isinstance(x, Record):
        return x
    if isinstance(x, Node) and not isinstance(x, AccumulateGrad):
        return x.record
    if x is None:
        return None
    raise TypeError(f"records_for() takes tensors, nodes or records, not {type(x).__name__}")


# ---------------------------------------------------------------------------------------
# Names


def _name_table(names) -> dict[int, str]:
    """`names` as {id(tensor): name}.

    Keys may be tensors or ids. Tensors are turned into ids at once so that lookups never
    reach Tensor.__eq__ (elementwise, not a truth value). A {name: tensor} mapping is
    accepted too, since that is what `locals()` looks like.
    """
    if not names:
        return {}
    out = {}
    for key, value in names.items():
        if isinstance(key, str) and isinstance(value, Tensor):
            key, value = value, key
        out[key if isinstance(key, int) else id(key)] = str(value)
    return out


def short_value(t) -> str:
    """A tensor's value in a few characters: `2.`, `[1., 2., 3.]`, or `float32[100, 3]`."""
    a = np.asarray(t._data if isinstance(t, Tensor) else t)
    if a.size <= 4:
        text = " ".join(format_data(a, 0).split())  # one line, whatever the layout
        if len(text) <= _SHORT:
            return text
    return f"{a.dtype}{list(a.shape)}"


def _shape(shape) -> str:
    return str(list(shape))


# ---------------------------------------------------------------------------------------
# Cells


class _Cells:
    """Formats the cells of one table; holds the name lookup."""

    def __init__(self, names):
        self.names = _name_table(names)

    def tensor(self, t: Tensor) -> str | None:
        return self.names.get(id(t))

    def edge(self, edge) -> str:
        if edge is None:
            return "-"
        target, idx = edge
        if type(target) is Record:
            # the output index only matters (and is only shown) for multi-output ops
            return f"#{target.pos}" if len(target.out_refs()) <= 1 else f"#{target.pos}.{idx}"
        if isinstance(target, AccumulateGrad):
            leaf = target.variable
            return f"leaf({self.tensor(leaf) or short_value(leaf)})"
        return "?"

    def op_name(self, rec: Record) -> str:
        name = rec.op.name
        # in place: input 0's producer made the very tensor this record now produces
        first = rec.edges()[0] if rec.inputs else None
        if first is not None and type(first[0]) is Record and len(rec.out_refs()) == 1:
            out = rec.out_refs()[0]()
            outs = first[0].out_refs()
            if out is not None and first[1] < len(outs) and outs[first[1]]() is out:
                return name + "_"
        return name

    def outputs(self, rec: Record) -> str:
        parts = []
        for i, ref in enumerate(rec.out_refs()):
            t = ref()
            if t is None:
                parts.append("dead")
                continue
            text = f"{self.tensor(t) or ''} {t._data.dtype}{_shape(t._data.shape)}".lstrip()
            if t._rec is not rec or t._idx != i:
                # changed in place since: the tensor now comes out of a later record
                text += f" (now #{t._rec.pos})" if t._rec is not None else " (detached)"
            parts.append(text)
        return ", ".join(parts) if parts else "-"

    def saved(self, rec: Record) -> str:
        names = rec.op.saved_names
        if not names:
            return ""
        if rec.saved is FREED:
            return repr(FREED)
        parts = []
        for k, (name, entry) in enumerate(zip(names, rec.saved_entries())):
            parts.append(f"{name}={'-' if entry is None else self.saved_entry(rec, k, entry)}")
        return ", ".join(parts)

    def saved_entry(self, rec: Record, k: int, entry) -> str:
        value, vc, version = entry
        if vc is None:  # a plain number saved as is: no version to check
            return short_value(value)
        text = f"{self.saved_value(rec, k, value)}@v{version}"
        if vc[0] != version:
            text += f" (now v{vc[0]}: stale)"
        return text

    def saved_value(self, rec: Record, k: int, value) -> str:
        if isinstance(value, Tensor):
            name = self.tensor(value)
            if name:
                return name
        if type(value).__name__ == "_Packed":  # went through saved_tensors_hooks
            return "<packed>"
        i = rec.op.save_plan[k][0]
        if i < 0:
            # the op's own result: name it after the output (its producer is this record)
            t = rec.out_refs()[0]() if rec.out_refs() else None
            return (t is not None and self.tensor(t)) or f"#{rec.pos}"
        # an input: where it came from when it was recorded (the tensor may since have been
        # changed in place and now come out of a later record)
        edge = rec.edges()[i] if i < len(rec.inputs) else None
        if edge is not None:
            return self.edge(edge)
        return f"tensor({short_value(value)})"

    def params(self, rec: Record) -> str:
        text = ", ".join(_param(p) for p in rec.params)
        return text if len(text) <= _PARAMS else text[:_PARAMS - 3] + "..."


def _param(p) -> str:
    if isinstance(p, Record):
        return f"record #{p.pos}"
    if isinstance(p, Tensor):
        return f"tensor({short_value(p)})"
    if isinstance(p, np.ndarray):
        return f"{p.dtype}{_shape(p.shape)}" if p.size > 4 else short_value(p)
    if isinstance(p, tuple | list):
        inner = ", ".join(_param(x) for x in p)
        return f"({inner},)" if isinstance(p, tuple) and len(p) == 1 else (
            f"({inner})" if isinstance(p, tuple) else f"[{inner}]")
    if callable(p):
        return getattr(p, "__name__", type(p).__name__)
    return repr(p)


# ---------------------------------------------------------------------------------------
# The table


def rows(records: Iterable[Record], names: Mapping | None = None) -> list[tuple[str, ...]]:
    """One tuple of cells per record (in the order given), in the columns of HEADERS."""
    cells = _Cells(names)
    out = []
    for rec in records:
        out.append((
            str(rec.pos),
            cells.op_name(rec),
            rec.op.node,
            ", ".join(cells.edge(e) for e in rec.edges()) or "-",
            cells.outputs(rec),
            cells.saved(rec),
            cells.params(rec),
        ))
    return out


def format_records(records: Iterable[Record], title: str | None = None,
                   names: Mapping | None = None) -> str:
    """A plain-text table of `records`, in position order, with aligned columns."""
    records = sorted(records, key=lambda r: r.pos)
    body = rows(records, names)
    n = len(records)
    head = f"{title or 'tape records'} ({n} record{'' if n == 1 else 's'})"
    if not body:
        return head + "\n  (nothing recorded: no input required grad)"
    widths = [max(len(h), *(len(r[k]) for r in body)) for k, h in enumerate(HEADERS)]

    def line(cells, numbers=True) -> str:
        # positions right-aligned (numbers), the rest left-aligned; no trailing blanks
        first = cells[0].rjust(widths[0]) if numbers else cells[0].ljust(widths[0])
        parts = [first] + [c.ljust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    lines = [head, line(HEADERS, numbers=False), line(["-" * w for w in widths])]
    lines += [line(r) for r in body]
    return "\n".join(lines)


def table(*tensors, names: Mapping | None = None, title: str | None = None) -> str:
    """The Wengert list of just the graph behind `tensors`: `print(tape.wengert.table(k))`."""
    if title is None:
        lookup = _name_table(names)
        labels = [lookup.get(id(t)) for t in tensors]
        title = "records leading to " + (", ".join(labels) if all(labels) and labels else
                                         f"{len(tensors)} tensor{'' if len(tensors) == 1 else 's'}")
    return format_records(records_for(*tensors), title=title, names=names)
