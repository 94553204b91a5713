"""`optimize` without `n_jobs` on a cluster executor keeps as many trials in flight as the
cluster offers. A real LocalCluster of two single-threaded worker processes; overlap is
read from the trials' own start/end times, not from wall time."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import hyperdial as hd

TESTS_DIR = str(Path(__file__).parent)
sys.path.insert(0, TESTS_DIR)
import executor_objectives as objectives


def _peak(spans: list[list[float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def test_dask_runs_as_many_trials_as_it_has_worker_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")]))
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = hd.executors.Dask(cluster.scheduler_address)
        study.optimize(objectives.gpu_probe, n_trials=6, executor=executor, show_progress_bar=False)  # 0.3 s each
    spans = [t.user_attrs["span"] for t in study.trials]
    assert len(spans) == 6
    assert _peak(spans) == 2  # side by side, and never more than the cluster's two threads
