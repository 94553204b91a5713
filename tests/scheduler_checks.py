"""What every run of a pause-and-promote scheduler must satisfy, checked from the stored study
with the papers' formulas (written out here, independently of hyperdial.schedulers)."""

from __future__ import annotations

import math
from typing import Any

import scheduler_objectives as objectives

import hyperdial as hd
from hyperdial.system_attrs import DUPLICATE_OF, PAUSED, SKIPPED, SUCCESSOR_OF


def live(study: hd.Study) -> list[hd.FrozenTrial]:
    """The trials that ran (duplicates and trials past the budget, ended before their objective, left out)."""
    return [t for t in study.trials if DUPLICATE_OF not in t.system_attrs and SKIPPED not in t.system_attrs]


def lines(study: hd.Study) -> list[list[hd.FrozenTrial]]:
    """Each configuration's trials in order: its first run, then each promotion. Checks on the way that
    no trial was promoted twice and that every promotion resumed where its trial paused."""
    trials = live(study)
    by_number = {t.number: t for t in trials}
    successors: dict[int, list[hd.FrozenTrial]] = {}
    for t in trials:
        if SUCCESSOR_OF in t.system_attrs:
            successors.setdefault(t.system_attrs[SUCCESSOR_OF], []).append(t)
    out = []
    for t in trials:
        if SUCCESSOR_OF in t.system_attrs:
            continue
        line = [t]
        while line[-1].number in successors:
            nxt = successors[line[-1].number]
            assert len(nxt) == 1, f"trial {line[-1].number} was promoted {len(nxt)} times"
            prev, cur = line[-1], nxt[0]
            assert prev.system_attrs.get(PAUSED) is not None, f"trial {prev.number} was promoted without pausing"
            assert cur.params == prev.params
            # the curve continues: the promoted trial restored the checkpoint of the step its trial paused at
            assert cur.user_attrs["resumed_at"] == prev.system_attrs[PAUSED], (prev.number, cur.number)
            assert min(s for s in cur.intermediate_values if s > cur.user_attrs["resumed_at"]) == \
                prev.system_attrs[PAUSED] + 1
            line.append(cur)
        out.append(line)
    assert sum(len(line) for line in out) == len(trials)
    assert not [n for n in by_number if n not in {t.number for line in out for t in line}]
    return out


def paused_value(t: hd.FrozenTrial) -> float:
    return float(t.intermediate_values[t.system_attrs[PAUSED]])


def hyperband_brackets(r: int, big_r: int, eta: int) -> list[tuple[int, list[int]]]:
    """Li et al. 2018, Algorithm 1: for s = s_max .. 0, n = ceil((s_max + 1) / (s + 1) * eta^s) configurations
    and the rung resources r_i = r * eta^(s_max - s + i) below R (then R itself)."""
    s_max = 0
    while r * eta ** (s_max + 1) <= big_r:
        s_max += 1
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        rungs = [r * eta ** (s_max - s + i) for i in range(s + 1) if r * eta ** (s_max - s + i) < big_r]
        out.append((n, rungs))
    return out


def check_synchronous(study: hd.Study, brackets: list[tuple[int, list[int]]], eta: int) -> dict[str, Any]:
    """Configurations fill the brackets in order; in each, rung i holds floor(n * eta^-i) paused trials, the
    best floor(n_i / eta) of them (and only they) are promoted, and the survivors of the last rung complete
    at R, having reproduced an uninterrupted run exactly."""
    configs = lines(study)
    configs.sort(key=lambda line: line[0].number)
    start = 0
    summary = []
    for n, rungs in brackets:
        members = configs[start:start + n]
        start += n
        assert len(members) == n
        alive = members
        for i, resource in enumerate(rungs):
            n_i = n // eta**i
            at_rung = [line[i] for line in alive]
            assert len(at_rung) == max(1, n_i), (resource, len(at_rung), n_i)
            assert all(t.state == hd.TrialState.PRUNED and t.system_attrs[PAUSED] == resource for t in at_rung)
            keep = max(1, n_i // eta)
            best = sorted(at_rung, key=lambda t: (paused_value(t), t.number))[:keep]
            promoted = [line for line in alive if len(line) > i + 1]
            assert {line[i].number for line in promoted} == {t.number for t in best}
            # synchronous: promotions start once every trial of the rung has paused
            last_pause = max(t.datetime_complete for t in at_rung if t.datetime_complete is not None)
            starts = [line[i + 1].datetime_start for line in promoted]
            assert all(start is not None and start >= last_pause for start in starts)
            alive = promoted
        for line in alive:  # the top: trained to R and complete
            last = line[-1]
            assert len(line) == len(rungs) + 1 and last.state == hd.TrialState.COMPLETE
            assert last.value == objectives.uninterrupted(last.params, objectives.MAX_EPOCHS)
        summary.append((n, len(alive)))
    assert start == len(configs)
    return {"brackets": summary, "trials": sum(len(line) for line in configs)}
