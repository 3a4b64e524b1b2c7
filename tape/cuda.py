"""`tape.cuda`: what torch.cuda answers on a machine without CUDA, so the usual
`device = "cuda" if torch.cuda.is_available() else "cpu"` runs unchanged: tape computes on
the CPU (numpy) only."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeds nothing: torch's call, without CUDA, is silently deferred and never runs."""


def manual_seed_all(seed: int) -> None:
    """As manual_seed."""
