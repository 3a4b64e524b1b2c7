"""The engine: applying ops (recording them on the tape) and reverse playback.

It knows no particular op: everything op-specific comes from the `Op` (forward, saves,
backward, view). See NOTE [positions] and NOTE [who keeps records alive] in recording.py.
"""

from __future__ import annotations

import heapq
import re
import sys
import threading
import warnings as _warnings
import weakref

import numpy as np

from . import quiet as _quiet_mod
from . import tensor as _tensor_module
from .grad_mode import NOT_FAST as _NOT_FAST
from .grad_mode import RULE_THREADS as _RULE_THREADS
from .grad_mode import STATE, TRACES
from .grad_mode import swap_grad_enabled as _swap_grad_enabled
from .graph import AccumulateGrad, accumulate_grad, short_name
from .hooks import USER_CODE as _USER_CODE
from .hooks import _Packed, after_accumulate, before_node, capture, leaf_hooks, pack_saved, post_hooks
from .ops.dtypes import can_cast as _can_cast
from .ops.dtypes import int_scalar as _int_scalar
from .ops.dtypes import py_number
from .ops.registry import OPS, operand_error
from .quiet import quiet as _quiet
from .quiet import unquiet as _unquiet
from .recording import (
    FREED,
    TAPE,
    Record,
    RecordExtras,
    extras,
    next_position,
    pin_output,
    rehome,
    zero_idx,
)
from .recording import KEEP_OUTPUTS as _KEEP_OUTPUTS
from .recording import NOT_SAVED as _NOT_SAVED
from .tensor import INFERENCE_GRAD as _INFERENCE_GRAD
from .tensor import Tensor, _wrap
from .views import assert_no_partial_overlap, grow, has_internal_overlap, internal_overlap_error

_new = object.__new__
_NEEDS1, _NEEDS2 = (True,), (True, True)
_IDX1, _IDX2 = zero_idx(1), zero_idx(2)
_FLOAT_SCALAR = {np.float64: True, np.float32: True, np.float16: True}
# a numpy float scalar's shape and dtype follow from its type: a record of one or two of
# them reuses these (shapes, dtypes) pairs instead of asking each value (~50 ns a question)
_SCALAR_META: dict = {}
for _t in _FLOAT_SCALAR:
    _SCALAR_META[_t] = (((),), (np.dtype(_t),))
    for _u in _FLOAT_SCALAR:
        _SCALAR_META[_t, _u] = (((), ()), (np.dtype(_t), np.dtype(_u)))
_SCALAR_PAIR = {_t: _SCALAR_META[_t, _t] for _t in _FLOAT_SCALAR}  # two of one type, by the type
# the same pairs for arrays, by (shape, dtype, ...): a record's meta is then no new tuples
# (a graph of many small array ops otherwise keeps ~4 more objects per op for the cyclic
# collector to walk: W4's main cost, see "Where tape loses time" in docs/benchmarks.md)
_ARRAY_META: dict = {}


def _array_meta(key: tuple) -> tuple:
    if len(_ARRAY_META) >= 4096:  # bounded: programs whose shapes keep changing
        _ARRAY_META.clear()
    meta = _ARRAY_META[key] = (key[0::2], key[1::2])
    return meta


_ONE = {t: t(1) for t in _FLOAT_SCALAR}  # a scalar root's gradient, per type
_next_position = next_position
_tape_append = TAPE.append
_tensor_module._engine = sys.modules[__name__]  # Tensor.backward calls backward() below
_SCOPES = TAPE.scopes  # the same list: GradientTape adds and removes in place

ndarray = np.ndarray
_heappush, _heappop = heapq.heappush, heapq.heappop
_ref = weakref.ref
_get_ident = threading.get_ident


# ---------------------------------------------------------------------------------------
# Forward: apply an op, record it when a gradient is needed


# the primitives namespaces backward rules run on (raw numpy; tape's own, for create_graph),
# set by tape.api once the op families are loaded
PRIMS_NP = PRIMS_TAPE = None


