"""tape.viz: the backward graph drawn as the tutorial draws it (issue 7).

The drawings are checked as DOT structure (node labels, edge labels, colours), never as
pixels; rendering is checked only where the Graphviz program `dot` is installed.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import sys
import warnings
from collections import Counter

import numpy as np
import pytest
import torch
from helpers import big_example, kind

import tape
from tape import tour, viz  # imports without graphviz: only drawing needs it
from tape.recording import FREED

needs_graphviz = pytest.mark.skipif(importlib.util.find_spec("graphviz") is None,
                                    reason='needs pip install "tape[viz]"')
needs_dot = pytest.mark.skipif(shutil.which("dot") is None or importlib.util.find_spec(
    "graphviz") is None, reason="needs Graphviz's dot program")


# ---------------------------------------------------------------------------------------
# Reading DOT back: statements of the graphviz package's output


def _attrs(text: str) -> dict[str, str]:
    """`key=value ...` with values bare, "quoted" or <HTML> (nested angle brackets)."""
    out, i, n = {}, 0, len(text)
    while i < n:
        m = re.compile(r"\s*(\w+)=").match(text, i)
        if not m:
            break
        key, i = m.group(1), m.end()
        if text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out[key], i = text[i + 1:j].replace('\\"', '"'), j + 1
        elif text[i] == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out[key], i = text[i + 1:j - 1], j
        else:
            m = re.compile(r"[^\s\]]+").match(text, i)
            out[key], i = m.group(0), m.end()
    return out


class Dot:
    """The nodes and edges of a Digraph: {id: attrs} and [(tail, head, attrs)]."""

    def __init__(self, g):
        self.nodes: dict[str, dict] = {}
        self.edges: list[tuple[str, str, dict]] = []
        for line in g.body:
            line = line.strip()
            m = re.match(r"^(\S+) -> (\S+)(?: \[(.*)\])?$", line, flags=re.S)
            if m:
                self.edges.append((m.group(1), m.group(2), _attrs(m.group(3) or "")))
                continue
            m = re.match(r"^(\w+) \[(.*)\]$", line, flags=re.S)
            if m:
                self.nodes[m.group(1)] = _attrs(m.group(2))

    def text(self, node_id: str) -> str:
        """A node's label as plain text (tags dropped, entities decoded, rows on lines)."""
        label = self.nodes[node_id].get("label", "")
        label = re.sub(r"</TR>", "\n", label.replace("</TD>", " </TD>"))
        text = html.unescape(re.sub(r"<[^>]+>", "", label))
        return "\n".join(line.strip() for line in text.split("\n"))

    def find(self, pattern: str) -> list[str]:
        """Ids of the nodes whose label text matches `pattern` (a regex)."""
        return [k for k in self.nodes if re.search(pattern, self.text(k))]

    def box(self, name: str) -> str:
        """The id of the tensor box titled `name`."""
        found = [k for k in self.nodes if self.text(k).split("\n")[0] == name
                 and "requires_grad:" in self.text(k)]
        assert len(found) == 1, (name, found)
        return found[0]

    def fields(self, name: str) -> dict[str, str]:
        rows = self.text(self.box(name)).split("\n")[1:]
        return dict(r.split(": ", 1) for r in rows if ": " in r)

    def edges_to(self, head: str) -> list[tuple[str, str, dict]]:
        return [e for e in self.edges if e[1] == head]


def _edge_label(attrs: dict) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", attrs.get("label", ""))).split()


def _arrows(d: Dot):
    """next_functions edges as (node, next node, output index) by kind: dot's edges run from
    the upper end down with dir=back (NOTE [edges point up] in viz.py)."""
    out = []
    for tail, head, a in d.edges:
        if a.get("dir") == "back" and tail[0] in "ar" and head[0] == "r":
            upper = d.text(tail).split("\n")[0].split()[0]
            lower = d.text(head).split("\n")[0].split()[0]
            out.append((lower, upper, int(_edge_label(a)[0])))
        elif a.get("dir") == "back" and tail.startswith("none"):
            out.append((d.text(head).split("\n")[0].split()[0], None, 0))
    return Counter(out)


