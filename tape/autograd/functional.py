"""torch.autograd.functional: Jacobians, Hessians and their products, from reverse mode.

Each function calls the user's `func` once on fresh inputs that require grad and then
asks `autograd.grad` for what it needs, as torch does; the results have torch's structure:
a tensor where `func` takes (or returns) a tensor, a tuple where it takes (returns) a
tuple, a tuple of tuples for `jacobian` / `hessian` when both are tuples. Without
`create_graph` the results are detached; with it they can be differentiated again.

Forward-mode products (`jvp`, `hvp`) use the double-backward trick, as torch's do: the
vjp g(u) = J^T u is linear in u, so differentiating it with respect to u along v gives
J v (and H v for the gradient of a scalar function).

`vectorize` and the `strategy` arguments are accepted and change nothing (the results do
not depend on them); the argument combinations torch refuses are refused the same way.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..creation import zeros_like
from ..engine import grad as _grad
from ..grad_mode import STATE, enable_grad, set_grad_enabled
from ..ops.registry import FUNCTIONS
from ..tensor import Tensor, _wrap

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# ---------------------------------------------------------------------------------------
# Shapes of arguments and results


def _tupled(x, what: str, fn: str):
    """(was it a tuple, the tuple of tensors): torch's _as_tuple, with its TypeError."""
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has" if is_tuple else f"the given {what} has"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but {where} type {type(el)}.")
    return is_tuple, xs


def _untupled(res, is_tuple):
    """Undo _tupled: is_tuple is a bool, or (outer, inner) for a tuple of tuples."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not inner:
            res = tuple(r[0] for r in res)
        return res if outer else res[0]
    return res if is_tuple else res[0]


def _fresh(inputs, create_graph: bool, need_graph: bool):
    """Inputs `func` is called on: still connected to the user's graph with create_graph
    (a view of each), else detached leaves that require grad (`need_graph`)."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(values, create_graph: bool):
    """Results without history unless create_graph (nested tuples allowed)."""
    if values and isinstance(values[0], tuple):
        return tuple(_finish(v, create_graph) for v in values)
    if create_graph:
        return tuple(values)
    return tuple(v.detach() for v in values)


def _check_v(v, ref, ref_is_tuple: bool) -> None:
    if len(v) != len(ref):
        if ref_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(ref)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, ref)):
        if a.size() != b.size():
            prefix = f"Entry {i} in " if ref_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


def _strict_requires_grad(values, kind: str, strict: bool) -> None:
    """strict mode: what must depend on the inputs does (torch's messages)."""
    if not strict:
        return
    for i, x in enumerate(values):
        if x is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if x.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is thrice differentiable and that the hessian depends on the "
                "inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided function "
                f"with respect to input {i} is independent of the input. This is not allowed in "
                "strict mode. You should ensure that your function is twice differentiable and that "
                "the jacobian depends on the inputs (this would be violated by a linear function for "
                "example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs "
                               "of the user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. "
                           "The outputs must be computed in a differentiable manner from the input "
                           "when running in strict mode.")


def _grads(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad only (None where nothing flows)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


_STAGE_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is "
                   "not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in "
                         "the grad_jacobian. This is not allowed in strict mode as it prevents from "
                         "using the double backward trick to replace forward mode AD.",
}


