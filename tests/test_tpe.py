"""hd.samplers.TPE: conformance, the estimator's math, the split, and behaviour on known problems."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conditional_objectives import svc_like

import hyperdial as hd
from hyperdial.exceptions import InvalidParameterError
from hyperdial.history import History
from hyperdial.pareto import hypervolume
from hyperdial.samplers.tpe import TPE
from hyperdial.samplers.tpe.encoding import Layout
from hyperdial.samplers.tpe.parzen import Parzen
from hyperdial.samplers.tpe.split import COMPLETE, PRUNED, split
from hyperdial.testing import samplers as conformance

SEEDS = range(5)


# -- conformance -------------------------------------------------------------------------
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "univariate": {"multivariate": False},
    "hyperopt-bandwidth": {"bandwidth": "hyperopt"},
    "no-group-no-liar": {"group": False, "constant_liar": False},
}


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_conformance(check: Callable[..., None], variant: str) -> None:
    # n_startup_trials=5 so that most of the 24 conformance trials come from the model.
    check(lambda seed: TPE(seed=seed, n_startup_trials=5, **VARIANTS[variant]))


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"n_startup_trials": 2.5}, "n_startup_trials"),
        ({"n_ei_candidates": 0}, "n_ei_candidates"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": "ten"}, "gamma"),
        ({"weights": [1.0]}, "weights"),
        ({"prior_weight": 0}, "prior_weight"),
        ({"multivariate": "yes"}, "multivariate"),
        ({"constant_liar": 1}, "constant_liar"),
        ({"min_bandwidth": 2.0}, "min_bandwidth"),
        ({"bandwidth": "silverman"}, "bandwidth"),
        ({"group": None}, "group"),
        ({"magic_clip": "no"}, "magic_clip"),
        ({"seed": -3}, "seed"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"`{param}`"):
        TPE(**kwargs)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        TPE(10)  # type: ignore[call-arg]


def test_bad_gamma_and_weights_results_are_reported() -> None:
    trials = _quadratic_trials(20)
    h = History(("minimize",), trials)
    with pytest.raises(InvalidParameterError, match="`gamma`"):
        TPE(seed=0, gamma=lambda n: -1).sample(h, _running(20), h.joint_space())
    with pytest.raises(InvalidParameterError, match="`weights`"):
        TPE(seed=0, weights=lambda n: -np.ones(n)).sample(h, _running(20), h.joint_space())


# -- the Parzen estimator ------------------------------------------------------------------
def _fit(space: dict[str, Any], values: list[dict[str, Any]]) -> tuple[Layout, Parzen]:
    layout = Layout(space)
    enc = [layout.encode(v) for v in values]
    u = np.array([e[0] for e in enc])
    cells = np.array([e[1] for e in enc])
    return layout, Parzen(layout, u, cells, layout.features(u, cells), np.ones(len(values)))


@pytest.mark.parametrize(
    "dist",
    [hd.Int(1, 6), hd.Int(1, 40, log=True), hd.Float(0.0, 1.0, step=0.1), hd.Categorical(["a", "b", "c", "d"])],
)
def test_discrete_kernels_are_probability_masses(dist: Any) -> None:
    values = [dist.to_external(v) for v in (0, 1, 1, 2)] if isinstance(dist, hd.Categorical) else [dist.low] * 3
    layout, p = _fit({"v": dist}, [{"v": v} for v in values])
    d = layout.dims[0]
    cells = np.arange(d.cells)
    u = d.centres if d.centres is not None else (cells + 0.5) / d.cells
    mass = np.exp(p.log_pdf(u[:, None], cells[:, None]))
    assert mass.sum() == pytest.approx(1.0, abs=1e-9)
    assert int(np.argmax(mass)) == layout.encode({"v": values[1]})[1][0]  # the mode is where the data are


def test_continuous_density_integrates_to_one_and_peaks_at_the_data() -> None:
    _, p = _fit({"x": hd.Float(-2.0, 2.0), "lr": hd.Float(1e-4, 1.0, log=True)},
                     [{"x": 1.5, "lr": 1e-3}, {"x": 1.8, "lr": 2e-3}, {"x": 1.6, "lr": 1e-3}])
    g = (np.arange(400) + 0.5) / 400
    xx, yy = np.meshgrid(g, g)
    pts = np.c_[xx.ravel(), yy.ravel()]
    dens = np.exp(p.log_pdf(pts, np.full(pts.shape, -1)))
    assert dens.mean() == pytest.approx(1.0, rel=1e-3)  # the box has volume 1
    top = pts[np.argmax(dens)]
    assert top[0] > 0.8 and top[1] < 0.35  # x near 1.6 (0.9 in the box), lr near 1e-3 (0.25)


def test_samples_follow_the_density() -> None:
    _, p = _fit({"x": hd.Float(0.0, 1.0), "c": hd.Categorical(["a", "b", "c"])},
                     [{"x": 0.2, "c": "b"}] * 20)
    u, cells = p.sample(np.random.default_rng(0), 4000)
    assert np.all((u >= 0) & (u <= 1))
    near = np.abs(u[:, 0] - 0.2) < 0.1
    assert near.mean() > 0.6  # most draws come from the 20 kernels at 0.2 (1 in 21 from the prior)
    assert np.mean(cells[:, 1] == 1) > 0.8


# -- the split ------------------------------------------------------------------------------
def test_split_orders_complete_then_pruned_then_infeasible() -> None:
    state = np.array([COMPLETE, COMPLETE, PRUNED, PRUNED, PRUNED, COMPLETE, 2])
    values = np.array([[3.0], [1.0], [np.nan], [np.nan], [np.nan], [0.0], [np.nan]])
    violation = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0])
    last_step = np.array([-np.inf, -np.inf, 5.0, 9.0, 9.0, -np.inf, -np.inf])
    last_value = np.array([np.nan, np.nan, 0.1, 0.5, 0.3, np.nan, np.nan])
    kw: dict[str, Any] = {"state": state, "values": values, "signs": np.array([1.0]), "violation": violation,
                          "last_step": last_step, "last_value": last_value}
    order = [set(np.flatnonzero(split(**kw, n_below=k))) for k in range(1, 8)]
    # value 1.0 < 3.0 < pruned (step 9 before step 5; at step 9 the better value first) < infeasible
    assert order[:6] == [{1}, {1, 0}, {1, 0, 4}, {1, 0, 4, 3}, {1, 0, 4, 3, 2}, {1, 0, 4, 3, 2, 5}]
    assert order[6] == order[5]  # the FAIL row (state 2) is never good
    maximize = split(**{**kw, "signs": np.array([-1.0])}, n_below=1)
    assert list(np.flatnonzero(maximize)) == [0]


def test_split_multi_objective_takes_whole_fronts_then_hypervolume() -> None:
    y = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [2.5, 2.5], [3.0, 3.0], [5.0, 5.0], [1.5, 3.9]])
    n = len(y)
    kw: dict[str, Any] = {"state": np.zeros(n, dtype=np.int8), "values": y, "signs": np.array([1.0, 1.0]),
                          "violation": np.zeros(n), "last_step": np.full(n, -np.inf), "last_value": np.full(n, np.nan)}
    front = {0, 1, 2, 6}
    assert set(np.flatnonzero(split(**kw, n_below=4))) == front
    assert set(np.flatnonzero(split(**kw, n_below=5))) == front | {3}
    three = set(np.flatnonzero(split(**kw, n_below=3)))
    assert three < front and {0, 2} <= three  # the extremes add the most volume
    best = max(hypervolume(y[sorted(front - {i})], [5.5, 5.5]) for i in front)
    assert hypervolume(y[sorted(three)], [5.5, 5.5]) == pytest.approx(best)


# -- behaviour ----------------------------------------------------------------------------
def _running(number: int, params: dict[str, Any] | None = None, space: dict[str, Any] | None = None) -> hd.FrozenTrial:
    return hd.FrozenTrial(number=number, state=hd.TrialState.RUNNING, params=dict(params or {}),
                          distributions=dict(space or {}))


SPACE2 = {"x": hd.Float(-5.0, 5.0), "y": hd.Float(-5.0, 5.0)}


def _quadratic_trials(n: int, seed: int = 0) -> list[hd.FrozenTrial]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = {"x": float(rng.uniform(-5, 5)), "y": float(rng.uniform(-5, 5))}
        out.append(hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=((p["x"] - 1) ** 2 + p["y"] ** 2,),
                                  params=p, distributions=dict(SPACE2)))
    return out


def _run(sampler: Any, objective: Callable[[Any], Any], n: int, **kwargs: Any) -> hd.Study:
    study = hd.create_study(sampler=sampler, **kwargs)
    study.optimize(objective, n_trials=n, show_progress_bar=False)
    return study


def _quadratic4(t: Any) -> float:
    return sum((t.suggest_float(f"x{i}", -5.0, 5.0) - 0.5 * i) ** 2 for i in range(4))


@pytest.mark.parametrize("variant", ["default", "univariate", "hyperopt-bandwidth"])
def test_beats_random_on_a_quadratic(variant: str) -> None:
    tpe = [_run(TPE(seed=s, **VARIANTS[variant]), _quadratic4, 60).best_value for s in SEEDS]
    rnd = [_run(hd.samplers.Random(seed=s), _quadratic4, 60).best_value for s in SEEDS]
    assert np.mean(tpe) < 0.5 * np.mean(rnd)


def _mixed(t: Any) -> float:
    lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = t.suggest_int("layers", 1, 10)
    batch = t.suggest_int("batch", 16, 256, step=16)
    opt = t.suggest_categorical("opt", ["sgd", "adam", "rmsprop", "adagrad"])
    return (math.log10(lr) + 3) ** 2 + (layers - 7) ** 2 / 4 + ((batch - 96) / 64) ** 2 + (opt != "adam")


def test_beats_random_on_mixed_log_int_step_and_categorical() -> None:
    tpe = [_run(TPE(seed=s), _mixed, 60) for s in SEEDS]
    rnd = [_run(hd.samplers.Random(seed=s), _mixed, 60) for s in SEEDS]
    assert np.mean([s.best_value for s in tpe]) < 0.5 * np.mean([s.best_value for s in rnd])
    late = [t.params for s in tpe for t in s.trials[30:]]
    assert np.mean([p["opt"] == "adam" for p in late]) > 0.5  # the model found the right category
    assert np.mean([abs(p["layers"] - 7) <= 1 for p in late]) > 0.5


def test_conditional_space_is_modelled_not_random() -> None:
    # 10 seeds: a run either finds degree 3 or settles on degree 4 (0.125 worse), so per-seed results are bimodal.
    tpe = [_run(TPE(seed=s), svc_like, 60) for s in range(10)]
    rnd = [_run(hd.samplers.Random(seed=s), svc_like, 60) for s in range(10)]
    assert np.mean([s.best_value for s in tpe]) < np.mean([s.best_value for s in rnd])
    for study in tpe:
        for t in study.trials:
            expected = {"kernel", "C"} | {"poly": {"degree", "coef0"}, "rbf": {"gamma"}, "linear": set()}[
                t.params["kernel"]]
            assert set(t.params) == expected
    # Late proposals go to the best branch, and inside it the conditional parameters
    # (modelled on the trials that have them) concentrate on their optimum.
    late = [t.params for s in tpe for t in s.trials[30:]]
    poly = [p for p in late if p["kernel"] == "poly"]
    rnd_poly = [t.params for s in rnd for t in s.trials if t.params["kernel"] == "poly"]
    assert len(poly) > 0.6 * len(late)
    assert np.mean([abs(p["degree"] - 3) for p in poly]) < 0.6 * np.mean([abs(p["degree"] - 3) for p in rnd_poly])
    assert np.mean([abs(p["coef0"] - 0.7) for p in poly]) < 0.5 * np.mean([abs(p["coef0"] - 0.7) for p in rnd_poly])


def test_constant_liar_spreads_parallel_proposals() -> None:
    spreads: dict[bool, list[float]] = {True: [], False: []}
    for liar in (True, False):
        for seed in range(10):
            trials = _quadratic_trials(40, seed)
            sampler = TPE(seed=seed, constant_liar=liar)
            batch: list[hd.FrozenTrial] = []
            for k in range(6):  # six workers ask before any of them reports
                h = History(("minimize",), [*trials, *batch])
                number = 40 + k
                p = sampler.sample(h, _running(number), h.joint_space())
                batch.append(_running(number, p, SPACE2))
            xy = np.array([[t.params["x"], t.params["y"]] for t in batch])
            spreads[liar].append(np.mean([np.linalg.norm(a - b) for i, a in enumerate(xy) for b in xy[i + 1:]]))
    assert np.mean(spreads[True]) > 1.2 * np.mean(spreads[False])


def test_constant_liar_sees_values_proposed_before_the_objective_asks() -> None:
    # The study stores a parameter only when the objective asks for it; the sampler remembers
    # its own joint proposals, so running trials without stored params still count as liars.
    def spread(remember: bool) -> float:
        out = []
        for seed in range(10):
            trials = _quadratic_trials(40, seed)
            sampler = TPE(seed=seed)
            xy = []
            for k in range(6):
                h = History(("minimize",), [*trials, *(_running(40 + i) for i in range(k))])
                p = (sampler if remember else TPE(seed=seed)).sample(h, _running(40 + k), h.joint_space())
                xy.append([p["x"], p["y"]])
            pts = np.array(xy)
            out.append(np.mean([np.linalg.norm(a - b) for i, a in enumerate(pts) for b in pts[i + 1:]]))
        return float(np.mean(out))

    assert spread(remember=True) > 1.2 * spread(remember=False)


def test_multi_objective_steers_to_the_front() -> None:
    def objective(t: Any) -> tuple[float, float]:
        x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(3)]
        g = 1 + 9 * (x[1] ** 2 + x[2] ** 2) / 2
        return x[0], g * (1 - math.sqrt(x[0] / g))  # ZDT1-like: front at x1 = x2 = 0

    def hv(study: hd.Study) -> float:
        return hypervolume([list(t.values or ()) for t in study.best_trials], [1.1, 11.0])

    tpe = [hv(_run(TPE(seed=s), objective, 60, directions=["minimize", "minimize"])) for s in SEEDS]
    rnd = [hv(_run(hd.samplers.Random(seed=s), objective, 60, directions=["minimize", "minimize"])) for s in SEEDS]
    assert np.mean(tpe) > np.mean(rnd) + 0.3


def test_constraints_steer_to_the_feasible_region() -> None:
    def objective(t: Any) -> float:
        x, y = t.suggest_float("x", -2.0, 2.0), t.suggest_float("y", -2.0, 2.0)
        t.set_constraint([1.0 - x - y])  # feasible when x + y >= 1
        return x * x + y * y  # constrained optimum at x = y = 0.5

    def stats(sampler: Any) -> tuple[float, float]:
        study = _run(sampler, objective, 60)
        late = study.trials[20:]
        return float(np.mean([t.feasible for t in late])), float(study.best_value)

    tpe = [stats(TPE(seed=s)) for s in SEEDS]
    rnd = [stats(hd.samplers.Random(seed=s)) for s in SEEDS]
    assert np.mean([f for f, _ in tpe]) > np.mean([f for f, _ in rnd]) + 0.2
    assert np.mean([v for _, v in tpe]) < np.mean([v for _, v in rnd])
    assert all(v >= 0.5 - 1e-9 for _, v in tpe)  # best_value only counts feasible trials


def test_pruned_trials_inform_the_model() -> None:
    # Only pruned trials near x = 2 got deep; the model must propose near there.
    rng = np.random.default_rng(0)
    space = {"x": hd.Float(-5.0, 5.0)}
    trials = []
    for i in range(40):
        x = float(rng.uniform(-5, 5))
        steps = 10 if abs(x - 2) < 1 else 1
        trials.append(hd.FrozenTrial(number=i, state=hd.TrialState.PRUNED, values=(1.0,), params={"x": x},
                                     distributions=dict(space),
                                     intermediate_values={s: 1.0 for s in range(steps)}))
    trials.append(hd.FrozenTrial(number=40, state=hd.TrialState.COMPLETE, values=(5.0,), params={"x": -4.0},
                                 distributions=dict(space)))
    h = History(("minimize",), trials)
    xs = [TPE(seed=s).sample(h, _running(41), space)["x"] for s in range(8)]
    assert np.mean([abs(x - 2) < 1.5 for x in xs]) >= 0.75


def test_cache_does_not_change_results() -> None:
    # A sampler that has seen other histories (another study, trials finishing out of order)
    # proposes exactly what a fresh one does.
    trials = _quadratic_trials(60)
    shuffled = [trials[i] for i in np.random.default_rng(1).permutation(60)]
    warm = TPE(seed=3)
    other = _quadratic_trials(60, seed=9)
    for k in (20, 35, 60):
        h_other = History(("minimize",), other[:k])
        warm.sample(h_other, _running(k), h_other.joint_space())
    for k in (30, 45, 60):
        h = History(("minimize",), sorted(shuffled[:k], key=lambda t: t.number))
        expected = TPE(seed=3).sample(h, _running(100), h.joint_space())
        assert warm.sample(h, _running(100), h.joint_space()) == expected


def test_failed_trials_are_ignored_and_other_ranges_filtered() -> None:
    trials = _quadratic_trials(30)
    failed = [hd.FrozenTrial(number=30 + i, state=hd.TrialState.FAIL, params={"x": 4.9, "y": 4.9},
                             distributions=dict(SPACE2)) for i in range(20)]
    space = {"x": SPACE2["x"]}
    with_fails = TPE(seed=0).sample(History(("minimize",), [*trials, *failed]), _running(50), space)
    assert with_fails == TPE(seed=0).sample(History(("minimize",), trials), _running(50), space)
    # A trial whose value lies outside the asked range (the range changed) cannot be a kernel.
    wider = hd.FrozenTrial(number=50, state=hd.TrialState.COMPLETE, values=(0.0,), params={"x": 9.0},
                           distributions={"x": hd.Float(-10.0, 10.0)})
    for seed in range(5):
        assert space["x"].contains(TPE(seed=seed).sample(History(("minimize",), [*trials, wider]), _running(51),
                                                         space)["x"])


def test_truncation_cache_matches_direct_computation() -> None:
    # g(x)'s truncation constants are cached per observation and recomputed per changed
    # bandwidth; every answer must equal computing them afresh.
    from hyperdial.samplers.tpe.parzen import TruncationCache, log_truncation

    rng = np.random.default_rng(0)
    m = rng.random((300, 3))
    cache = TruncationCache(3)
    sigma = np.array([0.1, 0.2, 0.3])
    for n, change in ((100, None), (150, None), (150, 1), (300, 0), (300, None)):
        if change is not None:
            sigma = sigma.copy()
            sigma[change] *= 1.5
        rows = rng.choice(n, size=n // 2, replace=False)
        expected = log_truncation(m[rows], sigma).sum(axis=1)
        np.testing.assert_allclose(cache.log_z(m[:n], rows, sigma), expected, rtol=1e-12)


def test_many_observations_propose_what_the_uncached_estimator_would(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past 64 bad observations the sampler caches g(x)'s truncation constants; after warming the
    # cache on smaller histories (other bandwidths), the proposal must be the uncached one.
    import hyperdial.samplers.tpe.sampler as tpe_module

    trials = _quadratic_trials(200)
    h = History(("minimize",), trials)
    cached = TPE(seed=5)
    for k in (150, 199):
        cached.sample(History(("minimize",), trials[:k]), _running(500), h.joint_space())
    got = cached.sample(h, _running(500), h.joint_space())
    monkeypatch.setattr(tpe_module, "_CACHE_TRUNCATION", 10**9)
    assert got == TPE(seed=5).sample(h, _running(500), h.joint_space())


def test_first_k_is_a_stable_argsorts_first_k() -> None:
    from hyperdial.samplers.tpe.split import _first_k

    rng = np.random.default_rng(0)
    for i in range(300):
        n = int(rng.integers(1, 200))
        k = int(rng.integers(1, n + 1))
        v = rng.integers(0, 10, n).astype(float) if i % 2 else rng.random(n)
        assert set(_first_k(v, k).tolist()) == set(np.argsort(v, kind="stable")[:k].tolist())
