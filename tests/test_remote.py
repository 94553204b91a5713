"""The worker side of remote execution (`executors.remote`), driven directly."""

from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path
from typing import Any

import hyperdial as hd
from hyperdial.executors.remote import RemoteTask, run_remote_trial


class Constant:
    """A sampler that proposes one value for every parameter: which sampler a trial used shows."""

    def __init__(self, value: float) -> None:
        self.value = value

    def sample(self, history: Any, trial: Any, space: dict[str, Any]) -> dict[str, float]:
        return dict.fromkeys(space, self.value)


def _objective(trial: hd.Trial) -> float:
    a = trial.suggest_float("a", 0, 1)
    time.sleep(0.2)  # the other thread's task starts here
    return a + trial.suggest_float("b", 0, 1)


def test_threads_of_one_worker_keep_their_own_sampler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    study = hd.create_study(study_name="r", storage=url)
    trials = [study.ask(), study.ask()]
    tasks = [RemoteTask(storage_url=url, study_name="r", trial_id=t.trial_id, func=_objective,
                        sampler=pickle.dumps(Constant(v)), pruner=hd.pruners.Nop())
             for t, v in zip(trials, (0.1, 0.9))]
    threads = [threading.Thread(target=run_remote_trial, args=(task,)) for task in tasks]
    for th in threads:
        th.start()
        time.sleep(0.05)
    for th in threads:
        th.join()
    done = hd.load_study(study_name="r", storage=url).trials
    assert [(t.params["a"], t.params["b"]) for t in done] == [(0.1, 0.1), (0.9, 0.9)]
