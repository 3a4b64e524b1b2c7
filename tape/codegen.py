"""Straight-line Python source for tape.compile's plans, and the inliner it uses.

A plan's forward and backward become one Python function each (see tape/compiled.py). This
module holds the pieces that know about Python source: `Namespace` (the objects generated
code refers to, under short global names) and `inline_call`, which turns a call to a plain
Python function (a backward rule, a prims function) into expressions over the caller's
variables, so the generated backward runs `g7 = g9 * (1 - v9 * v9)` instead of calling the
rule.

NOTE [inlining is exact]
A function is inlined only when its source, parsed again, compiles to the very bytecode
that is loaded (so the source on disk is what runs), it has no closure, defaults or
*args, and its body is plain assignments and one final `return`. Non-trivial arguments are
evaluated once, in order, into fresh variables before the body, as a call would; what the
rule reads from `ctx` (needs, shapes, params) is fixed per plan and substituted, and
comparisons of such constants are folded, so `g * other if need_self else None` becomes
`g * other` or `None`. A call is inlined inside a conditional branch only when it needs no
statements, so nothing runs that the branch would not run. Module globals that are not
functions, classes or modules are read from their module on every call, never copied.
Anything else is called, not inlined.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import linecache
import math
import sys
import types
import warnings

import numpy as np

_LITERAL_TYPES = (bool, int, str, type(None))
# globals that are safe to bind once per plan: functions, classes, modules, numpy callables
_BINDABLE = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type, np.ufunc)


def literal_safe(value) -> bool:
    """Can `value` be written into source as a literal that evaluates to an equal value?"""
    if type(value) in _LITERAL_TYPES:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is tuple:
        return all(literal_safe(v) for v in value)
    return False


class Namespace:
    """The globals of generated code: each object once, under a readable short name."""

    def __init__(self, **fixed):
        self.globals: dict = dict(fixed)
        self._by_id: dict[int, str] = {id(v): k for k, v in fixed.items()}
        self._count = itertools.count()

    def bind(self, obj, hint: str = "k") -> str:
        name = self._by_id.get(id(obj))
        if name is None:
            name = f"{hint}_{next(self._count)}"
            self.globals[name] = obj
            self._by_id[id(obj)] = name
        return name

    def expr(self, value, hint: str = "c") -> str:
        """Source for `value`: a literal when exact, otherwise a bound name."""
        return repr(value) if literal_safe(value) else self.bind(value, hint)

    def node(self, value, hint: str = "c") -> ast.expr:
        if literal_safe(value):
            return ast.Constant(value)
        return ast.Name(self.bind(value, hint), ast.Load())


# ---- inlining ---------------------------------------------------------------------------


class CannotInline(Exception):
    pass


F_MARK, CTX_MARK = "__F__", "__ctx__"  # stand-ins for the rule's F and ctx while inlining
_trees: dict[str, tuple] = {}  # file -> (source, ast, code objects)
# code object -> (source text, its ast node or why not): a plan of 10,000 steps asks ~10,000
# times, and a walk of the module's ast costs ~17 ms
_found: dict = {}
_NOT_ALLOWED = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Starred)


def _source_node(fn):
    """The ast of `fn` (a lambda or def), only if its source compiles to fn's loaded bytecode."""
    co = fn.__code__
    if (co.co_freevars or fn.__defaults__ or fn.__kwdefaults__ or co.co_kwonlyargcount
            or co.co_flags & (0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200)):
        raise CannotInline("closure, defaults, *args, generator or coroutine")
    text = "".join(linecache.getlines(co.co_filename))
    found = _found.get(co)
    if found is not None and found[0] == text:
        if isinstance(found[1], CannotInline):
            raise found[1]
        return found[1]
    try:
        node = _find_source_node(co, text)
    except CannotInline as why:
        _found[co] = (text, why)
        raise
    _found[co] = (text, node)
    return node


def _find_source_node(co, text):
    cached = _trees.get(co.co_filename)
    if cached is None or cached[0] != text:
        try:  # the whole module: how a name was bound changes the bytecode of its uses
            tree = ast.parse(text)
            codes = list(_code_objects(compile(tree, co.co_filename, "exec")))
        except SyntaxError:
            raise CannotInline("source does not parse") from None
        cached = _trees[co.co_filename] = (text, tree, codes)
    nodes = [n for n in ast.walk(cached[1]) if isinstance(n, (ast.Lambda, ast.FunctionDef))
             and n.lineno == co.co_firstlineno and not getattr(n, "decorator_list", None)]
    codes = [c for c in cached[2] if c.co_firstlineno == co.co_firstlineno]
    if len(nodes) != 1 or len(codes) != 1:
        raise CannotInline("not one function on its line")
    c = codes[0]
    if (c.co_name != co.co_name or c.co_code != co.co_code or c.co_names != co.co_names
            or c.co_consts != co.co_consts or c.co_varnames != co.co_varnames):
        raise CannotInline("the source does not match the loaded code")
    return nodes[0]


