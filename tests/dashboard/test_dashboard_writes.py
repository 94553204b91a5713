"""--allow-write: fail a RUNNING trial, add a note, stop a study (here and in another process).
Every write is a POST carrying the page's token; without the token it is refused."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SCRIPT, Populated

import hyperdial as hd
from hyperdial.dashboard.app import TOKEN_HEADER


@pytest.fixture
def writer(populated: Populated) -> Any:
    from starlette.testclient import TestClient

    c = TestClient(hd.dashboard.create_app(populated.url, allow_write=True))
    page = c.get("/").text
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    c.headers[TOKEN_HEADER] = token
    return c


def test_writes_need_the_token(populated: Populated, writer: Any) -> None:
    sid = populated.sid
    for token in (None, "wrong"):
        headers = {TOKEN_HEADER: token} if token else {}
        c = type(writer)(writer.app)  # a client without the page's token
        r = c.post(f"/api/studies/{sid}/notes", json={"text": "hi"}, headers=headers)
        assert r.status_code == 403 and TOKEN_HEADER in r.json()["error"]
    assert writer.get(f"/api/studies/{sid}").json()["notes"] == []


def test_mark_a_running_trial_failed(populated: Populated, writer: Any) -> None:
    sid = populated.sid
    r = writer.post(f"/api/studies/{sid}/trials/22/fail", json={"reason": f"stuck {SCRIPT}"})
    assert r.status_code == 200, r.text
    t = writer.get(f"/api/studies/{sid}/trials/22").json()
    assert t["state"] == "FAIL" and t["fail_reason"] == f"stuck {SCRIPT}"
    assert [x.state for x in populated.study.trials if x.number == 22] == [hd.TrialState.FAIL]
    # the worker that held it finds it taken: its result is refused, not recorded twice
    with pytest.raises(hd.exceptions.TrialFinishedError):
        populated.study.tell(populated.running, 1.0)
    again = writer.post(f"/api/studies/{sid}/trials/22/fail", json={})
    assert again.status_code == 409 and "only a RUNNING trial" in again.json()["error"]
    assert writer.post(f"/api/studies/{sid}/trials/0/fail", json={}).status_code == 409
    assert writer.post(f"/api/studies/{sid}/trials/99/fail", json={}).status_code == 404


def test_notes(populated: Populated, writer: Any) -> None:
    sid = populated.sid
    assert writer.post(f"/api/studies/{sid}/notes", json={"text": f"study note {SCRIPT}"}).status_code == 200
    assert writer.post(f"/api/studies/{sid}/notes", json={"text": "trial note", "trial": 3}).status_code == 200
    notes = writer.get(f"/api/studies/{sid}").json()["notes"]
    assert [n["text"] for n in notes] == [f"study note {SCRIPT}", "trial note"]
    assert notes[1]["trial"] == 3 and isinstance(notes[0]["at"], float)
    assert [n["text"] for n in writer.get(f"/api/studies/{sid}/trials/3").json()["notes"]] == ["trial note"]
    assert writer.get(f"/api/studies/{sid}/trials/4").json()["notes"] == []
    for body in ({"text": ""}, {"text": 5}, {}, {"text": "x" * 10_001}, {"text": "x", "trial": "3"}):
        r = writer.post(f"/api/studies/{sid}/notes", json=body)
        assert r.status_code == 400 and "error" in r.json(), body
    assert writer.post(f"/api/studies/{sid}/notes", json={"text": "x", "trial": 99}).status_code == 404
    r = writer.post(f"/api/studies/{sid}/notes", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert len(writer.get(f"/api/studies/{sid}").json()["notes"]) == 2
    assert "dashboard_notes" not in writer.get(f"/api/studies/{sid}").json()["user_attrs"]


def test_stop_a_study_running_in_a_thread(populated: Populated, writer: Any) -> None:
    study = hd.load_study(study_name="sweep-study", storage=populated.url, sampler=hd.samplers.Random(seed=0))
    started = threading.Event()

    def objective(trial: hd.Trial) -> float:
        started.set()
        time.sleep(0.02)
        return trial.suggest_float("x", 0.0, 1.0)

    runner = threading.Thread(target=study.optimize, args=(objective,), kwargs={"n_trials": 100_000,
                                                                               "show_progress_bar": False})
    runner.start()
    try:
        assert started.wait(30)
        r = writer.post(f"/api/studies/{populated.sweep_sid}/stop", json={})
        assert r.status_code == 200
        runner.join(30)
        assert not runner.is_alive()
        assert writer.get(f"/api/studies/{populated.sweep_sid}").json()["stop_requested_at"] is not None
    finally:
        study.stop()
        runner.join(30)
    n = len(study.trials)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2, show_progress_bar=False)
    assert len(study.trials) == n + 2  # a run started after the request is not affected


@pytest.mark.slow
def test_stop_a_study_running_in_another_process(populated: Populated, writer: Any, tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        import hyperdial as hd
        study = hd.load_study(study_name="sweep-study", storage={populated.url!r}, sampler=hd.samplers.Random(seed=0))
        def objective(trial):
            time.sleep(0.02)
            return trial.suggest_float("x", 0.0, 1.0)
        study.optimize(objective, n_trials=100_000, show_progress_bar=False)
        print("stopped after", len(study.trials), flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while writer.get(f"/api/studies/{populated.sweep_sid}").json()["n_trials"] < 5:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        assert writer.post(f"/api/studies/{populated.sweep_sid}/stop", json={}).status_code == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped after" in out
