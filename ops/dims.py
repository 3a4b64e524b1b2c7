"""Checking and normalising `dim` arguments, with torch's errors."""

from __future__ import annotations


def wrap_dim(dim: int, ndim: int) -> int:
    """A non-negative dim, or torch's IndexError (0-d tensors accept -1 and 0)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


def wrap_dims(dim, ndim: int) -> tuple[int, ...]:
    """`dim` (int, tuple or list) as a sorted tuple of non-negative dims, each at most once."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = tuple(sorted(wrap_dim(d, ndim) for d in dims))
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return out if ndim else ()


def shape_arg(shape: tuple) -> tuple:
    """`view(2, 3)` and `view((2, 3))` alike."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


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
