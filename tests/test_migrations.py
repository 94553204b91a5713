"""Schema versions: new databases, old ones (files saved by versions 1 and 2), and refusal of newer ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import hyperdial as hd
from hyperdial.exceptions import StorageError
from hyperdial.storage.sql import migrations, schema

V1_DB = Path(__file__).with_name("data") / "schema_v1.db"
V2_DB = Path(__file__).with_name("data") / "schema_v2.db"


def _index_names(url: str, table: str) -> set[str]:
    """Index names from the catalog (SQLAlchemy's inspector skips indexes on expressions, with a warning)."""
    engine = sa.create_engine(url)
    sql = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t" if engine.dialect.name == "sqlite"
           else "SELECT indexname FROM pg_indexes WHERE tablename = :t")
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(sa.text(sql), {"t": table})}
    engine.dispose()
    return names


def _version(url: str) -> int | None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        v = migrations.read_version(conn)
    engine.dispose()
    return v


def test_new_database_gets_current_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    hd.create_study(storage=url)
    assert _version(url) == schema.SCHEMA_VERSION


def test_database_saved_by_version_1_opens_and_reads(tmp_path: Path) -> None:
    copy = tmp_path / "v1.db"
    shutil.copy(V1_DB, copy)
    url = f"sqlite:///{copy}"
    study = hd.load_study(study_name="v1", storage=url)
    trials = study.trials
    assert len(trials) == 6 and trials[0].params["lr"] == 1e-3
    assert {t.params["opt"] for t in trials} <= {"adam", "sgd", None}
    assert all(t.user_attrs["note"] == f"trial {t.number}" for t in trials)
    assert study.user_attrs == {"made_by": "hyperdial 0.1"}
    study.optimize(lambda t: t.suggest_float("lr", 1e-5, 1e-1, log=True), n_trials=2, show_progress_bar=False)
    assert len(study.trials) == 8 and _version(url) == schema.SCHEMA_VERSION == 3
    indexes = _index_names(url, "hd_trials")
    assert "ix_hd_trials_study_state_number" in indexes and "ix_hd_trials_study_state" not in indexes


def test_migration_to_v2_on_postgres(pg_url: str) -> None:
    # Build a version-1 layout on PostgreSQL, then let hyperdial open it.
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        migrations.upgrade(conn, target=1, steps={})
        conn.execute(sa.text("CREATE INDEX ix_hd_trials_study_state ON hd_trials (study_id, state)"))
        conn.execute(sa.text("DROP INDEX ix_hd_trials_study_state_number"))
    hd.create_study(study_name="pg", storage=pg_url).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3,
                                                              show_progress_bar=False)
    with engine.connect() as conn:
        assert migrations.read_version(conn) == schema.SCHEMA_VERSION
    engine.dispose()
    indexes = _index_names(pg_url, "hd_trials")
    assert "ix_hd_trials_study_state_number" in indexes and "ix_hd_trials_study_state" not in indexes


