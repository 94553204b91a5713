"""hyperdial.integrations.transformers against the real Trainer, PEFT and a tiny Llama built from a config."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from tiny_torch import LMDataset, tiny_llama
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import BestRun

import hyperdial as hd
from hyperdial.integrations.transformers import HyperdialCallback, hyperparameter_search, lora_model_init

TRAIN, EVAL = LMDataset(64, seed=0), LMDataset(16, seed=1)


def make_args(tmp_path: Path, **kw: Any) -> TrainingArguments:
    base: dict[str, Any] = {
        "output_dir": str(tmp_path / "out"), "per_device_train_batch_size": 16, "per_device_eval_batch_size": 16,
        "num_train_epochs": 3, "learning_rate": 1e-2, "eval_strategy": "epoch", "save_strategy": "no",
        "report_to": [], "logging_strategy": "no", "disable_tqdm": True, "use_cpu": True, "seed": 0}
    base.update(kw)
    return TrainingArguments(**base)


class Recorder(TrainerCallback):
    """What each train() actually ran with: the arguments, the batch size, the model's LoRA rank."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
        run = {"learning_rate": args.learning_rate, "num_train_epochs": args.num_train_epochs,
               "batch": state.train_batch_size, "output_dir": args.output_dir, "evals": [],
               "warmup_steps": args.warmup_steps, "weight_decay": args.weight_decay}
        if hasattr(model, "peft_config"):
            q = model.base_model.model.model.layers[0].self_attn.q_proj
            run["rank"] = q.lora_A["default"].weight.shape[0]
            run["config_r"] = model.peft_config["default"].r
            run["alpha"] = model.peft_config["default"].lora_alpha
            run["dropout"] = model.peft_config["default"].lora_dropout
        self.runs.append(run)

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any) -> None:
        self.runs[-1]["evals"].append(metrics["eval_loss"])


def test_callback_reports_every_evaluation(tmp_path: Path) -> None:
    study = hd.create_study(pruner=hd.pruners.Nop())
    losses: list[list[float]] = []

    def objective(trial: hd.Trial) -> float:
        callback = HyperdialCallback(trial, "eval_loss", step="epoch")
        recorder = Recorder()
        trainer = Trainer(model=tiny_llama(), args=make_args(tmp_path), train_dataset=TRAIN, eval_dataset=EVAL,
                          callbacks=[recorder, callback])
        trainer.train()
        callback.raise_if_pruned()
        losses.append(recorder.runs[0]["evals"])
        return float(callback.objective)

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    t = study.trials[0]
    assert t.state == hd.TrialState.COMPLETE
    assert sorted(t.intermediate_values) == [1, 2, 3]  # one report per epoch's evaluation
    assert [t.intermediate_values[s] for s in (1, 2, 3)] == pytest.approx(losses[0])
    assert t.value == pytest.approx(losses[0][-1])
    assert losses[0][-1] < losses[0][0] < math.log(12)  # it really trained


def test_callback_global_step_and_pruning_stop_training(tmp_path: Path) -> None:
    study = hd.create_study(pruner=hd.pruners.Threshold(upper=0.0))  # every reported loss is > 0: prune at once
    states: list[Any] = []

    def objective(trial: hd.Trial) -> float:
        callback = HyperdialCallback(trial, "loss")  # "loss" finds eval_loss, as metric_for_best_model does
        trainer = Trainer(model=tiny_llama(), args=make_args(tmp_path, eval_strategy="steps", eval_steps=2,
                                                             max_steps=20),
                          train_dataset=TRAIN, eval_dataset=EVAL, callbacks=[callback])
        trainer.train()
        states.append(trainer.state)
        assert callback.pruned
        callback.raise_if_pruned()
        return 0.0

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    t = study.trials[0]
    assert t.state == hd.TrialState.PRUNED
    assert list(t.intermediate_values) == [2]  # the global step of the first evaluation
    assert states[0].global_step == 2 < states[0].max_steps == 20  # training stopped right there


