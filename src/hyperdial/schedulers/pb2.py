"""PB2: population-based bandits (Parker-Holder et al. 2020, "Provably Efficient Online
Hyperparameter Optimization with Population-Based Bandits").

PB2 keeps PBT's exploit step (a bottom-quantile member copies a top member's checkpoint)
and replaces the random explore step by a GP bandit: a Gaussian process models the
improvement of the score over one segment, y = score(end) - score(start), as a function of
(t, score(start), parameters), and the new parameters maximise an upper confidence bound at
the current (t, score) (the paper's Algorithm 2; the inputs and the beta_t schedule are Ray
Tune's `pb2_utils`):

    x* = argmax_x  mu(t, r, x) + sqrt(beta_t) * sigma_pending(t, r, x),
    beta_t = 0.2 + max(0, log(0.4 n)).

- Time varying: the paper's kernel multiplies a squared exponential over the parameters by
  (1 - eps)^(|t - t'| / 2); here t is one more input of hyperdial's GP (`samplers.gp`: a
  Matern-5/2 kernel with a learned lengthscale per input), so how fast old segments stop
  informing the model is learned rather than fixed by eps.
- Parallel members: sigma_pending is the posterior standard deviation after conditioning on the
  parameters of the members still running at (t, r) with their predicted means (Ray pads them
  with the data mean), so the members exploiting at once do not all pick one point.
- Any hyperdial space: categoricals and integers go through the GP's own encoding and its
  acquisition search (Ray's PB2 accepts continuous bounds only).
- y is the improvement in the direction of the study (a loss going down is positive); the
  model uses the latest `window` segments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperdial.history import History
from hyperdial.schedulers.lineage import Segment, segment_of, segments
from hyperdial.schedulers.pbt import PBT
from hyperdial.space import Distribution

WINDOW = 256  # latest segments the GP is fitted on: a fit is O(n^3), and old segments matter little


def improvement_data(history: History, space: Mapping[str, Distribution]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (t, score at start, score improvement) and the segments' encoded parameters.

    A segment's start score is its parent's score (the checkpoint it resumed from); a first
    segment starts from its first reported value. Improvements are signed so that larger is
    better in either direction.
    """
    from hyperdial.samplers.gp.encoding import Encoding

    enc = Encoding(space)
    sign = -history.sign()
    times, starts, gains, xs = [], [], [], []
    for s in segments(history):
        if not s.finished or s.score is None or s.last_step is None or not _fits(s.params, space):
            continue
        start = _start_score(history, s)
        if start is None or not (math.isfinite(start) and math.isfinite(s.score)):
            continue
        times.append(float(s.last_step))
        starts.append(start)
        gains.append(sign * (s.score - start))
        xs.append(enc.encode(s.params))
    keep = slice(-WINDOW, None)
    fixed = np.column_stack([times, starts])[keep] if times else np.zeros((0, 2))
    return fixed, np.asarray(gains, dtype=float)[keep], (np.asarray(xs)[keep] if xs else np.zeros((0, enc.dim)))


def _fits(params: Mapping[str, Any], space: Mapping[str, Distribution]) -> bool:
    return all(k in params and d.contains(params[k]) for k, d in space.items())


def _start_score(history: History, s: Segment) -> float | None:
    if s.parent is not None:
        parent = segment_of(history, int(s.parent))
        return None if parent is None else parent.score
    first = s.first_step
    if first is None:
        return None
    v = s.trial.intermediate_values[first]
    return float(v) if isinstance(v, (int, float)) else None


def ucb_beta(n: int) -> float:
    """beta_t of Ray Tune's PB2 (`pb2_utils.UCB`): 0.2 + max(0, log(0.4 n))."""
    return 0.2 + max(0.0, math.log(0.4 * max(n, 1)))


