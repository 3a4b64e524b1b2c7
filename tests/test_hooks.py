"""Hooks, checked against torch by logging every call in both: tensor hooks (leaves and
non-leaves, returning None or a replacement), retain_grad, Node pre- and post-hooks,
AccumulateGrad hooks, post-accumulate-grad hooks, handles, and torch's checks of what a
hook returns."""

import warnings

import numpy as np
import pytest
import torch

import tape


def fmt(x):
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return tuple(fmt(y) for y in x)
    return np.round(x.detach().numpy().astype(np.float64), 4).tolist()


def logged(scenario):
    """The calls `scenario(m, log)` logs, with tape and with torch (exceptions logged too)."""
    out = []
    for m in (tape, torch):
        log = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scenario(m, log)
            except Exception as exc:  # compared by type and message
                log.append(("raised", type(exc).__name__, str(exc).replace("torch.", "tape.")))
        out.append(log)
    return out


def same_as_torch(scenario):
    ours, theirs = logged(scenario)
    assert ours == theirs, f"\ntape:  {ours}\ntorch: {theirs}"
    return ours


# ---------------------------------------------------------------------------------------
# Call order


def chain(m, log):
    """One leaf, non-leaves with every kind of hook, hooks returning None and tensors."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3
    d = c * c
    e = (d * c).sum()
    c.retain_grad()
    c.register_hook(lambda g: log.append(("c.h1", fmt(g))))
    c.register_hook(lambda g: (log.append(("c.h2", fmt(g))), g * 10)[1])
    c.register_hook(lambda g: log.append(("c.h3", fmt(g))))
    c.grad_fn.register_prehook(lambda go: log.append(("c.fn.pre", fmt(go))))
    c.grad_fn.register_hook(lambda gi, go: log.append(("c.fn.post", fmt(gi), fmt(go))))
    d.register_hook(lambda g: log.append(("d.h", fmt(g))))
    d.grad_fn.register_prehook(lambda go: log.append(("d.fn.pre", fmt(go))))
    d.grad_fn.register_hook(lambda gi, go: log.append(("d.fn.post", fmt(gi), fmt(go))))
    e.grad_fn.register_prehook(lambda go: log.append(("e.fn.pre", fmt(go))))
    a.register_hook(lambda g: (log.append(("a.h", fmt(g))), g + 1)[1])
    a.register_post_accumulate_grad_hook(lambda t: log.append(("a.post_acc", fmt(t.grad))))
    acc = c.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: log.append(("acc.pre", fmt(go))))
    acc.register_hook(lambda gi, go: log.append(("acc.post", fmt(gi), fmt(go))))
    e.backward()
    log.append(("grads", fmt(a.grad), fmt(c.grad)))


def two_leaves_two_nodes(m, log):
    """Leaves reached from different nodes: each sink runs as soon as it is complete."""
    w = m.tensor([1.0, -1.0], requires_grad=True)
    b = m.tensor([0.5, 0.5], requires_grad=True)
    h = (w * 2).exp()
    out = (h + b).sum()
    for name, t in (("w", w), ("b", b)):
        t.register_hook(lambda g, name=name: log.append((name + ".h", fmt(g))))
        t.register_post_accumulate_grad_hook(lambda t, name=name: log.append((name + ".post_acc",)))
    h.register_hook(lambda g: log.append(("h.h", fmt(g))))
    h.grad_fn.register_prehook(lambda go: log.append(("h.fn.pre",)))
    out.backward()


def multi_output(m, log):
    """unbind: hooks per output, called with None for an output that got no gradient."""
    a = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    u, v = (a * 1).unbind(0)
    u.register_hook(lambda g: log.append(("u", fmt(g))))
    v.register_hook(lambda g: log.append(("v", fmt(g))))
    u.grad_fn.register_prehook(lambda go: log.append(("pre", fmt(go))))
    u.grad_fn.register_hook(lambda gi, go: log.append(("post", fmt(gi), fmt(go))))
    (u * 2).sum().backward()
    log.append(("a", fmt(a.grad)))


def replacing_gradients(m, log):
    """Pre-hooks and post-hooks that return new gradients; an AccumulateGrad pre-hook too."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    c = b * 2
    c.grad_fn.register_prehook(lambda go: (go[0] + 1,))
    c.grad_fn.register_hook(lambda gi, go: (gi[0] * 100, None))
    b.grad_fn.next_functions[0][0].register_prehook(lambda go: (log.append(("acc", fmt(go))), None)[1])
    c.sum().backward()
    log.append(("a", fmt(a.grad)))