def test_hyperparameter_search_matches_transformers(tmp_path: Path) -> None:
    recorder = Recorder()
    args = make_args(tmp_path)
    trainer = Trainer(model_init=tiny_llama, args=args, train_dataset=TRAIN, eval_dataset=EVAL, callbacks=[recorder])

    def hp_space(trial: Any) -> dict[str, Any]:  # Transformers' optuna-style space
        return {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True),
                "num_train_epochs": trial.suggest_int("num_train_epochs", 1, 3),
                "per_device_train_batch_size": trial.suggest_categorical("per_device_train_batch_size", [8, 16])}

    best = hyperparameter_search(trainer, hp_space, n_trials=4, hp_name=lambda t: f"trial-{t.number}",
                                 sampler=hd.samplers.Random(seed=1), pruner=hd.pruners.Nop())
    assert isinstance(best, BestRun)
    study = best.run_summary
    assert [t.state for t in study.trials] == [hd.TrialState.COMPLETE] * 4
    assert best.run_id == str(study.best_trial.number)
    assert best.objective == min(t.value for t in study.trials)
    assert best.hyperparameters == study.best_trial.params
    for t, run in zip(study.trials, recorder.runs):  # each trial trained with its own arguments
        assert run["learning_rate"] == t.params["learning_rate"]
        assert run["num_train_epochs"] == t.params["num_train_epochs"]
        assert run["batch"] == t.params["per_device_train_batch_size"]
        assert run["output_dir"] == str(tmp_path / "out" / f"trial-{t.number}")
        assert len(run["evals"]) == t.params["num_train_epochs"]
        assert t.value == pytest.approx(run["evals"][-1])  # compute_objective of the last evaluation
    assert len({t.params["learning_rate"] for t in study.trials}) == 4
    # the arguments are as before the search
    assert (trainer.args.learning_rate, trainer.args.num_train_epochs, trainer.args.output_dir) == \
        (1e-2, 3, str(tmp_path / "out"))


def test_objective_without_evaluation_during_training(tmp_path: Path) -> None:
    trainer = Trainer(model_init=tiny_llama, args=make_args(tmp_path, eval_strategy="no"), train_dataset=TRAIN,
                      eval_dataset=EVAL)
    best = hyperparameter_search(trainer, {"learning_rate": hd.Float(1e-3, 1e-2, log=True)}, n_trials=2,
                                 compute_objective=lambda m: -m["eval_loss"], direction="maximize")
    study = best.run_summary
    assert all(t.intermediate_values == {} for t in study.trials)  # nothing evaluated while training
    assert all(t.value is not None and t.value < 0 for t in study.trials)
    assert best.objective == max(t.value for t in study.trials)


def test_lora_preset_reaches_the_lora_config(tmp_path: Path) -> None:
    recorder = Recorder()
    preset = hd.presets.lora_finetune().only(["learning_rate", "r", "lora_alpha", "num_train_epochs"])
    init = lora_model_init(lambda: tiny_llama(), target_modules=["q_proj", "v_proj"])
    trainer = Trainer(model_init=init, args=make_args(tmp_path), train_dataset=TRAIN, eval_dataset=EVAL,
                      callbacks=[recorder])
    best = hyperparameter_search(trainer, preset=preset, n_trials=5, sampler=hd.samplers.Random(seed=3),
                                 pruner=hd.pruners.ASHA(min_resource=1, reduction_factor=2))
    study = best.run_summary
    assert study.trials[0].params == dict(preset.defaults)  # the defaults first
    assert study.user_attrs["preset"] == {"name": "lora_finetune", "version": "1"}
    assert len(recorder.runs) == 5
    for t, run in zip(study.trials, recorder.runs):
        assert run["rank"] == run["config_r"] == t.params["r"]  # the adapter really has the trial's rank
        assert run["alpha"] == t.params["lora_alpha"]
        assert run["learning_rate"] == t.params["learning_rate"]
    assert len({t.params["r"] for t in study.trials}) > 1
    assert best.objective == study.best_value


def test_the_whole_lora_preset_is_applied(tmp_path: Path) -> None:
    recorder = Recorder()
    preset = hd.presets.lora_finetune()
    trainer = Trainer(model_init=lora_model_init(tiny_llama, target_modules=["q_proj"]), args=make_args(tmp_path),
                      train_dataset=TRAIN, eval_dataset=EVAL, callbacks=[recorder])
    hyperparameter_search(trainer, preset, n_trials=1)  # the defaults
    run, d = recorder.runs[0], preset.defaults
    assert (run["learning_rate"], run["num_train_epochs"], run["batch"]) == \
        (d["learning_rate"], d["num_train_epochs"], d["per_device_train_batch_size"])
    assert (run["rank"], run["alpha"], run["dropout"]) == (d["r"], d["lora_alpha"], d["lora_dropout"])
    assert run["weight_decay"] == d["weight_decay"]
    assert run["warmup_steps"] == d["warmup_ratio"] == 0.03  # Transformers 5: a fraction of the steps, not cut to 0
    assert trainer.args.warmup_steps == 0  # restored


def test_pruned_trials_in_a_search_are_recorded_pruned(tmp_path: Path) -> None:
    recorder = Recorder()
    trainer = Trainer(model_init=tiny_llama, args=make_args(tmp_path, num_train_epochs=3), train_dataset=TRAIN,
                      eval_dataset=EVAL, callbacks=[recorder])
    # 64 examples / batch 16: evaluations at global steps 4, 8, 12; the first decision after step 5
    study = hd.create_study(pruner=hd.pruners.Threshold(upper=0.0, n_warmup_steps=5))
    with pytest.raises(hd.NoCompletedTrials):  # as Transformers' optuna backend: no best run to return
        hyperparameter_search(trainer, {"learning_rate": hd.Float(1e-3, 1e-2)}, n_trials=2, study=study,
                              compute_objective=lambda m: m["eval_loss"])
    assert [t.state for t in study.trials] == [hd.TrialState.PRUNED] * 2
    assert [len(run["evals"]) for run in recorder.runs] == [2, 2]  # stopped at the second of three evaluations
    assert all(sorted(t.intermediate_values) == [4, 8] for t in study.trials)


