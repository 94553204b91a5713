"""The sampler-quality benchmark's problems and scoring (benchmarks/bench_problems.py, sampler_report.py).

Regret is only meaningful if each problem's optimum is right, so: the known optimum
value is attained at the known argmin, and nothing nearby or sampled at random beats
it. The optional benchmark dependencies (coco-experiment, Optuna, the YAHPO venv)
skip with a reason when absent; they are not features of the package.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import hyperdial as hd

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_problems as bp
import sampler_report as report


def _check_optimum(problem: bp.Problem, bounds: list[tuple[float, float]], n_random: int, local: bool) -> None:
    assert problem.known_opt is not None
    f_opt, x_opt = problem.known_opt()
    params = problem.suggest(hd.FixedTrial(x_opt))  # FixedTrial refuses a value outside the box
    assert problem.evaluate(params) == pytest.approx(f_opt, abs=1e-9, rel=1e-12)
    names = list(params)
    lo, hi = np.array(bounds).T
    points = np.random.default_rng(0).uniform(lo, hi, size=(n_random, len(names)))
    assert min(problem.evaluate(dict(zip(names, row))) for row in points) > f_opt
    if local:  # nothing next to the optimum is lower either: the regret cannot go negative
        from scipy.optimize import minimize

        x0 = np.array([x_opt[n] for n in names])
        res = minimize(lambda x: problem.evaluate(dict(zip(names, x))), x0 + 1e-3, method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-12, "maxfev": 2000}, bounds=bounds)
        assert res.fun >= f_opt - 1e-9


@pytest.mark.parametrize("name", list(bp.SYNTHETIC))
def test_synthetic_optimum_is_attained_at_its_argmin_and_not_beaten(name: str) -> None:
    _check_optimum(bp.get_problem(name), bp.SYNTHETIC[name][1], n_random=2000, local=True)


def test_bbob_optima_come_from_coco() -> None:
    pytest.importorskip("cocoex", reason="optional benchmark dependency: pip install coco-experiment")
    names = [n for n in bp.PROBLEMS if n.startswith("bbob_")]
    assert len(names) == len(bp.BBOB_FUNCTIONS) * len(bp.BBOB_DIMS)
    for name in names:
        _check_optimum(bp.get_problem(name), [(-5.0, 5.0)] * int(name.split("_d")[1]), n_random=500, local=False)
    # the sphere's optimum is BBOB's f_opt for instance 1 (79.48), the same in every dimension
    assert {bp.get_problem(f"bbob_f01_d{d}").known_opt()[0] for d in bp.BBOB_DIMS} == {79.48}  # type: ignore[misc]


def _data(f_opt: float | None, ref_median: float, ref_min: float, runs: dict[str, list[float]]) -> dict:
    return {
        "references": {"p": {"problem": "p", "group": "g", "median": ref_median, "min": ref_min, "f_opt": f_opt}},
        "runs": {f"p|{s}|0": {"problem": "p", "sampler": s, "seed": 0, "best": best, "overhead": [0.001] * len(best)}
                 for s, best in runs.items()},
    }


def test_normalisation_maps_f_opt_to_zero_and_f_ref_to_one() -> None:
    data = _data(f_opt=-2.0, ref_median=3.0, ref_min=-1.0, runs={"a": [3.0, 3.0, -2.0], "b": [5.0, 3.0, 0.5]})
    sc = report.Scores(data, ["p"], ["a", "b"], seeds=1, budgets=(1, 2, 3))
    assert sc.group_mean(sc.regret, "g", 3, "a") == 0.0
    assert sc.group_mean(sc.regret, "g", 2, "a") == 1.0
    assert sc.group_mean(sc.regret, "g", 3, "b") == pytest.approx(0.5)
    assert sc.group_mean(sc.regret, "g", 1, "b") == pytest.approx(1.4)
    # ranks per cell, ties shared
    assert sc.group_mean(sc.rank, "g", 2, "a") == sc.group_mean(sc.rank, "g", 2, "b") == 1.5
    assert (sc.group_mean(sc.rank, "g", 3, "a"), sc.group_mean(sc.rank, "g", 3, "b")) == (1.0, 2.0)


def test_unknown_optimum_is_the_best_value_seen_so_regret_is_never_negative() -> None:
    data = _data(f_opt=None, ref_median=0.3, ref_min=0.2, runs={"a": [0.25, 0.1], "b": [0.3, 0.3]})
    f_opt, f_ref, known = report.normalisers(data, ["p"])["p"]
    assert (f_opt, f_ref, known) == (0.1, 0.3, False)
    sc = report.Scores(data, ["p"], ["a", "b"], seeds=1, budgets=(1, 2))
    assert sc.group_mean(sc.regret, "g", 2, "a") == 0.0
    assert all(r >= 0 for rs in sc.regret.values() for r in rs)


def test_write_docs_replaces_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Framework overhead\n\nkeep me\n\n## Sampler quality\n\nold\n\n## Later\n\nme too\n")
    data = {"runs": {}, "references": {}, "machine": {"cpu": "X", "cores": 2}}
    kw = {"command": "python benchmarks/samplers.py --quick", "note": "Partial.", "problems": ["branin"],
          "samplers": ["hd:Random"], "seeds": 2}
    report.write_docs(doc, data, text="NEW TABLES", **kw)  # type: ignore[arg-type]
    text = doc.read_text()
    assert "keep me" in text and "me too" in text and "NEW TABLES" in text and "\nold\n" not in text
    assert text.index("## Framework overhead") < text.index("## Sampler quality") < text.index("## Later")
    assert text.count("## Sampler quality") == 1
    other = tmp_path / "other.md"
    other.write_text("# Benchmarks\n\n## Framework overhead\n\nkeep me\n")
    report.write_docs(other, data, text="T", **kw)  # type: ignore[arg-type]
    assert other.read_text().startswith("# Benchmarks\n\n## Framework overhead\n\nkeep me\n\n## Sampler quality\n")


def test_svc_objective_runs_with_a_fixed_trial_and_its_space_depends_on_the_kernel() -> None:
    pytest.importorskip("sklearn")
    linear = bp.svc_suggest(hd.FixedTrial({"kernel": "linear", "C": 1.0}))  # no gamma asked for a linear kernel
    assert set(linear) == {"kernel", "C"}
    poly = bp.svc_suggest(hd.FixedTrial({"kernel": "poly", "C": 1.0, "gamma": 0.03, "degree": 3, "coef0": 0.5}))
    assert set(poly) == {"kernel", "C", "gamma", "degree", "coef0"}
    for params in (linear, {"kernel": "rbf", "C": 10.0, "gamma": 0.01}):
        err = bp.svc_evaluate(params)
        assert 0.0 <= err < 0.1  # breast cancer: a reasonable SVC is > 90% accurate
    assert bp.svc_evaluate({"kernel": "rbf", "C": 1e-3, "gamma": 10.0}) > 0.3  # and a bad one is not


def test_hgb_objective_runs_with_a_fixed_trial_and_has_a_conditional_depth() -> None:
    pytest.importorskip("sklearn")
    base = {"learning_rate": 0.3, "max_iter": 8, "max_leaf_nodes": 8, "min_samples_leaf": 5,
            "l2_regularization": 1e-3, "max_features": 0.8}
    unlimited = bp.hgb_suggest(hd.FixedTrial(dict(base, depth="unlimited")))
    assert "max_depth" not in unlimited
    limited = bp.hgb_suggest(hd.FixedTrial(dict(base, depth="limited", max_depth=3)))
    assert limited["max_depth"] == 3
    err = bp.hgb_evaluate(unlimited)
    assert 0.0 <= err < 0.2  # digits, 10 classes: well above chance (0.9 error)
    assert bp.hgb_evaluate(dict(unlimited, learning_rate=0.01, max_iter=2)) > err


def test_harness_runs_a_sampler_and_records_a_monotone_curve() -> None:
    import samplers as harness

    rec = harness.run_one("branin", "hd:Random", 0, 12)
    assert rec["error"] is None, rec["error"]
    best = rec["best"]
    assert len(best) == len(rec["overhead"]) == 12
    assert all(b2 <= b1 for b1, b2 in itertools.pairwise(best)) and best[-1] >= rec["f_opt"]
    assert harness.run_one("branin", "hd:Random", 0, 12)["best"] == best  # seeded: reproducible
    factory, why = harness.resolve_sampler("hd:NoSuchSampler")
    assert factory is None and "unknown" in why


def test_harness_drives_an_optuna_sampler_through_the_same_problem_code() -> None:
    pytest.importorskip("optuna", reason="optional benchmark dependency: pip install -e '.[bench]'")
    import samplers as harness

    rec = harness.run_one("hartmann6", "optuna:Random", 0, 5)
    assert rec["error"] is None, rec["error"]
    assert len(rec["best"]) == 5 and math.isfinite(rec["best"][-1])


def test_yahpo_client_evaluates_through_its_own_venv() -> None:
    why = bp._yahpo_missing()
    if why:
        pytest.skip(f"optional benchmark dependency: {why}")
    client = bp.yahpo_client()  # the one server the problems use too (one start: it takes seconds)
    try:
        assert client.request({"op": "ping"})["ok"]
        cfg = {"booster": "gbtree", "nrounds": 144, "eta": 0.03, "gamma": 0.02, "lambda": 1.0, "alpha": 1.0,
               "subsample": 0.55, "max_depth": 8, "min_child_weight": 20.0, "colsample_bytree": 0.5,
               "colsample_bylevel": 0.5, "impute": "impute.mean"}
        problem = bp.get_problem("yahpo_xgb_16")
        params = problem.suggest(hd.FixedTrial(cfg))
        assert params["num.impute.selected.cpo"] == "impute.mean" and "rate_drop" not in params  # gbtree, not dart
        err = problem.evaluate(params)
        assert 0.0 <= err < 0.5
        with pytest.raises(RuntimeError, match="unknown op"):
            client.request({"op": "nope"})
        assert problem.evaluate(params) == err  # still serving after an error, and deterministic
        linear = problem.suggest(hd.FixedTrial({k: cfg[k] for k in ("nrounds", "lambda", "alpha", "subsample", "impute")}
                                               | {"booster": "gblinear"}))
        assert "eta" not in linear and 0.0 <= problem.evaluate(linear) <= 1.0
    finally:
        client.close()
        bp._client = None


def test_pruner_benchmark_runs_the_default_study_and_scores_fronts() -> None:
    """benchmarks/pruners.py: which combinations run, the default study as a user gets it, the hypervolume."""
    import pruners
    import pruners_report as prep

    specs = pruners.specs_for("lcbench", ["1"], ["hyperdial", "optuna"], ["default", "random"],
                              ["nop", "asha", "default"], 1, 52, 30)
    assert {(s["library"], s["sampler"], s["pruner"]) for s in specs} == {
        ("hyperdial", "default", "default"), ("hyperdial", "random", "nop"), ("hyperdial", "random", "asha"),
        ("hyperdial", "random", "default"), ("optuna", "random", "nop"), ("optuna", "random", "asha"),
    }
    per_bracket = pruners.specs_for("lcbench", ["1"], ["hyperdial", "optuna"], ["random", "tpe"],
                                    ["hyperband_bracket"], 1, 52, 30)
    assert [(s["library"], s["sampler"]) for s in per_bracket] == [("hyperdial", "tpe")]  # Optuna's TPE always is
    mo = pruners.specs_for("lcbench-mo", ["1"], ["optuna"], ["default"], ["nop", "asha"], 1, 52, 30)
    assert [(s["pruner"], s["objectives"]) for s in mo] == [("nop", 2)]  # Optuna cannot report with 2 objectives
    r = pruners.run({"task": "digits", "library": "hyperdial", "sampler": "default", "pruner": "default",
                     "seed": 0, "epochs": 2, "budget": 2, "objectives": 1})
    assert r["sampler_label"] == "default (Auto)" and r["pruner_label"].startswith("default (")
    assert r["epochs_consumed"] >= 4 and sum(r["auto_trials"].values()) == r["n_trials"]
    r = pruners.run({"task": "digits", "library": "hyperdial", "sampler": "tpe", "pruner": "hyperband_bracket",
                     "seed": 0, "epochs": 3, "budget": 2, "objectives": 1})
    assert (r["sampler_label"], r["pruner_label"]) == ("TPE", "Hyperband, sampler per bracket") and r["n_trials"] >= 2
    # normalised hypervolume: the ideal corner fills the unit box; a point beyond the reference adds nothing;
    # a trial finished after the budget does not count yet
    ref = {"front": [[0.9, 100.0], [0.5, 10.0], [0.7, 60.0], [0.5, 110.0], [0.6, 200.0]]}  # medians 0.6, 100 s
    assert prep.hv_at({"points": [(52, 0.9, 10.0)]}, 52, ref) == pytest.approx(1.0)
    # the mean anytime curve reaches 0.8 once both seeds average it; a seed with no finished trial keeps it NaN
    seeds = [{"trace": [[10, 0.7], [20, 0.9]]}, {"trace": [[5, None], [15, 0.75], [30, 0.8]]}]
    assert prep.mean_curve_epochs(seeds, 0.8) == 20.0
    assert prep.mean_curve_epochs(seeds, 0.85) == 30.0 and prep.mean_curve_epochs(seeds, 0.86) is None
    assert prep.mean_curve_epochs([{"trace": [[5, None], [9, 0.9]]}, {"trace": [[7, 0.9]]}], 0.5) == 9.0
    assert prep.hv_at({"points": [(52, 0.75, 55.0), (104, 0.9, 10.0), (52, 0.4, 5.0)]}, 52, ref) == pytest.approx(0.25)


def test_sklearn_split_is_declared_disjoint_and_covers_every_family_and_data_set() -> None:
    sp = bp.sp
    assert not set(sp.TUNING) & set(sp.REPORTING)
    assert sorted(sp.TUNING + sp.REPORTING) == sorted(sp.problem_names())
    for names in (sp.TUNING, sp.REPORTING):
        assert {sp.parts(n)[0] for n in names} == set(sp.FAMILIES)
        assert {sp.parts(n)[1] for n in names} == set(sp.DATASETS)
    assert {"svc_cancer", "hgb_digits"} <= set(sp.TUNING)  # the problems seen before the split: never reported
    assert bp.select_problems("reporting") == list(sp.REPORTING)


def test_sklearn_spaces_are_conditional_and_an_evaluation_is_a_cv_error() -> None:
    pytest.importorskip("sklearn")
    sp = bp.sp
    knn = bp.get_problem("choice_wine").suggest(hd.FixedTrial({"model": "knn", "knn_n_neighbors": 5,
                                                               "knn_weights": "uniform", "knn_p": 2}))
    assert set(knn) == {"model", "knn_n_neighbors", "knn_weights", "knn_p"}  # no forest or linear parameters
    assert 0.0 <= bp.get_problem("choice_wine").evaluate(knn) < 0.2
    lbfgs = sp.mlp_suggest(hd.FixedTrial({"solver": "lbfgs", "hidden": 8, "activation": "tanh", "alpha": 1e-3}))
    assert "learning_rate_init" not in lbfgs and "momentum" not in lbfgs
    ridge = bp.get_problem("choice_diabetes").suggest(hd.FixedTrial({"model": "linear", "linear_C": 1.0}))
    assert 0.3 < bp.get_problem("choice_diabetes").evaluate(ridge) < 0.7  # 1 - R^2 of a ridge on diabetes


def test_report_shows_auto_once_and_compares_splits_apart_with_standard_errors() -> None:
    runs = {}
    for p in ("t", "r"):
        for k in range(3):
            runs[f"{p}|hd:Auto|{k}"] = {"problem": p, "sampler": "hd:Auto", "seed": k, "best": [0.5, 0.1 * k],
                                        "overhead": [0.0, 0.0], "auto": [[0, "TPE"], [1, "GP"]]}
            runs[f"{p}|hd:GP|{k}"] = dict(runs[f"{p}|hd:Auto|{k}"], sampler="hd:GP")
            runs[f"{p}|optuna:TPE|{k}"] = {"problem": p, "sampler": "optuna:TPE", "seed": k, "best": [0.6, 0.5],
                                           "overhead": [0.0, 0.0]}
    refs = {p: {"problem": p, "group": "sklearn", "median": 1.0, "min": 0.0, "f_opt": None} for p in ("t", "r")}
    data = {"runs": runs, "references": refs}
    assert report.same_as_auto(data, ["t", "r"], ["hd:Auto", "hd:GP", "optuna:TPE"], 3, 2) == ["hd:GP"]
    text = report.render(data, problems=["t", "r"], samplers=["hd:Auto", "hd:GP", "optuna:TPE"], seeds=3,
                         budgets=(1, 2), missing={}, splits={"t": "tuning", "r": "reporting"})
    assert "| hd:GP" not in text and "| hd:Auto (GP) |" in text
    assert text.index("reporting split") < text.index("tuning split") and "Overall" not in text
    sc = report.Scores(data, ["t", "r"], ["hd:Auto", "optuna:TPE"], 3, (2,), {"t": "tuning", "r": "reporting"})
    ratio, diff, se, n = sc.versus("sklearn, reporting split", 2, "hd:Auto", "optuna:TPE")  # type: ignore[misc]
    assert n == 3 and ratio == pytest.approx(0.2) and diff == pytest.approx(-0.4) and se == pytest.approx(0.1 / 3**0.5)
    assert report.verdict(diff, se) == "beats" and report.verdict(-0.01, 0.02) == "level"
    assert report.verdict(0.05, 0.02) == "behind"
    # with a problem outside the split, the pooled table leaves both halves out
    data["references"]["q"] = dict(refs["t"], problem="q", group="synthetic")
    data["runs"].update({k.replace("t|", "q|"): dict(v, problem="q") for k, v in runs.items() if k.startswith("t|")})
    mixed = report.render(data, problems=["t", "r", "q"], samplers=["hd:Auto", "optuna:TPE"], seeds=3, budgets=(1, 2),
                          missing={}, splits={"t": "tuning", "r": "reporting"})
    assert "### Overall (mean of the group means: synthetic)" in mixed


# -- YAHPO: the instance rule, its split and the conditional objectives (no YAHPO venv needed) ----------
def _stats_csv(path: Path, rows: list[tuple[str, str, str, str, float]]) -> Path:
    lines = ["metric,statistic,value,scenario,instance"] + [f"{m},{s},{v},{sc},{i}" for sc, i, m, s, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _rbv2(scenario: str, instance: str, acc: tuple[float, float], logloss_min: float) -> list:
    return [(scenario, instance, "acc", "min", acc[0]), (scenario, instance, "acc", "max", acc[1]),
            (scenario, instance, "logloss", "min", logloss_min), (scenario, instance, "logloss", "max", 9.0)]


def test_yahpo_instance_rule_keeps_believable_ranges_and_splits_tasks_apart(tmp_path: Path) -> None:
    yp = bp.yp
    rows = [("iaml_glmnet", "1", "mmce", "min", 0.1), ("iaml_glmnet", "1", "mmce", "max", 0.4),
            ("iaml_glmnet", "2", "mmce", "min", 0.1), ("iaml_glmnet", "2", "mmce", "max", 0.12),  # no spread
            ("iaml_glmnet", "3", "mmce", "min", 0.0), ("iaml_glmnet", "3", "mmce", "max", 0.5)]  # solved: mmce 0
    rows += _rbv2("rbv2_xgboost", "1461", (0.3, 0.95), 0.2)  # EXCLUDED by name, whatever the file says
    rows += _rbv2("rbv2_xgboost", "100", (0.3, 1.0), 0.2)  # 100% accuracy: no headroom
    rows += _rbv2("rbv2_xgboost", "101", (0.3, 0.9), 0.01)  # logloss about 0: not a real task
    rows += _rbv2("rbv2_xgboost", "102", (0.88, 0.9), 0.2)  # nothing to tune
    for seen in yp.SEEN["xgb"]:
        rows += _rbv2("rbv2_xgboost", seen, (0.3, 0.9), 0.2)
    good = [str(i) for i in range(200, 240)]
    for i in good:
        rows += _rbv2("rbv2_xgboost", i, (0.3, 0.9), 0.2) + _rbv2("rbv2_rpart", i, (0.3, 0.9), 0.2)
    rows += _rbv2("rbv2_rpart", "1", (0.3, 0.9), 0.2)
    stats = yp.read_statistics(_stats_csv(tmp_path / "stats.csv", rows))
    assert yp.eligible(yp.SCENARIOS["xgb"], stats[("rbv2_xgboost", "200")])
    assert not any(yp.eligible(yp.SCENARIOS["xgb"], stats[("rbv2_xgboost", i)]) for i in ("100", "101", "102"))
    tuning, reporting = yp.split_instances(stats)
    assert (reporting["glmnet"], tuning["glmnet"]) == (("1",), ())  # only task 1 qualifies; REPORTING fills first
    assert tuning["xgb"][:4] == yp.SEEN["xgb"]  # seen before the split: tuning, never reported
    assert len(reporting["xgb"]) == len(tuning["xgb"]) == yp.N_PER_SPLIT["xgb"]
    assert set(tuning["xgb"] + reporting["xgb"]) <= set(yp.SEEN["xgb"]) | set(good)  # 1461, 100, 101, 102 are out
    assert len(reporting["rpart"]) == len(tuning["rpart"]) == yp.N_PER_SPLIT["rpart"]
    side = {}
    for split, table in (("tuning", tuning), ("reporting", reporting)):
        for instances in table.values():
            for i in instances:
                assert side.setdefault(i, split) == split  # an OpenML task is on one side in every scenario
    # the order is the hash, not the id: the first good ids are not simply taken in turn
    assert sorted(reporting["xgb"], key=int) != sorted(good, key=int)[: yp.N_PER_SPLIT["xgb"]]
    assert yp.split_instances(stats) == (tuning, reporting)  # deterministic


def test_yahpo_declared_split_is_the_rule_on_yahpos_statistics_file() -> None:
    yp = bp.yp
    if not (yp.DATA / yp.STATISTICS).exists():
        pytest.skip(f"optional benchmark data: no {yp.DATA / yp.STATISTICS} (see ../shared/benchdata/README.md)")
    assert yp.split_instances(yp.read_statistics()) == (yp.TUNING, yp.REPORTING)
    assert not set(yp.SPLITS["yahpo-tuning"]) & set(yp.SPLITS["yahpo-reporting"])
    assert bp.select_problems("yahpo-reporting") == yp.SPLITS["yahpo-reporting"]
    labels = bp.split_labels()
    assert {labels[p] for p in yp.SPLITS["yahpo-reporting"]} == {"reporting"}
    assert labels["yahpo_xgb_16"] == "tuning" and labels["svc_cancer"] == "tuning"
    for name in yp.SPLITS["yahpo-tuning"] + yp.SPLITS["yahpo-reporting"]:
        scenario, instance = yp.parts(name)
        lo, hi = yp.target_range(scenario, instance)
        assert 0.0 <= lo < hi <= 1.0 and bp.get_problem(name).group == "yahpo"
        assert yp.best_possible(name) == pytest.approx(1 - hi if scenario.maximise else lo)
        if scenario.name == "rbv2_xgboost":
            assert instance not in ("1461", "1590")  # the data README's broken surrogates


def test_yahpo_xgboost_objective_is_conditional_on_the_booster_for_hyperdial_and_optuna() -> None:
    yp = bp.yp
    xgb = yp.SCENARIOS["xgb"]
    base = {"nrounds": 100, "lambda": 1.0, "alpha": 1.0, "subsample": 0.5, "impute": "impute.hist"}
    trees = {"eta": 0.1, "gamma": 0.01, "max_depth": 6, "min_child_weight": 5.0, "colsample_bytree": 0.5,
             "colsample_bylevel": 0.5}
    linear = xgb.suggest(hd.FixedTrial(dict(base, booster="gblinear")))
    gbtree = xgb.suggest(hd.FixedTrial(dict(base, booster="gbtree", **trees)))
    dart = xgb.suggest(hd.FixedTrial(dict(base, booster="dart", rate_drop=0.1, skip_drop=0.2, **trees)))
    shared = {"booster", "nrounds", "lambda", "alpha", "subsample", "num.impute.selected.cpo"}
    assert set(linear) == shared
    assert set(gbtree) == shared | set(trees) and set(dart) == set(gbtree) | {"rate_drop", "skip_drop"}
    # what YAHPO is sent: the active parameters, the full fidelity and the task, nothing inactive
    config = yp.config_for(xgb, "16", linear)
    assert config == dict(linear, trainsize=1.0, repl=10, task_id="16")
    # both libraries see a conditional space: the parameters a trial asks for follow its booster
    study = hd.create_study(sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop())
    for _ in range(30):
        trial = study.ask()
        params = xgb.suggest(trial)
        study.tell(trial, 0.5)
        assert set(params) == {"gblinear": set(linear), "gbtree": set(gbtree), "dart": set(dart)}[params["booster"]]
    by_booster = {t.params["booster"]: set(t.distributions) for t in study.trials}
    assert len(by_booster) == 3 and by_booster["gblinear"] < by_booster["gbtree"] < by_booster["dart"]
    optuna = pytest.importorskip("optuna", reason="optional benchmark dependency: pip install -e '.[bench]'")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with warnings.catch_warnings():  # `group` is experimental in Optuna 5: the setting the benchmark compares with
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ostudy = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, multivariate=True, group=True))
    for _ in range(15):
        t = ostudy.ask()
        ostudy.tell(t, float(len(xgb.suggest(t))))
    sizes = {len(t.params) for t in ostudy.trials}
    assert sizes <= {6, 12, 14} and len(sizes) >= 2


def test_yahpo_values_are_clipped_to_what_the_real_runs_reached() -> None:
    yp = bp.yp
    xgb, glmnet = yp.SCENARIOS["xgb"], yp.SCENARIOS["glmnet"]
    assert yp.value_of(xgb, {"acc": 0.8}) == pytest.approx(0.2)
    assert yp.value_of(xgb, {"acc": 1.3}) == 0.0 and yp.value_of(xgb, {"acc": -0.1}) == 1.0
    assert yp.value_of(xgb, {"acc": 0.99}, (0.3, 0.95)) == pytest.approx(0.05)  # beyond the best real run: capped
    assert yp.value_of(glmnet, {"mmce": 0.01}, (0.08, 0.5)) == 0.08 and yp.value_of(glmnet, {"mmce": 0.2}) == 0.2
    rpart = yp.rpart_suggest(hd.FixedTrial({"cp": 0.01, "maxdepth": 5, "minbucket": 7, "minsplit": 20,
                                            "impute": "impute.mean"}))
    assert yp.config_for(yp.SCENARIOS["rpart"], "1485", rpart)["num.impute.selected.cpo"] == "impute.mean"
    assert set(yp.glmnet_suggest(hd.FixedTrial({"alpha": 0.5, "s": 0.1}))) == {"alpha", "s"}
