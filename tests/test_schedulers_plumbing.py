"""The scheduler plumbing: a pruner's PAUSE, the scheduler hook, successors and their dedupe,
and a scheduler's WAIT / DONE in `optimize` (real SQLite; the algorithms: test_schedulers_*.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import hyperdial as hd
from hyperdial.pruners import Decision
from hyperdial.schedulers import NextTrial
from hyperdial.system_attrs import DUPLICATE_OF, PAUSED, RESUME_FROM, SKIPPED, SUCCESSOR_OF


class PauseAt:
    """Pauses every trial at `step` (and stops none); a successor (any trial with a predecessor) runs on."""

    def __init__(self, step: int) -> None:
        self.step = step

    def should_prune(self, history: hd.History, trial: hd.FrozenTrial) -> bool:
        return self.decision(history, trial) != Decision.CONTINUE

    def decision(self, history: hd.History, trial: hd.FrozenTrial) -> Decision:
        if SUCCESSOR_OF in trial.system_attrs or trial.last_step is None or trial.last_step < self.step:
            return Decision.CONTINUE
        return Decision.PAUSE


class PromoteAll:
    """Continues every paused trial; records what it saw."""

    def __init__(self, step: int = 2) -> None:
        self.pruner = PauseAt(step)
        self.seen: list[tuple[int, str]] = []

    def on_trial_finished(self, study: hd.Study, trial: hd.FrozenTrial) -> None:
        self.seen.append((trial.number, trial.state.name))
        if PAUSED in trial.system_attrs:
            study.enqueue_successor(trial)


def objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    start = 2 if SUCCESSOR_OF in trial.system_attrs else 0  # a successor goes on where its trial paused
    for step in range(start + 1, 6):
        trial.report(x + step, step=step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return x + 5


def test_default_decision_comes_from_should_prune() -> None:
    from hyperdial import _plugins

    h = hd.History(["minimize"], [])
    t = hd.FrozenTrial(number=0, state=hd.TrialState.RUNNING, intermediate_values={1: 1.0})
    assert _plugins.decision(hd.pruners.Nop(), h, t) == Decision.CONTINUE
    assert _plugins.decision(hd.pruners.Threshold(upper=0.5), h, t) == Decision.STOP


def test_paused_trial_is_recorded_and_promoted(tmp_path: Path) -> None:
    sched = PromoteAll(step=2)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/p.db", scheduler=sched, seed=0)
    assert study.pruner is sched.pruner and study.scheduler is sched
    study.optimize(objective, n_trials=4, show_progress_bar=False)
    trials = study.trials
    # 0 pauses at 2, 1 continues 0 (claimed first: queued trials go before new ones), and so on
    assert [t.state for t in trials] == [hd.TrialState.PRUNED, hd.TrialState.COMPLETE] * 2
    paused, successor = trials[0], trials[1]
    assert paused.system_attrs[PAUSED] == 2 and PAUSED not in successor.system_attrs
    assert successor.system_attrs[SUCCESSOR_OF] == 0 and successor.system_attrs[RESUME_FROM] == 0
    assert successor.params == paused.params
    assert sorted(successor.intermediate_values) == [3, 4, 5]  # the curve goes on from step 2
    assert sched.seen == [(0, "PRUNED"), (1, "COMPLETE"), (2, "PRUNED"), (3, "COMPLETE")]
    assert study.enqueue_successor(paused) is None  # one successor per trial


def test_a_stopped_trial_is_not_paused() -> None:
    study = hd.create_study(pruner=hd.pruners.Threshold(upper=0.5))
    study.optimize(objective, n_trials=1, show_progress_bar=False)
    assert PAUSED not in study.trials[0].system_attrs


def test_a_pause_the_objective_ignored_is_not_recorded() -> None:
    study = hd.create_study(pruner=PauseAt(1))
    t = study.ask()
    t.report(1.0, step=1)
    assert t.should_prune()
    t.report(1.0, step=2)
    assert study.tell(t, 1.0).state == hd.TrialState.COMPLETE
    assert PAUSED not in study.trials[0].system_attrs
    t = study.ask()
    t.report(1.0, step=1)
    assert t.should_prune()
    assert study.tell(t, state=hd.TrialState.PRUNED).system_attrs[PAUSED] == 1


def test_duplicate_successors_run_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    study = hd.create_study(storage=url, study_name="d")
    t = study.ask()
    t.suggest_float("x", 0, 1)
    paused = study.tell(t, state=hd.TrialState.PRUNED)
    # Two processes that promoted trial 0 at the same moment: each queued a successor.
    twin = hd.open_study(study_name="d", storage=url)
    first = study.enqueue_successor(paused)
    assert first is not None
    storage, sid = study.storage, study.storage.get_study("d").study_id
    storage.create_trial(sid, template=hd.FrozenTrial(number=-1, state=hd.TrialState.WAITING,
                                                      system_attrs=dict(first.system_attrs)))
    run = twin.ask()  # the lowest-numbered successor runs
    assert run.number == first.number
    other = study.ask()  # the duplicate ends before its objective; a new trial is handed out instead
    assert other.number == 3 and SUCCESSOR_OF not in other.system_attrs
    dup = study.trials[2]
    assert dup.state == hd.TrialState.PRUNED and dup.system_attrs[DUPLICATE_OF] == 1


def test_enqueue_successor_checks_its_arguments() -> None:
    study = hd.create_study()
    t = study.ask()
    with pytest.raises(hd.InvalidParameterError, match="must be finished"):
        study.enqueue_successor(t.number)
    study.tell(t, state=hd.TrialState.PRUNED)
    with pytest.raises(hd.InvalidParameterError, match="resume_from"):
        study.enqueue_successor(0, resume_from=7)
    with pytest.raises(hd.InvalidParameterError, match="not a trial number"):
        study.enqueue_successor(5)
    made = study.enqueue_successor(0, params={"lr": 0.1}, user_attrs={"why": "exploit"})
    assert made is not None and made.user_attrs == {"why": "exploit"}


def test_scheduler_arguments_are_checked() -> None:
    with pytest.raises(hd.InvalidParameterError, match="on_trial_finished"):
        hd.create_study(scheduler=object())
    with pytest.raises(hd.InvalidParameterError, match="its own"):
        hd.create_study(scheduler=PromoteAll(), pruner=hd.pruners.Nop())
    with pytest.raises(hd.InvalidParameterError, match="instance"):
        hd.create_study(scheduler=PromoteAll)


class Gate:
    """WAIT while a trial runs, START up to `n` trials, then DONE."""

    pruner = None

    def __init__(self, n: int) -> None:
        self.n = n
        self.answers: list[str] = []

    def next_trial(self, history: hd.History) -> NextTrial:
        if len(history.trials) >= self.n:
            answer = NextTrial.DONE
        elif history.running:
            answer = NextTrial.WAIT
        else:
            answer = NextTrial.START
        self.answers.append(answer.value)
        return answer

    def on_trial_finished(self, study: hd.Study, trial: hd.FrozenTrial) -> None:
        pass


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_next_trial_waits_and_ends_optimize(n_jobs: int) -> None:
    gate = Gate(5)
    study = hd.create_study(scheduler=gate, seed=0)

    def slow(trial: hd.Trial) -> float:
        import time

        time.sleep(0.05)
        return trial.suggest_float("x", 0, 1)

    study.optimize(slow, n_trials=100, n_jobs=n_jobs, show_progress_bar=False)
    assert len(study.trials) == 5  # DONE ended the run long before n_trials
    spans = [(t.datetime_start, t.datetime_complete) for t in study.trials]
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and start is not None and start >= end  # WAIT: never two at once
    if n_jobs > 1:
        assert "wait" in gate.answers


def test_wait_ends_with_the_timeout() -> None:
    class Forever(Gate):
        def next_trial(self, history: hd.History) -> NextTrial:
            return NextTrial.WAIT

    study = hd.create_study(scheduler=Forever(1))
    study.optimize(lambda t: 0.0, timeout=0.3, show_progress_bar=False)
    assert study.trials == []




def test_a_trial_the_scheduler_does_not_admit_never_runs() -> None:
    class OnlyEven(Gate):
        def admit(self, history: hd.History, trial: hd.FrozenTrial) -> bool:
            return trial.number % 2 == 0

    ran: list[int] = []
    gate = OnlyEven(100)
    study = hd.create_study(scheduler=gate)
    def objective(trial: hd.Trial) -> float:
        ran.append(trial.number)
        return 0.0

    study.optimize(objective, n_trials=4, show_progress_bar=False)
    assert ran == [0, 2]
    skipped = [t for t in study.trials if SKIPPED in t.system_attrs]
    assert [t.number for t in skipped] == [1, 3] and all(t.state == hd.TrialState.PRUNED for t in skipped)
