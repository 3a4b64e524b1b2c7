"""Drawing the backward graph as the tutorial draws it: `tape.viz.draw(k)`.

    import tape, tape.viz
    a = tape.tensor(2.0, requires_grad=True); b = tape.tensor(3.0); c = a * b
    tape.viz.draw(c, names=locals()).render("c", format="png")   # or .source: the DOT text

What is drawn, in the tutorial's colours:
- tensors are boxes holding their autograd fields (data, grad, grad_fn, is_leaf,
  requires_grad, and _version): green for leaves on the graph (they require grad), yellow
  for leaves off it ("dried-up leaves"), white for the tensors ops made. Each sits beside
  the node that made it, its grad_fn arrow pointing at that node. A view's `_base` is a
  dashed arrow; a tensor sharing another's storage (`k.detach()`) is joined to it by a
  dashed line. (The boxes are HTML tables drawn like record shapes: dot 2.43 loses edges
  between neighbours in a row when one is `shape=record`.)
- backward nodes are brown ("branches"), named as torch names them (`MulBackward0`, with the
  record's tape position `#5`), each listing the values its record saved with the version
  each had (`other = d@v0`), red when an in-place change has made one stale, and `<freed>`
  after a backward without retain_graph. Dotted arrows go from a node to the saved tensors
  that are off the graph (torch's ctx.saved_tensors), red ones to stale saved tensors.
- `next_functions` are brown arrows labelled with the output index (the 0, 1, 2 of unbind);
  an input that needs no gradient points at `None`; each leaf's `AccumulateGrad` points at
  its leaf (`variable`).
- gradients are blue: `steps(k)` replays the backward pass one node at a time (without
  changing anything) and draws each step with the gradient passed along every edge so far,
  the tutorial's "slowly pass it up through this graph"; `animate(k, "k.html")` puts the
  frames on a page with a slider.

`draw_tape(k)` draws the same graph as the Wengert list it is: one row per record in tape
order, each input pointing back at the row that produced it.

Dependencies. A drawing is a `graphviz.Digraph` from the `graphviz` Python package
(`pip install "tape[viz]"`): a small pure-Python builder of DOT text that lays out nothing
itself, so building and testing a drawing needs no binary. Turning it into pixels
(`.render()`, `.pipe()`, `animate`) needs the Graphviz program `dot` (`apt-get install
graphviz`), which does the layout; without it `.source` still gives the DOT text. `animate`
writes an HTML page whose frames are the SVGs `dot` made, inlined, stepped through by a
slider and a dozen lines of plain JavaScript: one self-contained file that any browser
opens and that keeps the text sharp at every zoom, with no JavaScript library and no new
Python dependency. An animated GIF (`animate(k, "k.gif")`, for places that show no HTML)
needs Pillow as well, to assemble the PNG frames.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

from . import wengert
from .graph import AccumulateGrad
from .recording import FREED, Record
from .tensor import Tensor, _wrap

__all__ = ["draw", "steps", "animate", "draw_tape", "PALETTE"]

# the tutorial's colours: (fill, line, text) per kind of thing
PALETTE = dict(
    node=("#e9cfae", "#8b4513", "#3b2106"),  # brown: backward nodes, the branches
    leaf=("#b9e6a6", "#2e8b22", "#123d0c"),  # green: leaves on the graph
    dried=("#fbe7a1", "#c9a100", "#4a3b00"),  # yellow: leaves off the graph
    tensor=("#ffffff", "#6b6b6b", "#222222"),  # tensors ops made
)
BROWN = PALETTE["node"][1]
GREEN = PALETTE["leaf"][1]
YELLOW = PALETTE["dried"][1]
BLUE = "#1f5fd6"  # gradients
RED = "#c62828"  # stale saved values
GREY = "#8a8a8a"

_FONT = "Helvetica"


def _graphviz():
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError('tape.viz draws with the graphviz package: pip install "tape[viz]" '
                          "(rendering also needs the Graphviz program dot, e.g. apt-get install "
                          "graphviz)") from exc
    return graphviz


# ---------------------------------------------------------------------------------------
# Names and text


def _names(names) -> tuple[dict[int, str], list[Tensor]]:
    """{id(tensor): name} and the named tensors themselves (when given as tensors)."""
    if not names:
        return {}, []
    tensors = [v if isinstance(v, Tensor) else k for k, v in names.items()
               if isinstance(v, Tensor) or isinstance(k, Tensor)]
    return wengert._name_table(names), tensors


def _value(x) -> str:
    return "None" if x is None else wengert.short_value(x)


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _font(text: str, colour: str | None = None, size: int | None = None) -> str:
    """Escaped text in an HTML-label <FONT> (plain when neither is given)."""
    attrs_ = (f' COLOR="{colour}"' if colour else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attrs_}>{_h(text)}</FONT>" if attrs_ else _h(text)


def _plain(x):
    """A gradient as an array (a tensor's values)."""
    return x._data if isinstance(x, Tensor) else x


# ---------------------------------------------------------------------------------------
# What a drawing shows: the scene


@attrs.define(eq=False)
class _Flow:
    """The state of a (simulated) backward pass: what has been sent and stored so far."""

    sent: dict = attrs.Factory(dict)  # (record, input k) or ("root", i) -> gradient sent
    received: dict = attrs.Factory(dict)  # node -> list of gradients gathered for its outputs
    grads: dict = attrs.Factory(dict)  # id(tensor) -> the .grad it has (leaves, retained)
    done: set = attrs.Factory(set)  # nodes that have run
    current: object = None  # the node this step ran
    title: str = ""


class _Scene:
    """Collects the tensors, nodes and edges of one drawing, then emits DOT."""

    def __init__(self, roots, names, show_saved: bool):
        self.roots = roots
        self.label_of, named = _names(names)
        self.show_saved = show_saved
        self.records: list[Record] = wengert.records_for(*roots)
        self.recset = set(self.records)
        self.cells = wengert._Cells(names)
        self.accs: list[AccumulateGrad] = []
        for rec in self.records:
            for e in rec.edges():
                if e is not None and type(e[0]) is AccumulateGrad and e[0] not in self.accs:
                    self.accs.append(e[0])
        self.tensors: dict[int, Tensor] = {}
        for t in roots:
            self._add(t)
        for rec in self.records:
            for ref in rec.out_refs():
                t = ref()
                if t is not None:
                    self._add(t)
            if show_saved and rec.saved is not FREED:
                for entry in rec.saved_entries():
                    if entry is not None and isinstance(entry[0], Tensor):
                        self._add(entry[0])
        for acc in self.accs:
            self._add(acc.variable)
        for t in named:  # leaves named are drawn even off the graph (the tutorial's a and b)
            if t._rec is None:
                self._add(t)
        for t in list(self.tensors.values()):  # a view's base, and its base...
            while t._base is not None:
                t = t._base
                self._add(t)
        self.ids = {k: f"t{n}" for n, k in enumerate(self.tensors)}
        # tensors off the graph are drawn in the order they were named (a, b, c)
        self.order = {id(t): n for n, t in enumerate(named)}

    def _add(self, t: Tensor) -> None:
        self.tensors.setdefault(id(t), t)

    # ---- ids and names -----------------------------------------------------------------

    def node_id(self, node) -> str:
        return f"a{node.pos}" if type(node) is AccumulateGrad else f"r{node.pos}"

    def tensor_name(self, t: Tensor) -> str:
        name = self.label_of.get(id(t))
        if name:
            return name
        if t._rec is not None:
            return f"#{t._rec.pos}" if len(t._rec.out_refs()) <= 1 else f"#{t._rec.pos}.{t._idx}"
        return "leaf" if t._rg else "tensor"

    def node_name(self, node) -> str:
        if type(node) is AccumulateGrad:
            return f"AccumulateGrad({self.tensor_name(node.variable)})"
        return f"{node.op.node} #{node.pos}"

    # ---- the DOT ---------------------------------------------------------------------

    def digraph(self, flow: _Flow | None = None, title: str = ""):
        graphviz = _graphviz()
        g = graphviz.Digraph(
            "backward",
            graph_attr=dict(rankdir="TB", nodesep="0.35", ranksep="0.45", fontname=_FONT,
                            bgcolor="white", newrank="true", label=_h(title) if title else "",
                            labelloc="t", fontsize="16"),
            node_attr=dict(fontname=_FONT, fontsize="12"),
            # every edge attribute used is declared up front: dot 2.43 misreads attributes
            # first declared on a later flat edge ("Arrow type ... unknown")
            edge_attr=dict(fontname=_FONT, fontsize="11", arrowsize="0.7", dir="forward",
                           arrowtail="normal", color="black", fontcolor="black", style="solid",
                           penwidth="1", label=""),
        )
        grads = flow.grads if flow is not None else {}
        placed: set[int] = set()

        def place(s, t: Tensor, prev: str | None = None) -> str:
            """t beside what made it, then what shares its storage without being a view of
            it (k.detach()), joined by a dashed line."""
            placed.add(id(t))
            self._tensor(s, t, grads)
            if prev is not None:  # outputs left to right in order (unbind's b, c, d)
                s.edge(prev, self.ids[id(t)], style="invis")
            prev = self.ids[id(t)]
            for u in self.tensors.values():
                if (u._vc is t._vc and id(u) not in placed and u._base is None
                        and t._base is None):
                    placed.add(id(u))
                    self._tensor(s, u, grads)
                    s.edge(prev, self.ids[id(u)], label="same storage", style="dashed",
                           color=GREY, fontcolor=GREY, dir="none")
                    prev = self.ids[id(u)]
            return prev

        # a record's node sits beside the tensors it made; an AccumulateGrad beside its leaf
        for rec in self.records:
            with g.subgraph() as s:
                s.attr(rank="same")
                self._node(s, rec, flow)
                prev = None
                for i, ref in enumerate(rec.out_refs()):
                    t = ref()
                    if t is not None and t._rec is rec and t._idx == i and id(t) not in placed:
                        prev = place(s, t, prev)
        for acc in self.accs:
            with g.subgraph() as s:
                s.attr(rank="same")
                self._node(s, acc, flow)
                if id(acc.variable) not in placed:
                    place(s, acc.variable)
        loose = [t for t in self.tensors.values() if id(t) not in placed]
        for t in sorted(loose, key=lambda t: self.order.get(id(t), len(self.order))):
            if id(t) not in placed:
                place(g, t)
        self._edges(g, flow)
        return g

    def _tensor(self, g, t: Tensor, grads: dict) -> None:
        grad = grads.get(id(t), t._grad)
        fn = t._rec
        kind = "tensor" if fn is not None else ("leaf" if t._rg else "dried")
        fill, line, text = PALETTE[kind]
        grad_text = _font(f"grad: {_value(grad)}", BLUE if grad is not None else None)
        if grad is not None:  # gradients are blue
            grad_text = f"<B>{grad_text}</B>"
        rows = [
            ("data", _h(f"data: {_value(t._data)}")),
            ("grad", grad_text),
            ("grad_fn", _h("grad_fn: " + ("None" if fn is None else fn.op.node))),
            ("is_leaf", _h(f"is_leaf: {fn is None}")),
            ("requires_grad", _h(f"requires_grad: {t._rg}")),
            ("version", _h(f"_version: {t._vc[0]}")),
        ]
        body = (f'<TR><TD PORT="title" ALIGN="LEFT" BGCOLOR="{line}"><B>'
                f"{_font(self.tensor_name(t), 'white')}</B></TD></TR>")
        body += "".join(f'<TR><TD PORT="{port}" ALIGN="LEFT">{cell}</TD></TR>' for port, cell in rows)
        label = (f'<<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
                 f'COLOR="{line}" BGCOLOR="{fill}">{body}</TABLE>>')
        g.node(self.ids[id(t)], label=label, shape="plaintext", fontcolor=text)

    def _node(self, g, node, flow: _Flow | None) -> None:
        fill, line, text = PALETTE["node"]
        if type(node) is AccumulateGrad:
            rows = ["<B>AccumulateGrad</B>"]
        else:
            rows = [f"<B>{_h(node.op.node)}</B> {_font(f'#{node.pos}', size=10)}"]
            if self.show_saved:
                rows += self._saved_rows(node)
        attrs_ = dict(shape="box", style="rounded,filled", fillcolor=fill, color=line,
                      fontcolor=text, penwidth="1.2")
        if flow is not None:
            got = flow.received.get(node)
            if got is not None:
                rows.append(_font("grad in: " + ", ".join(_value(v) for v in got), BLUE))
            else:  # the row is there in every frame, so frames keep one layout
                rows.append(_font("grad in: -", GREY))
            if node is flow.current:
                attrs_.update(color=BLUE, penwidth="3")
            elif node in flow.done:
                attrs_.update(style="rounded,filled,bold")
        body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'
        g.node(self.node_id(node), label=label, **attrs_)

    def _saved_rows(self, rec: Record) -> list[str]:
        names = rec.op.saved_names
        if not names:
            return []
        if rec.saved is FREED:
            return [_font(f"saved: {FREED!r}", size=10)]
        rows = []
        for k, (name, entry) in enumerate(zip(names, rec.saved_entries())):
            if entry is None:  # not needed for the gradients that are needed
                rows.append(_font(f"{name}: not saved", GREY, 10))
            else:
                text = f"{name} = {self.cells.saved_entry(rec, k, entry)}"
                rows.append(_font(text, RED if _stale(entry) else None, 10))
        return rows

    # NOTE [edges point up]
    # The tutorial draws the root at the bottom and the gradient climbing to the leaves.
    # dot ranks an edge's head below its tail, so every upward arrow is emitted from the
    # upper end to the lower one with dir=back (rankdir=BT would flip the rows that
    # edges attach to). Flat edges (a node and the tensors beside it) run node -> tensor
    # so that nodes sit to the left of their tensors, and name no port: dot 2.43 loses
    # flat edges to a port or their arrows. They meet a box at mid-height, which is why
    # the box ends with _version: its grad_fn row is then the middle one.

    def _edges(self, g, flow: _Flow | None) -> None:
        sent = flow.sent if flow is not None else {}
        up = dict(dir="back")
        # a tensor's grad_fn field points at its node; the root's carries the seed gradient
        roots = {id(t): i for i, t in enumerate(self.roots)}
        for key, t in self.tensors.items():
            rec = t._rec
            if rec is None or rec not in self.recset:
                continue
            seed = sent.get(("root", roots[key])) if key in roots else None
            port = self.ids[key]
            if seed is not None:
                g.edge(self.node_id(rec), port, label=_h(_value(seed)), color=BLUE,
                       fontcolor=BLUE, penwidth="2.2", weight="4", **up)
            else:
                g.edge(self.node_id(rec), port, color=GREY, weight="4", **up)
        # next_functions: (node, output index) per input, None where no gradient is needed
        nones = 0
        for rec in self.records:
            src = self.node_id(rec)
            for k, e in enumerate(rec.edges()):
                if e is None:
                    none = f"none{nones}"
                    nones += 1
                    g.node(none, label="None", shape="plaintext", fontcolor=GREY, fontsize="11")
                    g.edge(none, src, label="0", color=GREY, fontcolor=GREY, style="dashed", **up)
                    continue
                target, idx = e
                value = sent.get((rec, k))
                if value is not None:
                    label = f"<{idx}<BR/><B>{_font(_value(value), BLUE)}</B>>"
                    g.edge(self.node_id(target), src, label=label, color=BLUE, fontcolor=BROWN,
                           penwidth="2.2", **up)
                else:
                    label = str(idx) if flow is None else f"<{idx}<BR/> >"  # room for one
                    g.edge(self.node_id(target), src, label=label, color=BROWN,
                           fontcolor=BROWN, **up)
        # AccumulateGrad.variable: the leaf whose grad field it fills
        for acc in self.accs:
            leaf = acc.variable
            port = self.ids[id(leaf)]
            value = sent.get((acc, 0))
            if value is not None:
                g.edge(self.node_id(acc), port, label=_h(_value(value)), color=BLUE,
                       fontcolor=BLUE, penwidth="2.2")
            else:
                g.edge(self.node_id(acc), port, label="variable", color=GREEN, fontcolor=GREEN)
        if self.show_saved:
            self._saved_edges(g)
        for key, t in self.tensors.items():
            if t._base is not None:
                g.edge(self.ids[key], self.ids[id(t._base)], label="_base", style="dashed",
                       color=GREY, fontcolor=GREY, constraint="false")

    def _saved_edges(self, g) -> None:
        """Dotted arrows from a node to the saved tensors nothing else ties to the graph
        (leaves off it, as d and f in the tutorial: torch's ctx.saved_tensors), and red ones
        to stale saved tensors. Other saved tensors are named in the node's text only, to
        keep the picture clear."""
        for rec in self.records:
            if rec.saved is FREED:
                continue
            for k, (name, entry) in enumerate(zip(rec.op.saved_names, rec.saved_entries())):
                if entry is None:
                    continue
                t = _saved_tensor(rec, k, entry)
                stale = _stale(entry)
                if t is None or id(t) not in self.ids or (not stale and (t._rec or t._rg)):
                    continue
                g.edge(self.ids[id(t)], self.node_id(rec), style="dotted",
                       color=RED if stale else BROWN, dir="back", arrowtail="odot", weight="0",
                       tooltip=f"saved {name}", constraint="false" if stale else "true")


def _stale(entry) -> bool:
    _, vc, version = entry
    return vc is not None and vc[0] != version


def _saved_tensor(rec: Record, k: int, entry) -> Tensor | None:
    """The tensor a saved value is: itself when a tensor was saved, or the op's own output."""
    value = entry[0]
    if isinstance(value, Tensor):
        return value
    if rec.op.save_plan[k][0] < 0 and rec.out_refs():  # the op's result, saved as its array
        t = rec.out_refs()[0]()
        if t is not None and t._vc is entry[1]:
            return t
    return None


# ---------------------------------------------------------------------------------------
# draw


def draw(*tensors, show_saved: bool = True, show_grads: bool = False, names=None):
    """The backward graph behind `tensors` as a `graphviz.Digraph`.

    `names` maps tensors to names (or names to tensors: `names=locals()` works); named
    leaves are drawn even when off the graph. `show_saved` lists each node's saved values
    with their versions. `show_grads` labels every edge with the gradient a backward from
    `tensors` (seeded with ones) would pass along it, computed without running backward.
    """
    if not tensors:
        raise TypeError("draw() needs at least one tensor")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw() takes tensors, not {type(t).__name__}")
    scene = _Scene(tensors, names, show_saved)
    flow = None
    if show_grads:  # (seeded with ones: a root need not be a scalar)
        flows = _simulate(tensors, [_wrap(np.ones_like(t._data)) for t in tensors], scene)
        flow = flows[-1]
        flow.current = None
    return scene.digraph(flow)


# ---------------------------------------------------------------------------------------
# steps: a read-only replay of playback


def _simulate(roots, gradients, scene: _Scene) -> list[_Flow]:
    """Replay playback (tape/engine.py) from `roots`, recording a `_Flow` after each node.

    Nothing the user can see changes: rules run through the engine's own `_run` with
    retain=True (saved values are kept), no hooks run (a drawing has no side effects:
    the node's extras are set aside while its rule runs), no `.grad` is written; the
    gradients that would land in `.grad` are kept in the flow.
    """
    from . import engine
    from .api import PRIMS_NP
    from .grad_mode import no_grad

    F = PRIMS_NP
    grads_in = None if gradients is None else tuple(gradients)
    roots_ = engine._roots(tuple(roots), grads_in, False)  # validates as backward() does
    for rec in scene.records:  # fail before the first frame, with the engine's message
        if rec.saved is FREED:
            raise engine.second_time_error()
    flow = _Flow()
    # in the engine's order, sinks included (NOTE [torch's order] in engine.py)
    heap, bufs, at, waiting, deps = engine._start(roots_, engine._USER_CODE[0])
    for i, (_, g) in enumerate(roots_):
        flow.sent[("root", i)] = g
    for node, b in bufs.items():
        flow.received[node] = engine._slot_list(b)
    who = ", ".join(scene.tensor_name(t) for t in roots)
    seed = ", ".join(_value(g) for _, g in roots_)
    first = ", ".join(scene.node_name(node) for (node, _), _ in roots_)
    flow.title = f"{who}.backward(): the gradient {seed} enters {first}"
    frames = [_copy(flow)]
    with no_grad():
        while heap:
            node = at.pop(engine._heappop(heap))
            grads = engine._slot_list(bufs.pop(node))
            flow.received[node] = list(grads)
            flow.current = node
            if type(node) is AccumulateGrad:
                leaf = node.variable  # engine._sink, into the flow instead of .grad
                old = flow.grads.get(id(leaf), leaf._grad)
                new = np.asarray(grads[0], dtype=leaf._data.dtype)
                new = new if old is None else _plain(old) + new
                flow.grads[id(leaf)] = new
                flow.sent[(node, 0)] = grads[0]
                flow.title = f"AccumulateGrad stores {scene.tensor_name(leaf)}.grad = {_value(new)}"
            else:
                rec = node
                _retain(rec, grads, flow)
                extra, rec.extra = rec.extra, None  # no hooks: see the docstring
                try:
                    in_grads = engine._run(rec, grads, F, True, False)
                finally:
                    rec.extra = extra
                out = []
                # (reduced to the inputs' shapes and dtypes, as engine.playback passes them on)
                for k, (e, gi) in enumerate(zip(rec.edges(), engine._node_outputs(rec, in_grads, F))):
                    if e is None or gi is None:
                        continue
                    engine._send(bufs, waiting, at, e[0], e[1], gi)
                    flow.sent[(rec, k)] = gi
                    out.append(f"{_value(gi)} to {scene.node_name(e[0])}")
                if deps is not None:
                    engine._arrive(rec.inputs, deps, bufs, heap, at)
                got = ", ".join(_value(g) for g in grads)
                flow.title = f"{rec.op.node} #{rec.pos} gets {got} and sends " + (
                    "; ".join(out) or "nothing")
            flow.done.add(node)
            for n, b in bufs.items():
                flow.received[n] = engine._slot_list(b)
            frames.append(_copy(flow))
    total = len(frames) - 1
    for n, f in enumerate(frames):
        f.title = (f"step {n} of {total}: " if n else "start: ") + f.title
    return frames


def _retain(rec: Record, grads, flow: _Flow) -> None:
    """What retain_grad() would store now (engine._before_node), kept in the flow."""
    ex = rec.extra
    if ex is None:
        return
    for i in ex.retain:
        t = rec.out_refs()[i]() if i < len(rec.out_refs()) else None
        if t is not None and grads[i] is not None and t._rec is rec:
            old = flow.grads.get(id(t), t._grad)
            flow.grads[id(t)] = grads[i] if old is None else _plain(old) + grads[i]


def _copy(flow: _Flow) -> _Flow:
    return _Flow(dict(flow.sent), {k: list(v) for k, v in flow.received.items()},
                 dict(flow.grads), set(flow.done), flow.current, flow.title)


def steps(root: Tensor, gradient=None, *, names=None, show_saved: bool = False) -> Iterator:
    """The backward pass from `root`, one drawing per step (a `graphviz.Digraph` each).

    Step 0 is the seed gradient entering the root's node; then one step per node in
    playback's order (highest tape position first; once the program has hooks, a leaf's
    sink as soon as its gradient is complete, as torch runs it), with every gradient sent so far in
    blue on its edge and the `.grad` each leaf (or retained tensor) would hold. Nothing
    runs for real: `root.backward()` afterwards works and gives the same numbers. Raises
    at once, with backward's own error, where backward would (freed or stale saved values).
    """
    scene = _Scene((root,), names, show_saved)
    flows = _simulate((root,), None if gradient is None else (gradient,), scene)
    return (scene.digraph(f, f.title) for f in flows)


# ---------------------------------------------------------------------------------------
# animate


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }}
.bar {{ display: flex; gap: .6em; align-items: center; margin-bottom: .8em; }}
input[type=range] {{ width: 24em; }}
.frame {{ display: none; }} .frame.on {{ display: block; }}
.frame svg {{ max-width: 100%; height: auto; }}
#caption {{ color: {blue}; }}
</style></head><body>
<h2>{title}</h2>
<div class="bar"><button id="prev">&#9664;</button><button id="play">play</button>
<button id="next">&#9654;</button>
<input id="slider" type="range" min="0" max="{last}" value="0"><span id="count"></span></div>
<p id="caption"></p>
{frames}
<script>
const frames = document.querySelectorAll(".frame"), slider = document.getElementById("slider");
let timer = null;
function show(i) {{
  i = Math.max(0, Math.min(frames.length - 1, i)); slider.value = i;
  frames.forEach((f, k) => f.classList.toggle("on", k === i));
  document.getElementById("caption").textContent = frames[i].dataset.caption;
  document.getElementById("count").textContent = (i + 1) + " / " + frames.length;
}}
slider.oninput = () => show(+slider.value);
document.getElementById("prev").onclick = () => show(+slider.value - 1);
document.getElementById("next").onclick = () => show(+slider.value + 1);
document.getElementById("play").onclick = () => {{
  if (timer) {{ clearInterval(timer); timer = null; return; }}
  if (+slider.value === frames.length - 1) show(0);
  timer = setInterval(() => {{ if (+slider.value >= frames.length - 1) {{ clearInterval(timer);
    timer = null; }} else show(+slider.value + 1); }}, {ms});
}};
document.onkeydown = e => {{ if (e.key === "ArrowLeft") show(+slider.value - 1);
  if (e.key === "ArrowRight") show(+slider.value + 1); }};
