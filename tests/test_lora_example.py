"""examples/lora_finetune.py, tiny form, end to end: real pretraining, real LoRA fine-tuning, real ASHA."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lora_finetune.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("lora_finetune_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(1200)  # a minute on a quiet 2-core machine; generous for a loaded one
def test_tiny_lora_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example()
    study = example.main(["--size", "tiny", "--workdir", str(tmp_path), "--storage", f"sqlite:///{tmp_path}/s.db"])
    out = capsys.readouterr().out
    trials = study.trials
    preset = hd.presets.lora_finetune().only(["learning_rate", "num_train_epochs", "r"])
    assert len(trials) == example.SIZES["tiny"].n_trials == 20
    assert study.user_attrs["preset"] == {"name": "lora_finetune", "version": "1"}

    defaults = trials[0]  # the preset's defaults run first
    assert defaults.params == dict(preset.defaults)
    assert defaults.state == hd.TrialState.COMPLETE
    curve = [defaults.intermediate_values[s] for s in sorted(defaults.intermediate_values)]
    assert sorted(defaults.intermediate_values) == [1, 2, 3]  # one report per epoch, 3 epochs by default
    assert curve == sorted(curve, reverse=True) and curve[-1] < defaults.user_attrs["eval_loss_before"]  # it trains

    pruned = [t for t in trials if t.state == hd.TrialState.PRUNED]
    assert pruned, "ASHA stopped no trial"
    assert all(len(t.intermediate_values) < t.params["num_train_epochs"] for t in pruned)  # stopped early

    assert study.best_value <= defaults.value
    gain = preset.gain(study)
    assert gain["absolute"] >= 0 and gain["default_trial"] == 0
    assert all(math.isfinite(v) for v in study.importance().values())
    for line in ("parameter importance (study.importance(), PED-ANOVA):", "preset gain: defaults (trial 0)",
                 f"best trial {study.best_trial.number}: eval loss"):
        assert line in out
    assert (tmp_path / "base" / "config.json").exists()  # the base model was built and saved here, not downloaded


@pytest.mark.timeout(1200)
def test_tiny_lora_example_staged_tunes_the_rank_last(tmp_path: Path) -> None:
    example = load_example()
    n = 8
    study = example.main(["--size", "tiny", "--staged", "--n-trials", str(n), "--workdir", str(tmp_path)])
    trials = sorted(study.trials, key=lambda t: t.number)
    preset = hd.presets.lora_finetune().only(["learning_rate", "num_train_epochs", "r"])
    first_stage = hd.samplers.default_stages(3, n)[0].trials
    assert len(trials) == n and 0 < first_stage < n
    # stage 1 tunes learning_rate and num_train_epochs; the rank stays at the preset's default until it ends
    assert all(t.params["r"] == preset.defaults["r"] for t in trials[:first_stage])
    assert len({t.params["learning_rate"] for t in trials[:first_stage]}) == first_stage
