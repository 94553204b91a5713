"""PBT's and PB2's decisions as pure functions of a History built from FrozenTrials (no study)."""

from __future__ import annotations

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.schedulers import lineage as lin
from hyperdial.schedulers import pb2
from hyperdial.schedulers import pbt as logic
from hyperdial.system_attrs import PAUSED, PBT_SEGMENT, RESUME_FROM, RETRY_OF, SUCCESSOR_OF

SPACE = {"lr": hd.Float(1e-4, 1.0, log=True), "layers": hd.Int(1, 8), "act": hd.Categorical(["relu", "tanh", "gelu"])}


def seg(number, steps, values, *, after=None, resume_from=None, params=None, state=hd.TrialState.PRUNED, **rec):
    """A segment trial: the successor of trial `after` (resuming from `resume_from`, default `after`)."""
    if isinstance(values, (int, float)):
        values = [values] * len(steps)
    attrs = {PBT_SEGMENT: rec} if rec else {}
    if after is not None:
        attrs[SUCCESSOR_OF] = after
        attrs[RESUME_FROM] = after if resume_from is None else resume_from
    if state == hd.TrialState.PRUNED:
        attrs[PAUSED] = steps[-1]
    params = params or {"lr": 0.01, "layers": 2, "act": "relu"}
    return hd.FrozenTrial(number=number, state=state, values=(values[-1],) if steps else None, params=params,
                          distributions={k: SPACE[k] for k in params}, system_attrs=attrs,
                          intermediate_values=dict(zip(steps, values)))


def population(scores, direction="maximize", steps=(1, 2, 3, 4)):
    """Generation 0 of len(scores) members, all paused after `steps` with these scores."""
    trials = [seg(i, list(steps), s, params={"lr": 0.01 * (i + 1), "layers": i % 8 + 1, "act": "relu"})
              for i, s in enumerate(scores)]
    return hd.History([direction], trials)


def test_quantiles_follow_ray_sizes():
    ranked = lin.segments(population([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]))
    bottom, top = logic.quantiles(ranked, 0.25)
    assert [s.member for s in bottom] == [0, 1] and [s.member for s in top] == [6, 7]
    assert logic.quantiles(ranked[:1], 0.25) == ([], [])
    b, t = logic.quantiles(ranked[:3], 0.9)  # never more than half
    assert len(b) == len(t) == 1


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_standing_ranks_worst_first_in_either_direction(direction):
    h = population([0.5, 0.9, 0.1], direction)
    order = [s.member for s in logic.standing(h)]
    assert order == ([2, 0, 1] if direction == "maximize" else [1, 0, 2])


