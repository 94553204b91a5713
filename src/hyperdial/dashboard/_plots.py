"""Plots and importances for the study page: `hyperdial.visualization` data, as plotly.js figures.

The trials come from `Service.plot_trials` (at most `PLOT_TRIALS`, evenly spaced), and each
kind's data is subsampled again to `MAX_POINTS` by `visualization.data.compute`, so a
100,000-trial study stays drawable. Results are cached until the study changes.
"""

from __future__ import annotations

from typing import Any

from hyperdial.dashboard._service import Service
from hyperdial.exceptions import InvalidParameterError, invalid

MAX_POINTS = 2000
# Kinds the study page does not draw on its own: a comparison needs a second study.
_NOT_ON_STUDY_PAGE = frozenset({"compare", "comparison"})
_NEEDS_INTERMEDIATE = frozenset({"intermediate", "intermediate_values"})
_MULTI_OBJECTIVE_ONLY = frozenset({"pareto", "pareto_front", "hypervolume"})
_TWO_PARAMS = frozenset({"contour"})


def _visualization() -> tuple[Any, Any]:
    from hyperdial.visualization import data, spec

    return data, spec


def kinds(service: Service, study_id: int, version: str) -> list[str]:
    """The plot kinds that make sense for this study, in the visualization module's order."""
    data, _ = _visualization()
    trials = service.plot_trials(study_id, version)
    n_params = len({name for t in trials for name in t.params})
    multi = len(service.info(study_id).directions) > 1
    out = []
    for kind in data.KINDS:
        if kind in _NOT_ON_STUDY_PAGE:
            continue
        if kind in _MULTI_OBJECTIVE_ONLY and not multi:
            continue
        if kind in _TWO_PARAMS and n_params < 2:
            continue
        out.append(kind)
    return out


def figure(service: Service, study_id: int, kind: str, version: str) -> dict[str, Any]:
    """`{"figure": plotly figure}` or `{"error": why this plot cannot be drawn yet}`."""
    data, spec = _visualization()
    if kind not in data.KINDS or kind in _NOT_ON_STUDY_PAGE:
        raise invalid("kind", f"must be one of {', '.join(k for k in data.KINDS if k not in _NOT_ON_STUDY_PAGE)}",
                      kind)
    info = service.info(study_id)

    def compute() -> dict[str, Any]:
        trials = service.plot_trials(study_id, version, intermediate_values=kind in _NEEDS_INTERMEDIATE)
        try:
            plot = data.compute(kind, trials, list(info.directions), max_points=MAX_POINTS)
            return {"figure": spec.figure_spec(kind, plot)}
        except InvalidParameterError as exc:  # e.g. too few trials for this kind yet
            return {"error": str(exc)}

    return service.cached(study_id, f"plot:{kind}", version, compute)


def importance(service: Service, study_id: int, version: str) -> dict[str, Any]:
    """PED-ANOVA importances of the (subsampled) COMPLETE trials, per objective."""
    from hyperdial.history import History, parse_directions
    from hyperdial.importance import NotEnoughTrials, evaluate

    info = service.info(study_id)

    def compute() -> dict[str, Any]:
        directions = parse_directions(None, list(info.directions))
        trials = service.plot_trials(study_id, version)
        history = History(directions, trials)
        out = []
        for i in range(len(directions)):
            sign = history.sign(i)

            def target(t: Any, i: int = i, sign: float = sign) -> float:
                return sign * float(t.values[i])

            try:
                imp = evaluate(history, method="ped-anova", target=target if len(directions) > 1 else None)
            except (NotEnoughTrials, InvalidParameterError) as exc:
                return {"method": "ped-anova", "objectives": [], "error": str(exc)}
            out.append({"objective": i, "direction": info.directions[i],
                        "importances": [[name, value] for name, value in imp.items()]})
        return {"method": "ped-anova", "objectives": out, "error": None, "n_trials": len(trials)}

    return service.cached(study_id, "importance", version, compute)
