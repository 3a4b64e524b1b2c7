"""Every ```python block in docs/*.md and README.md runs, so the docs show what tape does.

The blocks of one page run in order in one namespace (a page builds on its earlier
blocks), in a scratch directory (a block may write files). A block opts out only with a
first line `# docs-test: skip: <why>`; a skip without a reason fails. Blocks that draw need
the graphviz package, blocks that render need the `dot` program: without them the page is
skipped, not failed (CI installs both).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
SKIP = re.compile(r"^#\s*docs-test:\s*skip\b[\s:,-]*(?P<reason>.*)$")


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line of the first code line, language, code) for each fenced block, dedented."""
    out, lines, n = [], text.splitlines(), 0
    while n < len(lines):
        m = FENCE.match(lines[n])
        if not m:
            n += 1
            continue
        fence, start, body = m.group("fence"), n + 1, []
        n += 1
        while n < len(lines) and not lines[n].strip().startswith(fence):
            body.append(lines[n])
            n += 1
        n += 1  # the closing fence
        out.append((start + 1, m.group("info").lower(), textwrap.dedent("\n".join(body))))
    return out


def python_blocks(page: Path) -> list[tuple[int, str]]:
    return [(line, code) for line, lang, code in code_blocks(page.read_text(encoding="utf-8"))
            if lang in ("python", "py", "python3")]


def skip_reason(code: str) -> str | None:
    """The reason a block opts out, "" for a marker without one, None to run it."""
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    m = SKIP.match(first)
    return None if m is None else m.group("reason").strip()


def test_the_docs_have_code_to_run():
    assert ROOT / "README.md" in PAGES and len(PAGES) > 2
    assert len(python_blocks(ROOT / "docs" / "tutorial.md")) >= 10


def test_block_parser_and_skip_marker():
    text = "intro\n\n```python\nx = 1\n```\n\n  ```py\n  # docs-test: skip: needs a GPU\n  y = 2\n  ```\n" \
           "```bash\nls\n```\n````python\n# docs-test: skip\n````\n"
    blocks = code_blocks(text)
    assert [(line, lang) for line, lang, _ in blocks] == [(4, "python"), (8, "py"), (12, "bash"),
                                                          (15, "python")]
    assert blocks[1][2] == "# docs-test: skip: needs a GPU\ny = 2"
    assert skip_reason(blocks[0][2]) is None
    assert skip_reason(blocks[1][2]) == "needs a GPU"
    assert skip_reason(blocks[3][2]) == ""  # a marker without a reason: refused below


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_page_code_runs(page: Path, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for line, code in blocks:
        reason = skip_reason(code)
        if reason is not None:
            assert reason, f"{page.name}:{line}: a skipped block must say why (# docs-test: skip: why)"
            continue
        # padded so that a traceback points at the page's own line numbers
        compiled = compile("\n" * (line - 1) + code, str(page), "exec")
        try:
            exec(compiled, namespace)
        except ImportError as exc:
            if "tape[viz]" in str(exc):
                pytest.skip(f"{page.name}:{line} draws: needs pip install \"tape[viz]\"")
            raise
        except Exception as exc:
            if type(exc).__name__ == "ExecutableNotFound":  # graphviz: no dot program
                pytest.skip(f"{page.name}:{line} renders: needs Graphviz's dot")
            raise
