"""Synchronous successive halving and Hyperband with pause and promote, on real training (SGD on the
digits with checkpoints): the rung accounting of the papers, promotions that resume their checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import scheduler_objectives as objectives
from scheduler_checks import check_synchronous, hyperband_brackets

import hyperdial as hd

R, ETA = objectives.MAX_EPOCHS, 3


def _study(tmp_path: Path, scheduler: object, name: str = "hb") -> hd.Study:
    hd.set_verbosity(30)
    return hd.create_study(study_name=name, storage=f"sqlite:///{tmp_path}/{name}.db", scheduler=scheduler,
                           sampler=hd.samplers.Random(seed=1))


def test_brackets_follow_the_paper() -> None:
    hb = hd.schedulers.Hyperband(min_resource=1, max_resource=81, reduction_factor=3)
    paper = hyperband_brackets(1, 81, 3)  # JMLR 2018, Table 1: n = 81, 34, 15, 8, 5
    assert hb.configs_per_bracket() == [n for n, _ in paper] == [81, 34, 15, 8, 5]
    assert [hb.rungs(b) for b in range(5)] == [rungs for _, rungs in paper]
    with pytest.raises(hd.InvalidParameterError, match="max_resource"):
        hd.schedulers.Hyperband(min_resource=4, max_resource=2)


def test_hyperband_one_cycle(tmp_path: Path) -> None:
    hb = hd.schedulers.Hyperband(min_resource=1, max_resource=R, reduction_factor=ETA,
                                 n_configs=sum(n for n, _ in hyperband_brackets(1, R, ETA)))
    study = _study(tmp_path, hb)
    study.optimize(objectives.sgd_digits, n_trials=1000, show_progress_bar=False)  # n_configs ends it
    got = check_synchronous(study, hyperband_brackets(1, R, ETA), ETA)
    assert got["trials"] == sum(hb.trials_per_bracket()) == 13 + 6 + 3
    assert study.best_value == min(t.value for t in study.trials if t.value is not None and t.state == hd.TrialState.COMPLETE)


@pytest.mark.parametrize("executor", ["thread", pytest.param("process", marks=pytest.mark.slow)])
def test_successive_halving_with_two_workers(tmp_path: Path, executor: str) -> None:
    sh = hd.schedulers.SuccessiveHalving(min_resource=1, max_resource=R, reduction_factor=ETA, n_configs=18)
    study = _study(tmp_path, sh)
    study.optimize(objectives.sgd_digits, n_trials=1000, n_jobs=2, executor=executor, show_progress_bar=False)
    check_synchronous(study, [(9, [1, 3]), (9, [1, 3])], ETA)


def test_a_partial_last_bracket_completes(tmp_path: Path) -> None:
    sh = hd.schedulers.SuccessiveHalving(min_resource=1, max_resource=R, reduction_factor=ETA, n_configs=5)
    study = _study(tmp_path, sh)
    study.optimize(objectives.sgd_digits, n_trials=1000, show_progress_bar=False)
    check_synchronous(study, [(5, [1, 3])], ETA)  # 5 at rung 1, 1 at rung 3, 1 completes
