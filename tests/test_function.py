"""Custom autograd.Function: the same program on tape and torch gives the same results."""

import gc
import warnings

import numpy as np
import pytest
import torch
from helpers import compare, doubling_in_place, make_cube

import tape


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_node_name_and_next_functions(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(mod).apply(x, 2.0)
    assert type(y.grad_fn).__name__ == "CubeBackward"
    (acc, idx), = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and idx == 0


def run_cube(mod):
    x = mod.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    y = make_cube(mod).apply(x, 2.0)
    y.sum().backward()
    first = x.grad.detach().numpy().copy()
    x.grad = None
    (g,) = mod.autograd.grad(make_cube(mod).apply(x, 2.0).sum(), x, create_graph=True)
    g.sum().backward()
    return first, x.grad.detach().numpy()


def test_gradients_and_double_backward_match_torch():
    got, want = run_cube(tape), run_cube(torch)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])  # the backward built of tape ops is differentiable
    np.testing.assert_allclose(got[0], 6 * np.array([0.5, -1.5, 2.0]) ** 2)


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_saved_input_modified_in_place_raises(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    x = a * 1
    y = make_cube(mod).apply(x, 1.0)
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_second_backward_raises_after_saved_freed(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(mod).apply(x, 1.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_needs_input_grad_and_non_differentiable_outputs(mod):
    seen = {}

    class SplitSign(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            s = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(s)
            return x * 2, s

        @staticmethod
        def backward(ctx, g, gs):
            return g * 2, None

    x = mod.tensor([1.0, -2.0], requires_grad=True)
    y = mod.tensor([1.0, 1.0])
    out, s = SplitSign.apply(x, y)
    assert seen["needs"] == (True, False)
    assert out.requires_grad and not s.requires_grad
    out.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------------------------
# The remaining points of torch's Function, each compared with torch


def _log_calls(fn):
    """fn(m) with tape and torch: results (or the error) must agree."""
    return compare(fn)


def test_mark_dirty_in_place_forward():
    def body(m):
        class AddOne(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = a * 3
        before = b._version
        c = AddOne.apply(b)
        same = c is b
        names = (type(c.grad_fn).__name__, type(c.grad_fn.next_functions[0][0]).__name__)
        (c * c).sum().backward()
        return same, b._version - before, names, a.grad, b

    _log_calls(body)


def test_mark_dirty_with_a_saved_output():
    def body(m):
        class Exp_(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.exp_()
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, g):
                (r,) = ctx.saved_tensors
                return r * g

        a = m.tensor([1.0, 2.0], requires_grad=True)
        (Exp_.apply(a * 1) * 2).sum().backward()
        return a.grad

    _log_calls(body)


@pytest.mark.parametrize("case", ["leaf", "not returned"])
def test_mark_dirty_errors(case):
    def body(m):
        class Dirty(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x if case == "leaf" else x * 2

            @staticmethod
            def backward(ctx, g):
                return g

        a = m.tensor([1.0, 2.0], requires_grad=True)
        return Dirty.apply(a if case == "leaf" else a * 1)

    phrase = ("a leaf Variable that requires grad has been used in an in-place operation"
              if case == "leaf" else "Some elements marked as dirty during the forward method were not "
                                     "returned as output")
    compare(body, phrase=phrase)


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(materialize):
    def body(m):
        seen = []

        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append((g1, g2))
                total = 0
                if g1 is not None:
                    total = total + 2 * g1
                if g2 is not None:
                    total = total + 3 * g2
                return total

        x = m.tensor([1.0, 2.0], requires_grad=True)
        a, b = Two.apply(x)
        a.sum().backward()
        return seen, x.grad

    _log_calls(body)


def test_once_differentiable_double_backward_raises_torchs_error():
    def body(m):
        once = m.autograd.function.once_differentiable  # where torch keeps it

        class Sq(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = m.tensor([1.0, 2.0], requires_grad=True)
        first = m.autograd.grad(Sq.apply(x).sum(), x)  # plain backward works
        y = Sq.apply(x)
        (g,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        assert type(g.grad_fn).__name__ == "Error" and g.grad_fn.name() == "torch::autograd::Error"
        g.sum().backward()
        return first

    compare(body, phrase="trying to differentiate twice a function that was marked with "
                         "@once_differentiable")


def test_multiple_outputs_and_non_tensor_arguments():
    def body(m):
        class Scale(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, name, y):
                ctx.k = k
                ctx.save_for_backward(x, y)
                return x * k + y, x * y, name

            @staticmethod
            def backward(ctx, g1, g2, g_name):
                x, y = ctx.saved_tensors
                return g1 * ctx.k + g2 * y, None, None, g1 + g2 * x

        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = m.tensor([3.0, 4.0], requires_grad=True)
        out1, out2, name = Scale.apply(x, 2.5, "hi", y)
        (out1.sum() + (out2 * out2).sum()).backward()
        return name, out1.grad_fn.next_functions, out2.grad_fn is out1.grad_fn, x.grad, y.grad

    _log_calls(body)


def test_setup_context_style():
    def body(m):
        class Mul(m.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None

        x = m.tensor([1.0, 2.0], requires_grad=True)
        Mul.apply(x, 3.0).sum().backward()
        return x.grad

    _log_calls(body)


def _bad_backward(kind):
    def body(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return {"too many": (g, None, g), "grad for a number": (g, g),
                        "wrong shape": (g.sum(), None), "not a tensor": (3.0, None),
                        "extra Nones are fine": (g, None, None)}[kind]

        x = m.tensor([1.0, 2.0], requires_grad=True)
        F.apply(x, 2.0).sum().backward()
        return x.grad

    return body


@pytest.mark.parametrize("kind, phrase", [
    ("too many", "returned an incorrect number of gradients (expected 2, got 3)"),
    ("grad for a number", "returned a gradient different than None at position 2, but the "
                          "corresponding forward input was not a Variable"),
    ("wrong shape", "returned an invalid gradient at index 0 - got [] but expected shape compatible "
                    "with [2]"),
    ("not a tensor", "expected Variable or None (got float)"),
    ("extra Nones are fine", None),
])
def test_backward_results_are_checked_as_torch(kind, phrase):
    compare(_bad_backward(kind), phrase=phrase)


def test_double_backward_through_a_saved_output():
    """A Function saving its output: under create_graph the saved output is the node's output
    again, so the gradient of the gradient flows through it (as torch)."""
    def body(m):
        class Exp(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        x = m.tensor([0.5, 1.0], dtype=m.float64, requires_grad=True)
        (g,) = m.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
        (g2,) = m.autograd.grad(g.sum(), x)
        return g, g2

    compare(body, rtol=1e-12)


def test_function_backward_built_of_tape_ops_gives_third_derivatives():
    def body(m):
        x = m.tensor([0.5, -1.5], dtype=m.float64, requires_grad=True)
        cube = make_cube(m)
        (g1,) = m.autograd.grad(cube.apply(x, 2.0).sum(), x, create_graph=True)
        (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x)
        return g1, g2, g3

    compare(body, rtol=1e-12)


def test_a_function_node_reads_its_ctx(mod):
    """torch's node of a custom Function is its ctx: what forward set, needs_input_grad and
    saved_tensors read through `grad_fn`; other names still raise AttributeError."""

    class Scale(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            ctx.save_for_backward(x)
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = mod.tensor([1.0, 2.0], requires_grad=True)
    node = Scale.apply(x, 3.0).grad_fn
    assert node.k == 3.0 and node.needs_input_grad == (True, False)
    assert node.saved_tensors[0] is x
    with pytest.raises(AttributeError, match="'ScaleBackward' object has no attribute 'missing'"):
        _ = node.missing


def test_materialized_gradient_of_an_output_that_is_gone():
    """An output nobody holds any more gets a zero gradient of its own shape and dtype."""
    def body(m):
        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, a.double() * 3

            @staticmethod
            def backward(ctx, gy, gz):
                seen.append((tuple(gz.shape), str(gz.dtype).split(".")[-1], gz.tolist()))
                return gy * 2 + gz.reshape(2).float() * 3

        seen = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y, z = S.apply(x)
        del z
        gc.collect()
        y.sum().backward()
        return x.grad, seen

    compare(body)


@pytest.mark.parametrize("rules", ["vjp", "both"])
def test_vjp_is_the_backward_rule_under_torch_other_name(rules):
    def body(m):
        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 1

            @staticmethod
            def vjp(ctx, g):
                return g * 5

        if rules == "both":
            S.backward = staticmethod(lambda ctx, g: g)
        x = m.tensor([1.0, 2.0], requires_grad=True)
        S.apply(x).sum().backward()
        return x.grad

    compare(body)


def test_saved_tensors_read_inside_forward_is_empty():
    def body(m):
        seen = []

        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                seen.append(ctx.saved_tensors)  # torch: saved when forward has returned
                return a * 2

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return g * a

        x = m.tensor([1.0, 3.0], requires_grad=True)
        S.apply(x).sum().backward()
        return seen, x.grad

    compare(body)


def test_mark_dirty_of_a_tensor_that_is_no_input_warns():
    def body(m):
        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                y = a * 2
                ctx.mark_dirty(y)
                return y

            @staticmethod
            def backward(ctx, g):
                return g

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = S.apply(m.ones(2, requires_grad=True))
        said = [str(w.message) for w in caught]
        return y._version, type(y.grad_fn).__name__, [s[:95] for s in said if "mark_dirty" in s]

    compare(body)


@pytest.mark.parametrize("returns", ["a view made in forward", "its input as is"])
def test_a_view_a_function_returned_refuses_in_place(returns):
    """torch forbids it: view+inplace would bypass the Function's own backward."""
    def body(m):
        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a[:1] if returns == "a view made in forward" else a

            @staticmethod
            def backward(ctx, g):
                return g

        y = S.apply(m.ones(2, requires_grad=True) * 1)
        with m.no_grad():
            y.mul_(2)  # (allowed without grad mode)
        y.mul_(2)

    compare(body, phrase="Output 0 of S is a view and is being modified inplace. This view was "
                         "created inside a custom Function (or because an input was returned as-is)")


@pytest.mark.parametrize("use", ["grad_fn", "backward"])
def test_a_view_a_function_returned_whose_base_changed_says_so(use):
    """Its base changed in place: torch's error names the Function's output, not no_grad
    mode (the view was made under the Function's own no_grad, which the user never wrote)."""
    def body(m):
        class Fn(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.view(3)

            @staticmethod
            def backward(ctx, g):
                return g

        z = m.ones(3, requires_grad=True) * 1
        y = Fn.apply(z)
        z.mul_(2)
        return y.grad_fn if use == "grad_fn" else (y * 2).sum().backward()

    compare(body, phrase="Output 0 of Fn is a view and its base or another view of its base has "
                         "been modified inplace. This view was created inside a custom Function")


# ---------------------------------------------------------------------------------------
# What apply() returns and checks around inputs returned as they are, dirty views, and a
# graph run twice, each compared with torch


def _identity(m, backward=lambda ctx, g: g):
    class Id(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return backward(ctx, g)

    return Id


def _saving(m, reads):
    class S(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0] if reads else g * 2

    return S


def _unrecorded_identity(m, mode):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    w = m.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    with mode(m):
        r = _identity(m).apply(y)
    if r.requires_grad:
        (r * w).sum().backward()
    return r is y, r.requires_grad, r.grad_fn, r._version, x.grad


def _unrecorded_dirty(m, make):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    given = make(x)
    with m.no_grad():
        r = doubling_in_place(m).apply(given)
    return r is given, r.requires_grad, r.is_leaf, r.grad_fn, r * 1, x, x._version


def _saved_input_returned(m):
    seen = []

    class S(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            seen.append((s.is_leaf, s.grad_fn))
            return g

    x = m.tensor([1.0, 3.0], requires_grad=True)
    S.apply(x).sum().backward()
    return seen


def _base_of_returned_input_changed(m, use):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    r = _identity(m, lambda ctx, g: g * 7).apply(y)
    y.mul_(2)
    return r.grad_fn if use == "grad_fn" else r.sum().backward()


def _view_input_returned(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    r = _identity(m, lambda ctx, g: g * 2).apply((x * 1)[1:])
    r.sum().backward()
    return x.grad, r.grad_fn, r._base is not None


def _twice(m, reads):
    x = m.tensor([1.0, 3.0], requires_grad=True)
    y = _saving(m, reads).apply(x).sum()
    y.backward()
    y.backward()
    return x.grad


APPLY_CASES = [
    ("an input returned under no_grad", lambda m: _unrecorded_identity(m, lambda m: m.no_grad())),
    ("an input returned in inference mode", lambda m: _unrecorded_identity(m, lambda m: m.inference_mode())),
    ("an input returned with no input requiring grad", lambda m: (lambda x, r: (
        r is x, r.add_(1), x, x._version, r.requires_grad))(*(lambda x: (x, _identity(m).apply(x)))(
            m.tensor([1.0, 2.0])))),
    ("a dirty leaf under no_grad", lambda m: _unrecorded_dirty(m, lambda x: x)),
    ("a dirty non-leaf under no_grad", lambda m: _unrecorded_dirty(m, lambda x: x * 1)),
    ("a dirty view of a non-leaf under no_grad", lambda m: _unrecorded_dirty(m, lambda x: (x * 1)[:2])),
    ("a dirty view of a leaf under no_grad", lambda m: _unrecorded_dirty(m, lambda x: x[:2])),
    ("a view input returned as is", lambda m: _view_input_returned(m)),
    ("a dirty view of a non-leaf", lambda m: (lambda x: (lambda y: (
        doubling_in_place(m).apply(y[:2]).sum().backward(), x.grad, y.grad_fn))(x * 1))(
            m.tensor([1.0, 2.0, 3.0], requires_grad=True))),
    ("a saved input also returned is the input", _saved_input_returned),
    ("a second backward that reads nothing saved", lambda m: _twice(m, reads=False)),
]

APPLY_ERRORS = [
    ("a second backward that reads what was saved", lambda m: _twice(m, reads=True),
     "Trying to backward through the graph a second time"),
    *[(f"a dirty {name} of a leaf", lambda m, view=view: doubling_in_place(m).apply(
        view(m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))),
       "a view of a leaf Variable that requires grad is being used in an in-place operation.")
      for name, view in (("slice", lambda x: x[:1]), ("transpose", lambda x: x.t()),
                         ("view", lambda x: x.view(4)))],
    *[(f"the base of an input returned as is changed, then {use}",
       lambda m, use=use: _base_of_returned_input_changed(m, use),
       "Output 0 of Id is a view and its base or another view of its base has been modified inplace")
      for use in ("grad_fn", "backward")],
]


@pytest.mark.parametrize("body", [c[1] for c in APPLY_CASES], ids=[c[0] for c in APPLY_CASES])
def test_apply_outputs_like_torch(body):
    compare(body)


@pytest.mark.parametrize("body, phrase", [c[1:] for c in APPLY_ERRORS], ids=[c[0] for c in APPLY_ERRORS])
def test_apply_errors_like_torch(body, phrase):
    compare(body, phrase=phrase)
