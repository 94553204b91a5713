"""ASHA with promotion (Li et al., MLSys 2020, Algorithm 2) on real training with checkpoints."""

from __future__ import annotations

from pathlib import Path

import scheduler_objectives as objectives
from scheduler_checks import lines, paused_value

import hyperdial as hd
from hyperdial.system_attrs import PAUSED

ETA = 3


def check_asha(study: hd.Study, rungs: list[int], n_configs: int, sequential: bool) -> list[list[hd.FrozenTrial]]:
    """Every configuration pauses at each rung it reaches; a promotion from rung k was in the top
    floor(m / eta) of the m trials at rung k when it was queued; at the end nothing is promotable."""
    configs = lines(study)
    assert len(configs) == n_configs
    for k, resource in enumerate(rungs):
        entries = [line[k] for line in configs if len(line) > k]
        assert all(t.state == hd.TrialState.PRUNED and t.system_attrs[PAUSED] == resource for t in entries)
        promoted = {line[k].number: line[k + 1] for line in configs if len(line) > k + 1}
        final_top = sorted(entries, key=lambda t: (paused_value(t), t.number))[:len(entries) // ETA]
        assert {t.number for t in final_top} <= set(promoted)  # Algorithm 2 ends with nothing promotable
        if sequential:  # one trial at a time: the rung when the promotion was queued is known
            for paused_number, successor in promoted.items():
                rung_then = [t for t in entries if t.number < successor.number]
                top_then = sorted(rung_then, key=lambda t: (paused_value(t), t.number))[:len(rung_then) // ETA]
                assert paused_number in {t.number for t in top_then}
    for line in configs:
        if len(line) == len(rungs) + 1:
            assert line[-1].state == hd.TrialState.COMPLETE
            assert line[-1].value == objectives.uninterrupted(line[-1].params, objectives.MAX_EPOCHS)
    return configs


def test_asha_promotes_as_algorithm_2(tmp_path: Path) -> None:
    hd.set_verbosity(30)
    asha = hd.schedulers.ASHA(min_resource=1, max_resource=objectives.MAX_EPOCHS, reduction_factor=ETA, n_configs=20)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/a.db", scheduler=asha, sampler=hd.samplers.Random(seed=3))
    study.optimize(objectives.sgd_digits, n_trials=1000, show_progress_bar=False)
    configs = check_asha(study, [1, 3], 20, sequential=True)
    assert sum(len(line) == 3 for line in configs) >= 2  # 20 at rung 1 -> >= 6 at rung 3 -> >= 2 complete
    # a trial not good enough when it paused may be promoted later, when its rung has grown (unlike the pruner)
    rung0 = [line[0] for line in configs]
    late = []
    for line in configs:
        if len(line) > 1:
            then = [t for t in rung0 if t.number <= line[0].number]
            if line[0] not in sorted(then, key=lambda t: (paused_value(t), t.number))[:len(then) // ETA]:
                late.append(line[0].number)
    assert late


def test_asha_with_threads(tmp_path: Path) -> None:
    asha = hd.schedulers.ASHA(min_resource=1, max_resource=objectives.MAX_EPOCHS, reduction_factor=ETA, n_configs=12)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/t.db", scheduler=asha, sampler=hd.samplers.Random(seed=4))
    study.optimize(objectives.sgd_digits, n_trials=1000, n_jobs=3, show_progress_bar=False)
    check_asha(study, [1, 3], 12, sequential=False)
