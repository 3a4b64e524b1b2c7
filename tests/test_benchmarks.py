"""Smoke test of benchmarks/suite.py: its smallest configuration, for correctness only.

Every backend's gradients must agree with the hand-written numpy floor on every workload
(tape eager, tape.compile when tape has it, torch, and HIPS autograd / MyGrad when they are
installed). Nothing here is timed and no speed is asserted: speed is reported, by the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_workloads as bw  # noqa: E402
import suite  # noqa: E402

SMOKE = bw.SIZES["smoke"]


@pytest.mark.parametrize("key", ["W1", "W2", "W3", "W4"])
def test_gradients_agree_across_backends(key):
    out = suite.run_workload(key, list(bw.BACKENDS), SMOKE, rounds=1, target=0.0, time_it=False)
    for backend, why in out["skipped"].items():
        # only a backend that is not there may be skipped; a failure or a disagreement fails
        assert bw.missing(backend) == why, f"{key} {backend}: {why}"
    assert "tape" in out["check"]
    for backend, err in out["check"].items():
        assert err <= 1.0, f"{key} {backend}: gradients off by {err:.3g} × tolerance"


@pytest.mark.parametrize("backend", ["tape", "numpy"])
def test_training_loop_runs(backend):
    r = suite.worker_rss(backend, SMOKE, import_torch=False)
    assert r["finite"]
    assert r["rss"][SMOKE["w5_steps"][-1]] > 0


def test_deep_chain_completes():
    assert suite.deep_chain(SMOKE["deep_ops"])["finite"]


def test_cli_smoke_run(tmp_path):
    """The one command, smallest configuration: checks gradients in this process and in a
    subprocess that must never import torch, and runs W5's workers; writes no docs."""
    path = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "suite.py"), "--smoke",
                           "--no-write", "--json", str(path)], cwd=ROOT, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rep = json.loads(path.read_text())
    assert rep["notorch"]["torch_imported"] is False
    assert [r for r in rep["w5"] if "error" in r] == []
    assert "| target | measured | single rounds | pass |" in proc.stdout
