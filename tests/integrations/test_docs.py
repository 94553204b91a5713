"""Every Python snippet of docs/integrations.md runs as written, each in a fresh namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def _first_line(code: str) -> str:
    return next(line for line in code.splitlines() if line.startswith(("from hyperdial.integrations", "import")))


def test_the_page_has_snippets() -> None:
    assert len(SNIPPETS) >= 4


# MLflow's SQLite store configures its mappers with a loader strategy SQLAlchemy 2.1 deprecates.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{DOC.name}:{_first_line(code)}", "exec"), {"__name__": "__docs__"})  # noqa: S102 - our own docs
    assert capsys.readouterr().out.strip(), "a snippet should show its result"
