"""Op database entries: floor_divide, div with rounding_mode, remainder and outer (ops/arith.py).

floor_divide has no derivative in torch: a float result that requires grad hangs off a
`NotImplemented` node, and backward through it raises. The table checks values, dtypes and
node trees (non-differentiable entries, whose first sample is integer); the error itself is
in test_op_errors_shape.py.
"""

from __future__ import annotations

import numpy as np
from opdb import BINARY, UNARY, OpInfo, S, away, binary, magnitude, uniform

_INTS = S(np.array([7, -7, 5, 0]), np.array([2, 2, -3, 4]))
_ROUNDED = ("floor", "trunc")


def _div_rounded(a, b, rounding_mode=None):
    q = np.true_divide(a, b)
    if rounding_mode is None:
        return q
    q = np.floor(q) if rounding_mode == "floor" else np.trunc(q)
    return q.astype(np.result_type(a, b), copy=False)

ENTRIES = (
    # ---- floor_divide: torch's NotImplemented node when an input requires grad ----
    OpInfo(name="floor_divide", nodes=(), fn=lambda m, x, y: x // y, ref=np.floor_divide,
           differentiable=False, domain=(uniform(-3.0, 3.0), magnitude()), int_inputs=True,
           samples=(_INTS,) + BINARY),
    OpInfo(name="floor_divide_fn", nodes=(), fn=lambda m, x, y: m.floor_divide(x, y), ref=np.floor_divide,
           differentiable=False, domain=(uniform(-3.0, 3.0), magnitude()),
           samples=(_INTS, S((2, 3), (3,)))),
    OpInfo(name="floor_divide_scalar", nodes=(), differentiable=False, int_inputs=True,
           fn=lambda m, x, reflected=False: 2.5 // x if reflected else x // 0.7,
           ref=lambda a, reflected=False: 2.5 // a if reflected else a // 0.7, domain=magnitude(),
           samples=(S(np.array([3, -4, 5])), S((2, 3)), S((2, 3), reflected=True), S(()), S((0,)))),
    # ---- remainder: the result has the divisor's sign; d/dself = 1, d/dother = -floor(self/other)
    OpInfo(name="remainder_scalar", nodes=("RemainderBackward0",), fn=lambda m, x: x % 1.5,
           ref=lambda a: np.remainder(a, 1.5), domain=away(-1.5, 0.0, 1.5), int_inputs=True,
           samples=UNARY, inplace=lambda m, x: x.remainder_(1.5)),
    OpInfo(name="remainder_method", nodes=("RemainderBackward0",), fn=lambda m, x: x.remainder(-0.8),
           ref=lambda a: np.remainder(a, -0.8), domain=away(-1.6, -0.8, 0.0, 0.8, 1.6),
           samples=(S((2, 3)),), inplace=lambda m, x: x.__imod__(-0.8)),
    binary("remainder", "RemainderBackward1", np.remainder, domain=(uniform(-3.0, 3.0), magnitude()),
           inplace=lambda m, x, y: x.remainder_(y), int_inputs=True),
    OpInfo(name="mod_operator", nodes=("RemainderBackward1",), fn=lambda m, x, y: x % y, ref=np.remainder,
           domain=(uniform(-3.0, 3.0), magnitude()), broadcasting=True,
           samples=(S((2, 3), (2, 3)), S((2, 3), ()))),
    # number % tensor: torch's remainder(Scalar, Tensor) has no derivative (NotImplemented)
    OpInfo(name="rmod_scalar", nodes=(), fn=lambda m, x: 7.5 % x, ref=lambda a: np.remainder(7.5, a),
           differentiable=False, domain=magnitude(), samples=(S(np.array([2, -3, 4])), S((2, 3)), S(()))),
    # ---- div with rounding_mode: DivBackward2 (None given too); rounding gives zero gradients
    # (not recorded: no second order) and keeps integers integers ----
    binary("div", "DivBackward2", _div_rounded, domain=(uniform(-3.0, 3.0), magnitude()), int_inputs=True,
           samples=tuple(S(*s.args, rounding_mode=mode) for s in (_INTS,) + BINARY for mode in _ROUNDED),
           inplace=lambda m, x, y, rounding_mode: x.div_(y, rounding_mode=rounding_mode),
           gradgrad=False, name_suffix="_rounding"),
    binary("div", "DivBackward2", _div_rounded, domain=(uniform(), magnitude()),
           samples=tuple(S(*s.args, rounding_mode=None) for s in BINARY),
           inplace=lambda m, x, y, rounding_mode: x.div_(y, rounding_mode=rounding_mode),
           name_suffix="_rounding_none"),
    OpInfo(name="div_rounding_scalar", nodes=("DivBackward2",), int_inputs=True, domain=uniform(-3.0, 3.0),
           fn=lambda m, x, mode: m.div(x, -0.7, rounding_mode=mode),
           ref=lambda a, mode: _div_rounded(a, -0.7, mode), gradgrad=False,
           samples=tuple(S(shape, mode=mode) for shape in ((2, 3), (), (0,)) for mode in _ROUNDED)),
    # ---- outer: torch records a reshape of the first vector, then mul ----
    OpInfo(name="outer", nodes=("MulBackward0", "ViewBackward0"), fn=lambda m, x, y: m.outer(x, y),
           ref=np.outer, int_inputs=True,
           samples=(S((3,), (2,)), S((1,), (4,)), S((0,), (2,)), S((3,), (0,)))),
    OpInfo(name="ger", nodes=("MulBackward0", "ViewBackward0"), fn=lambda m, x, y: x.ger(y), ref=np.outer,
           samples=(S((3,), (2,)),)),
    # a strided vector cannot be viewed as a column: reshape gives an alias
    OpInfo(name="outer_strided", nodes=("MulBackward0", "ReshapeAliasBackward0"),
           fn=lambda m, x, y: m.outer(x[::2], y), ref=lambda a, b: np.outer(a[::2], b),
           samples=(S((6,), (2,)),)),
)
