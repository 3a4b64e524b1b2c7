"""Anomaly detection: torch's NaN check in backward (message and the forward traceback it
prints), tape's forward check (`check_forward=True`, naming the op and the user's line),
and the op that made an in-place change named in the in-place error."""

import inspect
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

import tape

HERE = __file__


def _line_of(fn, text: str) -> int:
    """The line number in this file of the first line of `fn` containing `text`."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def last_frame(trace: str) -> str:
    """The code of the last frame in a forward trace (torch appends a 'Triggered' line)."""
    lines = [ln for ln in trace.rstrip().splitlines() if not ln.startswith(" (Triggered")]
    return lines[-1].strip()


def anomaly_enabled(m) -> bool:
    return (m.is_anomaly_enabled if m is torch else m.autograd.is_anomaly_enabled)()


def nan_in_backward(m):
    x = m.tensor([0.0, 1.0], requires_grad=True)
    with m.autograd.detect_anomaly():
        y = x.sqrt()  # the failing forward call
        (y * 0).sum().backward()  # 0 * inf = nan in SqrtBackward0


def run_capturing(fn, m):
    """fn(m)'s exception and the warnings it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            with pytest.raises(RuntimeError) as info:
                fn(m)
    return str(info.value), [str(w.message) for w in caught]


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_nan_in_backward_names_the_node_as_torch(mod):
    msg, warned = run_capturing(nan_in_backward, mod)
    assert msg == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert any(w.startswith("Anomaly Detection has been enabled") for w in warned)
    (trace,) = [w for w in warned if w.startswith("Error detected in SqrtBackward0")]
    assert "Traceback of forward call that caused the error:" in trace
    line = _line_of(nan_in_backward, "the failing forward call")
    assert f'File "{HERE}", line {line}, in nan_in_backward' in trace
    # the last frame is the user's line, not tape's internals
    assert last_frame(trace) == "y = x.sqrt()  # the failing forward call"


