"""`samplers.PerBracket`: under Hyperband, the wrapped sampler sees only its trial's bracket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.history import History
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial


class Recorder:
    """A real (random) sampler that also records which trials each proposal's history held."""

    joint_sampling = True

    def __init__(self) -> None:
        self.random = hd.samplers.Random(seed=0)
        self.seen: list[tuple[int, list[int], dict[str, Distribution]]] = []

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        self.seen.append((trial.number, [t.number for t in history.trials], history.joint_space()))
        return self.random.sample(history, trial, space)


def _objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    for step in range(1, 10):
        trial.report((x - 1) ** 2 + 1 / step, step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return (x - 1) ** 2


def test_each_proposal_sees_only_its_own_bracket() -> None:
    hb = hd.pruners.Hyperband(min_resource=1, max_resource=9, reduction_factor=3)
    rec = Recorder()
    study = hd.create_study(sampler=hd.samplers.PerBracket(rec, hb), pruner=hb)
    study.optimize(_objective, n_trials=40, show_progress_bar=False)
    assert len(rec.seen) == 40
    brackets_used = set()
    for number, others, joint in rec.seen:
        mine = hb.bracket_of(number)
        brackets_used.add(mine)
        assert all(hb.bracket_of(n) == mine for n in others)
        if number >= 10:
            assert list(joint) == ["x"]  # the study's joint space, even where the bracket has no finished trial
    assert brackets_used == set(range(hb.n_brackets()))
    # and the history really was cut: the late proposals saw fewer trials than the study had
    last_number, last_seen, _ = rec.seen[-1]
    assert 0 < len(last_seen) < last_number
    assert sum(t.state == hd.TrialState.PRUNED for t in study.trials) > 0


def test_unknown_brackets_show_the_whole_history() -> None:
    # max_resource="auto": no brackets until a trial completes, so the base sees every trial
    hb = hd.pruners.Hyperband(min_resource=1)
    rec = Recorder()
    study = hd.create_study(sampler=hd.samplers.PerBracket(rec, hb), pruner=hb)
    for _ in range(3):  # three running trials, none finished
        study.ask().suggest_float("x", -3, 3)
    assert [len(others) for _, others, _ in rec.seen] == [1, 2, 3]  # every trial so far, the asking one included


def test_tpe_per_bracket_finds_the_optimum() -> None:
    hb = hd.pruners.Hyperband(min_resource=1, max_resource=9)
    sampler = hd.samplers.PerBracket(hd.samplers.TPE(seed=1), hb)
    study = hd.create_study(sampler=sampler, pruner=hb)
    study.optimize(_objective, n_trials=80, show_progress_bar=False)
    assert abs(study.best_params["x"] - 1) < 0.3
    assert sampler.seed == 1 and "PerBracket(TPE" in repr(sampler)


@pytest.mark.parametrize("base, pruner, message", [
    (object(), hd.pruners.Hyperband(), "`base` must be a sampler"),
    (hd.samplers.TPE(), hd.pruners.ASHA(), "`pruner` must be a Hyperband pruner"),
])
def test_arguments_are_checked(base: Any, pruner: Any, message: str) -> None:
    with pytest.raises(hd.exceptions.InvalidParameterError, match=message):
        hd.samplers.PerBracket(base, pruner)
