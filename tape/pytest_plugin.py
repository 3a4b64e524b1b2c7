"""pytest plugin: run a test body with tape and with torch.

Register it in a conftest.py (or with `-p tape.pytest_plugin`):

    pytest_plugins = ["tape.pytest_plugin"]

Then:

- the fixture `mod` is `tape` and then `torch`: a test that takes `mod` runs once with each
  (ids `[tape]` and `[torch]`; the torch run is skipped when torch is not installed);

      def test_mul(mod):
          a = mod.tensor(2.0, requires_grad=True)
          (a * 3).backward()
          assert float(a.grad) == 3.0

- `@pytest.mark.both` makes one test of the two runs that also compares them: the body runs
  with `mod=tape` and with `mod=torch`, each must pass its own asserts, and what the two
  return must agree (values, dtypes, shapes, grad_fn names, graph shapes, errors returned as
  values) within `rtol`/`atol` (`@pytest.mark.both(rtol=1e-5)`; default: per dtype, as
  torch.testing). The failure shows the side-by-side table of `tape.testing`.

      @pytest.mark.both
      def test_tanh_grad(mod):
          x = mod.tensor([0.5, -1.0], requires_grad=True)
          x.tanh().sum().backward()
          return x.grad

- the fixture `same_as_torch` is `tape.testing.assert_same_as_torch`.
"""

from __future__ import annotations

import pytest

from .testing import assert_same_as_torch, compare_results, summarize

IDS = ("tape", "torch")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "both(rtol=None, atol=None): run the test with tape and with torch (as `mod`) "
                   "and compare what the two runs return")


def _module(name: str):
    if name == "tape":
        import tape

        return tape
    return pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test]')")


def _has_own_mod_params(metafunc) -> bool:
    """`mod` parametrized elsewhere: by the test (`@pytest.mark.parametrize("mod", ...)`) or
    by a conftest's own parametrized `mod` fixture, which overrides ours (ours has no params).
    Leave that parametrization alone."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "mod" in names:
            return True
    defs = metafunc._arg2fixturedefs.get("mod", ())
    return bool(defs) and defs[-1].params is not None


def pytest_generate_tests(metafunc):
    if "mod" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("both"):
        return
    if _has_own_mod_params(metafunc):
        return
    metafunc.parametrize("mod", IDS, indirect=True)


@pytest.fixture
def mod(request):
    """`tape` or `torch` (parametrized by pytest_generate_tests); tape for `both` tests,
    whose runs the plugin makes itself."""
    return _module(getattr(request, "param", "tape"))


@pytest.fixture
def same_as_torch():
    """`tape.testing.assert_same_as_torch`: compare(fn, *inputs) and assert it agrees."""
    return assert_same_as_torch


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    marker = pyfuncitem.get_closest_marker("both")
    if marker is None:
        return None
    if "mod" not in pyfuncitem._fixtureinfo.argnames:
        raise pytest.UsageError(f"{pyfuncitem.nodeid}: a @pytest.mark.both test takes `mod`")
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    results = {}
    for name in IDS:
        module = _module(name)
        try:
            results[name] = summarize(pyfuncitem.obj(**dict(args, mod=module)))
        except Exception as exc:  # say which module's run failed
            raise AssertionError(f"the test failed with mod={name}: {type(exc).__name__}: {exc}") from exc
    report = compare_results(results["tape"], results["torch"], rtol=marker.kwargs.get("rtol"),
                             atol=marker.kwargs.get("atol"), what="returned")
    if not report.ok:
        pytest.fail("tape and torch returned different results\n" + str(report), pytrace=False)
    return True
