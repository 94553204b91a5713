"""Trials record their worker and Auto's choice; the dashboard shows both (real SQLite, real threads)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from starlette.testclient import TestClient

import hyperdial as hd
from hyperdial import system_attrs
from hyperdial._execution import worker_name
from hyperdial.storage.memory import InMemoryStorage
from hyperdial.visualization import data as viz_data


def _objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -2.0, 2.0)
    time.sleep(0.01)  # both threads hold a trial at once
    return (x - 0.5) ** 2


def test_auto_choice_and_worker_over_http(tmp_path: Path) -> None:
    hd.set_verbosity(logging.ERROR)
    url = f"sqlite:///{tmp_path / 'auto.db'}"
    study = hd.create_study(study_name="auto", storage=url, sampler=hd.samplers.Auto(seed=0, gp_max_trials=6))
    study.optimize(_objective, n_trials=10, show_progress_bar=False)
    threaded = hd.create_study(study_name="threads", storage=url, seed=0)
    threaded.optimize(_objective, n_trials=8, n_jobs=2, show_progress_bar=False)

    with TestClient(hd.dashboard.create_app(url)) as client:
        ids = {s["name"]: s["study_id"] for s in client.get("/api/studies").json()}
        choices = client.get(f"/api/studies/{ids['auto']}/choices").json()["choices"]
        # GP from the first trial with a search space, then CMA-ES once gp_max_trials COMPLETE trials exist
        assert [(c["trial"], c["to"], c["algorithm"]) for c in choices] == [(1, 5, "GP"), (6, None, "CMAES")]
        assert choices[0]["reason"] == "flat numeric space of 1 joint parameters, 1 < 6 trials"
        assert choices[1]["reason"] == "numeric space, a long run (6 trials)"
        # the trial page shows the choice in effect, and where it was made
        t3 = client.get(f"/api/studies/{ids['auto']}/trials/3").json()
        assert t3["sampler_choice"] == {**choices[0], "since": 1}
        assert t3["worker"] == worker_name()  # one thread: the process itself
        assert client.get(f"/api/studies/{ids['auto']}/trials/0").json()["sampler_choice"] is None

        workers = {client.get(f"/api/studies/{ids['threads']}/trials/{n}").json()["worker"] for n in range(8)}
        assert workers == {worker_name() + "/hyperdial_0", worker_name() + "/hyperdial_1"}


def test_two_thread_timeline_has_a_lane_per_worker(tmp_path: Path) -> None:
    hd.set_verbosity(logging.ERROR)
    study = hd.create_study(storage=f"sqlite:///{tmp_path / 't.db'}", seed=0)
    study.optimize(_objective, n_trials=8, n_jobs=2, show_progress_bar=False)
    data = viz_data.compute_for_study("timeline", study)
    assert data["lane_source"] == "recorded"
    assert sorted(data["lanes"]) == [worker_name() + "/hyperdial_0", worker_name() + "/hyperdial_1"]
    by_worker = {t.number: t.system_attrs[system_attrs.WORKER] for t in study.trials}
    assert [data["lanes"][lane] for lane in data["lane"]] == [by_worker[n] for n in data["number"]]


class _CountingStorage(InMemoryStorage):
    """Counts trial attribute writes: the boundary the worker record must not add to."""

    def __init__(self) -> None:
        super().__init__()
        self.attr_writes: list[str] = []

    def set_trial_attr(self, trial_id: int, key: str, value: object, *, system: bool = False) -> None:
        self.attr_writes.append(key)
        super().set_trial_attr(trial_id, key, value, system=system)


def test_worker_costs_no_extra_write_when_asked_where_it_runs() -> None:
    storage = _CountingStorage()
    study = hd.create_study(storage=storage, sampler=hd.samplers.Random(seed=0))
    study.optimize(_objective, n_trials=5, show_progress_bar=False)
    assert storage.attr_writes == []  # stored in create_trial's write
    assert {t.system_attrs[system_attrs.WORKER] for t in study.trials} == {worker_name()}
    study.optimize(_objective, n_trials=4, n_jobs=2, show_progress_bar=False)
    assert storage.attr_writes == [system_attrs.WORKER] * 4  # asked in the driver, run in a pool thread
