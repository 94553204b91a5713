"""`hd.samplers.Staged`: the most impactful parameters first, the rest held at their defaults."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.history import History
from hyperdial.samplers import Stage, Staged, default_stages

sys.path.insert(0, str(Path(__file__).parent))
import executor_objectives as objectives

SPACE = {"a": hd.Float(0.0, 1.0), "b": hd.Int(1, 8), "c": hd.Categorical(["p", "q", "r"])}
DEFAULTS = {"a": 0.5, "b": 2, "c": "p"}
PRIORITY = ("a", "b", "c")


def _value(config: Mapping[str, Any]) -> float:
    return (config["a"] - 0.8) ** 2 + 0.01 * (config["b"] - 5) ** 2 + (0.0 if config["c"] == "q" else 0.1)


def _staged(**kwargs: Any) -> Staged:
    kwargs.setdefault("base", hd.samplers.Random(seed=1))
    kwargs.setdefault("stages", [(5, 1), (5, 1)])
    return Staged(priority=PRIORITY, defaults=DEFAULTS, **kwargs)


def _held(trial: hd.FrozenTrial) -> set[str]:
    return {k for k, v in DEFAULTS.items() if trial.params[k] == v}


def test_each_stage_holds_the_rest_at_their_defaults_and_records_them() -> None:
    study = hd.create_study(sampler=_staged())
    study.optimize(_value, space=SPACE, n_trials=15, show_progress_bar=False)
    trials = study.trials
    assert all(set(t.params) == {"a", "b", "c"} for t in trials)  # held values are the trials' params
    assert all({"b", "c"} <= _held(t) and t.params["a"] != 0.5 for t in trials[:5])
    assert all("c" in _held(t) for t in trials[5:10])
    assert len({t.params["b"] for t in trials[5:10]}) > 1
    assert len({t.params["c"] for t in trials[10:]}) > 1  # the final stage tunes everything
    assert [study.sampler.stage_of(t.number) for t in trials] == [0] * 5 + [1] * 5 + [2] * 5
    # a define-by-run objective gets the same: the held values come through `suggest_*`
    study2 = hd.create_study(sampler=_staged())
    study2.optimize(lambda t: _value({"a": t.suggest_float("a", 0, 1), "b": t.suggest_int("b", 1, 8),
                                      "c": t.suggest_categorical("c", ["p", "q", "r"])}),
                    n_trials=6, show_progress_bar=False)
    assert all({"b", "c"} <= _held(t) for t in study2.trials[:5])


def test_held_parameters_reach_importance_and_the_storage(tmp_path: Path) -> None:
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db", sampler=_staged(stages=[(12, 2)]))
    study.optimize(_value, space=SPACE, n_trials=12, show_progress_bar=False)
    loaded = hd.load_study(study_name=study.study_name, storage=f"sqlite:///{tmp_path}/s.db")
    assert {t.params["c"] for t in loaded.trials} == {"p"}
    imp = loaded.importance()
    assert set(imp) == {"a", "b", "c"} and imp["c"] < min(imp["a"], imp["b"])  # held: seen, and not varying


def _warmed(n: int, *, most: str) -> hd.Study:
    """A study whose first `n` random trials say that `most` matters and the others barely do."""
    study = hd.create_study(sampler=hd.samplers.Random(seed=0))
    weights = {"a": 0.01, "b": 0.01, "c": 0.01, most: 10.0}

    def f(config: Mapping[str, Any]) -> float:
        return (weights["a"] * config["a"] + weights["b"] * config["b"] / 8
                + weights["c"] * ["p", "q", "r"].index(config["c"]))

    study.optimize(f, space=SPACE, n_trials=n, show_progress_bar=False)
    return study


@pytest.mark.parametrize("order, added", [("priority", "c"), ("importance", "b")])
def test_later_stages_add_by_priority_or_by_measured_importance(order: str, added: str) -> None:
    study = _warmed(30, most="b")  # b matters most, though last in this priority
    priority = ("a", "c", "b")
    staged = Staged(hd.samplers.Random(seed=1), priority=priority, defaults=DEFAULTS, order=order, start=30,
                    stages=[(4, 1), (4, 1)])
    study.sampler = staged
    study.optimize(_value, space=SPACE, n_trials=12, show_progress_bar=False)
    history = study.history()
    assert staged.tuned(history, 31) == ("a",)
    assert staged.tuned(history, 35) == ("a", added)
    assert staged.tuned(history, 40) == priority
    stage2 = study.trials[34:38]
    assert all(_held(t) >= set(PRIORITY) - {"a", added} for t in stage2)
    assert len({t.params[added] for t in stage2}) > 1


def test_importance_order_falls_back_to_priority_for_parameters_never_varied() -> None:
    staged = _staged(order="importance", stages=[(5, 1), (5, 1)])
    study = hd.create_study(sampler=staged)
    study.optimize(_value, space=SPACE, n_trials=8, show_progress_bar=False)
    assert staged.tuned(study.history(), 6) == ("a", "b")  # b and c never varied: priority decides


class _Recorder:
    """A real TPE, remembering how many COMPLETE trials each proposal's history held."""

    def __init__(self) -> None:
        self.tpe = hd.samplers.TPE(seed=0, n_startup_trials=8)
        self.seen: dict[int, tuple[int, frozenset[str]]] = {}

    def sample(self, history: History, trial: hd.FrozenTrial, space: Mapping[str, hd.Distribution]) -> dict[str, Any]:
        self.seen.setdefault(trial.number, (len(history.complete), frozenset(history.joint_space())))
        return self.tpe.sample(history, trial, space)


