"""tape.compile against eager over a sequence of calls, for the cases where a replay once
gave another answer (or crashed): each case runs its function eagerly and compiled, with
the same arguments and the same changes to the state it reads between calls, and compares
what the caller sees: values and dtypes, gradients bit for bit, and errors."""

import dataclasses
import math
import warnings

import numpy as np
import pytest

import tape
from tape.autograd.graph import saved_tensors_hooks


def _outcome(fn, steps, leaves):
    """Per call: (values, dtype, requires_grad, version) or (error type, message), then each
    leaf's gradient after backward of the sum (None when there is none)."""
    seen = []
    for step in steps:
        args = step()
        for t in leaves:
            t.grad = None
        try:
            y = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the error is what is compared
            seen.append((type(exc).__name__, str(exc)))
            continue
        seen.append((y.tolist(), y.dtype, y.requires_grad, y._version))
        if y.requires_grad:
            try:
                y.sum().backward()
            except Exception as exc:  # noqa: BLE001
                seen.append((type(exc).__name__, str(exc)))
                continue
        seen.append([None if t.grad is None else t.grad.tolist() for t in leaves])
    return seen


def _signed(seen):
    """The outcome with every float zero written with its sign (-0.0 == 0.0 otherwise)."""
    if isinstance(seen, float):
        return repr(seen)
    if isinstance(seen, (list, tuple)):
        return type(seen)(_signed(v) for v in seen)
    return seen


# Each case builds its own state (so eager and compiled each start from the same), and
# gives (fn, the calls: functions returning the arguments and changing state, the leaves
# whose gradients are compared).

def _same_tensor_twice():
    x, y = tape.tensor([1.0, 2.0]), tape.tensor([3.0, 4.0])
    return (lambda a, b: a * b + a), [lambda: (x, x), lambda: (x, y), lambda: (x, x)], []


def _argument_is_a_closed_over_parameter():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    x = tape.tensor([3.0, 4.0], requires_grad=True)
    return (lambda a: a * w), [lambda: (w,), lambda: (x,), lambda: (w,)], [w, x]


def _one_leaf_given_for_two():
    # recorded with two leaves, then one given twice: its gradient sums the two sources'
    # contributions in eager's order only if the call re-records (float32: an ulp apart)
    x, y = (tape.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 5.0]))
    return ((lambda a, b: (a * b).sin() * a + b.exp() * a),
            [lambda: (x, y), lambda: (x, x), lambda: (x, x)], [x, y])


def _negative_zero_argument():
    x = tape.tensor([1.0, 2.0])
    return (lambda a, c: 1.0 / (a * c)), [lambda: (x, 0.0), lambda: (x, -0.0), lambda: (x, 0.0)], []


def _negative_zero_read_with_item():
    x = tape.tensor([1.0, 2.0])
    return ((lambda a, c: a / c.item()),
            [lambda: (x, tape.tensor(0.0)), lambda: (x, tape.tensor(-0.0))], [])


_STATE: dict = {}


def _negative_zero_global():
    _STATE["c"] = 0.0
    x = tape.tensor([1.0, 2.0])
    return ((lambda a: 1.0 / (a * _STATE["c"])),
            [lambda: (x,), lambda: _STATE.__setitem__("c", -0.0) or (x,)], [])


_SHIFT = (1, 2)


def _tuple_of_numbers_changing_type():
    global _SHIFT
    _SHIFT = (1, 2)

    def retype():
        global _SHIFT
        _SHIFT = (1.0, 2)
        return (x,)

    x = tape.tensor([1, 2])
    return (lambda a: a * _SHIFT[0]), [lambda: (x,), retype], []


class _Scaler:
    scale = 2.0

    def forward(self, x):
        return x * self.scale


class _Base:
    eps = 2.0


class _Sub(_Base):
    def forward(self, x):
        return x * self.eps


class _Norm:
    eps = 2.0

    @classmethod
    def apply(cls, x):
        return x * cls.eps


def _instance_attribute_shadowing_the_class():
    m, x = _Scaler(), tape.tensor([1.0, 2.0])
    return (lambda a: m.forward(a)), [lambda: (x,), lambda: setattr(m, "scale", 9.0) or (x,)], []


