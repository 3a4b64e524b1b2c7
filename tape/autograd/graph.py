"""torch.autograd.graph: the Node type and the saved-tensor hooks.

Inside `saved_tensors_hooks(pack, unpack)` every tensor an op saves for backward goes
through `pack` when it is saved; `unpack` turns the packed object back into a tensor each
time the saved value is used (by the backward rule, by `grad_fn._saved_self`, by
`ctx.saved_tensors`). Only the innermost pair applies. The unpacked tensor is
re-attached to the graph as the saved one was (see hooks.unpack_saved), so double
backward works through it. Packing and unpacking themselves live in tape/hooks.py.
"""

from __future__ import annotations

import contextlib
import threading

from ..grad_mode import STATE
from ..grad_mode import untraceable as _untraceable
from ..graph import AccumulateGrad, Node
from ..hooks import USER_CODE as _USER_CODE
from ..hooks import RemovableHandle


class _Disabled(threading.local):
    message: str | None = None


_DISABLED = _Disabled()


class saved_tensors_hooks:  # noqa: N801 - torch's name
    """`pack_hook(tensor) -> anything` when a tensor is saved for backward;
    `unpack_hook(anything) -> tensor` when it is used."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _DISABLED.message is not None:
            raise RuntimeError(_DISABLED.message)
        _untraceable("saved_tensors_hooks inside the function")
        _USER_CODE[0] = True  # the unpack hook runs during backward
        STATE.saved_hooks = STATE.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return None

    def __exit__(self, *exc):
        STATE.saved_hooks = STATE.saved_hooks[:-1]
        return False


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """torch's hooks that keep saved tensors on the CPU: on tape, where every tensor is on
    the CPU already, they keep them as they are."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks(contextlib.ContextDecorator):  # noqa: N801
    """Inside, entering `saved_tensors_hooks` raises RuntimeError(error_message); entered
    while such hooks are already active, it raises so itself (as torch's). Also a decorator."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        if STATE.saved_hooks:
            raise RuntimeError(self.error_message)
        self._prev = _DISABLED.message
        _DISABLED.message = self.error_message
        return None

    def __exit__(self, *exc):
        _DISABLED.message = self._prev
        return False


__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks"]