# ---------------------------------------------------------------------------------------
# The tutorial's examples, written once for tape and torch


def unbind_example(mod):
    a = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * c * d
    return dict(a=a, b=b, c=c, d=d, e=e)


def torch_arrows(root) -> Counter:
    """The same (node, next node, index) count read from torch's own graph."""
    out, seen, stack = Counter(), set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for nxt, idx in node.next_functions:
            out[(kind(node), kind(nxt), idx)] += 1
            stack.append(nxt)
    return out


# ---------------------------------------------------------------------------------------
# draw


@needs_graphviz
def test_big_example_boxes_nodes_and_colours():
    t = big_example(tape)
    d = Dot(viz.draw(t["k"], names=t))
    # every tensor of the example is a box with the tutorial's fields
    for name, (data, leaf, rg) in dict(a=("2.", True, False), c=("4.", True, True),
                                       h=("2.", True, True), e=("8.", False, True),
                                       k=("80.", False, True)).items():
        f = d.fields(name)
        assert f["data"] == data and f["grad"] == "None"
        assert f["is_leaf"] == str(leaf) and f["requires_grad"] == str(rg)
    assert d.fields("k")["grad_fn"] == "MulBackward0" and d.fields("c")["grad_fn"] == "None"
    # colours: green leaves on the graph, yellow leaves off it, brown nodes
    for name in "ch":
        assert d.nodes[d.box(name)]["label"].count(viz.PALETTE["leaf"][0]) == 1
    for name in "abdf":
        assert viz.PALETTE["dried"][0] in d.nodes[d.box(name)]["label"]
    for name in "egijk":
        assert viz.PALETTE["tensor"][0] in d.nodes[d.box(name)]["label"]
    nodes = d.find(r"^(\w+Backward\d|AccumulateGrad)")
    assert sorted(d.text(n).split()[0] for n in nodes) == [
        "AccumulateGrad", "AccumulateGrad", "AddBackward0", "DivBackward0", "MulBackward0",
        "MulBackward0", "MulBackward0"]
    assert all(d.nodes[n]["fillcolor"] == viz.PALETTE["node"][0] for n in nodes)
    assert all(d.nodes[n]["color"] == viz.BROWN for n in nodes)


@needs_graphviz
def test_big_example_edges_match_torch():
    """Every next_functions edge, with its output index, as torch's graph has it."""
    t = big_example(tape)
    d = Dot(viz.draw(t["k"], names=t))
    assert _arrows(d) == torch_arrows(big_example(torch)["k"])
    # where the forward graph splits, the backward graph converges: h's AccumulateGrad has
    # two incoming edges, and i's node gets gradients from add and mul
    acc_h = [e[0] for e in d.edges if e[1] == d.box("h") and "variable" in _edge_label(e[2])]
    assert len(acc_h) == 1
    assert len([e for e in d.edges if e[0] == acc_h[0] and e[2].get("dir") == "back"]) == 2
    div = d.find(r"^DivBackward0")[0]
    assert len([e for e in d.edges if e[0] == div and e[1][0] == "r"]) == 2
    # brown arrows labelled with the output index
    for _, _, a in d.edges:
        if a.get("color") == viz.BROWN and a.get("style") != "dotted":
            assert _edge_label(a) == ["0"]


@needs_graphviz
def test_grad_fn_and_variable_edges():
    t = big_example(tape)
    d = Dot(viz.draw(t["k"], names=t))
    k_node = d.find(rf"^MulBackward0 #{t['k'].grad_fn.position}")[0]
    assert (k_node, d.box("k")) in [(e[0], e[1]) for e in d.edges]  # k's grad_fn field
    for leaf in "ch":
        into = [e for e in d.edges_to(d.box(leaf)) if "variable" in _edge_label(e[2])]
        assert len(into) == 1 and d.text(into[0][0]).startswith("AccumulateGrad")
        assert into[0][2]["color"] == viz.GREEN
    # off-graph leaves saved by a node are tied to it by a dotted arrow (ctx.saved_tensors)
    for leaf in "df":
        dotted = [e for e in d.edges if e[0] == d.box(leaf) and e[2].get("style") == "dotted"]
        assert len(dotted) == 1 and d.text(dotted[0][1]).startswith("MulBackward0")
    # a and b were never recorded (c = a * b needed no grad): drawn, tied to nothing
    for leaf in "ab":
        assert not [e for e in d.edges if d.box(leaf) in (e[0], e[1])]