def _method_replaced_on_the_instance():
    m, x = _Scaler(), tape.tensor([1.0, 2.0])
    return ((lambda a: m.forward(a)),
            [lambda: (x,), lambda: setattr(m, "forward", lambda v: v * 4.0) or (x,)], [])


def _subclass_attribute_shadowing_a_base_class():
    cls = type("Sub", (_Sub,), {})  # (a class of its own: the change stays in this case)
    m, x = cls(), tape.tensor([1.0, 2.0])
    return (lambda a: m.forward(a)), [lambda: (x,), lambda: setattr(cls, "eps", 5.0) or (x,)], []


def _classmethod_reading_the_class():
    cls = type("Norm", (_Norm,), {"eps": 2.0})
    x = tape.tensor([1.0, 2.0])
    return (lambda a: cls.apply(a)), [lambda: (x,), lambda: setattr(cls, "eps", 3.0) or (x,)], []


@dataclasses.dataclass(frozen=True)
class _Cfg:
    scale: float
    bias: float = dataclasses.field(default=0.0, compare=False)


def _argument_equal_but_not_the_same():
    x = tape.tensor([1.0, 2.0])
    return ((lambda a, cfg: a * cfg.scale + cfg.bias),
            [lambda: (x, _Cfg(2.0, 0.0)), lambda: (x, _Cfg(2.0, 5.0))], [])


def _gather_with_a_negative_index():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return ((lambda a, i: a.gather(0, i) * 2),
            [lambda: (x, tape.tensor([0, 2])), lambda: (x, tape.tensor([-1, 0]))], [x])


def _index_select_with_a_negative_index():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return ((lambda a, i: a.index_select(0, i) * 2),
            [lambda: (x, tape.tensor([0, 2])), lambda: (x, tape.tensor([-1, 0]))], [x])


def _saved_tensor_hooks_around_a_later_call():
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    hooks = []  # on for the calls after the first (the plan is recorded without them)

    def hooked(fn):
        def call(a):
            if not hooks:
                return fn(a)
            with saved_tensors_hooks(lambda t: t * 2, lambda t: t):  # the saved x doubled
                return fn(a)
        return call
    return (lambda a: a * a), [lambda: (x,), lambda: hooks.append(1) or (x,)], [x], hooked


def _value_read_through_a_format_spec():
    x, y = tape.tensor([1.0, 2.0]), tape.tensor([10.0, 30.0])
    return (lambda a: a * len(f"{a.sum():.3f}")), [lambda: (x,), lambda: (y,)], []


def _two_numbers_among_the_arguments():
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    return (lambda a, b, c: a * b * c), [lambda: (x, 2.0, 3.0), lambda: (x, 2.0, 4.0)], [x]


def _inner_compiled_replaying_while_the_outer_records():
    # the inner function replayed its plan inside the outer's recording: the outer saw none
    # of its ops, and every later backward raised "backward through the graph a second time"
    inner = tape.compile(lambda v: (v * 2).sin())
    inner(tape.tensor([0.1, 0.2], requires_grad=True))  # (inner has its plan already)
    x = tape.tensor([0.5, 1.5], requires_grad=True)
    return (lambda a: inner(a).exp() + a), [lambda: (x,)] * 3, [x]


def _keyword_arguments_in_another_order():
    a, b = tape.tensor([1.0]), tape.tensor([2.0])

    def fn(**kw):  # sees the order the keywords come in
        return tape.cat(list(kw.values()))
    return (lambda **kw: fn(**kw)), [], [], [lambda f: f(x=a, y=b), lambda f: f(y=b, x=a)]


def _an_inference_tensor_argument():
    w = tape.tensor([1.0, 2.0], requires_grad=True)
    with tape.inference_mode():
        it = tape.tensor([1.0, 2.0]) * 2  # eager: cannot be saved for backward
    return (lambda a: a * w), [lambda: (tape.tensor([3.0, 4.0]),), lambda: (it,)], [w]


