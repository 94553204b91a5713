"""`hyperdial.importance`: PED-ANOVA and fANOVA on functions whose importances are known,
checked against Optuna's evaluators on the very same trials, and through Study and the CLI.

Histories are built from FrozenTrials (the boundary), on uniform random samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.importance import Fanova, NotEnoughTrials, PedAnova, evaluate

SPACE3 = {"x1": hd.Float(0, 1), "x2": hd.Float(0, 1), "x3": hd.Float(0, 1)}


def make_history(
    params: list[dict[str, Any]],
    values: list[Any],
    space: Mapping[str, hd.Float | hd.Int | hd.Categorical],
    directions: tuple[str, ...] = ("minimize",),
) -> hd.History:
    trials = [
        hd.FrozenTrial(
            number=i, state=hd.TrialState.COMPLETE,
            values=tuple(v) if isinstance(v, (list, tuple)) else (float(v),),
            params=p, distributions={k: space[k] for k in p},
        )
        for i, (p, v) in enumerate(zip(params, values))
    ]
    return hd.History(directions, trials)


def uniform(n: int, names: list[str], seed: int = 0) -> tuple[np.ndarray, list[dict[str, Any]]]:
    x = np.random.default_rng(seed).uniform(0, 1, (n, len(names)))
    return x, [{k: float(row[j]) for j, k in enumerate(names)} for row in x]


def linear_history(n: int = 200, direction: str = "minimize") -> hd.History:
    x, params = uniform(n, ["x1", "x2", "x3"])
    y = 10 * x[:, 0] + x[:, 1] + 0 * x[:, 2]
    return make_history(params, list(y), SPACE3, (direction,))


@pytest.mark.parametrize("method", ["ped-anova", "fanova"])
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_linear_function_ranks_x1_over_x2_over_x3(method: str, direction: str) -> None:
    imp = evaluate(linear_history(direction=direction), method=method)
    assert list(imp) == ["x1", "x2", "x3"]
    assert sum(imp.values()) == pytest.approx(1.0)
    assert imp["x1"] > 0.8 and imp["x3"] < 0.02


def test_fanova_matches_closed_form_variance_shares_of_an_additive_quadratic() -> None:
    # f = 2 x1 + 12 (x2 - 1/2)^2 + x3, x ~ U[0,1]^3: Var 4/12, 144/180, 1/12 (no interactions).
    x, params = uniform(300, ["x1", "x2", "x3"], seed=1)
    y = 2 * x[:, 0] + 12 * (x[:, 1] - 0.5) ** 2 + x[:, 2]
    exact = np.array([4 / 12, 144 / 180, 1 / 12])
    exact /= exact.sum()  # 0.274, 0.658, 0.068
    imp = Fanova(n_trees=32).evaluate(make_history(params, list(y), SPACE3))
    got = np.array([imp["x1"], imp["x2"], imp["x3"]])
    assert np.abs(got - exact).max() < 0.06, (got, exact)


def test_ped_anova_sees_the_quadratic_parameter_that_a_linear_view_would_miss() -> None:
    x, params = uniform(300, ["x1", "x2", "x3"], seed=2)
    y = (x[:, 1] - 0.5) ** 2 + 0.01 * x[:, 0]  # best x2 is in the middle; x1, x3 hardly matter
    imp = evaluate(make_history(params, list(y), SPACE3))
    assert next(iter(imp)) == "x2" and imp["x2"] > 0.8


CAT_SPACE = {"x": hd.Float(0, 1), "opt": hd.Categorical(["adam", "sgd", "rms"]), "n": hd.Int(1, 4)}


def categorical_trials(n: int = 200) -> tuple[list[dict[str, Any]], list[float]]:
    rng = np.random.default_rng(3)
    x, c, k = rng.uniform(0, 1, n), rng.integers(0, 3, n), rng.integers(1, 5, n)
    y = x + np.array([0.0, 5.0, 5.0])[c] + 0.0 * k  # the categorical dominates, n is irrelevant
    params = [{"x": float(a), "opt": ["adam", "sgd", "rms"][b], "n": int(m)} for a, b, m in zip(x, c, k)]
    return params, list(y)


@pytest.mark.parametrize("method", ["ped-anova", "fanova"])
def test_categorical_parameter(method: str) -> None:
    params, values = categorical_trials()
    imp = evaluate(make_history(params, values, CAT_SPACE), method=method)
    assert set(list(imp)[:2]) == {"opt", "x"} and list(imp)[-1] == "n" and imp["n"] < 0.05
    if method == "fanova":  # variance: opt's jump of 5 dwarfs x's range of 1
        assert next(iter(imp)) == "opt"


def conditional_history(n: int = 200) -> hd.History:
    """`momentum` exists only when opt == 'sgd', and then decides the loss."""
    rng = np.random.default_rng(4)
    space = {"lr": hd.Float(0, 1), "opt": hd.Categorical(["adam", "sgd"]), "momentum": hd.Float(0, 1)}
    params, values = [], []
    for _ in range(n):
        p: dict[str, Any] = {"lr": float(rng.uniform()), "opt": ["adam", "sgd"][int(rng.integers(2))]}
        y = 0.1 * p["lr"] + 1.0
        if p["opt"] == "sgd":
            p["momentum"] = float(rng.uniform())
            y = 0.1 * p["lr"] + 2.0 * p["momentum"]
        params.append(p)
        values.append(y)
    return make_history(params, values, space)


def test_conditional_parameter_ped_anova_counts_it_over_the_trials_that_have_it() -> None:
    imp = evaluate(conditional_history())
    assert set(imp) == {"lr", "opt", "momentum"}
    assert imp["momentum"] > imp["lr"] and imp["opt"] > imp["lr"]


def test_conditional_parameter_fanova_uses_the_joint_space_unless_named() -> None:
    h = conditional_history()
    assert set(evaluate(h, method="fanova")) == {"lr", "opt"}
    named = evaluate(h, method="fanova", params=["lr", "momentum"])  # only the sgd trials
    assert list(named) == ["momentum", "lr"] and named["momentum"] > 0.9


def test_multi_objective_needs_a_target() -> None:
    x, params = uniform(100, ["x1", "x2", "x3"])
    values = [[10 * a + b, c] for a, b, c in x]
    h = make_history(params, values, SPACE3, ("minimize", "maximize"))
    with pytest.raises(hd.InvalidParameterError, match="`target` is required with 2 objectives"):
        evaluate(h)
    assert next(iter(evaluate(h, target=lambda t: t.values[0]))) == "x1"
    assert next(iter(evaluate(h, method="fanova", target=lambda t: t.values[1]))) == "x3"


def test_params_selects_and_orders_by_importance() -> None:
    imp = evaluate(linear_history(), params=["x3", "x2"])
    assert list(imp) == ["x2", "x3"] and sum(imp.values()) == pytest.approx(1.0)


def test_only_complete_finite_trials_count() -> None:
    h = linear_history(50)
    extra = [
        hd.FrozenTrial(number=100, state=hd.TrialState.PRUNED, values=(-1e9,), params={"x3": 0.0},
                       distributions={"x3": SPACE3["x3"]}),
        hd.FrozenTrial(number=101, state=hd.TrialState.FAIL, params={"x3": 0.0}, distributions={"x3": SPACE3["x3"]}),
    ]
    h2 = hd.History(h.directions, [*h.trials, *extra])
    assert evaluate(h2) == evaluate(h)


def test_errors_are_named() -> None:
    one = make_history([{"x1": 0.5}], [1.0], SPACE3)
    with pytest.raises(NotEnoughTrials, match="at least 2 COMPLETE trials"):
        evaluate(one)
    h = linear_history(20)
    with pytest.raises(hd.InvalidParameterError, match=r"`params` must name parameters .* got params=\['nope'\]"):
        evaluate(h, params=["nope"])
    with pytest.raises(hd.InvalidParameterError, match="`method` must be 'ped-anova' or 'fanova'"):
        evaluate(h, method="shap")
    with pytest.raises(hd.InvalidParameterError, match="`seed` must be an int >= 0 or None"):
        evaluate(h, seed=-1)
    with pytest.raises(hd.InvalidParameterError, match="must be a hyperdial History or Study"):
        evaluate([1, 2])
    with pytest.raises(hd.InvalidParameterError, match="`target_quantile` must be < `region_quantile`"):
        PedAnova(target_quantile=0.5, region_quantile=0.4)
    with pytest.raises(hd.InvalidParameterError, match="`n_trees` must be an int >= 1"):
        Fanova(n_trees=0)


def test_light_import_and_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import sys, hyperdial as hd; hd.importance.evaluate; print(sorted({'scipy', 'sklearn'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # as if scikit-learn were not installed
    with pytest.raises(hd.MissingDependency, match=r"fANOVA importance; install it with: pip install 'hyperdial\[importance\]'"):
        evaluate(linear_history(20), method="fanova")
    assert evaluate(linear_history(20))  # PED-ANOVA needs NumPy only


def test_constant_objective_gives_zeros() -> None:
    _, params = uniform(20, ["x1", "x2", "x3"])
    h = make_history(params, [1.0] * 20, SPACE3)
    assert set(evaluate(h, method="fanova").values()) == {0.0}
    assert set(evaluate(h).values()) == {0.0}  # every trial is in the top quantile


# -- against Optuna, on the same trials ---------------------------------------------------------

def to_optuna(h: hd.History) -> Any:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    d = optuna.distributions

    def conv(dist: Any) -> Any:
        if isinstance(dist, hd.Categorical):
            return d.CategoricalDistribution(dist.choices)
        if isinstance(dist, hd.Int):
            return d.IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
        return d.FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)

    study = optuna.create_study(directions=[x.value for x in h.directions])
    for t in h.complete:
        study.add_trial(optuna.trial.create_trial(
            params=t.params, distributions={k: conv(v) for k, v in t.distributions.items()}, values=list(t.values or ()),
        ))
    return study


def optuna_importance(h: hd.History, method: str) -> dict[str, float]:
    optuna = pytest.importorskip("optuna")
    study = to_optuna(h)
    imp = optuna.importance
    ev = imp.PedAnovaImportanceEvaluator() if method == "ped-anova" else imp.FanovaImportanceEvaluator(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental / small-regime warnings
        return {k: float(v) for k, v in imp.get_param_importances(study, evaluator=ev).items()}


def histories() -> dict[str, Callable[[], hd.History]]:
    return {
        "linear": linear_history,
        "maximize": lambda: linear_history(direction="maximize"),
        "categorical": lambda: make_history(*categorical_trials(), CAT_SPACE),
    }


@pytest.mark.parametrize("method", ["ped-anova", "fanova"])
@pytest.mark.parametrize("case", ["linear", "maximize", "categorical"])
def test_same_top_ranking_as_optuna(method: str, case: str) -> None:
    h = histories()[case]()
    ours, theirs = evaluate(h, method=method), optuna_importance(h, method)
    assert list(ours)[:2] == list(theirs)[:2], (ours, theirs)
    # Same algorithm, own code: the shares agree closely too.
    assert max(abs(ours[k] - theirs[k]) for k in ours) < 0.05, (ours, theirs)


@pytest.mark.parametrize("method", ["ped-anova", "fanova"])
def test_same_conditional_ranking_as_optuna(method: str) -> None:
    # PED-ANOVA: condPED-ANOVA weighting on both sides; fANOVA: both on the joint space {lr, opt}.
    h = conditional_history()
    ours, theirs = evaluate(h, method=method), optuna_importance(h, method)
    assert list(ours) == list(theirs), (ours, theirs)
    assert max(abs(ours[k] - theirs[k]) for k in ours) < 0.05, (ours, theirs)


def test_study_importance_delegates() -> None:
    study = hd.create_study(direction="maximize", sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: 10 * t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1) + 0 * t.suggest_int("c", 0, 3),
                   n_trials=60, show_progress_bar=False)
    for method in ("ped-anova", "fanova"):
        imp = study.importance(method=method)
        assert next(iter(imp)) == "a" and imp == evaluate(study.history(), method=method)
    assert list(study.importance(params=["b", "c"])) in (["b", "c"], ["c", "b"])


# -- the command line, in a subprocess on a real SQLite file ----------------------------------

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYPERDIAL_STORAGE"}
    src = str(Path(hd.__file__).resolve().parents[1])  # the hyperdial under test, whatever the cwd
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "hyperdial", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)


def add_complete(study: hd.Study, h: hd.History) -> None:
    study.add_trials(hd.FrozenTrial(number=t.number, state=t.state, values=t.values, params=t.params,
                                    distributions=t.distributions) for t in h.trials)


def test_cli_importance_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'imp.db'}"
    add_complete(hd.create_study(study_name="lin", storage=url), linear_history())
    multi = hd.create_study(study_name="multi\x1b[31m", storage=url, directions=["minimize", "maximize"])
    x, params = uniform(40, ["x1", "x2", "x3"])
    add_complete(multi, make_history(params, [[a, c] for a, _, c in x], SPACE3, ("minimize", "maximize")))
    hd.create_study(study_name="empty", storage=url)

    out = run_cli("--storage", url, "importance", "lin", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["rank", "parameter", "importance"]
    assert [ln.split()[:2] for ln in lines[2:]] == [["1", "x1"], ["2", "x2"], ["3", "x3"]]
    shares = [float(ln.split()[2]) for ln in lines[2:]]
    expected = hd.load_study(study_name="lin", storage=url).importance()
    assert shares == pytest.approx(list(expected.values()), abs=1e-5)

    out = run_cli("importance", "lin", "--method", "fanova", "--format", "json", "--storage", url, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r["parameter"] for r in json.loads(out.stdout)] == ["x1", "x2", "x3"]

    out = run_cli("--storage", url, "importance", "multi\x1b[31m", cwd=tmp_path)
    assert out.returncode == 1 and "choose one with --objective 0..1" in out.stderr and "\x1b" not in out.stderr
    out = run_cli("--storage", url, "importance", "multi\x1b[31m", "--objective", "1", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.splitlines()[2].split()[1] == "x3", out.stderr
    out = run_cli("--storage", url, "importance", "empty", cwd=tmp_path)
    assert out.returncode == 1 and "at least 2 COMPLETE trials" in out.stderr
    out = run_cli("--storage", url, "importance", "nope", cwd=tmp_path)
    assert out.returncode == 1 and "no study named 'nope'" in out.stderr
    out = run_cli("--storage", url, "importance", "lin", "--method", "shap", cwd=tmp_path)
    assert out.returncode == 2 and "invalid choice: 'shap'" in out.stderr
