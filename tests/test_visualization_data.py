"""hyperdial.visualization.data on hand-built trials: no plotting library involved."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.pareto import hypervolume
from hyperdial.visualization.data import KINDS, compute, compute_for_study

C, P, F, R = hd.TrialState.COMPLETE, hd.TrialState.PRUNED, hd.TrialState.FAIL, hd.TrialState.RUNNING
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
EVIL = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def trial(number: int, values: Any = None, state: hd.TrialState = C, *, params: dict[str, Any] | None = None,
          dists: dict[str, Any] | None = None, steps: dict[int, float] | None = None, start: float | None = None,
          end: float | None = None, **kw: Any) -> hd.FrozenTrial:
    if values is not None and not isinstance(values, tuple):
        values = (float(values),)
    return hd.FrozenTrial(
        number=number, state=state, values=values, params=params or {}, distributions=dists or {},
        intermediate_values=steps or {},
        datetime_start=None if start is None else T0 + timedelta(seconds=start),
        datetime_complete=None if end is None else T0 + timedelta(seconds=end), **kw)


SPACE = {"lr": hd.Float(1e-5, 1e-1, log=True), "opt": hd.Categorical(["adam", "sgd", EVIL, 1, "1", None]),
         "momentum": hd.Float(0.0, 0.99), "layers": hd.Int(1, 4)}


def conditional_trials() -> list[hd.FrozenTrial]:
    """Every state, a conditional parameter (momentum only with sgd), log, int and odd categories."""
    out = []
    opts = ["adam", "sgd", EVIL, 1, "1", None]
    for i in range(12):
        opt = opts[i % 6]
        params = {"lr": 10.0 ** -(1 + i % 4), "opt": opt, "layers": 1 + i % 4}
        if opt == "sgd":
            params["momentum"] = 0.5
        dists = {k: SPACE[k] for k in params}
        state = [C, C, C, P, C, F, C, C, R, C, C, C][i]
        value = None if state in (F, R) else float((i * 7) % 5)
        steps = {s: value + 1.0 / (s + 1) for s in range(3)} if value is not None else {}
        if i == 4:
            steps[3] = float("nan")  # a diverged report
        out.append(trial(i, value, state, params=params, dists=dists, steps=steps, start=i * 10.0,
                         end=None if state == R else i * 10.0 + 5))
    return out


def dumps(d: dict[str, Any]) -> str:
    return json.dumps(d, allow_nan=False)  # no NaN or infinity may reach the browser


# -- every kind: JSON, empty studies, a single trial ---------------------------------------------------
def _compute_any(kind: str, trials: list[hd.FrozenTrial]) -> dict[str, Any]:
    if kind == "pareto":
        mo = [trial(t.number, (t.values[0], -t.values[0]) if t.values else None, t.state) for t in trials]
        return compute(kind, mo, ["minimize", "minimize"])
    extra = {"other": trials} if kind == "compare" else {}
    return compute(kind, trials, ["minimize"], **extra)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", ["empty", "one", "conditional"])
def test_every_kind_gives_plain_json(kind: str, case: str) -> None:
    trials = {"empty": [], "one": conditional_trials()[:1], "conditional": conditional_trials()}[case]
    d = _compute_any(kind, trials)
    assert d["kind"] == kind
    assert json.loads(dumps(d)) == d


def test_kinds_and_bad_input() -> None:
    assert set(KINDS) == {"history", "parallel_coordinate", "slice", "contour", "importance", "intermediate",
                          "pareto", "timeline", "compare"}
    with pytest.raises(hd.exceptions.InvalidParameterError, match="kind"):
        compute("histogram", [], ["minimize"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="max_points"):
        compute("history", [], ["minimize"], max_points=0)
    with pytest.raises(hd.exceptions.InvalidParameterError, match="params"):
        compute("history", [], ["minimize"], params=["x"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="params"):
        compute("slice", conditional_trials(), ["minimize"], params=["nope"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="options"):
        compute("history", [], ["minimize"], colour="red")
    with pytest.raises(hd.exceptions.InvalidParameterError, match="trials"):
        compute("history", [{"number": 0}], ["minimize"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="direction"):
        compute("history", [], ["sideways"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="directions"):
        compute("pareto", conditional_trials(), ["minimize"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="objective"):
        compute("slice", conditional_trials(), ["minimize"], objective=1)


# -- history ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("direction,best", [("minimize", [5.0, 3.0, 1.0, 1.0]), ("maximize", [5.0, 6.0, 6.0])])
def test_history_best_so_far_line(direction: str, best: list[float]) -> None:
    values = [5.0, 3.0, 6.0, 1.0, 2.0]
    trials = [trial(i, v) for i, v in enumerate(values)] + [trial(5, None, F), trial(6, 0.0, P)]
    o = compute("history", trials, [direction])["objectives"][0]
    assert o["number"] == [0, 1, 2, 3, 4]  # COMPLETE only: the pruned 0.0 is no result
    assert o["value"] == values
    assert o["best"]["value"] == best
    assert o["best"]["number"][-1] == 4  # the line runs to the last trial


def test_history_subsampling_keeps_the_best_and_the_exact_line() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=20_000)
    trials = [trial(i, float(v)) for i, v in enumerate(values)]
    full = compute("history", trials, ["minimize"], max_points=len(trials))["objectives"][0]
    small = compute("history", trials, ["minimize"], max_points=500)["objectives"][0]
    assert len(small["number"]) == 500 and small["n_points"] == 20_000
    assert small["best"] == full["best"]  # exact, one point per improvement
    assert int(np.argmin(values)) in small["number"]
    assert set(full["best"]["number"]) <= set(small["number"])  # every improvement is drawn
    assert small == compute("history", trials, ["minimize"], max_points=500)["objectives"][0]  # deterministic
    assert len(dumps(compute("history", trials, ["minimize"]))) < 200_000


def test_history_multi_objective_has_a_line_per_objective() -> None:
    trials = [trial(0, (1.0, 1.0)), trial(1, (0.5, 0.5)), trial(2, (2.0, 3.0))]
    d = compute("history", trials, ["minimize", "maximize"], objective_names=["loss", "acc"])
    assert [o["name"] for o in d["objectives"]] == ["loss", "acc"]
    assert d["objectives"][0]["best"]["value"] == [1.0, 0.5, 0.5]
    assert d["objectives"][1]["best"]["value"] == [1.0, 3.0]


# -- parameters: parallel coordinates, slice, contour, importance ---------------------------------------
def test_param_axes_conditional_log_categorical() -> None:
    d = compute("parallel_coordinate", conditional_trials(), ["minimize"])
    axes = {a["name"]: a for a in d["params"]}
    assert d["number"] == [0, 1, 2, 4, 6, 7, 9, 10, 11]  # COMPLETE only
    assert axes["lr"]["type"] == "float" and axes["lr"]["log"] is True
    assert (axes["lr"]["low"], axes["lr"]["high"]) == (1e-5, 1e-1)  # the distribution's range
    assert axes["layers"]["type"] == "int" and axes["layers"]["log"] is False
    assert axes["momentum"]["values"] == [None, 0.5, None, None, None, 0.5, None, None, None]
    opt = axes["opt"]
    assert opt["type"] == "categorical"
    assert opt["choices"] == ["adam", "sgd", EVIL, 1, "1", None]  # raw JSON values, untouched
    assert opt["labels"] == ["'adam'", "'sgd'", repr(EVIL), "1", "'1'", "None"]  # 1 and "1" told apart
    assert [opt["choices"][i] for i in opt["values"]] == [["adam", "sgd", EVIL, 1, "1", None][n % 6]
                                                         for n in d["number"]]
    assert d["objective"]["values"] == [t.values[0] for t in conditional_trials() if t.number in d["number"]]


def test_categorical_labels_unquoted_when_unambiguous() -> None:
    dist = hd.Categorical(["a", EVIL, True])
    trials = [trial(i, float(i), params={"c": c}, dists={"c": dist}) for i, c in enumerate(["a", EVIL, True])]
    axis = compute("slice", trials, ["minimize"])["params"][0]
    assert axis["labels"] == ["a", EVIL, "True"]


def test_params_selection_and_objective_choice() -> None:
    trials = [trial(i, (float(i), -float(i)), params={"x": float(i), "y": 1.0},
                    dists={"x": hd.Float(0, 9), "y": hd.Float(0, 2)}) for i in range(5)]
    d = compute("slice", trials, ["minimize", "minimize"], params=["y"], objective=1)
    assert [a["name"] for a in d["params"]] == ["y"]
    assert d["objective"]["values"] == [0.0, -1.0, -2.0, -3.0, -4.0]
    assert d["objective"]["name"] == "objective 1"


def test_parameter_subsampling_keeps_the_best_trials() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(size=5000)
    trials = [trial(i, float(v), params={"x": float(v)}, dists={"x": hd.Float(0, 1)}) for i, v in enumerate(values)]
    d = compute("slice", trials, ["maximize"], max_points=100)
    assert len(d["number"]) == 100 and d["n_trials"] == 5000
    top = set(np.argsort(-values)[:20].tolist())  # a fifth of the budget goes to the best
    assert top <= set(d["number"])


def test_contour_grid_holds_the_best_value_per_cell_over_all_trials() -> None:
    dx, dy = hd.Float(0, 1), hd.Categorical(["a", "b"])
    pts = [(0.05, "a", 3.0), (0.06, "a", 1.0), (0.95, "b", 2.0), (0.5, "a", 9.0)] + \
          [(0.5, "b", 100.0 + i) for i in range(40)]
    trials = [trial(i, v, params={"x": x, "c": c}, dists={"x": dx, "c": dy}) for i, (x, c, v) in enumerate(pts)]
    d = compute("contour", trials, ["minimize"], grid=10, max_points=10)
    (pair,) = d["pairs"]
    assert (pair["x"], pair["y"]) == ("x", "c")
    g = pair["grid"]
    assert len(g["x"]) == 10 and g["y"] == [0.0, 1.0]  # categories: one row per choice
    assert g["z"][0][0] == 1.0 and g["z"][1][9] == 2.0 and g["z"][0][5] == 9.0
    assert g["z"][1][5] == 100.0 and g["z"][0][9] is None
    assert len(d["number"]) == 10  # the points are subsampled, the grid is not


def test_contour_log_axis_bins_in_log_space() -> None:
    d = hd.Float(1e-4, 1.0, log=True)
    trials = [trial(i, float(i), params={"a": 10.0 ** -e, "b": 10.0 ** -e}, dists={"a": d, "b": d})
              for i, e in enumerate([4, 3, 2, 1, 0])]
    g = compute("contour", trials, ["minimize"], grid=4)["pairs"][0]["grid"]
    assert g["x"] == pytest.approx([10 ** -3.5, 10 ** -2.5, 10 ** -1.5, 10 ** -0.5])
    assert [g["z"][k][k] for k in range(4)] == [0.0, 1.0, 2.0, 3.0]  # 1e-1 and 1 share the top cell: best 3


def test_importance_from_hyperdial_importance() -> None:
    rng = np.random.default_rng(0)
    dists = {"x": hd.Float(0, 1), "noise": hd.Float(0, 1)}
    trials = [trial(i, (10 * x, 0.0), params={"x": x, "noise": n}, dists=dists)
              for i, (x, n) in enumerate(rng.uniform(size=(60, 2)).tolist())]
    d = compute("importance", trials, ["minimize", "maximize"], objective=0)
    assert next(it["name"] for it in d["importances"]) == "x"
    assert sum(it["share"] for it in d["importances"]) == pytest.approx(1.0)
    assert d["message"] is None
    assert d["n_used"] == 60
    sampled = compute("importance", trials, ["minimize", "maximize"], max_trials=30)
    assert sampled["n_used"] == 30 and sampled["importances"][0]["name"] == "x"
    few = compute("importance", trials[:1], ["minimize", "maximize"])
    assert few["importances"] == [] and "at least 2" in few["message"]


# -- intermediate values -------------------------------------------------------------------------------
def test_intermediate_curves_mark_pruned_and_drop_nan() -> None:
    d = compute("intermediate", conditional_trials(), ["minimize"])
    by = {c["number"]: c for c in d["curves"]}
    assert by[3]["state"] == "PRUNED" and by[0]["state"] == "COMPLETE"
    assert by[4]["step"] == [0, 1, 2, 3] and by[4]["value"][3] is None  # NaN reported: kept as a gap
    assert 5 not in by and 8 not in by  # reported nothing
    assert d["n_by_state"] == {"COMPLETE": 9, "PRUNED": 1}


def test_intermediate_subsampling_stays_in_budget_and_keeps_the_best_curve() -> None:
    trials = [trial(i, float((i * 37) % 101), P if i % 3 else C, steps={s: float(i + s) for s in range(20)})
              for i in range(1000)]
    d = compute("intermediate", trials, ["minimize"], max_points=400)
    assert sum(len(c["step"]) for c in d["curves"]) <= 420
    best = min((t for t in trials if t.state == C), key=lambda t: t.values[0])
    assert best.number in [c["number"] for c in d["curves"]]
    assert {c["state"] for c in d["curves"]} == {"COMPLETE", "PRUNED"}
    long = compute("intermediate", [trial(0, 1.0, steps={s: 1.0 for s in range(5000)})], ["minimize"], max_points=100)
    assert len(long["curves"][0]["step"]) <= 100 and long["curves"][0]["step"][-1] == 4999


# -- Pareto front ---------------------------------------------------------------------------------------
def test_pareto_two_objectives_front_and_hypervolume_history() -> None:
    ys = [(3.0, 1.0), (2.0, 2.0), (2.5, 2.5), (1.0, 3.0), (0.5, 0.5), (4.0, 4.0)]
    trials = [trial(i, y) for i, y in enumerate(ys)] + [trial(6, None, F)]
    d = compute("pareto", trials, ["minimize", "minimize"])
    assert d["front"] == [False, False, False, False, True, False]
    assert d["n_front"] == 1
    ref = np.array(d["reference"])
    assert ref.tolist() == pytest.approx([4.35, 4.35])  # worst + a tenth of the range
    hv = d["hypervolume"]
    for n, v in zip(hv["number"], hv["value"]):  # equals the front's volume recomputed from scratch
        assert v == pytest.approx(hypervolume(np.array(ys[: n + 1]), ref))
    assert hv["number"][-1] == 5
    assert hv["value"] == sorted(hv["value"])


def test_pareto_directions_three_objectives_and_constraints() -> None:
    ys = [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (2.0, 4.0, 0.5), (0.5, 3.0, 0.0)]
    trials = [trial(i, y, system_attrs={"constraints": [1.0 if i == 1 else -1.0]}) for i, y in enumerate(ys)]
    d = compute("pareto", trials, ["minimize", "maximize", "minimize"], reference=[5, -1, 5])
    assert d["feasible"] == [True, False, True, True]
    assert d["front"] == [False, False, True, True]  # (0, 0, 0) is infeasible; maximising the 2nd
    assert d["reference"] == [5.0, -1.0, 5.0]
    assert d["hypervolume"]["value"][-1] == pytest.approx(
        hypervolume(np.array([[1, -1, 1], [2, -4, 0.5], [0.5, -3, 0]]), [5, 1, 5]))
    with pytest.raises(hd.exceptions.InvalidParameterError, match="reference"):
        compute("pareto", trials, ["minimize", "maximize", "minimize"], reference=[1, 2])


def test_pareto_subsampling_keeps_the_whole_front() -> None:
    rng = np.random.default_rng(2)
    ys = rng.uniform(size=(3000, 2))
    trials = [trial(i, (float(a), float(b))) for i, (a, b) in enumerate(ys)]
    d = compute("pareto", trials, ["minimize", "minimize"], max_points=50)
    full = compute("pareto", trials, ["minimize", "minimize"], max_points=3000)
    assert len(d["number"]) == 50 and sum(d["front"]) == full["n_front"] == d["n_front"]
    assert d["hypervolume"] == full["hypervolume"]


# -- timeline ----------------------------------------------------------------------------------------
def test_timeline_lanes_inferred_or_named() -> None:
    # two workers: 0 and 1 overlap, 2 starts when 0 ended, 3 is still running
    trials = [trial(0, 1.0, start=0, end=10), trial(1, 1.0, P, start=1, end=5), trial(2, None, F, start=10, end=12),
              trial(3, None, R, start=6), trial(4, None, hd.TrialState.WAITING)]
    d = compute("timeline", trials, ["minimize"])
    assert d["lane_source"] == "inferred" and d["lanes"] == ["lane 1", "lane 2"]
    assert d["number"] == [0, 1, 3, 2]  # by start time; the waiting trial never started
    assert d["lane"] == [0, 1, 1, 0]
    assert d["end"][2] is None and d["now"] == (T0 + timedelta(seconds=12)).isoformat()
    assert d["state"] == ["COMPLETE", "PRUNED", "RUNNING", "FAIL"]
    named = compute("timeline", trials, ["minimize"], worker=lambda t: f"host-{t.number % 2}")
    assert named["lane_source"] == "option" and named["lanes"] == ["host-0", "host-1"]
    with pytest.raises(hd.exceptions.InvalidParameterError, match="worker"):
        compute("timeline", trials, ["minimize"], worker="host")


def test_timeline_subsampling_keeps_running_trials() -> None:
    trials = [trial(i, 1.0, start=i, end=i + 0.5) for i in range(3000)] + [trial(3000, None, R, start=3000)]
    d = compute("timeline", trials, ["minimize"], max_points=100)
    assert len(d["number"]) == 100 and 3000 in d["number"] and d["n_trials"] == 3001


# -- compare and studies -------------------------------------------------------------------------------
def test_compare_two_studies() -> None:
    a = [trial(i, v) for i, v in enumerate([3.0, 2.0, 4.0])]
    b = [trial(i, v) for i, v in enumerate([1.0, 5.0])]
    d = compute("compare", a, ["minimize"], other=b, names=("tpe", EVIL))
    assert [s["name"] for s in d["studies"]] == ["tpe", EVIL]
    assert [s["best_value"] for s in d["studies"]] == [2.0, 1.0]
    with pytest.raises(hd.exceptions.InvalidParameterError, match="other_directions"):
        compute("compare", a, ["minimize"], other=b, other_directions=["maximize"])
    with pytest.raises(hd.exceptions.InvalidParameterError, match="other"):
        compute("compare", a, ["minimize"])


def test_compute_for_study_matches_compute_on_its_trials() -> None:
    study = hd.create_study(study_name="first", sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=8, show_progress_bar=False)
    other = hd.create_study(study_name="second", sampler=hd.samplers.Random(seed=1))
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5, show_progress_bar=False)
    for kind in ("history", "slice", "timeline"):
        assert compute_for_study(kind, study) == compute(kind, study.trials, study.directions)
    d = compute_for_study("compare", study, other=other)
    assert [s["name"] for s in d["studies"]] == ["first", "second"]
    assert [s["n_trials"] for s in d["studies"]] == [8, 5]


def test_data_imports_no_plotting_library() -> None:
    code = ("import sys, hyperdial as hd; from hyperdial.visualization.data import compute, KINDS; "
            "from hyperdial.visualization.spec import figure_spec; "
            "t = [hd.FrozenTrial(number=0, state=hd.TrialState.COMPLETE, values=(1.0,))]; "
            "[figure_spec(k, compute(k, t, ['minimize'], **({'other': t} if k == 'compare' else {}))) "
            " for k in KINDS if k != 'pareto']; "
            "print(sorted(m for m in ('plotly', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_nan_reaches_the_data() -> None:
    trials = [trial(0, 1.0, steps={0: float("inf"), 1: float("nan"), 2: 1.0})]
    d = compute("intermediate", trials, ["minimize"])
    assert d["curves"][0]["value"] == [None, None, 1.0]
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in d["curves"][0]["value"])


@pytest.mark.parametrize("seed", range(3))
def test_pareto_front_and_hypervolume_history_match_the_reference_math(seed: int) -> None:
    from hyperdial.pareto import pareto_mask

    rng = np.random.default_rng(seed)
    ys = np.vstack([rng.uniform(size=(150, 3)), np.round(rng.uniform(size=(150, 3)), 1)])  # ties too
    infeasible = rng.uniform(size=len(ys)) < 0.2
    trials = [trial(i, tuple(float(v) for v in y), system_attrs={"constraints": [1.0 if bad else 0.0]})
              for i, (y, bad) in enumerate(zip(ys, infeasible))]
    d = compute("pareto", trials, ["minimize"] * 3, max_points=len(trials))
    assert np.array_equal(np.flatnonzero(d["front"]), np.flatnonzero(~infeasible)[pareto_mask(ys[~infeasible])])
    for n, v in zip(d["hypervolume"]["number"], d["hypervolume"]["value"]):
        seen = ys[: n + 1][~infeasible[: n + 1]]
        assert v == pytest.approx(hypervolume(seen, d["reference"]))


def test_contour_pairs_at_most_max_params_unless_named() -> None:
    names = [f"p{k}" for k in range(6)]
    dists = {n: hd.Float(0, 1) for n in names}
    trials = [trial(i, float(i), params={n: i / 10 for n in names}, dists=dists) for i in range(5)]
    d = compute("contour", trials, ["minimize"])
    assert [a["name"] for a in d["params"]] == names[:4] and d["omitted_params"] == names[4:]
    assert len(d["pairs"]) == 6
    assert len(compute("contour", trials, ["minimize"], max_params=6)["pairs"]) == 15
    named = compute("contour", trials, ["minimize"], params=names)
    assert len(named["pairs"]) == 15 and named["omitted_params"] == []
