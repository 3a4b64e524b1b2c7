"""The op database: one `OpInfo` per public op, and the suites in test_opdb.py run over it.

An entry says how to call the op through a module (`fn(mod, *tensors, **kwargs)` with `mod`
either `tape` or `torch`, so one entry runs on both), a numpy reference, sample inputs, the
input domain, tolerances and flags. `nodes` names the backward nodes (keys of
ops.registry.OPS, torch's names) the entry covers; a test fails when a registered node has
no entry, so an op without tests cannot land unnoticed (STYLE lesson 8).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import attrs
import numpy as np

# ---------------------------------------------------------------------------------------
# Input domains: fn(rng, shape) -> float64 array


def uniform(lo=-2.0, hi=2.0):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def magnitude(lo=0.5, hi=2.0):
    """Random sign, |x| in [lo, hi]: away from 0 (divisors, abs, sign)."""
    return lambda rng, shape: rng.choice((-1.0, 1.0), shape) * rng.uniform(lo, hi, shape)


def away(*points, lo=-2.0, hi=2.0, gap=0.1):
    """Uniform, but at least `gap` from each of `points` (kinks: finite differences need it)."""

    def make(rng, shape):
        x = rng.uniform(lo, hi, shape)
        for p in points:
            d = x - p
            x = np.where(np.abs(d) < gap, p + np.where(d >= 0, gap, -gap) + d, x)
        return x

    return make


def integers(lo=-2, hi=2):
    """Integer-valued floats, so comparisons see ties."""
    return lambda rng, shape: rng.integers(lo, hi + 1, shape).astype(np.float64)


def mask(*shape, seed=0):
    """A fixed boolean array (a constant input, e.g. where's condition)."""
    return np.asarray(np.random.default_rng(seed).random(shape) > 0.4)


# ---------------------------------------------------------------------------------------
# Samples and entries


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype.name}{list(x.shape)}"
    if isinstance(x, tuple):
        return "x".join(map(str, x)) if x else "0d"
    return repr(x)


