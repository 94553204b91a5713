"""`hyperdial worker`: several real worker processes joining one study through its storage."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hyperdial as hd
from hyperdial import TrialState

OBJECTIVE = textwrap.dedent(
    """
    import os
    import hyperdial as hd

    def objective(trial):
        x = trial.suggest_float("x", -2, 2)
        trial.set_user_attr("pid", os.getpid())
        for step in range(3):
            trial.report(x * x + 1 / (step + 1), step)
        return x * x
    """
)


def _worker(tmp_path: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hyperdial", "--storage", url, "worker", "shared", *args],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_workers_share_a_study_toward_its_total(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(OBJECTIVE)
    url = f"sqlite:///{tmp_path}/shared.db"
    hd.create_study(study_name="shared", storage=url, heartbeat_interval=1)
    procs = [_worker(tmp_path, url, "--objective", "train:objective", "--n-trials", "30", "--n-trials-scope", "study",
                     "--sampler", "QMC", "--seed", "3") for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    trials = hd.load_study(study_name="shared", storage=url).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert 30 <= len(complete) <= 32  # the study's total, give or take the last race
    assert len({t.user_attrs["pid"] for t in complete}) >= 2
    assert all(len(t.intermediate_values) == 3 for t in complete)


def test_worker_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(OBJECTIVE)
    url = f"sqlite:///{tmp_path}/shared.db"
    hd.create_study(study_name="shared", storage=url)
    for args, fragment in [
        (["--objective", "train"], "must look like module:function"),
        (["--objective", "nosuchmodule:f"], "cannot import module 'nosuchmodule'"),
        (["--objective", "train:missing"], "has no 'missing'"),
        (["--objective", "train:objective", "--sampler", "Nope"], "unknown sampler 'Nope'"),
    ]:
        p = _worker(tmp_path, url, *args)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 1 and fragment in err and "Traceback" not in err, err


def test_a_file_in_the_directory_does_not_shadow_what_the_worker_imports(tmp_path: Path) -> None:
    """The directory is searched after sys.path: `sqlalchemy.py` next to train.py (imported by the
    worker after the objective, to open the storage) must not replace the real package."""
    script = Path(sys.executable).with_name("hyperdial")  # the console script: no cwd on sys.path of its own
    if not script.exists():
        pytest.skip("the hyperdial command is not installed next to this interpreter")
    (tmp_path / "train.py").write_text(OBJECTIVE)
    (tmp_path / "sqlalchemy.py").write_text("raise SystemExit('the local sqlalchemy.py was imported')\n")
    url = f"sqlite:///{tmp_path}/shared.db"
    hd.create_study(study_name="shared", storage=url)
    res = subprocess.run([str(script), "--storage", url, "worker", "shared", "--objective", "train:objective",
                          "--n-trials", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert len(hd.load_study(study_name="shared", storage=url).trials) == 2
