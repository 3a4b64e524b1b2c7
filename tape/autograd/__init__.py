"""torch.autograd's surface: backward, grad, anomaly mode, graph, (Function, functional...)."""

from __future__ import annotations

from .. import graph as _graph_module  # noqa: F401
from ..anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ..engine import backward, grad
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import graph

__all__ = ["backward", "grad", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "graph", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]

from ..function import Function, FunctionCtx, once_differentiable  # noqa: E402

__all__ += ["Function", "FunctionCtx", "once_differentiable"]
