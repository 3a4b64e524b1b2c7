"""`Tensor`: a numpy value plus what autograd needs to know about it.

A tensor is a leaf (`_rec is None`) or the output `_idx` of the record `_rec`. Its value is
`_data`: an ndarray, or, for a 0-d result nothing else shares, a numpy scalar (arithmetic on
numpy scalars is several times cheaper than on 0-d arrays). `_arr()` turns such a scalar
into a 0-d array before anything shares or writes the storage.

Views share `_vc`, the version counter (a one-element list), with their `_base`.
Methods that are ops (`x.exp()`, `x + y`) are attached from the op table (`tape/api.py`).
"""

from __future__ import annotations

import warnings
import weakref

import attrs
import numpy as np

from . import _dtypes
from ._format import tensor_repr
from .grad_mode import STATE, TRACES, untraceable
from .ops.dims import contiguous_strides
from .ops.dtypes import C_NAMES

_new = object.__new__
_engine = None  # tape.engine (which imports this module) binds itself here when it loads
ndarray = np.ndarray


# NOTE [inference inputs] torch runs no autograd for an op whose tensor arguments are all
# inference tensors, even ones that require grad (made so inside inference_mode): its output
# has no grad_fn; and it refuses to save one for backward. INFERENCE_GRAD is set once such a
# tensor exists (and never reset): until then the engine's fast paths need not look, and
# after it two-input ops take the engine's generic path, which checks what it saves.
INFERENCE_GRAD = [False]


@attrs.define(eq=False, slots=True)
class TensorExtras:
    """The rarely used parts of a tensor, allocated on first use."""

    acc: object = None  # weakref to this leaf's AccumulateGrad
    hooks: dict = attrs.Factory(dict)  # leaf hooks: handle id -> fn(grad)
    post_acc_hooks: dict = attrs.Factory(dict)
    inference: bool = False
    # a view's shared version when its history was recorded: when its base (or another view
    # of it) has changed in place since, the history is stale (NOTE [stale views] in views.py)
    view_version: int | None = None
    multi_view: bool = False  # an output of a multi-output view (unbind): stale is an error
    # a view made under no_grad of a tensor that requires grad: it requires grad too, as a
    # leaf with no gradient edge (its gradients go nowhere), and refuses in-place ops under
    # grad mode, as torch's views of creation mode NO_GRAD_MODE
    no_grad_view: bool = False
    # a view a custom Function returned (made in its forward, or an input returned as is):
    # in place, torch's view+inplace logic would bypass the Function's backward, so it refuses
    function_view: bool = False
    # a view whose requires_grad never follows its base's (a custom Function's output marked
    # non-differentiable): NOTE [views of a base that gained a history] leaves it alone
    fixed_view: bool = False


