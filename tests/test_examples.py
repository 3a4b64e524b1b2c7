"""Every program in examples/ runs unchanged with torch and with tape, and the two agree:
`python -m tape.compare examples/NAME.py` would exit 0.

What the CLI does, minus one torch import per example: each example's tape run is the
CLI's own subprocess (`tape.compare.run_subprocess`), its torch run is the same shim code
in this process, where torch is imported already (`tape.compare.run_here`), and the
CLI's `compare_runs` judges them. One example also goes through `python -m tape.compare`
itself, end to end. The examples run all at once; a new file in examples/ is picked up.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tape
from tape import compare as cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# what an example needs beyond the core (checked first, so a missing one skips with its name)
NEEDS = {
    "digits_softmax.py": dict(modules=("sklearn",),
                              names=("nn.functional.cross_entropy", "nn.functional.softmax",
                                     "Tensor.argmax")),
}

# examples that show a known difference of tape's (strict: once fixed, drop the entry)
KNOWN_DIFFERENCES: dict[str, str] = {}  # example file -> why tape differs (strict xfail)


def _lacking(name: str) -> list[str]:
    needs = NEEDS.get(name, {})
    lacking = []
    for module in needs.get("modules", ()):
        try:
            __import__(module)
        except ImportError:
            lacking.append(f"the module {module}")
    for dotted in needs.get("names", ()):
        obj = tape
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            lacking.append(f"tape.{dotted}")
    return lacking


END_TO_END = "autograd_tutorial.py"


@pytest.fixture(scope="module")
def results():
    """example file name -> (exit status, what the CLI would print) for each runnable one."""

    def real_cli(path: Path):
        proc = subprocess.run([sys.executable, "-m", "tape.compare", "--color", "never", str(path)],
                              capture_output=True, text=True, timeout=900, cwd=ROOT)
        return proc.returncode, proc.stdout + proc.stderr

    runnable = [p for p in EXAMPLES if not _lacking(p.name)]
    out = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        end_to_end = {p.name: pool.submit(real_cli, p) for p in runnable if p.name == END_TO_END}
        tape_runs = {p.name: pool.submit(cli.run_subprocess, "tape", str(p)) for p in runnable}
        for p in runnable:  # the torch runs, here, while the tape runs go on
            torch_run = cli.run_here(str(p))
            outcome = cli.compare_runs(tape_runs[p.name].result(), torch_run)
            out[p.name] = (outcome.exit_code, cli.render(f"examples/{p.name}", outcome, verbose=False,
                                                         colour=False))
        for name, future in end_to_end.items():
            out[name + " (CLI)"] = future.result()
    return out


def _param(path: Path):
    marks = ()
    if path.name in KNOWN_DIFFERENCES:
        marks = pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[path.name])
    return pytest.param(path.name, marks=marks, id=path.stem)


@pytest.mark.parametrize("name", [_param(p) for p in EXAMPLES])
def test_example_agrees_with_torch(results, name):
    lacking = _lacking(name)
    if lacking:
        pytest.skip(f"{name} needs {', '.join(lacking)}")
    code, out = results[name]
    assert code == 0, f"python -m tape.compare examples/{name} would exit {code}:\n{out}"
    assert out.splitlines()[-1].startswith("same: ")


def test_an_example_through_the_cli_itself(results):
    code, out = results[END_TO_END + " (CLI)"]
    assert code == 0, out
    assert out.rstrip("\n") == results[END_TO_END][1].replace(
        f"examples/{END_TO_END}", str(ROOT / "examples" / END_TO_END))


def test_there_are_examples_of_each_kind():
    names = {p.name for p in EXAMPLES}
    assert {"polyfit.py", "custom_function.py", "digits_softmax.py", "newton.py",
            "graph_inspection.py", "autograd_tutorial.py"} <= names
    assert len(names) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_take_no_data_from_torchs_generator(path):
    # torch's and tape's random numbers differ by design (docs/supported.md)
    source = path.read_text()
    assert not re.search(r"\b(manual_seed|randn?|randint|rand_like|randn_like|normal_|uniform_)\(",
                         source), f"{path.name} draws random numbers"