def test_what_earlier_stages_learned_carries_into_later_ones() -> None:
    base = _Recorder()
    staged = Staged(base, priority=PRIORITY, defaults=DEFAULTS, stages=[(20, 1), (10, 1)])
    study = hd.create_study(sampler=staged)
    study.optimize(_value, space=SPACE, n_trials=26, show_progress_bar=False)
    # The first trial of stage 2 is modelled on all twenty trials of stage 1, over a and the newly freed b.
    assert base.seen[20] == (20, frozenset({"a", "b"}))
    # and the model already knows where a is good: the stage-2 proposals start near a = 0.8
    first = [t.params["a"] for t in study.trials[20:26]]
    assert sum(abs(a - 0.8) for a in first) / len(first) < 0.15
    # without the earlier trials (a fresh TPE) the first proposals of that space are random
    fresh = hd.create_study(sampler=hd.samplers.TPE(seed=0, n_startup_trials=8))
    fresh.optimize(_value, space=SPACE, n_trials=6, show_progress_bar=False)
    assert sum(abs(t.params["a"] - 0.8) for t in fresh.trials) / 6 > 0.15


def test_trials_off_their_defaults_are_left_out_of_the_view() -> None:
    study = _warmed(10, most="a")
    staged = _staged(start=10, stages=[(5, 1)])
    history = study.history()
    assert len(staged.view(history, ("b", "c")).trials) == 0  # random trials: b, c off their defaults
    study.enqueue_trial({"a": 0.3, "b": 2, "c": "p"})
    study.optimize(_value, space=SPACE, n_trials=1, show_progress_bar=False)
    view = staged.view(study.history(), ("b", "c"))
    assert [t.number for t in view.trials] == [10] and view.joint_space() == {"a": SPACE["a"]}


def test_default_stages() -> None:
    assert default_stages(1) == ()
    assert default_stages(2, 20) == (Stage(7, 1),)
    assert default_stages(3, 25) == (Stage(10, 2),)
    assert default_stages(8, 50) == (Stage(7, 2), Stage(14, 2))
    assert default_stages(8) == (Stage(10, 2), Stage(20, 2))
    assert _staged(stages=None).stages == default_stages(3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"priority": "abc"}, "`priority` must be a sequence of parameter names"),
        ({"priority": ["a", "a"]}, "`priority` must not repeat a name"),
        ({"priority": []}, "`priority` must name at least one parameter"),
        ({"defaults": {"a": 0.5}}, r"`defaults` must give a value for every name of `priority`; missing \['b', 'c'\]"),
        ({"defaults": {**DEFAULTS, "z": 1}}, r"`defaults` must only name parameters of `priority`, got defaults=\['z'\]"),
        ({"stages": [(5, 1, 1)]}, r"`stages\[0\]` must be a \(trials, add\) pair"),
        ({"stages": [(0, 1)]}, r"`stages\[0\].trials` must be an int >= 1, got stages\[0\].trials=0"),
        ({"stages": [(5, 2), (5, 2)]}, "`stages` add 4 parameters in all, more than the 3 of `priority`"),
        ({"stages": "5,1"}, "`stages` must be a sequence of"),
        ({"order": "random"}, "`order` must be"),
        ({"start": -1}, "`start` must be an int >= 0"),
        ({"importance_method": "shap"}, "`importance_method` must be"),
        ({"seed": 3}, "`seed` seeds the default base sampler only"),
        ({"base": hd.samplers.TPE}, "`base` must be a sampler instance"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"priority": PRIORITY, "defaults": DEFAULTS, "base": hd.samplers.Random(seed=0)}
    args.update(kwargs)
    base = args.pop("base")
    with pytest.raises(hd.InvalidParameterError, match=match):
        Staged(base, **args)