show(0);
</script></body></html>
"""


def _inline_svg(digraph, k: int) -> str:
    svg = digraph.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    # every frame's svg uses the same element ids (graph0, node1, ...): make them unique
    return re.sub(r'\bid="', f'id="f{k}-', svg)


def animate(root: Tensor, path, gradient=None, *, names=None, show_saved: bool = False,
            seconds: float = 1.2, title: str | None = None) -> Path:
    """Write `steps(root)` as one self-contained HTML page with a slider (or, when `path`
    ends in .gif, an animated GIF, which needs Pillow). Needs the `dot` program. Returns
    the path written."""
    path = Path(path)
    frames = list(steps(root, gradient, names=names, show_saved=show_saved))
    if path.suffix.lower() == ".gif":
        _gif(frames, path, seconds)
        return path
    parts = []
    for k, f in enumerate(frames):
        caption = _h(f.graph_attr.get("label", ""))
        f.graph_attr["label"] = ""  # the caption is shown above the picture instead
        parts.append(f'<div class="frame" data-caption="{caption}">{_inline_svg(f, k)}</div>')
    if title is None:
        name = _Scene((root,), names, False).tensor_name(root)
        title = f"{name}.backward(), one node at a time"
    path.write_text(_PAGE.format(title=_h(title), frames="\n".join(parts), last=len(frames) - 1,
                                 ms=int(seconds * 1000), blue=BLUE), encoding="utf-8")
    return path


def _gif(frames, path: Path, seconds: float) -> None:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("animate(..., '*.gif') assembles the frames with Pillow: pip install "
                          "pillow (or write an .html page, which needs nothing more)") from exc
    import io

    images = [Image.open(io.BytesIO(f.pipe(format="png"))).convert("RGB") for f in frames]
    w = max(i.width for i in images)
    h = max(i.height for i in images)
    padded = []
    for im in images:  # frames differ in size: centre each on a white page of the largest
        page = Image.new("RGB", (w, h), "white")
        page.paste(im, ((w - im.width) // 2, (h - im.height) // 2))
        padded.append(page)
    padded[0].save(path, save_all=True, append_images=padded[1:], loop=0,
                   duration=int(seconds * 1000))


# ---------------------------------------------------------------------------------------
# draw_tape: the Wengert list, drawn


def draw_tape(*tensors, names=None):
    """The records behind `tensors` drawn as the Wengert list: one row per record in tape
    order (oldest at the top; playback runs from the bottom up), the columns of
    `tape.wengert.table`, and an arrow from each row back up to the rows that produced its
    inputs. Leaf inputs are green, stale saved values red."""
    graphviz = _graphviz()
    records = wengert.records_for(*tensors)
    cells = wengert._Cells(names)
    table = wengert.rows(records, names)
    fill, line, text = PALETTE["node"]
    g = graphviz.Digraph(
        "tape", graph_attr=dict(rankdir="TB", nodesep="0.2", ranksep="0.12", fontname=_FONT,
                                bgcolor="white"),
        node_attr=dict(fontname=_FONT, fontsize="12", shape="plaintext", fontcolor=text),
        edge_attr=dict(color=BROWN, arrowsize="0.7", dir="back"))
    columns = [k for k, h in enumerate(wengert.HEADERS)
               if h != "params" or any(row[k] for row in table)]
    # every row is its own node: fixed column widths (from the longest cell, and the "#"
    # the position gets) line them up
    width = {k: 14 + 7 * (max(len(wengert.HEADERS[k]), *(len(row[k]) for row in table), 1)
                          + (k == 0)) for k in columns}
    head = "".join(f'<TD WIDTH="{width[k]}" ALIGN="LEFT"><B>{wengert.HEADERS[k]}</B></TD>'
                   for k in columns)
    g.node("head", label=f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4">'
                         f"<TR>{head}</TR></TABLE>>")
    prev = "head"
    for rec, row in zip(records, table):
        shown = list(map(_h, row))
        shown[0] = f"<B>#{shown[0]}</B>"
        shown[3] = ", ".join(_font(cells.edge(e), _input_colour(e)) for e in rec.edges()) or "-"
        shown[5] = shown[5].replace("stale)", f"{_font('stale', RED)})")
        tds = "".join(f'<TD WIDTH="{width[k]}" ALIGN="LEFT">{shown[k] or " "}</TD>'
                      for k in columns[1:])
        tds = f'<TD PORT="pos" WIDTH="{width[0]}" ALIGN="RIGHT">{shown[0]}</TD>' + tds
        g.node(f"r{rec.pos}", label=f'<<TABLE BORDER="1" COLOR="{line}" CELLBORDER="0" '
                                    f'CELLSPACING="0" CELLPADDING="4" BGCOLOR="{fill}" '
                                    f'STYLE="rounded"><TR>{tds}</TR></TABLE>>')
        g.edge(prev, f"r{rec.pos}", style="invis", weight="100")
        prev = f"r{rec.pos}"
    for rec in records:
        for e in rec.edges():
            if e is not None and type(e[0]) is Record:
                # from the producer down to the consumer (so dot keeps tape order), drawn
                # pointing back up: where the input came from, where its gradient will go
                g.edge(f"r{e[0].pos}:pos:w", f"r{rec.pos}:pos:w")
    return g


def _input_colour(edge) -> str | None:
    """Green for a leaf's AccumulateGrad, grey for no gradient, plain for a record."""
    if edge is None:
        return GREY
    return GREEN if type(edge[0]) is AccumulateGrad else None