def select(
    history: History,
    space: Mapping[str, Distribution],
    *,
    now: tuple[float, float],
    pending: Sequence[Mapping[str, Any]],
    incumbent: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, Any] | None:
    """PB2's new parameters for a member resuming at time `now[0]` from score `now[1]`, or None
    when the history holds too little to fit a model (the caller then explores as PBT does).

    `pending`: the parameters of the members running now; `incumbent`: the donor's parameters
    (a start of the acquisition search).
    """
    from hyperdial.samplers.gp import model
    from hyperdial.samplers.gp.encoding import Encoding
    from hyperdial.samplers.gp.kernel import Embedding
    from hyperdial.samplers.gp.optim import optimize

    enc = Encoding(space)
    if enc.dim == 0:
        return None
    fixed, y, xp = improvement_data(history, space)
    if len(y) < 3 or float(np.std(y)) == 0.0:
        return None
    # Time and start score scaled to [0, 1] over the data and the query point.
    lo = np.minimum(fixed.min(axis=0), now)
    span = np.maximum(fixed.max(axis=0), now) - lo
    span[span == 0] = 1.0
    x = np.hstack([(fixed - lo) / span, xp])
    q = (np.asarray(now, dtype=float) - lo) / span
    ys = (y - y.mean()) / y.std()
    emb = Embedding([0, 0] + enc.cat_sizes)
    layout = model.Layout(dim=x.shape[1], n_numeric=len(emb.numeric), learn_noise=True, warping=False)
    theta = model.fit(emb, x, ys, layout, None, maxiter=100)
    hp = model.Hyper.from_theta(theta, layout)
    post = model.Posterior(emb, x, ys, hp)
    believed = post
    running = [enc.encode(p) for p in pending if _fits(p, space)]
    if running:
        xr = np.hstack([np.repeat(q[None, :], len(running), axis=0), np.asarray(running)])
        believed = post.condition(xr, post.predict(xr)[0])
    kappa = math.sqrt(ucb_beta(len(ys)))

    def acquisition(xq: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        full = np.hstack([np.repeat(q[None, :], len(xq), axis=0), xq])
        if not grad:
            mean = post.predict(full)[0]
            var = believed.predict(full)[1]
            return mean + kappa * np.sqrt(var), None
        mean, _, dmean, _ = post.predict(full, grad=True)
        _, var, _, dvar = believed.predict(full, grad=True)
        sd = np.sqrt(var)
        g = dmean + kappa * dvar / (2.0 * sd[:, None])
        return mean + kappa * sd, g[:, 2:]

    incumbents = np.asarray([enc.encode(incumbent)]) if _fits(incumbent, space) else np.zeros((0, enc.dim))
    best, _ = optimize(acquisition, enc, rng, incumbents, hp.lengthscales[2:], n_sobol_log2=9, n_starts=4,
                       maxiter=50)
    return enc.decode(best)


class PB2(PBT):
    """PB2 as a scheduler: PBT whose explore step is the GP bandit above (`select`).

    The same arguments as `PBT`; `perturb` and `resample_probability` serve only while the
    study holds too few finished segments to fit the model (fewer than 3), as in Ray's PB2,
    which explores randomly at first too.

    >>> import hyperdial as hd
    >>> study = hd.create_study(direction="maximize", scheduler=hd.schedulers.PB2(population=4, interval=5))
    >>> study.pruner
    PauseEvery(interval=5, population=4)
    """

    def explore(
        self, history: History, donor: Segment, rng: np.random.Generator, pending: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        base = donor.params
        names = [k for k in (self.params if self.params is not None else base) if k in base]
        space = {k: donor.trial.distributions[k] for k in names if k in donor.trial.distributions}
        score = donor.score
        chosen = None
        if space and donor.last_step is not None and score is not None:
            chosen = select(history, space, now=(float(donor.last_step), float(score)), pending=pending,
                            incumbent={k: base[k] for k in space}, rng=rng)
        if chosen is None:
            return super().explore(history, donor, rng, pending)
        new = {**base, **chosen}
        explored = {k: {"from": base[k], "to": v, "how": "pb2"} for k, v in chosen.items() if v != base[k]}
        return new, explored
