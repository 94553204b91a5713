"""`hd.samplers.Prior`: piBO beliefs for GP, TPE and Auto (Hvarfner et al. 2022)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.samplers.prior import Prior
from hyperdial.testing import samplers as conformance

SPACE = {"x": hd.Float(0.0, 1.0), "lr": hd.Float(1e-5, 1e-1, log=True), "k": hd.Int(1, 64),
         "act": hd.Categorical(["relu", "tanh", "gelu"])}
CENTRE = {"x": 0.85, "lr": 1e-2, "k": 48, "act": "gelu"}


def _random_history(n: int, seed: int) -> hd.History:
    """n COMPLETE trials at random points with values that carry no information (pure noise)."""
    rng = np.random.default_rng(seed)
    study = hd.create_study(sampler=hd.samplers.Random(seed=seed))
    study.optimize(lambda c: float(rng.standard_normal()), n_trials=n, space=SPACE, show_progress_bar=False)
    return study.history()


def _distance_to_centre(params: dict) -> float:  # type: ignore[type-arg]
    return (abs(params["x"] - 0.85) + abs(math.log10(params["lr"]) + 2) / 4 + abs(params["k"] - 48) / 63
            + (params["act"] != "gelu"))


def _proposal(sampler: object, history: hd.History) -> dict:  # type: ignore[type-arg]
    trial = hd.FrozenTrial(number=len(history.trials), state=hd.TrialState.RUNNING)
    return sampler.sample(history, trial, SPACE)  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("cls", [hd.samplers.GP, hd.samplers.TPE])
def test_prior_pulls_early_proposals_toward_the_centre(cls: type) -> None:
    with_prior, without = [], []
    for seed in range(8):
        history = _random_history(10, seed)
        with_prior.append(_distance_to_centre(_proposal(cls(seed=seed, prior=Prior(center=CENTRE)), history)))
        without.append(_distance_to_centre(_proposal(cls(seed=seed), history)))
    assert np.mean(with_prior) < 0.5 * np.mean(without), (with_prior, without)


def test_weight_decays_with_the_number_of_observations() -> None:
    prior = Prior(center={"x": 0.5}, beta=10.0)
    assert [prior.weight(n) for n in (1, 10, 100)] == [10.0, 1.0, 0.1]
    assert prior.weight(0) == 10.0  # counted from 1
    # On the samplers: the same 10-trial history, then 400 trials: the pull is gone.
    history = _random_history(400, 0)
    late = [_distance_to_centre(_proposal(hd.samplers.TPE(seed=s, prior=Prior(center=CENTRE)), history))
            for s in range(8)]
    plain = [_distance_to_centre(_proposal(hd.samplers.TPE(seed=s), history)) for s in range(8)]
    assert np.mean(late) > 0.6 * np.mean(plain), (late, plain)


@pytest.mark.parametrize("cls", [hd.samplers.GP, hd.samplers.TPE])
def test_a_wrong_prior_is_overcome(cls: type) -> None:
    # Belief at (0.9, 0.9), optimum at (0.1, 0.2): the decay lets the data win.
    wrong = Prior(center={"x": 0.9, "y": 0.9})
    bests = []
    for seed in range(3):
        study = hd.create_study(sampler=cls(seed=seed, prior=wrong))
        study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.1) ** 2 + (t.suggest_float("y", 0, 1) - 0.2) ** 2,
                       n_trials=60, show_progress_bar=False)
        bests.append(study.best_value)
        late = [t.params for t in study.trials[-10:]]
        assert np.mean([p["x"] for p in late]) < 0.5  # the last proposals sit by the optimum, not the belief
    assert max(bests) < 0.01, bests


def test_auto_hands_the_prior_to_gp() -> None:
    prior = Prior(center=CENTRE)
    history = _random_history(12, 3)
    via_auto = _proposal(hd.samplers.Auto(seed=3, prior=prior), history)
    direct = _proposal(hd.samplers.GP(seed=3, prior=prior), history)
    plain = _proposal(hd.samplers.Auto(seed=3), history)
    assert via_auto == direct
    assert via_auto != plain


def test_log_pdf_and_sample() -> None:
    term = Prior(center={"x": 0.25, "c": "b"}, width=0.1, choice_mass=0.5).term(
        {"x": hd.Float(0, 1), "c": hd.Categorical(["a", "b", "c"]), "free": hd.Float(0, 1)})
    assert term is not None
    x = np.array([[0.25, 0.5, 0.3], [0.35, 0.1, 0.9]])  # c = "b" (cell 1), then "a"
    value, grad = term.log_pdf(x, grad=True)
    assert value == pytest.approx([math.log(0.5), -0.5 + math.log(0.25)])
    assert grad is not None and grad[1, 0] == pytest.approx(-10.0) and grad[:, 1:].tolist() == [[0, 0], [0, 0]]
    u, cells = term.sample(np.random.default_rng(0), 4000)
    assert abs(np.mean(u[:, 0]) - 0.25) < 0.01 and abs(np.std(u[:, 0]) - 0.1) < 0.01
    assert abs(np.mean(cells[:, 1] == 1) - 0.5) < 0.03
    assert abs(np.mean(u[:, 2]) - 0.5) < 0.02  # unnamed: flat
    assert Prior(center={"other": 1}).term({"x": hd.Float(0, 1)}) is None


# Every parameter name the conformance suite uses, each believed at a value inside all of its ranges
# there (a single-valued parameter is skipped, so "c" = "adam" does not clash with Categorical(["only"])).
CONFORMANCE_BELIEF = {"f": 0.5, "flog": 1e-3, "fstep": 0.5, "i": 3, "ilog": 32, "istep": 64, "c": "adam",
                      "kind": "tree", "alpha": 1e-2, "depth": 4, "lr": 0.1, "x": 0.5, "y": 0.5}


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("cls", [hd.samplers.GP, hd.samplers.TPE, hd.samplers.Auto])
def test_samplers_with_a_prior_pass_the_conformance_suite(cls: type, check: object) -> None:
    check(lambda seed: cls(seed=seed, prior=Prior(center=CONFORMANCE_BELIEF)))  # type: ignore[operator]


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "param"), [
    ({"center": {}}, "center"), ({"center": [("x", 1)]}, "center"), ({"center": {1: 0.5}}, "center"),
    ({"center": {"x": 0.5}, "width": 0}, "width"), ({"center": {"x": 0.5}, "width": math.inf}, "width"),
    ({"center": {"x": 0.5}, "choice_mass": 1.0}, "choice_mass"), ({"center": {"x": 0.5}, "beta": -1}, "beta"),
])
def test_bad_prior_arguments(kwargs: dict, param: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(hd.InvalidParameterError, match=f"`{param}`"):
        Prior(**kwargs)


@pytest.mark.parametrize("cls", [hd.samplers.GP, hd.samplers.TPE, hd.samplers.Auto])
def test_samplers_refuse_a_prior_that_is_not_one(cls: type) -> None:
    with pytest.raises(hd.InvalidParameterError, match="`prior`"):
        cls(prior={"x": 0.5})


@pytest.mark.parametrize("cls", [hd.samplers.GP, hd.samplers.TPE])
def test_a_belief_outside_the_space_names_the_parameter(cls: type) -> None:
    study = hd.create_study(sampler=cls(seed=0, n_startup_trials=2, prior=Prior(center={"x": 5.0})))
    with pytest.raises(hd.InvalidParameterError, match=r"prior.center\['x'\].*5.0"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4, show_progress_bar=False)


# -- presets --------------------------------------------------------------------------------
def test_preset_prior_is_its_defaults() -> None:
    preset = hd.presets.svm(n_features=10)
    prior = preset.prior(width=0.1, beta=5.0)
    assert prior.center == dict(preset.defaults)
    assert (prior.width, prior.beta) == (0.1, 5.0)


def test_tune_with_prior_hands_the_defaults_to_auto() -> None:
    # The wiring; what the prior does to Auto's proposals is test_auto_hands_the_prior_to_gp and
    # test_prior_pulls_early_proposals_toward_the_centre (seeded, so they cannot flake).
    preset = hd.presets.svm(n_features=10)
    with_prior = preset.tune(lambda c: 0.5, n_trials=2, prior=True, show_progress_bar=False)
    plain = preset.tune(lambda c: 0.5, n_trials=2, show_progress_bar=False)
    assert isinstance(with_prior.sampler, hd.samplers.Auto) and with_prior.sampler.prior is not None
    assert with_prior.sampler.prior.center == dict(preset.defaults)
    assert getattr(plain.sampler, "prior", None) is None
    assert with_prior.trials[0].params == dict(preset.defaults)  # still the defaults first


def test_tune_prior_needs_a_sampler_with_a_prior() -> None:
    preset = hd.presets.svm()
    with pytest.raises(hd.InvalidParameterError, match="`prior`.*prior=preset.prior"):
        preset.tune(lambda c: 0.0, n_trials=1, prior=True, study=hd.create_study(sampler=hd.samplers.TPE()))
    with pytest.raises(hd.InvalidParameterError, match="`prior`"):
        preset.tune(lambda c: 0.0, n_trials=1, prior="yes")  # type: ignore[arg-type]
    study = hd.create_study(sampler=hd.samplers.TPE(prior=preset.prior()))
    preset.tune(lambda c: 0.0, n_trials=2, prior=True, study=study, show_progress_bar=False)
    assert len(study.trials) == 2
