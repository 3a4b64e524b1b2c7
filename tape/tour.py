"""A guided tour of autograd on the tape: `python -m tape.tour`.

Walks every example of Elliot Waite's "PyTorch Autograd Explained" tutorial in order and, for
each, runs the tutorial's code (printed REPL-style, so what is shown is what ran) and shows:
the tensors as the tutorial's boxes (data, grad, grad_fn, is_leaf, requires_grad); the
backward graph as a tree from the root's grad_fn along `next_functions`, with the output
index on every edge; and the Wengert list behind it (`tape.wengert`), the records the graph
view is reconstructed from.

Plain text; box-drawing characters when stdout can encode them (else ASCII, or `--ascii`),
and the tutorial's colours (brown nodes, green leaves on the graph, yellow leaves off it,
blue gradients) only when stdout is a terminal (or `--color always`).

`--draw DIR` also draws each example's graph with `tape.viz` into DIR, as the tutorial's
diagrams: SVG and PNG when the Graphviz program `dot` is installed (plus an HTML page
stepping through the backward pass, for the examples that run one), else the DOT source
(`.gv`). Needs `pip install "tape[viz]"`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
import traceback
import warnings

import tape
from tape import wengert
from tape.graph import AccumulateGrad
from tape.tensor import Tensor

# ---------------------------------------------------------------------------------------
# Output style: glyphs and colours


UNICODE = dict(h="─", v="│", tl="┌", tr="┐", bl="└", br="┘", tee="├", last="└", arrow="→", rule="═")
ASCII = dict(h="-", v="|", tl="+", tr="+", bl="+", br="+", tee="|", last="`", arrow=">", rule="=")

# 256-colour codes for the tutorial's palette
COLOURS = dict(brown="38;5;130", green="38;5;34", yellow="38;5;178", blue="38;5;33",
               dim="2", bold="1", red="38;5;160")


class Style:
    def __init__(self, ascii_only: bool, colour: bool, width: int):
        self.g = ASCII if ascii_only else UNICODE
        self.colour = colour
        self.width = width

    def paint(self, text: str, colour: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{COLOURS[colour]}m{text}\x1b[0m"


def _can_encode(stream, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


# ---------------------------------------------------------------------------------------
# The pieces shown for each example


def _field(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        return wengert.short_value(value)
    return str(value)


def box(name: str, t: Tensor, s: Style) -> tuple[list[str], int]:
    """One tensor as the tutorial draws it: its autograd fields in a box. (lines, width)"""
    fn = t.grad_fn
    rows = [("data", _field(t)), ("grad", _field(t.grad)),
            ("grad_fn", "None" if fn is None else f"<{type(fn).__name__}>"),
            ("is_leaf", str(t.is_leaf)), ("requires_grad", str(t.requires_grad))]
    label_w = max(len(k) for k, _ in rows)
    value_w = max(len(v) for _, v in rows)
    inner = max(label_w + 1 + value_w, len(name) + 3)
    width = inner + 4
    # the box's colour says what kind of tensor it is, as in the tutorial's diagrams
    kind = None if not t.is_leaf else ("green" if t.requires_grad else "yellow")
    g = s.g

    def edge(text: str) -> str:
        return s.paint(text, kind) if kind else text

    title = f"{g['h']} {name} "
    lines = [edge(g["tl"] + title + g["h"] * (width - 2 - len(title)) + g["tr"])]
    for key, value in rows:
        shown = s.paint(value, "blue") if key == "grad" and value != "None" else value
        pad = inner - label_w - 1 - len(value)
        lines.append(f"{edge(g['v'])} {key.ljust(label_w)} {shown}{' ' * pad} {edge(g['v'])}")
    lines.append(edge(g["bl"] + g["h"] * (width - 2) + g["br"]))
    return lines, width


def boxes(named: list[tuple[str, Tensor]], s: Style) -> list[str]:
    """Boxes side by side, as many per row as fit the page."""
    out, row, used = [], [], 0
    for name, t in named:
        b = box(name, t, s)
        if row and used + 2 + b[1] > s.width:
            out += _join(row)
            row, used = [], 0
        row.append(b)
        used += b[1] + (2 if used else 0)
    if row:
        out += _join(row)
    return out


def _join(row) -> list[str]:
    return ["  ".join(b[0][i] for b in row) for i in range(len(row[0][0]))]


def _node_label(node, names: dict[int, str]) -> str:
    """Which tensors a node stands for: the leaf of an AccumulateGrad, a record's outputs."""
    if isinstance(node, AccumulateGrad):
        leaf = node.variable
        return names.get(id(leaf)) or wengert.short_value(leaf)
    rec = node.record
    labels = []
    for i, ref in enumerate(rec.out_refs()):
        t = ref()
        name = names.get(id(t)) if t is not None else None
        if name and (t._rec is not rec or t._idx != i):
            name += " before its in-place change"
        if name:
            labels.append(name)
    return ", ".join(labels)


