"""`optimize(deterministic=True)`: the same seeded study whatever order the trials finish in."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd

sys.path.insert(0, str(Path(__file__).parent))
import executor_objectives as objectives

SAMPLERS = {
    "Auto": lambda: hd.samplers.Auto(seed=3),
    "TPE": lambda: hd.samplers.TPE(seed=3, n_startup_trials=4),
    "GP": lambda: hd.samplers.GP(seed=3, n_startup_trials=4),
    "CMAES": lambda: hd.samplers.CMAES(seed=3, n_startup_trials=4),
    "Random": lambda: hd.samplers.Random(seed=3),
}


def _run(tmp_path: Path, name: str, tag: str, executor: Any, n_trials: int, **kwargs: Any) -> list[tuple[Any, ...]]:
    study = hd.create_study(study_name="d", storage=f"sqlite:///{tmp_path}/{name}-{tag}.db", sampler=SAMPLERS[name](),
                            pruner=hd.pruners.Median(n_startup_trials=3))
    study.optimize(objectives.jittered, n_trials=n_trials, n_jobs=3, executor=executor, deterministic=True,
                   show_progress_bar=False, **kwargs)
    return [(t.number, t.state, t.params, t.values, t.intermediate_values) for t in study.trials]


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_threads_give_the_same_study_twice(tmp_path: Path, name: str) -> None:
    first = _run(tmp_path, name, "a", "thread", 18)
    assert first == _run(tmp_path, name, "b", "thread", 18)
    assert len({str(params) for _, _, params, _, _ in first}) >= 15  # it searched, not repeated one point


def test_processes_give_the_same_study_as_threads(tmp_path: Path) -> None:
    threads = _run(tmp_path, "TPE", "t", "thread", 12)
    assert threads == _run(tmp_path, "TPE", "p1", "process", 12)
    assert threads == _run(tmp_path, "TPE", "p2", "process", 12)


def test_without_it_threads_diverge(tmp_path: Path) -> None:
    """What the mode is for: the same seeded TPE with three threads, not deterministic, differs
    between two runs once trials finish in another order (checked over a few tries)."""
    def run(tag: str) -> list[dict[str, Any]]:
        study = hd.create_study(storage=f"sqlite:///{tmp_path}/{tag}.db", sampler=hd.samplers.TPE(seed=0, n_startup_trials=4))
        study.optimize(objectives.jittered, n_trials=18, n_jobs=3, show_progress_bar=False)
        return [t.params for t in study.trials]

    assert any(run(f"a{i}") != run(f"b{i}") for i in range(3))


def test_deterministic_must_be_a_bool() -> None:
    with pytest.raises(hd.InvalidParameterError, match="`deterministic` must be a bool"):
        hd.create_study().optimize(objectives.slow, n_trials=1, deterministic="yes")  # type: ignore[arg-type]


def test_a_dask_cluster_gives_the_same_study_as_threads(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = _run(tmp_path, "TPE", "dask", hd.executors.Dask(client), 12)
    assert on_dask == _run(tmp_path, "TPE", "threads", "thread", 12)