def test_lora_parameters_need_a_lora_model(tmp_path: Path) -> None:
    trainer = Trainer(model_init=tiny_llama, args=make_args(tmp_path), train_dataset=TRAIN, eval_dataset=EVAL)
    with pytest.raises(hd.InvalidParameterError, match=r"model_init.*PEFT model.*\['r'\].*lora_model_init"):
        hyperparameter_search(trainer, {"r": hd.Categorical([4, 8])}, n_trials=1)


def test_bad_input(tmp_path: Path) -> None:
    trainer = Trainer(model_init=tiny_llama, args=make_args(tmp_path), train_dataset=TRAIN, eval_dataset=EVAL)
    no_init = Trainer(model=tiny_llama(), args=make_args(tmp_path), train_dataset=TRAIN, eval_dataset=EVAL)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"trainer": no_init}, r"`trainer` must have a model_init"),
        ({"trainer": "trainer"}, r"`trainer` must be a transformers.Trainer"),
        ({"hp_space": {"lr": (1e-4, 1e-2)}}, r"`hp_space` must be a function"),
        ({"direction": "up"}, r"`direction` must be 'minimize' or 'maximize', got direction='up'"),
        ({"n_trials": 0}, r"`n_trials` must be an int >= 1, got n_trials=0"),
        ({"n_jobs": 2}, r"`n_jobs` must be 1"),
        ({"executor": "process"}, r"`executor` is not supported"),
        ({"preset": {"r": 8}}, r"`preset` must be a hd.presets.Preset"),
        ({"hp_space": hd.presets.adam(), "preset": hd.presets.adam()}, r"`hp_space` must be None"),
        ({"study": hd.create_study(), "sampler": hd.samplers.Random()}, r"`study` comes with its own"),
        ({"study": hd.create_study(direction="maximize")}, r"`direction` must match the study's"),
    ]
    for kwargs, message in bad:
        call = {"trainer": trainer, "hp_space": {"learning_rate": hd.Float(1e-4, 1e-2)}, "n_trials": 1, **kwargs}
        with pytest.raises(hd.InvalidParameterError, match=message):
            hyperparameter_search(**call)
    with pytest.raises(hd.InvalidParameterError, match=r"`trial` must be an object with a `report` method"):
        HyperdialCallback(3)
    with pytest.raises(hd.InvalidParameterError, match=r"`step` must be 'global_step' or 'epoch'"):
        HyperdialCallback(hd.FixedTrial({}), step="batch")
    with pytest.raises(hd.InvalidParameterError, match=r"`lora_kwargs` must be peft.LoraConfig fields"):
        lora_model_init(tiny_llama, rank=8)
    # a metric the evaluation does not produce fails the trial with a message naming it
    study = hd.create_study()

    def objective(trial: hd.Trial) -> float:
        callback = HyperdialCallback(trial, "eval_accuracy")
        Trainer(model=tiny_llama(), args=make_args(tmp_path, num_train_epochs=1), train_dataset=TRAIN,
                eval_dataset=EVAL, callbacks=[callback]).train()
        return 0.0

    study.optimize(objective, n_trials=1, catch=hd.InvalidParameterError, show_progress_bar=False)
    assert study.trials[0].state == hd.TrialState.FAIL
    reason = study.trials[0].system_attrs["fail_reason"]
    assert "`metric` must be one of the evaluation metrics" in reason and "metric='eval_accuracy'" in reason


def test_several_objectives_return_the_pareto_front(tmp_path: Path) -> None:
    trainer = Trainer(model_init=tiny_llama, args=make_args(tmp_path, num_train_epochs=1), train_dataset=TRAIN,
                      eval_dataset=EVAL)
    runs = hyperparameter_search(trainer, {"learning_rate": hd.Float(1e-4, 1e-2, log=True)}, n_trials=3,
                                 direction=["minimize", "maximize"],
                                 compute_objective=lambda m: (m["eval_loss"], m["eval_runtime"]))
    assert isinstance(runs, list) and runs and all(isinstance(r, BestRun) for r in runs)
    study = runs[0].run_summary
    assert {r.run_id for r in runs} == {str(t.number) for t in study.best_trials}
    for r in runs:
        t = study.trials[int(r.run_id)]
        assert r.objective == list(t.values) and r.hyperparameters == t.params
        assert t.intermediate_values[4] == pytest.approx(t.values)  # both objectives reported at the evaluation
