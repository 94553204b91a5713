"""Hugging Face Transformers: a pruning `TrainerCallback`, `Trainer.hyperparameter_search` on hyperdial,
and PEFT LoRA wired in (`pip install 'hyperdial[transformers]'`).

- `HyperdialCallback(trial, metric="eval_loss")` reports the metric at every evaluation and, when the
  pruner says so, stops training (`control.should_training_stop`); the objective then calls
  `callback.raise_if_pruned()`, which raises `hd.TrialPruned`.
- `hyperparameter_search(trainer, hp_space, compute_objective, n_trials, direction, hp_name, ...)` takes
  the arguments of `transformers.Trainer.hyperparameter_search` and returns its `BestRun`, run by a
  hyperdial study. `hp_space` may be Transformers' kind of function (`trial -> dict`), a dict of
  `hd.Float/Int/Categorical`, or a `Preset` (its defaults run first).
- `lora_model_init(base_model_init, target_modules=...)` builds the trial's PEFT LoRA model: the trial's
  `r`, `lora_alpha`, `lora_dropout` (any `LoraConfig` field) go into the `LoraConfig`.

A trial's parameters are applied as Transformers' own optuna backend applies them
(`Trainer._hp_search_setup` and `run_hp_search_optuna` in `transformers/trainer.py` and
`transformers/integrations/integration_utils.py`): every key that is a `TrainingArguments` field is set on
`trainer.args` (cast to the field's type, without truncating a fraction), `trainer.model_init` builds a
fresh model for each trial, `train()` starts from a fresh `TrainerState`, and the trial's value is
`compute_objective(metrics)` of its last evaluation (an extra `evaluate()` when training evaluated
none). Differences, on purpose: parameters are sampled before `model_init` runs (so `model_init` can read
all of them from `trial.params`), `trainer.args` is restored after every trial (a conditional parameter
does not leak into the next), `warmup_ratio` (removed from `TrainingArguments` in Transformers 5) is
passed as a fractional `warmup_steps`, and reports go through the callback rather than the Trainer's
Optuna-only hook.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import inspect
import logging
import numbers
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.exceptions import TrialPruned, invalid
from hyperdial.space import Distribution

_transformers = optional_import("transformers", extra="transformers", purpose="hyperdial.integrations.transformers")
from transformers import TrainerCallback
from transformers.trainer_utils import BestRun, default_compute_objective

__all__ = ["HyperdialCallback", "default_hp_space", "hyperparameter_search", "lora_model_init"]

_log = logging.getLogger("hyperdial.integrations.transformers")

STEP_UNITS = ("global_step", "epoch")
# Keywords of Transformers' hyperparameter_search that go to `Study.optimize` (the rest go to create_study).
_OPTIMIZE_KWARGS = ("timeout", "n_jobs", "catch", "callbacks", "show_progress_bar", "gc_after_trial",
                    "defaults_first")


class HyperdialCallback(TrainerCallback):
    """Report an evaluation metric to a hyperdial trial at every evaluation; stop the run when pruned.

    `metric`: a key of the evaluation metrics ("eval_loss"; "loss" finds "eval_loss" as Transformers'
    `metric_for_best_model` does) or a function `metrics -> value` (Transformers' `compute_objective`).
    `step`: what the report's step counts: "global_step" (optimizer steps, what Transformers' optuna
    backend reports; the default) or "epoch" (epochs completed, rounded: use it with
    `eval_strategy="epoch"`, so ASHA's rungs are epochs). When the pruner says stop, the callback sets
    `control.should_training_stop`, `trainer.train()` returns after the current step, and
    `raise_if_pruned()` (call it in the objective after training) raises `hd.TrialPruned`.

    Example (a sketch: `build_trainer` is your code)::

        def objective(trial):
            callback = HyperdialCallback(trial, metric="eval_loss", step="epoch")
            trainer = build_trainer(lr=trial.suggest_float("lr", 1e-5, 1e-3, log=True), callbacks=[callback])
            trainer.train()
            callback.raise_if_pruned()
            return callback.objective
    """

    def __init__(self, trial: Any, metric: str | Callable[[dict[str, float]], Any] = "eval_loss", *,
                 step: str = "global_step") -> None:
        rules.check("trial", trial, rules.HasMethod("report"))
        rules.check("trial", trial, rules.HasMethod("should_prune"))
        rules.check("metric", metric, rules.InstanceOf(str, what="a metric name"), rules.IsCallable())
        rules.check("step", step, rules.OneOf(*STEP_UNITS))
        self.trial = trial
        self.metric = metric
        self.step = step
        self.pruned = False
        self.objective: Any = None  # the value of the last evaluation reported
        self.reports: list[tuple[int, Any]] = []

    def _value(self, metrics: Mapping[str, float]) -> Any:
        if callable(self.metric):
            return self.metric(dict(metrics))
        for key in (self.metric, f"eval_{self.metric}"):
            if key in metrics:
                return metrics[key]
        raise invalid("metric", f"must be one of the evaluation metrics {sorted(metrics)}", self.metric)

    def _step(self, state: Any) -> int:
        if self.step == "epoch":
            return int(round(state.epoch or 0.0))
        return int(state.global_step)

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Mapping[str, float] | None = None,
                    **kwargs: Any) -> None:
        if not metrics or self.pruned:
            return
        value = self._value(metrics)
        step = self._step(state)
        self.objective = value
        self.trial.report(value, step)
        self.reports.append((step, value))
        if self.trial.should_prune():
            _log.info("trial %s pruned at %s %d", getattr(self.trial, "number", "?"), self.step, step)
            self.pruned = True
            control.should_training_stop = True

    def raise_if_pruned(self) -> None:
        """Raise `hd.TrialPruned` if the pruner stopped this run (call it after `trainer.train()`)."""
        if self.pruned:
            step = self.reports[-1][0] if self.reports else None
            raise TrialPruned(f"pruned at {self.step} {step}")


# -- LoRA -----------------------------------------------------------------------------------------

def _lora_fields() -> set[str]:
    peft = optional_import("peft", extra="transformers", purpose="LoRA (lora_model_init)")
    return {f.name for f in dataclasses.fields(peft.LoraConfig)}


def _params_of(trial: Any) -> dict[str, Any]:
    """A trial's parameters: a hyperdial/Optuna trial's `.params`, a Ray/W&B-style dict, or none."""
    if trial is None:
        return {}
    if isinstance(trial, Mapping):
        return dict(trial)
    params = getattr(trial, "params", None)
    if not isinstance(params, Mapping):
        raise invalid("trial", "must be a trial with `.params`, a dict of parameters or None", trial)
    return dict(params)


def _call_with_trial(fn: Callable[..., Any], trial: Any, name: str) -> Any:
    # as Transformers' call_model_init: no argument, or the trial (a defaulted one counts too)
    try:
        positional = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        return fn(trial)
    if sum(p.default is p.empty and p.kind != p.VAR_POSITIONAL for p in positional) > 1:
        raise invalid(name, "must take no argument or one (the trial)", fn)
    return fn(trial) if positional else fn()


def lora_model_init(base_model_init: Callable[..., Any], *, target_modules: Sequence[str] | str | None = None,
                    task_type: str = "CAUSAL_LM", **lora_kwargs: Any) -> Callable[[Any], Any]:
    """A `model_init(trial)` for `Trainer` that wraps `base_model_init()` in a PEFT LoRA adapter.

    The trial's parameters that are `peft.LoraConfig` fields (`r`, `lora_alpha`, `lora_dropout`, ...:
    the LoRA names of `hd.presets.lora_finetune()`) go into the `LoraConfig`; `lora_kwargs` give the
    values of the fields the search does not tune, and `target_modules` / `task_type` are passed as is.
    `base_model_init` takes no argument or the trial. With hyperdial's `hyperparameter_search` the
    trial's parameters are all sampled before `model_init` runs.

    >>> init = lora_model_init(lambda: None, target_modules=["q_proj"], bias="none")
    >>> callable(init)
    True
    """
    rules.check("base_model_init", base_model_init, rules.IsCallable())
    fields = _lora_fields()
    unknown = sorted(set(lora_kwargs) - fields)
    if unknown:
        raise invalid("lora_kwargs", "must be peft.LoraConfig fields", unknown)

    def model_init(trial: Any = None) -> Any:
        import peft

        base = _call_with_trial(base_model_init, trial, "base_model_init")
        config = dict(lora_kwargs)
        config.update({k: v for k, v in _params_of(trial).items() if k in fields})
        modules = [target_modules] if isinstance(target_modules, str) else target_modules
        lora = peft.LoraConfig(task_type=task_type, target_modules=None if modules is None else list(modules), **config)
        with warnings.catch_warnings():
            # PEFT <= 0.21 reads Transformers 5's deprecated `is_gradient_checkpointing`: their warning, not
            # the user's to act on
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            return peft.get_peft_model(base, lora)

    return model_init


def _check_lora_model(model: Any, params: Mapping[str, Any], lora_keys: set[str]) -> None:
    """The trial tunes LoRA parameters: the model must be a PEFT model whose config holds them."""
    tuned = {k: v for k, v in params.items() if k in lora_keys}
    if not tuned:
        return
    configs = getattr(model, "peft_config", None)
    if not isinstance(configs, Mapping) or not configs:
        raise invalid("model_init", f"must return a PEFT model when the search tunes LoRA parameters {sorted(tuned)}"
                      " (wrap it: model_init=lora_model_init(base_model_init, target_modules=...))",
                      type(model).__name__)
    config = next(iter(configs.values()))
    wrong = {k: getattr(config, k, None) for k, v in tuned.items() if getattr(config, k, None) != v}
    if wrong:
        shown = ", ".join(f"{k}={v!r}" for k, v in wrong.items())
        raise invalid("model_init", f"must build the LoRA adapter from the trial's parameters {tuned}",
                      f"a LoraConfig with {shown}")


# -- applying a trial's parameters to trainer.args --------------------------------------------------

def _cast(old: Any, value: Any) -> Any:
    """Transformers casts to the field's current type (`type(old)(value)`), which truncates 0.03 to an int
    0; here a cast happens only when it loses nothing."""
    if old is None or isinstance(value, type(old)):
        return value
    if isinstance(old, bool):
        return bool(value)
    if isinstance(old, numbers.Integral) and isinstance(value, numbers.Real) and float(value).is_integer():
        return int(float(value))
    if isinstance(old, float) and isinstance(value, numbers.Real):
        return float(value)
    return value


@contextlib.contextmanager
def _trial_args(trainer: Any, params: Mapping[str, Any], run_name: str, lora_keys: set[str]) -> Iterator[None]:
    """Set the trial's TrainingArguments fields and its output folder; restore them afterwards."""
    args = trainer.args
    fields = {f.name for f in dataclasses.fields(args)}
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key == "warmup_ratio" and key not in fields:
            values["warmup_steps"] = float(value)  # Transformers 5: warmup_steps < 1 is a ratio
        elif key in fields:
            values[key] = _cast(getattr(args, key), value)
        elif key not in lora_keys:
            _log.warning("Trying to set %s in the hyperparameter search but there is no corresponding field in "
                         "`TrainingArguments` (it is still in trial.params, for model_init)", key)
    values["output_dir"] = os.path.join(args.output_dir, run_name)
    saved = {key: copy.deepcopy(getattr(args, key)) for key in values}
    try:
        for key, value in values.items():
            setattr(args, key, value)
        _refresh(trainer)
        yield
    finally:
        for key, value in saved.items():
            setattr(args, key, value)
        _refresh(trainer)