def _zeros_for_none(grads, refs, strict: bool, create_graph: bool, stage: str):
    """None (nothing flowed) becomes zeros shaped like the reference, unless strict."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_ERRORS[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _call(func, inputs, fn: str, strict: bool):
    outputs = func(*inputs)
    is_tuple, outputs = _tupled(outputs, "outputs of the user-provided function", fn)
    _strict_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _single_scalar(outputs, is_tuple, fn: str) -> None:
    if is_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a "
                           "single element")


def _v_for_inputs(v, inputs, is_tuple, create_graph, fn):
    if v is not None:
        _, v = _tupled(v, "v", fn)
        v = _fresh(v, create_graph, need_graph=False)
        _check_v(v, inputs, is_tuple)
        return v
    if len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                           "is a single Tensor with a single element.")
    return None


# ---------------------------------------------------------------------------------------
# The public functions


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _call(func, inputs, "vjp", strict)
        if v is not None:
            _, v = _tupled(v, "v", "vjp")
            v = _fresh(v, create_graph, need_graph=False)
            _check_v(v, outputs, out_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns "
                               "a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        res = _zeros_for_none(_grads(outputs, inputs, v, create_graph), inputs, strict, create_graph,
                              "back")
    return (_untupled(_finish(outputs, create_graph), out_tuple),
            _untupled(_finish(res, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _v_for_inputs(v, inputs, in_tuple, create_graph, "jvp")
        out_tuple, outputs = _call(func, inputs, "jvp", strict)
        # g(u) = J^T u is linear in u, so u's value does not matter (zeros: no inf or nan)
        us = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grads(outputs, inputs, us, create_graph=True)
        _strict_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True) if create_graph else contextlib.nullcontext():
        res = _zeros_for_none(_grads(grad_inputs, us, v, create_graph), outputs, strict, create_graph,
                              "back_trick")
    return (_untupled(_finish(outputs, create_graph), out_tuple),
            _untupled(_finish(res, create_graph), out_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs)[i] / d inputs[j], each of shape output.shape + input.shape."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                             'If your function has more outputs than inputs, "forward-mode" tends to '
                             'be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`strategy="forward-mode"` are not supported together (yet). Please '
                               'either set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian isonly implemented for `vectorize=True`.")
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). '
                                      'Please either set `create_graph=False` or `strategy="reverse-mode"`.')
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                           "not supported together. Please either set `strict=False` or "
                           "`vectorize=False`.")
    stack, reshape = FUNCTIONS["stack"], FUNCTIONS["reshape"]
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _call(func, inputs, "jacobian", strict)
        result = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]  # per input: d out[k] / d input, for every k
            n = out.numel()
            for k in range(n):
                # one row at a time: the gradient of the k-th element (a one-hot grad_output)
                onehot = np.zeros(n, dtype=out._data.dtype)
                onehot[k] = 1
                gs = _grads((out,), inputs, (_wrap(onehot.reshape(out._data.shape)),), create_graph,
                            retain_graph=True)
                for j, (g, x) in enumerate(zip(gs, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {j}. This is not allowed in "
                                               "strict mode.")
                        g = zeros_like(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is independent "
                                           f"of input {i}. This is not allowed in strict mode when "
                                           "create_graph=True.")
                    rows[j].append(g)
            result.append(tuple(
                reshape(stack(r, 0), tuple(out.shape) + tuple(x.shape)) if r else
                zeros_like(x).reshape(tuple(out.shape) + tuple(x.shape))
                for r, x in zip(rows, inputs)))
        result = _finish(tuple(result), create_graph)
    result = _untupled(result, (out_tuple, in_tuple))
    if strategy == "forward-mode" and in_tuple:  # torch's forward-mode builds lists
        result = [list(r) for r in result] if out_tuple else list(result)
    return result


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the jacobian of its gradient."""
    in_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar(*xs):
        out = func(*xs)
        out_tuple, outs = _tupled(out, "outputs of the user-provided function", "hessian")
        _strict_requires_grad(outs, "outputs", strict)
        _single_scalar(outs, out_tuple, "hessian")
        return out.squeeze()

    def gradient(*xs):
        if outer_jacobian_strategy == "forward-mode":
            xs = tuple(x.requires_grad_(True) for x in xs)
        jac = jacobian(scalar, xs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _untupled(res, (in_tuple, in_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "vhp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _v_for_inputs(v, inputs, in_tuple, create_graph, "vhp")
        out_tuple, outputs = _call(func, inputs, "vhp", strict)
        _single_scalar(outputs, out_tuple, "vhp")
        jac = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        res = _zeros_for_none(_grads(jac, inputs, v, create_graph), inputs, strict, create_graph,
                              "double_back")
    return (_untupled(_finish(outputs, create_graph), out_tuple),
            _untupled(_finish(res, create_graph), in_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function, by the double-backward trick."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "hvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _v_for_inputs(v, inputs, in_tuple, create_graph, "hvp")
        out_tuple, outputs = _call(func, inputs, "hvp", strict)
        _single_scalar(outputs, out_tuple, "hvp")
        jac = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        us = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        double_back = _grads(jac, inputs, us, create_graph=True)
        _strict_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        res = _zeros_for_none(_grads(double_back, us, v, create_graph), inputs, strict, create_graph,
                              "double_back_trick")
    return (_untupled(_finish(outputs, create_graph), out_tuple),
            _untupled(_finish(res, create_graph), in_tuple))