def test_a_default_outside_the_asked_distribution_is_named() -> None:
    study = hd.create_study(sampler=_staged())
    with pytest.raises(hd.InvalidParameterError, match=r"`defaults\['b'\]` must lie inside"):
        study.optimize(_value, space={**SPACE, "b": hd.Int(3, 8)}, n_trials=3, show_progress_bar=False)


def _run(tmp_path: Path, tag: str, executor: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    staged = Staged(hd.samplers.TPE(seed=3, n_startup_trials=4), priority=PRIORITY, defaults=DEFAULTS,
                    stages=[(6, 1), (6, 1)])
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/{tag}.db", sampler=staged,
                            pruner=hd.pruners.Median(n_startup_trials=3))
    study.optimize(objectives.staged, n_trials=18, n_jobs=3, executor=executor, show_progress_bar=False, **kwargs)
    return [(t.number, t.state, t.params, t.values) for t in study.trials]


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_executors_and_pruners(tmp_path: Path, executor: str) -> None:
    trials = _run(tmp_path, "x", executor)
    assert len(trials) == 18
    assert any(state == hd.TrialState.PRUNED for _, state, _, _ in trials)
    for number, _, params, _ in trials:
        if number < 6:
            assert (params["b"], params["c"]) == (2, "p")
        elif number < 12:
            assert params["c"] == "p"


def test_deterministic_mode_gives_the_same_study_twice(tmp_path: Path) -> None:
    first = _run(tmp_path, "a", "thread", deterministic=True)
    assert first == _run(tmp_path, "b", "thread", deterministic=True)
    assert len({str(p) for _, _, p, _ in first}) >= 15


def test_preset_tune_staged() -> None:
    preset = hd.presets.xgboost()
    seen: list[dict[str, Any]] = []

    def objective(config: Mapping[str, Any]) -> float:
        seen.append(dict(config))
        return (config["eta"] - 0.05) ** 2 + 0.01 * config["max_depth"]

    study = hd.create_study(sampler=hd.samplers.Random(seed=0))
    preset.tune(objective, n_trials=20, study=study, staged=True, show_progress_bar=False)
    assert isinstance(study.sampler, hd.samplers.Random)  # restored afterwards
    stages = default_stages(8, 20)
    assert study.trials[0].params == dict(preset.defaults)
    end1 = stages[0].trials
    rest = preset.priority[2:]
    assert all(t.params[k] == preset.defaults[k] for t in study.trials[:end1] for k in rest)
    assert len({t.params["eta"] for t in study.trials[:end1]}) == end1  # the first two are tuned
    assert len({t.params["gamma"] for t in study.trials[-5:]}) > 1  # the final stage tunes everything
    assert preset.gain(study)["default_trial"] == 0
    # a second call continues the study: its stages start at its own first trial
    preset.tune(objective, n_trials=3, study=study, staged=True, show_progress_bar=False)
    assert all(t.params["gamma"] == 0.0 for t in study.trials[20:22])  # stages (1, 2), (1, 2) from trial 20
    # a Staged as given, and bad values
    mine = Staged(hd.samplers.Random(seed=0), priority=preset.priority, defaults=preset.defaults, stages=[(2, 1)],
                  start=23)
    preset.tune(objective, n_trials=2, study=study, staged=mine, show_progress_bar=False)
    assert all(t.params["max_depth"] == 6 for t in study.trials[23:25])
    with pytest.raises(hd.InvalidParameterError, match="`staged` must be True, False or a hd.samplers.Staged"):
        preset.tune(objective, n_trials=2, study=study, staged="yes", show_progress_bar=False)