@needs_graphviz
def test_none_inputs_are_drawn():
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(3.0)
    c = a * b
    d = Dot(viz.draw(c, names=dict(a=a, b=b, c=c)))
    nones = [k for k in d.nodes if d.text(k) == "None"]
    assert len(nones) == 1
    assert _arrows(d) == Counter({("MulBackward0", "AccumulateGrad", 0): 1,
                                  ("MulBackward0", None, 0): 1})


@needs_graphviz
def test_saved_values_versions_and_freed():
    t = big_example(tape)
    d = Dot(viz.draw(t["k"], names=t))
    div = d.text(d.find(r"^DivBackward0")[0])
    assert "self = g@v0" in div and "other = h@v0" in div
    e_node = d.text(d.find(rf"^MulBackward0 #{t['e'].grad_fn.position}")[0])
    assert "self: not saved" in e_node and "other = d@v0" in e_node  # mul saves only what it needs
    assert "self" not in d.text(d.find(r"^AddBackward0")[0])  # add saves nothing
    # show_saved=False: names only
    plain = Dot(viz.draw(t["k"], names=t, show_saved=False))
    assert plain.text(plain.find(r"^DivBackward0")[0]).strip() == \
        f"DivBackward0 #{t['i'].grad_fn.position}"
    assert not [e for e in plain.edges if e[2].get("style") == "dotted"]
    t["k"].backward()
    d = Dot(viz.draw(t["k"], names=t))
    assert "saved: <freed>" in d.text(d.find(r"^DivBackward0")[0])
    assert d.fields("c")["grad"] == "36." and d.fields("h")["grad"] == "-64."
    assert viz.BLUE in d.nodes[d.box("c")]["label"]  # gradients are blue


@needs_graphviz
def test_stale_saved_value_is_marked():
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(3.0, requires_grad=True)
    c = a * b
    dd = tape.tensor(4.0, requires_grad=True)
    e = c * dd
    c += 1
    d = Dot(viz.draw(e, c, names=dict(a=a, b=b, c=c, d=dd, e=e)))
    node = d.find(rf"^MulBackward0 #{e.grad_fn.position}")[0]
    assert "self = c@v0 (now v1: stale)" in d.text(node)
    assert f'COLOR="{viz.RED}"' in d.nodes[node]["label"]
    assert d.fields("c")["_version"] == "1"
    red = [e_ for e_ in d.edges if e_[0] == d.box("c") and e_[1] == node]
    assert len(red) == 1 and red[0][2]["color"] == viz.RED and red[0][2]["style"] == "dotted"


@needs_graphviz
def test_unbind_output_indices_and_views():
    t = unbind_example(tape)
    d = Dot(viz.draw(t["e"], names=t))
    assert _arrows(d) == torch_arrows(unbind_example(torch)["e"])
    unbind = d.find(r"^UnbindBackward0")[0]
    into = sorted(_edge_label(a)[0] for tail, head, a in d.edges
                  if tail == unbind and head[0] == "r")
    assert into == ["0", "1", "2"]
    # b, c, d are views of a: dashed arrows to their base
    for name in "bcd":
        base = [e for e in d.edges if e[0] == d.box(name) and _edge_label(e[2]) == ["_base"]]
        assert len(base) == 1 and base[0][1] == d.box("a") and base[0][2]["style"] == "dashed"
        assert d.fields(name)["grad_fn"] == "UnbindBackward0"


