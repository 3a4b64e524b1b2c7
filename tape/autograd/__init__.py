"""torch.autograd's surface: backward, grad, Function, anomaly mode, graph (Node,
saved_tensors_hooks), functional (jacobian, hessian, vjp, jvp, vhp, hvp), gradcheck."""

from __future__ import annotations

from .. import graph as _graph_module  # noqa: F401
from ..anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ..engine import backward, grad
from ..function import Function, FunctionCtx, once_differentiable
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import function, functional, graph
from .gradcheck import gradcheck, gradgradcheck  # GradcheckError: in .gradcheck, as torch

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "function", "graph",
           "functional", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode"]
