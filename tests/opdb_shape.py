"""Op database entries: joining, splitting and reshaping (ops/join.py, ops/shape.py).

Errors of these ops (messages, nothing recorded) are in test_op_errors_shape.py.
"""

from __future__ import annotations

import warnings

import numpy as np
from opdb import OpInfo, S


def _quiet(fn):
    """fn without torch's deprecation warnings (x.T on non-matrices, 0-d mT)."""

    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return run


def _np_cat(*arrays, dim=0):
    kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
    return np.concatenate(kept, axis=dim) if kept else np.zeros((0,))


def _np_split(a, size, dim=0):
    n = a.shape[dim]
    if isinstance(size, int):
        size = [size] * max(-(-n // size), 1) if size else [0]
        size[-1] = n - sum(size[:-1])
    cuts = np.cumsum(size)[:-1]
    return tuple(np.split(a, cuts, axis=dim))


def _np_chunk(a, chunks, dim=0):
    n = a.shape[dim]
    size = -(-n // chunks)
    if size == 0:
        return tuple(np.split(a, [0] * (chunks - 1), axis=dim))
    return _np_split(a, size, dim)


def _np_flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return a.reshape(1)
    s, e = start_dim % a.ndim, end_dim % a.ndim
    return a.reshape(a.shape[:s] + (-1 if a.size else int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:])


def _np_movedim(a, source, destination):
    return a if a.ndim == 0 else np.moveaxis(a, source, destination)


ENTRIES = (
    # ---- cat (ops/join.py): 1-d empty tensors are skipped, whatever the others' shapes ----
    OpInfo(name="cat", nodes=("CatBackward0",), fn=lambda m, *xs, dim=0: m.cat(list(xs), dim),
           ref=_np_cat,
           samples=(S((2, 3), (1, 3)), S((2, 3), (2, 1), dim=1), S((2, 3), (2, 3), (2, 2), dim=-1),
                    S((0, 3), (2, 3)), S((4,), (2,)), S((2, 3),), S((1, 2, 2), (1, 2, 2), dim=1))),
    # a skipped tensor's gradient is a new empty tensor, unrecorded (as torch's): no gradgrad
    OpInfo(name="cat_legacy_empty", nodes=("CatBackward0",), fn=lambda m, *xs, dim=0: m.cat(list(xs), dim),
           ref=_np_cat, gradgrad=False,
           samples=(S((2, 3), (1, 3)), S((2, 3), (0,)), S((0,), (2, 3), dim=1), S((0,), (0,)))),
    OpInfo(name="concat", nodes=("CatBackward0",), fn=lambda m, x, y, dim=0: m.concat((x, y), dim=dim),
           ref=_np_cat, samples=(S((2, 3), (2, 2), dim=-1),)),
    OpInfo(name="concatenate", nodes=("CatBackward0",),
           fn=lambda m, x, y, axis=0: m.concatenate([x, y], axis=axis),
           ref=lambda a, b, axis=0: _np_cat(a, b, dim=axis), samples=(S((2, 3), (2, 2), axis=1),)),
    # ---- split / chunk: tuples of views, one node; missing gradients count as zeros ----
    OpInfo(name="split", nodes=("SplitBackward0", "SplitWithSizesBackward0"),
           fn=lambda m, x, size, dim=0: m.split(x, size, dim), ref=_np_split,
           samples=(S((5, 3), size=2), S((2, 6), size=3, dim=-1), S((2, 3), size=5, dim=1),
                    S((0, 2), size=1), S((0, 2), size=0), S((4, 3), size=[1, 3]),
                    S((2, 3), size=(3,), dim=1), S((2, 4), size=[1, 0, 3], dim=1))),
    OpInfo(name="split_method", nodes=("SplitBackward0", "SplitWithSizesBackward0"),
           fn=lambda m, x, size, dim=0: x.split(size, dim=dim), ref=_np_split,
           samples=(S((3, 4), size=3, dim=1), S((3, 4), size=(2, 2), dim=1))),
    OpInfo(name="split_with_sizes", nodes=("SplitWithSizesBackward0",),
           fn=lambda m, x, sizes, dim=0: x.split_with_sizes(sizes, dim),
           ref=lambda a, sizes, dim=0: _np_split(a, list(sizes), dim),
           samples=(S((5, 2), sizes=(2, 3)), S((2, 3), sizes=[1, 1, 1], dim=-1))),
    OpInfo(name="chunk", nodes=("SplitBackward0", "SplitWithSizesBackward0"),
           fn=lambda m, x, chunks, dim=0: m.chunk(x, chunks, dim), ref=_np_chunk,
           samples=(S((5, 3), chunks=2), S((2, 6), chunks=4, dim=1), S((2, 3), chunks=4, dim=-1),
                    S((0,), chunks=3), S((3,), chunks=1), S((2, 4), chunks=2, dim=1))),
    OpInfo(name="chunk_method", nodes=("SplitBackward0",), fn=lambda m, x, chunks: x.chunk(chunks),
           ref=_np_chunk, samples=(S((6, 2), chunks=3),)),
    # ---- flatten: a view when possible, the input itself when nothing merges ----
    OpInfo(name="flatten", nodes=("ViewBackward0",), fn=lambda m, x, **k: m.flatten(x, **k),
           ref=_np_flatten,
           samples=(S((2, 3, 4)), S((2, 3, 4), start_dim=1), S((2, 3, 4), start_dim=-2, end_dim=-1),
                    S((2, 3, 4), start_dim=0, end_dim=1), S(()), S((3,)), S((2, 3), start_dim=1),
                    S((0, 2, 3)), S((), start_dim=-1, end_dim=0))),
    # not viewable: torch clones and then _unsafe_view's
    OpInfo(name="flatten_copy", nodes=("UnsafeViewBackward0", "CloneBackward0"),
           fn=lambda m, x, **k: x.transpose(0, 2).flatten(**k),
           ref=lambda a, **k: _np_flatten(np.swapaxes(a, 0, 2), **k),
           samples=(S((2, 3, 4)), S((2, 3, 4), start_dim=1))),
    # ---- x.T (permute, all dims reversed), x.mT (transpose of the last two) ----
    OpInfo(name="T", nodes=("PermuteBackward0",), fn=_quiet(lambda m, x: x.T), ref=lambda a: a.T,
           samples=(S((2, 3)), S((2, 3, 4)), S((3,)), S(()), S((0, 2)))),
    OpInfo(name="mT", nodes=("TransposeBackward0",), fn=_quiet(lambda m, x: x.mT),
           ref=lambda a: a if a.ndim == 0 else np.swapaxes(a, -1, -2),
           samples=(S((2, 3)), S((2, 3, 4)), S(()), S((2, 0, 1)))),
    # ---- movedim / moveaxis ----
    OpInfo(name="movedim", nodes=("PermuteBackward0", "AliasBackward0"),
           fn=lambda m, x, source, destination: m.movedim(x, source, destination), ref=_np_movedim,
           samples=(S((2, 3, 4), source=0, destination=2), S((2, 3, 4), source=-1, destination=0),
                    S((2, 3, 4), source=(0, 1), destination=(2, 0)), S((2, 3, 4), source=1, destination=1),
                    S((), source=0, destination=-1), S((2, 0, 3), source=[0, 2], destination=[1, 0]))),
    OpInfo(name="moveaxis", nodes=("PermuteBackward0",),
           fn=lambda m, x, source, destination: x.moveaxis(source, destination), ref=_np_movedim,
           samples=(S((2, 3, 4), source=0, destination=-1),)),
    # ---- negative dims and -1 sizes (view, expand, squeeze, unsqueeze) ----
    OpInfo(name="unsqueeze_neg", nodes=("UnsqueezeBackward0",), fn=lambda m, x, dim: x.unsqueeze(dim),
           ref=lambda a, dim: np.expand_dims(a, dim),
           samples=(S((2, 3), dim=-3), S((2, 3), dim=-2), S((), dim=-1), S((4,), dim=-2))),
    OpInfo(name="squeeze_neg", nodes=("SqueezeBackward1", "SqueezeBackward2"),
           fn=lambda m, x, dim: x.squeeze(dim),
           ref=lambda a, dim: np.squeeze(a, tuple(d % a.ndim for d in ((dim,) if isinstance(dim, int)
                                                                      else dim) if a.shape[d] == 1)),
           samples=(S((2, 1, 3), dim=-2), S((1, 3, 1), dim=(-1, -3)), S((2, 1), dim=-2), S((1,), dim=-1))),
    OpInfo(name="view_infer", nodes=("ViewBackward0",), fn=lambda m, x, shape: x.view(*shape),
           ref=lambda a, shape: a.reshape(shape),
           samples=(S((2, 3, 4), shape=(-1, 4)), S((2, 3, 4), shape=(2, -1, 2)), S((6,), shape=(-1,)),
                    S((0, 3), shape=(-1, 3)))),
    OpInfo(name="expand_keep", nodes=("ExpandBackward0",), fn=lambda m, x, size: x.expand(*size),
           ref=lambda a, size: np.broadcast_to(a, tuple(a.shape[i - (len(size) - a.ndim)] if s == -1 else s
                                                        for i, s in enumerate(size))),
           samples=(S((2, 1), size=(3, -1, 4)), S((1, 3), size=(-1, -1)), S((3,), size=(2, 2, -1)))),
    # a single output of a multi-output view op gets its gradient alone
    OpInfo(name="unbind_single", nodes=("UnbindBackward0",), fn=lambda m, x, dim=0: m.unbind(x, dim),
           ref=lambda a, dim=0: tuple(np.moveaxis(a, dim, 0)), samples=(S((1, 3)), S((2, 1), dim=1))),
)
