"""Making tensors: `tensor`, `zeros`, `arange`, `randn`, `from_numpy`... with torch's dtypes."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import _dtypes
from .grad_mode import STATE, TRACES
from .ops import dtypes as _promotion
from .ops.convert import parse_device
from .ops.dims import copy_like_torch, empty_like_torch, shape_arg
from .ops.dtypes import py_number
from .ops.registry import operand_error, write_out
from .tensor import Size, Tensor, _wrap


class device:  # noqa: N801 - torch's name
    """Only the CPU exists here; anything else is refused clearly."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - torch's keyword: device(type="cpu")
        if isinstance(type, device):
            type, index = "cpu", type.index if index is None else index
        number = parse_device(str(type))
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = "cpu", number if number is not None else index

    def __eq__(self, other):  # (a device is never equal to a string, as in torch)
        return isinstance(other, device) and other.index == self.index

    def __hash__(self):
        return hash(("cpu", self.index))

    def __repr__(self):
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"


CPU = device("cpu")


def _check_device(dev) -> None:
    if dev is not None:
        device(dev)


def _infer_dtype(data) -> np.dtype:
    """torch's inference for Python data: bool, then int64, then the default float."""
    if isinstance(data, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(data, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(data, numbers.Real):
        return _dtypes.get_default_dtype().np
    if isinstance(data, numbers.Complex):
        raise TypeError("tape does not support complex tensors")
    found = []  # every element's dtype, promoted as torch promotes them at the end

    def walk(x):
        if isinstance(x, (Tensor, np.ndarray, np.generic)):  # their own dtypes
            found.append(x._data.dtype if isinstance(x, Tensor) else x.dtype)
        elif isinstance(x, (list, tuple, range)):
            if not len(x):  # torch: an empty sequence is the default float, promoted as any
                found.append(_dtypes.get_default_dtype().np)
            for y in x:
                walk(y)
        elif isinstance(x, bool):
            found.append(np.dtype(np.bool_))
        elif isinstance(x, numbers.Integral):
            found.append(np.dtype(np.int64))
        elif isinstance(x, numbers.Real):
            found.append(_dtypes.get_default_dtype().np)
        else:
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")

    walk(data)
    if not found:
        return _dtypes.get_default_dtype().np  # an empty list: torch gives the default float
    out = found[0]
    for dt in found[1:]:
        out = _promote(out, dt)
    return out


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch's promote_types: a higher category (bool < integer < float) wins whatever its
    width (float16 with int64 is float16); within one, numpy's (uint8 with int8 is int16)."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _plain(data, inner=False, depth=None):
    """Nested sequences of plain values for numpy. As torch reads them, the sizes come from
    the first elements down through sequences (not tensors): a tensor where the sizes say a
    scalar goes is one (a one-element one; others raise), a tensor where they say more dims
    is read as a sequence (`[[1., 2.], t]`); an array inside one is taken whole, with
    torch's warning that this is slow."""
    if depth is None:
        depth = _first_depth(data)
    if isinstance(data, Tensor):
        if TRACES and STATE.trace is not None:
            STATE.trace.observe(data, np.array(data._data, copy=True))
        if not inner or depth > 0:
            return data._data
        if data._data.size != 1:
            if data._data.dtype.kind in "iub":  # (torch's integer path asks for an index)
                raise TypeError("only integer tensors of a single element can be converted to an index")
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(())
    if isinstance(data, (list, tuple, range)):
        if TRACES and STATE.trace is not None and any(isinstance(x, np.ndarray) for x in data):
            STATE.trace.unsupported("tensor() of a list holding numpy arrays")
        if any(isinstance(x, np.ndarray) and x.ndim for x in data):
            warnings.warn(
                "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
                "converting the list to a single numpy.ndarray with numpy.array() before converting "
                "to a tensor.", UserWarning, stacklevel=4)
        return [_plain(x, True, depth - 1) for x in data]
    if data is None:  # (given a dtype: without one, _infer_dtype has refused it already)
        raise _NoneElement
    return data


class _NoneElement(TypeError):
    """None among tensor()'s data: torch's TypeError depends on the dtype (_nested_array)."""


def _first_depth(data) -> int:
    """How many dims torch's sizes have: down the first elements through lists, tuples,
    ranges and arrays, stopping at a tensor or a scalar."""
    depth = 0
    while isinstance(data, (list, tuple, range)):
        depth += 1
        if not len(data):
            return depth
        data = data[0]
    return depth + (data.ndim if isinstance(data, np.ndarray) else 0)


def _made(t: Tensor) -> Tensor:
    """A new tensor, an inference tensor when made in inference mode (as torch marks them)."""
    if STATE.inference:
        t._extras().inference = True
    return t


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    # a fresh 0-d copy is shared with nothing: keep it as a numpy scalar (see tensor.py)
    t = _made(_wrap(arr[()] if arr.ndim == 0 else arr))
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients "
                f"(got {_dtypes.from_np(arr.dtype)!r}; pass dtype=tape.float32 or use floats)")
        t.requires_grad = True  # (the setter: NOTE [inference inputs])
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (numbers, nested lists, arrays, tensors)."""
    _check_device(device)
    if isinstance(data, np.ndarray):
        _no_negative_strides(data)
        npd = data.dtype if dtype is None else _dtypes.to_np(dtype)
        if npd not in _dtypes.BY_NP:
            raise TypeError(f"can't convert np.ndarray of type {data.dtype}. The only supported "
                            "types are: float64, float32, float16, int64, int32, int16, int8, "
                            "uint8, and bool.")
        arr = copy_like_torch(data, npd)  # (NOTE [a copy's layout] in ops/dims.py)
        if TRACES and STATE.trace is not None:  # a replay copies the array again (NOTE [arrays copied in])
            t = _finish(arr, requires_grad)
            STATE.trace.copied(t, data, npd)
            return t
    elif isinstance(data, np.generic):
        arr = np.array(data, dtype=None if dtype is None else _dtypes.to_np(dtype))
    elif isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
                      "rather than tape.tensor(sourceTensor).", UserWarning, stacklevel=2)
        if TRACES and STATE.trace is not None:
            STATE.trace.observe(data, np.array(data._data, copy=True))
        arr = copy_like_torch(np.asarray(data._data), None if dtype is None else _dtypes.to_np(dtype))
    else:
        if data is None and dtype is None:
            raise RuntimeError("Could not infer dtype of NoneType")
        npd = _infer_dtype(data) if dtype is None else _dtypes.to_np(dtype)
        arr = _nested_array(data, npd)
    return _finish(arr, requires_grad)


def _leaves(v):
    """The scalars of nested lists and tuples."""
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _leaves(x)
    else:
        yield v


def _nested_array(data, npd) -> np.ndarray:
    """Nested Python sequences as an array, with torch's errors when their lengths disagree."""
    try:
        plain = _plain(data)
    except _NoneElement:
        raise TypeError("must be real number, not NoneType" if npd.kind in "fc" else
                        "'NoneType' object cannot be interpreted as an integer") from None
    if npd.kind in "iu":
        _floats_fit(plain, npd)
    try:
        with np.errstate(over="ignore"):  # a float too large for float16 is inf, silently
            return np.array(plain, dtype=npd)
    except OverflowError:  # an integer too large for the dtype (or for any: past 64 bits)
        ints = [v for v in _leaves(plain) if isinstance(v, int)]
        if any(not -2 ** 63 <= v < 2 ** 63 for v in ints):
            raise ValueError("Overflow when unpacking long long") from None
        if npd.kind == "u":  # torch wraps a negative value into an unsigned dtype, down to -max
            wide = np.array(plain, dtype=np.int64)
            if (wide >= -int(np.iinfo(npd).max)).all() and (wide <= np.iinfo(npd).max).all():
                return wide.astype(npd)
        raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow") from None
    except ValueError:
        sizes = _nested_sizes(plain)
        if 0 in sizes:  # torch checks nothing when there is no element to store
            return np.zeros(sizes, dtype=npd)
        problem = _ragged(plain, sizes, 0, npd)
        if problem is None:
            raise
        raise problem from None


def _floats_fit(plain, npd) -> None:
    """torch converts each float written into an integer dtype checked: NaN, inf and values
    past the dtype's range (-0.5 for uint8) are its error, where numpy would raise another
    or wrap silently."""
    try:
        probe = np.array(plain)
    except ValueError:  # (ragged: _nested_array reports it)
        return
    if probe.dtype.kind != "f":
        return
    info = np.iinfo(npd)
    with np.errstate(invalid="ignore"):
        fits = np.isfinite(probe) & (probe >= info.min) & (probe <= info.max)
    if not fits.all():
        raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow")


def _is_sequence(x) -> bool:
    return isinstance(x, (list, tuple, np.ndarray))


def _nested_sizes(x) -> list:
    """torch's sizes for nested data: the lengths along the first elements."""
    sizes = []
    while _is_sequence(x):
        sizes.append(len(x))
        if not len(x):
            break
        x = x[0]
    return sizes


def _ragged(x, sizes, dim, npd):
    """The error torch raises for the first sequence (depth first) that does not fit `sizes`."""
    if dim == len(sizes):
        if not _is_sequence(x):
            return None
        name = type(x).__name__
        return TypeError(f"must be real number, not {name}" if npd.kind == "f" else
                         f"'{name}' object cannot be interpreted as an integer")
    if not _is_sequence(x):
        return TypeError("not a sequence")
    if len(x) != sizes[dim]:
        return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
    for y in x:
        problem = _ragged(y, sizes, dim + 1, npd)
        if problem is not None:
            return problem
    return None


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like `tensor`, but shares memory with a numpy array or tensor when it can."""
    _check_device(device)
    _promotion.check_dtype_arg("as_tensor", dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        _no_negative_strides(data)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _dtypes.to_np(dtype, "as_tensor")):
        return _made(_wrap(data))
    return tensor(data, dtype=dtype)


def _no_negative_strides(arr: np.ndarray) -> None:
    """torch reads every array through from_numpy first (tensor, as_tensor, Tensor too)."""
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                         "negative strides are not currently supported. (You can probably work around "
                         "this by making a copy of your array  with array.copy().) ")


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with `arr` (writes show on both sides)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    _no_negative_strides(arr)
    _dtypes.from_np(arr.dtype)
    return _made(_wrap(arr))


class layout:  # noqa: N801 - torch's name
    """A memory layout, as torch.layout: tape has one, `strided` (dense, with strides)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"tape.{self.name}"


strided = layout("strided")


def _check_memory(layout, pin_memory) -> None:
    """torch's factories take `layout=` (strided, the only one: None here) and
    `pin_memory=`, which needs an accelerator, so True is an error on this CPU-only stack."""
    if layout is not None and layout is not strided:
        raise RuntimeError(f"tape has only the strided layout, tape.strided (got {layout!r})")
    if pin_memory:
        raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no pinned "
                           "memory allocator is available on this system.")