def tree(root: Tensor, names: dict[int, str], s: Style) -> list[str]:
    """The backward graph from `root.grad_fn`, along next_functions, as an indented tree.

    The graph is a DAG: a node reached a second time is named again but not expanded, so
    where the forward graph splits (h used twice, i used twice) the convergence shows.
    """
    g = s.g
    fn = root.grad_fn
    if fn is None:
        return ["(no backward graph: grad_fn is None)"]

    def text(node) -> str:
        kind = type(node).__name__
        label = _node_label(node, names)
        colour = "green" if isinstance(node, AccumulateGrad) else "brown"
        # a record's position ties the tree to the table; AccumulateGrad is not a record
        pos = "" if isinstance(node, AccumulateGrad) else s.paint(f"  #{node.position}", "dim")
        return s.paint(kind, colour) + (f" ({label})" if label else "") + pos

    lines = [text(fn)]
    seen = {id(fn)}

    def walk(node, prefix: str) -> None:
        nf = node.next_functions
        for k, (child, idx) in enumerate(nf):
            last = k == len(nf) - 1
            branch = g["last"] if last else g["tee"]
            edge = f"{branch}{g['h']}({idx}){g['arrow']} "
            if child is None:
                lines.append(f"{prefix}{edge}None  (input {k} needs no gradient)")
                continue
            again = id(child) in seen
            lines.append(prefix + edge + text(child) + ("  (same node as above)" if again else ""))
            if not again:
                seen.add(id(child))
                # children line up under their parent's name
                walk(child, prefix + (" " if last else g["v"]) + " " * (len(edge) - 1))

    walk(fn, "")
    return lines


# ---------------------------------------------------------------------------------------
# Running an example