def _refresh(trainer: Any) -> None:
    # What Trainer._hp_search_setup does after changing args: the batch size it caches and the accelerator
    # (gradient accumulation and mixed precision live there) follow the new arguments.
    trainer._train_batch_size = trainer.args.train_batch_size
    trainer.create_accelerator_and_postprocess()


@contextlib.contextmanager
def _per_trial(trainer: Any, trial: Any, callback: HyperdialCallback, params: Mapping[str, Any],
               lora_keys: set[str]) -> Iterator[None]:
    """The trial's model_init (called with the trial, checked for LoRA) and callback, for one train()."""
    original = trainer.model_init

    def model_init() -> Any:
        model = _call_with_trial(original, trial, "model_init")
        _check_lora_model(model, params, lora_keys)
        return model

    trainer.model_init = model_init
    trainer.add_callback(callback)
    try:
        yield
    finally:
        trainer.model_init = original
        trainer.remove_callback(callback)


def _release(trainer: Any) -> None:
    # as run_hp_search_optuna does after every trial: free the model's (GPU) memory
    from accelerate.utils.memory import release_memory

    trainer.model_wrapped, trainer.model = release_memory(trainer.model_wrapped, trainer.model)
    trainer.accelerator.clear()


# -- the search ---------------------------------------------------------------------------------

