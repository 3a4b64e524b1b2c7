"""Shape and view ops: view/reshape, transpose/permute/t, unbind, expand, squeeze, stack...

Ops marked `view=True` return numpy views of their first input; the engine makes their
outputs share the input's storage and version counter, as torch's views do.
"""

from __future__ import annotations

import warnings

import numpy as np

from .dims import as_given, copy_like_torch, infer_shape, shape_arg, wrap_dim, wrap_dims
from .dtypes import result_type
from .registry import call, function, op, self_sizes, tensor_list


def _infer(shape: tuple, numel: int) -> tuple[int, ...]:
    """`infer_shape`, with torch's own error for a -1 that any size would satisfy."""
    if numel == 0 and shape.count(-1) == 1 and 0 in shape:
        raise RuntimeError(
            f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
            "dimension size -1 can be any value and is ambiguous")
    return infer_shape(shape, numel)


def _view_fwd(a, shape):
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None


_SIZES = {"self_sym_sizes": self_sizes}
VIEW = op("view", "ViewBackward0", _view_fwd,
          lambda F, ctx, g: (F.reshape(g, ctx.shapes[0]),), view=True, saved_attrs=_SIZES)
# reshape of a non-contiguous tensor that can still be viewed (torch's _reshape_alias)
RESHAPE_ALIAS = op("_reshape_alias", "ReshapeAliasBackward0", _view_fwd,
                   lambda F, ctx, g: (F.reshape(g, ctx.shapes[0]),), view=True, saved_attrs=_SIZES)
# reshape of a tensor that cannot be viewed: a copy, then a view of the copy
UNSAFE_VIEW = op("_unsafe_view", "UnsafeViewBackward0", lambda a, shape: np.reshape(a, shape),
                 lambda F, ctx, g: (F.reshape(g, ctx.shapes[0]),), saved_attrs=_SIZES)
# order "K" keeps the layout (torch's preserve_format: NOTE [a copy's layout]), "C" is
# contiguous()'s
CLONE = op("clone", "CloneBackward0",
           lambda a, order="K": copy_like_torch(a) if order == "K" else np.array(a, copy=True, order=order),
           lambda F, ctx, g: (g,))


def _keyword_shape(name: str, shape: tuple, keyword: str, value) -> tuple:
    """The shape given positionally, or by torch's keyword (`view(size=...)`,
    `reshape(shape=...)`), not both."""
    if value is None:
        return shape
    if shape:
        raise TypeError(f"{name}() got multiple values for argument '{keyword}'")
    return (value,)


def _only(kw: dict, name: str, keyword: str):
    """The one keyword a *args function takes besides its positional arguments."""
    unknown = sorted(set(kw) - {keyword})
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument '{unknown[0]}'")
    return kw.get(keyword)


@function(methods="view", module=False)
def view(self, *shape, dtype=None, size=None):
    """The same storage seen with another shape (one -1 is inferred), or read as another
    dtype (`view(tape.int32)`: Tensor._dtype_view, outside the graph as in torch)."""
    shape = _keyword_shape("view", shape, "size", size)
    if not shape and dtype is None:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected "
                        "one of:\n * (torch.dtype dtype)\n * (tuple of ints size)\n")
    if dtype is None and len(shape) == 1 and hasattr(shape[0], "np"):
        dtype, shape = shape[0], ()
    if (dtype is not None and shape) or any(hasattr(s, "np") for s in shape):  # torch's error
        got = ["tape.dtype" if hasattr(s, "np") else type(s).__name__ for s in shape]
        got += ["dtype=tape.dtype"] if dtype is not None else []
        raise TypeError(f"view() received an invalid combination of arguments - got ({', '.join(got)}), "
                        "but expected one of:\n * (tape.dtype dtype)\n * (tuple of ints size)\n")
    if dtype is not None:
        return self._dtype_view(dtype)
    return call(VIEW, (self,), (_infer(shape_arg(shape), self.numel()),))


@function("reshape")
def reshape_function(input, shape):
    """torch.reshape(input, shape): one sequence of sizes (the method takes several ints too)."""
    return reshape(input, shape)