def call(op, inputs: tuple, params: tuple = ()):
    if TRACES and STATE.trace is not None:
        return STATE.trace.call(op, inputs, params)  # runs this function again, untraced
    wf = _warnings.filters  # quiet.ensure_filter() inline: NOTE [quiet IEEE]
    if not wf or wf[0] is not _quiet_mod.FIRST:
        _quiet_mod.install_filter()
    n = len(inputs)
    # NOTE [hot path] one or two plain tensors (W1's and W4's ops): the arrays go to the
    # forward without a list, and the record is built below without a loop
    if n == 2:
        a, b = inputs
        fast = type(a) is Tensor and type(b) is Tensor and op.direct
        if fast:
            da, db = a._data, b._data
            try:
                # spelled out for no or one param: a plain call, not a *params call
                if not params:
                    out = op.forward(da, db)
                elif len(params) == 1:
                    out = op.forward(da, db, params[0])
                else:
                    out = op.forward(da, db, *params)
            except ValueError as exc:
                raise _shape_error(op, [da, db], exc) from None
            requires = a._rg or b._rg
    elif n == 1:
        a = inputs[0]
        fast = type(a) is Tensor and op.direct
        if fast:
            da = a._data
            try:
                if not params:
                    out = op.forward(da)
                elif len(params) == 1:
                    out = op.forward(da, params[0])
                else:
                    out = op.forward(da, *params)
            except ValueError as exc:
                raise _shape_error(op, [da], exc) from None
            requires = a._rg
    else:
        fast = False
    if not fast:
        if _RULE_THREADS and op.rule_form is not None and STATE.in_rule:  # NOTE [rule scalars]
            out = op.rule_form(inputs, params)
            if out is not None:
                return out
        arrays = []
        requires = False
        for x in inputs:
            if type(x) is Tensor or isinstance(x, Tensor):
                arrays.append(x._data)
                if x._rg:
                    requires = True
            elif isinstance(x, _OPERANDS):
                if n == 1 and not isinstance(x, np.ndarray):  # exp(1.0): torch takes a tensor
                    raise operand_error(op.name, "input", 1, x)
                # numpy scalars count as Python numbers in torch's promotion, not as 0-d tensors
                arrays.append(py_number(x) if type(x) is not int else _int_scalar(x))
            else:
                _check_operand(op, inputs, x)
                arrays.append(x)
        if op.view:
            arrays[0] = inputs[0]._arr()
        out, params = _forward(op, arrays, params)
    if not requires and _grow_all(inputs):  # NOTE [views of a base that gained a history]
        requires = True
    if not requires or op.backward is None or (_INFERENCE_GRAD[0] and _inference_only(inputs)):
        return _plain_outputs(op, inputs, out)
    # an integer or bool result carries no gradient: no record, no grad_fn (torch: x.long()).
    # (asked of one-output ops that are not views; a view has its input's floating dtype)
    if op.single and not (_FLOAT_SCALAR.get(type(out)) or out.dtype.kind in "fc"):
        return _plain_outputs(op, inputs, out)
    if _NOT_FAST and not STATE.fast:  # NOTE [fast flag], [threads not fast] in grad_mode.py
        if not STATE.grad_enabled or STATE.inference:  # (enable_grad inside inference_mode)
            return _plain_outputs(op, inputs, out)
        return _recorded_outputs(op, _record(op, inputs, params), inputs, out)
    if not op.single:
        return _recorded_outputs(op, _record(op, inputs, params), inputs, out)
    # one fresh output, and nothing the fast flag rules out (anomaly mode, saved-tensor
    # hooks, inference mode): the record is built in one pass, with the same checks as _record
    if fast and n == 1:  # `requires`: the one input needs a gradient
        xx = a._x
        if xx is not None and xx.view_version is not None and a._vc[0] != xx.view_version:
            _stale_view(a)
        r = a._rec
        if r is not None:
            nodes, idxs = (r,), (_IDX1 if not a._idx else (a._idx,))
        else:
            nodes, idxs = (accumulate_grad(a),), _IDX1
        needs, recipe = _NEEDS1, op.save_all
        meta = _SCALAR_META.get(type(da))
        if meta is None:
            key = (da.shape, da.dtype)
            meta = _ARRAY_META.get(key) or _array_meta(key)
        shapes, dtypes = meta
    elif fast and a._rg and b._rg and not _INFERENCE_GRAD[0]:  # (else the generic path checks
        for x in inputs:                                      # for inference tensors it saves)
            xx = x._x
            if xx is not None and xx.view_version is not None and x._vc[0] != xx.view_version:
                _stale_view(x)
        # a leaf's edge: its AccumulateGrad while some graph holds it (accumulate_grad's
        # lookup, inline and unrolled for the two inputs: leaves are half of W1's inputs,
        # and a call per leaf cost ~500 instructions)
        na = a._rec
        if na is None:
            w = a._x.acc if a._x is not None else None
            na = w() if w is not None else None
            if na is None:
                na = accumulate_grad(a)
        nb = b._rec
        if nb is None:
            w = b._x.acc if b._x is not None else None
            nb = w() if w is not None else None
            if nb is None:
                nb = accumulate_grad(b)
        nodes = (na, nb)  # (a leaf's _idx is 0)
        idxs = _IDX2 if not (a._idx or b._idx) else (a._idx, b._idx)
        needs, recipe = _NEEDS2, op.save_all
        ta = type(da)  # (two scalars of one type: no key tuple to build and hash)
        meta = _SCALAR_PAIR.get(ta) if ta is type(db) else _SCALAR_META.get((ta, type(db)))
        if meta is None:
            key = (da.shape, da.dtype, db.shape, db.dtype)
            meta = _ARRAY_META.get(key) or _array_meta(key)
        shapes, dtypes = meta
    else:
        nodes, idxs, needs, shapes, dtypes = _edges(inputs)
        recipe = None
        if _INFERENCE_GRAD[0]:
            fast = False  # saved values are then checked for inference tensors one by one
    vc = [0]
    if op.save_plan:
        if recipe is None:
            recipe = op.save_recipe(needs)
        # one flat tuple (NOTE [flat]), built at once for one or two saved inputs
        if fast and recipe is op.save_all and op.saves_inputs:  # every input, all tensors
            if n == 2:
                va, vb = a._vc, b._vc
                saved = (a, va, va[0], b, vb, vb[0])
            else:
                va = a._vc
                saved = (a, va, va[0])
        elif len(recipe) == 1 and recipe[0] is not None:
            i = recipe[0]
            if i < 0:
                saved = (out, vc, 0)
            else:
                x = inputs[i]
                if fast or isinstance(x, Tensor):
                    if (x._x is not None or x._base is not None) and x.is_inference():
                        raise _inference_saved_error()
                    saved = (x, x._vc, x._vc[0])
                else:
                    saved = (x, None, 0)
        else:
            saved = []
            for i in recipe:
                if i is None:
                    saved += _NOT_SAVED
                elif i < 0:
                    saved += (out, vc, 0)
                else:
                    x = inputs[i]
                    if fast or isinstance(x, Tensor):  # fast: all are
                        if (x._x is not None or x._base is not None) and x.is_inference():
                            raise _inference_saved_error()
                        saved += (x, x._vc, x._vc[0])
                    else:
                        saved += (x, None, 0)
            saved = tuple(saved)
    else:
        saved = ()
    # Record(...) without its __init__ call (as _wrap builds a Tensor): every field is set
    rec = _new(Record)
    rec.op, rec.pos, rec.inputs, rec.input_idx = op, _next_position(), nodes, idxs
    rec.needs, rec.saved = needs, saved
    rec.params, rec.shapes, rec.dtypes = params, shapes, dtypes
    rec.node = rec.extra = None
    t = _new(Tensor)
    t._data = out
    t._rg = True  # (a floating result: checked above)
    t._rec = rec
    t._idx = 0
    t._vc = vc
    t._base = t._grad = t._x = None
    rec.outs = _ref(t) if _KEEP_OUTPUTS[0] else None  # NOTE [outputs found when asked]
    if _SCOPES:
        _tape_append(rec)
    return t


def _grow_all(inputs) -> bool:
    """grow() each input that may need it; True when one now requires grad. (Where an op
    has an input that needs no gradient: off the path of ops whose inputs all need one.)"""
    grown = False
    for x in inputs:
        if isinstance(x, Tensor) and not x._rg and x._base is not None and grow(x):
            grown = True
    return grown


def watch_params(out, named) -> None:
    """The record that made `out` checks, before its rule runs, that the tensors it took
    as params (`named`: (name, tensor) pairs) are at the versions they have now."""
    rec = out._rec if type(out) is Tensor else None
    if rec is not None and named:
        watched = tuple((t._vc, t._vc[0], name, t._data) for name, t in named)
        if rec.extra is None:  # NOTE [watched alone] in recording.py
            rec.extra = RecordExtras(watched=watched, hooked=False)
        else:
            rec.extra.watched = watched


def _check_watched(rec: Record) -> None:
    for vc, then, name, data in rec.extra.watched:
        if vc[0] != then:
            raise RuntimeError(_modified_message(rec, data, "", name, vc[0], then) + _ANOMALY_HINT)


def param_array(t):
    """A tensor's array given to an op as a parameter (ops.registry.param_array)."""
    if TRACES and STATE.trace is not None:
        STATE.trace.param(t)
    return t._data


def _forward(op, arrays: list, params: tuple):
    """(result, params): op's forward on arrays, after Op.derive adds the params it computes
    from them; numpy's broadcasting ValueError becomes torch's error naming the op."""
    if op.derive is not None:
        params = op.derive(arrays, params)
    try:
        return op.forward(*arrays, *params), params
    except ValueError as exc:
        raise _shape_error(op, arrays, exc) from None


def _record(op, inputs: tuple, params: tuple, need_self=None) -> Record:
    """`need_self` overrides whether input 0 needs a gradient: an in-place op records a
    snapshot of its target as input 0, and what it saves depends on the target's need."""
    nodes, idxs, needs, shapes, dtypes = _edges(inputs)
    if need_self is not None:
        needs = (need_self,) + needs[1:]
    saved = ()
    if op.save_plan:
        saved = []
        for (i, _), m in zip(op.save_plan, op.save_mask(needs)):
            if i < 0 or not m:
                saved += _NOT_SAVED  # the result is filled in once it exists
            else:
                x = inputs[i]
                if type(x) is Tensor or isinstance(x, Tensor):
                    if (x._x is not None or x._base is not None) and x.is_inference():
                        raise _inference_saved_error()
                    saved += _save(x, x._vc, x._vc[0])
                else:
                    saved += (x, None, 0)
        saved = tuple(saved)
    rec = Record(op, _next_position(), nodes, idxs, needs, saved, params, shapes, dtypes)
    if STATE.anomaly:
        from .anomaly import forward_stack

        extras(rec).trace = forward_stack()  # the user's frames, without tape's own
    return rec


def _edges(inputs: tuple):
    """Per input: its node and output index (NOTE [flat]), whether it needs a gradient,
    its shape (a tensor's, even when it needs no gradient: torch keeps the sizes its node
    shows, `_saved_self_sym_sizes`) and dtype (None when it needs none), as tuples. Shared by
    _record and call."""
    nodes, idxs, needs, shapes, dtypes = [], [], [], [], []
    for x in inputs:
        if (type(x) is Tensor or isinstance(x, Tensor)) and (
                x._rg or (x._base is not None and grow(x))):  # (grow: NOTE [views of a base ...])
            xx = x._x
            if xx is not None and xx.view_version is not None and x._vc[0] != xx.view_version:
                _stale_view(x)
            r = x._rec
            if r is not None:
                nodes.append(r)
                idxs.append(x._idx)
            else:
                nodes.append(accumulate_grad(x))
                idxs.append(0)
            needs.append(True)
            d = x._data
            shapes.append(d.shape)
            dtypes.append(d.dtype)
        else:
            nodes.append(None)
            idxs.append(0)
            needs.append(False)
            shapes.append(x._data.shape if isinstance(x, Tensor) else None)
            dtypes.append(None)
    idxs = zero_idx(len(idxs)) if not any(idxs) else tuple(idxs)
    return tuple(nodes), idxs, tuple(needs), tuple(shapes), tuple(dtypes)


