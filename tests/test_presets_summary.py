"""`hd.presets.summary`: gain over a preset's defaults and the stopping rule's verdict; `hyperdial best` prints it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hyperdial as hd

TOY = hd.presets.Preset(name="toy", version="1", space={"x": hd.Float(-5.0, 5.0), "y": hd.Float(-5.0, 5.0)},
                        defaults={"x": 0.0, "y": 0.0}, priority=("x", "y"), sources={"x": "made up", "y": "made up"})


def _noisy(noise_sd: float, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)

    def objective(config: dict, trial: hd.Trial) -> float:  # type: ignore[type-arg]
        folds = (config["x"] - 2) ** 2 + (config["y"] + 1) ** 2 + noise_sd * rng.standard_normal(5)
        hd.stopping.report_cv_scores(trial, folds)
        return float(np.mean(folds))

    return objective


def test_gain_and_a_converged_verdict() -> None:
    study = TOY.tune(_noisy(8.0), n_trials=100, study=hd.create_study(sampler=hd.samplers.TPE(seed=0)),
                     show_progress_bar=False)
    s = hd.presets.summary(study, TOY)
    d = s.as_dict()
    assert d["preset"] == "toy" and d["n_complete"] == 100 and d["direction"] == "minimize"
    assert d["gain"]["default_trial"] == 0
    assert d["default_value"] == study.trials[0].value
    assert d["best_value"] == study.best_value
    assert d["gain"]["absolute"] == pytest.approx(study.trials[0].value - study.best_value)
    assert d["stopping"]["noise_source"] == "cv"
    assert d["more_trials_likely_to_pay"] is False  # fold noise 8.0: the bound is below it by now
    text = s.text()
    assert "Defaults (trial 0)" in text and "better than the defaults" in text and "unlikely to pay" in text
    assert json.loads(json.dumps(d)) == d  # plain data


def test_a_study_still_improving_says_more_trials_may_pay() -> None:
    study = TOY.tune(_noisy(0.001), n_trials=25, study=hd.create_study(sampler=hd.samplers.Random(seed=0)),
                     show_progress_bar=False)
    s = hd.presets.summary(study, TOY)
    assert s.more_trials_likely_to_pay is True
    assert "may still pay" in str(s)


def test_too_early_and_no_defaults_trial() -> None:
    study = TOY.tune(_noisy(0.1), n_trials=5, show_progress_bar=False, defaults_first=False)
    s = hd.presets.summary(study, TOY)
    assert s.more_trials_likely_to_pay is None and s.gain is None
    assert any("defaults" in n for n in s.notes)
    assert "too early" in s.text()


def test_the_recorded_built_in_preset_is_found() -> None:
    preset = hd.presets.svm()

    def objective(config: dict) -> float:  # type: ignore[type-arg]
        return abs(np.log10(config["C"])) + abs(np.log10(config["gamma"]) + 1) + (config["class_weight"] is not None)

    study = preset.tune(objective, n_trials=6, show_progress_bar=False)
    s = hd.presets.summary(study)
    assert (s.preset, s.version) == ("svm", preset.version)
    assert s.gain is not None and s.gain["default_value"] == 0.0


def test_bad_input() -> None:
    plain = hd.create_study()
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, show_progress_bar=False)
    with pytest.raises(hd.InvalidParameterError, match="`preset`.*records no preset"):
        hd.presets.summary(plain)
    with pytest.raises(hd.InvalidParameterError, match="`preset`"):
        hd.presets.summary(plain, "svm")  # type: ignore[arg-type]
    plain.set_user_attr("preset", {"name": "mine", "version": "1"})
    with pytest.raises(hd.InvalidParameterError, match="not a built-in"):
        hd.presets.summary(plain)
    multi = hd.create_study(directions=["minimize", "minimize"])
    with pytest.raises(hd.InvalidParameterError, match="one objective"):
        hd.presets.summary(multi, TOY)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hyperdial", *args], capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)


def test_cli_best_prints_the_summary_of_a_preset_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    preset = hd.presets.svm()

    def objective(config: dict, trial: hd.Trial) -> float:  # type: ignore[type-arg]
        value = abs(np.log10(config["C"]) - 1) + abs(np.log10(config["gamma"]) + 2)
        hd.stopping.report_cv_scores(trial, [value - 0.01, value, value + 0.01])
        return float(value)

    preset.tune(objective, n_trials=22, show_progress_bar=False,
                study=hd.create_study(storage=url, study_name="svm-study", sampler=hd.samplers.TPE(seed=0)))
    hd.create_study(storage=url, study_name="plain").optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2,
                                                               show_progress_bar=False)
    res = _cli("--storage", url, "best", "svm-study", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Preset svm v1: 22 COMPLETE trials (minimize)" in res.stdout
    assert "Defaults (trial 0): 2" in res.stdout and "More trials:" in res.stdout
    res = _cli("--storage", url, "best", "svm-study", "--format", "json", cwd=tmp_path)
    data = json.loads(res.stdout)
    assert data["preset_summary"]["gain"]["default_trial"] == 0
    assert data["preset_summary"]["stopping"]["noise_source"] == "cv"
    res = _cli("--storage", url, "best", "plain", cwd=tmp_path)
    assert res.returncode == 0 and "Preset" not in res.stdout