@needs_graphviz
def test_detach_shares_storage():
    t = big_example(tape)
    m = t["k"].detach()
    d = Dot(viz.draw(t["k"], names={**t, "m": m}))
    same = [e for e in d.edges if _edge_label(e[2]) == ["same", "storage"]]
    assert [(e[0], e[1]) for e in same] == [(d.box("k"), d.box("m"))]
    assert viz.PALETTE["dried"][0] in d.nodes[d.box("m")]["label"]


@needs_graphviz
def test_names_forms_and_unnamed():
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 2).sum()
    # no names: a record's output is titled by its position, a leaf as a leaf
    d = Dot(viz.draw(y))
    assert d.box(f"#{y.grad_fn.position}")
    assert d.box("leaf")
    # {tensor: name} and {name: tensor} both work
    for names in ({a: "a", y: "y"}, {"a": a, "y": y}):
        d = Dot(viz.draw(y, names=names))
        assert d.fields("a")["data"] == "[1., 2.]" and d.fields("y")["data"] == "6."


@needs_graphviz
def test_copy_slices_and_plain_leaf():
    base = tape.zeros(3)
    a = tape.tensor(2.0, requires_grad=True)
    base[1:].mul_(a)
    d = Dot(viz.draw(base, names=dict(base=base, a=a)))
    assert d.find(r"^CopySlices")
    x = tape.tensor(1.0)
    d = Dot(viz.draw(x, names=dict(x=x)))
    assert list(d.nodes) == [d.box("x")] and not d.edges


@needs_graphviz
def test_draw_changes_nothing():
    t = big_example(tape)
    before = len(tape.TAPE)
    viz.draw(t["k"], names=t, show_grads=True)
    assert len(tape.TAPE) == before
    assert t["c"]._grad is None and t["h"]._grad is None
    t["k"].backward()
    assert t["c"].grad.item() == 36.0 and t["h"].grad.item() == -64.0


def test_bad_arguments():
    with pytest.raises(TypeError):
        viz.draw()
    with pytest.raises(TypeError):
        viz.draw(np.ones(2))


def test_missing_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    a = tape.tensor(2.0, requires_grad=True)
    with pytest.raises(ImportError, match=r'pip install "tape\[viz\]"'):
        viz.draw(a * 2)


# ---------------------------------------------------------------------------------------
# steps: the backward pass as frames


def _blue_edges(d: Dot) -> list[str]:
    """The gradient values on blue edges (the last word of each label)."""
    return sorted(_edge_label(a)[-1] for _, _, a in d.edges if a.get("color") == viz.BLUE)


@needs_graphviz
def test_steps_play_the_tutorials_backward_pass():
    t = big_example(tape)
    t["i"].retain_grad()
    frames = list(viz.steps(t["k"], names=t))
    titles = [f.graph_attr["label"] for f in frames]
    # the seed, then one step per node: 5 records and 2 AccumulateGrads, highest position first
    assert len(frames) == 8
    assert titles[0].startswith("start: k.backward(): the gradient 1. enters MulBackward0")
    assert titles[1].startswith("step 1 of 7: MulBackward0")
    assert "sends 8. to AddBackward0" in titles[1] and "10. to DivBackward0" in titles[1]
    assert "DivBackward0" in titles[3] and "gets 18." in titles[3]  # 8 + 10 converge on i
    assert titles[4] == "step 4 of 7: AccumulateGrad stores h.grad = -64."
    assert titles[7] == "step 7 of 7: AccumulateGrad stores c.grad = 36."
    first, last = Dot(frames[0]), Dot(frames[-1])
    assert _blue_edges(first) == ["1."]  # only the seed so far
    # every gradient sent, on its edge, in blue (the tutorial's "slowly pass it up")
    assert _blue_edges(last) == sorted(
        ["1.", "8.", "10.", "8.", "8.", "9.", "-72.", "-64.", "18.", "36.", "36."])
    assert last.fields("c")["grad"] == "36." and last.fields("h")["grad"] == "-64."
    assert last.fields("i")["grad"] == "18."  # retained
    assert first.fields("c")["grad"] == "None"
    # the running node is outlined in blue
    current = [k for k, a in Dot(frames[3]).nodes.items() if a.get("color") == viz.BLUE]
    assert [Dot(frames[3]).text(k).split()[0] for k in current] == ["DivBackward0"]


