"""tape: reverse-mode autodiff on numpy with PyTorch's autograd API, built on a Wengert tape.

`import tape` behaves like `import torch` for the subset in API.md. Beyond torch: the tape
itself (`tape.TAPE`, `tape.wengert`), the tour (`python -m tape.tour`).
"""

from __future__ import annotations

from . import api as _api
from . import autograd  # noqa: E402  (after Tensor exists)
from ._dtypes import (
    bool_ as bool,  # noqa: A004 - torch.bool
)
from ._dtypes import (
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    set_default_dtype,
    uint8,
)
from .creation import (
    arange,
    as_tensor,
    device,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    is_tensor,
    linspace,
    manual_seed,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    seed,
    strided,
    tensor,
    zeros,
    zeros_like,
)
from .creation import layout as layout
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradient_tape import GradientTape
from .recording import TAPE
from .tensor import Size, Tensor

half, float, double = float16, float32, float64  # noqa: A001 - torch's aliases
short, int, long = int16, int32, int64  # noqa: A001

globals().update(_api.FUNCTIONS)

__version__ = "0.1.0"
from . import cuda, nn, viz, wengert  # noqa: E402  (nn.functional; the Wengert-list view)
from ._format import set_printoptions
from .anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .compiled import compile