def test_bottom_member_copies_a_top_member_and_others_continue():
    h = population([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    rng = np.random.default_rng(0)
    worst = lin.segment_of(h, 0)
    donor = logic.pick_donor(h, worst, 0.25, rng)
    assert donor is not None and donor.member in (6, 7)
    middle = lin.segment_of(h, 4)
    assert logic.pick_donor(h, middle, 0.25, rng) is None
    nxt = logic.continue_segment(middle, 4)
    assert (nxt.parent, nxt.generation, nxt.until, nxt.action) == (4, 1, 8, "continue")
    ex = logic.exploit_segment(worst, donor, donor.params, {}, 4)
    assert (ex.parent, ex.member, ex.donor, ex.until) == (donor.number, 0, donor.member, 8)


def test_standing_uses_each_members_latest_finished_segment():
    trials = list(population([0.9, 0.5]).trials)
    trials.append(seg(2, [5, 6, 7, 8], 0.1, after=0))  # member 0 fell behind in its second segment
    trials.append(seg(3, [5], 0.0, after=1, state=hd.TrialState.RUNNING))  # still running: not counted
    h = hd.History(["maximize"], trials)
    assert [(s.member, s.number) for s in logic.standing(h)] == [(0, 2), (1, 1)]


def test_explore_perturbs_within_the_space_and_records_how():
    rng = np.random.default_rng(1)
    params = {"lr": 0.5, "layers": 1, "act": "relu"}
    seen = set()
    for _ in range(200):
        new, how = logic.explore(params, SPACE, rng, resample_probability=0.0)
        assert all(SPACE[k].contains(v) for k, v in new.items())
        assert new["lr"] in (pytest.approx(0.4), pytest.approx(0.6))
        # 1 * 1.2 rounds to 1, so it moves one step up; 1 * 0.8 would move below the bound and stays
        assert new["layers"] in (1, 2) and ("layers" in how) == (new["layers"] == 2)
        seen.add(how.get("layers", {}).get("how"))
        assert new["act"] == "tanh"  # the only neighbour of the first choice
        seen.add(how["lr"]["how"])
    assert seen == {"x0.8", "x1.2", None}
    capped, _ = logic.explore({"lr": 1.0, "layers": 8, "act": "gelu"}, SPACE, rng, factors=(1.2,),
                              resample_probability=0.0)
    assert capped["lr"] == 1.0 and capped["layers"] == 8  # clipped at the bounds


def test_explore_resamples_with_the_given_probability():
    rng = np.random.default_rng(2)
    n = 2000
    resampled = sum(logic.explore({"lr": 0.01}, SPACE, rng, resample_probability=0.3)[1]
                    .get("lr", {}).get("how") == "resample" for _ in range(n))
    assert abs(resampled / n - 0.3) < 0.05
    new, _ = logic.explore({"lr": 0.01, "layers": 3}, SPACE, rng, resample_probability=1.0, names=["layers"])
    assert new["lr"] == 0.01  # only the named parameters are explored


def test_lineage_follows_exploits_and_reruns():
    trials = list(population([0.1, 0.9]).trials)
    trials.append(seg(2, [5, 6, 7, 8], 0.95, after=0, resume_from=1, params={"lr": 0.024, "layers": 2, "act": "relu"},
                      explored={"lr": {"from": 0.02, "to": 0.024, "how": "x1.2"}}, state=hd.TrialState.FAIL))
    rerun = hd.FrozenTrial(number=3, state=hd.TrialState.PRUNED, values=(0.96,),
                           params={"lr": 0.024, "layers": 2, "act": "relu"},
                           distributions={k: SPACE[k] for k in SPACE}, system_attrs={RETRY_OF: 2, RESUME_FROM: 2},
                           intermediate_values={1: 0.9, 2: 0.9, 3: 0.9, 4: 0.9, 7: 0.9, 8: 0.96})  # the curve it continued
    h = hd.History(["maximize"], [*trials, rerun])
    assert [s.number for s in lin.members(h)[0]] == [0, 3]  # the rerun replaced the lost attempt
    assert [s.number for s in lin.lineage(h, 3)] == [1, 3]  # through the donor's chain
    assert (lin.segment_of(h, 3).first_step, lin.segment_of(h, 3).action) == (7, "exploit")
    sched = lin.schedule(h, 3)
    assert sched == [(None, {"lr": 0.02, "layers": 2, "act": "relu"}), (4, {"lr": 0.024, "layers": 2, "act": "relu"})]
    text = lin.format_lineage(h)
    assert "exploit member 1 (trial 1): lr 0.02->0.024 (x1.2)" in text
    assert "best: member 0, trial 3" in text


def test_pb2_improvement_data_signs_gains_by_direction():
    trials = list(population([0.5, 0.5], "minimize").trials)
    trials.append(seg(2, [5, 6, 7, 8], 0.3, after=0))
    trials.append(seg(3, [5, 6, 7, 8], 0.6, after=1))
    fixed, y, x = pb2.improvement_data(hd.History(["minimize"], trials), SPACE)
    assert list(y) == [0.0, 0.0, pytest.approx(0.2), pytest.approx(-0.1)]  # a falling loss is a gain
    assert fixed[2].tolist() == [8.0, 0.5] and x.shape == (4, 3)


def test_pb2_picks_the_learning_rate_that_improved_most():
    # Segments at several times: the gain peaks at lr = 0.01 whatever the time.
    space = {"lr": hd.Float(1e-4, 1.0, log=True)}
    rng = np.random.default_rng(0)
    trials, n = [], 0
    for t in range(1, 6):
        for _ in range(6):
            lr = float(10 ** rng.uniform(-4, 0))
            gain = 1.0 - (np.log10(lr) + 2.0) ** 2 / 4
            parent = n - 6 if t > 1 else None
            start = 0.0 if parent is None else trials[parent].intermediate_values[4 * (t - 1)]
            trials.append(hd.FrozenTrial(
                number=n, state=hd.TrialState.PRUNED, values=(start + gain,), params={"lr": lr},
                distributions=space, intermediate_values={4 * t - 3: start, 4 * t: start + gain},
                system_attrs={} if parent is None else {SUCCESSOR_OF: parent, RESUME_FROM: parent}))
            n += 1
    h = hd.History(["maximize"], trials)
    chosen = pb2.select(h, space, now=(20.0, 3.0), pending=[], incumbent={"lr": 0.5}, rng=np.random.default_rng(1))
    assert chosen is not None and 10**-2.7 < chosen["lr"] < 10**-1.3


def test_pb2_declines_without_data():
    h = population([0.1, 0.2])
    assert pb2.select(h, SPACE, now=(4.0, 0.2), pending=[], incumbent={}, rng=np.random.default_rng(0)) is None
