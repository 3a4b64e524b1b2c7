"""torch.autograd.function: where torch programs import `once_differentiable` from
(`from torch.autograd.function import once_differentiable`). The code is tape/function.py."""

from __future__ import annotations

from ..function import Function, FunctionCtx, once_differentiable
from ..graph import BackwardCFunction

__all__ = ["BackwardCFunction", "Function", "FunctionCtx", "once_differentiable"]
