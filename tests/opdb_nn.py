"""Op database entries: torch.nn.functional (ops/nn.py).

Tensor inputs of a sample are the differentiable ones (float arrays) and class-index targets
(integer arrays); class weights, pos_weight and loss weights are keyword arguments given as
tuples, made into tensors of the input's dtype that do not require grad (torch refuses
gradients for them). Options that the table cannot express (option matrices, stability
with large logits, dropout's random mask) are in test_nn_functional.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from opdb import UNARY, OpInfo, S, uniform

# ---------------------------------------------------------------------------------------
# numpy references


def _erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _np_gelu(a, approximate="none"):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))
    return 0.5 * a * (1 + _erf(a / math.sqrt(2)))


def _np_log_sigmoid(a):
    return np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))


def _np_log_softmax(a, dim):
    if a.ndim == 0:
        return np.zeros_like(a)
    m = np.max(a, axis=dim, keepdims=True, initial=-np.inf)
    s = a - m
    return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _np_softmax(a, dim, dtype=None):
    return np.exp(_np_log_softmax(a, dim))


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss) if loss.size else np.nan
    return np.sum(loss) if reduction == "sum" else loss


def _np_mse(a, b, reduction="mean", weight=None):
    e = (a - b) ** 2
    if weight is not None:
        e = e * np.asarray(weight)
        return e.sum() / np.sum(weight) if reduction == "mean" else _reduce(e, reduction)
    return _reduce(e, reduction)


def _np_l1(a, b, reduction="mean", weight=None):
    e = np.abs(a - b)
    if weight is not None:
        e = e * np.asarray(weight)
        return e.sum() / np.sum(weight) if reduction == "mean" else _reduce(e, reduction)
    return _reduce(e, reduction)


def _np_nll(x, t, weight=None, ignore_index=-100, reduction="mean"):
    cdim = 1 if x.ndim >= 2 else 0
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = np.take_along_axis(x, np.expand_dims(safe, cdim), axis=cdim).squeeze(cdim)
    w = (np.ones(safe.shape) if weight is None else np.asarray(weight)[safe]) * valid
    terms = np.where(valid, -picked * w, 0.0)
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return terms.sum() / w.sum()


def _np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    cdim = 1 if x.ndim >= 2 else 0
    logp = _np_log_softmax(x, cdim)
    n = x.shape[cdim]
    wshape = [1] * x.ndim
    wshape[cdim] = n
    wb = 1.0 if weight is None else np.asarray(weight).reshape(wshape)
    if t.dtype.kind == "f":  # class probabilities
        t = t * (1 - label_smoothing) + label_smoothing / n
        per = -(logp * t * wb).sum(axis=cdim)
        if reduction == "mean":
            return per.sum() / (x.size // n) if x.size else np.nan
        return _reduce(per, reduction)
    nll = _np_nll(logp, t, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    valid = t != ignore_index
    smooth = np.where(valid, -(logp * wb).sum(axis=cdim), 0.0)
    if reduction == "mean":
        safe = np.where(valid, t, 0)
        denom = valid.sum() if weight is None else (np.asarray(weight)[safe] * valid).sum()
        smooth = smooth.sum() / denom
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n)


def _np_bce(x, t, weight=None, pos_weight=None, reduction="mean"):
    ls = _np_log_sigmoid(x)
    if pos_weight is not None:
        ls = ls * ((np.asarray(pos_weight) - 1) * t + 1)
    loss = (1 - t) * x - ls
    if weight is not None:
        loss = loss * np.asarray(weight)
    return _reduce(loss, reduction)


def _np_linear(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


# ---------------------------------------------------------------------------------------
# calling through a module: option tuples become tensors of the input's dtype


def _tensor_kw(m, x, k, names=("weight", "pos_weight")):
    k = dict(k)
    for name in names:
        if k.get(name) is not None:
            k[name] = m.tensor(np.asarray(k[name]), dtype=x.dtype)
    return k


def _loss(name, *, names=("weight", "pos_weight")):
    def fn(m, x, t, **k):
        with warnings.catch_warnings():  # broadcast targets: torch's size warning
            warnings.simplefilter("ignore", UserWarning)
            return getattr(m.nn.functional, name)(x, t, **_tensor_kw(m, x, k, names))

    return fn


def _nnf(name):
    """m.nn.functional.NAME; a `dtype` given by name becomes the module's dtype."""

    def fn(m, *xs, **k):
        if isinstance(k.get("dtype"), str):
            k["dtype"] = getattr(m, k["dtype"])
        return getattr(m.nn.functional, name)(*xs, **k)

    return fn