def _save(value, vc, version):
    hooks = STATE.saved_hooks
    if hooks:
        return pack_saved(hooks[-1], value, vc, version)
    return (value, vc, version)


# what an op takes besides tensors: numbers, and 0-d arrays that ops pass on (no edge); None
# only where the op declares an optional input (Op.optional)
_OPERANDS = (bool, int, float, np.bool_, np.number, np.ndarray)
_PY_NUMBERS = (int, float)


def _check_operand(op, inputs, x, inplace=False) -> None:
    i = next(k for k, y in enumerate(inputs) if y is x)
    if x is None and i in op.optional:
        return
    name = "input" if i == 0 else op.inputs[i] if i < len(op.inputs) else f"input {i}"
    if inplace:  # the method `x.mul_(other)`: its positions leave out `self`
        raise operand_error(op.name if op.name.endswith("_") else f"{op.name}_", name, i, x)
    raise operand_error(op.name, name, i + 1, x)


def _inference_saved_error() -> RuntimeError:
    # torch checks when it saves: an inference tensor an op does not save (x + y) is fine
    return RuntimeError(
        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
        "inference mode in computation tracked by autograd. To work around this, you can make a "
        "clone to get a normal tensor and use it in autograd, or use `tape.no_grad()` instead of "
        "`tape.inference_mode()`.")


def _stale_view(x: Tensor) -> None:
    """A view used after its base changed in place: its history is regenerated, or for an
    output of a multi-output view, or a view made under no_grad, an error (NOTE [stale
    views] in views.py)."""
    if x._x.multi_view:
        raise _stale_multi_view_error(x)
    if x._x.function_view and x._rec is not None:  # (made under the Function's no_grad too)
        raise _function_view_error(x, "its base or another view of its base has been modified inplace")
    if x._x.no_grad_view:
        raise RuntimeError(
            "A view was created in no_grad mode and its base or another view of its base has been "
            "modified inplace with grad mode enabled. Given that this use case is ambiguous and "
            "error-prone, it is forbidden. You can clarify your code by moving both the view and "
            "the inplace either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked).")
    from .views import regenerate

    regenerate(x)


# torch's words for an output of unbind, split or chunk (or a view of one) written in place
_MULTI_VIEW_RULE = ("This view is the output of a function that returns multiple views. Such "
                    "functions do not allow the output views to be modified inplace. You should "
                    "replace the inplace operation by an out-of-place one.")


def _stale_multi_view_error(x: Tensor) -> RuntimeError:
    return RuntimeError(
        f"Output {x._idx} of {short_name(x._rec.op.node)} is a view and its base or another view of its base "
        f"has been modified inplace. {_MULTI_VIEW_RULE}")


def _multi_view(op, base: Tensor) -> bool:
    """Is a view `op` makes of `base` a multi-output view: an output of unbind, split or chunk,
    or a view of one (torch's views keep their base view's creation meta)?"""
    return op.outputs != 1 or (base._x is not None and base._x.multi_view)


def _plain_outputs(op, inputs, out):
    if STATE.inference:
        return _mark_inference(_plain_outputs_(op, inputs, out))
    return _plain_outputs_(op, inputs, out)


def _inference_only(inputs) -> bool:
    """Every input an inference tensor (NOTE [inference inputs]): a number counts as a normal
    tensor, as torch wraps it into one (`x * 2` records, `x.sin()` does not)."""
    return all(isinstance(x, Tensor) and x.is_inference() for x in inputs if x is not None)


def _mark_inference(outs):
    for t in (outs if isinstance(outs, tuple) else (outs,)):
        t._extras().inference = True
    return outs


def _plain_outputs_(op, inputs, out):
    if op.view:
        x = inputs[0]
        vc, base = x._vc, (x if x._base is None else x._base)
        # (a view of an inference tensor is one: Tensor.is_inference reads its base's mark)
        outs = (_wrap(out, vc=vc, base=base),) if op.outputs == 1 else tuple(
            _wrap(o, vc=vc, base=base) for o in out)
        if x._rg and not STATE.grad_enabled and not STATE.inference:
            for t in outs:  # made under no_grad: TensorExtras.no_grad_view
                t._rg = t._data.dtype.kind in "fc"
                extra = t._extras()
                extra.no_grad_view, extra.view_version = True, vc[0]
        if _multi_view(op, x):
            for t in outs:
                t._extras().multi_view = True
        return outs[0] if op.outputs == 1 else outs
    if op.outputs == 1:
        return _wrap(out)
    return tuple(_wrap(o) for o in out)


def _recorded_outputs(op, rec: Record, inputs, out):
    vc = base = None
    if op.view:
        base = inputs[0]
        vc, base = base._vc, (base if base._base is None else base._base)
    diff = op.differentiable_outputs
    if op.outputs == 1:
        t = _wrap(out, rec, 0, out.dtype.kind in "fc", vc, base)
        outs = (t,)
    else:
        outs = tuple(
            _wrap(o, rec, i, o.dtype.kind in "fc" and (diff is None or i in diff), vc, base)
            for i, o in enumerate(out))
    rec.outs = _ref(outs[0]) if op.outputs == 1 else tuple(_ref(t) for t in outs)
    if op.view:  # (NOTE [stale views] in views.py)
        multi = _multi_view(op, inputs[0])
        for t in outs:
            x = t._extras()
            x.view_version, x.multi_view = vc[0], multi
    if op.save_plan:
        saved = list(rec.saved)
        for k, ((i, _), m) in enumerate(zip(op.save_plan, op.save_mask(rec.needs))):
            if i < 0 and m:
                t = outs[0]  # (a pack hook gets the output itself, grad_fn and all, as torch's;
                # without hooks the record keeps its array: the tensor would hold the record)
                saved[3 * k:3 * k + 3] = _save(t if STATE.saved_hooks else t._data, t._vc, t._vc[0])
        rec.saved = tuple(saved)
    _tape_append(rec)
    if STATE.anomaly_check_forward:
        from .anomaly import check_forward

        check_forward(rec, outs)
    return outs[0] if op.outputs == 1 else outs


def _shape_error(op, arrays, exc: ValueError) -> Exception:
    """numpy's broadcasting ValueError as torch's RuntimeError, naming the op and shapes."""
    shapes = [np.shape(a) for a in arrays if isinstance(a, (ndarray, np.generic))]
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        mismatch = _size_mismatch(a, b)
        if mismatch:
            return RuntimeError(f"{op.name}: {mismatch} (shapes {list(a)} and {list(b)})")
    return RuntimeError(f"{op.name}: {exc} (input shapes {[list(s) for s in shapes]})")


def _size_mismatch(a: tuple, b: tuple) -> str | None:
    """torch's words for the first dim (from the right) where shapes `a` and `b` do not
    broadcast, or None when they do."""
    for k in range(1, max(len(a), len(b)) + 1):
        sa = a[-k] if k <= len(a) else 1
        sb = b[-k] if k <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return (f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                    f"non-singleton dimension {max(len(a), len(b)) - k}")
    return None


# ---------------------------------------------------------------------------------------
# In-place ops: compute out of place, write into self's storage, bump the version