@attrs.frozen(kw_only=True, eq=False)  # eq=False: holds arrays
class Sample:
    """One call: `args` per tensor input is a shape (random values from the entry's domain)
    or an array (those values: float arrays are differentiable inputs, integer and bool
    arrays constants); `kwargs` are the non-tensor arguments, passed to `fn` and `ref`."""

    args: tuple
    kwargs: dict = attrs.field(factory=dict)
    gradcheck: bool = True  # False at non-differentiable points (torch parity only)

    @property
    def desc(self) -> str:
        parts = [_describe(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ",".join(parts).replace(" ", "")

    def numel(self) -> int:
        return sum(int(np.prod(a.shape if isinstance(a, np.ndarray) else a)) for a in self.args)


def S(*args, gradcheck=True, **kwargs) -> Sample:
    return Sample(args=args, kwargs=kwargs, gradcheck=gradcheck)


F32, F64 = "float32", "float64"
TOL = {F32: (1e-5, 1e-5), F64: (1e-10, 1e-12)}  # (rtol, atol) vs numpy and vs torch


@attrs.frozen(kw_only=True, eq=False)
class OpInfo:
    name: str
    nodes: tuple[str, ...]  # the backward nodes this entry covers (torch's names)
    fn: Callable  # fn(mod, *tensors, **kwargs), mod is tape or torch
    ref: Callable | None  # numpy reference: ref(*arrays, **kwargs)
    samples: tuple[Sample, ...]
    domain: Callable | tuple = uniform()  # one generator, or one per tensor input
    tol: dict = TOL
    differentiable: bool = True
    gradgrad: bool = True
    # inplace(mod, x, *others, **kwargs): the in-place form, applied to a clone of a leaf
    inplace: Callable | None = None
    int_inputs: bool = False  # also compare dtypes and values with int64 inputs vs torch
    broadcasting: bool = False  # tensor inputs broadcast elementwise against each other
    gradcheck_eps: float = 1e-6
    gradcheck_tol: tuple = (1e-5, 1e-6)  # (rtol, atol) of finite differences

    def make(self, index: int, salt: str = "") -> list[np.ndarray]:
        """The float64 (or constant) input arrays of sample `index`, seeded by name (and
        `salt`: other values of the same shapes, e.g. for replaying a compiled plan)."""
        rng = np.random.default_rng(zlib.crc32(f"{self.name}/{index}{salt}".encode()))
        out = []
        for i, a in enumerate(self.samples[index].args):
            if isinstance(a, np.ndarray):
                out.append(a.copy())
            else:
                dom = self.domain[i] if isinstance(self.domain, tuple) else self.domain
                out.append(np.asarray(dom(rng, a), dtype=np.float64))
        return out


# ---------------------------------------------------------------------------------------
# Standard sample sets

UNARY = (S(()), S((5,)), S((2, 3)), S((0,)), S((2, 1, 3)))
BINARY = (S((2, 3), (2, 3)), S((2, 3), (3,)), S((2, 1), (1, 3)), S((), (2, 3)), S((2, 3), ()),
          S((), ()), S((0, 3), (3,)), S((4,), (4,)))


def unary(name, node, ref, *, domain=None, extra=(), inplace=True, int_inputs=True, **kw):
    """A function `tape.NAME(x)` with method `x.NAME_()` as its in-place form."""
    return OpInfo(
        name=name, nodes=(node,), fn=lambda m, x: getattr(m, name)(x), ref=ref,
        samples=UNARY + tuple(extra), domain=domain or uniform(), int_inputs=int_inputs,
        inplace=(lambda m, x: getattr(x, name + "_")()) if inplace else None, **kw)


def binary(name, node, ref, *, samples=BINARY, inplace=None, name_suffix="", **kw):
    """A function `tape.NAME(x, y)` of two tensors (broadcasting unless told otherwise)."""
    kw.setdefault("broadcasting", True)
    return OpInfo(name=name + name_suffix, nodes=(node,),
                  fn=lambda m, x, y, **k: getattr(m, name)(x, y, **k),
                  ref=ref, samples=tuple(samples), inplace=inplace, **kw)


def _np_erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _np_clamp(a, min=None, max=None):
    if min is not None:
        a = np.maximum(a, min)
    if max is not None:
        a = np.minimum(a, max)
    return a


def _axes(a, dim):
    if dim is None or a.ndim == 0:  # a 0-d tensor reduces over dim 0 or -1 as over nothing
        return None
    return dim if isinstance(dim, int) else tuple(dim) or None  # (): every dim, as torch


def _np_sum(a, dim=None, keepdim=False):
    return np.sum(a, axis=_axes(a, dim), keepdims=keepdim)


def _np_mean(a, dim=None, keepdim=False):
    return np.mean(a, axis=_axes(a, dim), keepdims=keepdim)


def _np_expand(a, size):
    lead = len(size) - a.ndim
    shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(size))
    return np.broadcast_to(a, shape)


def _np_swap(a, dim0, dim1):
    return a if a.ndim == 0 else np.swapaxes(a, dim0, dim1)


def _np_squeeze_dims(a, dim):
    dims = (dim,) if isinstance(dim, int) else dim
    dims = tuple(d % a.ndim for d in dims)
    return np.squeeze(a, tuple(d for d in dims if a.shape[d] == 1))


_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
        "gt": np.greater, "ge": np.greater_equal}

# ties for maximum/minimum; boundaries for clamp (parity only: torch's choices at kinks)
_TIE_A, _TIE_B = np.array([1.0, 2.0, 3.0, -1.0]), np.array([2.0, 2.0, 2.0, -1.0])
_CLAMP_X = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 0.5, 3.0])
_CLAMP_LO = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0])
_CLAMP_HI = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0])


def _at(*values):
    return S(np.array(values, dtype=np.float64), gradcheck=False)


# ---------------------------------------------------------------------------------------
# The table

