"""The Pareto front of a multi-objective study (2 or 3 objectives drawn), and its hypervolume history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperdial.exceptions import invalid
from hyperdial.history import StudyDirection
from hyperdial.pareto import hypervolume, pareto_mask
from hyperdial.trial import FrozenTrial, TrialState
from hyperdial.visualization._common import finite, objective_names, pick


def pareto(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *, max_points: int,
           objective_names: Sequence[str] | None = None, reference: Sequence[float] | None = None) -> dict[str, Any]:
    """COMPLETE trials in objective space with the front marked (all front points kept, the rest
    evenly subsampled), and the hypervolume of the front after each trial (exact, one point per change).

    The front is taken among feasible trials (constraints <= 0); infeasible ones are drawn apart.
    `reference` (in the objectives' own units) defaults to the worst value of each objective
    plus a tenth of its range, so every front point adds volume.
    """
    m = len(directions)
    if m < 2:
        raise invalid("directions", "must hold 2 or more objectives for kind 'pareto'", [d.value for d in directions])
    names = _names(directions, objective_names)
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == m
            and all(finite(v) is not None for v in t.values)]
    signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in directions])
    y = np.array([t.values for t in done], dtype=float).reshape(len(done), m)
    feasible = np.array([t.feasible for t in done], dtype=bool)
    front = np.zeros(len(done), dtype=bool)
    if feasible.any():
        front[np.flatnonzero(feasible)] = pareto_mask(y[feasible] * signs)
    ref = _reference(y * signs, signs, reference, m)
    hv = _hypervolume_history([t.number for t in done], y * signs, feasible, ref)
    keep = pick(len(done), max_points, must=np.flatnonzero(front).tolist())
    return {
        "kind": "pareto",
        "objectives": [{"name": n, "direction": d.value} for n, d in zip(names, directions)],
        "number": [done[i].number for i in keep],
        "values": [[float(v) for v in y[i]] for i in keep],
        "front": [bool(front[i]) for i in keep],
        "feasible": [bool(feasible[i]) for i in keep],
        "n_trials": len(done),
        "n_front": int(front.sum()),
        "reference": None if ref is None else [float(r) for r in ref * signs],
        "hypervolume": hv,
    }


def _names(directions: Sequence[StudyDirection], given: Sequence[str] | None) -> list[str]:
    return objective_names(directions, given)


def _reference(z: np.ndarray, signs: np.ndarray, given: Sequence[float] | None, m: int) -> np.ndarray | None:
    """The reference point in minimised units."""
    if given is not None:
        ref = np.asarray([finite(r) for r in given], dtype=object)
        if ref.shape != (m,) or any(r is None for r in ref):
            raise invalid("reference", f"must be {m} finite numbers, one per objective", given)
        return np.asarray(ref, dtype=float) * signs
    if len(z) == 0:
        return None
    worst, best = z.max(axis=0), z.min(axis=0)
    span = np.where(worst > best, worst - best, np.maximum(np.abs(worst), 1.0))
    return worst + 0.1 * span


def _hypervolume_history(numbers: Sequence[int], z: np.ndarray, feasible: np.ndarray,
                         ref: np.ndarray | None) -> dict[str, list[Any]]:
    """Hypervolume after each trial, recomputed only when the front changes (a dominated point
    changes nothing), so 100,000 trials cost as many hypervolumes as the front has changes."""
    xs: list[int] = []
    hs: list[float] = []
    if ref is None:
        return {"number": xs, "value": hs}
    front = np.empty((0, z.shape[1]))
    for n, p, ok in zip(numbers, z, feasible):
        if not ok:
            continue
        if len(front) and np.any(np.all(front <= p, axis=1)):
            continue  # dominated by (or equal to) a front point: the volume stays
        front = np.vstack([front[~np.all(p <= front, axis=1)], p])
        xs.append(int(n))
        hs.append(hypervolume(front, ref))
    if xs and numbers and numbers[-1] != xs[-1]:
        xs.append(int(numbers[-1]))
        hs.append(hs[-1])
    return {"number": xs, "value": hs}
