"""torch.autograd.gradcheck / gradgradcheck: backward rules against finite differences.

gradcheck compares, for every differentiable output i and every input j that requires
grad, the Jacobian that backward computes (one vjp per output element, done twice to
catch non-determinism) with central differences (f(x + eps) - f(x - eps)) / 2 eps taken
one input element at a time. Both are laid out as torch lays them out: (input numel,
output numel). They must agree within |a - n| <= atol + rtol |n| (torch.allclose).
`fast_mode=True` compares v^T J u for random u, v instead (torch's fast mode), and redoes
the slow comparison to explain a failure. gradgradcheck runs gradcheck on the function
(inputs, grad_outputs) -> d<outputs, grad_outputs>/d inputs, with create_graph.

Returns True, or raises GradcheckError (a RuntimeError) with torch's message; with
raise_exception=False it returns False instead. Only the floating outputs are checked (an
integer one has no gradient), and an output that is no tensor is torch's AttributeError.
Accepted and not performed (tape has no forward mode, no vmap and no undefined-gradient
tensors): check_forward_ad, check_batched_grad, check_batched_forward_grad,
check_undefined_grad.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..engine import grad as _grad
from ..tensor import Tensor, _wrap

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Error raised by gradcheck and gradgradcheck."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _diff_outputs(out):
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.requires_grad)


def _diff_inputs(inputs):
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _check_inputs(inputs) -> None:
    found = False
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != np.float64:
                warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                              "point or complex. This check will likely fail if all the inputs are "
                              "not of double precision floating point or complex. ", stacklevel=3)
            found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of them have requires_grad=True.")


def _outputs_np(func, inputs):
    """The floating outputs' values (as gradcheck's own list of outputs: integer ones have
    no gradient). Not under no_grad: func may differentiate (gradgradcheck's does)."""
    return [np.array(o._data) for o in _as_tuple(func(*inputs))
            if isinstance(o, Tensor) and o._data.dtype.kind in "fc"]


def _numerical(func, inputs, out_like, eps):
    """Per input requiring grad, per output: the (input numel, output numel) Jacobian by
    central differences, perturbing the input's storage in place and restoring it."""
    result = []
    for x in _diff_inputs(inputs):
        arr = x._arr()
        flat = arr.reshape(-1)  # a view: arr is C-contiguous (tape's storage always is)
        jac = [np.zeros((flat.size, o.size), dtype=arr.dtype) for o in out_like]
        for d in range(flat.size):
            orig = flat[d].copy()
            flat[d] = orig - eps
            lo = _outputs_np(func, inputs)
            flat[d] = orig + eps
            hi = _outputs_np(func, inputs)
            flat[d] = orig
            for k, (a, b) in enumerate(zip(lo, hi)):
                jac[k][d] = ((b - a) / (2 * eps)).reshape(-1)
        result.append(jac)
    return result  # [input][output]


def _analytical(inputs, output, nondet_tol, check_grad_dtypes):
    """The (input numel, output numel) Jacobian of one output from backward, per input."""
    diff = _diff_inputs(inputs)
    n = output._data.size

    def rows():
        cols = [np.zeros((x._data.size, n), dtype=x._data.dtype) for x in diff]
        types_ok = sizes_ok = True
        for k in range(n):
            onehot = np.zeros(n, dtype=output._data.dtype)
            onehot[k] = 1
            gs = _grad(output, diff, _wrap(onehot.reshape(output._data.shape)), retain_graph=True,
                       allow_unused=True)
            for j, (g, x) in enumerate(zip(gs, diff)):
                if g is None:
                    continue
                if g._data.dtype != x._data.dtype:
                    types_ok = False
                if g._data.size != x._data.size:
                    sizes_ok = False
                    continue
                cols[j][:, k] = np.asarray(g._data).reshape(-1)
        return cols, types_ok, sizes_ok

    first, types_ok, sizes_ok = rows()
    second, _, _ = rows()
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    for a, b in zip(first, second):
        if a.size and np.max(np.abs(a - b)) > nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and grad_output "
                "multiple times gives different values, although analytical gradient matches "
                f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")
    return first


def _close(a, n, rtol, atol) -> bool:
    return bool(np.all(np.abs(a - n) <= atol + rtol * np.abs(n)))


def _mismatch(i, j, numerical, analytical) -> str:
    return (f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
            f"numerical:{_wrap(numerical)}\nanalytical:{_wrap(analytical)}\n")


def _slow(func, inputs, outputs, all_outs, eps, rtol, atol, check_grad_dtypes, nondet_tol):
    numerical = _numerical(func, inputs, all_outs, eps)
    if not outputs:
        for per_input in numerical:
            for jac in per_input:
                if np.any(jac != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    for i, (k, o) in enumerate(outputs):
        analytical = _analytical(inputs, o, nondet_tol, check_grad_dtypes)
        for j, (a, per_input) in enumerate(zip(analytical, numerical)):
            n = per_input[k]
            if not _close(a, n, rtol, atol):
                raise GradcheckError(_mismatch(i, j, n, a))


def _fast(func, inputs, outputs, all_outs, eps, rtol, atol, check_grad_dtypes, nondet_tol):
    rng = np.random.default_rng(0)
    diff = _diff_inputs(inputs)
    us = []
    for x in diff:
        u = rng.random(x._data.size)
        us.append((u / np.linalg.norm(u)).astype(x._data.dtype) if u.size else u)
    vs = [rng.random(o._data.size).astype(o._data.dtype) for _, o in outputs]
    for j, (x, u) in enumerate(zip(diff, us)):
        flat = x._arr().reshape(-1)
        orig = flat.copy()
        flat[:] = orig - eps * u
        lo = _outputs_np(func, inputs)
        flat[:] = orig + eps * u
        hi = _outputs_np(func, inputs)
        flat[:] = orig
        for i, ((k, o), v) in enumerate(zip(outputs, vs)):
            ju = ((hi[k] - lo[k]) / (2 * eps)).reshape(-1)
            numerical = float(v @ ju) if ju.size else 0.0
            first = _vjp_dot(o, diff, v, j, u)
            second = _vjp_dot(o, diff, v, j, u)
            if abs(first - second) > nondet_tol:
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical gradient "
                    f"matches numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")
            if not _close(first, numerical, rtol, atol * float(u.sum()) * float(v.sum())):
                slow_n = _numerical(func, inputs, all_outs, eps)[j][k]
                slow_a = _analytical(inputs, o, nondet_tol, check_grad_dtypes)[j]
                diff_max = float(np.max(np.abs(slow_n - slow_a))) if slow_n.size else 0.0
                raise GradcheckError(
                    f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
                    f"numerical:{numerical}\nanalytical:{first}\n"
                    + "\nThe above quantities relating the numerical and analytical jacobians are "
                    "computed \nin fast mode. See: https://github.com/pytorch/pytorch/issues/53876 "
                    "for more background \nabout fast mode. Below, we recompute numerical and "
                    f"analytical jacobians in slow mode:\n\nNumerical:\n {_wrap(slow_n)}\n"
                    f"Analytical:\n{_wrap(slow_a)}\n\nThe max per-element difference (slow mode) is: "
                    f"{diff_max}.\n")


def _vjp_dot(output, diff, v, j, u) -> float:
    gs = _grad(output, diff, _wrap(v.reshape(output._data.shape)), retain_graph=True, allow_unused=True)
    g = gs[j]
    return 0.0 if g is None else float(np.asarray(g._data).reshape(-1) @ u)


def _mul_by_grad_output(outputs, inputs) -> None:
    """Backward with zero grad_outputs must give zero gradients of the right kind."""
    diff = _diff_inputs(inputs)
    zeros = [_wrap(np.zeros_like(o._arr())) for o in outputs]
    for g, x in zip(_grad(list(outputs), diff, zeros, retain_graph=True, allow_unused=True), diff):
        if g is None:
            continue
        if np.any(np.asarray(g._data) != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if g._data.dtype != x._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if np.shape(g._data) != np.shape(x._data):
            raise GradcheckError("grad is incorrect size")


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True if backward's Jacobians match central differences (see the module doc)."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    try:
        inputs = _as_tuple(inputs)
        _check_inputs(inputs)
        func_out = func(*inputs)
        for o in _as_tuple(func_out):  # (torch asks each output whether it requires grad)
            if not isinstance(o, Tensor):
                raise AttributeError(f"'{type(o).__name__}' object has no attribute 'requires_grad'")
        # the floating outputs: an integer one has no gradient to check, numerically either
        all_outs = [o for o in _as_tuple(func_out) if o._data.dtype.kind in "fc"]
        # (index among all tensor outputs, output) for the differentiable ones
        outputs = [(k, o) for k, o in enumerate(all_outs) if o.requires_grad]
        if not check_backward_ad:
            return True
        all_np = [np.asarray(o._data) for o in all_outs]
        if fast_mode and outputs:
            _fast(func, inputs, outputs, all_np, eps, rtol, atol, check_grad_dtypes, nondet_tol)
        else:
            _slow(func, inputs, outputs, all_np, eps, rtol, atol, check_grad_dtypes, nondet_tol)
        if outputs:
            _mul_by_grad_output([o for _, o in outputs], inputs)
        return True
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradient: of (inputs, v) -> v^T J(inputs), taken with create_graph."""
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _wrap(rng.uniform(-1, 1, o._data.shape).astype(
                o._data.dtype if o._data.dtype.kind in "fc" else np.float64), rg=True)
            for o in _diff_outputs(func(*inputs)))
    grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_in = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}

    def new_func(*args):
        xs = args[:-n_out] if n_out else args
        outs = _diff_outputs(func(*xs))
        gos = args[-n_out:] if n_out else ()
        diff = [x for i, x in enumerate(xs) if i in diff_in]
        got = _grad(list(outs), diff, list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in got if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev,
                     masked=masked)