OPS_DB: tuple[OpInfo, ...] = (
    # ---- arithmetic (ops/arith.py) ----
    binary("add", "AddBackward0", lambda a, b, alpha=1: a + alpha * b,
           samples=BINARY + (S((2, 3), (3,), alpha=2.5),),
           inplace=lambda m, x, y, **k: x.add_(y, **k)),
    OpInfo(name="add_scalar", nodes=("AddBackward0",), samples=UNARY + (S((2, 3), reflected=True),),
           fn=lambda m, x, reflected=False: 2.5 + x if reflected else x + 2.5,
           ref=lambda a, reflected=False: a + 2.5, inplace=lambda m, x, reflected=False: x.add_(2.5)),
    binary("sub", "SubBackward0", lambda a, b, alpha=1: a - alpha * b,
           samples=BINARY + (S((2, 3), (3,), alpha=2.5),),
           inplace=lambda m, x, y, **k: x.sub_(y, **k)),
    OpInfo(name="rsub_scalar", nodes=("RsubBackward1",), samples=UNARY + (S((2, 3), alpha=2),),
           fn=lambda m, x, alpha=1: 2.5 - x if alpha == 1 else m.rsub(x, 2.5, alpha=alpha),
           ref=lambda a, alpha=1: 2.5 - alpha * a),
    # torch.rsub(x, y) = y - x records torch's RsubBackward0
    binary("rsub", "RsubBackward0", lambda a, b: b - a),
    binary("mul", "MulBackward0", np.multiply, inplace=lambda m, x, y: x.mul_(y)),
    OpInfo(name="mul_scalar", nodes=("MulBackward0",), samples=UNARY + (S((2, 3), reflected=True),),
           fn=lambda m, x, reflected=False: 2.5 * x if reflected else x * 2.5,
           ref=lambda a, reflected=False: a * 2.5, inplace=lambda m, x, reflected=False: x.mul_(2.5)),
    binary("div", "DivBackward0", np.divide, domain=(uniform(), magnitude()),
           inplace=lambda m, x, y: x.div_(y), int_inputs=True),
    OpInfo(name="div_scalar", nodes=("DivBackward0",), samples=UNARY, fn=lambda m, x: x / 2.5,
           ref=lambda a: a / 2.5, inplace=lambda m, x: x.div_(2.5)),
    unary("reciprocal", "ReciprocalBackward0", np.reciprocal, domain=magnitude(), inplace=False),
    # number / tensor: torch records reciprocal(x) * number
    OpInfo(name="rdiv_scalar", nodes=("MulBackward0", "ReciprocalBackward0"), samples=UNARY,
           fn=lambda m, x: 2.0 / x, ref=lambda a: 2.0 / a, domain=magnitude()),
    unary("neg", "NegBackward0", np.negative),
    OpInfo(name="pow_scalar", nodes=("PowBackward0",), fn=lambda m, x, exponent: x ** exponent,
           ref=lambda a, exponent: a ** exponent, domain=uniform(0.5, 2.0), int_inputs=True,
           samples=(S((2, 3), exponent=2), S((), exponent=3), S((5,), exponent=0.5),
                    S((2, 3), exponent=-1.5), S((0,), exponent=2), S((4,), exponent=0)),
           inplace=lambda m, x, exponent: x.pow_(exponent)),
    binary("pow", "PowBackward1", np.power, domain=(uniform(0.5, 2.0), uniform()),
           inplace=lambda m, x, y: x.pow_(y)),
    OpInfo(name="rpow_scalar", nodes=("PowBackward2",), samples=UNARY, fn=lambda m, x: 2.0 ** x,
           ref=lambda a: 2.0 ** a),
    unary("exp", "ExpBackward0", np.exp),
    unary("log", "LogBackward0", np.log, domain=uniform(0.5, 2.0), inplace=False),
    # ---- comparisons and selection (ops/compare.py) ----
    *(binary(n, f"{n.capitalize()}Backward0", f, domain=integers(), differentiable=False,
             gradgrad=False, int_inputs=True) for n, f in _CMP.items()),
    OpInfo(name="where", nodes=("WhereBackward0",), fn=lambda m, c, x, y: m.where(c, x, y),
           ref=np.where, broadcasting=True,
           samples=(S(mask(2, 3), (2, 3), (2, 3)), S(mask(2, 3), (3,), ()), S(mask(3), (2, 1), (2, 3)),
                    S(mask(), (), ()), S(mask(0, 3), (0, 3), (3,)))),
    unary("sign", "SignBackward0", np.sign, domain=magnitude(), inplace=False,
          extra=(_at(-1.0, 0.0, 2.0),)),
    unary("sgn", "SgnBackward0", np.sign, domain=magnitude(), inplace=False,
          extra=(_at(-1.0, 0.0, 2.0),)),
    # nonzero and where(condition): int64 indices, never differentiable
    OpInfo(name="nonzero", nodes=("NonzeroBackward0",), fn=lambda m, x: m.nonzero(x),
           ref=lambda a: np.argwhere(a), differentiable=False, gradgrad=False, int_inputs=True,
           samples=(S(np.array([[1.0, 0.0], [0.0, -2.0]])), S(np.array([0.0, 3.0, 0.0])), S((0, 2)))),
    OpInfo(name="where(condition)", nodes=("NonzeroTupleBackward0",), fn=lambda m, x: m.where(x != 0),
           ref=lambda a: np.nonzero(a), differentiable=False, gradgrad=False,
           samples=(S(np.array([[1.0, 0.0], [0.0, -2.0]])), S(np.array([0.0, 3.0, 0.0])))),
    # ---- dtype conversion, fills, copies (ops/convert.py) ----
    OpInfo(name="to", nodes=("ToCopyBackward0",), samples=UNARY,
           fn=lambda m, x: x.to(m.float32 if x.dtype == m.float64 else m.float64),
           ref=lambda a: a.astype(np.float32),
           # the result is float32: finite differences need a step far above its resolution
           gradcheck_eps=1e-3, gradcheck_tol=(1e-4, 1e-4)),
    OpInfo(name="zero_", nodes=("ZeroBackward0",), samples=UNARY, fn=lambda m, x: x.clone().zero_(),
           ref=np.zeros_like),
    OpInfo(name="fill_", nodes=("FillBackward2",), samples=UNARY, fn=lambda m, x: x.clone().fill_(1.5),
           ref=lambda a: np.full_like(a, 1.5)),
    OpInfo(name="fill_tensor", nodes=("FillBackward3",), fn=lambda m, x, v: x.clone().fill_(v),
           ref=lambda a, v: np.full_like(a, v), samples=(S((2, 3), ()), S((), ()), S((0,), ()))),
    OpInfo(name="copy_", nodes=("CopyBackwards",), fn=lambda m, x, src: x.clone().copy_(src),
           ref=lambda a, b: np.broadcast_to(b, a.shape).copy(),
           samples=(S((2, 3), (2, 3)), S((2, 3), (3,)), S((2, 3), ()), S((0, 3), (3,)))),
    # ---- shapes and views (ops/shape.py) ----
    OpInfo(name="view", nodes=("ViewBackward0",), fn=lambda m, x, shape: x.view(shape),
           ref=lambda a, shape: a.reshape(shape),
           samples=(S((2, 3), shape=(3, 2)), S((2, 3), shape=(-1,)), S((), shape=(1,)),
                    S((6,), shape=(2, -1)), S((0, 3), shape=(3, 0)))),
    OpInfo(name="reshape", nodes=("ViewBackward0",), fn=lambda m, x, shape: m.reshape(x, shape),
           ref=lambda a, shape: a.reshape(shape),
           samples=(S((2, 3), shape=(3, 2)), S((2, 3), shape=(-1,)), S((), shape=(1, 1)))),
    # a transposed tensor cannot be viewed: torch copies it (clone) and then _unsafe_view's it
    OpInfo(name="reshape_copy", nodes=("UnsafeViewBackward0", "CloneBackward0"),
           fn=lambda m, x, shape: x.t().reshape(shape), ref=lambda a, shape: a.T.reshape(shape),
           samples=(S((2, 3), shape=(-1,)), S((3, 4), shape=(2, 6)), S((0, 2), shape=(0,)))),
    # a transposed tensor that can still be viewed with the new shape: torch's _reshape_alias
    OpInfo(name="reshape_alias", nodes=("ReshapeAliasBackward0",),
           fn=lambda m, x, shape: x.t().reshape(shape), ref=lambda a, shape: a.T.reshape(shape),
           samples=(S((4, 3), shape=(3, 2, 2)), S((2, 3), shape=(3, 2, 1)))),
    unary("clone", "CloneBackward0", np.copy, inplace=False, int_inputs=False),
    OpInfo(name="contiguous", nodes=("CloneBackward0",), fn=lambda m, x: x.t().contiguous(),
           ref=lambda a: a.T, samples=(S((2, 3)), S((0, 2)))),
    OpInfo(name="transpose", nodes=("TransposeBackward0",), ref=_np_swap,
           fn=lambda m, x, dim0, dim1: m.transpose(x, dim0, dim1),
           samples=(S((2, 3), dim0=0, dim1=1), S((2, 3, 4), dim0=-1, dim1=0), S((3,), dim0=0, dim1=-1),
                    S((), dim0=0, dim1=-1), S((0, 2), dim0=0, dim1=1))),
    OpInfo(name="t", nodes=("TBackward0",), fn=lambda m, x: m.t(x), ref=lambda a: a.T,
           samples=(S((2, 3)), S((3,)), S(()), S((0, 2)))),
    OpInfo(name="flip", nodes=("FlipBackward0",), fn=lambda m, x, dims: m.flip(x, dims),
           ref=lambda a, dims: np.flip(a, dims),
           samples=(S((2, 3), dims=(1,)), S((2, 3, 4), dims=(0, -1)), S((3,), dims=()), S((), dims=()),
                    S((0, 2), dims=(0, 1)))),
    OpInfo(name="flip method", nodes=("FlipBackward0",), fn=lambda m, x, dims: x.flip(*dims),
           ref=lambda a, dims: np.flip(a, dims), samples=(S((2, 3), dims=(0, 1)), S((4,), dims=(0,)))),
    OpInfo(name="permute", nodes=("PermuteBackward0",), fn=lambda m, x, dims: x.permute(*dims),
           ref=lambda a, dims: np.transpose(a, dims),
           samples=(S((2, 3, 4), dims=(2, 0, 1)), S((2, 3), dims=(-1, 0)), S((0, 2, 1), dims=(1, 2, 0)))),
    OpInfo(name="permute(dims=)", nodes=("PermuteBackward0",), fn=lambda m, x, dims: m.permute(x, dims=dims),
           ref=lambda a, dims: np.transpose(a, dims),
           samples=(S((2, 3, 4), dims=[2, 0, 1]), S((), dims=()), S((3,), dims=(-1,)))),
    OpInfo(name="unbind", nodes=("UnbindBackward0",), fn=lambda m, x, dim=0: m.unbind(x, dim),
           ref=lambda a, dim=0: tuple(np.moveaxis(a, dim, 0)),
           samples=(S((3, 2)), S((2, 3), dim=-1), S((2, 0)), S((1, 2, 2), dim=1))),
    OpInfo(name="stack", nodes=("StackBackward0",), fn=lambda m, x, y, dim=0: m.stack([x, y], dim),
           ref=lambda a, b, dim=0: np.stack([a, b], axis=dim),
           samples=(S((2, 3), (2, 3)), S((2, 3), (2, 3), dim=-1), S((), ()), S((0,), (0,), dim=1))),
    OpInfo(name="expand", nodes=("ExpandBackward0",), fn=lambda m, x, size: x.expand(*size),
           ref=_np_expand,
           samples=(S((3, 1), size=(3, 4)), S((3,), size=(2, 3)), S((), size=(2, 2)),
                    S((2, 1), size=(-1, 3)), S((1,), size=(0,)))),
    OpInfo(name="unsqueeze", nodes=("UnsqueezeBackward0",), fn=lambda m, x, dim: m.unsqueeze(x, dim),
           ref=lambda a, dim: np.expand_dims(a, dim),
           samples=(S((2, 3), dim=0), S((2, 3), dim=-1), S((), dim=0), S((0,), dim=1))),
    OpInfo(name="squeeze", nodes=("SqueezeBackward0",), fn=lambda m, x: m.squeeze(x), ref=np.squeeze,
           samples=(S((2, 1, 3)), S((1, 1)), S(()), S((0, 1)))),
    # torch: squeeze(x, int) records SqueezeBackward1, squeeze(x, tuple) SqueezeBackward2
    OpInfo(name="squeeze_dim", nodes=("SqueezeBackward1", "SqueezeBackward2"),
           fn=lambda m, x, dim: m.squeeze(x, dim), ref=_np_squeeze_dims,
           samples=(S((2, 1, 3), dim=1), S((2, 1, 3), dim=-2), S((2, 1, 3), dim=0),
                    S((2, 1, 1), dim=(1, 2)), S((1, 3, 1), dim=(0, -1)))),
    OpInfo(name="alias", nodes=("AliasBackward0",), fn=lambda m, x: x[...], ref=lambda a: a,
           samples=UNARY),
    OpInfo(name="select", nodes=("SelectBackward0",), fn=lambda m, x, dim, index: m.select(x, dim, index),
           ref=lambda a, dim, index: np.take(a, index, axis=dim),
           samples=(S((3, 4), dim=0, index=1), S((3, 4), dim=-1, index=-1), S((3,), dim=0, index=2),
                    S((2, 0), dim=0, index=1))),
    OpInfo(name="narrow", nodes=("SliceBackward0",),
           fn=lambda m, x, dim, start, length: m.narrow(x, dim, start, length),
           ref=lambda a, dim, start, length: np.take(a, range(start % a.shape[dim],
                                                             start % a.shape[dim] + length), axis=dim),
           samples=(S((4, 3), dim=0, start=1, length=2), S((4, 3), dim=-1, start=-2, length=2),
                    S((5,), dim=0, start=0, length=0))),
    OpInfo(name="getitem", nodes=("SelectBackward0", "SliceBackward0", "UnsqueezeBackward0"),
           fn=lambda m, x, index: x[index], ref=lambda a, index: a[index],
           samples=(S((4, 3), index=(slice(1, 3),)), S((4, 3), index=(1, slice(None, None, 2))),
                    S((4, 3), index=(None, Ellipsis, 0)), S((4,), index=slice(-3, None)),
                    S((2, 3, 4), index=(Ellipsis, 1)), S((2, 3), index=(slice(None), None)))),
    # integer-array and boolean-mask indices gather a copy; repeated indices accumulate
    OpInfo(name="index", nodes=("IndexBackward0",), fn=lambda m, x, idx: x[idx],
           ref=lambda a, idx: a[idx],
           samples=(S((4, 3), np.array([0, 2, 2])), S((4, 3), np.array([[1, 0], [3, 3]])),
                    S((5,), np.array([True, False, True, True, False])),
                    S((4, 3), np.array([], dtype=np.int64)),
                    S((2, 3), np.array([[True, False, True], [False, False, True]])))),
    # ---- matrix products (ops/linalg.py) ----
    binary("dot", "DotBackward0", np.dot, samples=(S((3,), (3,)), S((0,), (0,))), broadcasting=False),
    binary("mv", "MvBackward0", np.matmul, samples=(S((2, 3), (3,)), S((0, 3), (3,))), broadcasting=False),
    binary("mm", "MmBackward0", np.matmul, samples=(S((2, 3), (3, 4)), S((1, 3), (3, 1)), S((2, 0), (0, 3))),
           broadcasting=False),
    binary("bmm", "BmmBackward0", np.matmul, samples=(S((2, 2, 3), (2, 3, 4)), S((0, 2, 3), (0, 3, 1))),
           broadcasting=False),
    # torch composes matmul from dot / mv / mm / bmm with views (1-d @ 2-d: SqueezeBackward4)
    OpInfo(name="matmul", nodes=("SqueezeBackward4", "UnsafeViewBackward0"),
           fn=lambda m, x, y: m.matmul(x, y), ref=np.matmul,
           samples=(S((3,), (3,)), S((2, 3), (3,)), S((3,), (3, 2)), S((2, 3), (3, 4)),
                    S((4, 2, 3), (3, 5)), S((2, 3, 4), (4,)), S((2, 2, 3), (2, 3, 4)),
                    S((2, 1, 2, 3), (3, 3, 2)), S((3,), (2, 3, 4)))),
    # ---- reductions (ops/reduction.py) ----
    OpInfo(name="sum", nodes=("SumBackward0", "SumBackward1"), fn=lambda m, x, **k: m.sum(x, **k),
           ref=_np_sum, int_inputs=True,
           samples=(S(()), S((2, 3)), S((0,)), S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True),
                    S((2, 3, 4), dim=(0, -1)), S((0, 3), dim=0), S((), dim=0),
                    # an empty dim list: every dim, as torch reads it
                    S((2, 3), dim=[]), S((2, 3), dim=(), keepdim=True),
                    # dim=None given: the dim overload over every dim (SumBackward1)
                    S((2, 3), dim=None), S((2, 3), dim=None, keepdim=True), S((), dim=None, keepdim=True))),
    OpInfo(name="mean", nodes=("MeanBackward0", "MeanBackward1"), fn=lambda m, x, **k: m.mean(x, **k),
           ref=_np_mean,
           samples=(S(()), S((2, 3)), S((2, 3), dim=1), S((2, 3), dim=-1, keepdim=True),
                    S((2, 3, 4), dim=(0, -1)), S((0, 3), dim=1), S((), dim=0),
                    S((2, 3), dim=[]), S((2, 3), dim=(), keepdim=True), S((0, 3), dim=0),
                    S((2, 3), dim=None), S((2, 3), dim=None, keepdim=True))),
    # ---- unary pointwise (ops/unary.py) ----
    unary("sqrt", "SqrtBackward0", np.sqrt, domain=uniform(0.25, 2.0), extra=(_at(0.0, 4.0),)),
    unary("rsqrt", "RsqrtBackward0", lambda a: 1 / np.sqrt(a), domain=uniform(0.25, 2.0),
          extra=(_at(0.0, 4.0),)),
    unary("abs", "AbsBackward0", np.abs, domain=magnitude(0.1, 2.0), extra=(_at(-1.0, 0.0, 2.0),)),
    unary("sin", "SinBackward0", np.sin),
    unary("cos", "CosBackward0", np.cos),
    unary("tan", "TanBackward0", np.tan, domain=uniform(-1.2, 1.2)),
    unary("tanh", "TanhBackward0", np.tanh),
    unary("sigmoid", "SigmoidBackward0", _np_sigmoid, domain=uniform(-4.0, 4.0),
          extra=(_at(-40.0, -800.0, 0.0, 40.0),)),
    unary("relu", "ReluBackward0", lambda a: np.maximum(a, 0), domain=magnitude(0.1, 2.0),
          extra=(_at(-1.0, 0.0, 2.0),)),
    unary("erf", "ErfBackward0", _np_erf),
    unary("log1p", "Log1PBackward0", np.log1p, domain=uniform(-0.5, 2.0)),
    unary("expm1", "Expm1Backward0", np.expm1),
    # ---- clamp, maximum, minimum (ops/pointwise.py) ----
    OpInfo(name="clamp", nodes=("ClampBackward1",), fn=lambda m, x, **k: m.clamp(x, **k), ref=_np_clamp,
           domain=away(-0.5, 0.5), int_inputs=True, inplace=lambda m, x, **k: x.clamp_(**k),
           samples=(S((2, 3), min=-0.5, max=0.5), S((5,), min=-0.5), S((), max=0.5),
                    S((0,), min=-0.5, max=0.5), S((4,), min=0.5, max=-0.5),
                    S(np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), min=-0.5, max=0.5, gradcheck=False))),
    OpInfo(name="clamp_tensor", nodes=("ClampBackward0",), fn=lambda m, x, lo, hi: m.clamp(x, lo, hi),
           ref=lambda a, lo, hi: _np_clamp(a, lo, hi), broadcasting=True,
           domain=(uniform(), uniform(-1.5, -0.2), uniform(0.2, 1.5)),
           inplace=lambda m, x, lo, hi: x.clamp_(lo, hi),
           samples=(S((2, 3), (2, 3), (2, 3)), S((2, 3), (3,), ()), S((), (2, 3), (2, 3)),
                    S((0, 3), (3,), (3,)), S(_CLAMP_X, _CLAMP_LO, _CLAMP_HI, gradcheck=False))),
    OpInfo(name="clamp_tensor_min", nodes=("ClampBackward0",), fn=lambda m, x, lo: m.clamp(x, min=lo),
           ref=lambda a, lo: np.maximum(a, lo), broadcasting=True, samples=BINARY,
           inplace=lambda m, x, lo: x.clamp_(min=lo)),
    OpInfo(name="clamp_tensor_max", nodes=("ClampBackward0",), fn=lambda m, x, hi: m.clamp(x, max=hi),
           ref=lambda a, hi: np.minimum(a, hi), broadcasting=True, samples=BINARY,
           inplace=lambda m, x, hi: x.clamp_(max=hi)),
    OpInfo(name="clamp_min", nodes=("ClampMinBackward0",), fn=lambda m, x, min: m.clamp_min(x, min),
           ref=lambda a, min: np.maximum(a, min), domain=away(0.25), int_inputs=True,
           inplace=lambda m, x, min: x.clamp_min_(min),
           samples=(S((2, 3), min=0.25), S((), min=0.25), S((0,), min=0.25),
                    S(np.array([0.0, 0.25, 1.0]), min=0.25, gradcheck=False))),
    OpInfo(name="clamp_max", nodes=("ClampMaxBackward0",), fn=lambda m, x, max: m.clamp_max(x, max),
           ref=lambda a, max: np.minimum(a, max), domain=away(0.25), int_inputs=True,
           inplace=lambda m, x, max: x.clamp_max_(max),
           samples=(S((2, 3), max=0.25), S((), max=0.25), S((0,), max=0.25),
                    S(np.array([0.0, 0.25, 1.0]), max=0.25, gradcheck=False))),
    binary("clamp_min", "ClampMinBackward1", np.maximum, inplace=lambda m, x, y: x.clamp_min_(y),
           samples=BINARY + (S(_TIE_A, _TIE_B, gradcheck=False),), name_suffix="_tensor"),
    binary("clamp_max", "ClampMaxBackward1", np.minimum, inplace=lambda m, x, y: x.clamp_max_(y),
           samples=BINARY + (S(_TIE_A, _TIE_B, gradcheck=False),), name_suffix="_tensor"),
    binary("maximum", "MaximumBackward0", np.maximum, int_inputs=True,
           samples=BINARY + (S(_TIE_A, _TIE_B, gradcheck=False),)),
    binary("minimum", "MinimumBackward0", np.minimum, int_inputs=True,
           samples=BINARY + (S(_TIE_A, _TIE_B, gradcheck=False),)),
)

