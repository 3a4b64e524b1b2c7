"""Op database entries for ops/indexing.py: gather, index_select, masked_fill, index_put,
`x[i] = v` (basic indices: copy_/fill_ into a view, CopySlices; advanced: index_put_), the
index forms torch reads specially in `x[i]`, and isnan / isfinite (see opdb.py).

Index arrays and masks are integer / bool sample arrays (constant inputs); basic indices are
plain data in the sample's kwargs. Repeated positions written without accumulate are torch
parity samples only: the value written last wins, but torch (and tape) send the gradient to
every value written there.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from opdb import OpInfo, S, mask

NAN, INF = math.nan, math.inf


def _i(*values):
    return np.array(values, dtype=np.int64)


def _np_gather(a, index, dim):
    if a.ndim == 0 or index.ndim == 0:
        return a.reshape(-1)[index.reshape(-1)].reshape(index.shape)
    idx = list(np.indices(index.shape, sparse=True))
    idx[dim] = index
    return a[tuple(idx)]


def _np_index_select(a, index, dim):
    if a.ndim == 0:
        return a.reshape(-1)[index.reshape(-1)].reshape(())
    return np.take(a, index.reshape(-1), axis=dim)


def _np_masked_fill(a, m, value=2.5):
    return np.where(m, np.asarray(value).astype(a.dtype), a)


def _np_index_put(a, v, *idx, accumulate=False):
    out = a.copy()
    if accumulate:
        np.add.at(out, tuple(idx), v)
    else:
        out[tuple(idx)] = v
    return out


def _setitem(m, x, *v, index, value=None):
    y = x.clone()
    y[index] = v[0] if v else value
    return y


def _np_setitem(a, *v, index, value=None):
    y = a.copy()
    y[index] = v[0] if v else value
    return y


def _quietly(f, *args):
    with warnings.catch_warnings():  # the deprecation warning of a list read as a tuple
        warnings.simplefilter("ignore")
        return f(*args)


def _method(name):
    """fn calling `x.NAME(...)` (method=True) or `mod.NAME(x, ...)`."""

    def fn(m, x, *rest, method=False, **k):
        return getattr(x, name)(*rest, **k) if method else getattr(m, name)(x, *rest, **k)

    return fn


def _ref(f):
    return lambda *a, method=False, **k: f(*a, **k)


_G = np.array([[0, 1], [2, 0], [1, 1]])
_MASK34 = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

ENTRIES = (
    # ---- gather / index_select ----
    OpInfo(name="gather", nodes=("GatherBackward0",), ref=_ref(lambda a, i, dim: _np_gather(a, i, dim)),
           fn=lambda m, x, i, dim, method=False: x.gather(dim, i) if method else m.gather(x, dim, i),
           samples=(S((3, 4), _G, dim=1), S((3, 4), np.array([[0, 2, 2, 1], [1, 1, 0, 0]]), dim=0),
                    S((3, 4), _G, dim=-1, method=True), S((2, 3, 4), np.ones((2, 2, 3), np.int64), dim=1),
                    S((3, 4), np.zeros((4, 4), np.int64), dim=0),
                    S((3, 4), np.zeros((3, 0), np.int64), dim=1),
                    S((), np.array(0), dim=0), S((), _i(0, 0), dim=-1), S((3,), np.array(2), dim=0),
                    S((0, 3), np.zeros((0, 2), np.int64), dim=1))),
    OpInfo(name="index_select", nodes=("IndexSelectBackward0",),
           ref=_ref(lambda a, i, dim: _np_index_select(a, i, dim)),
           fn=lambda m, x, i, dim, method=False: (x.index_select(dim, i) if method
                                                  else m.index_select(x, dim, i)),
           samples=(S((3, 4), _i(0, 2, 2), dim=0), S((3, 4), _i(3, 0), dim=-1, method=True),
                    S((2, 3, 4), _i(1, 1, 0, 2), dim=1), S((3, 4), np.zeros(0, np.int64), dim=0),
                    S((3, 4), np.array(2), dim=1), S((), _i(0), dim=0), S((), np.array(0), dim=0),
                    S((0, 3), _i(2, 0), dim=1))),
    # ---- masked_fill ----
    OpInfo(name="masked_fill", nodes=("MaskedFillBackward0",), broadcasting=True, int_inputs=True,
           ref=_ref(_np_masked_fill), fn=_method("masked_fill"),
           inplace=lambda m, x, mk, value=2.5, method=False: x.masked_fill_(mk, value),
           samples=(S((3, 4), _MASK34, value=2.5), S((3, 4), _MASK34[0], value=-1.0, method=True),
                    S((4,), _MASK34, value=2.5), S((), np.array(True), value=0.5),
                    S((0, 4), _MASK34[0], value=1.0), S((3, 4), _MASK34, value=3),
                    S((3, 4), _MASK34, value=True), S((2, 3), mask(2, 3), value=-5.0))),
    # the value as a 0-d tensor gets the sum of the gradient where the mask holds
    OpInfo(name="masked_fill_tensor", nodes=("MaskedFillBackward1",),
           ref=_ref(lambda a, mk, v: _np_masked_fill(a, mk, v)), fn=_method("masked_fill"),
           inplace=lambda m, x, mk, v, method=False: x.masked_fill_(mk, v),
           samples=(S((3, 4), _MASK34, ()), S((3, 4), _MASK34[1], (), method=True),
                    S((), np.array(False), ()),
                    S((4,), _MASK34, ()), S((0, 4), _MASK34[0], ()))),
    # ---- index_put (out of place) and index_put_ (into a copy) ----
    OpInfo(name="index_put", nodes=("IndexPutBackward0",), ref=_ref(_np_index_put),
           fn=lambda m, x, v, *idx, accumulate=False, method=False: (
               x.index_put(tuple(idx), v, accumulate=accumulate) if method
               else m.index_put(x, tuple(idx), v, accumulate=accumulate)),
           samples=(S((3, 4), (2, 4), _i(0, 2)), S((3, 4), (4,), _i(2, 0), method=True),
                    S((3, 4), (), _i(1)), S((3, 4), (2,), _i(0, 2), _i(1, 3)),
                    S((3, 4), (3, 4), _i(0, 0, 2), accumulate=True), S((3, 4), (), _MASK34),
                    S((3, 4), (6,), _MASK34), S((5,), (), _i(4, -1), accumulate=True),
                    S((3, 4), (3, 4), _i(0, 0, 2), gradcheck=False), S((3, 4), (0, 4), np.zeros(0, np.int64)),
                    S((1,), (), np.array([True])))),
    OpInfo(name="index_put_", nodes=("IndexPutBackward0", "CloneBackward0"), ref=_ref(_np_index_put),
           fn=lambda m, x, v, *idx, accumulate=False: x.clone().index_put_(tuple(idx), v, accumulate),
           samples=(S((3, 4), (2, 4), _i(0, 2)), S((3, 4), (), _MASK34),
                    S((3, 4), (4,), _i(2, 0), accumulate=True),
                    S((3, 4), (2,), _i(0, 2), _i(1, 3)))),
    # ---- x[index] = value ----
    # basic indices: copy_ (same shape), fill_ (0-d value) or copy_ of the value viewed without
    # its leading 1s and expanded; into a view of x that is CopySlices, into x itself not.
    # gradgrad=False: CopySlices' backward, recorded (create_graph), fails in tape/views.py
    # (np.result_type of a tensor gradient; reported); the samples pass with that fixed
    OpInfo(name="setitem", nodes=("CopyBackwards", "FillBackward3", "ExpandBackward0", "ViewBackward0"),
           fn=_setitem, ref=_np_setitem, gradgrad=True,
           samples=(S((3, 4), (4,), index=0), S((3, 4), (), index=(slice(None), 1)),
                    S((3, 4), (1, 4), index=slice(1, 3)), S((3, 4), (2, 1), index=(slice(0, 2), slice(1, 3))),
                    S((3, 4), (3, 4), index=Ellipsis), S((3, 4), (), index=Ellipsis),
                    S((3, 4), (4,), index=slice(None)), S((2, 3, 4), (3,), index=(0, Ellipsis, 1)),
                    S((3, 4), (4,), index=None), S((3, 4), (4,), index=True), S((), (), index=Ellipsis),
                    S((), (1,), index=None), S((3, 4), (1, 1, 2), index=(1, slice(None, None, 2))),
                    S((3, 4), index=-1, value=2.5), S((3, 4), index=(slice(None), slice(2, None)), value=-1),
                    S((3, 4), index=Ellipsis, value=0.5), S((0, 4), (4,), index=slice(None)),
                    S((3, 4), (4,), index=False), S((3, 4), (2,), index=(0, _i(1, 2))),
                    S((2, 3, 4), (2, 2), index=(1, _i(0, 2), slice(1, 3))))),
    # advanced indices: index_put_ (into a view of x when basic items come first: CopySlices)
    OpInfo(name="setitem_advanced", nodes=("IndexPutBackward0",), fn=_setitem, ref=_np_setitem,
           samples=(S((3, 4), (2, 4), index=_i(0, 2)), S((3, 4), (4,), index=_i(2, 0)),
                    S((3, 4), (), index=(_i(0, 2), _i(1, 3))), S((3, 4), (6,), index=_MASK34),
                    S((3, 4), (3, 1), index=(slice(None), _i(1))),
                    S((3, 4), (1, 2, 4), index=_i(0, 2)), S((3, 4), index=_MASK34[:, 0], value=7.0),
                    S((2, 3, 4), (3, 2), index=(Ellipsis, _i(0, 3))),
                    S((3, 4), (2, 4), index=_i(1, 1), gradcheck=False),
                    S((3, 4), (0, 4), index=np.zeros(0, np.int64)),
                    S((3, 4), (2,), index=(range(2), _i(0, 2))), S((3, 4), index=range(1, 3), value=7.0),
                    S((3, 4), (3, 2), index=(slice(None), range(2))))),
    # ---- reading x[index]: the forms torch reads specially ----
    OpInfo(name="getitem_forms", nodes=("SelectBackward0", "IndexBackward0", "UnsqueezeBackward0"),
           fn=lambda m, x, index: x[index], ref=lambda a, index: a[index],
           samples=(S((3, 4), index=np.int64(1)), S((3, 4), index=True), S((3, 4), index=False),
                    S((3, 4), index=(0, True)), S((3, 4), index=(1, False)),
                    S((3, 4), index=(Ellipsis, None)),
                    S((2, 3, 4), index=(_MASK34[:2, :3], 1)), S((3, 4), index=(slice(None), _i(-1, 0))),
                    S((2, 3, 4), index=(_i(0, 1), slice(None), _i(2, 3))),
                    # a range is a sequence of ints: an index tensor, alone or beside others
                    S((2, 3), index=range(2)), S((2, 3), index=(range(2), _i(0, 2))),
                    S((2, 3, 4), index=(range(2), slice(None), range(2))),
                    S((2, 3), index=(slice(None), range(1, 3))), S((2, 3), index=range(0)),
                    S((2, 3), index=(Ellipsis, range(-1, 1))), S((2, 3), index=(range(2), None)))),
    # a short list holding a sequence (a range, an array), a slice, a tensor, None or `...` is
    # read as a tuple (torch warns); the items of an index list become int64 (floats truncated)
    OpInfo(name="getitem_list_index", nodes=("IndexBackward0", "SelectBackward0"),
           fn=lambda m, x, index, np_index: _quietly(x.__getitem__, index),
           ref=lambda a, index, np_index: a[np_index],
           samples=(S((2, 3), index=[range(2)], np_index=_i(0, 1)),
                    S((2, 3), index=[range(2), [0, 2]], np_index=(_i(0, 1), _i(0, 2))),
                    S((2, 3), index=[0, range(2)], np_index=(0, _i(0, 1))),
                    S((2, 3), index=[range(2), 1], np_index=(_i(0, 1), 1)),
                    S((2, 3), index=[np.array([1, 0]), 2], np_index=(_i(1, 0), 2)),
                    S((2, 3), index=[range(2), slice(1, None)], np_index=(_i(0, 1), slice(1, None))),
                    S((2, 3), index=[0.7, 1.2], np_index=_i(0, 1)),
                    S((2, 3), index=(slice(None), np.array([2.5, -1.5])),
                      np_index=(slice(None), _i(2, -1))))),
    OpInfo(name="getitem_tensor_scalar", nodes=("SelectBackward0", "IndexBackward0", "UnsqueezeBackward0"),
           fn=lambda m, x, i, pos=0: x[(slice(None),) * pos + (m.tensor(i),)],
           ref=lambda a, i, pos=0: a[(slice(None),) * pos + (i,)],  # numpy reads bools as torch does
           samples=(S((3, 4), i=1), S((3, 4), i=-1, pos=1), S((3, 4), i=True), S((3, 4), i=False, pos=1))),
    # ---- isnan / isfinite ----
    OpInfo(name="isnan", nodes=("IsnanBackward0",), fn=_method("isnan"), ref=_ref(np.isnan),
           differentiable=False, gradgrad=False, int_inputs=True,
           samples=(S((2, 3)), S(()), S((0,)), S(np.array([1.0, NAN, INF, -INF, 0.0]), method=True))),
    OpInfo(name="isfinite", nodes=("IsfiniteBackward0",), fn=_method("isfinite"), ref=_ref(np.isfinite),
           differentiable=False, gradgrad=False, int_inputs=True,
           samples=(S((2, 3)), S(()), S((0,)), S(np.array([1.0, NAN, INF, -INF, 0.0]), method=True))),
)
