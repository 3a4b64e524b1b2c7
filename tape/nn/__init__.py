"""torch.nn's functional part: `tape.nn.functional` (no modules or parameters here)."""

from . import functional  # noqa: F401
