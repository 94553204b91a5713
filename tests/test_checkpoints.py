"""Checkpoints and artifacts in one process: round trips, checksums, keep policies, stores, resume chains.

The multi-process proofs (a writer killed mid-write, a worker killed with SIGKILL or SIGTERM whose
retry resumes) are in test_checkpoints_processes.py; PyTorch state dicts in test_checkpoints_torch.py.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.checkpoints import KeepCheckpoints, load_state, save_state
from hyperdial.system_attrs import CHECKPOINTS, RESUME_FROM


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _tree(tmp_path: Path, name: str, content: dict[str, bytes]) -> Path:
    root = tmp_path / name
    for rel, data in content.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_file_round_trip_in_memory_study(tmp_path: Path) -> None:
    study = hd.create_study()
    trial = study.ask()
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(3000))
    trial.report(0.7, step=5)
    ckpt = trial.save_checkpoint(src)
    assert (ckpt.step, ckpt.size, ckpt.metric) == (5, 3000, 0.7)
    path = trial.load_checkpoint()
    assert path is not None and _files(path) == {"model.bin": src.read_bytes()}
    assert trial.checkpoint_step == 5
    assert study.artifacts.location is not None and Path(study.artifacts.location).is_dir()


def test_directory_round_trip_sqlite_default_beside_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    study = hd.create_study(study_name="s", storage=url)
    assert study.artifacts.location == f"{tmp_path}/s.db.artifacts"
    trial = study.ask()
    content = {"config.json": b"{}", "weights/layer0.npy": os.urandom(100), "weights/deep/layer1": b"x" * 5}
    src = _tree(tmp_path, "ckpt", content)
    trial.save_checkpoint(src, step=0)
    content["config.json"] = b'{"epoch": 1}'
    trial.save_checkpoint(_tree(tmp_path, "ckpt", content), step=1)
    # another process opens the study by URL and sees the same files
    other = hd.load_study(study_name="s", storage=url)
    found = hd.Trial(other, other.trials[0]).load_checkpoint()
    assert found is not None and _files(found) == content
    assert [c.step for c in other.artifacts.checkpoints()] == [0, 1]
    assert (tmp_path / "s.db.artifacts" / "s" / "trial-0").is_dir()


def test_step_defaults_to_the_last_report_and_is_needed_otherwise(tmp_path: Path) -> None:
    trial = hd.create_study().ask()
    (tmp_path / "f").write_text("x")
    with pytest.raises(hd.InvalidParameterError, match=r"`step` is needed: the trial has reported no step yet"):
        trial.save_checkpoint(tmp_path / "f")
    with pytest.raises(hd.InvalidParameterError, match=r"`path` does not exist, got path='.*/missing'"):
        trial.save_checkpoint(tmp_path / "missing", step=0)
    with pytest.raises(hd.InvalidParameterError, match=r"`step` must be an int >= 0, got step=-1"):
        trial.save_checkpoint(tmp_path / "f", step=-1)
    trial.report(1.0, step=0)
    trial.report(0.5, step=3)
    assert trial.save_checkpoint(tmp_path / "f").step == 3
    assert trial.load_checkpoint() is not None


def test_state_dict_of_arrays_round_trip_without_pickle(tmp_path: Path) -> None:
    trial = hd.create_study().ask()
    state = {"coef": np.random.default_rng(0).normal(size=(10, 64)).astype(np.float32),
             "intercept": np.arange(10, dtype=np.int64), "epoch": 7, "lr": 0.01, "name": "sgd",
             "optimizer": {"momentum": np.ones(3), "step": 12}}
    save_state(trial, state, step=7)
    loaded = load_state(trial)
    assert loaded is not None
    got, step = loaded
    assert step == 7
    assert got["coef"].dtype == np.float32 and np.array_equal(got["coef"], state["coef"])
    assert np.array_equal(got["intercept"], state["intercept"])
    assert (got["epoch"], got["lr"], got["name"]) == (7, 0.01, "sgd")
    assert np.array_equal(got["optimizer"]["momentum"], np.ones(3)) and got["optimizer"]["step"] == 12
    with pytest.raises(hd.InvalidParameterError, match="arrays must not hold Python objects"):
        save_state(trial, {"bad": np.array([{}, []], dtype=object)}, step=8)
    with pytest.raises(hd.InvalidParameterError, match="values must be arrays, dicts, or JSON"):
        save_state(trial, {"bad": object()}, step=8)


def test_a_corrupt_checkpoint_is_skipped_for_the_previous_one(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study(artifacts=tmp_path / "store")
    trial = study.ask()
    for step in range(3):
        (tmp_path / "w").write_text(f"epoch {step}")
        trial.save_checkpoint(tmp_path / "w", step=step)
    records = trial.system_attrs[CHECKPOINTS]
    (tmp_path / "store" / records[2]["path"] / "w").write_text("epoch 2, half writ")  # damaged in place
    os.remove(tmp_path / "store" / records[1]["path"] / "w")  # lost
    with caplog.at_level(logging.WARNING, logger="hyperdial"):
        path = trial.load_checkpoint()
    assert path is not None and (path / "w").read_text() == "epoch 0" and trial.checkpoint_step == 0
    assert "skipping checkpoint at step 2" in caplog.text and "does not match its recorded checksum" in caplog.text
    assert "skipping checkpoint at step 1" in caplog.text


def test_keep_last_k_deletes_older_files(tmp_path: Path) -> None:
    study = hd.create_study(artifacts=tmp_path / "store", keep_checkpoints=2)
    trial = study.ask()
    paths = []
    for step in range(5):
        (tmp_path / "w").write_text(str(step))
        paths.append(trial.save_checkpoint(tmp_path / "w", step=step).path)
    assert [c.step for c in study.artifacts.checkpoints()] == [3, 4]
    assert [(tmp_path / "store" / p).exists() for p in paths] == [False, False, False, True, True]
    # the policy of a save overrides the study's
    (tmp_path / "w").write_text("5")
    trial.save_checkpoint(tmp_path / "w", step=5, keep_checkpoints=1)
    assert [c.step for c in study.artifacts.checkpoints()] == [5]


def test_keep_best_by_reported_value_and_by_metric(tmp_path: Path) -> None:
    study = hd.create_study(artifacts=tmp_path / "store", direction="maximize",
                            keep_checkpoints=hd.KeepCheckpoints(last=1, best=2))
    trial = study.ask()
    accuracy = [0.5, 0.9, 0.6, 0.8, 0.7, 0.4]
    for step, acc in enumerate(accuracy):
        trial.report(acc, step)
        (tmp_path / "w").write_text(str(step))
        trial.save_checkpoint(tmp_path / "w")
    assert [c.step for c in study.artifacts.checkpoints()] == [1, 3, 5]  # best two (0.9, 0.8) and the latest
    kept = {c.path for c in study.artifacts.checkpoints()}
    on_disk = {p.relative_to(tmp_path / "store").as_posix() for p in (tmp_path / "store").glob("*/trial-0/checkpoint-*")}
    assert on_disk == kept
    # an explicit metric, with mode="min": the lowest loss is kept whatever the study's direction
    other = study.ask()
    for step, loss in enumerate([3.0, 1.0, 2.0, 4.0]):
        (tmp_path / "w").write_text(str(step))
        other.save_checkpoint(tmp_path / "w", step=step, metric=loss,
                              keep_checkpoints=KeepCheckpoints(last=1, best=1, mode="min"))
    assert [c.step for c in study.artifacts.checkpoints(other.number)] == [1, 3]


@pytest.mark.parametrize(("value", "pattern"), [
    (0, r"`keep_checkpoints` must be None \(keep all\), an int >= 1 \(the last k\) or a KeepCheckpoints, got keep_checkpoints=0"),
    ("3", r"`keep_checkpoints` must be None .*, got keep_checkpoints='3'"),
])
def test_bad_keep_checkpoints(value: object, pattern: str) -> None:
    with pytest.raises(hd.InvalidParameterError, match=pattern):
        hd.create_study(keep_checkpoints=value)  # type: ignore[arg-type]


def test_bad_keep_policy_and_artifacts() -> None:
    with pytest.raises(hd.InvalidParameterError, match=r"`best` must be an int >= 0, got best=-1"):
        hd.KeepCheckpoints(best=-1)
    with pytest.raises(hd.InvalidParameterError, match=r"`mode` must be 'min', 'max' or None"):
        hd.KeepCheckpoints(mode="lowest")
    with pytest.raises(hd.InvalidParameterError, match=r"`artifacts` must be a directory or an fsspec URL"):
        hd.create_study(artifacts=3)  # type: ignore[arg-type]


def test_keep_checkpoints_is_stored_with_the_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url, keep_checkpoints=hd.KeepCheckpoints(last=2, best=1),
                    artifacts=tmp_path / "elsewhere")
    study = hd.load_study(study_name="s", storage=url)
    assert study.keep_checkpoints == hd.KeepCheckpoints(last=2, best=1)
    assert study.artifacts.location == str(tmp_path / "elsewhere")


def test_artifacts_upload_list_fetch_replace(tmp_path: Path) -> None:
    study = hd.create_study(artifacts=tmp_path / "store")
    trial = study.ask()
    (tmp_path / "pred.csv").write_text("a,b\n1,2\n")
    art = trial.upload_artifact(tmp_path / "pred.csv")
    assert (art.name, art.size) == ("pred.csv", 8)
    (tmp_path / "plot.png").write_bytes(b"\x89PNG")
    trial.upload_artifact(tmp_path / "plot.png", name="plots/loss.png")
    (tmp_path / "pred.csv").write_text("a,b\n3,4\n5,6\n")
    trial.upload_artifact(tmp_path / "pred.csv")  # same name: replaced
    study.tell(trial, 1.0)
    assert sorted(a.name for a in study.artifacts.list()) == ["plots/loss.png", "pred.csv"]
    assert study.artifacts.fetch(0, "pred.csv").read_text() == "a,b\n3,4\n5,6\n"
    assert study.artifacts.fetch(0, "plots/loss.png").read_bytes() == b"\x89PNG"
    with pytest.raises(hd.InvalidParameterError, match=r"`name` is not an artifact of trial 0, got name='nope'"):
        study.artifacts.fetch(0, "nope")
    with pytest.raises(hd.InvalidParameterError, match=r"`name` must be a relative file name"):
        study.ask().upload_artifact(tmp_path / "pred.csv", name="../escape")
    with pytest.raises(hd.InvalidParameterError, match=r"`path` must be a file"):
        study.ask().upload_artifact(tmp_path)
    with pytest.raises(hd.exceptions.TrialFinishedError):
        trial.upload_artifact(tmp_path / "pred.csv")


def test_delete_study_deletes_its_files_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    for name in ("gone", "kept"):
        study = hd.create_study(study_name=name, storage=url)
        trial = study.ask()
        (tmp_path / "w").write_text(name)
        trial.save_checkpoint(tmp_path / "w", step=0)
        trial.upload_artifact(tmp_path / "w", name="note")
    store = tmp_path / "s.db.artifacts"
    assert sorted(os.listdir(store)) == ["gone", "kept"]
    hd.delete_study(study_name="gone", storage=url)
    assert os.listdir(store) == ["kept"]


def test_delete_study_deletes_files_of_an_explicit_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    study = hd.create_study(study_name="odd/name ..", storage=url, artifacts=tmp_path / "store")
    trial = study.ask()
    (tmp_path / "w").write_text("x")
    trial.save_checkpoint(tmp_path / "w", step=0)
    assert os.listdir(tmp_path / "store") == ["odd%2Fname%20.."]  # one directory, never a path out of the store
    hd.delete_study(study_name="odd/name ..", storage=url)
    assert os.listdir(tmp_path / "store") == []


def test_resume_chain_through_enqueue_and_a_retry_without_checkpoints(tmp_path: Path) -> None:
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db", heartbeat_interval=1, max_retries=3)
    first = study.ask()
    x = first.suggest_float("x", 0, 1)
    for step in range(4):
        first.report(float(step), step)
    (tmp_path / "w").write_text("after step 2")
    first.save_checkpoint(tmp_path / "w", step=2)
    study.fail_trial(first, "lost")          # retried: trial 1 resumes from trial 0
    retry = study.ask()
    assert retry.resume_from == 0 and retry.system_attrs[RESUME_FROM] == 0
    assert retry.suggest_float("x", 0, 1) == x
    study.fail_trial(retry, "lost again")    # died before loading or saving anything
    second = study.ask()
    assert second.resume_from == 1
    path = second.load_checkpoint()          # trial 1 has none: trial 0's, through the chain
    assert path is not None and (path / "w").read_text() == "after step 2" and second.checkpoint_step == 2
    # the curve up to the checkpoint's step is copied, steps after it will be trained again
    assert second.intermediate_values == {0: 0.0, 1: 1.0, 2: 2.0}
    assert second.load_checkpoint(continue_curve=False) is not None
    study.tell(second, 0.0)
    # enqueue_trial(resume_from=) for any trial; a trial without checkpoints anywhere loads None
    study.enqueue_trial({"x": 0.5}, resume_from=second.number)
    assert study.ask().load_checkpoint() is not None
    assert study.ask().load_checkpoint() is None
    with pytest.raises(hd.InvalidParameterError, match=r"`resume_from` must be a trial of this study or its number"):
        study.enqueue_trial({"x": 0.5}, resume_from=99)


def test_add_waiting_trial_for_schedulers() -> None:
    study = hd.create_study()
    donor = study.ask()
    donor.suggest_float("lr", 1e-4, 1e-1, log=True)
    created = study.add_waiting_trial({"lr": 0.01}, resume_from=donor, system_attrs={"pbt_member": 3})
    assert created is not None and created.state == hd.TrialState.WAITING
    assert created.system_attrs["resume_from"] == donor.number and created.system_attrs["pbt_member"] == 3
    claimed = study.ask()
    assert claimed.number == created.number and claimed.resume_from == donor.number


def test_fixed_trial_runs_from_scratch(tmp_path: Path) -> None:
    def objective(trial: hd.Trial) -> float:
        start = 0 if trial.load_checkpoint() is None else trial.checkpoint_step + 1  # type: ignore[operator]
        trial.save_checkpoint(tmp_path, step=start)
        return float(start)

    assert objective(hd.FixedTrial({})) == 0.0  # type: ignore[arg-type]


def test_fsspec_memory_url_round_trip_and_delete(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")  # in the test extra (artifacts)
    fs = fsspec.filesystem("memory")
    url = f"sqlite:///{tmp_path}/s.db"
    study = hd.create_study(study_name="s", storage=url, artifacts="memory://ckpt-test")
    trial = study.ask()
    first = {"a.txt": b"one", "sub/b.bin": os.urandom(2000)}
    trial.save_checkpoint(_tree(tmp_path, "c0", first), step=0)
    second = {**first, "a.txt": b"two"}
    trial.save_checkpoint(_tree(tmp_path, "c1", second), step=1)
    with fs.open(f"/ckpt-test/{trial.system_attrs[CHECKPOINTS][1]['path']}/a.txt", "wb") as f:
        f.write(b"bad")  # damaged in the remote store before anyone downloaded it
    found = trial.load_checkpoint()
    assert found is not None and _files(found) == first and trial.checkpoint_step == 0
    third = {**first, "a.txt": b"three"}
    trial.save_checkpoint(_tree(tmp_path, "c2", third), step=2, keep_checkpoints=1)
    assert len(fs.glob("/ckpt-test/s/trial-0/checkpoint-*")) == 1  # the older ones are deleted
    (tmp_path / "pred.csv").write_text("1,2")
    trial.upload_artifact(tmp_path / "pred.csv")
    loaded = hd.load_study(study_name="s", storage=url)  # the URL is stored with the study
    found = hd.Trial(loaded, loaded.trials[0]).load_checkpoint()
    assert found is not None and _files(found) == third
    assert loaded.artifacts.fetch(0, "pred.csv").read_text() == "1,2"
    hd.delete_study(study_name="s", storage=url)
    assert not fs.exists("/ckpt-test/s")


def test_fsspec_file_url(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    study = hd.create_study(artifacts=f"file://{tmp_path}/store")
    trial = study.ask()
    (tmp_path / "w").write_text("x")
    trial.save_checkpoint(tmp_path / "w", step=4)
    path = trial.load_checkpoint()
    assert path is not None and (path / "w").read_text() == "x"
    assert list((tmp_path / "store").glob("*/trial-0/checkpoint-4-*/w"))


def test_postgres_needs_artifacts_then_works(pg_url: str, tmp_path: Path) -> None:
    study = hd.create_study(study_name="pg", storage=pg_url)
    trial = study.ask()
    (tmp_path / "w").write_text("x")
    with pytest.raises(hd.InvalidParameterError, match=r"`artifacts` must be given to create_study"):
        trial.save_checkpoint(tmp_path / "w", step=0)
    study = hd.create_study(study_name="pg2", storage=pg_url, artifacts=tmp_path / "shared")
    trial = study.ask()
    trial.save_checkpoint(tmp_path / "w", step=0)
    other = hd.load_study(study_name="pg2", storage=pg_url)
    assert other.artifacts.location == str(tmp_path / "shared")
    found = hd.Trial(other, other.trials[0]).load_checkpoint()
    assert found is not None and (found / "w").read_text() == "x"
    hd.delete_study(study_name="pg2", storage=pg_url)
    assert not (tmp_path / "shared" / "pg2").exists()


def test_in_memory_store_is_removed_at_exit(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import pathlib, sys, hyperdial as hd
        study = hd.create_study()
        trial = study.ask()
        src = pathlib.Path(sys.argv[1]); src.write_text("x")
        trial.save_checkpoint(src, step=0)
        print(study.artifacts.location, pathlib.Path(study.artifacts.location).is_dir())
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "w")], capture_output=True, text=True, check=True)
    location, existed = out.stdout.split()
    assert existed == "True" and "hyperdial-artifacts-" in location
    assert not Path(location).exists()


def test_sgd_partial_fit_resumes_from_its_state(tmp_path: Path) -> None:
    """Real training: a retried trial continues an SGDClassifier from its predecessor's weights."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    classes = np.unique(y)
    trained: list[list[int]] = []

    def objective(trial: hd.Trial) -> float:
        alpha = trial.suggest_float("alpha", 1e-5, 1e-2, log=True)
        model = SGDClassifier(alpha=alpha, random_state=0)
        loaded = load_state(trial)
        start = 0
        if loaded is not None:
            state, step = loaded
            model.partial_fit(x[:1], y[:1], classes=classes)  # allocate, then overwrite with the state
            model.coef_, model.intercept_ = state["coef"], state["intercept"]
            model.t_ = state["t"]
            start = step + 1
        trained.append([])
        for epoch in range(start, 6):
            model.partial_fit(x[:1200], y[:1200], classes=classes)
            trial.report(1 - model.score(x[1200:], y[1200:]), epoch)
            save_state(trial, {"coef": model.coef_, "intercept": model.intercept_, "t": model.t_})
            trained[-1].append(epoch)
            if epoch == 2 and trial.resume_from is None:
                raise KeyboardInterrupt  # interrupted (not wrong): FAIL and rerun
        return 1 - model.score(x[1200:], y[1200:])

    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db", heartbeat_interval=1, max_retries=1,
                            pruner=hd.pruners.Nop())
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=1, show_progress_bar=False)
    study.optimize(objective, n_trials=1, show_progress_bar=False)
    first, retry = study.trials
    assert (first.state, retry.state) == (hd.TrialState.FAIL, hd.TrialState.COMPLETE)
    assert trained == [[0, 1, 2], [3, 4, 5]]
    assert sorted(retry.intermediate_values) == [0, 1, 2, 3, 4, 5]
    assert all(retry.intermediate_values[s] == first.intermediate_values[s] for s in range(3))
    assert retry.params == first.params