def _shape(size, name: str = "size") -> tuple:
    """A factory's sizes (ops.dims.shape_arg's rules), none negative."""
    shape = shape_arg(size, name)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def _np_dtype(fn: str, dtype, default=None) -> np.dtype:
    """`fn`'s dtype argument as numpy's: `default` (or the default float dtype) for None."""
    if dtype is None:
        return default if default is not None else _dtypes.get_default_dtype().np
    return _dtypes.to_np(dtype, fn)


def _filled(name, fill, size, dtype, requires_grad, device, out=None):
    if not size:  # (zeros(()) is 0-d; zeros() names no size at all)
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    _check_device(device)
    if out is not None:  # torch's out=: in out's dtype unless one is given
        default = out._data.dtype if hasattr(out, "_data") else None
        npd = _np_dtype(name, dtype, default)
        return write_out(name, out, _wrap(np.full(_shape(size, name), fill, dtype=npd)))
    return _finish(np.full(_shape(size, name), fill, dtype=_np_dtype(name, dtype)), requires_grad)


def zeros(*size, dtype=None, device=None,
          layout=None, pin_memory=False, requires_grad=False, out=None, **kw) -> Tensor:
    _check_memory(layout, pin_memory)
    size = _size_kw(size, kw, "zeros")
    if any(isinstance(s, (int, np.integer)) and s < 0 for s in size):  # (torch's own wording)
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _filled("zeros", 0, size, dtype, requires_grad, device, out)