def leaf_hook_twice(m, log):
    """A leaf hook replacing the gradient, an AccumulateGrad pre-hook, accumulation twice."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: (log.append(("a.h", fmt(g))), g * 2)[1])
    acc = (a * 3).grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: (log.append(("acc.pre", fmt(go))), (go[0] + 1,))[1])
    a.register_post_accumulate_grad_hook(lambda t: log.append(("a.post_acc", fmt(t.grad))))
    (a * 3).sum().backward()
    (a * 3).sum().backward()
    log.append(("a", fmt(a.grad)))


def consumed_twice(m, log):
    """A non-leaf used by two ops: its hook sees the summed gradient once."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.register_hook(lambda g: log.append(("b", fmt(g))))
    a.register_hook(lambda g: log.append(("a", fmt(g))))
    (b * b + b + a).sum().backward()


def root_hook(m, log):
    """A hook on the tensor backward starts from."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 2).sum()
    y.register_hook(lambda g: (log.append(("y", fmt(g))), g * 3)[1])
    y.backward()
    log.append(("a", fmt(a.grad)))


def retain_then_hook(m, log):
    """retain_grad registered before the hook still sees the hooked value (torch >= 2.0)."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3
    c.retain_grad()
    c.register_hook(lambda g: g * 2)
    (c * c).sum().backward()
    log.append(("c", fmt(c.grad), "a", fmt(a.grad)))


