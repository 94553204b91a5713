"""Collection rules for the whole tree (tests/ and the doctests under src/).

The files in TORCH_FILES import torch and the frameworks on it at their top (tests/conftest.py marks their
tests `torch`). Where those packages are missing (CI's Python 3.10 and 3.13 venvs: torch's CPU wheel exists
on this machine only for 3.11; or a plain `pip install -e '.[test]'`), the files are left uncollected and
the report header says so, so `python -m pytest` still runs everything else. A run that asks for them
(`-m torch`, as CI's 3.11 run does) without the packages fails loudly at import instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
TORCH_FILES = {
    "tests/integrations/test_transformers.py", "tests/integrations/test_lightning.py", "tests/integrations/tiny_torch.py",
    "tests/test_lora_example.py", "tests/test_checkpoints_torch.py", "src/hyperdial/integrations/transformers.py", "src/hyperdial/integrations/lightning.py",
}
TORCH_PACKAGES = ("torch", "transformers", "peft", "accelerate", "lightning")
# Stand-ins that a sweep child imports as the top-level `wandb` (hyperdial.sweeps.wandb_compat, wandb_real):
# imported by pytest as doctest modules, they would load (or shadow) the real package; their tests run them
# the way they are meant to run, as a child program's `import wandb`.
collect_ignore_glob = ["src/hyperdial/sweeps/wandb_compat/*", "src/hyperdial/sweeps/wandb_real/*"]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _missing() -> list[str]:
    return [name for name in TORCH_PACKAGES if not _installed(name)]


def _asks_for_torch(config: pytest.Config) -> bool:
    return "torch" in (config.option.markexpr or "").replace("not torch", "")


def pytest_report_header(config: pytest.Config) -> str | None:
    missing = _missing()
    if not missing or _asks_for_torch(config):
        return None
    return (f"torch tests not collected: {', '.join(missing)} not installed "
            "(pip install torch==2.13.0 -e '.[test,transformers,lightning]', then python -m pytest -m torch)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not collection_path.is_relative_to(ROOT):
        return None
    rel = collection_path.relative_to(ROOT).as_posix()
    if rel not in TORCH_FILES:
        return None
    return True if _missing() and not _asks_for_torch(config) else None