def _size_kw(size: tuple, kw: dict, name: str) -> tuple:
    """`size=` given by keyword, as torch's factories take it too."""
    if not kw:
        return size
    unknown = sorted(set(kw) - {"size"})
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument '{unknown[0]}'")
    if size:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (kw["size"],)


def ones(*size, dtype=None, device=None,
         layout=None, pin_memory=False, requires_grad=False, out=None, **kw) -> Tensor:
    _check_memory(layout, pin_memory)
    return _filled("ones", 1, _size_kw(size, kw, "ones"), dtype, requires_grad, device, out)


def empty(*size, dtype=None, device=None,
          layout=None, pin_memory=False, requires_grad=False, out=None, **kw) -> Tensor:
    _check_memory(layout, pin_memory)
    return _filled("empty", 0, _size_kw(size, kw, "empty"), dtype, requires_grad, device, out)


def _fill_number(name: str, value):
    """full's and full_like's fill_value as the Python number torch's parser reads: a numpy
    scalar, or a 0-d tensor that needs no gradient (its dtype plays no part in the result's)."""
    if isinstance(value, Tensor):
        if value.ndim or value.requires_grad:
            raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not Tensor")
        return value.item()
    return py_number(value)


def full(size, fill_value, *, dtype=None, device=None,
         layout=None, pin_memory=False, requires_grad=False) -> Tensor:
    _check_memory(layout, pin_memory)
    fill_value = _fill_number("full", fill_value)
    if isinstance(size, (int, np.integer)):
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not int")
    _check_device(device)
    npd = _np_dtype("full", dtype, _infer_dtype(fill_value))
    shape = _shape((size,))
    value = _promotion.fill_scalar(fill_value, npd, math.prod(shape))
    with np.errstate(over="ignore"):  # (one element of float16 takes 1e10 as inf, as torch)
        return _finish(np.full(shape, value, dtype=npd), requires_grad)