@needs_graphviz
def test_steps_change_nothing_and_backward_still_works():
    t = big_example(tape)
    t["i"].retain_grad()
    calls = []
    t["h"].register_hook(lambda g: calls.append("tensor"))
    t["i"].grad_fn.register_hook(lambda gi, go: calls.append("node"))
    records = tape.wengert.records_for(t["k"])
    frames = list(viz.steps(t["k"], names=t))
    list(viz.steps(t["k"], names=t))  # twice: saved values were kept
    assert len(frames) == 8
    assert all(r.saved is not FREED for r in records)
    assert t["c"]._grad is None and t["h"]._grad is None and t["i"]._grad is None
    assert calls == []  # a drawing runs no hooks
    t["k"].backward()
    assert (t["c"].grad.item(), t["h"].grad.item(), t["i"].grad.item()) == (36.0, -64.0, 18.0)
    assert sorted(calls) == ["node", "tensor"]


@needs_graphviz
def test_steps_accumulate_onto_existing_grads_and_seed():
    a = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * a
    y.sum().backward(retain_graph=True)  # a.grad = 2a
    frames = list(viz.steps(y, tape.tensor([1.0, 0.0, 1.0]), names=dict(a=a, y=y)))
    # what backward would leave: 2a + 2a * [1, 0, 1]
    assert Dot(frames[-1]).fields("a")["grad"] == "[ 4., 4., 12.]"
    assert a.grad.tolist() == [2.0, 4.0, 6.0]


@needs_graphviz
@pytest.mark.parametrize("hooked", [False, True])
def test_steps_run_the_sinks_when_backward_does(hooked):
    """With a hook registered, backward runs a's sink before b's, as torch does, and the
    steps show that order; without, the sinks run by position, b's (made later) first."""
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(3.0, requires_grad=True)
    y = a * b
    ran = []
    if hooked:
        for name, t in (("a", a), ("b", b)):
            t.register_post_accumulate_grad_hook(lambda t, name=name: ran.append(name))
    titles = [f.graph_attr["label"] for f in viz.steps(y, names=dict(a=a, b=b, y=y))]
    stores = [t.split("stores ")[1][0] for t in titles if "stores" in t]
    assert stores == (["a", "b"] if hooked else ["b", "a"])
    y.backward()
    assert ran == (["a", "b"] if hooked else [])


@needs_graphviz
def test_steps_raise_where_backward_would():
    t = big_example(tape)
    t["k"].backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        viz.steps(t["k"])
    a = tape.tensor(2.0, requires_grad=True)
    c = a * a
    e = c * c
    c += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        viz.steps(e)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        viz.steps(tape.tensor([1.0, 2.0], requires_grad=True) * 2)


@needs_graphviz
def test_show_grads_is_the_last_step():
    t = unbind_example(tape)
    d = Dot(viz.draw(t["e"], names=t, show_grads=True))
    last = Dot(list(viz.steps(t["e"], names=t, show_saved=True))[-1])
    assert _blue_edges(d) == _blue_edges(last)
    assert d.fields("a")["grad"] == "[6., 3., 2.]"
    assert "2." in _blue_edges(d) and "3." in _blue_edges(d) and "6." in _blue_edges(d)
    assert t["a"].grad is None


# ---------------------------------------------------------------------------------------
# draw_tape: the Wengert list, drawn


@needs_graphviz
def test_draw_tape_rows_and_arrows():
    t = big_example(tape)
    d = Dot(viz.draw_tape(t["k"], names=t))
    records = tape.wengert.records_for(t["k"])
    rows = [k for k in d.nodes if k != "head"]
    assert rows == [f"r{r.pos}" for r in records]  # tape order
    assert d.text(f"r{records[2].pos}").split()[:3] == [f"#{records[2].pos}", "div",
                                                        "DivBackward0"]
    arrows = [(e[0].split(":")[0], e[1].split(":")[0]) for e in d.edges
              if e[2].get("style") != "invis"]
    # one arrow per input that came from a record: producer -> consumer, drawn pointing up
    expected = [(f"r{n.pos}", f"r{r.pos}") for r in records for n in r.inputs
                if type(n) is tape.recording.Record]
    assert sorted(arrows) == sorted(expected)
    assert f'<FONT COLOR="{viz.GREEN}">leaf(h)</FONT>' in d.nodes[f"r{records[2].pos}"]["label"]


