"""`MLflowCallback` logging into a real local MLflow store (SQLite under a temporary folder),
read back with MLflow's own client."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

import hyperdial as hd
from hyperdial.integrations.mlflow import MLflowCallback

# MLflow's SQLite store configures its mappers with a loader strategy SQLAlchemy 2.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    # one database for the module: creating an MLflow store runs its migrations (seconds)
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _runs(uri: str, experiment: str) -> dict[str, object]:
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no experiment {experiment!r}"
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    return {r.data.tags.get("trial_number", "parent"): r for r in runs}


def _objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    trial.set_user_attr("note", f"x={x:.2f}")
    if trial.number == 1:
        raise ValueError("diverged")
    for step in range(1, 4):
        trial.report((x - 2) ** 2 + 1 / step, step=step)
        if trial.number == 2 and step == 2:
            raise hd.TrialPruned()
    return (x - 2) ** 2 + (kind == "b")


def test_each_finished_trial_is_a_run_with_params_values_state_and_names(uri: str) -> None:
    study = hd.create_study(study_name="logged", seed=0)
    study.optimize(_objective, n_trials=4, catch=ValueError, show_progress_bar=False,
                   callbacks=[MLflowCallback(tracking_uri=uri)])
    runs = _runs(uri, "logged")
    client = MlflowClient(tracking_uri=uri)
    assert sorted(runs) == ["0", "1", "2", "3"]
    for t in study.trials:
        run = runs[str(t.number)]
        assert run.data.tags["state"] == t.state.name and run.data.tags["study_name"] == "logged"
        assert run.data.tags["direction"] == "minimize" and run.data.tags["user_attr.note"] == t.user_attrs["note"]
        assert run.data.params == {"x": str(t.params["x"]), "kind": t.params["kind"]}
        assert run.info.status == {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}[t.state.name]
        if t.value is None:
            assert "value" not in run.data.metrics
        else:
            assert run.data.metrics["value"] == pytest.approx(t.value)
        history = client.get_metric_history(run.info.run_id, "intermediate_value")
        assert {m.step: m.value for m in history} == pytest.approx(t.intermediate_values)
    assert study.trials[2].state == hd.TrialState.PRUNED and runs["2"].data.metrics["value"] == pytest.approx(
        study.trials[2].intermediate_values[2])


def test_experiment_nesting_and_study_user_attrs(uri: str) -> None:
    study = hd.create_study(study_name="nested", seed=0)
    study.set_user_attr("dataset", "iris")
    callback = MLflowCallback(tracking_uri=uri, experiment="my-experiment", nest_trials=True,
                              tag_study_user_attrs=True, metric_name="loss")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3, callbacks=[callback], show_progress_bar=False)
    runs = _runs(uri, "my-experiment")
    assert sorted(runs) == ["0", "1", "2", "parent"]
    parent = runs["parent"]
    assert parent.info.run_name == "nested" and parent.info.status == "FINISHED"
    for number in "012":
        run = runs[number]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["study_user_attr.dataset"] == "iris"
        assert "loss" in run.data.metrics
    assert MlflowClient(tracking_uri=uri).get_experiment_by_name("nested") is None


def test_several_objectives_get_one_metric_each(uri: str) -> None:
    study = hd.create_study(study_name="pareto", directions=["minimize", "maximize"], seed=0)

    def objective(t: hd.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0, 1)
        return x, x**2

    study.optimize(objective, n_trials=2, show_progress_bar=False,
                   callbacks=[MLflowCallback(tracking_uri=uri, metric_name=["cost", "gain"])])
    study.optimize(objective, n_trials=1, show_progress_bar=False,
                   callbacks=[MLflowCallback(tracking_uri=uri, experiment="pareto-default")])
    for t, run in zip(study.trials, (r for _, r in sorted(_runs(uri, "pareto").items()))):
        assert run.data.metrics == pytest.approx({"cost": t.values[0], "gain": t.values[1]})
        assert run.data.tags["direction"] == "minimize,maximize"
    assert set(_runs(uri, "pareto-default")["2"].data.metrics) == {"value_0", "value_1"}
    with pytest.raises(hd.InvalidParameterError, match="metric_name"):
        study.optimize(objective, n_trials=1, show_progress_bar=False,
                       callbacks=[MLflowCallback(tracking_uri=uri, metric_name=["only-one"])])


def test_bad_arguments_name_themselves(tmp_path: Path) -> None:
    for kwargs, param in [({"metric_name": ""}, "metric_name"), ({"metric_name": ["a", "a"]}, "metric_name"),
                          ({"nest_trials": "yes"}, "nest_trials"), ({"tracking_uri": 3}, "tracking_uri"),
                          ({"experiment": 1}, "experiment")]:
        with pytest.raises(hd.InvalidParameterError, match=f"`{param}`"):
            MLflowCallback(**kwargs)