class _Module:
    """Parameters kept in a dict and served by __getattr__, as torch's nn.Module keeps them."""

    def __init__(self, w):
        object.__setattr__(self, "_params", {"w": w})

    def __getattr__(self, name):
        try:
            return self._params[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self._params[name] = value

    def forward(self, x):
        return x * self.w


def _an_attribute_served_by_getattr():
    m = _Module(tape.tensor([1.0, 2.0], requires_grad=True))
    new = tape.tensor([10.0, 1.0], requires_grad=True)
    x = tape.tensor([1.0, 1.0])
    return (lambda a: m.forward(a)), [lambda: (x,), lambda: setattr(m, "w", new) or (x,)], [new]


class _Scale:
    def __init__(self, k):
        self.k = k


def _a_partials_object_and_keywords():
    import functools

    cfg = _Scale(2.0)
    p = functools.partial(lambda x, cfg, k: x * cfg.k + k, cfg=cfg, k=0.0)
    x = tape.tensor([1.0, 2.0])
    return p, [lambda: (x,), lambda: setattr(cfg, "k", 5.0) or (x,),
               lambda: p.keywords.__setitem__("k", 1.0) or (x,)], []


def _a_default_replaced():
    def fn(x, k=2.0):
        return x * k
    x = tape.tensor([1.0])
    return fn, [lambda: (x,), lambda: setattr(fn, "__defaults__", (3.0,)) or (x,)], []


def _a_module_made_at_run_time():
    import types

    cfg = types.ModuleType("cfg_made_at_run_time")  # (no __file__)
    cfg.k = 1.0
    x = tape.tensor([1.0])
    return (lambda a: a * cfg.k), [lambda: (x,), lambda: setattr(cfg, "k", 3.0) or (x,)], []


def _results_written_in_place():
    w = tape.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x = tape.tensor([[1.0, -1.0, 0.5], [0.25, 2.0, -3.0]])
    return (lambda a: (a @ w).mul_(2).add_(1)), [lambda: (x,)] * 3, [w]


def _vector_times_matrix():
    w = tape.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x = tape.tensor([1.0, -1.0, 0.5])
    return (lambda a: a @ w), [lambda: (x,)] * 3, [w]  # (torch's squeeze_: version 1)


def _a_plain_result_written_in_place():
    x = tape.tensor([1.0, -1.0, 0.5])
    return (lambda a: (a * 2).add_(1).mul_(3)), [lambda: (x,)] * 3, []


CASES = {
    "results written in place": _results_written_in_place,
    "a vector times a matrix": _vector_times_matrix,
    "a result without a gradient written in place": _a_plain_result_written_in_place,
    "one tensor as two arguments, then two": _same_tensor_twice,
    "an argument that is a parameter read from outside": _argument_is_a_closed_over_parameter,
    "one leaf given for two": _one_leaf_given_for_two,
    "-0.0 as an argument": _negative_zero_argument,
    "-0.0 read with item()": _negative_zero_read_with_item,
    "-0.0 in a global": _negative_zero_global,
    "a global tuple's item turning float": _tuple_of_numbers_changing_type,
    "an instance attribute shadowing the class's": _instance_attribute_shadowing_the_class,
    "a method replaced on the instance": _method_replaced_on_the_instance,
    "a subclass attribute shadowing a base class's": _subclass_attribute_shadowing_a_base_class,
    "a classmethod's cls.eps": _classmethod_reading_the_class,
    "an argument equal to the last but not the same": _argument_equal_but_not_the_same,
    "gather with a negative index": _gather_with_a_negative_index,
    "index_select with a negative index": _index_select_with_a_negative_index,
    "saved_tensors_hooks around a later call": _saved_tensor_hooks_around_a_later_call,
    "a value read through a format spec": _value_read_through_a_format_spec,
    "two numbers among the arguments": _two_numbers_among_the_arguments,
    "a compiled function replaying inside a recording": _inner_compiled_replaying_while_the_outer_records,
    "keyword arguments in another order": _keyword_arguments_in_another_order,
    "an inference tensor argument": _an_inference_tensor_argument,
    "an attribute served by __getattr__": _an_attribute_served_by_getattr,
    "a partial's object and keywords": _a_partials_object_and_keywords,
    "a default replaced": _a_default_replaced,
    "a module made at run time": _a_module_made_at_run_time,
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_compiled_agrees_with_eager_call_after_call(make):
    outcomes = []
    for compiled in (False, True):
        fn, steps, leaves, *wrap = make()
        if compiled:
            fn = tape.compile(fn)
        if wrap and isinstance(wrap[0], list):  # calls made with keywords: f -> result
            calls = wrap[0]
            steps, fn = [lambda: ()] * len(calls), _keyword_calls(fn, calls)
        elif wrap:
            fn = wrap[0](fn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (a fallback to eager says so)
            outcomes.append(_signed(_outcome(fn, steps, leaves)))
    assert outcomes[1] == outcomes[0]


def _keyword_calls(f, calls):
    """A function of no arguments making the next of `calls` (each f -> result) on f."""
    queue = list(calls)
    return lambda: queue.pop(0)(f)


@pytest.mark.parametrize("body", [
    lambda x: x.exp()[:2],  # a result that is a view of a saved value
    lambda x: x.tanh().reshape(-1),
    lambda x: x.sigmoid().t(),
    lambda x: (lambda h: (h[0], h[1]))(x.exp().reshape(2, 2)),  # two views of a saved base
    lambda x: (lambda h: (h.detach(), h.sum()))(x.exp()),
], ids=["slice", "reshape", "t", "two views of one base", "detach beside"])
def test_a_result_sharing_memory_with_a_saved_value_changed_in_place_raises(body):
    # eager's views share their base's version counter, so backward raises; the plan's
    # results did not, and its backward computed from the changed value
    for f in (body, tape.compile(body)):
        for _ in range(2):
            x = tape.tensor([0.1, 0.2, 0.3, 0.4], dtype=tape.float64, requires_grad=True)
            out = f(x)
            first = out[0] if isinstance(out, tuple) else out
            first.mul_(2)
            total = sum(o.sum() for o in out) if isinstance(out, tuple) else out.sum()
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                total.backward()


def test_results_viewing_one_base_share_its_version_counter():
    f = tape.compile(lambda x: (lambda h: (h[0], h[1]))(x.exp().reshape(2, 2)))
    for _ in range(2):
        a, b = f(tape.tensor([0.1, 0.2, 0.3, 0.4]))
        a.add_(1)
        assert (a._version, b._version) == (1, 1)  # as eager's views of h


def test_an_output_no_op_made_runs_eagerly_and_says_so():
    fn = lambda x: (x * 2, tape.ones(2))  # noqa: E731
    f = tape.compile(fn)
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="an output that no op inside the function produced"):
        got = f(x)
    assert [t.tolist() for t in got] == [[2.0, 4.0], [1.0, 1.0]]
    assert got[0].grad_fn.name() == "MulBackward0"  # eager's own graph


def test_a_float_key_tells_zeros_apart_and_nan_from_nothing():
    f = tape.compile(lambda a, c: a * c)
    x = tape.tensor([1.0])
    for c in (math.nan, math.nan, -0.0, 0.0, np.float32(-0.0)):
        f(x, c)
    # NaN is one plan (NaN != NaN would record on every call), the zeros three
    assert f.stats["recorded"] == 4


def test_a_leaf_a_compiled_function_reads_takes_its_gradient_once_per_backward():
    # its AccumulateGrad took a position after the plan's record: playback sank the second
    # call's contribution before the first's arrived (two accumulations, two hook calls,
    # and .grad an ulp off eager's old + (c1 + c2) on float64 sums)
    def run(compiled):
        w = tape.tensor([0.5, 1.5], dtype=tape.float64, requires_grad=True)
        calls = []
        w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
        inner = lambda x: (x * w).sin()  # noqa: E731
        inner = tape.compile(inner) if compiled else inner
        for i in range(3):
            x = tape.tensor([1.0, 2.0 + i], dtype=tape.float64)
            (inner(x).exp().sum() + inner(x * 2).sum()).backward()
        return calls

    assert run(True) == run(False)
    assert len(run(True)) == 3
