"""dtype conversion: `to`, `float()`, `double()`, `type_as`..."""

from __future__ import annotations

import re

import numpy as np

from .dims import copy_like_torch
from .dtypes import fill_scalar, py_number, type_label
from .registry import call, call_inplace, check_inplace, function, op


def _to_copy(a, dt):  # (a numpy scalar stays one; an array is laid out as torch's copy)
    return copy_like_torch(a, dt) if type(a) is np.ndarray else a.astype(dt)


TO_COPY = op("_to_copy", "ToCopyBackward0", _to_copy, lambda F, ctx, g: (F.to_dtype(g, ctx.dtypes[0]),))


def convert(x, np_dtype):
    """`x` as `np_dtype`: itself when it already is (as torch's `to`), else a recorded copy."""
    if x._data.dtype == np_dtype:
        return x
    return call(TO_COPY, (x,), (np_dtype,))


@function(methods="to", module=False)
def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False, memory_format=None):
    """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other_tensor)`, each then taking
    non_blocking and copy positionally, as torch's overloads do."""
    rest = list(args)
    if rest and hasattr(rest[0], "_data"):
        dtype = rest.pop(0).dtype
    elif rest and _is_dtype(rest[0]):
        dtype = rest.pop(0)
    elif rest and type(rest[0]) is not bool:
        if not isinstance(rest[0], (str, int, type(None))) and type(rest[0]).__name__ != "device":
            # (a numpy dtype or type is neither a dtype nor a device to torch's parser)
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type_label(rest[0])}), but expected a dtype, a device or a tensor")
        device = rest.pop(0)
        if rest and _is_dtype(rest[0]):
            dtype = rest.pop(0)
    if rest:
        rest.pop(0)  # non_blocking: nothing is asynchronous here
    if rest:
        copy = rest.pop(0)
    if rest:
        raise TypeError(f"to() received an invalid combination of arguments - got {len(args)} "
                        "positional arguments")
    if device is not None:
        _device_check(device)
    if dtype is None:
        return self.clone() if copy else self
    from .._dtypes import to_np

    out = convert(self, to_np(dtype, "to"))
    return out.clone() if copy and out is self else out


def _is_dtype(a) -> bool:
    """A dtype argument: tape's, or Python's float, int or bool (to(float) is float64)."""
    return hasattr(a, "np") or any(a is t for t in (float, int, bool))


# torch's device types, in its message's order: any other name is not a device at all
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")


def parse_device(spec: str) -> int | None:
    """The CPU index of a device string ('cpu', 'cpu:0'), with torch's errors for a string
    that is no device, and tape's for a device other than the CPU."""
    match = _DEVICE_STRING.fullmatch(spec)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{spec}'")
    name, index = match.groups()
    if name not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                           f"device string: {name}")
    if name != "cpu":
        raise RuntimeError(f"tape runs on the CPU only (numpy); device {spec!r} is not available. "
                           "Use device='cpu' or leave the device out.")
    return None if index is None else int(index)


def _device_check(device):
    parse_device(str(device))


def _as(np_name):
    import numpy as np

    npd = np.dtype(np_name)

    def method(self, memory_format=None):
        return convert(self, npd)

    method.__name__ = np_name
    return method


for _m, _n in (("float", "float32"), ("double", "float64"), ("half", "float16"),
               ("long", "int64"), ("int", "int32"), ("short", "int16"), ("bool", "bool"),
               ("byte", "uint8"), ("char", "int8")):
    function(methods=_m, module=False)(_as(_n))


@function(methods="type_as", module=False)
def type_as(self, other):
    return convert(self, other._data.dtype)


@function(methods="cpu", module=False)
def cpu(self, memory_format=None):
    return self


@function(methods="cuda", module=False)
def cuda(self, device=None, non_blocking=False, memory_format=None):
    """There is no CUDA device: tape's error for any device but the CPU."""
    parse_device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{int(device)}")


# ---- in-place fills and copies ----------------------------------------------------------

# an overwritten target's gradient is zeros, not g * 0 (an inf or NaN upstream gradient
# gives 0, and a recorded gradient has no graph): torch's zeros_like(grad)
ZERO = op("zero", "ZeroBackward0", lambda a: np.zeros_like(a), lambda F, ctx, g: (F.zeros_like(g),),
          writes_repeated=True)
FILL = op("fill", "FillBackward2", lambda a, value: _full_like(a, value),
          lambda F, ctx, g: (F.zeros_like(g),), writes_repeated=True)
FILL_T = op("fill", "FillBackward3", lambda a, value: _full_like(a, value),
            lambda F, ctx, g: (F.zeros_like(g), F.sum(g) if ctx.needs[1] else None),
            inputs=("self", "value"), skip_overlap_check=True)  # (torch reads the value as a number)


def _full_like(a, value):
    import numpy as np

    return np.full(np.shape(a), value, dtype=a.dtype)


@function(methods="zero_", module=False)
def zero_(self):
    return call_inplace(ZERO, self, ())


@function(methods="fill_", module=False)
def fill_(self, value):
    check_inplace(self)  # torch names a leaf before a value of the wrong rank
    if hasattr(value, "_data"):
        if value.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return call_inplace(FILL_T, self, (value,))
    if isinstance(value, (bool, int, float, np.generic)):  # checked as torch converts it
        value = fill_scalar(py_number(value), self._data.dtype, self._data.size)
    return call_inplace(FILL, self, (), (value,))


def _copy_fwd(a, src):
    import numpy as np

    return np.broadcast_to(np.asarray(src, dtype=a.dtype), np.shape(a)).copy()


COPY = op("copy_", "CopyBackwards", _copy_fwd,
          lambda F, ctx, g: (F.zeros_like(g) if ctx.needs[0] else None,
                             F.to_dtype(g, ctx.dtypes[1]) if ctx.needs[1] else None),
          inputs=("self", "src"))


@function(methods="copy_", module=False)
def copy_(self, other, non_blocking=False):  # (torch's binding names it `other`)
    if not hasattr(other, "_data") and not isinstance(other, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type_label(other)}")
    return call_inplace(COPY, self, (other,))