def test_the_forward_trace_is_printed_to_stderr():
    """Run as a script (no pytest warning capture): the trace reaches stderr, as torch's."""
    script = textwrap.dedent("""
        import numpy as np
        import tape
        x = tape.tensor([0.0, 1.0], requires_grad=True)
        try:
            with np.errstate(all="ignore"), tape.autograd.detect_anomaly():
                y = x.sqrt()
                (y * 0).sum().backward()
        except RuntimeError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert "Error detected in SqrtBackward0. Traceback of forward call that caused the error:" in done.stderr
    assert 'File "<string>", line 7, in <module>' in done.stderr


def nan_in_custom_backward(m):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = m.tensor([1.0, 2.0], requires_grad=True)
    with m.autograd.detect_anomaly():
        y = Bad.apply(x)  # the custom function's forward
        y.sum().backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_nan_in_a_custom_function(mod):
    msg, warned = run_capturing(nan_in_custom_backward, mod)
    assert msg == "Function 'BadBackward' returned nan values in its 0th output."
    (trace,) = [w for w in warned if w.startswith("Error detected in BadBackward")]
    assert "y = Bad.apply(x)  # the custom function's forward" in trace
    if mod is tape:  # torch's last frame is its own Function.apply; tape leaves its frames out
        assert last_frame(trace) == "y = Bad.apply(x)  # the custom function's forward"


def test_set_detect_anomaly_and_check_nan_false(mod):
    x = mod.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mod.autograd.set_detect_anomaly(True, check_nan=False):
            assert anomaly_enabled(mod)
            y = x.sqrt()
            with np.errstate(all="ignore"):
                (y * 0).sum().backward()  # no check: nan goes into .grad
        assert not anomaly_enabled(mod)
    assert np.isnan(x.grad.numpy()[0])


def test_without_anomaly_mode_nan_passes_silently(mod):
    x = mod.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_anomaly_mode_is_restored_on_exceptions(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            with mod.autograd.detect_anomaly():
                raise ValueError("boom")
    assert not anomaly_enabled(mod)


# ---------------------------------------------------------------------------------------
# tape's own: check_forward=True


def forward_nan(x):
    y = x * 2
    z = y.log()  # log of a negative number
    return z.exp()


def test_check_forward_stops_at_the_first_bad_forward_op():
    x = tape.tensor([1.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"), pytest.raises(RuntimeError) as info:
            with tape.autograd.detect_anomaly(check_forward=True):
                forward_nan(x)
    msg = str(info.value)
    line = _line_of(forward_nan, "y.log()")
    assert msg.startswith("Forward op 'log' (LogBackward0) produced nan values at ")
    assert f"{HERE}:{line} (in forward_nan): z = y.log()" in msg
    assert not tape.autograd.is_anomaly_enabled()


def test_check_forward_reports_inf_and_is_off_by_default():
    x = tape.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            with tape.autograd.detect_anomaly():
                y = x.log()  # -inf: fine without check_forward
            assert np.isinf(y.detach().numpy()[0])
            with pytest.raises(RuntimeError, match=r"Forward op 'log' \(LogBackward0\) produced inf"):
                with tape.autograd.detect_anomaly(check_forward=True):
                    x.log()


# ---------------------------------------------------------------------------------------
# In-place changes


def inplace_culprit(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = b.exp()
    d = c * b  # saves c and b
    c.mul_(2)  # the in-place change
    d.sum().backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_inplace_error_in_anomaly_mode(mod):
    def body(m):
        with m.autograd.detect_anomaly():
            inplace_culprit(m)

    msg, warned = run_capturing(body, mod)
    assert "modified by an inplace operation" in msg
    assert "which is output 0 of Mul, is at version 1; expected version 0 instead" in msg
    (trace,) = [w for w in warned if w.startswith("Error detected in MulBackward0")]
    assert last_frame(trace) == "d = c * b  # saves c and b"
    if mod is tape:  # tape names the op that changed it, and where
        line = _line_of(inplace_culprit, "the in-place change")
        assert ("It was changed in place by mul_ (MulBackward0, tape position" in msg
                and f"at {HERE}:{line} (in inplace_culprit): c.mul_(2)" in msg)


def test_inplace_error_names_the_change_of_a_saved_result():
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tape.autograd.detect_anomaly(), pytest.raises(RuntimeError) as info:
            y = (a * 1).exp()  # ExpBackward0 saves its result
            y.add_(1)
            y.sum().backward()
    msg = str(info.value)
    assert "It is 'result', saved by ExpBackward0" in msg
    assert "It was changed in place by add_ (AddBackward0" in msg and "y.add_(1)" in msg


def test_inplace_error_when_the_change_was_not_recorded():
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    y = b * b
    with tape.no_grad():
        b.mul_(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tape.autograd.detect_anomaly(), pytest.raises(RuntimeError) as info:
            y.sum().backward()
    assert "modified by an inplace operation" in str(info.value)
    assert "was not recorded" in str(info.value)


def test_inplace_error_without_anomaly_mode_hints_at_it(mod):
    a = mod.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    y = b * b
    b.mul_(3)
    with pytest.raises(RuntimeError, match="enable anomaly detection"):
        y.sum().backward()


def raising_custom_backward(m):
    class Boom(m.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("boom in backward")

    x = m.ones(2, requires_grad=True)
    with m.autograd.detect_anomaly():
        y = Boom.apply(x)  # the raising node's forward
        y.sum().backward()


@pytest.mark.parametrize("mod", [tape, torch], ids=["tape", "torch"])
def test_a_backward_that_raises_names_its_node(mod):
    """Not only NaN: any error raised by a node's backward in anomaly mode comes with the
    node's forward trace (torch's warning), then propagates unchanged."""
    msg, warned = run_capturing(raising_custom_backward, mod)
    assert msg == "boom in backward"
    (trace,) = [w for w in warned if w.startswith("Error detected in BoomBackward")]
    assert "y = Boom.apply(x)  # the raising node's forward" in trace