def call_inplace(op, self: Tensor, others: tuple, params: tuple = ()):
    if TRACES and STATE.trace is not None:
        return STATE.trace.call_inplace(op, self, others, params)  # runs this again, untraced
    _quiet_mod.ensure_filter()
    inputs = (self,) + others
    for x in others:  # (an argument of the wrong type first: torch's binding rejects it)
        if not isinstance(x, (Tensor, *_OPERANDS)):
            _check_operand(op, inputs, x, inplace=True)
    _grow_all(inputs)  # NOTE [views of a base that gained a history]
    enabled = check_inplace(self)
    if enabled and self._rec is None and self._x is not None and self._x.multi_view and any(
            getattr(x, "_rg", False) for x in others):  # (an unrecorded view gaining a history)
        raise RuntimeError("A view was created in no_grad mode and is being modified inplace with grad "
                           f"mode enabled. {_MULTI_VIEW_RULE}")
    # (numpy scalars are numbers to torch's promotion here too, as in call)
    arrays = [self._arr()] + [x._data if isinstance(x, Tensor) else py_number(x) for x in others]
    if not arrays[0].flags.writeable:  # a read-only numpy array (or a number's expand())
        raise _read_only_error(arrays[0])
    repeated = 0 in arrays[0].strides and has_internal_overlap(arrays[0])  # an expand()ed tensor
    if repeated and not op.writes_repeated:  # (which few in-place ops write)
        raise internal_overlap_error()
    for a in () if op.skip_overlap_check else arrays[1:]:  # NOTE [memory overlap] in views.py
        if type(a) is ndarray and np.may_share_memory(arrays[0], a):  # (shares some memory)
            assert_no_partial_overlap(arrays[0], a)
    out, params = _forward(op, arrays, params)
    target = arrays[0]
    out_dtype = np.result_type(out)
    if out_dtype != target.dtype and not _can_cast(out_dtype, target.dtype):  # (torch's canCast)
        from ._dtypes import from_np

        raise RuntimeError(
            f"result type {from_np(out_dtype).torch_name} can't be cast to the desired output type "
            f"{from_np(target.dtype).torch_name} (in {op.name}_)")
    if np.shape(out) != target.shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(np.shape(out))} (in {op.name}_)")
    # (an integer or bool target takes no gradient, whatever is written into it)
    recording = enabled and op.backward is not None and target.dtype.kind in "fc" and any(
        isinstance(x, Tensor) and x._rg for x in inputs)
    rec = None
    if recording:
        if self._base is not None:
            # writing into a view changes its base: the base's history is rewritten (CopySlices),
            # also when only the other operand requires grad (torch: zeros(3)[1:].add_(a))
            from .views import record_inplace_on_view

            return record_inplace_on_view(op, self, others, params, out)
        # `self` is about to change: if its old value is saved, save a copy of it, with the
        # old value's history (as torch's saved original self), so that a create_graph
        # backward differentiates through it too
        snapshot = _wrap(np.array(target, copy=True), self._rec, self._idx, self._rg)
        rec = _record(op, (snapshot,) + others, params, need_self=self._rg)
        node, idx = ((self._rec, self._idx) if self._rec is not None else
                     (accumulate_grad(self) if self._rg else None, 0))
        rec.inputs = (node,) + rec.inputs[1:]
        rec.input_idx = (idx,) + rec.input_idx[1:]
        rec.needs = (self._rg,) + rec.needs[1:]
        rec.shapes = (target.shape if self._rg else None,) + rec.shapes[1:]
        rec.dtypes = (target.dtype if self._rg else None,) + rec.dtypes[1:]
    if repeated:  # only what the op changes: torch's kernel writes those elements alone, and
        # a whole copy would leave each shared element the value of its last repetition
        np.copyto(target, out, casting="unsafe", where=np.asarray(out != target))
    else:
        np.copyto(target, out, casting="unsafe")
    self._vc[0] += 1
    if rec is not None:
        pin_output(self)  # its old record's output, up to now (NOTE [outputs found when asked])
        old, old_idx = self._rec, self._idx
        self._rec, self._idx, self._rg = rec, 0, True
        rehome(self, old, old_idx)
        rec.outs = _ref(self)
        if op.save_plan:
            saved = list(rec.saved)
            for k, (i, which) in enumerate(op.save_plan):
                if i < 0 and any(rec.needs[w] for w in which):
                    saved[3 * k:3 * k + 3] = _save(target, self._vc, self._vc[0])
            rec.saved = tuple(saved)
        TAPE.append(rec)
    return self


def check_inplace(self: Tensor) -> bool:
    """May `self` be written in place (inference tensors, leaves, views)? Raises torch's
    error if not; returns whether grad mode records the write. call_inplace asks first, and
    so do ops whose own argument checks come after these in torch (its autograd layer runs
    before the kernel's checks: fill_ with a 1-d value on a leaf names the leaf)."""
    owner = self if self._base is None else self._base  # a view writes its base's memory
    if owner._x is not None and owner._x.inference and not STATE.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
            "clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details.")
    enabled = STATE.grad_enabled and not STATE.inference
    if enabled and (self._rg or self._base is not None and self._base._rg):
        _check_inplace_allowed(self)
    return enabled


def _read_only_error(target: np.ndarray) -> RuntimeError:
    if has_internal_overlap(target):  # (an expand() of a read-only array)
        return internal_overlap_error()
    return RuntimeError("the tensor's memory is read-only (from a read-only numpy array): "
                        "clone() it before writing into it")


def _function_view_error(t: Tensor, what: str) -> RuntimeError:
    """torch's refusal of a view a custom Function returned, written to (or its base)."""
    return RuntimeError(
        f"Output {t._idx} of {t._rec.op.name} is a view and {what}. This view was created "
        "inside a custom Function (or because an input was returned as-is) and the autograd "
        "logic to handle view+inplace would override the custom backward associated with the "
        "custom Function, leading to incorrect gradients. This behavior is forbidden. You can "
        "fix this by cloning the output of the custom Function.")


def _check_inplace_allowed(t: Tensor) -> None:
    if t._x is not None and t._x.function_view and t._rec is not None:
        raise _function_view_error(t, "is being modified inplace")
    if t._x is not None and t._x.no_grad_view:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
            "can clarify your code by moving both the view and the inplace either both inside the "
            "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
            "want the inplace to be tracked).")
    if t._rec is None and t._base is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation.")
    rec = t._rec
    # torch checks the multi-output view first (unbind of a leaf names Unbind, not the leaf;
    # a view of its output names its own op: Slice)
    if rec is not None and t._x is not None and t._x.multi_view:
        raise RuntimeError(f"Output {t._idx} of {short_name(rec.op.node)} is a view and is being modified "
                           f"inplace. {_MULTI_VIEW_RULE}")
    # torch: a view that requires grad (it or its base does: check_inplace asked), of a base
    # with no history (a leaf, whether or not it requires grad: `arange(6.).view(2, 3)
    # .requires_grad_()` is such a view)
    base = t._base
    if base is not None and base._rec is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation.")


# ---------------------------------------------------------------------------------------
# Saved values


def second_time_error() -> RuntimeError:
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time or if you need to access saved tensors after "
        "calling backward.")


def unpack_saved(rec: Record, entry, k: int, as_tensor: bool):
    """A saved value, version-checked: an array (fast path) or a tensor (create_graph)."""
    value, vc, version = entry
    if type(value) is _Packed:  # (no version check: the hooks decide what is kept, as torch)
        from .hooks import unpack_saved as _unpack_packed

        return _unpack_packed(rec, value, k, vc, as_tensor)
    if vc is not None and vc[0] != version:
        raise _inplace_error(rec, value, k, vc[0], version)
    if type(value) is Tensor:
        return value if as_tensor else value._data
    if as_tensor and vc is not None:
        # the op's own result: a tensor that is that output again, so gradients of
        # gradients flow back through this record
        return _wrap(value, rec, 0, True, vc)
    if as_tensor and type(value) in _PY_NUMBERS:
        # a number given as an operand (`x * 2.5`) is a tensor to torch's rule (a wrapped
        # number), so a recorded rule's `g * other` is MulBackward0 (NOTE [rule scalars])
        return _wrap(np.asarray(value))
    return value


