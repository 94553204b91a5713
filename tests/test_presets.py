"""hyperdial.presets: every preset is well-formed; with_/only/tune/gain behave."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.presets import Preset
from hyperdial.space import Distribution

ALL: list[Callable[[], Preset]] = [
    hd.presets.adam,
    hd.presets.sgd,
    hd.presets.lora_finetune,
    hd.presets.full_finetune,
    hd.presets.xgboost,
    hd.presets.lightgbm,
    hd.presets.random_forest,
    hd.presets.svm,
]


@pytest.mark.parametrize("factory", ALL, ids=lambda f: f.__name__)
def test_every_preset_is_well_formed(factory: Callable[[], Preset]) -> None:
    p = factory()
    assert p.name == factory.__name__ and p.version == "1"
    assert p.space and all(isinstance(d, Distribution) for d in p.space.values())
    assert set(p.defaults) == set(p.space)
    for key, dist in p.space.items():
        assert dist.contains(p.defaults[key]), key
        assert isinstance(p.sources[key], str) and p.sources[key].strip(), key
    assert sorted(p.priority) == sorted(p.space) and len(set(p.priority)) == len(p.priority)
    assert set(p.sources) == set(p.space)
    assert factory() == p  # deterministic, comparable


def test_lora_finetune_names_defaults_priority() -> None:
    p = hd.presets.lora_finetune()
    assert p.priority[:3] == ("learning_rate", "num_train_epochs", "r")
    assert p.space["learning_rate"] == hd.Float(1e-5, 1e-3, log=True)
    assert p.space["r"] == hd.Categorical([4, 8, 16, 32, 64])
    assert p.space["lora_alpha"] == hd.Categorical([8, 16, 32, 64])
    assert p.defaults["learning_rate"] == 2e-4
    assert p.defaults["num_train_epochs"] == 3
    assert p.defaults["r"] == 16 and p.defaults["lora_alpha"] == 32
    assert p.defaults["lora_dropout"] == 0.05
    assert p.defaults["per_device_train_batch_size"] in (8, 16)
    assert "Dettmers" in p.sources["learning_rate"]


def test_documented_decisions() -> None:
    adam = hd.presets.adam()
    assert adam.defaults["weight_decay"] == 0.0 and not adam.space["weight_decay"].log  # type: ignore[attr-defined]
    assert adam.defaults["lr"] == 1e-4 and adam.defaults["batch_size"] == 32
    assert hd.presets.sgd().defaults["momentum"] == 0.9
    rf = hd.presets.random_forest()
    assert rf.defaults["max_depth"] is None and rf.space["max_depth"].contains(None)
    assert rf.defaults["max_features"] == "sqrt" and rf.defaults["n_estimators"] == 100
    xgb = hd.presets.xgboost().defaults
    assert (xgb["eta"], xgb["max_depth"], xgb["subsample"], xgb["min_child_weight"], xgb["lambda"], xgb["alpha"]) == (
        0.3, 6, 1.0, 1.0, 1.0, 0.0)
    assert hd.presets.lightgbm().defaults["learning_rate"] == 0.1
    assert hd.presets.svm().defaults["gamma"] == 0.1
    assert hd.presets.svm(n_features=4).defaults["gamma"] == 0.25
    with pytest.raises(hd.InvalidParameterError, match="n_features"):
        hd.presets.svm(n_features=0)


def _toy(**kw: Any) -> Preset:
    args: dict[str, Any] = {
        "name": "toy", "version": "1",
        "space": {"x": hd.Float(-5.0, 5.0), "k": hd.Categorical(["a", "b"])},
        "defaults": {"x": 0.0, "k": "a"}, "priority": ("x", "k"), "sources": {"x": "s", "k": "s"},
    }
    args.update(kw)
    return Preset(**args)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"defaults": {"x": 9.0, "k": "a"}}, r"defaults\['x'\].*inside its distribution"),
        ({"defaults": {"x": 0.0}}, r"defaults\['k'\].*required"),
        ({"sources": {"x": "s"}}, r"sources\['k'\]"),
        ({"sources": {"x": "s", "k": " "}}, r"sources\['k'\]"),
        ({"priority": ("x",)}, "priority"),
        ({"priority": ("x", "k", "x")}, "priority"),
        ({"priority": "xk"}, "priority"),
        ({"space": {"x": (0, 1), "k": hd.Categorical(["a"])}}, r"space\['x'\]"),
        ({"defaults": {"x": 0.0, "k": "a", "z": 1}}, "defaults"),
        ({"version": 1}, "version"),
    ],
)
def test_preset_validation_names_the_parameter(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(hd.InvalidParameterError, match=match):
        _toy(**kw)


def test_with_replaces_and_adds() -> None:
    p = _toy()
    q = p.with_(x=hd.Float(-1.0, 1.0))  # old default 0.0 still inside: kept
    assert q.defaults["x"] == 0.0 and q.space["x"] == hd.Float(-1.0, 1.0) and q.priority == ("x", "k")
    assert q.sources["x"] != "s" and q.sources["k"] == "s"
    r = p.with_(y=hd.Int(1, 4), defaults={"y": 2}, sources={"y": "my paper"})
    assert r.priority == ("x", "k", "y") and r.defaults["y"] == 2 and r.sources["y"] == "my paper"
    s = p.with_(y=hd.Int(1, 4), defaults={"y": 2}, priority=("y", "x", "k"))
    assert s.priority == ("y", "x", "k")
    t = p.with_(x=hd.Float(1.0, 2.0), defaults={"x": 1.5})
    assert t.defaults["x"] == 1.5
    assert p.defaults["x"] == 0.0 and "y" not in p.space  # p is unchanged


def test_with_errors() -> None:
    p = _toy()
    with pytest.raises(hd.InvalidParameterError, match=r"defaults\['x'\].*outside the new range"):
        p.with_(x=hd.Float(1.0, 2.0))
    with pytest.raises(hd.InvalidParameterError, match=r"defaults\['y'\].*required"):
        p.with_(y=hd.Int(1, 4))
    with pytest.raises(hd.InvalidParameterError, match=r"defaults\['x'\].*inside"):
        p.with_(x=hd.Float(1.0, 2.0), defaults={"x": 3.0})
    with pytest.raises(hd.InvalidParameterError, match="x"):
        p.with_(x=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(hd.InvalidParameterError, match="defaults"):
        p.with_(defaults={"nope": 1})
    with pytest.raises(hd.InvalidParameterError, match="priority"):
        p.with_(y=hd.Int(1, 4), defaults={"y": 1}, priority=("x", "k"))


def test_only_narrows_keeping_order() -> None:
    p = hd.presets.adam()
    q = p.only(["beta2", "lr", "dropout"])
    assert q.priority == ("lr", "dropout", "beta2")
    assert set(q.space) == {"lr", "dropout", "beta2"}
    assert q.defaults == {k: p.defaults[k] for k in ("lr", "dropout", "beta2")}
    assert q.sources["lr"] == p.sources["lr"] and q.version == p.version
    with pytest.raises(hd.InvalidParameterError, match="names"):
        p.only(["lr", "nope"])
    with pytest.raises(hd.InvalidParameterError, match="names"):
        p.only([])
    with pytest.raises(hd.InvalidParameterError, match="names"):
        p.only("lr")


def _objective(config: dict[str, Any]) -> float:
    # minimum at lr=1e-3, beta1=0.95; the defaults (lr=1e-4, beta1=0.9) are worse
    return (math.log10(config["lr"]) + 3) ** 2 + (config["beta1"] - 0.95) ** 2 + 1.0


def test_tune_runs_defaults_first_and_reports_gain() -> None:
    p = hd.presets.adam().only(["lr", "beta1"])
    study = p.tune(_objective, n_trials=12, study=hd.create_study(seed=0), show_progress_bar=False)
    first = study.trials[0]
    assert first.params == p.defaults
    assert study.user_attrs["preset"] == {"name": "adam", "version": "1"}
    g = p.gain(study)
    assert g["default_value"] == pytest.approx(_objective(dict(p.defaults)))
    assert g["best_value"] == study.best_value <= g["default_value"]
    assert g["absolute"] == pytest.approx(g["default_value"] - g["best_value"]) and g["absolute"] > 0
    assert g["relative"] == pytest.approx(g["absolute"] / g["default_value"])
    assert g["default_trial"] == 0

    p.tune(_objective, n_trials=3, study=study, show_progress_bar=False)  # rerun: defaults not enqueued again
    assert len(study.trials) == 15
    assert sum(t.params == p.defaults for t in study.trials) == 1


def test_tune_creates_study_maximize_gain_and_defaults_first_off() -> None:
    p = _toy()
    study = p.tune(lambda c: -((c["x"] - 2) ** 2), n_trials=8, study=hd.create_study(direction="maximize", seed=1),
                   show_progress_bar=False)
    g = p.gain(study)
    assert g["absolute"] >= 0 and g["best_value"] >= g["default_value"]
    other = p.tune(lambda c: c["x"], n_trials=2, defaults_first=False, show_progress_bar=False)
    assert len(other.trials) == 2 and other.user_attrs["preset"]["name"] == "toy"
    with pytest.raises(hd.InvalidParameterError, match="defaults"):
        p.gain(hd.create_study())
    with pytest.raises(hd.InvalidParameterError, match="n_trials"):
        p.tune(lambda c: 0.0, n_trials=0)


def test_gain_matches_an_int_default_of_a_float_parameter() -> None:
    p = _toy().with_(x=hd.Float(-5.0, 5.0), defaults={"x": 1})
    study = p.tune(lambda c: (c["x"] - 2) ** 2, n_trials=6, study=hd.create_study(seed=0), show_progress_bar=False)
    assert study.trials[0].params["x"] == 1.0
    assert p.gain(study)["default_trial"] == 0


def test_preset_is_read_only_and_hashable() -> None:
    p = hd.presets.adam()
    with pytest.raises(TypeError):
        p.defaults["lr"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        p.space["lr"] = hd.Float(1.0, 2.0)  # type: ignore[index]
    assert hash(p) == hash(hd.presets.adam()) and p == hd.presets.adam() and p != hd.presets.sgd()


def test_tune_warns_when_the_recorded_preset_changes(caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study(seed=0)
    _toy().tune(lambda c: c["x"] ** 2, n_trials=1, study=study, show_progress_bar=False)
    with caplog.at_level("WARNING", logger="hyperdial.presets"):
        p2 = Preset(name="toy", version="2", space=_toy().space, defaults=_toy().defaults, priority=("x", "k"),
                    sources=_toy().sources)
        p2.tune(lambda c: c["x"] ** 2, n_trials=1, study=study, show_progress_bar=False)
    assert "'version': '1'" in caplog.text
    assert study.user_attrs["preset"] == {"name": "toy", "version": "2"}
