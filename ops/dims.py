"""Checking and normalising `dim` arguments, with torch's errors."""

from __future__ import annotations

import numpy as np

# NOTE [arguments as given]
# torch's nodes keep an op's int arguments as the caller gave them and normalise them in
# the backward formula: `x.sum(-1).grad_fn._saved_dim` is (-1,) (shown unsigned: NOTE
# [unsigned saved ints] in ops/registry.py), `x.sum((2, 0))` keeps (2, 0), `x[-2:]` keeps
# start -2 and end INT64_MAX. tape's ops want them normalised (non-negative, sorted), so a
# normalised value that differs from what was given remembers it: an int or tuple that
# is the normalised value everywhere (numpy, arithmetic, hashing) and carries `given` for
# the node's `_saved_*` attributes. Made only then, so the usual positive dims cost nothing.


class GivenInt(int):
    """A normalised int argument that remembers the caller's (NOTE [arguments as given])."""

    given: int


class GivenTuple(tuple):
    """A normalised tuple argument that remembers the caller's (NOTE [arguments as given])."""

    given: tuple | None


def as_given(value, given):
    """`value` (an int or a tuple), shown to a node's `_saved_*` attributes as `given`."""
    out = GivenTuple(value) if isinstance(value, tuple) else GivenInt(value)
    out.given = given
    return out


def wrap_dim(dim: int, ndim: int) -> int:
    """A non-negative dim, or torch's IndexError (0-d tensors accept -1 and 0). Any integer
    (a numpy one too) is a dim; anything else is a TypeError, as torch's parser gives it."""
    if type(dim) is not int:
        if type(dim) is GivenInt:  # wrapped before: from what was given, to keep it
            return wrap_dim(dim.given, ndim)
        if not hasattr(dim, "__index__") or isinstance(dim, (list, tuple)):
            raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
        dim = dim.__index__()
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return as_given(dim + n, dim) if dim < 0 else dim


def broadcast_error(sa: tuple, sb: tuple) -> RuntimeError | None:
    """torch's error for shapes that do not broadcast, naming the first clash from the
    right; None when they do."""
    for k in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-k] if k <= len(sa) else 1
        y = sb[-k] if k <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                f"non-singleton dimension {max(len(sa), len(sb)) - k}")
    return None


def check_broadcast(sa: tuple, sb: tuple) -> None:
    """Raise torch's error unless the two shapes broadcast."""
    error = broadcast_error(sa, sb)
    if error is not None:
        raise error


def wrap_dims(dim, ndim: int) -> tuple[int, ...]:
    """`dim` (int, tuple or list) as a sorted tuple of non-negative dims, each at most once."""
    if hasattr(dim, "__index__"):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"argument 'dim' must be tuple of ints, not {type(dim).__name__}")
    out = tuple(sorted(int(wrap_dim(d, ndim)) for d in dims))
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    if not ndim:
        out = ()
    given = tuple(d if type(d) is int else d.__index__() for d in dims)
    return out if given == out else as_given(out, given)


def shape_arg(shape: tuple, fn: str = "view") -> tuple:
    """`view(2, 3)` and `view((2, 3))` alike: sizes as several integers or one sequence of
    them; any integer counts (numpy's, a 0-d integer tensor), anything else is torch's
    TypeError for `fn`."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, range, np.ndarray)):
        shape = tuple(shape[0])
    for s in shape:
        if type(s) is not int and (not hasattr(s, "__index__") or isinstance(s, (list, tuple))):
            raise TypeError(f"{fn}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(s).__name__}")
    return tuple(s if type(s) is int else s.__index__() for s in shape)


def infer_shape(shape: tuple, numel: int) -> tuple[int, ...]:
    """Resolve one -1 in `shape`, or raise torch's error for a size that does not fit."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# NOTE [a copy's layout]
# torch lays out a new tensor made like another (clone, to(), tensor(t), the *_like
# factories: memory_format=preserve_format) with the other's strides when it is dense, and
# otherwise in the order its strides give, an expanded (stride 0) dim counting as no order
# at all (infer_dense_strides). numpy's order "K" agrees, except that it takes a stride 0
# for the fastest dim: `x.expand(2, 3).clone()` came out column-major, so .view() failed.


def contiguous_strides(shape: tuple) -> tuple:
    """A contiguous tensor's strides in elements, as torch gives them (a size 0 or 1 steps
    as 1: zeros(0, 4) has (4, 1), where numpy 2's empty arrays have zero strides)."""
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def _dense_order(shape: tuple, strides: tuple) -> list:
    """The dims from outermost to innermost as torch orders them for a copy: by stride, a
    stride 0 ambiguous (the dims keep their places), equal strides by size."""
    perm = list(range(len(shape) - 1, -1, -1))  # innermost first, as torch sorts them

    def should_swap(d0, d1):
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if shape[d0] > shape[d1] else 0

    for i in range(1, len(perm)):  # torch's insertion sort, ambiguity included
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm[::-1]


def empty_like_torch(a, dtype=None) -> np.ndarray:
    """An uninitialised array shaped as `a` and laid out as torch lays out a tensor made
    like it (NOTE [a copy's layout])."""
    dt = a.dtype if dtype is None else dtype
    if a.ndim < 2 or a.flags.c_contiguous:
        return np.empty(a.shape, dt)
    order = _dense_order(a.shape, a.strides)
    return np.empty([a.shape[d] for d in order], dt).transpose(np.argsort(order))


def copy_like_torch(a, dtype=None) -> np.ndarray:
    """A copy of `a` (cast to `dtype`) laid out as torch's copy of it (NOTE [a copy's layout])."""
    if a.ndim < 2 or 0 not in a.strides:  # numpy's order "K" is torch's layout then
        return np.array(a, dtype=dtype, copy=True)
    out = empty_like_torch(a, dtype)
    np.copyto(out, a, casting="unsafe")
    return out