class Tensor:
    __slots__ = ("_data", "_rg", "_rec", "_idx", "_vc", "_base", "_grad", "_x", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray op tensor` to the tensor
    __array_ufunc__ = None

    def __init__(self, *args, **kwargs):
        """The legacy constructor: `Tensor([1, 2])` (default float dtype) or `Tensor(2, 3)`."""
        from .creation import _legacy_data

        self._data = _legacy_data(args, kwargs)
        self._rg = False
        self._rec = None
        self._idx = 0
        self._vc = [0]
        self._base = None
        self._grad = None
        self._x = None

    # ---- storage ---------------------------------------------------------------------

    def _arr(self) -> np.ndarray:
        """The value as an ndarray that may be shared or written (see the module doc)."""
        d = self._data
        if type(d) is not ndarray:
            d = self._data = np.array(d)
        return d

    def _extras(self) -> TensorExtras:
        if self._x is None:
            self._x = TensorExtras()
        return self._x

    # ---- autograd attributes ---------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        _follow_base(self)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        if type(value) is not bool:
            raise RuntimeError("requires_grad must be a bool")
        if TRACES and STATE.trace is not None and value != self._rg:  # (an argument's: the caller's)
            STATE.trace.argument_changed(self, "requires_grad")
        if self._rec is not None:
            msg = "you can only change requires_grad flags of leaf variables."
            if not value:
                msg += (" If you want to use a computed variable in a subgraph that doesn't "
                        "require differentiation use var_no_grad = var.detach().")
            raise RuntimeError(msg)
        if value:
            self._float_only("floating point and complex dtype")
            if self.is_inference():
                if not STATE.inference:
                    raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                                       "InferenceMode is not allowed.")
                INFERENCE_GRAD[0] = True
        self._rg = value

    def _float_only(self, kinds: str) -> None:
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of {kinds} can require gradients (this tensor is "
                               f"{self.dtype!r}: convert it with .float() first)")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if type(requires_grad) is not bool:
            raise TypeError("requires_grad_(): argument 'requires_grad' (position 1) must be bool, "
                            f"not {type(requires_grad).__name__}")
        if self._rec is not None and requires_grad:
            return self  # torch: a non-leaf already requires grad; only turning it off is refused
        if requires_grad:
            self._float_only("floating point dtype")  # (torch words the method's error so)
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        _follow_base(self)
        x = self._x
        if x is not None and x.no_grad_view and self._vc[0] != x.view_version:
            from .engine import _stale_view  # refused, as torch refuses it

            _stale_view(self)
        return self._rec is None

    def _current_rec(self):
        """The record behind this tensor as grad_fn reads it: a view's history brought up to
        date first (its base's, or made again after an in-place change, or refused)."""
        _follow_base(self)
        x = self._x
        if x is not None and x.view_version is not None and self._vc[0] != x.view_version:
            from .engine import _stale_view  # made again, or refused (NOTE [stale views])

            _stale_view(self)
        return self._rec

    @property
    def grad_fn(self):
        rec = self._current_rec()
        if TRACES and STATE.trace is not None:  # another tensor's node on a replay: NOTE [graph reads]
            STATE.trace.graph_read(self, "grad_fn")
        if rec is None:
            return None
        from .graph import node_of

        return node_of(rec)

    @property
    def grad(self):
        if TRACES:  # (a replay would read the recorded one)
            untraceable(".grad inside the function")
        if self._rec is not None and self._grad is None and not self.retains_grad:
            warnings.warn(  # (torch warns only while there is no .grad to give)
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if TRACES:
            untraceable(".grad inside the function")
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                    f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                    "the same size")
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{C_NAMES[value._data.dtype]}' to "
                    f"a tensor with grad_dtype '{self.dtype.torch_name}'. The gradient must match the "
                    f"tensor's grad_dtype (defaults to the tensor's dtype): convert it with "
                    f".to({self.dtype!r}) first")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        if TRACES and STATE.trace is not None:
            STATE.trace.graph_read(self, "retains_grad")
        rec = self._rec
        return rec is not None and rec.extra is not None and self._idx in rec.extra.retain

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in `.grad` after backward (a no-op on leaves)."""
        if self._rec is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        from .recording import extras, pin_output

        untraceable("retain_grad() inside the function")
        pin_output(self)  # tensor_hooks finds it through the record (NOTE [outputs found when asked])
        extras(self._rec).retain.add(self._idx)

    @property
    def _version(self) -> int:
        if TRACES and STATE.trace is not None:  # the caller's tensors change it between calls
            STATE.trace.graph_read(self, "_version")
        if (self._x is not None or self._base is not None) and self.is_inference():
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    @property
    def _base_tensor(self):
        return self._base

    @property
    def data(self) -> Tensor:
        """The same storage, detached from the graph (no version-counter sharing, as torch)."""
        out = _wrap(self._arr(), dtype_check=False)
        if TRACES and STATE.trace is not None:  # the plan reads the same values, cut from the graph
            STATE.trace.alias(self, out)
        return self._same_inference(out)

    @data.setter
    def data(self, value: Tensor) -> None:
        untraceable("`.data =` inside the function")
        arr = value._arr()
        if self._rg and arr.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point "
                               "or complex dtype")
        self._data = arr

    # ---- detaching and copying -------------------------------------------------------

    def detach(self) -> Tensor:
        """A leaf that shares this tensor's storage and version counter, outside the graph."""
        out = _wrap(self._arr(), vc=self._vc)
        if TRACES and STATE.trace is not None:  # the plan reads the same values, cut from the graph
            STATE.trace.alias(self, out)
        return self._same_inference(out)

    def _dtype_view(self, dtype) -> Tensor:
        """`view(dtype)`: this tensor's bytes read as another dtype, sharing its storage and
        version counter; no gradient flows through it, as in torch."""
        a = self._arr()
        src, dst = a.dtype, np.dtype(dtype.np)
        if src.itemsize != dst.itemsize:  # the last dim shrinks or grows: torch's checks
            how = f"to view {self.dtype.torch_name} as {dtype.torch_name} (different element sizes)"
            if a.ndim == 0:
                raise RuntimeError(f"self.dim() cannot be 0 {how}")
            if a.shape[-1] > 1 and a.strides[-1] != src.itemsize:
                raise RuntimeError(f"self.stride(-1) must be 1 {how}, but got "
                                   f"{a.strides[-1] // src.itemsize}")
            ratio = dst.itemsize // src.itemsize
            if ratio > 1 and a.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {how}, but got "
                                   f"{a.shape[-1]}")
        untraceable("view(dtype)")
        return self._same_inference(_wrap(a.view(dst), vc=self._vc))

    def _same_inference(self, out: Tensor) -> Tensor:
        """`out`, an inference tensor if this is one (torch: its views, detach and .data)."""
        if (self._x is not None or self._base is not None) and self.is_inference():
            out._extras().inference = True
        return out

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        from .recording import pin_output

        untraceable("detach_() inside the function")
        pin_output(self)  # (NOTE [outputs found when asked])
        self._rec = None
        self._idx = 0
        self._rg = False
        return self

    # ---- values out ------------------------------------------------------------------

    def item(self):
        d = self._data
        if d.size != 1:
            raise RuntimeError(f"a Tensor with {d.size} elements cannot be converted to Scalar")
        return _seen(self, d.item() if type(d) is not ndarray else d.reshape(()).item())

    def tolist(self):
        return _seen(self, self._data.tolist())

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._rg and not force and STATE.grad_enabled:  # (torch: with grad mode on only)
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if TRACES and STATE.trace is not None:
            STATE.trace.observe(self, np.array(self._data, copy=True))
        return self._arr()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self) -> float:
        self._scalar_check(float)
        return _seen(self, float(self._data.item()))

    def __int__(self) -> int:
        self._scalar_check(int, warn=False)  # (torch's int() does not warn)
        return _seen(self, int(self._data.item()))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:  # (a bool is 0 or 1)
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _seen(self, int(self._data.item()))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            how_many = "no values" if not self._data.size else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {how_many} is ambiguous")
        return _seen(self, bool(self._data.item()))

    def _scalar_check(self, kind, warn=True):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if warn and self._rg and not _SCALAR_WARNED:  # torch warns once a process
            _SCALAR_WARNED.append(True)
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=3)

    # ---- shape and type --------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        from .ops.dims import wrap_dim

        if not self._data.ndim and isinstance(dim, int):
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")

        return self._data.shape[wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.BY_NP[self._data.dtype]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(np.asarray(self._data).flags.c_contiguous)

    def is_inference(self) -> bool:
        x = self._x if self._base is None else self._base._x  # a view's is its base's
        return x is not None and x.inference

    @property
    def device(self):
        from .creation import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def type_name(self) -> str:
        return "tape." + self.dtype.legacy

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """The legacy type name (`tape.FloatTensor`), or the tensor as `dtype`: a dtype, or a
        legacy name as torch's ('torch.DoubleTensor', or 'tape.DoubleTensor')."""
        if dtype is None:
            return self.type_name()
        if isinstance(dtype, str):
            prefix, _, legacy = dtype.rpartition(".")
            match = [d for d in _dtypes.ALL if d.legacy == legacy and prefix in ("torch", "tape")]
            if not match:
                raise ValueError(f"invalid type: '{dtype}'")
            return self.to(match[0])
        if isinstance(dtype, _dtypes.dtype):
            return self.to(dtype)
        if isinstance(dtype, type):  # Python's float, numpy's float32: not tensor types (torch)
            where = "" if dtype.__module__ == "builtins" else dtype.__module__ + "."
            raise ValueError(f"invalid type: '{where}{dtype.__name__}'")
        raise TypeError("dtype must be a type, str, or dtype object")

    # x.new_zeros(2, 3) and the like: new leaves in x's dtype unless one is given (made by
    # tape/creation.py, which imports this module)
    def new_zeros(self, *size, **kw) -> Tensor:
        from .creation import new_zeros

        return new_zeros(self, *size, **kw)

    def new_ones(self, *size, **kw) -> Tensor:
        from .creation import new_ones

        return new_ones(self, *size, **kw)

    def new_empty(self, *size, **kw) -> Tensor:
        from .creation import new_empty

        return new_empty(self, *size, **kw)

    def new_full(self, *args, **kw) -> Tensor:
        from .creation import new_full

        return new_full(self, *args, **kw)

    def new_tensor(self, *args, **kw) -> Tensor:
        from .creation import new_tensor

        return new_tensor(self, *args, **kw)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self):
        """As torch's: the tensor flipped along dim 0 (a 0-d one as it is)."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        # as torch: a 0-d tensor formats as its number, whatever the spec (f"{t}" is '2.5')
        if self._data.ndim == 0:
            return format(self.item(), spec)  # (a value read, as item(): tape.compile guards it)
        if spec:  # torch formats one number, not a whole tensor
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __contains__(self, element) -> bool:
        if not isinstance(element, (Tensor, bool, int, float, np.number, np.bool_)):
            raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you passed "
                               f"in a {type(element)}.")
        return bool((self == element).any())

    def stride(self, dim: int | None = None):
        """Steps in elements between neighbours along each dim (numpy's byte strides / itemsize)."""
        d = self._data
        if type(d) is not np.ndarray:
            steps = ()
        elif d.size:
            steps = tuple(s // d.itemsize for s in d.strides)
        else:  # numpy's empty arrays have zero strides; torch's are a contiguous tensor's
            steps = contiguous_strides(d.shape)
        if dim is None:
            return steps
        from .ops.dims import wrap_dim

        return steps[wrap_dim(dim, len(steps))]

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.array(self._data), self._rg))

    def __copy__(self):
        """copy.copy(t), as torch's: a new leaf on the same memory (writes show on both),
        requiring grad as `t` does, with its own version counter (at 1) and no .grad."""
        out = _wrap(self._arr(), rg=self._rg)
        out._vc[0] = 1
        return out

    def __deepcopy__(self, memo):
        if self._rec is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        new = _wrap(np.array(self._data, copy=True), rg=self._rg)
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        return new

    # ---- backward --------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Reverse playback of the tape from this tensor; leaves' `.grad` accumulate."""
        _engine.backward((self,), gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """`hook(grad)` runs when this tensor's gradient is computed; a non-None return
        replaces the gradient. Returns a handle with `.remove()`."""
        from .hooks import register_tensor_hook

        return register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs after a leaf's `.grad` has been accumulated."""
        from .hooks import register_post_accumulate_hook

        return register_post_accumulate_hook(self, hook)


class Size(tuple):
    """torch.Size: a tuple of ints that prints as `tape.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"tape.Size({list(self)})"

    def __getitem__(self, index):
        got = tuple.__getitem__(self, index)
        return Size(got) if isinstance(index, slice) else got  # a slice is a Size, as torch's

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


_SCALAR_WARNED: list = []  # (float() of a tensor that requires grad: warned, once a process)


def _follow_base(t: Tensor) -> None:
    """A view that needs no gradient takes the history its base may have gained since it
    was made (NOTE [views of a base that gained a history] in views.py)."""
    if not t._rg and t._base is not None:
        from .views import grow

        grow(t)


def _seen(t: Tensor, value):
    """A value leaving the tape (item, bool, ...): a compile trace guards on it."""
    if TRACES and STATE.trace is not None:
        STATE.trace.observe(t, value)
    return value


def _rebuild(data, rg):
    return _wrap(data, rg=rg)


def _wrap(data, rec=None, idx=0, rg=False, vc=None, base=None, dtype_check=True) -> Tensor:
    """The fast constructor used by the engine (no conversion, no checks)."""
    t = _new(Tensor)
    t._data = data
    t._rg = rg
    t._rec = rec
    t._idx = idx
    t._vc = [0] if vc is None else vc
    t._base = base
    t._grad = None
    t._x = None
    return t


wrap = _wrap
weakref_ref = weakref.ref
