"""tape.compare (the CLI), tape._torch_shim (torch resolved to tape), docs/supported.md.

The CLI runs are subprocesses that import torch (seconds each), so the scripts of this
file run all at once in one fixture; the tests then read their results.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tomllib

from tape import compare as cli
from tape.compare import EXIT_CANNOT, EXIT_DIFFERENT, EXIT_MISSING, EXIT_SAME, line_difference
from tape.testing import TORCH_REQUIREMENT

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------
# printed lines


@pytest.mark.parametrize("a, b", [
    ("loss 0.1235", "loss 0.1234"),  # one unit in the last printed digit
    ("tensor([ 1.5000, -0.0000])", "tensor([1.5000, 0.0000])"),  # torch pads to a common width
    ("dtype=tape.float64", "dtype=torch.float64"),
    ("<MulBackward0 object at 0x7f00aa01>", "<MulBackward0 object at 0x7fffbb02>"),
    ("x 1.00000001e-05", "x 1e-05"),
    ("f nan", "f nan"),
    ("tensor([1000000.,       2.])", "tensor([1000000., 2.])"),
    ("tensor(0.0012)", "tensor(0.0013)"), ("step 1.2346e-05", "step 1.2345e-05"),  # four decimals
])
def test_lines_that_agree(a, b):
    assert line_difference(a, b, 1e-4, 1e-6) is None


@pytest.mark.parametrize("a, b, why", [
    ("step 41", "step 40", "41 vs 40"),  # integers are exact
    ("loss 0.1237", "loss 0.1234", "0.1237 vs 0.1234"),
    ("loss 0.1234", "cost 0.1234", "the text differs: tape has 'loss' where torch has 'cost'"),
    ("AddBackward0", "AddBackward", "the text differs: tape has 'AddBackward0' where torch has "
                                    "'AddBackward'"),
    ("x 1.5, 2", "x 1.5 2", "the text differs: tape has ',' where torch has ''"),
    # torch's whole-number floats are exact: off by one is a real difference
    ("tensor(8.)", "tensor(7.)", "8. vs 7."),
    ("grad tensor([3., 5.])", "grad tensor([2., 4.])", "3. vs 2."),
    # a short number is exact as printed: no allowance in its last digit
    ("acc 0.4", "acc 0.5", "0.4 vs 0.5"), ("lr 2e-05", "lr 1e-05", "2e-05 vs 1e-05"),
])
def test_lines_that_differ(a, b, why):
    assert line_difference(a, b, 1e-4, 1e-6) == why


def test_an_extra_line_shifts_nothing_after_it():
    rows = cli.compare_stdout("a 1\nextra\nb 2\nc 3\n", "a 1\nb 2\nc 3\n", 1e-4, 1e-6)
    assert [(r.what, r.ok) for r in rows] == [("1", True), ("2", False), ("3|2", True), ("4|3", True)]
    assert "torch printed no such line" in rows[1].detail


# ---------------------------------------------------------------------------------------
# Running scripts. The tape side always runs in a subprocess (the shim replaces `torch` in
# sys.modules); the torch side runs in this process, where torch is imported already, to
# spare a torch import per script. One script goes through the real CLI end to end (and
# tests/test_examples.py sends every example through it).

PROXY_SCRIPT = """
import sys
import torch
import torch.nn.functional as F
from torch import autograd, nn
from torch.autograd import Function
import torch.autograd.graph

x = torch.tensor([1.0, -2.0], requires_grad=True)
y = F.relu(x * 3).sum()
(g,) = autograd.grad(y, x)
print(type(x).__module__.split(".")[0], isinstance(x, torch.Tensor), nn.functional is F)
print(torch.autograd.graph.Node.__module__.split(".")[0], Function.__module__.split(".")[0])
print("real torch imported:", any(getattr(m, "__file__", None) and "site-packages/torch" in m.__file__
                                  for m in sys.modules.values()))
