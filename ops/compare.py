"""Comparisons and selection: results that never require grad, and `where`."""

from __future__ import annotations

import numpy as np

from .registry import call, function, op


def _cmp(name, ufunc, dunder, rdunder):
    OP = op(name, f"{name.capitalize()}Backward0", lambda a, b: np.asarray(ufunc(a, b)),
            inputs=("self", "other"))

    def compare(input, other):
        return call(OP, (input, other))

    compare.__name__ = name
    compare.__doc__ = f"Elementwise `{name}` (a bool tensor that never requires grad)."
    function(name, methods=(name, dunder))(compare)
    if rdunder:
        function(methods=rdunder, module=False)(compare)
    return OP


EQ = _cmp("eq", np.equal, "__eq__", None)
NE = _cmp("ne", np.not_equal, "__ne__", None)
LT = _cmp("lt", np.less, "__lt__", None)
LE = _cmp("le", np.less_equal, "__le__", None)
GT = _cmp("gt", np.greater, "__gt__", None)
GE = _cmp("ge", np.greater_equal, "__ge__", None)


def _where_fwd(a, b, cond):
    from .dtypes import binary_dtype

    dt = binary_dtype(a, b)
    out = np.where(cond, a, b)
    return out if dt is None else out.astype(dt, copy=False)


def _where_bwd(F, ctx, g):
    (cond,) = ctx.params
    need_a, need_b = ctx.needs
    return (F.where(cond, g, 0.0) if need_a else None, F.where(cond, 0.0, g) if need_b else None)


# the condition is data, not a differentiable input: torch's node has two next_functions
WHERE = op("where", "WhereBackward0", _where_fwd, _where_bwd, inputs=("self", "other"),
           param_names=("condition",))


def _cond(condition):
    return condition._arr() if hasattr(condition, "_arr") else np.asarray(condition)


@function("where", methods=())
def where(condition, input, other):
    """`input` where `condition` holds, else `other` (broadcasting)."""
    return call(WHERE, (input, other), (_cond(condition),))


def _where_method(self, condition, other):
    return call(WHERE, (self, other), (_cond(condition),))


function(methods="where", module=False)(_where_method)

SIGN = op("sign", "SignBackward0", np.sign, lambda F, ctx, g: (g * 0,))


@function("sign", methods="sign")
def sign(input):
    """-1, 0 or 1 by the sign of each element (gradient 0)."""
    return call(SIGN, (input,))