def _copy_tree(node):
    """A copy of an ast (nodes, lists; leaves shared): copy.deepcopy's memo and dispatch made
    it most of the time spent generating a big plan's backward."""
    if isinstance(node, ast.AST):
        new = type(node).__new__(type(node))
        new.__dict__.update({k: _copy_tree(v) for k, v in node.__dict__.items()})
        return new
    if isinstance(node, list):
        return [_copy_tree(v) for v in node]
    return node  # str, int, None, constants: immutable


def _code_objects(code):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield c
            yield from _code_objects(c)


def _trivial(node) -> bool:
    """An argument that may be substituted into the body (a name, a constant, a tuple of those)."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    return isinstance(node, ast.Tuple) and all(_trivial(e) for e in node.elts)


def _fold(node: ast.expr) -> ast.expr:
    """Evaluate `node` now if every operand is a literal constant (exact: same operations)."""
    try:
        with warnings.catch_warnings():  # `2 is None` (a substituted param): fine, no warning
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval")
        value = eval(code, {"__builtins__": {}})  # noqa: S307 - constants only
    except Exception:  # noqa: BLE001 - e.g. 1 / 0: leave it to run (and raise) at run time
        return node
    return ast.Constant(value) if literal_safe(value) else node


def _all_constant(nodes) -> bool:
    return all(isinstance(n, ast.Constant) for n in nodes)


class _Body(ast.NodeTransformer):
    """Rewrites one inlined function's expressions in terms of the caller's variables."""

    def __init__(self, inliner, fn, env: dict, stmts: list, conditional: bool):
        self.inliner, self.fn, self.env, self.stmts = inliner, fn, env, stmts
        self.conditional = conditional

    def generic_visit(self, node):
        if isinstance(node, _NOT_ALLOWED):
            raise CannotInline(type(node).__name__)
        return super().generic_visit(node)

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            raise CannotInline("a store inside an expression")
        if node.id in self.env:
            return self.env[node.id]
        return self.inliner.global_node(self.fn, node.id)

    def visit_Attribute(self, node):
        value = self.visit(node.value)
        if isinstance(value, ast.Name) and value.id == F_MARK:
            if not hasattr(self.inliner.F, node.attr):
                raise CannotInline(f"F.{node.attr}")
            return self.inliner.ns.node(getattr(self.inliner.F, node.attr), f"F_{node.attr}")
        if isinstance(value, ast.Name) and value.id == CTX_MARK and node.attr in self.inliner.ctx:
            return self.inliner.ctx[node.attr]
        module = self.inliner.resolve(value)
        if isinstance(module, types.ModuleType) and isinstance(
                getattr(module, node.attr, None), _BINDABLE):  # np.cos: one name, not two lookups
            return ast.Name(self.inliner.ns.bind(getattr(module, node.attr), node.attr), ast.Load())
        return ast.Attribute(value, node.attr, node.ctx)

    def visit_Subscript(self, node):
        value, index = self.visit(node.value), self.visit(node.slice)
        if isinstance(index, ast.Constant) and type(index.value) is int:
            if isinstance(value, ast.Tuple) and -len(value.elts) <= index.value < len(value.elts):
                return value.elts[index.value]
            if isinstance(value, ast.Constant):
                return _fold(ast.Subscript(value, index, ast.Load()))
        return ast.Subscript(value, index, node.ctx)

    def visit_IfExp(self, node):
        test = self.visit(node.test)
        if isinstance(test, ast.Constant):
            return self.visit(node.body if test.value else node.orelse)
        return ast.IfExp(test, self._branch(node.body), self._branch(node.orelse))

    def visit_BoolOp(self, node):
        values = [self.visit(node.values[0])] + [self._branch(v) for v in node.values[1:]]
        new = ast.BoolOp(node.op, values)
        return _fold(new) if _all_constant(values) else new

    def _branch(self, node):
        saved, self.conditional = self.conditional, True
        try:
            return self.visit(node)
        finally:
            self.conditional = saved

    def visit_UnaryOp(self, node):
        new = ast.UnaryOp(node.op, self.visit(node.operand))
        return _fold(new) if isinstance(new.operand, ast.Constant) else new

    def visit_BinOp(self, node):
        new = ast.BinOp(self.visit(node.left), node.op, self.visit(node.right))
        return _fold(new) if _all_constant((new.left, new.right)) else new

    def visit_Compare(self, node):
        new = ast.Compare(self.visit(node.left), node.ops, [self.visit(c) for c in node.comparators])
        return _fold(new) if _all_constant([new.left] + new.comparators) else new

    def visit_Call(self, node):
        func = self.visit(node.func)
        args = [self.visit(a) for a in node.args]
        keywords = [ast.keyword(k.arg, self.visit(k.value)) for k in node.keywords]
        if not keywords:
            target = self.inliner.resolve(func)
            if isinstance(target, types.FunctionType):
                try:
                    return self.inliner.call(target, args, self.stmts, self.conditional)
                except CannotInline:
                    pass
        return ast.Call(func, args, keywords)


class Inliner:
    """Inlines calls made by one plan's generated code into statements over fresh names."""

    MAX_DEPTH = 3

    def __init__(self, ns: Namespace, F, prefix: str):
        self.ns, self.F, self.prefix = ns, F, prefix
        self.ctx: dict[str, ast.expr] = {}  # ctx attribute -> its (per-plan) value
        self._names = itertools.count()
        self._depth = 0

    def fresh(self, name: str) -> str:
        return f"{self.prefix}{name}_{next(self._names)}"

    def resolve(self, node):
        """The object a callee expression names, when it is a bound global."""
        if isinstance(node, ast.Name):
            return self.ns.globals.get(node.id)
        return None

    def global_node(self, fn, name: str) -> ast.expr:
        if name in fn.__globals__:
            value = fn.__globals__[name]
            if isinstance(value, _BINDABLE):
                return ast.Name(self.ns.bind(value, name.strip("_") or "g"), ast.Load())
            # a module-level value may be rebound later: read it from its module each call
            module = sys.modules.get(fn.__module__)
            if module is None or getattr(module, name, None) is not value:
                raise CannotInline(f"global {name}")
            return ast.Attribute(ast.Name(self.ns.bind(module, "mod"), ast.Load()), name,
                                 ast.Load())
        if hasattr(builtins, name):
            return ast.Name(self.ns.bind(getattr(builtins, name), name), ast.Load())
        raise CannotInline(f"unknown name {name}")

    def call(self, fn, args: list, stmts: list, conditional: bool = False) -> ast.expr:
        """fn(*args) as an expression; statements it needs are appended to `stmts`."""
        if self._depth >= self.MAX_DEPTH:
            raise CannotInline("too deep")
        node = _copy_tree(_source_node(fn))  # the transformer rewrites it in place
        params = [a.arg for a in node.args.args]
        if len(params) != len(args):
            raise CannotInline("argument count")
        own: list = []
        env = {}
        for name, arg in zip(params, args):
            if _trivial(arg):
                env[name] = arg
            else:  # evaluated once, before the body, as a call evaluates its arguments
                tmp = self.fresh(name)
                own.append(ast.Assign([ast.Name(tmp, ast.Store())], arg))
                env[name] = ast.Name(tmp, ast.Load())
        body = _Body(self, fn, env, own, conditional)
        self._depth += 1
        try:
            if isinstance(node, ast.Lambda):
                result = body.visit(node.body)
            else:
                result = self._statements(node, body, env, own)
        finally:
            self._depth -= 1
        if own and conditional:
            raise CannotInline("statements inside a conditional branch")
        stmts.extend(own)
        return result

    def _statements(self, node: ast.FunctionDef, body: _Body, env: dict, own: list):
        stmts = node.body
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # the docstring
        if not stmts or not isinstance(stmts[-1], ast.Return) or stmts[-1].value is None:
            raise CannotInline("no final return")
        for st in stmts[:-1]:
            if isinstance(st, ast.Pass):
                continue
            if not isinstance(st, ast.Assign) or len(st.targets) != 1:
                raise CannotInline(type(st).__name__)
            value = body.visit(st.value)
            target = st.targets[0]
            if isinstance(target, ast.Name):
                self._bind_local(target.id, value, env, own)
            elif isinstance(target, (ast.Tuple, ast.List)) and all(
                    isinstance(t, ast.Name) for t in target.elts):
                names = [t.id for t in target.elts]
                if isinstance(value, ast.Tuple) and len(value.elts) == len(names):
                    parts = value.elts
                elif (isinstance(value, ast.Constant) and isinstance(value.value, tuple)
                      and len(value.value) == len(names)):
                    parts = [ast.Constant(v) for v in value.value]
                else:
                    tmps = [self.fresh(n) for n in names]
                    own.append(ast.Assign([ast.Tuple([ast.Name(t, ast.Store()) for t in tmps],
                                                     ast.Store())], value))
                    parts = [ast.Name(t, ast.Load()) for t in tmps]
                for n, part in zip(names, parts):
                    self._bind_local(n, part, env, own)
            else:
                raise CannotInline("assignment target")
        return body.visit(stmts[-1].value)

    def _bind_local(self, name: str, value, env: dict, own: list) -> None:
        if _trivial(value):
            env[name] = value  # generated names are assigned once, so aliasing is safe
        else:
            tmp = self.fresh(name)
            own.append(ast.Assign([ast.Name(tmp, ast.Store())], value))
            env[name] = ast.Name(tmp, ast.Load())


def unmark(node, F_name: str, ctx_name: str):
    """Replace the F and ctx stand-ins by the generated code's names for them."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id in (F_MARK, CTX_MARK):
            n.id = F_name if n.id == F_MARK else ctx_name
    return ast.fix_missing_locations(node)
