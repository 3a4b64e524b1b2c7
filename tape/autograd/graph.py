"""torch.autograd.graph: the Node type and saved_tensors_hooks."""

from __future__ import annotations

from ..grad_mode import STATE
from ..graph import AccumulateGrad, Node


class saved_tensors_hooks:  # noqa: N801 - torch's name
    """Inside, every value saved for backward goes through `pack` when saved and through
    `unpack` when the backward uses it."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        STATE.saved_hooks = STATE.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        STATE.saved_hooks = STATE.saved_hooks[:-1]
        return False


__all__ = ["Node", "AccumulateGrad", "saved_tensors_hooks"]