print(y.grad_fn.name(), g)
later = torch.optim  # a name tape lacks: no error until it is used
"""

MISSING = {
    "linalg": ("import torch\ntorch.linalg.solve(torch.eye(2), torch.ones(2))\n", "torch.linalg.solve"),
    "method": ("import torch\ntorch.ones(2).frobnicate()\n", "torch.Tensor.frobnicate"),
    "module": ("import torch.optim as optim\noptim.SGD([], lr=0.1)\n", "torch.optim.SGD"),
    "base_class": ("import torch\nclass Net(torch.nn.Module):\n    pass\n", "torch.nn.Module"),
    "keyword": ("import torch\ntorch.ones(2).sum(frobnicate=True)\n",
                "the keyword argument frobnicate= of sum()"),
    "from_import": ("from torch.linalg import solve\nx = solve + 1\n", "torch.linalg.solve"),
}

SCRIPTS = {
    "proxy": PROXY_SCRIPT,
    "raises": "import torch\nx = torch.ones(2)\nraise ValueError('mine')\n",
    "same": """
        import numpy as np
        import torch
        w = torch.tensor(np.linspace(-1, 1, 5), requires_grad=True)
        loss = (w.tanh() ** 2).sum()
        loss.backward()
        print("loss", loss.item(), "grad", w.grad)
        print(loss.grad_fn)
        """,
    "different": """
        import torch
        x = torch.ones(3)
        scale = 2.5 if type(x).__module__.startswith("tape") else 2.0
        for step in range(3):
            print("step", step, "value", (x * scale * step).sum().item())
        y = x * scale
        """,
    "same_error": """
        import torch
        a = torch.tensor([1.0], requires_grad=True)
        b = a.exp()
        c = b.sum()
        b.add_(1)
        c.backward()
        """,
    "other_error": """
        import torch
        tape = type(torch.ones(1)).__module__.startswith("tape")
        raise RuntimeError("an internal failure" if tape else "size mismatch")
        """,
    "none_in_one_run": """
        import torch
        x = torch.ones(2, 2)
        causal = None if type(x).__module__.startswith("tape") else x.tril()
        grads = [None, torch.ones(1)]
        """,
    "tape_raises": """
        import torch
        x = torch.ones(2)
        if type(x).__module__.startswith("tape"):
            raise KeyError("only with tape")
        print("done")
        """,
    **{f"missing_{k}": src for k, (src, _) in MISSING.items()},
}

CLI_SCRIPT = """
    import torch
    a = torch.eye(2)
    print("before")
    x = torch.linalg.solve(a, torch.ones(2))
    print("after")
    """


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> (tape's Run, torch's Run) for each of SCRIPTS; and "cli" -> (status, output)."""
    folder = tmp_path_factory.mktemp("scripts")
    paths = {}
    for name, source in {**SCRIPTS, "cli": CLI_SCRIPT}.items():
        paths[name] = folder / f"{name}.py"
        paths[name].write_text(textwrap.dedent(source))

    def real_cli():
        proc = subprocess.run([sys.executable, "-m", "tape.compare", "--color", "never",
                               str(paths["cli"])], capture_output=True, text=True, timeout=600)
        return proc.returncode, proc.stdout + proc.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        cli_future = pool.submit(real_cli)
        tape_runs = dict(zip(SCRIPTS, pool.map(lambda n: cli.run_subprocess("tape", str(paths[n])), SCRIPTS)))
        torch_runs = {n: cli.run_here(str(paths[n])) for n in SCRIPTS}  # here, while the others run
        out = {n: (tape_runs[n], torch_runs[n]) for n in SCRIPTS}
        out["cli"] = cli_future.result()
    return out


def _compared(runs, name) -> tuple[int, str]:
    tape_run, torch_run = runs[name]
    outcome = cli.compare_runs(tape_run, torch_run)
    return outcome.exit_code, cli.render(f"{name}.py", outcome, verbose=False, colour=False)


# ---------------------------------------------------------------------------------------
# the shim: torch resolved to tape


def test_every_torch_import_resolves_to_tape(runs):
    tape_run, _ = runs["proxy"]
    result = tape_run.result
    assert result["status"] == "ok", result["error"]
    assert tape_run.stdout.splitlines() == ["tape True True", "tape tape", "real torch imported: False",
                                            "SumBackward0 tensor([3., 0.])"]
    v = result["variables"]
    assert set(v) == {"x", "y", "g"}  # top-level tensors; modules and functions are not values
    assert v["g"].values.tolist() == [3.0, 0.0] and v["x"].requires_grad