def _saved_name(rec: Record, k: int) -> str:
    names = rec.op.saved_names
    return names[k] if k < len(names) else f"saved tensor {k}"


def _modified_message(rec: Record, data, where: str, name: str, now: int, then: int) -> str:
    """torch's "modified by an inplace operation" message for the value `name` of `rec`."""
    from ._dtypes import from_np

    kind = f"tape.{from_np(np.result_type(data)).legacy} {list(np.shape(data))}"
    return (f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{kind}]{where} is at version {now}; expected version {then} "
            f"instead. It is '{name}', saved by {rec.op.node} (tape position {rec.pos}).")


_ANOMALY_HINT = (" Hint: enable anomaly detection to find the operation that failed to compute "
                 "its gradient, with tape.autograd.set_detect_anomaly(True).")


def _inplace_error(rec: Record, value, k: int, now: int, then: int) -> RuntimeError:
    if type(value) is Tensor:
        data, producer = value._data, value._rec
        where = f", which is output {value._idx} of {short_name(producer.op.node)}," if producer else ""
    else:
        data = value
        where = f", which is output 0 of {short_name(rec.op.node)},"
    msg = _modified_message(rec, data, where, _saved_name(rec, k), now, then)
    from .anomaly import inplace_culprit

    culprit = inplace_culprit(rec, value, k)
    return RuntimeError(msg + (" " + culprit if culprit else _ANOMALY_HINT))


# ---------------------------------------------------------------------------------------
# Reverse playback


def edge_of(t: Tensor):
    """Where a gradient for `t` enters the graph: (record, output index) or (leaf sink, 0)."""
    if not t._rg and t._base is not None:
        grow(t)  # NOTE [views of a base that gained a history]
    if t._x is not None and t._x.view_version is not None and t._vc[0] != t._x.view_version:
        _stale_view(t)
    if t._rec is not None:
        return t._rec, t._idx
    if t._rg:
        acc = accumulate_grad(t)
        return None if acc is None else (acc, 0)
    return None


def edges_of(tensors, kept=None) -> tuple:
    """edge_of for each tensor, as a record keeps them: (nodes, output indices) (NOTE
    [flat]); a tensor whose gradient goes nowhere (a view made under no_grad) gets (None, 0).
    For tape.compile's record, whose inputs are mostly leaves: a leaf with a live
    AccumulateGrad and no view to check is looked up inline (edge_of's common case), ~1 µs
    a call of W2's six parameters. `kept` (a plan's KeptSinks) then holds the leaves'
    AccumulateGrads until the next call (NOTE [kept sinks] in graph.py)."""
    nodes, idxs = [], []
    for t in tensors:
        x = t._x
        if t._rec is None and t._rg and x is not None and x.acc is not None and \
                x.view_version is None:
            acc = x.acc()
            if acc is not None:
                nodes.append(acc)
                idxs.append(0)
                continue
        e = edge_of(t)
        nodes.append(None if e is None else e[0])
        idxs.append(0 if e is None else e[1])
    if kept is not None:  # (a sink with hooks or metadata is never kept: NOTE [kept sinks])
        kept.accs = [n for n in nodes if type(n) is AccumulateGrad and n.extra is None]
    return tuple(nodes), tuple(idxs)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into leaves' `.grad` the gradients of `tensors` weighted by `grad_tensors`."""
    if TRACES and STATE.trace is not None:
        STATE.trace.unsupported("backward() inside the function")
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is not None:  # one tensor, or a sequence of tensors and Nones (as torch)
        grad_tensors = (grad_tensors,) if isinstance(grad_tensors, Tensor) else tuple(grad_tensors)
    roots = _roots(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        inputs = tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in inputs:
            if not isinstance(t, Tensor):
                raise RuntimeError("all inputs have to be Tensors or GradientEdges, but got "
                                   f"{type(t).__name__}")
            if not t._rg:  # torch's message (it retains the inputs' grads)
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            if t._rec is not None:
                t.retain_grad()  # as torch: a non-leaf input's .grad comes from retain_grad
        targets = {edge_of(t): t for t in inputs}
    if create_graph and not _CYCLE_WARNED:  # torch's warning, once a process (grad() has none)
        _CYCLE_WARNED.append(True)
        _warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this function, "
            "make sure to reset the .grad fields of your parameters to None after use to break the "
            "cycle and avoid the leak.", UserWarning, stacklevel=3)
    playback(roots, retain=retain_graph, create=create_graph, targets=targets, accumulate=True)


_CYCLE_WARNED: list = []


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False,
         *, _within=None):
    """The gradients of `outputs` with respect to `inputs`, returned (nothing accumulates).
    The arguments are torch's, in its order (only_inputs is deprecated there: ignored)."""
    if TRACES and STATE.trace is not None:
        STATE.trace.unsupported("autograd.grad() inside the function")
    if not only_inputs:
        _warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To "
                       "accumulate gradient for other parts of the graph, please use "
                       "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if is_grads_batched and grad_outputs is not None:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    single = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise RuntimeError("all inputs have to be Tensors or GradientEdges, but got "
                               f"{type(t).__name__}")
    roots = _roots(outputs, grad_outputs, create_graph)  # checks the outputs first, as torch
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    targets = {}
    for t in inputs:
        targets.setdefault(edge_of(t), t)
    got = playback(roots, retain=retain_graph, create=create_graph, targets=targets,
                   accumulate=False, within=_within)
    result, made = [], {}
    for i, t in enumerate(inputs):
        edge = edge_of(t)
        if edge in made:  # one input listed twice: one gradient tensor, as torch returns
            result.append(made[edge])
            continue
        g = got.get(edge)
        if g is None:
            if materialize_grads:  # (a leaf that requires grad under create_graph, as torch's)
                result.append(_wrap(np.zeros_like(t._arr()), rg=bool(create_graph)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        else:
            made[edge] = g if isinstance(g, Tensor) else _wrap(np.array(g, copy=True))
            result.append(made[edge])
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize):
    """grad(..., is_grads_batched=True): each grad_output's first dim is a batch of them, and
    each result has that batch dim first (torch maps over it with vmap; here, one playback per
    batch entry, then a stack: the same numbers)."""
    single = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    sizes = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            continue
        if g.ndim == 0 or tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                f"shape of {g.shape[1:] if g.ndim else g.shape} and output[{i}] has a shape of "
                f"{o.shape}. If you only want some tensors in `grad_output` to be considered "
                "batched, consider using vmap.")
        sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, "
                         f"got sizes {sizes} for the mapped dimension")
    batch = sizes[0] if sizes else 0
    if retain_graph is None:
        retain_graph = create_graph
    per = [grad(outputs, inputs, [None if g is None else g[b] for g in grad_outputs],
                retain_graph=retain_graph or b < batch - 1, create_graph=create_graph,
                allow_unused=allow_unused or materialize)
           for b in range(batch)]
    inputs = (inputs,) if single else tuple(inputs)
    result = []
    for k, t in enumerate(inputs):
        gs = [p[k] for p in per]
        if any(g is None for g in gs):  # unused: None, or (torch's) zeros without the batch dim
            result.append(_wrap(np.zeros_like(t._arr())) if materialize else None)
        else:
            result.append(PRIMS_TAPE.stack(gs))
    return tuple(result)


