"""Every route of the dashboard over HTTP (Starlette's TestClient), on a real SQLite file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import EVIL_ATTR_KEY, EVIL_CHOICES, EVIL_PARAM, EVIL_STUDY, IMG, SCRIPT, Populated, no_raw

import hyperdial as hd


def _ids(client: Any) -> dict[str, int]:
    return {s["name"]: s["study_id"] for s in client.get("/api/studies").json()}


def test_pages_load_with_security_headers(client: Any, populated: Populated) -> None:
    sid = populated.sid
    for path in ("/", f"/studies/{sid}", f"/studies/{sid}/trials/0"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in r.text.replace('<script src="', "")  # no inline script at all
        assert "http://" not in r.text and "https://" not in r.text  # nothing from the internet
        no_raw(r.text)


def test_study_page_title_is_escaped(client: Any, populated: Populated) -> None:
    r = client.get(f"/studies/{populated.sid}")
    assert "study &lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in r.text


def test_static_assets_come_from_installed_packages(client: Any) -> None:
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert plotly.headers["content-type"].startswith("text/javascript")
    for name in ("dashboard.js", "dashboard.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404


def test_studies_api(client: Any, populated: Populated) -> None:
    studies = {s["name"]: s for s in client.get("/api/studies").json()}
    assert set(studies) == {EVIL_STUDY, "sweep-study"}
    s = studies[EVIL_STUDY]
    trials = populated.study.trials
    assert s["n_trials"] == len(trials) == 23
    assert s["state_counts"] == {"COMPLETE": 19, "PRUNED": 2, "FAIL": 1, "RUNNING": 1}  # zeros left out
    assert s["state"] == "running"
    assert s["best_values"] == [populated.study.best_value]
    assert s["best_trial_number"] == populated.study.best_trial.number
    assert s["last_activity"] is not None


def test_study_overview_api(client: Any, populated: Populated) -> None:
    ov = client.get(f"/api/studies/{populated.sid}").json()
    assert ov["name"] == EVIL_STUDY
    assert set(ov["params"]) == {"x", "lr", "opt", EVIL_PARAM}
    assert ov["params"]["opt"][0]["choices"] == list(EVIL_CHOICES)
    assert ov["user_attrs"] == {"owner": SCRIPT}
    assert ov["sweep"] is None and ov["notes"] == [] and ov["stop_requested_at"] is None
    assert isinstance(ov["cursor"], int)
    sweep = client.get(f"/api/studies/{populated.sweep_sid}").json()
    assert sweep["sweep"]["format"] == "native" and SCRIPT in sweep["sweep"]["file"]


def _numbers(client: Any, sid: int, **query: Any) -> tuple[int, list[int]]:
    r = client.get(f"/api/studies/{sid}/trials", params=query)
    assert r.status_code == 200, r.text
    page = r.json()
    return page["total"], [t["number"] for t in page["trials"]]


def test_trials_table_sorts_filters_and_pages(client: Any, populated: Populated) -> None:
    sid = populated.sid
    trials = populated.study.trials
    total, numbers = _numbers(client, sid)
    assert total == 23 and numbers == list(range(23))
    by_value = sorted((t for t in trials if t.values is not None), key=lambda t: (t.values[0], t.number))
    _, asc = _numbers(client, sid, order_by="value", limit=5)
    assert asc == [t.number for t in by_value[:5]]
    _, desc = _numbers(client, sid, order_by="value", desc="1", limit=3)
    assert desc == [t.number for t in sorted(by_value, key=lambda t: -t.values[0])[:3]]
    total, pruned = _numbers(client, sid, state="PRUNED")
    assert total == 2 and pruned == [t.number for t in trials if t.state == hd.TrialState.PRUNED]
    total, failed_or_running = _numbers(client, sid, state=["FAIL", "RUNNING"])
    assert total == 2 and failed_or_running == [20, 22]
    inside = [t.number for t in trials if "x" in t.params and 0.0 <= t.params["x"] <= 1.5]
    total, got = _numbers(client, sid, filters=json.dumps({"x": [0.0, 1.5]}), limit=100)
    assert total == len(inside) and got == inside and 0 < total < 23
    evil = [t.number for t in trials if t.params.get("opt") == SCRIPT]
    total, got = _numbers(client, sid, filters=json.dumps({"opt": {"in": [SCRIPT]}}), limit=100)
    assert got == evil and total > 0
    total, page2 = _numbers(client, sid, offset=10, limit=10)
    assert total == 23 and page2 == list(range(10, 20))
    _, by_param = _numbers(client, sid, order_by=f"param:{EVIL_PARAM}", limit=100)
    keyed = [t.params[EVIL_PARAM] for n in by_param for t in trials if t.number == n and EVIL_PARAM in t.params]
    assert keyed == sorted(keyed)


@pytest.mark.parametrize("query, word", [
    ({"order_by": "bogus"}, "order_by"),
    ({"limit": "0"}, "limit"),
    ({"limit": "lots"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"filters": "{not json"}, "filters"),
    ({"filters": json.dumps({"x": "wide"})}, "filter"),
    ({"state": "SLEEPING"}, "states"),
])
def test_bad_table_queries_are_clear_400s(client: Any, populated: Populated, query: dict[str, str], word: str) -> None:
    r = client.get(f"/api/studies/{populated.sid}/trials", params=query)
    assert r.status_code == 400
    assert word in r.json()["error"]


def test_trial_api(client: Any, populated: Populated) -> None:
    sid = populated.sid
    t = client.get(f"/api/studies/{sid}/trials/0").json()
    frozen = populated.study.trials[0]
    assert t["number"] == 0 and t["state"] == "COMPLETE" and t["values"] == [frozen.value]
    assert t["params"] == frozen.params and t["study_name"] == EVIL_STUDY
    assert t["intermediate_values"] == [[s, v] for s, v in sorted(frozen.intermediate_values.items())]
    assert t["user_attrs"] == {EVIL_ATTR_KEY: f"value {SCRIPT} {IMG}"}
    assert t["duration"] == pytest.approx(frozen.duration)
    assert t["retry_chain"] == [0] and t["has_log"] is False
    assert t["distributions"]["lr"] == {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "step": None}


def test_failed_trial_shows_error_and_retry_chain(client: Any, populated: Populated) -> None:
    sid = populated.sid
    failed = client.get(f"/api/studies/{sid}/trials/20").json()
    assert failed["state"] == "FAIL" and failed["fail_reason"] == f"ValueError: boom {SCRIPT}"
    assert failed["retry_chain"] == [20, 21]
    rerun = client.get(f"/api/studies/{sid}/trials/21").json()
    assert rerun["retry_of"] == 20 and rerun["retry_count"] == 1 and rerun["retry_chain"] == [20, 21]
    running = client.get(f"/api/studies/{sid}/trials/22").json()
    assert running["state"] == "RUNNING" and running["intermediate_values"] == [[0, 1.5]]
    assert running["duration"] is None


def test_sweep_trial_log(client: Any, populated: Populated) -> None:
    sid = populated.sweep_sid
    t = client.get(f"/api/studies/{sid}/trials/0").json()
    assert t["has_log"] is True
    log = client.get(f"/api/studies/{sid}/trials/0/log").json()
    assert log["error"] is None and log["text"] == populated.log_path.read_text() and log["truncated"] is False
    populated.log_path.unlink()
    gone = client.get(f"/api/studies/{sid}/trials/0/log").json()
    assert gone["text"] is None and "cannot read the log" in gone["error"]
    none = client.get(f"/api/studies/{populated.sid}/trials/0/log").json()
    assert none["text"] is None and "no log" in none["error"]


def test_version_changes_when_a_trial_finishes(client: Any, populated: Populated) -> None:
    sid = populated.sid
    v1 = client.get(f"/api/studies/{sid}/version").json()["version"]
    assert client.get(f"/api/studies/{sid}/version").json()["version"] == v1
    populated.running.report(1.0, 1)  # a report changes it too
    v2 = client.get(f"/api/studies/{sid}/version").json()["version"]
    assert v2 != v1
    populated.study.tell(populated.running, 0.1)
    v3 = client.get(f"/api/studies/{sid}/version").json()["version"]
    assert v3 not in (v1, v2)
    assert client.get(f"/api/studies/{sid}/trials", params={"state": "RUNNING"}).json()["total"] == 0


def test_importance_and_choices(client: Any, populated: Populated) -> None:
    sid = populated.sid
    imp = client.get(f"/api/studies/{sid}/importance").json()
    assert imp["error"] is None and imp["method"] == "ped-anova"
    names = [name for name, _ in imp["objectives"][0]["importances"]]
    assert set(names) == {"x", "lr", "opt", EVIL_PARAM}
    assert sum(v for _, v in imp["objectives"][0]["importances"]) == pytest.approx(1.0)
    assert client.get(f"/api/studies/{sid}/choices").json() == {"choices": []}


def test_plots_api(client: Any, populated: Populated) -> None:
    pytest.importorskip("hyperdial.visualization", reason="hyperdial.visualization is not merged in yet")
    sid = populated.sid
    kinds = client.get(f"/api/studies/{sid}/plots").json()
    assert kinds["error"] is None and "history" in kinds["kinds"]
    for kind in kinds["kinds"]:
        r = client.get(f"/api/studies/{sid}/plots/{kind}")
        assert r.status_code == 200, (kind, r.text)
        body = r.json()
        assert "figure" in body or "error" in body
        no_raw(r.text)
    fig = client.get(f"/api/studies/{sid}/plots/history").json()["figure"]
    assert fig["data"] and any(len(trace.get("x", [])) > 0 for trace in fig["data"])
    assert client.get(f"/api/studies/{sid}/plots/nonsense").status_code == 400


def test_json_never_carries_raw_markup(client: Any, populated: Populated) -> None:
    sid = populated.sid
    for path in ("/api/studies", f"/api/studies/{sid}", f"/api/studies/{sid}/trials",
                 f"/api/studies/{sid}/trials/0", f"/api/studies/{sid}/trials/20", f"/api/studies/{sid}/importance",
                 f"/api/studies/{populated.sweep_sid}", f"/api/studies/{populated.sweep_sid}/trials/0/log"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert "<" not in r.text and ">" not in r.text, path  # escaped as \u003c: no response parses as HTML
    # ... while the data itself arrives intact
    assert client.get(f"/api/studies/{sid}/trials/0").json()["user_attrs"][EVIL_ATTR_KEY] == f"value {SCRIPT} {IMG}"


def test_not_found_is_clear(client: Any, populated: Populated) -> None:
    sid = populated.sid
    for path in ("/studies/999", "/studies/999/trials/0", f"/studies/{sid}/trials/999", "/no/such/page"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "Traceback" not in r.text
    for path in ("/api/studies/999", "/api/studies/999/trials", f"/api/studies/{sid}/trials/999",
                 "/api/studies/999/version", "/api/nothing"):
        r = client.get(path)
        assert r.status_code == 404 and "error" in r.json(), path
    assert "no study with id 999" in client.get("/api/studies/999").json()["error"]


def test_write_routes_are_403_by_default(client: Any, populated: Populated) -> None:
    sid = populated.sid
    for path, body in ((f"/api/studies/{sid}/stop", {}), (f"/api/studies/{sid}/notes", {"text": "hi"}),
                       (f"/api/studies/{sid}/trials/22/fail", {})):
        r = client.post(path, json=body)
        assert r.status_code == 403 and "read-only" in r.json()["error"]
    assert client.get(f"/api/studies/{sid}/trials/22").json()["state"] == "RUNNING"
    assert client.get(f"/api/studies/{sid}").json()["notes"] == []
    assert client.get(f"/api/studies/{sid}/stop").status_code == 405  # and never through GET


def test_host_check_refuses_other_names(populated: Populated) -> None:
    from starlette.testclient import TestClient

    app = hd.dashboard.create_app(populated.url, allowed_hosts=["127.0.0.1", "localhost"])
    assert TestClient(app, base_url="http://127.0.0.1:8080").get("/api/studies").status_code == 200
    assert TestClient(app, base_url="http://localhost").get("/").status_code == 200
    r = TestClient(app, base_url="http://attacker.example:8080").get("/api/studies")
    assert r.status_code == 421 and "127.0.0.1" in r.text


def test_mounts_under_a_prefix(populated: Populated) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    outer = Starlette(routes=[Mount("/tuning", app=hd.dashboard.create_app(populated.url))])
    c = TestClient(outer)
    page = c.get(f"/tuning/studies/{populated.sid}")
    assert page.status_code == 200 and 'data-root="/tuning"' in page.text
    assert 'href="/tuning/static/dashboard.css"' in page.text
    assert c.get("/tuning/api/studies").status_code == 200


def test_in_memory_storage_object(populated: Populated) -> None:
    from starlette.testclient import TestClient

    study = hd.create_study(study_name="mem", sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5, show_progress_bar=False)
    c = TestClient(hd.dashboard.create_app(study.storage))
    assert [s["n_trials"] for s in c.get("/api/studies").json()] == [5]
    assert c.get("/api/studies/1/trials", params={"order_by": "value"}).json()["total"] == 5
