"""Hook registration: handles with `.remove()`, hooks stored on the record or the leaf."""

from __future__ import annotations

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Returned by every register_* call; `.remove()` unregisters the hook."""

    __slots__ = ("_table", "id")

    def __init__(self, table: dict, hid: int):
        self._table = table
        self.id = hid

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(table: dict, fn) -> RemovableHandle:
    hid = next(_ids)
    table[hid] = fn
    return RemovableHandle(table, hid)


def register_tensor_hook(t, fn) -> RemovableHandle:
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._rec is None:
        return add_hook(t._extras().hooks, fn)
    from .recording import extras

    return add_hook(extras(t._rec).tensor_hooks.setdefault(t._idx, {}), fn)


def register_post_accumulate_hook(t, fn) -> RemovableHandle:
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._rec is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    return add_hook(t._extras().post_acc_hooks, fn)