def _roots(tensors, grads, create):
    if grads is not None and len(grads) < len(tensors):  # torch ignores extra gradients
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    roots = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):  # (torch's own check is an assert, so is its error)
            raise AssertionError("Expected output to be a tape.Tensor")
        if not t._rg and not (t._base is not None and grow(t)):
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = None if grads is None else grads[i]
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            d = t._data
            # 0-d: a numpy scalar 1 of its dtype, shared (immutable, as every 0-d value
            # may be in playback; np.ones_like costs ~2 µs, building a scalar ~0.4 µs)
            g = _ONE.get(d.dtype.type) if d.ndim == 0 else None
            if g is None:
                g = np.ones_like(d)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if g.shape != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} and "
                    f"output[{i}] has a shape of {t.shape!r}.")
            if g._data.dtype != t._data.dtype:  # torch casts it to the output's dtype first
                g = g.to(t.dtype) if create else g._data.astype(t._data.dtype)  # (recorded)
            else:
                g = g if create else g._data
        if create and not isinstance(g, Tensor):
            g = _wrap(g)
        edge = edge_of(t)
        if not create and type(g) is not ndarray and edge is not None and type(edge[0]) is AccumulateGrad:
            # a leaf as a root: the engine holds its gradient (here `roots` does), so torch's
            # AccumulateGrad copies it, .grad at version 1. As an array it is copied too; a
            # numpy scalar would be taken as it is (NOTE [stealing])
            g = np.array(g)
        roots.append((edge, g))
    return roots


def _useful_nodes(roots, targets, within=None) -> set:
    """Nodes on some path from a root to a target: only these take part in playback.
    With `within` (a recording scope's records), paths stop at records outside it."""
    useful, reaches = set(), {}
    stack = [(e[0], False) for e, _ in roots]
    target_nodes = {node for node, _ in targets}
    while stack:
        node, done = stack.pop()
        if done:
            hit = node in target_nodes
            if type(node) is Record and (within is None or node in within):
                for n in node.inputs:
                    if n is not None and reaches.get(n):
                        hit = True
            reaches[node] = hit
            if hit:
                useful.add(node)
            continue
        if node in reaches:
            continue
        reaches[node] = False
        stack.append((node, True))
        if type(node) is Record and (within is None or node in within):
            for n in node.inputs:
                if n is not None and n not in reaches:
                    stack.append((n, False))
    return useful


def playback(roots, *, retain: bool, create: bool, targets=None, accumulate=True,
             within=None) -> dict:
    """Run the records that lead to `roots` in reverse position order.

    roots: [((node, index), grad)]. targets: {(node, index): tensor} to capture (their
    gradients are returned) and, with `accumulate`, the only leaves to accumulate into.
    within: if given (with targets), only these records run (a GradientTape's scope).
    """
    F = PRIMS_TAPE if create else PRIMS_NP
    useful = None if targets is None else _useful_nodes(roots, targets, within)
    captured = {}
    heap, bufs, at, waiting, deps = _start(roots, _USER_CODE[0] and within is None)
    prev = _swap_grad_enabled(create)
    quiet = _quiet()  # NOTE [quiet IEEE]
    # the fast path's conditions that hold for the whole playback (anomaly mode is read
    # once: a hook switching it on takes effect from the next backward)
    plain = not create and not STATE.anomaly
    try:
        while heap:
            node = at.pop(_heappop(heap))
            if useful is not None and node not in useful:
                del bufs[node]
                continue
            if type(node) is AccumulateGrad:
                # popped straight into the call: then only _sink holds it (NOTE [stealing])
                _sink(node, bufs.pop(node), targets, captured, accumulate, create)
                continue
            rec = node
            grads = bufs.pop(node)
            if targets is not None:  # NOTE [hooks and captured gradients] in hooks.py
                grads = capture(rec, _slot_list(grads), targets, captured, useful, within,
                                accumulate, create)
                if grads is None:
                    continue
            ex = rec.extra
            if ex is not None:
                if not ex.hooked:
                    if rec.saved is not FREED:  # watched alone (NOTE in recording.py): the
                        _check_watched(rec)  # fast path below skips _run's check
                elif targets is None:  # (capture ran them)
                    grads = _before_node(rec, _slot_list(grads), create)
            saved = rec.saved
            if plain and (ex is None or not ex.hooked) and saved is not FREED:
                # NOTE [playback fast path] _run's common case inline: no create_graph, no
                # hooks on this node, no anomaly mode (packed values still unpack, and a
                # changed version still raises, through unpack_saved)
                op = rec.op
                if type(grads) is list:  # a multi-output op's rule gets a tuple (NOTE [slots])
                    g = grads[0] if len(grads) == 1 and op.outputs == 1 else tuple(grads)
                else:
                    g = grads if op.outputs == 1 else (grads,)
                n3 = len(saved)
                if not n3:  # (a call with *vals builds an argument tuple)
                    in_grads = op.backward(F, rec, g)
                elif n3 == 3:  # NOTE [one or two saved values]
                    value, vc, version = saved
                    tv = type(value)
                    if (vc is not None and vc[0] != version) or tv is _Packed:
                        value = unpack_saved(rec, saved, 0, False)
                    elif tv is Tensor:
                        value = value._data
                    in_grads = op.backward(F, rec, g, value)
                elif n3 == 6:
                    a, va, na, b, vb, nb = saved
                    ta, tb = type(a), type(b)
                    if (va is not None and va[0] != na) or ta is _Packed:
                        a = unpack_saved(rec, saved[:3], 0, False)
                    elif ta is Tensor:
                        a = a._data
                    if (vb is not None and vb[0] != nb) or tb is _Packed:
                        b = unpack_saved(rec, saved[3:], 1, False)
                    elif tb is Tensor:
                        b = b._data
                    in_grads = op.backward(F, rec, g, a, b)
                else:
                    vals = []
                    k = 0
                    while k < n3:  # (value, vc, version) in a row: NOTE [flat]
                        value = saved[k]
                        vc = saved[k + 1]
                        tv = type(value)
                        if (vc is not None and vc[0] != saved[k + 2]) or tv is _Packed:
                            value = unpack_saved(rec, saved[k:k + 3], len(vals), False)
                        elif tv is Tensor:
                            value = value._data
                        vals.append(value)
                        k += 3
                    in_grads = op.backward(F, rec, g, *vals)
                if n3 and not retain:
                    rec.saved = FREED
            else:
                in_grads = _run(rec, _slot_list(grads), F, retain, create)
            k = -1  # NOTE [no zip]
            for nxt in rec.inputs:
                k += 1
                gi = in_grads[k]
                if nxt is None or gi is None:
                    continue
                # a numpy scalar of the input's own type, for a 0-d input, needs neither check
                shape = rec.shapes[k]
                if shape or type(gi) is not rec.dtypes[k].type:
                    if gi.shape != shape:
                        gi = F.sum_to(gi, shape)
                    dt = rec.dtypes[k]
                    if gi.dtype != dt:
                        gi = F.to_dtype(gi, dt)
                # send gi to the slot of the node that produced this input (_send's work)
                b = bufs.get(nxt)
                if b is None:
                    key = -nxt.pos
                    _heappush(waiting, key)
                    at[key] = nxt
                    outs = nxt.outs  # one slot (NOTE [slots]): one output or none (a leaf's sink)
                    if type(outs) is not tuple or len(outs) < 2:
                        bufs[nxt] = gi
                    else:
                        b = bufs[nxt] = [None] * len(outs)
                        b[rec.input_idx[k]] = gi
                elif type(b) is not list:
                    if type(b) is not ndarray:  # a numpy scalar: a new sum (as _accumulate)
                        bufs[nxt] = b + gi
                    else:
                        b = None  # only the slot refers to it then (NOTE [stealing])
                        bufs[nxt] = _accumulate(bufs[nxt], gi)
                else:
                    idx = rec.input_idx[k]
                    b[idx] = gi if b[idx] is None else _accumulate(b[idx], gi)
            if deps is not None:  # rec has run: what it feeds is an edge closer to ready
                _arrive(rec.inputs, deps, bufs, heap, at)
            # let go: a leaf's sink may take these arrays (NOTE [stealing])
            in_grads = gi = g = grads = None
    except ValueError as exc:  # (a saved value an unpack hook gave in another shape, say)
        raise _rule_shape_error(exc) from None
    finally:
        _unquiet(quiet)
        _swap_grad_enabled(prev)
    return captured