def test_migration_steps_run_in_order(tmp_path: Path) -> None:
    copy = tmp_path / "v1.db"
    shutil.copy(V1_DB, copy)
    engine = sa.create_engine(f"sqlite:///{copy}")
    ran = []

    def v1_to_v2(conn: sa.Connection) -> None:
        ran.append(1)
        conn.execute(sa.text("ALTER TABLE hd_trials ADD COLUMN retry_of INTEGER"))

    def v2_to_v3(conn: sa.Connection) -> None:
        ran.append(2)
        conn.execute(sa.text("UPDATE hd_trials SET retry_of = -1"))

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hd_schema_version SET version = 1"))  # pretend older steps
        assert migrations.upgrade(conn, target=3, steps={1: v1_to_v2, 2: v2_to_v3}) == 1
    with engine.connect() as conn:
        assert migrations.read_version(conn) == 3 and ran == [1, 2]
        assert {r[0] for r in conn.execute(sa.text("SELECT retry_of FROM hd_trials"))} == {-1}
    with engine.begin() as conn, pytest.raises(StorageError, match="no migration from schema version 3"):
        migrations.upgrade(conn, target=4, steps={})
    engine.dispose()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/future.db"
    hd.create_study(study_name="f", storage=url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hd_schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(StorageError, match="schema version 99, newer than this hyperdial's 3"):
        hd.load_study(study_name="f", storage=url)


V3_INDEXES = {"ix_hd_trials_study_value0", "ix_hd_trials_study_duration", "ix_hd_trials_study_start"}
V3_PARAM_INDEXES = {"ix_hd_trial_params_study_name_value", "ix_hd_trial_params_study_name_dist"}


def _indexes(url: str) -> tuple[set[str], set[str], list[tuple[int, int]]]:
    trials, params = _index_names(url, "hd_trials"), _index_names(url, "hd_trial_params")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pairs = [(int(a), int(b)) for a, b in conn.execute(sa.text(
            "SELECT p.study_id, t.study_id FROM hd_trial_params p JOIN hd_trials t ON t.trial_id = p.trial_id"))]
    engine.dispose()
    return trials, params, pairs


def test_database_saved_by_version_2_gets_the_query_indexes(tmp_path: Path) -> None:
    from hyperdial.storage.query import page_trials, study_overview

    copy = tmp_path / "v2.db"
    shutil.copy(V2_DB, copy)
    url = f"sqlite:///{copy}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert "study_id" not in {c["name"] for c in sa.inspect(conn).get_columns("hd_trial_params")}
    engine.dispose()
    study = hd.load_study(study_name="v2b", storage=url)
    assert _version(url) == 3
    trials_ix, params_ix, pairs = _indexes(url)
    assert V3_INDEXES <= trials_ix and V3_PARAM_INDEXES <= params_ix
    assert pairs and all(a == b for a, b in pairs)  # every parameter row knows its study, both studies
    # the queries answer from the migrated file, and new trials record their study too
    sid = study.storage.get_study("v2b").study_id
    page = page_trials(study.storage, sid, order_by="param:lr", param_filters={"opt": ["sgd"]}, limit=100)
    assert page.total == sum(t.params["opt"] == "sgd" for t in study.trials) > 0
    assert [t.params["lr"] for t in page.trials] == sorted(t.params["lr"] for t in page.trials)
    study.optimize(lambda t: t.suggest_float("lr", 1e-5, 1e-1, log=True), n_trials=2, show_progress_bar=False)
    assert all(a == b for a, b in _indexes(url)[2])
    assert study_overview(study.storage, sid).n_trials == 10


def test_migration_to_v3_on_postgres(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:  # a version-2 layout, with a study, a trial and its parameter
        migrations.upgrade(conn, target=2, steps={})
        for ix in ("ix_hd_trials_study_value0", "ix_hd_trials_study_duration", "ix_hd_trials_study_start",
                   "ix_hd_trial_params_study_name_value", "ix_hd_trial_params_study_name_dist"):
            conn.execute(sa.text(f"DROP INDEX {ix}"))
        conn.execute(sa.text("ALTER TABLE hd_trial_params DROP COLUMN study_id"))
        conn.execute(sa.text("INSERT INTO hd_studies (name, directions, seq, created_at) "
                             "VALUES ('pg', '[\"minimize\"]', 1, 0)"))
        conn.execute(sa.text("INSERT INTO hd_trials (study_id, number, state, values_json, datetime_start, "
                             "datetime_complete, finish_seq) SELECT study_id, 0, 1, '[0.5]', 1, 2, 1 FROM hd_studies"))
        conn.execute(sa.text("INSERT INTO hd_trial_params (trial_id, name, value, distribution) "
                             "SELECT trial_id, 'x', 0.25, '{\"type\": \"float\", \"low\": 0, \"high\": 1, "
                             "\"log\": false, \"step\": null}' FROM hd_trials"))
    study = hd.load_study(study_name="pg", storage=pg_url)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, show_progress_bar=False)
    trials_ix, params_ix, pairs = _indexes(pg_url)
    assert V3_INDEXES <= trials_ix and V3_PARAM_INDEXES <= params_ix
    assert len(pairs) == 3 and all(a == b for a, b in pairs)
    with engine.connect() as conn:
        assert migrations.read_version(conn) == 3
    engine.dispose()
    from hyperdial.storage.query import page_trials

    sid = study.storage.get_study("pg").study_id
    assert page_trials(study.storage, sid, order_by="param:x").trials[0].params["x"] == min(
        t.params["x"] for t in study.trials)
