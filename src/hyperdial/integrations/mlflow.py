"""`MLflowCallback`: log each finished trial of a study as an MLflow run.

Pass it to `study.optimize(..., callbacks=[MLflowCallback(...)])`. Each run holds the trial's
parameters, its value(s) as metrics (and its intermediate values as the history of
`intermediate_value`), and tags for the state, trial number and study name; its status is
FINISHED, KILLED (pruned) or FAILED. `pip install 'hyperdial[mlflow]'`.

>>> import tempfile, warnings, hyperdial as hd
>>> from mlflow import MlflowClient
>>> uri = f"sqlite:///{tempfile.mkdtemp()}/mlflow.db"
>>> study = hd.create_study(study_name="quadratic", seed=0)
>>> with warnings.catch_warnings():  # MLflow's SQLite store uses a loader that SQLAlchemy 2.1 deprecates
...     warnings.filterwarnings("ignore", message="The ``noload`` loader strategy is deprecated")
...     study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=3,
...                    callbacks=[MLflowCallback(tracking_uri=uri, metric_name="loss")], show_progress_bar=False)
>>> client = MlflowClient(tracking_uri=uri)
>>> runs = client.search_runs([client.get_experiment_by_name("quadratic").experiment_id])
>>> sorted(r.data.tags["trial_number"] for r in runs), "loss" in runs[0].data.metrics
(['0', '1', '2'], True)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.exceptions import invalid
from hyperdial.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study

optional_import("mlflow", extra="mlflow", purpose="hyperdial.integrations.mlflow")

__all__ = ["MLflowCallback"]

_STATUS = {TrialState.COMPLETE: "FINISHED", TrialState.PRUNED: "KILLED", TrialState.FAIL: "FAILED"}
_DATABASES = {"sqlite", "postgresql", "mysql", "mssql"}
_MAX_TAG = 5000  # MLflow refuses longer tag values on some stores; a tag is a label, not a log


def _ms(dt: Any) -> int:
    return int(dt.timestamp() * 1000) if dt is not None else int(time.time() * 1000)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:_MAX_TAG]


class MLflowCallback:
    """Log each finished trial as a run of the MLflow experiment `experiment` (default: the study's name).

    `tracking_uri`: where runs go (`sqlite:///mlflow.db`, `file:///tmp/mlruns`, an MLflow server);
    None uses MLflow's own default (`MLFLOW_TRACKING_URI`). The process-wide MLflow settings are
    not touched: the callback logs through its own `MlflowClient`.
    `metric_name`: the name of the value's metric; with several objectives, a list of names, or
    one name that becomes `name_0`, `name_1`, ...
    `nest_trials=True`: the runs are children of one parent run per study (named after it).
    `tag_study_user_attrs=True`: the study's user attributes are tags of each run too (the trial's
    own user attributes always are).

    The arguments of Optuna's `MLflowCallback` where they mean the same (`tracking_uri`,
    `metric_name`, `tag_study_user_attrs`); `experiment` replaces its `mlflow_kwargs`/experiment
    naming, `nest_trials` its nesting through `mlflow_kwargs={"nested": True}`.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        metric_name: str | Sequence[str] = "value",
        experiment: str | None = None,
        nest_trials: bool = False,
        tag_study_user_attrs: bool = False,
    ) -> None:
        from mlflow import MlflowClient

        rules.check("tracking_uri", tracking_uri, rules.InstanceOf(str), None)
        if isinstance(metric_name, str):
            if not metric_name:
                raise invalid("metric_name", "must be a non-empty string or a list of them", metric_name)
        elif not (isinstance(metric_name, Sequence) and metric_name
                  and all(isinstance(m, str) and m for m in metric_name) and len(set(metric_name)) == len(metric_name)):
            raise invalid("metric_name", "must be a non-empty string or a list of distinct ones", metric_name)
        rules.check("experiment", experiment, rules.InstanceOf(str), None)
        rules.check("nest_trials", nest_trials, rules.Bool())
        rules.check("tag_study_user_attrs", tag_study_user_attrs, rules.Bool())
        self.tracking_uri = tracking_uri
        self.metric_name = metric_name
        self.experiment = experiment
        self.nest_trials = nest_trials
        self.tag_study_user_attrs = tag_study_user_attrs
        if tracking_uri is not None and tracking_uri.split(":", 1)[0].split("+", 1)[0] in _DATABASES:
            # MLflow's database store needs alembic, which mlflow-skinny does not install
            optional_import("alembic", extra="mlflow", purpose="MLflow's database tracking store")
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self._lock = threading.Lock()  # optimize(n_jobs=...) calls back from several threads
        self._experiments: dict[str, str] = {}
        self._parents: dict[str, str] = {}

    def _metric_names(self, n_objectives: int) -> list[str]:
        if isinstance(self.metric_name, str):
            return [self.metric_name] if n_objectives == 1 else [f"{self.metric_name}_{i}" for i in range(n_objectives)]
        if len(self.metric_name) != n_objectives:
            raise invalid("metric_name", f"must name each of the study's {n_objectives} objectives",
                          list(self.metric_name))
        return list(self.metric_name)

    def _experiment_id(self, name: str) -> str:
        if name not in self._experiments:
            found = self.client.get_experiment_by_name(name)
            self._experiments[name] = found.experiment_id if found is not None else self.client.create_experiment(name)
        return self._experiments[name]

    def _parent_run(self, study: Study, experiment_id: str) -> str:
        if study.study_name not in self._parents:
            run = self.client.create_run(experiment_id, run_name=study.study_name,
                                         tags={"study_name": study.study_name})
            self._parents[study.study_name] = run.info.run_id
        return self._parents[study.study_name]

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        from mlflow.entities import Metric, Param

        names = self._metric_names(len(study.directions))
        with self._lock:
            experiment_id = self._experiment_id(self.experiment or study.study_name)
            tags = {
                "study_name": study.study_name,
                "trial_number": str(trial.number),
                "state": trial.state.name,
                "direction": ",".join(d.value for d in study.directions),
                **{f"user_attr.{k}": _text(v) for k, v in trial.user_attrs.items()},
            }
            if self.tag_study_user_attrs:
                tags.update({f"study_user_attr.{k}": _text(v) for k, v in study.user_attrs.items()})
            parent = self._parent_run(study, experiment_id) if self.nest_trials else None
            if parent is not None:
                tags["mlflow.parentRunId"] = parent
            run = self.client.create_run(experiment_id, start_time=_ms(trial.datetime_start), tags=tags,
                                         run_name=f"trial {trial.number}")
            end = _ms(trial.datetime_complete)
            metrics = [Metric(name, float(v), end, 0) for name, v in zip(names, trial.values or ())]
            if len(names) == 1:
                metrics += [Metric("intermediate_value", float(v), end, int(step))
                            for step, v in sorted(trial.intermediate_values.items())]
            params = [Param(k, _text(v)) for k, v in trial.params.items()]
            self.client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=[])
            self.client.set_terminated(run.info.run_id, status=_STATUS.get(trial.state, "FAILED"), end_time=end)
            if parent is not None:  # the parent spans the trials logged so far
                self.client.set_terminated(parent, status="FINISHED", end_time=end)

    def __repr__(self) -> str:
        return (f"MLflowCallback(tracking_uri={self.tracking_uri!r}, metric_name={self.metric_name!r}, "
                f"experiment={self.experiment!r}, nest_trials={self.nest_trials}, "
                f"tag_study_user_attrs={self.tag_study_user_attrs})")