# ---------------------------------------------------------------------------------------
# Rendering (needs dot)


@needs_dot
def test_render_svg_and_png(tmp_path):
    t = big_example(tape)
    g = viz.draw(t["k"], names=t)
    svg = g.pipe(format="svg").decode()
    assert "DivBackward0" in svg and "requires_grad: True" in svg
    out = g.render(tmp_path / "k", format="png", cleanup=True)
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@needs_dot
def test_animate_html_page(tmp_path):
    t = big_example(tape)
    path = viz.animate(t["k"], tmp_path / "k.html", names=t)
    page = path.read_text()
    assert page.count('class="frame"') == 8 and 'max="7"' in page
    assert page.count("<svg") == 8 and "<?xml" not in page
    assert "<script src" not in page and "http" not in page.split("<svg")[0]  # self-contained
    ids = re.findall(r'\bid="([^"]+)"', page)
    svg_ids = [i for i in ids if i.startswith("f")]
    assert len(svg_ids) == len(set(svg_ids))  # frames do not clash
    assert "step 4 of 7: AccumulateGrad stores h.grad = -64." in html.unescape(page)
    t["k"].backward()  # still possible: nothing was freed
    assert t["h"].grad.item() == -64.0


@needs_dot
def test_animate_gif(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    a = tape.tensor(2.0, requires_grad=True)
    c = a * 3.0
    path = viz.animate(c, tmp_path / "c.gif", names=dict(a=a, c=c), seconds=0.5)
    with Image.open(path) as im:  # the seed, MulBackward0, AccumulateGrad
        assert im.format == "GIF" and im.n_frames == 3


# ---------------------------------------------------------------------------------------
# The tour's --draw


@needs_graphviz
def test_tour_draw_writes_dot_source_without_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tour.shutil, "which", lambda name: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tour.main(["--only", "4", "--draw", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "4-unbind-after-backward.gv", "4-unbind.gv"]
    assert "UnbindBackward0" in (tmp_path / "4-unbind.gv").read_text()
    assert "holds DOT source (.gv) only" in out


@needs_dot
def test_tour_draw_renders_pictures_and_pages(tmp_path, capsys):
    # examples 3 and 4 (all of them: about 7 s, run by hand to redraw docs/images/tour)
    assert tour.main(["--only", "3", "--only", "4", "--draw", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    for stem in ("3-inplace-stale", "3-add-saves-nothing", "4-unbind", "4-unbind-after-backward"):
        assert {f"{stem}.svg", f"{stem}.png"} <= names, stem
    assert "4-unbind-backward.html" in names and len(names) == 9
    out = capsys.readouterr().out
    assert "!! example" not in out and f"drawn: {tmp_path}/4-unbind.svg" in out


def test_tour_draw_without_graphviz_says_how_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(SystemExit) as exit_:
        tour.main(["--draw", str(tmp_path / "pictures")])
    assert exit_.value.code == 2
    assert 'pip install "tape[viz]"' in capsys.readouterr().err
    assert not (tmp_path / "pictures").exists()


@pytest.mark.parametrize("roots", [
    lambda x: (x.exp(),), lambda x: (x.exp(), x * 3), lambda x: ((x * x).sum(), x[0] * 2),
], ids=["one non-scalar root", "two non-scalar roots", "a scalar and a 0-d root"])
def test_draw_show_grads_seeds_every_root_with_ones(roots):
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    rs = roots(x)
    src = viz.draw(*rs, show_grads=True).source
    tape.autograd.backward(rs, [tape.ones_like(r) for r in rs])
    for v in x.grad.tolist():  # the leaf's gradient drawn is the one backward stores
        assert f"{v:.4f}".rstrip("0") in src
