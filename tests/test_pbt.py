"""PBT and PB2 with real training (scikit-learn's SGDClassifier, checkpointed between segments)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pbt_objectives as objectives
import pytest
from test_executors import TESTS_DIR, dask_cluster  # noqa: F401 - the fixture, shared

import hyperdial as hd
from hyperdial.cli.main import main as cli
from hyperdial.schedulers import Replay
from hyperdial.schedulers.lineage import best_member_segment, format_lineage, members, schedule, segments
from hyperdial.system_attrs import PBT_SEGMENT

POPULATION, INTERVAL = 4, 3


def run_pbt(storage: str, scheduler: hd.schedulers.PBT | None = None, **optimize: object) -> hd.Study:
    scheduler = scheduler or hd.schedulers.PBT(population=POPULATION, interval=INTERVAL, seed=0)
    study = hd.create_study(study_name="pbt", storage=storage, direction="maximize", scheduler=scheduler,
                            **{k: optimize.pop(k) for k in ("heartbeat_interval", "grace_period", "max_retries")
                               if k in optimize})
    study.optimize(objectives.sgd, show_progress_bar=False, **optimize)  # type: ignore[arg-type]
    return study


def check_population(study: hd.Study) -> None:
    """Every member trained all epochs, by segments of INTERVAL steps, each continuing a checkpoint."""
    history = study.history()
    chains = members(history)
    assert sorted(chains) == list(range(POPULATION))
    for chain in chains.values():
        assert [s.generation for s in chain] == list(range(len(chain)))
        assert chain[-1].trial.state == hd.TrialState.COMPLETE and chain[-1].last_step == objectives.EPOCHS
        for s in chain[:-1]:
            assert s.trial.state == hd.TrialState.PRUNED
            assert s.last_step - (s.start_after or 0) == INTERVAL  # paused after exactly one interval
        for s in chain[1:]:
            parent = next(p for p in segments(history) if p.number == s.parent)
            # The segment resumed from its parent's checkpoint (the weights the parent saved),
            # at the parent's step, and its curve continues from there.
            assert s.trial.user_attrs["resumed"] == {"step": parent.last_step, "weights": parent.trial.user_attrs["saved"]}
            assert s.first_step == parent.last_step + 1
            assert {k: v for k, v in s.trial.intermediate_values.items() if k <= parent.last_step} == \
                parent.trial.intermediate_values


def test_pbt_exploits_and_explores_with_a_recorded_lineage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = f"sqlite:///{tmp_path}/pbt.db"
    study = run_pbt(storage, n_jobs=2)  # two threads
    check_population(study)
    history = study.history()
    segs = segments(history)
    exploits = [s for s in segs if s.action == "exploit"]
    assert exploits, "the bottom member of 4 copies the top one at every interval"
    by_number = {s.number: s for s in segs}
    for s in exploits:
        donor = by_number[s.parent]
        assert donor.member == s.donor != s.member
        rec = s.trial.system_attrs[PBT_SEGMENT]
        for name, change in rec.get("explored", {}).items():
            assert change["from"] == donor.params[name] and change["to"] == s.params[name]
            if change["how"] != "resample":
                factor = float(change["how"][1:])
                assert factor in (0.8, 1.2) and s.params[name] == pytest.approx(donor.params[name] * factor)
        unexplored = set(s.params) - set(rec.get("explored", {}))
        assert all(s.params[k] == donor.params[k] for k in unexplored)  # copied as they were
    # `hyperdial lineage` prints the same record.
    assert cli(["--storage", storage, "lineage", "pbt"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == format_lineage(history).strip()
    first = exploits[0]
    assert f"exploit member {first.donor} (trial {first.parent})" in out
    assert "best: member" in out and "its schedule:" in out
    assert cli(["--storage", storage, "lineage", "pbt", "--member", "9"]) == 1
    capsys.readouterr()
    assert cli(["--storage", storage, "lineage", "pbt", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    best = best_member_segment(history)
    assert best is not None and data["best"]["trial"] == best.number
    assert [(e["after_step"], e["params"]) for e in data["best"]["schedule"]] == schedule(history, best.number)
    assert sum(len(m["segments"]) for m in data["members"]) == len(segs)


def test_replay_of_the_best_member_reproduces_its_schedule_and_curve(tmp_path: Path) -> None:
    study = run_pbt(f"sqlite:///{tmp_path}/pbt.db")
    history = study.history()
    best = best_member_segment(history)
    assert best is not None
    plan = schedule(history, best.number)
    replay = hd.create_study(study_name="replay", storage=f"sqlite:///{tmp_path}/replay.db", direction="maximize",
                             scheduler=Replay.best(study))
    replay.optimize(objectives.sgd, show_progress_bar=False)
    chain = members(replay.history())[0]
    assert len(members(replay.history())) == 1
    # The parameters at every step are those of the schedule...
    assert [(s.start_after, s.params) for s in chain] == [(a, p) for a, p in plan]
    # ...and training is deterministic, so the replayed curve is the original one, step by step.
    assert chain[-1].trial.intermediate_values == pytest.approx(best.trial.intermediate_values)
    assert chain[-1].trial.value == pytest.approx(best.trial.value)


def test_pb2_explores_with_its_model(tmp_path: Path) -> None:
    pb2 = hd.schedulers.PB2(population=POPULATION, interval=INTERVAL, seed=1)
    study = run_pbt(f"sqlite:///{tmp_path}/pb2.db", pb2)
    check_population(study)
    hows = {c["how"] for s in segments(study.history()) for c in s.explored.values()}
    assert "pb2" in hows  # once three segments are done, the GP chooses the parameters


@pytest.mark.slow
def test_pbt_in_two_processes(tmp_path: Path) -> None:
    study = run_pbt(f"sqlite:///{tmp_path}/pbt.db", executor="process", n_jobs=2)
    check_population(study)
    assert len({t.user_attrs["pid"] for t in study.trials}) == 2


@pytest.mark.slow
def test_pbt_on_dask_survives_a_killed_worker(dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],  # noqa: F811
                                              tmp_path: Path) -> None:
    address, workers = dask_cluster
    (tmp_path / "kill-at-step").write_text("5")  # the worker training step 5 first dies there (SIGKILL)
    study = run_pbt(f"sqlite:///{tmp_path}/pbt.db", executor=hd.executors.Dask(address), n_jobs=2,
                    heartbeat_interval=0.2, grace_period=1.0, max_retries=3)
    assert (tmp_path / "kill-at-step.done").exists()
    assert sum(w.poll() is not None for w in workers) == 1  # one worker process is gone
    # The segment it was training is run again, from the member's checkpoint at step 3: Dask
    # resubmits the task to the other worker, or (if hyperdial's reaper failed the trial first)
    # its rerun does. Either way no member is lost: all train to the end, each segment resuming
    # from the checkpoint its parent saved.
    for t in study.trials:
        if t.state == hd.TrialState.FAIL:
            rerun = next(r for r in study.trials if r.system_attrs.get("retry_of") == t.number)
            assert rerun.user_attrs["resumed"]["step"] == 3
    check_population(study)


@pytest.mark.slow
def test_pbt_on_ray(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is part of the test extra")
    here = os.pathsep.join([TESTS_DIR, str(Path(hd.__file__).parent.parent)])
    executor = hd.executors.Ray(runtime_env={"env_vars": {"PYTHONPATH": here}})
    try:
        study = run_pbt(f"sqlite:///{tmp_path}/pbt.db", executor=executor, n_jobs=2)
    finally:
        executor.close()
    check_population(study)


def test_pbt_arguments_are_checked() -> None:
    with pytest.raises(hd.InvalidParameterError, match="population"):
        hd.schedulers.PBT(population=1, interval=3)
    with pytest.raises(hd.InvalidParameterError, match="quantile"):
        hd.schedulers.PBT(population=4, interval=3, quantile=0.7)
    with pytest.raises(hd.InvalidParameterError, match="perturb"):
        hd.schedulers.PBT(population=4, interval=3, perturb=())
    with pytest.raises(hd.InvalidParameterError, match="schedule"):
        Replay([])


def test_lineage_command_on_a_study_without_pbt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = f"sqlite:///{tmp_path}/plain.db"
    hd.create_study(study_name="plain", storage=storage)
    assert cli(["--storage", storage, "lineage", "plain"]) == 0
    assert "no population-based-training segments" in capsys.readouterr().out