def _like(name, fill, t, dtype, requires_grad, device):
    if not isinstance(t, Tensor):
        raise operand_error(name, "input", 1, t)
    _check_device(device)
    npd = t._data.dtype if dtype is None else _dtypes.to_np(dtype, name)
    out = empty_like_torch(np.asarray(t._data), npd)  # laid out as t (NOTE [a copy's layout])
    with np.errstate(over="ignore"):  # (as np.full fills; one float16 element takes 1e10 as inf)
        np.copyto(out, _promotion.fill_scalar(py_number(fill), npd, out.size), casting="unsafe")
    return _finish(out, requires_grad)


def zeros_like(input, *, dtype=None, device=None,
               layout=None, pin_memory=False, requires_grad=False, memory_format=None):
    _check_memory(layout, pin_memory)
    return _like("zeros_like", 0, input, dtype, requires_grad, device)


def ones_like(input, *, dtype=None, device=None,
              layout=None, pin_memory=False, requires_grad=False, memory_format=None):
    _check_memory(layout, pin_memory)
    return _like("ones_like", 1, input, dtype, requires_grad, device)


def empty_like(input, *, dtype=None, device=None,
               layout=None, pin_memory=False, requires_grad=False, memory_format=None):
    _check_memory(layout, pin_memory)
    return _like("empty_like", 0, input, dtype, requires_grad, device)


def full_like(input, fill_value, *, dtype=None, device=None,
              layout=None, pin_memory=False, requires_grad=False,
              memory_format=None):
    _check_memory(layout, pin_memory)
    return _like("full_like", _fill_number("full_like", fill_value), input, dtype, requires_grad, device)