def default_hp_space(trial: Any) -> dict[str, Any]:
    """Transformers' `default_hp_space_optuna`, in hyperdial: learning rate, epochs, seed, batch size.

    >>> import hyperdial as hd
    >>> sorted(default_hp_space(hd.FixedTrial({"learning_rate": 1e-5, "num_train_epochs": 2, "seed": 3,
    ...                                          "per_device_train_batch_size": 8})))
    ['learning_rate', 'num_train_epochs', 'per_device_train_batch_size', 'seed']
    """
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-6, 1e-4, log=True),
        "num_train_epochs": trial.suggest_int("num_train_epochs", 1, 5),
        "seed": trial.suggest_int("seed", 1, 40),
        "per_device_train_batch_size": trial.suggest_categorical("per_device_train_batch_size", [4, 8, 16, 32, 64]),
    }


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    run = {k: kwargs.pop(k) for k in _OPTIMIZE_KWARGS if k in kwargs}
    for key in ("executor", "gpus_per_trial", "space", "n_trials_scope"):
        if key in kwargs:
            raise invalid(key, "is not supported: the trials share one Trainer, so they run one at a time "
                          "in this process (use HyperdialCallback in your own objective to run them elsewhere)",
                          kwargs[key])
    return run, kwargs


def hyperparameter_search(
    trainer: Any,
    hp_space: Callable[[Any], dict[str, Any]] | Mapping[str, Distribution] | Any = None,
    compute_objective: Callable[[dict[str, float]], Any] | None = None,
    n_trials: int = 20,
    direction: str | list[str] = "minimize",
    hp_name: Callable[[Any], str] | None = None,
    *,
    study: Any = None,
    storage: str | None = None,
    sampler: Any = None,
    pruner: Any = None,
    preset: Any = None,
    **kwargs: Any,
) -> BestRun | list[BestRun]:
    """`trainer.hyperparameter_search(...)` run by a hyperdial study; returns Transformers' `BestRun`.

    `hp_space`: a function `trial -> dict` (as for Transformers' optuna backend; default
    `default_hp_space`), a dict of `hd.Float/Int/Categorical`, or a `Preset` (same as `preset=`: the
    preset's space, its defaults tried first, its name recorded on the study). `compute_objective`
    turns the evaluation metrics into the value (default: Transformers' `default_compute_objective`,
    the eval loss). `direction`: "minimize", "maximize", or a list (several objectives: a list of
    BestRun, the Pareto front). `hp_name(trial)` names the run's output folder (default
    `run-{trial.number}` under `args.output_dir`, as Transformers does).

    The study: `study=` an existing one, or one made by `hd.create_study(storage=, sampler=, pruner=,
    direction(s)=, **kwargs)`; the keywords `timeout`, `catch`, `callbacks`, `show_progress_bar`,
    `gc_after_trial` and `defaults_first` (presets) go to the run instead. The trainer needs a
    `model_init`; trials run one at a time on it. A pruned trial stops training through
    `HyperdialCallback` and is recorded PRUNED. After the search `trainer.args` is as before.
    The study is available afterwards as `best_run.run_summary`.
    """
    from hyperdial._api import create_study
    from hyperdial.presets import Preset
    from hyperdial.study import Study

    if not isinstance(trainer, _transformers.Trainer):
        raise invalid("trainer", "must be a transformers.Trainer", type(trainer).__name__)
    if trainer.model_init is None:
        raise invalid("trainer", "must have a model_init (Trainer(model_init=...)): each trial builds a fresh "
                      "model", "model_init=None")
    n_trials = rules.check("n_trials", n_trials, rules.Int(low=1))
    rules.check("compute_objective", compute_objective, rules.IsCallable(), None)
    rules.check("hp_name", hp_name, rules.IsCallable(), None)
    rules.check("preset", preset, rules.InstanceOf(Preset, what="a hd.presets.Preset"), None)
    if isinstance(hp_space, Preset):
        if preset is not None:
            raise invalid("hp_space", "must be None when `preset` is given", hp_space.name)
        hp_space, preset = None, hp_space
    if preset is not None and hp_space is not None:
        raise invalid("hp_space", "must be None when `preset` is given", hp_space)
    if hp_space is not None and not callable(hp_space) and (not isinstance(hp_space, Mapping) or not hp_space or not all(
            isinstance(k, str) and isinstance(v, Distribution) for k, v in hp_space.items())):
        raise invalid("hp_space", "must be a function trial -> dict, a non-empty dict of hd.Float/Int/"
                      "Categorical, or a Preset", hp_space)
    directions = list(direction) if isinstance(direction, (list, tuple)) else [direction]
    for d in directions:
        rules.check("direction", d, rules.OneOf("minimize", "maximize"))
    run_kwargs, create_kwargs = _split_kwargs(dict(kwargs))
    if run_kwargs.get("n_jobs", 1) not in (1, None):
        raise invalid("n_jobs", "must be 1: the trials share one Trainer", run_kwargs["n_jobs"])
    run_kwargs.pop("n_jobs", None)
    gc_after_trial = rules.check("gc_after_trial", run_kwargs.pop("gc_after_trial", False), rules.Bool())
    defaults_first = rules.check("defaults_first", run_kwargs.pop("defaults_first", True), rules.Bool())
    run_kwargs.setdefault("show_progress_bar", False)

    if study is None:
        study = create_study(storage=storage, sampler=sampler, pruner=pruner, directions=directions,
                             **create_kwargs)
    else:
        rules.check("study", study, rules.InstanceOf(Study, what="a hd.Study"))
        given = {k: v for k, v in dict(storage=storage, sampler=sampler, pruner=pruner, **create_kwargs).items()
                 if v is not None}
        if given:
            raise invalid("study", "comes with its own storage, sampler and pruner; do not pass "
                          f"{sorted(given)} too", study.study_name)
        if [d.name.lower() for d in study.directions] != directions:
            raise invalid("direction", f"must match the study's directions "
                          f"{[d.name.lower() for d in study.directions]}", direction)

    objective_of = compute_objective or default_compute_objective
    lora_keys = _lora_fields() if _installed("peft") else set()

    def run(trial: Any, params: Mapping[str, Any]) -> Any:
        callback = HyperdialCallback(trial, objective_of)
        run_name = hp_name(trial) if hp_name is not None else f"run-{trial.number}"
        with _trial_args(trainer, params, str(run_name), lora_keys):
            try:
                with _per_trial(trainer, trial, callback, params, lora_keys):
                    trainer.train()
                callback.raise_if_pruned()
                objective = callback.objective
                if objective is None:  # no evaluation during training: one now, not reported (as Transformers)
                    objective = objective_of(trainer.evaluate())
            finally:
                _release(trainer)
                if gc_after_trial:
                    gc.collect()
        return objective

    if preset is not None:
        preset.tune(lambda config, trial: run(trial, config), n_trials=n_trials, study=study,
                    defaults_first=defaults_first, **run_kwargs)
    elif isinstance(hp_space, Mapping):
        study.optimize(lambda config, trial: run(trial, config), n_trials=n_trials, space=dict(hp_space),
                       **run_kwargs)
    else:
        space_fn = hp_space or default_hp_space

        def objective(trial: Any) -> Any:
            params = space_fn(trial)
            if not isinstance(params, Mapping):
                raise invalid("hp_space", "must return a dict of parameter values", params)
            return run(trial, params)

        study.optimize(objective, n_trials=n_trials, **run_kwargs)

    if len(directions) == 1:
        best = study.best_trial
        return BestRun(str(best.number), best.value, dict(best.params), study)
    return [BestRun(str(t.number), list(t.values), dict(t.params), study) for t in study.best_trials]


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