def leaf_retain(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    a.retain_grad()
    a.register_hook(lambda g: g * 7)
    (a * 2).sum().backward()
    log.append(("a", fmt(a.grad), a.retains_grad))


def hook_after_inplace(m, log):
    """Hooks registered before and after an in-place change of the tensor."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b.register_hook(lambda g: log.append(("before", fmt(g))))
    b.mul_(2)
    b.register_hook(lambda g: log.append(("after", fmt(g))))
    (b * b).sum().backward()
    log.append(("a", fmt(a.grad)))


def hooks_under_create_graph(m, log):
    """With create_graph, hooks see (and may return) differentiable tensors."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    b.register_hook(lambda g: (log.append(("b", fmt(g), g.requires_grad)), g * a)[1])
    (g,) = m.autograd.grad(b.sum(), a, create_graph=True)
    log.append(("g", fmt(g), g.requires_grad))
    g.sum().backward()
    log.append(("a", fmt(a.grad)))


SCENARIOS = [chain, two_leaves_two_nodes, multi_output, replacing_gradients, leaf_hook_twice,
             consumed_twice, root_hook, retain_then_hook, leaf_retain, hook_after_inplace,
             hooks_under_create_graph]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_hook_calls_and_order_match_torch(scenario):
    log = same_as_torch(scenario)
    assert log  # something was called


def test_chain_order_is_torchs_documented_order():
    log = same_as_torch(chain)
    names = [entry[0] for entry in log]
    # tensor hooks in registration order, then node pre-hook, node, post-hook; leaf: tensor
    # hook, AccumulateGrad pre-hook, accumulation, post-accumulate hook, AccumulateGrad post-hook
    assert names[names.index("c.h1"):] == ["c.h1", "c.h2", "c.h3", "c.fn.pre", "c.fn.post", "a.h",
                                          "acc.pre", "a.post_acc", "acc.post", "grads"]
    # de/dc = 3 c^2 = [27, 108], times 10 by c.h2; a gets 3 times that, plus 1 by a.h
    assert log[-1] == ("grads", [3 * 270.0 + 1, 3 * 1080.0 + 1], [270.0, 1080.0])


# ---------------------------------------------------------------------------------------
# Which node runs when (NOTE [torch's order] in tape/engine.py): a leaf's AccumulateGrad runs
# as soon as it is ready, and sinks ready together leave torch's heap in its own order


def sinks_of_one_node(m, log):
    """Two leaves fed by the same node: torch runs a's sink, then b's."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3.0, 4.0], requires_grad=True)
    for name, t in (("a", a), ("b", b)):
        t.register_hook(lambda g, name=name: log.append((name + ".h", fmt(g))))
        t.register_post_accumulate_grad_hook(lambda t, name=name: log.append((name + ".post_acc",)))
    (a * b).sum().backward()


def eight_sinks_of_one_node(m, log):
    """Eight leaves stacked: they become ready at once and tie (0, 2, 6, 5, 7, 4, 1, 3)."""
    leaves = [m.tensor(float(i), requires_grad=True) for i in range(8)]
    for i, t in enumerate(leaves):
        t.register_post_accumulate_grad_hook(lambda t, i=i: log.append(i))
    m.stack(leaves).sum().backward()


def sink_kept_by_an_older_graph(m, log):
    """a's AccumulateGrad was made for an earlier graph: it still runs as soon as ready,
    before the records made after it."""
    a = m.tensor(1.0, requires_grad=True)
    b = m.tensor(2.0, requires_grad=True)
    a.register_post_accumulate_grad_hook(lambda t: log.append(("a", fmt(t.grad))))
    b.register_post_accumulate_grad_hook(lambda t: log.append(("b", fmt(t.grad))))
    older = a * 3  # noqa: F841 - keeps a's AccumulateGrad alive
    p = b.exp()
    r = (p * 2) * a
    p.register_hook(lambda g: log.append(("p", fmt(g))))
    r.backward()


def sinks_as_roots(m, log):
    """Leaves as backward's roots, with a non-leaf between them."""
    a = m.tensor([1.0], requires_grad=True)
    b = m.tensor([2.0], requires_grad=True)
    c = a * b
    for name, t in (("a", a), ("b", b)):
        t.register_hook(lambda g, name=name: log.append((name, fmt(g))))
    c.register_hook(lambda g: log.append(("c", fmt(g))))
    m.autograd.backward([b, c, a], [m.ones(1), m.ones(1) * 2, m.ones(1) * 3])
    log.append((fmt(a.grad), fmt(b.grad)))


def custom_function_sees_a_sink_run_first(m, log):
    """A custom Function's backward is user code too (no hook is registered): it runs after
    a's sink, which was ready first, whatever a's position."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    older = a * 1  # noqa: F841 - a's AccumulateGrad made first

    class Mul(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            log.append(("Mul.backward", fmt(a.grad), fmt(x.grad), fmt(y.grad)))
            return g * y, g * x

    b = m.tensor([3.0, 4.0], requires_grad=True)
    c = m.tensor([5.0, 6.0], requires_grad=True)
    (Mul.apply(b, c) * a).sum().backward()
    log.append((fmt(a.grad), fmt(b.grad), fmt(c.grad)))


def unpack_hooks_see_the_order(m, log):
    """An unpack hook, the only user code here, sees b's sink run before a's node."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3.0, 4.0], requires_grad=True)
    older = b * 1  # noqa: F841 - b's AccumulateGrad made first

    def unpack(x):
        log.append(("unpack", fmt(x), fmt(a.grad), fmt(b.grad)))
        return x

    with m.autograd.graph.saved_tensors_hooks(lambda x: x, unpack):
        z = a.sin() + b.cos()
        out = z.sin().sum()
    out.backward()


ORDER_SCENARIOS = [sinks_of_one_node, eight_sinks_of_one_node, sink_kept_by_an_older_graph,
                   sinks_as_roots, custom_function_sees_a_sink_run_first, unpack_hooks_see_the_order]


@pytest.mark.parametrize("scenario", ORDER_SCENARIOS, ids=[s.__name__ for s in ORDER_SCENARIOS])
def test_nodes_run_in_torchs_order(scenario):
    same_as_torch(scenario)


def random_graph(seed):
    """A scenario: a random graph of a few leaves and ops (shared inputs, an input used
    twice, multi-output unbind, stack), hooks on some tensors and nodes, then backward,
    backward of several roots, backward(inputs=) or autograd.grad."""

    def scenario(m, log):
        rng = np.random.default_rng(seed)
        n_leaves = int(rng.integers(1, 6))
        leaves = [m.tensor([i + 1.0, 0.5 * (i + 2)], requires_grad=True) for i in range(n_leaves)]
        for i, leaf in enumerate(leaves):
            if rng.random() < 0.7:
                leaf.register_hook(lambda g, i=i: log.append(f"leaf{i}.h"))
            if rng.random() < 0.7:
                leaf.register_post_accumulate_grad_hook(lambda t, i=i: log.append(f"leaf{i}.acc"))
        older = leaves[int(rng.integers(n_leaves))] * 2 if rng.random() < 0.3 else None  # noqa: F841
        vals = list(leaves)

        def pick():
            return vals[int(rng.integers(len(vals)))]

        for k in range(int(rng.integers(1, 10))):
            kind = int(rng.integers(7))
            a, b = pick(), pick()
            if kind == 0:
                v = a * b
            elif kind == 1:
                v = a + b
            elif kind == 2:
                v = (a * 0.1).exp()
            elif kind == 3:
                v = a * a
            elif kind == 4:
                v = a * b * pick()
            elif kind == 5:
                v = m.stack([a, b, pick()]).sum(0)
            else:
                u, w = m.stack([a, b]).unbind(0)
                v = u * 2 + w if rng.random() < 0.5 else u * 2
            if rng.random() < 0.5:
                v.register_hook(lambda g, k=k: log.append(f"t{k}.h"))
            if rng.random() < 0.3:
                v.grad_fn.register_prehook(lambda go, k=k: log.append(f"n{k}.pre"))
            vals.append(v)
        made = vals[n_leaves:]
        chosen = rng.choice(len(made), int(rng.integers(1, len(made) + 1)), replace=False)
        out = sum(made[int(i)].sum() for i in chosen)
        how = int(rng.integers(4))
        if how == 0:
            out.backward()
        elif how == 1:
            m.autograd.backward([out, pick().sum()])
        elif how == 2:
            ins = [vals[int(i)] for i in rng.choice(len(vals), min(3, len(vals)), replace=False)]
            log.append(fmt(m.autograd.grad(out, ins, allow_unused=True)))
        else:
            ins = [leaves[int(i)] for i in rng.choice(n_leaves, int(rng.integers(1, n_leaves + 1)),
                                                      replace=False)]
            out.backward(inputs=ins)
        log.append(tuple(fmt(leaf.grad) for leaf in leaves))

    return scenario


@pytest.mark.parametrize("seed", range(120))
def test_random_graphs_run_their_hooks_in_torchs_order(seed):
    """(Before sinks ran as soon as ready, about one graph in five ran them in another order.)"""
    same_as_torch(random_graph(seed))


# ---------------------------------------------------------------------------------------
# autograd.grad: what is captured, which hooks run


def grad_of_leaf_and_nonleaf(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    a.register_hook(lambda g: (log.append(("a.h", fmt(g))), g * 2)[1])
    a.register_post_accumulate_grad_hook(lambda t: log.append(("a.post_acc",)))
    b.register_hook(lambda g: (log.append(("b.h", fmt(g))), g * 5)[1])
    acc = b.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: log.append(("acc.pre", fmt(go))))
    b.grad_fn.register_prehook(lambda go: log.append(("b.fn.pre", fmt(go))))
    got = m.autograd.grad((b * b).sum(), [a, b])
    log.append(("got", fmt(got), fmt(a.grad)))


def grad_of_nonleaf_only(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b.retain_grad()
    b.register_hook(lambda g: (log.append(("b.h", fmt(g))), g * 5)[1])
    b.grad_fn.register_prehook(lambda go: log.append(("b.fn.pre", fmt(go))))
    b.grad_fn.register_hook(lambda gi, go: log.append(("b.fn.post",)))
    got = m.autograd.grad((b * b).sum(), [b])
    log.append(("got", fmt(got), fmt(b.grad)))


def backward_inputs_hooks(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    c = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * c
    a.register_hook(lambda g: (log.append(("a.h", fmt(g))), g * 5)[1])
    c.register_hook(lambda g: log.append(("c.h", fmt(g))))
    b.grad_fn.next_functions[0][0].register_prehook(lambda go: log.append(("acc.pre", fmt(go))))
    a.register_post_accumulate_grad_hook(lambda t: log.append(("a.post_acc",)))
    (b * b).sum().backward(inputs=[a])
    log.append(("grads", fmt(a.grad), fmt(c.grad)))


def backward_inputs_nonleaf_hooks(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b.register_hook(lambda g: (log.append(("b.h", fmt(g))), g * 5)[1])
    b.grad_fn.register_prehook(lambda go: log.append(("b.fn.pre", fmt(go))))
    (b * b).sum().backward(inputs=[b, a])
    log.append(("grads", fmt(b.grad), fmt(a.grad), b.retains_grad))


GRAD_SCENARIOS = [grad_of_leaf_and_nonleaf, grad_of_nonleaf_only, backward_inputs_hooks,
                  backward_inputs_nonleaf_hooks]


@pytest.mark.parametrize("scenario", GRAD_SCENARIOS, ids=[s.__name__ for s in GRAD_SCENARIOS])
def test_hooks_with_grad_and_backward_inputs_match_torch(scenario):
    same_as_torch(scenario)


def test_grad_captures_a_needed_nonleaf_before_its_hooks():
    log = same_as_torch(grad_of_leaf_and_nonleaf)
    # b's node must run (it leads to a): b is captured before its hook (6, 12), not after
    assert log[-1] == ("got", ([180.0, 360.0], [6.0, 12.0]), None)
    assert ("acc.pre", ([180.0, 360.0],)) not in log  # grad() does not run a's AccumulateGrad


# ---------------------------------------------------------------------------------------
# Handles


def test_remove_inside_a_hook_and_between_backwards(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    calls = []
    handles = []

    def once(g):
        calls.append(g.tolist())
        handles[0].remove()

    handles.append(b.register_hook(once))
    keep = b.register_hook(lambda g: calls.append("kept"))
    y = (b * b).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    keep.remove()
    keep.remove()  # removing twice is harmless
    y.backward()
    assert calls == [[6.0, 12.0], "kept", "kept"]


def test_handles_of_every_kind_remove(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    calls = []
    hs = [b.register_hook(lambda g: calls.append("t")),
          a.register_hook(lambda g: calls.append("leaf")),
          a.register_post_accumulate_grad_hook(lambda t: calls.append("post_acc")),
          b.grad_fn.register_prehook(lambda go: calls.append("pre")),
          b.grad_fn.register_hook(lambda gi, go: calls.append("post")),
          b.grad_fn.next_functions[0][0].register_prehook(lambda go: calls.append("acc.pre"))]
    for h in hs:
        h.remove()
    b.sum().backward()
    assert calls == [] and a.grad.tolist() == [3.0, 3.0]


def test_handle_as_context_manager():
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    with a.register_hook(lambda g: calls.append(1)):
        (a * 2).sum().backward()
    (a * 2).sum().backward()
    assert calls == [1]


# ---------------------------------------------------------------------------------------
# Errors: torch's checks of what hooks return


def _nonleaf(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    return a, a * 2


def wrong_size(m, log):
    a, b = _nonleaf(m)
    b.register_hook(lambda g: g.sum())
    b.sum().backward()


def wrong_size_on_leaf(m, log):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: g.sum())
    (a * 2).sum().backward()


def wrong_dtype(m, log):
    a, b = _nonleaf(m)
    b.register_hook(lambda g: g.double())
    b.sum().backward()


def not_a_tensor(m, log):
    a, b = _nonleaf(m)
    b.register_hook(lambda g: 3.0)
    b.sum().backward()


def prehook_wrong_count(m, log):
    a, b = _nonleaf(m)
    b.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    b.sum().backward()


def prehook_not_a_tuple(m, log):
    a, b = _nonleaf(m)
    b.grad_fn.register_prehook(lambda go: [go[0]])
    b.sum().backward()


def prehook_wrong_size(m, log):
    a, b = _nonleaf(m)
    b.grad_fn.register_prehook(lambda go: (go[0].sum(),))
    b.sum().backward()


def posthook_wrong_count(m, log):
    a, b = _nonleaf(m)
    b.grad_fn.register_hook(lambda gi, go: (gi[0],))  # MulBackward0 has two grad_inputs
    b.sum().backward()


def posthook_replaces_none(m, log):
    a, b = _nonleaf(m)
    b.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    b.sum().backward()


def named_hook(m, log):
    def double_it(g):
        return m.stack([g, g])

    a, b = _nonleaf(m)
    b.register_hook(double_it)
    b.sum().backward()


def hook_on_tensor_without_grad(m, log):
    m.tensor([1.0]).register_hook(lambda g: g)


def post_acc_on_nonleaf(m, log):
    _nonleaf(m)[1].register_post_accumulate_grad_hook(lambda t: None)


ERROR_SCENARIOS = [wrong_size, wrong_size_on_leaf, wrong_dtype, not_a_tensor, prehook_wrong_count,
                   prehook_not_a_tuple, prehook_wrong_size, posthook_wrong_count,
                   posthook_replaces_none, named_hook, hook_on_tensor_without_grad,
                   post_acc_on_nonleaf]


@pytest.mark.parametrize("scenario", ERROR_SCENARIOS, ids=[s.__name__ for s in ERROR_SCENARIOS])
def test_hook_errors_match_torch(scenario):
    log = same_as_torch(scenario)
    assert log and log[-1][0] == "raised"


# ---------------------------------------------------------------------------------------
# A node's post-hook sees torch's grad_inputs: one per input, in the input's shape and
# dtype, None for an input that needs no gradient; and may replace them as such


def _post_hook_sees(make):
    def scenario(m, log):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = make(m, x)
        def seen(g):
            return None if g is None else (tuple(g.shape), str(g.dtype).split(".")[-1], fmt(g))
        out.grad_fn.register_hook(lambda gi, go: log.append(("post", tuple(seen(g) for g in gi))))
        out.sum().backward()
        log.append(("x.grad", fmt(x.grad)))
    return scenario


POST_HOOK_INPUTS = {
    "mul broadcast": lambda m, x: x * m.ones(2, 3, requires_grad=True),
    "add of a constant": lambda m, x: x + m.tensor([1.5, 2.5, 0.5]),
    "sub of a constant": lambda m, x: x - m.tensor([1.5, 2.5, 0.5]),
    "add of a number": lambda m, x: x + 2.0,
    "add with alpha": lambda m, x: m.add(x, m.ones(2, 3), alpha=3),
    "div broadcast": lambda m, x: m.ones(2, 3, requires_grad=True) / x,
    "where": lambda m, x: m.where(x > 1, x, m.ones(2, 3, requires_grad=True)),
    "maximum": lambda m, x: m.maximum(x, m.zeros(2, 1, requires_grad=True)),
    "outer": lambda m, x: m.outer(x, x),
    "linear's bias": lambda m, x: m.nn.functional.linear(m.ones(2, 3), m.ones(4, 3, requires_grad=True),
                                                         x.sum() * m.ones(4)),
    "float64 times float32": lambda m, x: x * m.ones(2, 3, dtype=m.float64, requires_grad=True),
}


@pytest.mark.parametrize("make", POST_HOOK_INPUTS.values(), ids=POST_HOOK_INPUTS.keys())
def test_a_post_hook_sees_grad_inputs_as_torchs_node_gives_them(make):
    same_as_torch(_post_hook_sees(make))


def test_a_post_hook_may_replace_a_broadcast_operands_gradient_in_its_shape():
    def scenario(m, log):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        big = m.ones(2, 3, requires_grad=True)
        z = x * big
        z.grad_fn.register_hook(lambda gi, go: (m.tensor([5.0, 6.0, 7.0]), gi[1]))
        z.sum().backward()
        log.append((fmt(x.grad), fmt(big.grad)))
    assert same_as_torch(scenario) == [([5.0, 6.0, 7.0], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])]