@function(methods="reshape", module=False)
def reshape(input, *shape, **kw):
    """A view when the storage allows one, a copy otherwise (torch's node names: a view of
    a contiguous tensor, an alias of a non-contiguous one, or a clone then a view)."""
    shape = _keyword_shape("reshape", shape, "shape", _only(kw, "reshape", "shape"))
    if not shape:  # (no size at all: torch's parser has no such overload)
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    shape = _infer(shape_arg(shape, "reshape"), input.numel())
    if input.is_contiguous():
        return call(VIEW, (input,), (shape,))
    try:
        return call(RESHAPE_ALIAS, (input,), (shape,))
    except RuntimeError:
        return call(UNSAFE_VIEW, (call(CLONE, (input,)),), (shape,))


@function(methods="view_as", module=False)
def view_as(self, other):
    return view(self, other.shape)


@function(methods="reshape_as", module=False)
def reshape_as(self, other):
    return reshape(self, other.shape)


@function("clone", methods="clone")
def clone(input, *, memory_format=None):
    """A copy with its own storage, differentiable."""
    return call(CLONE, (input,))


@function(methods="contiguous", module=False)
def contiguous(self, memory_format=None):
    return self if self._arr().flags.c_contiguous else call(CLONE, (self,), ("C",))


def _transpose_fwd(a, d0, d1):
    return a.view() if a.ndim == 0 else np.swapaxes(a, d0, d1)  # 0-d: dims 0 and -1 are one


TRANSPOSE = op("transpose", "TransposeBackward0", _transpose_fwd,
               lambda F, ctx, g: (F.transpose(g, *ctx.params),), view=True, param_names=("dim0", "dim1"))
T = op("t", "TBackward0", lambda a: a.T, lambda F, ctx, g: (F.t(g),),
       view=True)
PERMUTE = op("permute", "PermuteBackward0", lambda a, dims: np.transpose(a, dims),
             lambda F, ctx, g: (F.permute(g, tuple(np.argsort(ctx.params[0]))),), view=True,
             param_names=("dims",))


FLIP = op("flip", "FlipBackward0", lambda a, dims: np.flip(a, dims) if dims else a.copy(),
          lambda F, ctx, g: (F.flip(g, ctx.params[0]),), param_names=("dims",))


@function("flip")
def flip(input, dims):
    """The entries in reverse order along `dims` (a copy, as torch's)."""
    if isinstance(dims, (int, np.integer)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    return call(FLIP, (input,), (wrap_dims(shape_arg(dims, "flip"), input.ndim),))


@function(methods="flip", module=False)
def _flip_method(self, *dims, **kw):
    """x.flip(0, 1), x.flip((0, 1)) or x.flip(dims=...)."""
    if "dims" in kw:
        return flip(self, kw.pop("dims"))
    return flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], (int, np.integer)) else dims)


