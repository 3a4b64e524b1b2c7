"""Suites driven by the op database (tests/opdb.py): every entry x every sample.

- forward against the numpy reference (float64);
- gradcheck: central finite differences against tape's backward, random upstream gradient;
- gradgradcheck: the same for the gradient itself (create_graph=True, the tape primitives);
- torch parity in float32 and float64: values, dtypes, gradients, node-name trees, saved tensors;
- broadcasting: gradients of broadcast inputs equal those of explicitly expanded copies;
- in-place forms: bump `_version`, give the out-of-place values and gradients;
- integer inputs: torch's result dtypes;
- tape.compile: one compiled function over three sets of values equals eager exactly;
- coverage: every node in ops.registry.OPS has an entry, and entries reach the nodes they name.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from tape.ops import registry

import tape

try:
    from . import opdb
except ImportError:
    import opdb

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0), 1/0: as torch, silently

CASES = [pytest.param(e, i, id=f"{e.name}[{i}:{s.desc}]") for e in opdb.OPS_DB
         for i, s in enumerate(e.samples)]
DIFF_CASES = [c for c in CASES if c.values[0].differentiable and c.values[0].samples[c.values[1]].gradcheck]
GRADGRAD_CASES = [c for c in DIFF_CASES if c.values[0].gradgrad
                  and c.values[0].samples[c.values[1]].numel() <= 40]
def _fits_inplace(entry, index) -> bool:
    """In-place needs a float x whose shape the result keeps (torch refuses to broadcast x)."""
    arrays = entry.make(index)
    return arrays[0].dtype.kind == "f" and np.broadcast_shapes(*(a.shape for a in arrays)) == arrays[0].shape


INPLACE_CASES = [c for c in CASES if c.values[0].inplace is not None and _fits_inplace(*c.values)]
VIEW_INPLACE_CASES = [c for c in INPLACE_CASES if c.values[0].make(c.values[1])[0].ndim]
BROADCAST_CASES = [c for c in CASES if c.values[0].broadcasting and c.values[0].differentiable
                   and len({a if isinstance(a, tuple) else a.shape
                            for a in c.values[0].samples[c.values[1]].args}) > 1]
INT_CASES = [c for c in CASES if c.values[0].int_inputs]
DTYPES = [pytest.param(opdb.F32, id="f32"), pytest.param(opdb.F64, id="f64")]
# _saved_* attributes tape does not show in torch's form: (entry, sample) -> (attribute, why)
_EMPTY_STRIDES = "an empty tensor made from numpy: torch.tensor copies numpy's strides, (0, 0)"
SAVED_ATTRIBUTE_GAPS = {
    ("amax", "0d,dim=0"): (("_saved_dim",), "a 0-d input's dims are None to the op: torch keeps (0,)"),
    ("logsumexp", "0d,dim=0"): (("_saved_dim",), "a 0-d input's dims are None to the op: torch keeps (0,)"),
    ("mm", "2x0,0x3"): (("_saved_self_sym_strides", "_saved_mat2_sym_strides"), _EMPTY_STRIDES),
    ("nn.linear", "0x3,4x3,4"): (("_saved_mat1_sym_strides",), _EMPTY_STRIDES),
    ("addmm", "2x1,2x0,0x3"): (("_saved_mat1_sym_strides", "_saved_mat2_sym_strides"), _EMPTY_STRIDES),
}


# ---------------------------------------------------------------------------------------
# Running an entry on a module


def _tensors(mod, arrays, dtype, requires_grad=True):
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(mod.tensor(a.astype(dtype), requires_grad=requires_grad))
        else:
            out.append(mod.tensor(a))
    return out


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _is_float(t) -> bool:
    return t.dtype.is_floating_point


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().numpy(force=True))  # (force: torch's sgn gives a ZeroTensor)


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _upstream(entry, index, outs):
    """A random upstream gradient per floating output (the same for tape and torch)."""
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}/{index}/upstream".encode()))
    return [rng.standard_normal(tuple(o.shape)) if _is_float(o) else None for o in outs]


def _run(mod, entry, index, dtype, arrays=None, requires_grad=True):
    """(inputs, outputs) of sample `index` on `mod`."""
    arrays = entry.make(index) if arrays is None else arrays
    ins = _tensors(mod, arrays, dtype, requires_grad)
    return ins, _outputs(entry.fn(mod, *ins, **entry.samples[index].kwargs))


def _grads(mod, ins, outs, ups, create_graph=False):
    """Gradients of sum(<up, out>) w.r.t. every input requiring grad (None where unused)."""
    pairs = [(o, u) for o, u in zip(outs, ups) if u is not None and o.requires_grad]
    diff_ins = [t for t in ins if t.requires_grad]
    if not pairs or not diff_ins:
        return [None] * len(diff_ins)
    # with create_graph the upstream gradient requires grad too, so the gradient is recorded
    gs = [mod.tensor(u.astype(_np(o).dtype), requires_grad=create_graph) for o, u in pairs]
    return list(mod.autograd.grad([o for o, _ in pairs], diff_ins, grad_outputs=gs,
                                  allow_unused=True, create_graph=create_graph))


def _tree(node):
    """The node-name tree below `node`: (class name, ((child tree, output index), ...))."""
    if node is None:
        return None
    return (type(node).__name__, tuple((_tree(n), i) for n, i in node.next_functions))


def _close(actual, expected, tol, what):
    rtol, atol = tol
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind == "b" or expected.dtype.kind == "b":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


# ---------------------------------------------------------------------------------------
# Forward against numpy


@pytest.mark.parametrize("entry, index", CASES)
def test_forward_matches_numpy(entry, index):
    arrays = entry.make(index)
    _, outs = _run(tape, entry, index, opdb.F64, arrays, requires_grad=False)
    ref = entry.ref(*arrays, **entry.samples[index].kwargs)
    refs = _outputs(ref)
    assert len(outs) == len(refs)
    for k, (o, r) in enumerate(zip(outs, refs)):
        _close(_np(o), np.asarray(r), entry.tol[opdb.F64], f"output {k}")


# ---------------------------------------------------------------------------------------
# Gradients against finite differences


def _scalar(entry, index, arrays, ups):
    """sum_k <up_k, out_k(arrays)>, computed by tape without recording."""
    with tape.no_grad():
        _, outs = _run(tape, entry, index, opdb.F64, arrays, requires_grad=False)
    return sum(float(np.sum(_np(o).astype(np.float64) * u)) for o, u in zip(outs, ups) if u is not None)


def _numeric(f, arrays, which, eps):
    """Central differences of scalar f(arrays) w.r.t. arrays[which]."""
    base = [a.copy() for a in arrays]
    x = base[which]
    out = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        old = x[j]
        x[j] = old + eps
        hi = f(base)
        x[j] = old - eps
        lo = f(base)
        x[j] = old
        out[j] = (hi - lo) / (2 * eps)
    return out


@pytest.mark.parametrize("entry, index", DIFF_CASES)
def test_gradcheck(entry, index):
    arrays = entry.make(index)
    ins, outs = _run(tape, entry, index, opdb.F64, arrays)
    ups = _upstream(entry, index, outs)
    grads = _grads(tape, ins, outs, ups)
    float_idx = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    for i, g in zip(float_idx, grads):
        num = _numeric(lambda arrs: _scalar(entry, index, arrs, ups), arrays, i, entry.gradcheck_eps)
        got = np.zeros_like(arrays[i]) if g is None else _np(g)
        assert got.shape == arrays[i].shape, f"input {i}: gradient shape {got.shape}"
        rtol, atol = entry.gradcheck_tol
        np.testing.assert_allclose(got, num, rtol=rtol, atol=atol, err_msg=f"d/d input {i}")


@pytest.mark.parametrize("entry, index", GRADGRAD_CASES)
def test_gradgradcheck(entry, index):
    """Differentiate <v, grad> w.r.t. the inputs and the upstream gradient (create_graph)."""
    arrays = entry.make(index)
    ins, outs = _run(tape, entry, index, opdb.F64, arrays)
    ups = _upstream(entry, index, outs)
    pairs = [(o, u) for o, u in zip(outs, ups) if u is not None and o.requires_grad]
    up_t = [tape.tensor(u, requires_grad=True) for _, u in pairs]
    diff_ins = [t for t in ins if t.requires_grad]
    gs = tape.autograd.grad([o for o, _ in pairs], diff_ins, grad_outputs=up_t, create_graph=True,
                            allow_unused=True)
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}/{index}/v".encode()))
    vs = [None if g is None else rng.standard_normal(tuple(g.shape)) for g in gs]
    used = [(g, v) for g, v in zip(gs, vs) if g is not None]
    # a gradient that depends on nothing differentiable is zeros with no graph, as torch's
    # zeros_like(grad) (sign, fill_, x ** 0); test_double_backward_graph_like_torch checks
    # that exactly these are unrecorded
    for g, _ in used:
        if not g.requires_grad:
            assert not np.any(_np(g)), "an unrecorded first-order gradient is not zero"
    used = [(g, v) for g, v in used if g.requires_grad]
    if not used:
        return
    wrt = diff_ins + up_t
    second = tape.autograd.grad([g for g, _ in used], wrt, grad_outputs=[tape.tensor(v) for _, v in used],
                                allow_unused=True)
    float_idx = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    n_in = len(float_idx)

    def psi(values):
        # <v, grad(x, up)> with the first-order gradient from plain playback
        xs, us = values[:n_in], values[n_in:]
        full = list(arrays)
        for i, x in zip(float_idx, xs):
            full[i] = x
        ins2, outs2 = _run(tape, entry, index, opdb.F64, full)
        ups2 = list(ups)
        it = iter(us)
        for k, u in enumerate(ups2):
            if u is not None and outs2[k].requires_grad:
                ups2[k] = next(it)
        g2 = _grads(tape, ins2, outs2, ups2)
        return sum(float(np.sum(_np(g) * v)) for g, v in zip(g2, vs) if g is not None)

    values = [arrays[i] for i in float_idx] + [u for _, u in pairs]
    for j, s in enumerate(second):
        num = _numeric(psi, values, j, entry.gradcheck_eps)
        got = np.zeros_like(values[j]) if s is None else _np(s)
        rtol, atol = entry.gradcheck_tol
        np.testing.assert_allclose(got, num, rtol=10 * rtol, atol=10 * atol,
                                   err_msg=f"second derivative w.r.t. {'input' if j < n_in else 'up'} {j}")


# ---------------------------------------------------------------------------------------
# Double backward: the graph of a recorded gradient against torch's

# Entries whose recorded gradients (create_graph=True) build another graph than torch's,
# and why; their values are checked all the same (gradgradcheck above), and so is which
# gradients require grad. test_listed_double_backward_differences_are_real keeps the list
# honest: an entry that comes to match must leave it.
_ZERO_D = ("0-d samples: numpy cannot scatter into a 0-d array, so tape's rule reshapes to one "
           "element and back (ViewBackward0) where torch scatters directly")
GRADGRAD_TREES_DIFFER = {
    "amax": "0-d input with dim=0: torch's gradient passes through a one-element shape and is "
            "summed back (SumBackward0)",
    "gather": _ZERO_D,
    "index_select": _ZERO_D,
    "masked_fill_tensor": "the value's gradient: torch sums masked_select(grad, mask), an op tape "
                          "does not have; tape sums where(mask, grad, 0)",
    "nn.linear": "torch's mm backward picks its formula by the operand's memory layout ((g^T x)^T "
                 "for the transposed weight); tape's rules do not look at strides",
    "nn.linear_strided": "as nn.linear: torch's formula depends on the operands' strides",
    "prod": "torch differentiates through cumprod, flip and cat (prod_safe_zeros_backward) where "
            "inputs hold zeros; tape's rule through where, prod and sum (same values)",
    "setitem": "a write into a view: torch's CopySlices graph (CopyBackwards, AsStridedBackward0, "
               "CloneBackward0) against tape's rewrite of the base (reshape, take, index_put)",
}


def _recorded_grads(mod, entry, index, arrays):
    ins, outs = _run(mod, entry, index, opdb.F64, arrays)
    return _grads(mod, ins, outs, _upstream(entry, index, outs), create_graph=True)


def _gradgrad_trees(entry, index):
    """[(tape's gradient, torch's)] with create_graph (the upstream gradient requires grad)."""
    arrays = entry.make(index)
    return list(zip(_recorded_grads(tape, entry, index, arrays),
                    _recorded_grads(torch, entry, index, arrays)))


@pytest.mark.parametrize("entry, index", DIFF_CASES)
def test_double_backward_graph_like_torch(entry, index):
    """The recorded first-order gradients: present, requiring grad, and with torch's node
    tree (TanhBackwardBackward0, MulBackward1 for a rule's `grad * 2`, ...)."""
    for i, (a, b) in enumerate(_gradgrad_trees(entry, index)):
        assert (a is None) == (b is None), f"input {i}: gradient presence"
        if a is None:
            continue
        assert a.requires_grad == b.requires_grad, f"input {i}: requires_grad"
        if entry.name not in GRADGRAD_TREES_DIFFER:
            assert _tree(a.grad_fn) == _tree(b.grad_fn), f"input {i}: node tree"


@pytest.mark.parametrize("name", sorted(GRADGRAD_TREES_DIFFER))
def test_listed_double_backward_differences_are_real(name):
    entry = opdb.BY_NAME[name]
    differ = False
    for index in range(len(entry.samples)):
        if entry.samples[index].gradcheck:
            for a, b in _gradgrad_trees(entry, index):
                if a is not None and b is not None and _tree(a.grad_fn) != _tree(b.grad_fn):
                    differ = True
    assert differ, f"{name} now builds torch's graphs: remove it from GRADGRAD_TREES_DIFFER"


# ---------------------------------------------------------------------------------------
# Torch parity


def _saved_tensors(node):
    """torch's `_saved_*` attributes that hold tensors, by name."""
    out = {}
    for name in dir(node):
        if name.startswith("_saved_"):
            value = getattr(node, name)
            if isinstance(value, torch.Tensor):
                out[name] = value
    return out


@pytest.mark.parametrize("entry, index", DIFF_CASES)
def test_non_finite_upstream_gradient_like_torch(entry, index):
    """An upstream gradient holding inf, -inf and NaN: each input gradient is torch's, where
    an entry's gradient does not depend on the upstream value (zeros_like(grad), ignored
    samples, masked entries) included, so inf * 0 = NaN must not leak in."""
    arrays = entry.make(index)
    t_ins, t_outs = _run(tape, entry, index, opdb.F64, arrays)
    p_ins, p_outs = _run(torch, entry, index, opdb.F64, arrays)
    ups = _upstream(entry, index, p_outs)
    for u in ups:
        for k, v in ((0, np.inf), (-1, np.nan), (1, -np.inf)):
            if u is not None and u.size > abs(k) + (k < 0):
                u.flat[k] = v
    for i, (a, b) in enumerate(zip(_grads(tape, t_ins, t_outs, ups), _grads(torch, p_ins, p_outs, ups))):
        assert (a is None) == (b is None), f"input {i}: gradient presence"
        if a is not None:
            _close(_np(a), _np(b), entry.tol[opdb.F64], f"input {i} gradient")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry, index", CASES)
def test_torch_parity(entry, index, dtype):
    arrays = entry.make(index)
    t_ins, t_outs = _run(tape, entry, index, dtype, arrays)
    p_ins, p_outs = _run(torch, entry, index, dtype, arrays)
    tol = entry.tol[dtype]
    assert len(t_outs) == len(p_outs)
    for k, (a, b) in enumerate(zip(t_outs, p_outs)):
        assert _dtype_name(a) == _dtype_name(b), f"output {k} dtype"
        _close(_np(a), _np(b), tol, f"output {k} value")
        assert a.requires_grad == b.requires_grad, f"output {k} requires_grad"
        assert _tree(a.grad_fn) == _tree(b.grad_fn), f"output {k} node tree"
    if not entry.differentiable:
        return
    ups = _upstream(entry, index, p_outs)
    for i, (a, b) in enumerate(zip(_grads(tape, t_ins, t_outs, ups), _grads(torch, p_ins, p_outs, ups))):
        assert (a is None) == (b is None), f"input {i}: gradient presence"
        if a is not None:
            assert _dtype_name(a) == _dtype_name(b), f"input {i}: gradient dtype"
            _close(_np(a), _np(b), tol, f"input {i} gradient")


def _output_nodes(entry, index):
    """(tape's, torch's) grad_fn of the first output in float64, or (None, None) when either
    has none or they are different nodes."""
    arrays = entry.make(index)
    _, t_outs = _run(tape, entry, index, opdb.F64, arrays)
    _, p_outs = _run(torch, entry, index, opdb.F64, arrays)
    node_t, node_p = t_outs[0].grad_fn, p_outs[0].grad_fn
    if node_p is None or node_t is None or type(node_t).__name__ != type(node_p).__name__:
        return None, None
    return node_t, node_p


@pytest.mark.parametrize("entry, index", [c for c in CASES if c.values[0].differentiable])
def test_saved_tensors_match_torch(entry, index):
    """The output node keeps the tensors torch keeps, under torch's names (`_saved_self`...)."""
    node_t, node_p = _output_nodes(entry, index)
    if node_p is None:
        return  # no graph, or a different node: test_torch_parity reports that
    for name, want in _saved_tensors(node_p).items():
        try:
            got = getattr(node_t, name)
        except AttributeError:
            pytest.fail(f"{type(node_p).__name__} has no {name} (torch saves it)")
        assert got is not None, f"{name} is None (torch saves a tensor)"
        # a Python number where torch keeps a wrapped-number 0-d tensor is the same value
        got = _np(got) if isinstance(got, tape.Tensor) else np.asarray(got)
        _close(got, _np(want), entry.tol[opdb.F64], name)


def _attr_value(v):
    """A saved attribute for comparison: tensors (also inside tuples) as arrays, sizes as tuples."""
    if isinstance(v, (torch.Tensor, tape.Tensor)):
        return ("tensor", _np(v).tolist(), _dtype_name(v))
    if isinstance(v, (tuple, list, torch.Size)):
        return tuple(_attr_value(x) for x in v)
    if isinstance(v, (torch.dtype, tape.dtype)):
        return str(v).rsplit(".", 1)[-1]
    return v


@pytest.mark.parametrize("entry, index", [c for c in CASES if c.values[0].differentiable])
def test_saved_attributes_match_torch(entry, index):
    """Every other `_saved_*` attribute of the output node (dims, sizes, strides, indices,
    numbers) is torch's, in torch's form: the values the op was called with, negative ints
    shown as torch's getters show them (unsigned, NOTE [unsigned saved ints] in ops/registry.py)."""
    node_t, node_p = _output_nodes(entry, index)
    if node_p is None:
        return  # no graph, or a different node: test_torch_parity reports that
    gaps = SAVED_ATTRIBUTE_GAPS.get((entry.name, entry.samples[index].desc), ((),))[0]
    for name in dir(node_p):
        if not name.startswith("_saved_") or name in gaps:
            continue
        want = getattr(node_p, name)
        if isinstance(want, torch.Tensor):
            continue  # test_saved_tensors_match_torch
        try:
            got = getattr(node_t, name)
        except AttributeError:
            pytest.fail(f"{type(node_p).__name__} has no {name} (torch has {want!r})")
        assert _attr_value(got) == _attr_value(want), name


def _first_plain_sample(entry):
    """The first gradcheck sample whose tensor inputs are all non-empty."""
    for i, smp in enumerate(entry.samples):
        arrays = entry.make(i)
        if smp.gradcheck and all(a.size for a in arrays):
            return i, arrays
    raise AssertionError(f"{entry.name}: no gradcheck sample with non-empty inputs")


def _modified_then_backward(mod, entry, index, arrays, target):
    """Run the op on non-leaf inputs, modify `target` (an input index, or "result") in place,
    then backward: which of torch's errors that raises, or None."""
    leaves = _tensors(mod, arrays, opdb.F64)
    ins = [t.clone() if t.requires_grad else t for t in leaves]
    outs = _outputs(entry.fn(mod, *ins, **entry.samples[index].kwargs))
    victim = outs[0] if target == "result" else ins[target]
    victim.mul_(1)  # same values, a new version
    try:
        _grads(mod, leaves, outs, _upstream(entry, index, outs))
    except RuntimeError as exc:
        for phrase in ("modified by an inplace operation", "is a view and its base"):
            if phrase in str(exc):
                return phrase
        raise
    return None


@pytest.mark.parametrize("entry", [e for e in opdb.OPS_DB if e.differentiable], ids=lambda e: e.name)
def test_saved_version_checks_like_torch(entry):
    """Modifying an input or the result in place breaks backward exactly when torch's does:
    the op saves what torch saves, no more, no less (STYLE lesson 4)."""
    index, arrays = _first_plain_sample(entry)
    targets = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    _, outs = _run(torch, entry, index, opdb.F64, arrays)
    if outs[0]._base is None and outs[0].requires_grad:  # views: in-place rewrites the base
        targets.append("result")
    for target in targets:
        ours = _modified_then_backward(tape, entry, index, arrays, target)
        theirs = _modified_then_backward(torch, entry, index, arrays, target)
        assert ours == theirs, f"modifying {target} in place: tape raises {ours}, torch {theirs}"


# ---------------------------------------------------------------------------------------
# Broadcasting


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


@pytest.mark.parametrize("entry, index", BROADCAST_CASES)
def test_broadcast_gradients(entry, index):
    """Gradients of broadcast inputs = gradients of expanded copies, summed back (in numpy)."""
    arrays = entry.make(index)
    ins, outs = _run(tape, entry, index, opdb.F64, arrays)
    ups = _upstream(entry, index, outs)
    direct = _grads(tape, ins, outs, ups)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    expanded = [np.broadcast_to(a, shape).copy() if a.dtype.kind == "f" else a for a in arrays]
    ins2, outs2 = _run(tape, entry, index, opdb.F64, expanded)
    full = _grads(tape, ins2, outs2, ups)
    float_arrays = [a for a in arrays if a.dtype.kind == "f"]
    for i, (a, d, f) in enumerate(zip(float_arrays, direct, full)):
        assert d is not None and tuple(d.shape) == a.shape, f"input {i}: gradient shape"
        np.testing.assert_allclose(_np(d), _sum_to(_np(f), a.shape), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# In-place forms


def _inplace_run(mod, entry, index, arrays, dtype):
    """x = leaf.clone(); inplace(x, ...): (leaves, result, x, version before, version after)."""
    leaves = _tensors(mod, arrays, dtype)
    x = leaves[0].clone()
    before = x._version
    y = entry.inplace(mod, x, *leaves[1:], **entry.samples[index].kwargs)
    return leaves, y, x, before, x._version


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry, index", INPLACE_CASES)
def test_inplace(entry, index, dtype):
    arrays = entry.make(index)
    leaves, y, x, v0, v1 = _inplace_run(tape, entry, index, arrays, dtype)
    p_leaves, p_y, p_x, p_v0, p_v1 = _inplace_run(torch, entry, index, arrays, dtype)
    assert y is x, "an in-place op returns its input"
    assert v1 == v0 + 1 and (v0, v1) == (p_v0, p_v1), "_version bump"
    assert _tree(x.grad_fn) == _tree(p_x.grad_fn), "node tree"
    ins, outs = _run(tape, entry, index, dtype, arrays)
    tol = entry.tol[dtype]
    _close(_np(x), _np(outs[0]), tol, "in-place value vs out-of-place")
    _close(_np(x), _np(p_x), tol, "in-place value vs torch")
    if not entry.differentiable:
        return
    ups = _upstream(entry, index, [x])
    got = _grads(tape, leaves, [x], ups)
    want = _grads(tape, ins, outs, ups)
    theirs = _grads(torch, p_leaves, [p_x], ups)
    for i, (a, b, c) in enumerate(zip(got, want, theirs)):
        assert (a is None) == (b is None) == (c is None), f"input {i}: gradient presence"
        if a is not None:
            _close(_np(a), _np(b), tol, f"input {i}: in-place vs out-of-place gradient")
            _close(_np(a), _np(c), tol, f"input {i}: in-place gradient vs torch")


@pytest.mark.parametrize("entry, index", VIEW_INPLACE_CASES)
def test_inplace_on_a_view(entry, index):
    """In-place on a view `x[:]` rewrites the base's history (torch's CopySlices)."""
    arrays = entry.make(index)
    results = []
    for mod in (tape, torch):
        leaves = _tensors(mod, arrays, opdb.F64)
        base = leaves[0].clone()
        view = base[:]
        entry.inplace(mod, view, *leaves[1:], **entry.samples[index].kwargs)
        ups = _upstream(entry, index, [base])
        results.append((_tree(base.grad_fn), _np(base), _grads(mod, leaves, [base], ups)))
    (tree, value, grads), (p_tree, p_value, p_grads) = results
    assert tree == p_tree, "base's node tree"
    tol = entry.tol[opdb.F64]
    _close(value, p_value, tol, "value")
    for i, (a, b) in enumerate(zip(grads, p_grads)):
        assert (a is None) == (b is None), f"input {i}: gradient presence"
        if a is not None:
            _close(_np(a), _np(b), tol, f"input {i} gradient")


def _inplace_second_order(mod, entry, index, arrays, on_view: bool):
    """Second-order gradients through the in-place form: x = leaf.clone() (or a view of
    it), inplace(x, ...), first-order gradients recorded, then their weighted sum's."""
    leaves = _tensors(mod, arrays, opdb.F64)
    x = leaves[0].clone()
    target = x[:] if on_view else x
    entry.inplace(mod, target, *leaves[1:], **entry.samples[index].kwargs)
    ups = _upstream(entry, index, [x])
    first = _grads(mod, leaves, [x], ups, create_graph=True)
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}/{index}/second".encode()))
    total = None
    for g in first:
        if g is not None and g.requires_grad:
            term = (g * mod.tensor(rng.standard_normal(tuple(g.shape)))).sum()
            total = term if total is None else total + term
    diff = [t for t in leaves if t.requires_grad]
    if total is None:
        return [None] * len(diff)
    return list(mod.autograd.grad(total, diff, allow_unused=True))


@pytest.mark.parametrize("on_view", [False, True], ids=["tensor", "view"])
@pytest.mark.parametrize("entry, index", [c for c in INPLACE_CASES if c in DIFF_CASES])
def test_inplace_second_order_like_torch(entry, index, on_view):
    """Differentiating twice through an in-place op: its saved original `self` keeps the
    history it had (as torch's), so the second-order gradient flows through it too."""
    arrays = entry.make(index)
    if on_view and not arrays[0].ndim:
        return  # (a 0-d tensor has no [:] view)
    got = _inplace_second_order(tape, entry, index, arrays, on_view)
    want = _inplace_second_order(torch, entry, index, arrays, on_view)
    for i, (a, b) in enumerate(zip(got, want)):
        assert (a is None) == (b is None), f"input {i}: second-order gradient presence"
        if a is not None:
            _close(_np(a), _np(b), entry.tol[opdb.F64], f"input {i} second-order gradient")


# ---------------------------------------------------------------------------------------
# Integer inputs


def _as_int(a):
    # away from 0 stays away from 0 (divisors), integers stay what they are
    return (np.sign(a) * np.ceil(np.abs(a))).astype(np.int64) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("entry, index", INT_CASES)
def test_integer_inputs(entry, index):
    arrays = [_as_int(a) for a in entry.make(index)]
    kwargs = entry.samples[index].kwargs
    outs = _outputs(entry.fn(tape, *[tape.tensor(a) for a in arrays], **kwargs))
    theirs = _outputs(entry.fn(torch, *[torch.tensor(a) for a in arrays], **kwargs))
    for k, (a, b) in enumerate(zip(outs, theirs)):
        assert _dtype_name(a) == _dtype_name(b), f"output {k} dtype"
        _close(_np(a), _np(b), entry.tol[opdb.F32], f"output {k} value")


# ---------------------------------------------------------------------------------------
# Coverage


def test_every_registered_op_has_an_entry():
    covered = {n for e in opdb.OPS_DB for n in e.nodes}
    missing = sorted(set(registry.OPS) - covered - set(opdb.INTERNAL))
    assert not missing, f"ops without an opdb entry: {missing}"
    stale = sorted(set(opdb.INTERNAL) - set(registry.OPS))
    assert not stale, f"INTERNAL names nodes that are not registered: {stale}"


def _nodes_in(tree, acc):
    if tree is None:
        return acc
    acc.add(tree[0])
    for child, _ in tree[1]:
        _nodes_in(child, acc)
    return acc


def _reached(entry) -> set:
    """Node names in the forward graphs of all of `entry`'s samples (float64)."""
    names = set()
    for i in range(len(entry.samples)):
        _, outs = _run(tape, entry, i, opdb.F64)
        for o in outs:
            _nodes_in(_tree(o.grad_fn), names)
    return names


@pytest.mark.parametrize("entry", [e for e in opdb.OPS_DB if e.differentiable], ids=lambda e: e.name)
def test_entry_reaches_its_nodes(entry):
    missing = sorted(set(entry.nodes) - _reached(entry))
    assert not missing, f"{entry.name} never records {missing}"


@pytest.mark.parametrize("entry", [e for e in opdb.OPS_DB if not e.differentiable], ids=lambda e: e.name)
def test_non_differentiable_entry(entry):
    """Ops whose results never require grad: registered without a backward, as torch."""
    for node in entry.nodes:
        assert registry.OPS[node].backward is None
    _, outs = _run(tape, entry, 0, opdb.F64)
    assert all(not o.requires_grad and o.grad_fn is None for o in outs)


def test_internal_nodes_are_reached_by_double_backward():
    """Each INTERNAL node appears in the graph of some entry's recorded gradient."""
    found = set()
    for entry in opdb.OPS_DB:
        if not entry.differentiable or not entry.gradgrad:
            continue
        for i in range(len(entry.samples)):
            try:
                ins, outs = _run(tape, entry, i, opdb.F64)
                grads = _grads(tape, ins, outs, _upstream(entry, i, outs), create_graph=True)
            except Exception:  # noqa: BLE001 - the entry's own tests report it
                continue
            for g in grads:
                if g is not None:
                    _nodes_in(_tree(g.grad_fn), found)
    missing = sorted(set(opdb.INTERNAL) - found)
    assert not missing, f"internal nodes no entry reaches: {missing}"


# ---------------------------------------------------------------------------------------
# Names: tape offers a function or method exactly where torch does


_NAMES = ("sqrt rsqrt abs absolute sin cos tan tanh sigmoid relu erf log1p expm1 clamp clip clamp_min "
          "clamp_max maximum minimum").split()


@pytest.mark.parametrize("name", _NAMES)
def test_functions_and_methods_exist_as_in_torch(name):
    for n in (name, name + "_"):
        assert hasattr(tape, n) == hasattr(torch, n), f"tape.{n}"
        assert hasattr(tape.Tensor, n) == hasattr(torch.Tensor, n), f"Tensor.{n}"


def test_builtin_abs_records_abs():
    """`abs(x)` goes through `__abs__`; abs'(0) = 0."""
    for m in (tape, torch):
        x = m.tensor([-1.5, 0.0, 2.0], requires_grad=True)
        y = abs(x)
        assert type(y.grad_fn).__name__ == "AbsBackward0"
        y.sum().backward()
        assert x.grad.tolist() == [-1.0, 0.0, 1.0]


# ---------------------------------------------------------------------------------------
# tape.compile: a replayed plan equals eager, on new values too (NOTE [guards])


def _eager_or_error(f, entry, index, arrays):
    """("ok", outputs, gradients) of one call of f, or ("raises", exception type)."""
    try:
        ins = _tensors(tape, arrays, opdb.F64)
        outs = _outputs(f(*ins))
        grads = _grads(tape, ins, outs, _upstream(entry, index, outs)) if entry.differentiable else []
        return ("ok", [_np(o) for o in outs], [None if g is None else _np(g) for g in grads])
    except Exception as exc:  # noqa: BLE001 - eager and compiled must raise alike
        return ("raises", type(exc))


def _compare_compiled(f, entry, index):
    """Three calls of tape.compile(f) against eager f: the recording, then two replays on
    other values of the same shapes, where a value baked into the plan would show."""
    compiled = tape.compile(f)
    for salt in ("", "/replay", "/replay again"):
        arrays = entry.make(index, salt)
        eager, got = (_eager_or_error(g, entry, index, arrays) for g in (f, compiled))
        if eager[0] == "raises":
            assert got == eager
        else:
            assert got[0] == "ok", got
            for kind, a, b in [("output", x, y) for x, y in zip(got[1], eager[1])] + [
                    ("gradient", x, y) for x, y in zip(got[2], eager[2])]:
                assert (a is None) == (b is None), kind
                if a is not None:
                    assert a.dtype == b.dtype and a.shape == b.shape, kind
                    np.testing.assert_array_equal(a, b, err_msg=f"{kind}, values{salt or ' (recording)'}")
    return compiled


@pytest.mark.parametrize("entry, index", INPLACE_CASES)
def test_compiled_inplace_equals_eager(entry, index):
    """NOTE [in-place ops in a plan]: an in-place op on a tensor made inside the function
    replays as its out-of-place op, with eager's values and gradients."""
    kwargs = entry.samples[index].kwargs

    def f(*ins):
        return entry.inplace(tape, ins[0].clone(), *ins[1:], **kwargs)

    compiled = _compare_compiled(f, entry, index)
    out_of_place = tape.compile(lambda *ins: entry.fn(tape, *ins, **kwargs))
    _eager_or_error(out_of_place, entry, index, entry.make(index))
    if not out_of_place.eager:  # (a 0-d mask, say, keeps both eager)
        assert not compiled.eager and compiled.stats["replayed"] == 3, \
            "the in-place op should replay as the op does"


@pytest.mark.parametrize("entry, index", CASES)
def test_compiled_equals_eager(entry, index):
    kwargs = entry.samples[index].kwargs

    def f(*ins):
        return entry.fn(tape, *ins, **kwargs)

    _compare_compiled(f, entry, index)