def arange(start=None, end=None, step=1, *, dtype=None, device=None,
           layout=None, pin_memory=False, requires_grad=False) -> Tensor:
    """[start, end) in steps; ints give int64, any float gives the default float dtype."""
    _check_memory(layout, pin_memory)
    _check_device(device)
    if start is None:  # arange(end=3)
        if end is None:
            raise TypeError("arange() missing 1 required positional arguments: \"end\"")
        start = 0
    elif end is None:
        start, end = 0, start
    vals = [getattr(v, "item", lambda v=v: v)() for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:  # (the bounds as given: arange(-0.5, dtype=int64))
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    npd = _np_dtype("arange", dtype, _infer_dtype(vals))
    _no_bool_kernel("arange_cpu", npd)
    if npd.kind in "iu" and npd != np.int64:
        # torch's kernel for the narrower integers counts ceil((end - start) / step) in double,
        # then steps from the start by the step, both truncated: arange(0, 1, .1, dtype=int32)
        # is ten zeros
        n = max(math.ceil((vals[1] - vals[0]) / vals[2]), 0)
        return _finish((int(vals[0]) + np.arange(n) * int(vals[2])).astype(npd), requires_grad)
    if npd.kind in "iu":
        vals = [int(v) for v in vals]  # (int64's casts the bounds to integers first)
        if vals[2] == 0:  # a fractional step truncated: torch's own (ValueError) wording
            raise ValueError("step must be nonzero")
    return _finish(np.arange(*vals).astype(npd), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None,
             layout=None, pin_memory=False, requires_grad=False) -> Tensor:
    _check_memory(layout, pin_memory)
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    npd = _np_dtype("linspace", dtype)
    start, end, steps = py_number(start), py_number(end), int(steps)
    if steps < 2:  # torch fills the start in (checked for an integer dtype only)
        if npd.kind in "iu":
            _promotion.check_scalar_fits(start, npd)
        with np.errstate(over="ignore", invalid="ignore"):
            return _finish(np.full(steps, start).astype(npd), requires_grad)
    _no_bool_kernel("linspace_cpu", npd)
    for bound in (start, end):  # torch converts both to the dtype first, checked
        _promotion.check_scalar_fits(bound, npd)
    if npd.kind != "f":  # the bounds converted first (-3 is 253 as uint8), stepped in double
        # (the compiler fuses its multiply-adds: long double stands in), then truncated
        first, last = (np.longdouble(int(_promotion.cast_int(int(v), npd))) for v in (start, end))
        step = np.longdouble(np.float64((last - first) / (steps - 1)))
        i = np.arange(steps).astype(np.longdouble)
        out = np.where(i < steps // 2, first + step * i, last - step * (steps - 1 - i))
        return _finish(out.astype(np.float64).astype(npd), requires_grad)
    # torch's kernel steps from the start up to half way and back from the end after it, so
    # an infinite bound gives inf - inf or inf * 0 everywhere: NaN. (Its vector loop and the
    # compiler's fused multiply-adds round some values otherwise: they agree to rounding.)
    first, last = npd.type(start), npd.type(end)
    with np.errstate(invalid="ignore", over="ignore"):
        step = (last - first) / npd.type(steps - 1)
        i = np.arange(steps).astype(npd)
        out = np.where(i < steps // 2, first + step * i, last - step * (npd.type(steps - 1) - i))
    return _finish(out.astype(npd), requires_grad)


def _no_bool_kernel(kernel: str, npd) -> None:
    if npd.kind == "b":  # torch's range kernels have no bool instance
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def eye(n, m=None, *, dtype=None, device=None, layout=None, pin_memory=False, requires_grad=False) -> Tensor:
    _check_memory(layout, pin_memory)
    _check_device(device)
    for name, k in (("n", n), ("m", m)):
        if k is not None and k < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {k}")
    return _finish(np.eye(n, m, dtype=_np_dtype("eye", dtype)), requires_grad)


# Random numbers: tape's own generator (numpy's PCG64), seeded by manual_seed. The values
# differ from torch's generator; programs compared with torch take their data from numpy.
_rng = [np.random.default_rng(0)]
_seed = [0]


def manual_seed(seed: int):
    _seed[0] = int(seed) % 2**64  # (a negative seed wraps, as torch's)
    _rng[0] = np.random.default_rng(_seed[0])
    return _rng[0]


def initial_seed() -> int:
    """The seed the generator was last seeded with (0 until manual_seed or seed)."""
    return _seed[0]


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def _float_only(kernel: str, npd: np.dtype) -> None:
    if npd.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtypes.from_np(npd).torch_name}\'')


def rand(*size, dtype=None, device=None,
         layout=None, pin_memory=False, requires_grad=False, generator=None, **kw) -> Tensor:
    _check_memory(layout, pin_memory)
    size = _size_kw(size, kw, "rand")
    _check_device(device)
    npd = _np_dtype("rand", dtype)
    _float_only("check_uniform_bounds", npd)
    return _finish(_rng[0].random(_shape(size, "rand")).astype(npd), requires_grad)


def randn(*size, dtype=None, device=None,
          layout=None, pin_memory=False, requires_grad=False, generator=None, **kw) -> Tensor:
    _check_memory(layout, pin_memory)
    size = _size_kw(size, kw, "randn")
    _check_device(device)
    npd = _np_dtype("randn", dtype)
    _float_only("normal_kernel_cpu", npd)
    return _finish(_rng[0].standard_normal(_shape(size, "randn")).astype(npd), requires_grad)


_RANDINT_FORMS = ("randint() received an invalid combination of arguments - got {}, but expected "
                  "one of:\n * (int high, tuple of ints size, *, ...)\n"
                  " * (int low, int high, tuple of ints size, *, ...)")


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            layout=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Integers in [low, high) (low 0 by default), as torch's two forms: randint(high, size)
    and randint(low, high, size), positional or by keyword."""
    _check_memory(layout, pin_memory)
    _check_device(device)
    given = list(args)
    if size is None and given and not isinstance(given[-1], (int, np.integer)):
        size = given.pop()
    numbers = [low, high] if len(given) == 0 else [low, given[0]] if len(given) == 1 else given
    if len(given) > 2 or (len(given) == 1 and high is not None) or numbers[1] is None:
        raise TypeError(_RANDINT_FORMS.format(tuple(type(a).__name__ for a in args)))
    if size is None:  # (randint(0, 10): the second number is where the size goes)
        raise TypeError(f"randint(): argument 'size' (position {len(args)}) must be tuple of ints, "
                        f"not {type(args[-1]).__name__}" if len(args) > 1 else
                        _RANDINT_FORMS.format(tuple(type(a).__name__ for a in args)))
    lo, hi = (0 if numbers[0] is None else int(numbers[0])), int(numbers[1])
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    npd = _np_dtype("randint", dtype, np.dtype(np.int64))
    return _finish(_rng[0].integers(lo, hi, size=_shape((size,))).astype(npd), requires_grad)


def _like_input(name: str, input) -> Tensor:
    if not isinstance(input, Tensor):
        raise operand_error(name, "input", 1, input)
    return input


def rand_like(input, *, dtype=None, device=None,
              layout=None, pin_memory=False, requires_grad=False, memory_format=None):
    """Uniform [0, 1) numbers shaped as `input`, in its dtype unless one is given."""
    _check_memory(layout, pin_memory)
    input = _like_input("rand_like", input)
    return rand(*input.shape, dtype=_own(input, dtype), device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None,
               layout=None, pin_memory=False, requires_grad=False, memory_format=None):
    """Standard normal numbers shaped as `input`, in its dtype unless one is given."""
    _check_memory(layout, pin_memory)
    input = _like_input("randn_like", input)
    return randn(*input.shape, dtype=_own(input, dtype), device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None,
                 layout=None, pin_memory=False, requires_grad=False,
                 memory_format=None):
    """Integers in [low, high) shaped as `input` (randint_like(x, high) starts at 0), in its
    dtype unless one is given."""
    _check_memory(layout, pin_memory)
    input = _like_input("randint_like", input)
    if high is None:  # randint_like(x, high)
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=_own(input, dtype), device=device,
                   requires_grad=requires_grad)


# ---- Tensor.new_*: made in the tensor's dtype unless one is given -------------------------


def _own(t: Tensor, dtype):
    return t.dtype if dtype is None else dtype


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_kw(size, kw, "new_zeros")
    return _filled("new_zeros", 0, size, _own(self, dtype), requires_grad, device)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_kw(size, kw, "new_ones")
    return _filled("new_ones", 1, size, _own(self, dtype), requires_grad, device)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_kw(size, kw, "new_empty")
    return _filled("new_empty", 0, size, _own(self, dtype), requires_grad, device)


_MISSING = object()


def _missing(name: str, *required) -> None:
    for arg, value in required:  # (torch's words, not Python's)
        if value is _MISSING:
            raise TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')


def new_full(self, size=_MISSING, fill_value=_MISSING, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    _missing("new_full", ("size", size), ("fill_value", fill_value))
    if isinstance(size, (int, np.integer)):
        raise TypeError("new_full(): argument 'size' (position 1) must be tuple of ints, not int")
    _check_device(device)
    npd = _np_dtype("new_full", _own(self, dtype))
    return _finish(np.full(_shape((size,)), py_number(fill_value), dtype=npd), requires_grad)


def new_tensor(self, data=_MISSING, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A copy of `data` in the tensor's dtype unless one is given (numbers and lists too)."""
    _missing("new_tensor", ("data", data))
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
                      "rather than tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=3)
        data = data._data
    return tensor(data, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)


def _legacy_data(args, kwargs) -> np.ndarray:
    """`Tensor(data)` copies data as the default float dtype; `Tensor(2, 3)` makes a shape."""
    extra = set(kwargs) - {"device"}
    if extra:  # torch's legacy constructor takes a device and nothing else
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected "
                        f"keyword arguments {sorted(extra)}; use tape.tensor(data, ...) instead")
    _check_device(kwargs.get("device"))
    default = _dtypes.get_default_dtype().np
    if not args:
        return np.zeros((0,), dtype=default)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            return data._data
        if isinstance(data, Size):  # a shape, as torch reads one (uninitialized: zeros here)
            return np.zeros(_shape(tuple(data)), dtype=default)
        if not isinstance(data, (list, tuple, range, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        if isinstance(data, np.ndarray):  # torch reads an array as from_numpy() first: one of
            shared = from_numpy(data)._data  # the default dtype is shared, not copied
            return shared if shared.dtype == default else shared.astype(default)
        return _nested_array(data, default)
    return np.zeros(_shape(args), dtype=default)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 - torch's name
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.numel()