@function("transpose", "swapaxes", "swapdims", methods=("transpose", "swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    return call(TRANSPOSE, (input,), (wrap_dim(dim0, input.ndim), wrap_dim(dim1, input.ndim)))


@function("t", methods="t")
def t(input):
    """Transpose of a matrix; 0-d and 1-d tensors are returned as they are (a view)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return call(T, (input,))


@function("permute")
def permute_function(input, dims):
    """torch.permute(input, dims): one sequence of dims (the method takes several ints too)."""
    return permute(input, dims=dims)


@function(methods="permute", module=False)
def permute(input, *args, dims=None):
    """Reorder the dims (a view); `dims` as a sequence, several ints or the keyword."""
    if dims is None:
        if not args:  # (an empty tuple given is fine for a 0-d tensor)
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        dims = args
    elif args:
        raise TypeError("permute() got multiple values for argument 'dims'")
    dims = shape_arg(dims, "permute")
    if len(dims) != input.ndim:  # torch checks the count before the range
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    out = tuple(int(wrap_dim(d, input.ndim)) for d in dims)
    if len(set(out)) < len(out):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return call(PERMUTE, (input,), (out if out == dims else as_given(out, dims),))


def _unbind_fwd(a, dim):
    lead = (slice(None),) * dim
    return tuple(a[lead + (i, Ellipsis)] for i in range(a.shape[dim]))


def _unbind_bwd(F, ctx, grads):
    (dim,) = ctx.params
    if not isinstance(grads, tuple):  # one output: the engine passes its gradient alone
        grads = (grads,)
    shape = list(ctx.shapes[0])
    del shape[dim]
    some = next(g for g in grads if g is not None)
    parts = [F.zeros(tuple(shape), some) if g is None else g for g in grads]
    return (F.stack(parts, dim),)


UNBIND = op("unbind", "UnbindBackward0", _unbind_fwd, _unbind_bwd, view=True,
            outputs=-1, param_names=("dim",))  # as many outputs as the dim has entries


@function("unbind", methods="unbind")
def unbind(input, dim=0):
    """The slices along `dim`, as a tuple of views."""
    dim = wrap_dim(dim, input.ndim)
    if input.ndim == 0:  # (wrap_dim lets a 0-d tensor take dim 0 and -1)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return call(UNBIND, (input,), (dim,))


def _stack_fwd(*arrays_and_params):
    *arrays, dtype, dim = arrays_and_params
    return np.stack(arrays, axis=dim, dtype=dtype)


def _stack_bwd(F, ctx, g):
    *_, dim = ctx.params
    return tuple(F.select(g, dim, i) for i in range(len(ctx.needs)))


STACK = op("stack", "StackBackward0", _stack_fwd, _stack_bwd, inputs=("tensors",),
           saved_attrs={"dim": lambda ctx: ctx.params[1]}, grads_all_inputs=True)


@function("stack", methods=())
def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = tensor_list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(x.shape)} at entry {i}"
            )
    # torch's promotion across the list, as cat's (numpy's would make int64 + float32 float64)
    dtype = result_type(*(t._data for t in tensors))
    return call(STACK, tensors, (dtype, wrap_dim(dim, len(first) + 1)))


def _expand_fwd(a, shape):
    """A view repeating `a`'s elements, writeable when `a` is: torch's in-place ops that may
    write it do (zero_, fill_...: Op.writes_repeated), the others refuse it (call_inplace)."""
    view = np.broadcast_to(a, shape)
    if type(a) is np.ndarray and a.flags.writeable:
        view.flags.writeable = True
    return view


EXPAND = op("expand", "ExpandBackward0", _expand_fwd,
            lambda F, ctx, g: (F.sum_to(g, ctx.shapes[0]),), view=True, saved_attrs=_SIZES)


@function(methods="expand", module=False)
def expand(self, *sizes, size=None, implicit=False):
    """Broadcast to `sizes` without copying (-1 keeps a dim)."""
    sizes = shape_arg(_keyword_shape("expand", sizes, "size", size), "expand")
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise expand_rank_error(self.type_name(), self.shape, sizes)
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i, s in enumerate(self.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing size "
                f"({s}) at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(self.shape)}"
            )
    return call(EXPAND, (self,), (shape,))


def expand_rank_error(type_name: str, shape, sizes) -> RuntimeError:
    """torch's error for expanding to fewer dims than the tensor has."""
    return RuntimeError(
        f"expand({type_name}{{{list(shape)}}}, size={list(sizes)}): the number of sizes provided "
        f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
        f"({len(shape)})")


@function(methods="expand_as", module=False)
def expand_as(self, other):
    return expand(self, other.shape)


UNSQUEEZE = op("unsqueeze", "UnsqueezeBackward0", lambda a, dim: np.expand_dims(a, dim),
               lambda F, ctx, g: (F.squeeze(g, ctx.params[0]),), view=True, param_names=("dim",))


@function("unsqueeze", methods="unsqueeze")
def unsqueeze(input, dim):
    """Insert a size-1 dim at `dim` (a view)."""
    return call(UNSQUEEZE, (input,), (wrap_dim(dim, input.ndim + 1),))


def _squeeze_bwd(F, ctx, g):
    """torch's unsqueeze_to: one unsqueeze per dim that was squeezed (none: g itself)."""
    shape = ctx.shapes[0]
    dims = ctx.params[0] if ctx.params else range(len(shape))
    return (F.unsqueeze_dims(g, tuple(d for d in dims if d < len(shape) and shape[d] == 1)),)


SQUEEZE = op("squeeze", "SqueezeBackward0", lambda a: np.reshape(a, tuple(s for s in a.shape if s != 1)),
             _squeeze_bwd, view=True, saved_attrs=_SIZES)


def _first_dim(dims):
    """The one dim of squeeze(dim: int), as the caller gave it (NOTE [arguments as given])."""
    given = getattr(dims, "given", None)
    return dims[0] if given is None else as_given(dims[0], given[0])


def _squeeze_dims_fwd(a, dims):
    return np.squeeze(a, tuple(d for d in dims if a.shape[d] == 1))


# torch names each overload's node: squeeze(dim: int) 1, squeeze(dims: tuple) 2, and the
# in-place squeeze_(dim) 4 (which matmul uses on its result)
SQUEEZE_DIM = op("squeeze", "SqueezeBackward1", _squeeze_dims_fwd, _squeeze_bwd, view=True,
                 saved_attrs={"dim": lambda ctx: _first_dim(ctx.params[0]), "self_sym_sizes": self_sizes})
SQUEEZE_DIMS_LIST = op("squeeze", "SqueezeBackward2", _squeeze_dims_fwd, _squeeze_bwd, view=True,
                       saved_attrs={"dim": lambda ctx: ctx.params[0], "self_sym_sizes": self_sizes})
# (matmul's in-place squeeze_ of its own fresh mm result: no view of anything the caller
# holds, as in torch, so a later in-place op on it, F.linear's bias add_, is a plain one)
SQUEEZE_DIMS = op("squeeze", "SqueezeBackward4", _squeeze_dims_fwd, _squeeze_bwd,
                  saved_attrs={"dim": lambda ctx: _first_dim(ctx.params[0]), "self_sym_sizes": self_sizes})


_ALL = object()  # squeeze() with no dim


@function("squeeze")
def squeeze_function(input, dim=_ALL, *more):
    """torch.squeeze(input, dim): one int or tuple (the method takes several ints too)."""
    if more:
        got = ", ".join(type(v).__name__ for v in (input, dim, *more))
        raise TypeError(f"squeeze() received an invalid combination of arguments - got ({got}), but "
                        "expected one of:\n * (Tensor input)\n * (Tensor input, int dim)\n"
                        " * (Tensor input, tuple of ints dim)\n")
    return squeeze(input, dim=dim)


@function(methods="squeeze", module=False)
def squeeze(input, *dims, dim=_ALL):
    """Remove size-1 dims (all of them, or those in `dim`: an int, a tuple, or several ints,
    `x.squeeze(0, 2)`, as torch's method takes them) (a view)."""
    if dims:
        if dim is not _ALL:
            raise TypeError("squeeze() got multiple values for argument 'dim'")
        dim = dims[0] if len(dims) == 1 else dims
    if dim is None:  # (torch has no overload for None: squeeze() alone takes them all)
        raise TypeError("squeeze() received an invalid combination of arguments - got (NoneType), "
                        "but expected one of:\n * ()\n * (int dim)\n * (tuple of ints dim)\n")
    if dim is _ALL:
        return call(SQUEEZE, (input,))
    node = SQUEEZE_DIMS_LIST if isinstance(dim, (tuple, list)) else SQUEEZE_DIM
    return call(node, (input,), (wrap_dims(dim, input.ndim),))


ALIAS = op("alias", "AliasBackward0", lambda a: a.view(), lambda F, ctx, g: (g,), view=True)


def _select_fwd(a, dim, index):
    return a[(slice(None),) * dim + (index, Ellipsis)]


SELECT = op("select", "SelectBackward0", _select_fwd,
            lambda F, ctx, g: (F.index_put_zeros(ctx.shapes[0], (slice(None),) * ctx.params[0]
                                                 + (ctx.params[1], Ellipsis), g, g, False,
                                                 node="SelectBackwardBackward0"),),
            view=True, param_names=("dim", "index"), saved_attrs=_SIZES)


@function("select", methods="select")
def select(input, dim, index):
    """The slice at `index` along `dim`, without that dim (a view)."""
    dim = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    return call(SELECT, (input,), (dim, index if index >= 0 else as_given(index % size, index)))


def _slice_fwd(a, dim, start, stop, step):
    return a[(slice(None),) * dim + (slice(start, stop, step), Ellipsis)]


SLICE = op("slice", "SliceBackward0", _slice_fwd,
           lambda F, ctx, g: (F.index_put_zeros(
               ctx.shapes[0], (slice(None),) * ctx.params[0] + (slice(*ctx.params[1:]), Ellipsis),
               g, g, False, node="SliceBackwardBackward0"),),
           view=True, param_names=("dim", "start", "end", "step"), saved_attrs=_SIZES)


@function("narrow", methods="narrow")
def narrow(input, dim, start, length):
    """`length` entries of `dim` from `start` (a view)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if hasattr(start, "_data"):  # a tensor start is read as the number it holds (torch's _saved_start)
        if start._data.ndim or start._data.dtype.kind not in "iu":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = start.__index__()  # (read as Tensor reads it: tape.compile guards the value)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return call(SLICE, (input,), (dim, start, start + length, 1))


# ---- flatten, T / mT, movedim -----------------------------------------------------------


@function("flatten", methods="flatten")
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one: a reshape (a view when the storage allows).
    torch returns the input itself when there is nothing to merge, and (1,) for a 0-d one."""
    n = input.ndim
    start, end = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if n == 0:
        return reshape(input, (1,))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = tuple(input.shape)
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


_T_WARNING = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and "
    "it will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
    "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")


_T_WARNED: list = []


def _numpy_T(self):  # noqa: N802 - torch's name
    """`x.T`: all dims reversed (torch's permute; it warns for anything but 2-d)."""
    n = self.ndim
    if n == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                      "cases.", UserWarning, stacklevel=2)
    elif n != 2 and not _T_WARNED:  # torch warns once a process
        _T_WARNED.append(True)
        warnings.warn(_T_WARNING, UserWarning, stacklevel=2)
    return call(PERMUTE, (self,), (tuple(range(n - 1, -1, -1)),))