@pytest.mark.parametrize("name", MISSING)
def test_a_missing_name_is_named(runs, name):
    result = runs[f"missing_{name}"][0].result
    assert result["status"] == "missing"
    assert result["error"]["feature"] == MISSING[name][1]
    assert result["error"]["where"].startswith(f"missing_{name}.py:")


def test_an_ordinary_error_is_not_a_missing_name(runs):
    result = runs["raises"][0].result
    assert result["status"] == "raised" and result["error"]["type"] == "ValueError"
    assert set(result["variables"]) == {"x"}  # what the script made before it failed


# ---------------------------------------------------------------------------------------
# comparing the runs


def test_agreement(runs):
    code, out = _compared(runs, "same")
    assert code == EXIT_SAME, out
    assert out.splitlines()[-1] == "same: 2 printed lines and 2 top-level values agree with torch"
    assert "loss" in out and "w.grad" in out and ">>" not in out


def test_difference(runs):
    code, out = _compared(runs, "different")
    assert code == EXIT_DIFFERENT, out
    first = [line for line in out.splitlines() if line.startswith(">>")]
    assert len(first) == 1 and first[0].split()[1] == "2"  # step 0 agrees (0 * anything)
    assert "step 1 value 7.5" in out and "step 1 value 6.0" in out
    assert out.splitlines()[-1] == "DIFFERENT: first divergence at stdout line 2: 7.5 vs 6.0"


def test_the_same_error_agrees(runs):
    code, out = _compared(runs, "same_error")
    assert code == EXIT_SAME, out
    assert "raised RuntimeError at same_error.py:7" in out


def test_errors_of_one_type_with_other_messages_differ(runs):
    code, out = _compared(runs, "other_error")
    assert code == EXIT_DIFFERENT, out
    assert "an internal failure" in out and "size mismatch" in out


def test_a_variable_that_is_none_in_one_run_is_compared_not_dropped(runs):
    code, out = _compared(runs, "none_in_one_run")
    assert code == EXIT_DIFFERENT, out
    assert out.splitlines()[-1] == ("DIFFERENT: first divergence at variables causal: type: tape NoneType, "
                                    "torch TensorSummary")
    assert "only the torch run defines it" not in out


def test_tapes_traceback_is_shown_when_only_tape_raises(runs):
    code, out = _compared(runs, "tape_raises")
    assert code == EXIT_DIFFERENT, out
    assert "tape's traceback (last lines):" in out and "KeyError: 'only with tape'" in out


def test_a_missing_name_is_exit_2(runs):
    code, out = _compared(runs, "missing_module")
    assert code == EXIT_MISSING and "tape lacks torch.optim.SGD" in out


def test_the_cli_end_to_end(runs):
    code, out = runs["cli"]
    assert code == EXIT_MISSING, out
    assert out.splitlines()[-1] == ("tape lacks torch.linalg.solve (used at cli.py:5), so the "
                                    "script cannot run with tape")
    assert "before" in out and "Traceback" not in out


def test_cli_without_torch(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    assert cli.main([__file__]) == EXIT_CANNOT
    err = capsys.readouterr().err
    assert "torch is not installed" in err and f"python -m pip install {TORCH_REQUIREMENT}" in err


def test_cli_without_a_script(capsys):
    assert cli.main(["no/such/script.py"]) == EXIT_CANNOT
    assert "no such script" in capsys.readouterr().err


def test_the_torch_pin_is_the_test_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert TORCH_REQUIREMENT in project["project"]["optional-dependencies"]["test"]


# ---------------------------------------------------------------------------------------
# docs/supported.md


def test_supported_md_is_generated_from_the_code():
    from tape._supported import supported_markdown

    generated = supported_markdown()
    committed = (ROOT / "docs" / "supported.md").read_text(encoding="utf-8")
    assert committed == generated, (
        "docs/supported.md is stale; regenerate it with\n"
        "    python -m tape.compare --supported > docs/supported.md")
    assert "**tape supports" in generated and "## Behaviours that differ" in generated
