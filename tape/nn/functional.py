"""torch.nn.functional: the functions the op table registers under namespace="nn.functional"."""

from ..api import NAMESPACES as _NAMESPACES

globals().update(_NAMESPACES["nn.functional"])
