"""The README's first-use path, as written: `hyperdial demo` and the README's example, one
after the other in one folder (both default to ./hyperdial.db), in real processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hyperdial as hd

README = Path(__file__).resolve().parents[1] / "README.md"
# The example leaves the training to the reader; a tiny stand-in with the same signature.
TRAIN = "import random\n\ndef train_one_epoch(lr, layers, optimizer):\n    return lr * layers + random.random()\n\n"


def readme_example() -> str:
    match = re.search(r"## A short example\n\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, "the README lost its example"
    return TRAIN + match.group(1)


def _run(args: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPERDIAL_STORAGE"}
    res = subprocess.run([sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]


def test_demo_and_readme_example_share_a_folder(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    (tmp_path / "example.py").write_text(readme_example())
    _run(["example.py"], tmp_path)
    _run(["-m", "hyperdial", "demo", "--n-trials", "3"], tmp_path)
    _run(["example.py"], tmp_path)  # and again after the demo: it continues its own study
    url = f"sqlite:///{tmp_path / 'hyperdial.db'}"
    studies = {s.name: s for s in hd.get_all_studies(url)}
    assert len(studies) == 2
    assert sorted(s.directions[0] for s in studies.values()) == ["maximize", "minimize"]


def test_readme_preset_three_liner_runs_as_written(tmp_path: Path) -> None:
    match = re.search(r"From established defaults, in three lines.*?```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, "the README lost its preset example"
    stand_in = ("import math\n\ndef train(config):\n"
                "    return (math.log10(config['lr']) + 3) ** 2 + config['dropout']\n\n")
    code = match.group(1).replace("n_trials=40", "n_trials=12")
    (tmp_path / "preset_example.py").write_text(code.replace("import hyperdial as hd\n", "import hyperdial as hd\n" + stand_in, 1))
    res = subprocess.run([sys.executable, "preset_example.py"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Preset adam v" in res.stdout and "Defaults (trial 0)" in res.stdout