class Tour:
    """Runs code REPL-style in one namespace and shows the state it leaves."""

    def __init__(self, s: Style, draw_dir: str | None = None):
        self.s = s
        self.ns: dict = {}
        self.number = 0
        self.draw_dir = draw_dir
        self.dot = draw_dir is not None and shutil.which("dot") is not None
        self.fresh()

    def fresh(self) -> None:
        self.ns = {"tape": tape}

    def names(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for k, v in self.ns.items():
            if isinstance(v, Tensor) and not k.startswith("_"):
                out.setdefault(id(v), k)
        return out

    def heading(self, number: int, title: str) -> None:
        self.number = number
        rule = self.s.g["rule"] * min(self.s.width, 96)
        print()
        print(rule)
        print(self.s.paint(f" {number}. {title}", "bold"))
        print(rule)

    def sub(self, title: str) -> None:
        print()
        print(self.s.paint(f"-- {title}", "bold"))

    def say(self, text: str) -> None:
        print()
        print(textwrap.fill(" ".join(text.split()), width=min(self.s.width, 96)))

    def code(self, *lines: str, raises: type[BaseException] | None = None) -> None:
        """Run each line, printing it as `>>> line` and an expression's value as the REPL would.

        With `raises`, the last line must raise it (the tutorial's errors are part of the
        lesson); its message is printed instead of a value.
        """
        print()
        for line in lines:
            print(">>> " + line)
            try:
                try:
                    compiled = compile(line, "<tour>", "eval")
                except SyntaxError:
                    exec(compile(line, "<tour>", "exec"), self.ns)
                else:
                    value = eval(compiled, self.ns)
                    # unlike the REPL, show a None that was asked for (`b.grad`), not a call's
                    if value is not None or not line.endswith(")"):
                        print(repr(value))
            except Exception as exc:
                if raises is None or not isinstance(exc, raises):
                    raise
                message = textwrap.fill(f"{type(exc).__name__}: {exc}", width=min(self.s.width, 96),
                                        subsequent_indent="    ")
                print(self.s.paint(message, "red"))
            else:
                if raises is not None and line == lines[-1]:
                    raise AssertionError(f"expected {raises.__name__} from {line!r}")

    def boxes(self, *var_names: str) -> None:
        print()
        for line in boxes([(n, self.ns[n]) for n in var_names], self.s):
            print(line)

    def graph(self, root: str) -> None:
        print()
        print(f"the backward graph from {root}.grad_fn:")
        for line in tree(self.ns[root], self.names(), self.s):
            print("  " + line)

    def draw(self, stem: str, *roots: str, title: str, as_tape: bool = False) -> None:
        """With --draw: the graph behind `roots` as a picture in the tutorial's colours
        (tape.viz.draw), or as the Wengert list (tape.viz.draw_tape). Writes <n>-<stem>.svg
        and .png, or .gv without dot."""
        if self.draw_dir is None:
            return
        from tape import viz

        drawing = viz.draw_tape if as_tape else viz.draw
        dg = drawing(*(self.ns[r] for r in roots), names=self.tensors())
        dg.attr(label=f"{self.number}. {title}", labelloc="t", fontsize="18")
        base = os.path.join(self.draw_dir, f"{self.number}-{stem}")
        if self.dot:
            written = [f"{base}.svg", f"{base}.png"]
            for path in written:
                with open(path, "wb") as out:
                    out.write(dg.pipe(format=path[-3:]))
        else:
            with open(f"{base}.gv", "w", encoding="utf-8") as out:
                out.write(dg.source)
            written = [f"{base}.gv"]
        print()
        print(self.s.paint("drawn: " + ", ".join(written), "dim"))

    def animate(self, stem: str, root: str) -> None:
        """With --draw and dot: the backward pass from `root`, one node per frame, as an HTML
        page with a slider (tape.viz.animate). Nothing runs for real."""
        if not self.dot:
            return
        from tape import viz

        path = os.path.join(self.draw_dir, f"{self.number}-{stem}.html")
        viz.animate(self.ns[root], path, names=self.tensors(),
                    title=f"{self.number}. {root}.backward(), one node at a time")
        print()
        print(self.s.paint(f"drawn: {path} (the backward pass, step by step)", "dim"))

    def tensors(self) -> dict[str, Tensor]:
        return {k: v for k, v in self.ns.items() if isinstance(v, Tensor) and not k.startswith("_")}

    def table(self, *roots: str, title: str | None = None) -> None:
        print()
        text = wengert.table(*(self.ns[r] for r in roots), names=self.names(), title=title)
        for line in text.splitlines():
            print("  " + line)


# ---------------------------------------------------------------------------------------
# The examples, in the tutorial's order


def single_multiply(t: Tour) -> None:
    t.say("""Each tensor carries data, grad, grad_fn, is_leaf and requires_grad. Because a
        requires grad, c = a * b is part of a graph: it is not a leaf, and its grad_fn is the
        MulBackward0 node that will run backward, using the inputs multiply saved.""")
    t.code("a = tape.tensor(2.0, requires_grad=True)", "b = tape.tensor(3.0)", "c = a * b")
    t.boxes("a", "b", "c")
    t.say("""next_functions has one (node, output index) pair per input: AccumulateGrad for a,
        which will store a's gradient, and None for b, which needs no gradient. On the tape,
        mul saved only b (the value a's gradient needs).""")
    t.code("c.grad_fn", "c.grad_fn.next_functions")
    t.graph("c")
    t.table("c")
    t.draw("single-multiply", "c", title="c = a * b")
    t.say("""c.backward() starts with a gradient of 1; MulBackward0 multiplies it by b's value 3
        and AccumulateGrad stores it in a.grad. b gets nothing.""")
    t.code("c.backward()", "a.grad", "b.grad")
    t.boxes("a", "b", "c")
    t.draw("single-multiply-after-backward", "c", title="after c.backward()")

    t.sub("when no input requires grad")
    t.fresh()
    t.say("""If no input requires grad, no graph is made: the output is a leaf, does not require
        grad and has no grad_fn. Nothing is written on the tape.""")
    t.code("a = tape.tensor(2.0)", "b = tape.tensor(3.0)", "c = a * b")
    t.boxes("a", "b", "c")
    t.table("c")
    t.draw("no-graph", "c", title="no input requires grad: no graph")


def deeper_graph(t: Tour) -> None:
    t.say("""With a and b requiring grad, c = a * b and e = c * d make two MulBackward0 nodes.
        e's first next function is c's node itself: c is not a leaf, so its gradient goes
        straight on to the node that produced it.""")
    t.code("a = tape.tensor(2.0, requires_grad=True)", "b = tape.tensor(3.0, requires_grad=True)",
           "c = a * b", "d = tape.tensor(4.0, requires_grad=True)", "e = c * d",
           "e.grad_fn.next_functions[0][0] is c.grad_fn")
    t.graph("e")
    t.table("e")
    t.draw("deeper-graph", "e", title="e = (a * b) * d")
    t.animate("deeper-graph-backward", "e")
    t.say("""e.backward(): the outer node saw 4 and 6, so d gets 6 and c's node gets 4; that 4
        times 3 goes to a and times 2 to b.""")
    t.code("e.backward()", "a.grad", "b.grad", "d.grad")
    t.boxes("a", "b", "c", "d", "e")

    t.sub("backward from an intermediate tensor")
    t.fresh()
    t.say("""Backward can start from c too. retain_graph=True keeps the saved values, so a later
        e.backward() can run through c's node again; gradients accumulate in the leaves.""")
    t.code("a = tape.tensor(2.0, requires_grad=True)", "b = tape.tensor(3.0, requires_grad=True)",
           "c = a * b", "e = c * tape.tensor(4.0)", "c.backward(retain_graph=True)",
           "a.grad", "b.grad")
    t.table("e", title="after c.backward(retain_graph=True): saved values kept")
    t.code("e.backward()", "a.grad", "b.grad")
    t.table("e", title="after e.backward(): saved values freed")


def inplace(t: Tour) -> None:
    t.say("""Every tensor has a version, bumped by each in-place operation. A saved value
        remembers the version it had; if it changed before backward uses it, backward raises
        instead of computing a wrong gradient.""")
    t.code("a = tape.tensor(2.0, requires_grad=True)", "b = tape.tensor(3.0, requires_grad=True)",
           "c = a * b", "d = tape.tensor(4.0, requires_grad=True)", "e = c * d", "c._version")
    t.table("e", title="before c += 1")
    t.code("c += 1", "c._version")
    t.table("e", "c", title="after c += 1: e's record saved c at version 0")
    t.draw("inplace-stale", "e", "c", title="after c += 1: the c that e's node saved is stale")
    t.code("e.backward()", raises=RuntimeError)

    t.sub("add saves nothing")
    t.fresh()
    t.say("""With e = c + d instead, add needs no saved values (the gradient just passes
        through), so the same in-place change is harmless.""")
    t.code("a = tape.tensor(2.0, requires_grad=True)", "b = tape.tensor(3.0, requires_grad=True)",
           "c = a * b", "d = tape.tensor(4.0, requires_grad=True)", "e = c + d", "c += 1")
    t.table("e", "c")
    t.draw("add-saves-nothing", "e", "c", title="e = c + d saves nothing: c += 1 is harmless")
    t.code("e.backward()", "a.grad", "b.grad", "d.grad")
    t.boxes("a", "b", "c", "d", "e")


def unbind_indices(t: Tour) -> None:
    t.say("""The second number in each next_functions pair is an output index. unbind splits a
        into b, c, d: one UnbindBackward0 node with three outputs, and the edges into it say
        which output (0, 1, 2) each gradient is for.""")
    t.code("a = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)", "b, c, d = a.unbind()",
           "b.grad_fn is c.grad_fn is d.grad_fn", "e = b * c * d")
    t.graph("e")
    t.table("e")
    t.draw("unbind", "e", title="b, c, d = a.unbind(); e = b * c * d")
    t.animate("unbind-backward", "e")
    t.say("""Backward: the outer mul sends 2 to output 2 and 3 to the inner mul, which sends 6
        and 3 to outputs 0 and 1; UnbindBackward0 stacks them for a.""")
    t.code("e.backward()", "a.grad")
    t.boxes("a", "b", "c", "d", "e")
    t.draw("unbind-after-backward", "e", title="after e.backward()")


def big_example(t: Tour) -> None:
    t.say("""a and b do not require grad, so c = a * b is a leaf off the graph (yellow) until
        c.requires_grad = True makes it a leaf on it (green). d and f never join; h does, and
        is used twice (i = g / h, j = i + h), so its one AccumulateGrad node has two incoming
        edges; i is used twice too, and its two gradients meet at DivBackward0.""")
    t.code("a, b = tape.tensor(2.0), tape.tensor(2.0)", "c = a * b", "c.requires_grad = True",
           "d = tape.tensor(2.0)", "e = c * d", "f = tape.tensor(2.0)", "g = e * f",
           "h = tape.tensor(2.0, requires_grad=True)", "i = g / h", "j = i + h", "k = j * i")
    t.graph("k")
    t.table("k")
    t.draw("big-example", "k", title="the big example")
    t.draw("big-example-tape", "k", title="the big example on the tape", as_tape=True)
    t.say("""k.backward() accumulates gradients in the leaves on the graph only. Intermediate
        tensors keep grad None unless retain_grad() asked for it, as for i here.""")
    t.code("i.retain_grad()")
    t.animate("big-example-backward", "k")
    t.code("k.backward()", "c.grad", "h.grad", "i.grad", "j.grad")
    t.boxes("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")
    t.table("k", title="after k.backward(): the graph remains, its saved values are freed")
    t.draw("big-example-after-backward", "k", title="after k.backward(): gradients in the leaves "
           "(and in i, retained); saved values freed")


def detaching(t: Tour) -> None:
    t.say("""k.detach() is a new leaf that shares k's storage but is off the graph: no grad_fn,
        no requires_grad. Use it to keep a value past the training step without keeping the
        graph alive. Changing m changes k.""")
    t.code("m = k.detach()")
    t.boxes("k", "m")
    t.draw("detach", "k", "m", title="m = k.detach(): a leaf off the graph")
    t.code("m.add_(1)", "k")


def values_out(t: Tour) -> None:
    t.say("""item() gives a Python number, tolist() nested Python lists, numpy() an array
        sharing memory, which is refused while the tensor requires grad: detach first.
        (k is 81 now: m.add_(1) above changed it.)""")
    t.code("k.item()", "k.tolist()")
    t.code("k.numpy()", raises=RuntimeError)
    t.code("k.detach().numpy()", "tape.tensor([[1, 2], [3, 4]]).tolist()", "tape.tensor(3).item()")


# (title, function, start with a fresh namespace): 6 and 7 go on with the big example's k
EXAMPLES = [
    ("A single multiply", single_multiply, True),
    ("A deeper graph", deeper_graph, True),
    ("In-place changes and versions", inplace, True),
    ("unbind and output indices", unbind_indices, True),
    ("The big example", big_example, True),
    ("detach shares storage", detaching, False),
    ("Getting values out: item, tolist, numpy", values_out, False),
]


# ---------------------------------------------------------------------------------------
# Command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tape.tour",
        description="Walk the examples of 'PyTorch Autograd Explained' on tape: tensors, the "
                    "backward graph and the Wengert list behind it.")
    parser.add_argument("--only", type=int, action="append", choices=range(1, len(EXAMPLES) + 1),
                        metavar="N", help="show only example N (repeatable; 6 and 7 need 5)")
    parser.add_argument("--ascii", action="store_true", help="plain ASCII, no box-drawing characters")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="the tutorial's colours (auto: only on a terminal)")
    parser.add_argument("--draw", metavar="DIR",
                        help="also draw each example's graph into DIR (SVG and PNG with Graphviz's "
                             "dot, else DOT source); needs pip install \"tape[viz]\"")
    args = parser.parse_args(argv)
    if args.draw is not None:
        from tape import viz

        try:
            viz._graphviz()  # fail now, with the install hint, rather than in every example
        except ImportError as exc:
            parser.error(str(exc))
        os.makedirs(args.draw, exist_ok=True)

    out = sys.stdout
    tty = hasattr(out, "isatty") and out.isatty()
    width = shutil.get_terminal_size((100, 24)).columns if tty else 100
    style = Style(ascii_only=args.ascii or not _can_encode(out, "".join(UNICODE.values())),
                  colour=args.color == "always" or (args.color == "auto" and tty),
                  width=max(60, min(width, 120)))
    wanted = set(args.only or range(1, len(EXAMPLES) + 1))
    if wanted & {6, 7}:
        wanted.add(5)  # they go on with the big example's tensors

    tour = Tour(style, args.draw)
    failed = 0
    try:
        with warnings.catch_warnings():
            # the tour reads .grad of non-leaves on purpose, to show it is None
            warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not a leaf")
            for number, (title, fn, fresh) in enumerate(EXAMPLES, 1):
                if number not in wanted:
                    continue
                if fresh:
                    tour.fresh()
                tour.heading(number, title)
                try:
                    fn(tour)
                except Exception:  # a broken example is reported, and the tour goes on
                    failed += 1
                    print(f"\n!! example {number} failed:\n{traceback.format_exc()}")
        if args.draw is not None and not tour.dot:
            print(f"\nGraphviz's dot was not found: {args.draw} holds DOT source (.gv) only; "
                  "install Graphviz (e.g. apt-get install graphviz) for SVG and PNG.")
        if style.colour:
            print("\ncolours: " + ", ".join(style.paint(w, c) for w, c in (
                ("nodes", "brown"), ("leaves on the graph", "green"),
                ("leaves off the graph", "yellow"), ("gradients", "blue"))))
        out.flush()
    except BrokenPipeError:
        # `python -m tape.tour | head`: the reader left; stop quietly
        # (the Python docs' recipe: point stdout at devnull so the exit-time flush is silent)
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