# Nodes no public function records in a forward pass; each must show up in the graph of some
# entry's double backward (asserted by test_opdb.py).
INTERNAL = {
    "IndexPutZerosBackward0": "the backward of indexing (select / slice / index), when recorded",
    "ThresholdBackwardBackward0": "relu's backward, when recorded",
    "TanhBackwardBackward0": "tanh's backward, when recorded",
    "SigmoidBackwardBackward0": "sigmoid's backward, when recorded",
    "SoftmaxBackwardDataBackward0": "softmax's backward, when recorded",
    "LogSoftmaxBackwardDataBackward0": "log_softmax's backward, when recorded",
    "NllLossBackwardBackward0": "nll_loss's backward, when recorded",
    "NllLoss2DBackwardBackward0": "nll_loss2d's backward, when recorded",
    "SelectBackwardBackward0": "select's backward, when recorded",
    "SliceBackwardBackward0": "slicing's backward, when recorded",
    "IndexPutImplBackward0": "advanced indexing's backward, when recorded",
    "ScatterAddBackward0": "gather's backward, when recorded",
    "IndexAddBackward0": "index_select's backward, when recorded",
    "ScatterBackward0": "max(dim)'s and min(dim)'s backward, when recorded",
    "GeluBackwardBackward0": "gelu's backward, when recorded",
    "LogSigmoidBackwardBackward0": "logsigmoid's backward, when recorded",
    "MseLossBackwardBackward0": "mse_loss's backward, when recorded",
    "SubBackward1": "a recorded rule's `tensor - number` (NOTE [rule scalars] in tape/engine.py)",
}


def _family_entries() -> tuple:
    """Entries of further op families live in opdb_<family>.py beside this file, each with a
    tuple ENTRIES built from the helpers above, so families can grow independently."""
    import importlib
    import pathlib

    found = ()
    for path in sorted(pathlib.Path(__file__).parent.glob("opdb_*.py")):
        found += tuple(importlib.import_module(path.stem).ENTRIES)
    return found


OPS_DB = OPS_DB + _family_entries()
BY_NAME = {e.name: e for e in OPS_DB}
