"""Bad input: a missing storage, a study deleted under an open page, a corrupt row, a vanished file.
Each gives a clear page or JSON error, never a stack trace, and the server goes on serving."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Populated

import hyperdial as hd
from hyperdial.cli.main import main


def _clear(r: Any, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    assert "Traceback" not in r.text and 'File "' not in r.text
    text = r.json()["error"] if r.headers["content-type"].startswith("application/json") else r.text
    for w in words:
        assert w in text, (w, text)


def test_missing_storage_fails_at_start_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.db"
    assert main(["--storage", f"sqlite:///{missing}", "dashboard", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "no SQLite database" in err and "nope.db" in err
    assert not missing.exists()  # not created as an empty database
    with pytest.raises(hd.exceptions.StorageError, match="no SQLite database"):
        hd.dashboard.create_app(f"sqlite:///{missing}")
    with pytest.raises(hd.InvalidParameterError, match="storage"):
        hd.dashboard.create_app("not a url")


def test_cli_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--port", "99999"])
    assert exit_.value.code == 2 and "--port" in capsys.readouterr().err


def test_study_deleted_while_its_page_is_open(client: Any, populated: Populated) -> None:
    sid = populated.sid
    assert client.get(f"/studies/{sid}").status_code == 200
    hd.delete_study(study_name=populated.study.study_name, storage=populated.url)
    _clear(client.get(f"/api/studies/{sid}/version"), 404, "no study with id")
    _clear(client.get(f"/api/studies/{sid}"), 404, "deleted")
    _clear(client.get(f"/api/studies/{sid}/trials"), 404, "no study")
    _clear(client.get(f"/studies/{sid}"), 404, "Study not found")
    _clear(client.get(f"/studies/{sid}/trials/3"), 404, "Study not found")
    assert [s["name"] for s in client.get("/api/studies").json()] == ["sweep-study"]  # still serving


def _corrupt(path: Path, number: int, table: str, column: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute(f"UPDATE {table} SET {column} = '{{not json' WHERE trial_id = "
                    "(SELECT trial_id FROM hd_trials WHERE number = ? AND study_id = 1)", (number,))
    con.close()


@pytest.mark.parametrize("table, column", [("hd_trial_attrs", "value"), ("hd_trial_params", "distribution"),
                                           ("hd_trial_intermediate", "value")])
def test_corrupt_trial_row(client: Any, populated: Populated, table: str, column: str) -> None:
    sid = populated.sid
    _corrupt(populated.path, 3, table, column)
    _clear(client.get(f"/api/studies/{sid}/trials/3"), 500, "cannot be read", "corrupt")
    _clear(client.get(f"/studies/{sid}/trials/3"), 500, "Unreadable data", "corrupt")
    _clear(client.get(f"/api/studies/{sid}/trials"), 500, "corrupt")  # the page holding it
    # ... and everything else still answers
    assert client.get(f"/api/studies/{sid}/trials/4").json()["number"] == 4
    assert client.get(f"/api/studies/{sid}/trials", params={"offset": 10}).status_code == 200
    lines = {s["name"]: s for s in client.get("/api/studies").json()}
    assert lines["sweep-study"]["error"] is None and lines["sweep-study"]["n_trials"] == 1
    assert lines[populated.study.study_name]["n_trials"] == 23  # from the plain counts if need be
    header = client.get(f"/api/studies/{sid}")
    assert header.status_code == 200 and header.json()["n_trials"] == 23
    if table == "hd_trial_params":  # the overview reads every distribution: it says what is wrong
        assert "corrupt" in header.json()["error"] and "corrupt" in lines[populated.study.study_name]["error"]
    assert client.get(f"/studies/{sid}").status_code == 200


def test_vanished_sqlite_file(client: Any, populated: Populated) -> None:
    populated.path.unlink()
    _clear(client.get("/api/studies"), 503, "no longer exists")
    _clear(client.get("/"), 503, "no longer exists", "Storage gone")
    _clear(client.get(f"/studies/{populated.sid}"), 503, "no longer exists")
    _clear(client.get(f"/api/studies/{populated.sid}/version"), 503, "no longer exists")
    assert not populated.path.exists()  # the dashboard never recreates it empty


@pytest.mark.slow
def test_cli_serves_on_loopback(populated: Populated) -> None:
    """`hyperdial dashboard` as a user runs it: a real process, read-only, bound to 127.0.0.1."""
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from conftest import free_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-m", "hyperdial", "--storage", populated.url, "dashboard", "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as r:
                    studies = json.load(r)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert {s["name"] for s in studies} == {populated.study.study_name, "sweep-study"}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/studies/{populated.sid}/stop", data=b"{}",
                                         method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
        refused.value.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"read-only) at http://127.0.0.1:{port}/" in out