_REDUCTION_NAMES = ("none", "mean", "sum")  # torch's Reduction enum
_T = np.array  # class-index targets: integer arrays are constant inputs
_W3 = (0.5, 2.0, 1.0)
_W4 = (0.5, 2.0, 1.0, 1.5)
_LARGE = np.array([[1e4, 0.0, -1e4], [-3e4, 2e4, 2e4]])

ENTRIES = (
    # ---- activations ----
    OpInfo(name="nn.relu", nodes=("ReluBackward0",), fn=_nnf("relu"), ref=lambda a: np.maximum(a, 0),
           domain=uniform(), samples=UNARY,
           inplace=lambda m, x: m.nn.functional.relu(x, inplace=True)),
    OpInfo(name="nn.gelu", nodes=("GeluBackward0",), fn=_nnf("gelu"), ref=_np_gelu,
           domain=uniform(-3.0, 3.0),
           samples=UNARY + (S((2, 3), approximate="tanh"), S((), approximate="tanh"),
                            S((2, 3), approximate="none"),
                            S(np.array([-40.0, -8.0, 0.0, 8.0, 40.0]), approximate="tanh"),
                            S(np.array([-40.0, -8.0, 0.0, 8.0, 40.0])))),
    OpInfo(name="nn.silu", nodes=("SiluBackward0",), fn=_nnf("silu"), ref=lambda a: a / (1 + np.exp(-a)),
           domain=uniform(-4.0, 4.0), samples=UNARY + (S(np.array([-800.0, -40.0, 0.0, 40.0, 800.0])),),
           inplace=lambda m, x: m.nn.functional.silu(x, inplace=True)),
    OpInfo(name="nn.logsigmoid", nodes=("LogSigmoidBackward0",), fn=_nnf("logsigmoid"), ref=_np_log_sigmoid,
           domain=uniform(-4.0, 4.0), samples=UNARY + (S(np.array([-800.0, -40.0, 0.0, 40.0, 800.0])),)),
    # ---- softmax / log_softmax: one node each, stable for large logits ----
    OpInfo(name="nn.softmax", nodes=("SoftmaxBackward0",), fn=_nnf("softmax"),
           ref=_np_softmax,
           samples=(S((2, 3), dim=1), S((2, 3), dim=0), S((2, 3, 4), dim=-1), S((), dim=0), S((5,), dim=-1),
                    S((0, 3), dim=1), S((2, 0), dim=1), S(_LARGE, dim=1), S(_LARGE, dim=0),
                    S((2, 3), dim=1, dtype="float64"))),
    OpInfo(name="nn.log_softmax", nodes=("LogSoftmaxBackward0",), fn=_nnf("log_softmax"),
           ref=lambda a, dim, dtype=None: _np_log_softmax(a, dim),
           samples=(S((2, 3), dim=1), S((2, 3), dim=0), S((2, 3, 4), dim=-2), S((), dim=-1), S((5,), dim=0),
                    S((0, 3), dim=1), S(_LARGE, dim=1), S(_LARGE, dim=0),
                    S((2, 3), dim=1, dtype="float64"))),
    OpInfo(name="softmax", nodes=("SoftmaxBackward0",), fn=lambda m, x, dim: m.softmax(x, dim),
           ref=_np_softmax, samples=(S((3, 4), dim=-1),)),
    OpInfo(name="log_softmax_method", nodes=("LogSoftmaxBackward0",),
           fn=lambda m, x, dim: x.log_softmax(dim), ref=_np_log_softmax, samples=(S((3, 4), dim=0),)),
    # ---- mse_loss (one node), l1_loss (sub, abs, mean/sum as torch composes it) ----
    OpInfo(name="nn.mse_loss", nodes=("MseLossBackward0", "ExpandBackward0"), fn=_loss("mse_loss"),
           ref=_np_mse, broadcasting=True,
           samples=(S((2, 3), (2, 3)), S((2, 3), (2, 3), reduction="sum"),
                    S((2, 3), (2, 3), reduction="none"),
                    S((), ()), S((2, 3), (3,)), S((2, 1), (2, 3), reduction="none"), S((0, 3), (0, 3)),
                    S((0, 3), (0, 3), reduction="sum"))),
    OpInfo(name="nn.mse_loss_weight", nodes=("PowBackward0", "MulBackward0", "DivBackward0", "SumBackward0"),
           fn=_loss("mse_loss"), ref=_np_mse,
           samples=(S((2, 3), (2, 3), weight=((1.0, 2.0, 0.5), (0.0, 1.0, 3.0))),
                    S((3,), (3,), weight=_W3, reduction="sum"), S((3,), (3,), weight=_W3, reduction="none"))),
    OpInfo(name="nn.l1_loss", nodes=("AbsBackward0", "SubBackward0", "MeanBackward0", "SumBackward0"),
           fn=_loss("l1_loss"), ref=_np_l1, broadcasting=True,
           samples=(S((2, 3), (2, 3)), S((2, 3), (2, 3), reduction="sum"),
                    S((2, 3), (2, 3), reduction="none"),
                    S((), ()), S((2, 3), (3,)), S((3,), (3,), weight=_W3))),
    # ---- nll_loss: NllLossBackward0 for 1-d / 2-d inputs, NllLoss2DBackward0 (+ views) beyond ----
    OpInfo(name="nn.nll_loss", nodes=("NllLossBackward0", "NllLoss2DBackward0", "ViewBackward0"),
           fn=_loss("nll_loss"), ref=_np_nll,
           samples=(S((3, 4), _T([0, 3, 1])), S((3, 4), _T([0, 3, 1]), reduction="sum"),
                    S((3, 4), _T([0, 3, 1]), reduction="none"), S((4,), _T(2)),
                    S((4,), _T(2), reduction="none"),
                    S((3, 4), _T([0, -100, 1])), S((3, 4), _T([2, 3, 1]), ignore_index=3),
                    S((3, 4), _T([0, 3, 1]), weight=_W4),
                    S((3, 4), _T([0, 3, 3]), weight=_W4, reduction="none"),
                    S((3, 4), _T([0, 3, 1]), weight=_W4, ignore_index=1),
                    S((2, 3, 4), _T([[0, 1, 2, 0], [2, 2, 1, 0]])),
                    S((2, 3, 4), _T([[0, 1, 2, 0], [2, 2, 1, 0]]), reduction="none"),
                    S((2, 3, 2, 2), _T([[[0, 1], [2, 0]], [[1, 1], [2, 0]]]), weight=_W3),
                    S((2, 3, 2, 2), _T([[[0, 1], [2, 0]], [[1, 1], [2, 0]]]), reduction="none"),
                    S((2, 3, 1, 2, 1), _T([[[[0], [1]]], [[[2], [2]]]]), reduction="sum"),
                    S((0, 4), _T(np.zeros(0, np.int64)), reduction="sum"),
                    S((3, 4), _T([0, 3, 1]).astype(np.uint8)),
                    # every target ignored: the mean is 0/0 (NaN), the gradient zeros
                    S((2, 3), _T([-100, -100]), gradcheck=False))),
    # ---- cross_entropy: log_softmax, then nll_loss (class indices) or -sum(p * logp) ----
    OpInfo(name="nn.cross_entropy",
           nodes=("NllLossBackward0", "LogSoftmaxBackward0", "NllLoss2DBackward0", "ViewBackward0"),
           fn=_loss("cross_entropy"), ref=_np_cross_entropy,
           samples=(S((3, 4), _T([0, 3, 1])), S((3, 4), _T([0, 3, 1]), reduction="sum"),
                    S((3, 4), _T([0, 3, 1]), reduction="none"), S((4,), _T(2)),
                    S((3, 4), _T([0, -100, 1])), S((3, 4), _T([0, 3, 1]), weight=_W4, ignore_index=3),
                    S((2, 3, 4), _T([[0, 1, 2, 0], [2, 2, 1, 0]])),
                    S((2, 3, 2, 2), _T([[[0, 1], [2, 0]], [[1, 1], [2, 0]]]), reduction="none"),
                    S(_LARGE, _T([0, 1])))),
    OpInfo(name="nn.cross_entropy_smoothing",
           nodes=("AddBackward0", "MulBackward1", "NllLossBackward0", "LogSoftmaxBackward0",
                  "MaskedFillBackward0", "NegBackward0", "SumBackward1", "SumBackward0", "DivBackward0",
                  "MulBackward0", "ViewBackward0", "NllLoss2DBackward0"),
           fn=_loss("cross_entropy"), ref=_np_cross_entropy,
           samples=(S((3, 4), _T([0, 3, 1]), label_smoothing=0.2),
                    S((3, 4), _T([0, -100, 1]), label_smoothing=0.1, reduction="sum"),
                    S((3, 4), _T([0, -100, 1]), label_smoothing=0.1, reduction="none"),
                    S((3, 4), _T([0, 3, 1]), label_smoothing=0.3, weight=_W4),
                    S((3, 4), _T([0, 2, 1]), label_smoothing=0.3, weight=_W4, ignore_index=2),
                    S((4,), _T(1), label_smoothing=0.5),
                    S((2, 3, 4), _T([[0, 1, 2, 0], [2, 2, 1, 0]]), label_smoothing=0.1, reduction="none"),
                    S((3, 4), _T([0, 3, 1]), label_smoothing=1.0))),
    OpInfo(name="nn.cross_entropy_probs",
           nodes=("DivBackward1", "NegBackward0", "SumBackward0", "SumBackward1", "MulBackward0",
                  "LogSoftmaxBackward0", "AddBackward1", "MulBackward1"),
           fn=_loss("cross_entropy"), ref=_np_cross_entropy, domain=(uniform(), uniform(0.0, 1.0)),
           samples=(S((3, 4), (3, 4)), S((3, 4), (3, 4), reduction="sum"),
                    S((3, 4), (3, 4), reduction="none"),
                    S((4,), (4,)), S((3, 4), (3, 4), label_smoothing=0.2), S((3, 4), (3, 4), weight=_W4),
                    S((2, 3, 2), (2, 3, 2), weight=_W3), S((4,), (4,), weight=_W4, reduction="none"),
                    S((0, 4), (0, 4), reduction="sum"))),
    # ---- binary_cross_entropy_with_logits: one node, from log_sigmoid (stable) ----
    OpInfo(name="nn.binary_cross_entropy_with_logits", nodes=("BinaryCrossEntropyWithLogitsBackward0",),
           fn=_loss("binary_cross_entropy_with_logits"), ref=_np_bce,
           domain=(uniform(-3.0, 3.0), uniform(0.0, 1.0)),
           samples=(S((2, 3), (2, 3)), S((2, 3), (2, 3), reduction="sum"),
                    S((2, 3), (2, 3), reduction="none"),
                    S((), ()), S((2, 3), (2, 3), pos_weight=_W3), S((2, 3), (2, 3), weight=((1.0,), (2.0,))),
                    S((2, 3), (2, 3), weight=_W3, pos_weight=_W3, reduction="sum"), S((0, 3), (0, 3)),
                    S(_LARGE, np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.25]]), pos_weight=_W3))),
    OpInfo(name="binary_cross_entropy_with_logits", nodes=("BinaryCrossEntropyWithLogitsBackward0",),
           fn=lambda m, x, t, **k: m.binary_cross_entropy_with_logits(x, t, **_tensor_kw(m, x, k)),
           ref=lambda a, b, reduction=0, **k: _np_bce(a, b, reduction=_REDUCTION_NAMES[reduction], **k),
           domain=(uniform(-3.0, 3.0), uniform(0.0, 1.0)),
           samples=(S((2, 3), (2, 3)), S((2, 3), (2, 3), reduction=1), S((2, 3), (2, 3), pos_weight=_W3,
                                                                         reduction=2))),
    # ---- linear: addmm for 2-d inputs / contiguous inputs with a vector bias, else matmul ----
    OpInfo(name="nn.linear",
           nodes=("AddmmBackward0", "TBackward0", "ViewBackward0", "MmBackward0", "SqueezeBackward4",
                  "UnsafeViewBackward0", "MvBackward0", "AddBackward0"),
           fn=_nnf("linear"), ref=_np_linear,
           samples=(S((2, 3), (4, 3), (4,)), S((2, 3), (4, 3)), S((3,), (4, 3), (4,)), S((3,), (4, 3)),
                    S((5, 2, 3), (4, 3), (4,)), S((5, 2, 3), (4, 3)), S((2, 2, 2, 3), (4, 3), (4,)),
                    S((2, 3), (4, 3), (1, 4)), S((5, 2, 3), (4, 3), (1, 4)), S((5, 2, 3), (4, 3), ()),
                    S((5, 2, 3), (4, 3), (2, 4)), S((2, 3), (3,)), S((0, 3), (4, 3), (4,)),
                    S((2, 3), (4, 3), ()))),
    # a non-contiguous input takes torch's matmul path, the bias added in place
    OpInfo(name="nn.linear_strided", nodes=("AddBackward0", "UnsafeViewBackward0", "CloneBackward0"),
           fn=lambda m, x, w, b: m.nn.functional.linear(x.transpose(1, 2), w, b),
           ref=lambda a, w, b: _np_linear(np.swapaxes(a, 1, 2), w, b),
           samples=(S((5, 3, 2), (4, 3), (4,)),)),
    OpInfo(name="addmm", nodes=("AddmmBackward0",), fn=lambda m, b, x, y, **k: m.addmm(b, x, y, **k),
           ref=lambda b, x, y, beta=1, alpha=1: beta * b + alpha * (x @ y),
           samples=(S((2, 4), (2, 3), (3, 4)), S((4,), (2, 3), (3, 4), beta=0.5, alpha=2.0),
                    S((), (1, 2), (2, 1)),
                    S((2, 1), (2, 0), (0, 3)))),
    # ---- dropout: deterministic cases only (the random mask: test_nn_functional.py) ----
    OpInfo(name="nn.dropout", nodes=("MulBackward0",), fn=_nnf("dropout"),
           ref=lambda a, p=0.5, training=True: a * 0.0 if training and p == 1 else a,
           samples=(S((2, 3), p=0.0), S((2, 3), p=0.5, training=False), S((2, 3), p=1.0), S((0, 3), p=0.5),
                    S((), p=0.0))),
    OpInfo(name="dropout", nodes=("MulBackward0",), fn=lambda m, x, p, train: m.dropout(x, p, train),
           ref=lambda a, p, train: a * 0.0 if train and p == 1 else a,
           samples=(S((2, 3), p=0.3, train=False), S((2, 3), p=0.0, train=True), S((3,), p=1.0, train=True))),
)
