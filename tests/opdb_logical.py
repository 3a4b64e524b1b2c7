"""Op database entries: bitwise and logical ops, all / any (ops/logical.py).

None of them has a gradient: their results are bool or integer, and the entries check
values, dtypes and that nothing is recorded (the first sample of each is integer or bool)."""

from __future__ import annotations

import numpy as np
from opdb import OpInfo, S

_I = np.array([6, 3, -1, 0])
_J = np.array([3, 1, 5, 0])
_P = np.array([True, False, True, False])
_Q = np.array([True, True, False, False])
_BITWISE = (S(_I, _J), S(_P, _Q), S(_I, _P), S(_I.reshape(2, 2), _J[:2]))


def _bitwise(name, symbol, ufunc):
    return (
        OpInfo(name=f"bitwise_{name}", nodes=(f"Bitwise{name.capitalize()}Backward0",),
               fn=eval(f"lambda m, x, y: x {symbol} y"), ref=ufunc, differentiable=False,
               gradgrad=False, samples=_BITWISE),
        OpInfo(name=f"bitwise_{name}_fn", nodes=(), fn=lambda m, x, y: getattr(m, f"bitwise_{name}")(x, y),
               ref=ufunc, differentiable=False, gradgrad=False, samples=_BITWISE[:2]),
        OpInfo(name=f"bitwise_{name}_number", nodes=(),
               fn=eval(f"lambda m, x: (x {symbol} 1, True {symbol} x)"),
               ref=eval(f"lambda a: (np.asarray(a {symbol} 1), np.asarray(True {symbol} a))"),
               differentiable=False, gradgrad=False, samples=(S(_I), S(_P))),
    )


def _logical(name, ufunc):
    return OpInfo(name=f"logical_{name}", nodes=(f"Logical{name.capitalize()}Backward0",),
                  fn=lambda m, x, y: getattr(m, f"logical_{name}")(x, y), ref=ufunc,
                  differentiable=False, gradgrad=False,
                  samples=(S(_I, _J), S(_P, _Q), S(np.array([0.0, 1.5, -2.0, 0.0]), _I)))


def _all_any(a, dim=None, keepdim=False, which=np.all):
    out = np.asarray(which(a, axis=dim, keepdims=keepdim))
    return out.astype(np.uint8) if a.dtype == np.uint8 else out


ENTRIES = (
    *_bitwise("and", "&", np.bitwise_and),
    *_bitwise("or", "|", np.bitwise_or),
    *_bitwise("xor", "^", np.bitwise_xor),
    OpInfo(name="bitwise_not", nodes=("BitwiseNotBackward0",), fn=lambda m, x: (~x, m.bitwise_not(x)),
           ref=lambda a: (np.invert(a), np.invert(a)), differentiable=False, gradgrad=False,
           samples=(S(_I), S(_P), S(_I.reshape(2, 2)))),
    _logical("and", np.logical_and), _logical("or", np.logical_or), _logical("xor", np.logical_xor),
    OpInfo(name="logical_not", nodes=("LogicalNotBackward0",), fn=lambda m, x: m.logical_not(x),
           ref=np.logical_not, differentiable=False, gradgrad=False,
           samples=(S(_I), S(_P), S(np.array([0.0, 1.5, np.nan])))),
    OpInfo(name="all", nodes=("AllBackward0",), fn=lambda m, x, **k: m.all(x, **k), ref=_all_any,
           differentiable=False, gradgrad=False,
           samples=(S(_P), S(_I.reshape(2, 2), dim=1), S(_P.reshape(2, 2), dim=0, keepdim=True),
                    S(np.array(True)), S(np.zeros((0, 2), dtype=bool), dim=0))),
    OpInfo(name="any", nodes=("AnyBackward0",), fn=lambda m, x, **k: x.any(**k),
           ref=lambda a, **k: _all_any(a, which=np.any, **k), differentiable=False, gradgrad=False,
           samples=(S(_P), S(_I.reshape(2, 2), dim=-1), S(np.array([0.0, 0.0, 2.0])))),
)