_BROADCAST = re.compile(r"could not be broadcast together with shapes ([^ ]+) ([^ ]+)")


def _rule_shape_error(exc: ValueError) -> Exception:
    """numpy's broadcasting ValueError inside a backward rule as torch's RuntimeError; any
    other ValueError as it is."""
    m = _BROADCAST.search(str(exc))
    if m is None:
        return exc
    a, b = (tuple(int(n) for n in re.findall(r"\d+", s)) for s in m.groups())
    return RuntimeError(_size_mismatch(a, b) or str(exc))


# NOTE [no zip] Playback walks a record's inputs by position, not with zip() over its five
# per-input tuples: a zip of five builds six objects for a record of one or two inputs,
# most of what the loop costs (W1: 27,616 instructions an op with zip, 25,235 without).

# NOTE [slots] A node waiting in playback has one gradient slot per output: bufs[node] is
# the gradient itself when it has one (a leaf's AccumulateGrad, a record with one output,
# by far the most common), and a list of slots (None until filled) otherwise. Hooks and
# _run take the list form (_slot_list).


# NOTE [one or two saved values] Most records save one value (sin's self, tanh's result)
# or two (mul's self and other). Playback unpacks those spelled out, with the same version
# check and unpacking as the loop for more, instead of building a list and looping: W1
# counted 28,353 instructions an op with the loop and 27,395 without it for one and two
# values (`ab_variants.py --instructions`; one value alone: 27,794).


# NOTE [waiting nodes] The max-heap holds the waiting nodes' negated positions, plain ints,
# and `at` maps each back to its node. Entries (-pos, node) cost a tuple each and a tuple
# comparison at each of the heap's levels; with thousands of nodes waiting at once (a wide
# graph: W4 counted 491M instructions a step with them, 462M without) that adds up, and
# every tuple was one more object for the collector to walk. Positions are unique, so an
# int names one node.


# NOTE [torch's order]
# torch runs a node once it is ready (every node that sends it a gradient has run): of the
# ready nodes, the one with the highest sequence number first, except that a leaf's
# AccumulateGrad, whose sequence number is the largest there is, runs as soon as it is
# ready. Positions order records as sequence numbers do, and the waiting record with the
# highest position is always ready, so for records the plain heap above is torch's order
# with no counting. Sinks are where they part: by position a sink waits for every record
# made after it, and two sinks of one node run the later-made first, where torch runs
# `a` before `b` in `a * b` (its ties leave its std::priority_queue in the order the
# heap's sifting gives; heapq sifts alike, so equal entries come out of it as torch's do).
# Only user code running during a backward sees the difference, so once any exists
# (hooks.USER_CODE) playback counts each node's edges as torch does, and `heap` holds only
# ready nodes, as _Ready entries that compare by priority alone. A node that becomes
# ready without a gradient (a custom Function's backward returned None for it) is not
# run, and the nodes it feeds move on at once; torch runs it with undefined gradients
# (its hooks see None, a leaf's post-accumulate hooks run), which tape does not do.