def _matrix_T(self):  # noqa: N802 - torch's name
    """`x.mT`: the last two dims swapped (a batch of matrices transposed)."""
    n = self.ndim
    if n == 0:
        warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these "
                      "cases.", UserWarning, stacklevel=2)
        return self
    if n < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return call(TRANSPOSE, (self,), (as_given(n - 2, -2), as_given(n - 1, -1)))  # torch's dims


function(methods="T", module=False)(property(_numpy_T))
function(methods="mT", module=False)(property(_matrix_T))


def _dim_list(dims) -> list[int]:
    return [int(dims)] if isinstance(dims, int) else [int(d) for d in dims]


@function("movedim", "moveaxis", methods=("movedim", "moveaxis"))
def movedim(input, source, destination):
    """Move the dims in `source` to the positions in `destination`, the rest keeping their
    order (torch's permute; a 0-d tensor gives an alias)."""
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
            f"number of dims as destination ({dst} dims)")
    n = input.ndim
    nsrc = [wrap_dim(d, n) for d in src]
    ndst = [wrap_dim(d, n) for d in dst]
    if len(set(nsrc)) != len(nsrc):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(ndst)) != len(ndst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if n == 0:
        return call(ALIAS, (input,))
    order = [-1] * n
    for s, d in zip(nsrc, ndst):
        order[d] = s
    rest_src = (d for d in range(n) if d not in nsrc)
    for d in range(n):
        if order[d] == -1:
            order[d] = next(rest_src)
    return call(PERMUTE, (input,), (tuple(order),))
