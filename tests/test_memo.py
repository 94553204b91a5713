"""Per-trial sampler memos keep every trial in flight, however many trials pass."""

from __future__ import annotations

from typing import Any

import pytest

import hyperdial as hd
from hyperdial.samplers import _memo


def test_memo_drops_finished_trials_only() -> None:
    study = hd.create_study(sampler=hd.samplers.Random(seed=0))
    memo = _memo.TrialMemo[int](limit=3)
    running = study.ask()
    memo.put(running.number, 100, study.history())
    for i in range(10):
        t = study.ask()
        memo.put(t.number, i, study.history())
        study.tell(t, 0.0)
    assert memo.get(running.number) == 100
    assert len(memo) <= 4


@pytest.mark.parametrize("make", [lambda: hd.samplers.Grid({"x": [0, 1, 2], "y": [0, 10, 20]}),
                                  lambda: hd.samplers.Auto(seed=0)])
def test_samplers_keep_a_trial_in_flight_past_the_limit(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memo, "MAX_REMEMBERED_TRIALS", 4)
    study = hd.create_study(sampler=make())
    slow = study.ask()
    slow.suggest_int("x", 0, 2)
    for _ in range(12):  # others start and finish meanwhile
        t = study.ask()
        study.tell(t, t.suggest_int("x", 0, 2) + t.suggest_int("y", 0, 20, step=10))
    memo = getattr(study.sampler, "_assigned", None) or study.sampler._by_trial
    assert memo.get(slow.number) is not None  # what it decided for the slow trial is still there
    assert len(memo) <= 5