class _Ready:
    """A ready node's entry in the ready queue: its priority alone decides (NOTE [torch's
    order]); the node is at[entry]."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return self.key < other.key


_SINK_FIRST = float("-inf")  # a sink's key: before every record (-position)


def _start(roots, ordered: bool):
    """Playback's state once the roots' gradients are in their nodes' slots: (heap, bufs, at,
    waiting, deps). NOTE [waiting nodes]; with `ordered` (NOTE [torch's order]) `heap` is a
    ready queue as torch's, `deps` counts each node's edges, and a node reached for the first
    time goes to `waiting`, which nothing reads; else `waiting` is `heap` and `deps` None."""
    heap, bufs, at = [], {}, {}
    deps = _dependencies(roots) if ordered else None
    waiting = heap if deps is None else []
    for edge, g in roots:
        if edge is not None:  # (None: a no_grad view, whose gradient goes nowhere)
            _send(bufs, waiting, at, edge[0], edge[1], g)
            if deps is not None:  # as torch's GraphRoot passes them on, in order
                _arrive((edge[0],), deps, bufs, heap, at)
    return heap, bufs, at, waiting, deps


def _dependencies(roots) -> dict:
    """Per node of the graph the roots lead to, how many edges reach it (one per root edge,
    as from torch's GraphRoot, and one per input edge of a record in the graph)."""
    deps: dict = {}
    stack = []
    for edge, _ in roots:
        if edge is not None:
            stack.append(edge[0])
    while stack:
        node = stack.pop()
        n = deps.get(node)
        deps[node] = 1 if n is None else n + 1
        if n is None and type(node) is Record:
            for nxt in node.inputs:
                if nxt is not None:
                    stack.append(nxt)
    return deps


def _arrive(nodes, deps, bufs, heap, at) -> None:
    """One edge into each of `nodes` (in order; None for no edge) is done: a node whose
    last edge that was is ready, or, with no gradient sent to it, passes its own edges on."""
    stack = [n for n in reversed(nodes) if n is not None]
    while stack:  # (depth first, as calls would go, without their recursion limit)
        node = stack.pop()
        n = deps[node] - 1
        deps[node] = n
        if n:
            continue
        if node in bufs:
            entry = _Ready(_SINK_FIRST if type(node) is AccumulateGrad else -node.pos)
            at[entry] = node
            _heappush(heap, entry)
        elif type(node) is Record:
            stack.extend(m for m in reversed(node.inputs) if m is not None)


def _send(bufs, heap, at, node, idx, g):
    b = bufs.get(node)
    if b is None:
        k = -node.pos
        _heappush(heap, k)
        at[k] = node
        outs = node.outs
        if type(outs) is not tuple or len(outs) < 2:
            bufs[node] = g
        else:
            b = bufs[node] = [None] * len(outs)
            b[idx] = g
    elif type(b) is not list:
        bufs[node] = b + g
    elif b[idx] is None:
        b[idx] = g
    else:
        b[idx] = b[idx] + g


def _slot_list(b) -> list:
    """A node's gradient slots as a new list (NOTE [slots])."""
    return list(b) if type(b) is list else [b]


def _run(rec: Record, grads, F, retain: bool, create: bool):
    saved = rec.saved
    if saved is FREED and not rec.op.reads_saved_itself:
        raise second_time_error()
    if rec.extra is not None and rec.extra.watched:
        _check_watched(rec)
    entries = () if saved is FREED else rec.saved_entries()
    if create:
        vals = [None if e is None else unpack_saved(rec, e, k, True) for k, e in enumerate(entries)]
    else:
        vals = []
        for k, e in enumerate(entries):
            if e is None:
                vals.append(None)
                continue
            value, vc, version = e
            tv = type(value)
            if vc is not None and vc[0] != version and tv is not _Packed:
                raise _inplace_error(rec, value, k, vc[0], version)
            vals.append(value._data if tv is Tensor else
                        unpack_saved(rec, e, k, False) if tv is _Packed else value)
    # a rule of a multi-output op always gets a tuple, even when it has one output now
    g = grads[0] if len(grads) == 1 and rec.op.outputs == 1 else tuple(grads)
    try:
        if create and OPS.get(rec.op.node) is rec.op:
            in_grads = _recorded_rule(rec.op, F, rec, g, vals)
        else:
            in_grads = rec.op.backward(F, rec, g, *vals)
    except Exception:
        if STATE.anomaly:  # torch names the failing node's forward call, then re-raises
            from .anomaly import report_failure

            report_failure(rec)
        raise
    if not retain and saved:
        rec.saved = FREED
    if STATE.anomaly:
        from .anomaly import check_backward

        check_backward(rec, in_grads)
    ex = rec.extra
    if ex is not None and ex.post_hooks:
        in_grads = _post_hooks(ex.post_hooks, _node_outputs(rec, in_grads, F), grads, create)
    return in_grads


def _node_outputs(rec: Record, in_grads, F) -> list:
    """A rule's gradients as torch's node gives them to its post-hooks: None for an input
    that needs none, else reduced to the input's shape and dtype (what playback does after
    the rule, done first here so the hooks see, and may replace, torch's values)."""
    out = []
    every = rec.op.grads_all_inputs  # (cat, stack: an input needing none gets one too)
    for k, gi in enumerate(in_grads):
        if gi is not None:
            if not rec.needs[k] and not every:
                gi = None
            else:
                shape, dt = rec.shapes[k], rec.dtypes[k]
                if shape is not None and gi.shape != shape:
                    gi = F.sum_to(gi, shape)
                if dt is not None and gi.dtype != dt and dt.kind in "fc":  # (an integer input's
                    gi = F.to_dtype(gi, dt)  # stays as it is)
        out.append(gi)
    return out


_before_node, _post_hooks = before_node, post_hooks  # NOTE [hook order] in hooks.py

# NOTE [rule scalars]
# torch's backward formulas are C++, where `grad * 2` calls the Scalar overload of mul
# (MulBackward1, one edge), while `grad * 2` written in Python wraps the number into a
# tensor (MulBackward0, a second edge to nothing). tape's rules are Python, so while one
# of ops/'s rules is recorded (create_graph=True) a Python number as the second operand
# of mul, div, add or sub is recorded as torch's formula would record it, by the op's
# `rule_form` (ops/arith.py: the Scalar overload), and `number - tensor` as C++'s
# fill-and-subtract (ops.arith.rsub asks `in_recorded_rule`); the engine knows no op here.
# Only built-in rules: a custom Function's backward and hooks are the user's Python,
# recorded as torch records Python. RULE_THREADS spares everyone else the thread-local
# read (as NOTE [threads not fast]).


def in_recorded_rule() -> bool:
    return bool(_RULE_THREADS) and STATE.in_rule


def _recorded_rule(op, F, rec, g, vals):
    state, tid = STATE, _get_ident()
    outer = state.in_rule
    state.in_rule = True
    _RULE_THREADS.add(tid)
    try:
        return op.backward(F, rec, g, *vals)
    finally:
        state.in_rule = outer
        if not outer:
            _RULE_THREADS.discard(tid)

# NOTE [stealing]
# A gradient array that a rule just made is playback's own temporary. When nothing else
# refers to it (not the user, a hook, a saved value, another gradient slot, a view), a
# leaf's first `.grad` can take it instead of a copy, and a second contribution can be
# added into it in place, as torch does when a buffer's use count is 1. The reference
# counts that mean "only playback holds it" are measured once here, with the same access
# pattern as the real sites, because the interpreter's own counting differs across Python
# versions. Views (`base` set) and read-only arrays (broadcasts) are never reused.
_getrefcount = sys.getrefcount


def _accumulate(old, gi):
    """A gradient slot's sum: added into the slot's array when only playback holds it, else
    into the new contribution when only playback holds that (as torch's input buffer tries
    both: the slot often holds a gradient passed on unchanged, or a sum's broadcast view),
    else a new array. (Addition commutes bit for bit, so the order does not show.)"""
    if type(old) is ndarray and old.base is None and _getrefcount(old) <= _SLOT_ONLY:
        try:  # (asking old.flags.writeable first costs more than this try: W4 adds ~25,000 times)
            np.add(old, gi, out=old)
            return old
        except ValueError:  # read-only (a hook's result, say): numpy checks before writing
            pass
    if type(gi) is ndarray and gi.base is None and _getrefcount(gi) <= _NEW_ONLY:
        try:
            np.add(gi, old, out=gi)
            return gi
        except ValueError:  # read-only, or `old` broadcasts gi to a larger shape
            pass
    return old + gi


def _refs(a):
    return _getrefcount(a)


def _new_only() -> int:
    """gi's count in playback's loop (NOTE [no zip]): the rule's tuple, the loop's `gi`,
    then _accumulate's argument."""
    in_grads = (np.empty(1),)
    k = -1
    for _nxt in (None,):
        k += 1
        gi = in_grads[k]
        return _refs(gi)


_ARG_ONLY = _refs(np.empty(1))  # _sink(node, grads.pop(), ...): the argument alone
_SLOT_ONLY = (lambda slot: _refs(slot[0]))([np.empty(1)])  # _accumulate(b[idx], gi)
_NEW_ONLY = _new_only()  # _accumulate(bufs[nxt], gi) inside playback's loop over in_grads


def _sink(acc: AccumulateGrad, g, targets, captured, accumulate, create):
    """A gradient reaching a leaf: its hooks, then capture or accumulation into `.grad`."""
    leaf = acc.variable
    x = leaf._x
    executed = accumulate and (targets is None or (acc, 0) in targets)
    if (x is not None and x.hooks) or acc.extra is not None:
        g = leaf_hooks(acc, g, create, executed)
    if targets is not None and not accumulate and (acc, 0) in targets:
        captured[(acc, 0)] = g  # for grad(); backward(inputs=) keeps none (so .grad can take g)
    if not executed:
        return
    old = leaf._grad
    if not leaf._rg:  # requires_grad_(False) since the graph was made: torch runs the hooks
        pass  # and the post-accumulate hooks, and accumulates nothing
    elif create:
        # torch: a first .grad is a recorded copy (CopyBackwards), a later one old + new
        leaf._grad = _recorded_copy(g) if old is None else old + g
    elif old is None:
        dt = leaf._data.dtype
        # taken, not copied: a numpy scalar of the leaf's type (immutable), or an array
        # nobody else holds (NOTE [stealing])
        if type(g) is dt.type or (type(g) is ndarray and g.dtype == dt and g.base is None
                                  and g.flags.writeable and _getrefcount(g) <= _ARG_ONLY):
            leaf._grad = _wrap(g)
        else:  # a copy, made as torch makes it (an empty tensor copy_()'d into: version 1)
            copied = leaf._grad = _wrap(np.array(g, dtype=dt, copy=True))
            copied._vc[0] = 1
    else:  # in place, as torch adds into an existing .grad (one with a graph keeps it)
        arr = old._arr()
        if 0 in arr.strides and has_internal_overlap(arr):  # a .grad the user expand()ed
            raise internal_overlap_error()
        np.add(arr, g, out=arr, casting="unsafe")
        old._vc[0] += 1
    if (x is not None and x.post_acc_hooks) or acc.extra is not None:
        after_accumulate(acc, g, create)


def _recorded_copy(g: Tensor) -> Tensor:
    """A new tensor holding `g`, recorded as torch's copy_ into an empty one (CopyBackwards):
    what a create_graph backward stores as a leaf's first .grad."""
    from .creation import empty_like

    return empty_like(g).copy_(g)


def call_node(rec: Record, grads):
    """`node(*grads)`: run one backward rule by hand, as torch's Node.__call__: under grad
    mode the rule is recorded (its results have a graph through the saved values)."""
    if STATE.grad_enabled:
        vals = [g if g is None or isinstance(g, Tensor) else _wrap(np.asarray(g)) for g in grads]
        out = _run(rec, vals, PRIMS_TAPE, retain=True, create=True)
        out = tuple(None if g is None else g if isinstance(g, Tensor) else _wrap(np.asarray(g))
                    for g in out)
    else:
        vals = [g._data if isinstance(g, Tensor) else g for g in grads]
        out = _run(rec, vals, PRIMS_NP, retain=True, create=False)
        out = tuple(None if g is None else _wrap(np.asarray(g)) for g in out)
    return out[0] if len(out) == 1 else out  # (torch: one input edge, one tensor)
