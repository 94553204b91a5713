"""Schema versions: new databases, old ones (a file saved by version 1), and refusal of newer ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import hyperdial as hd
from hyperdial.exceptions import StorageError
from hyperdial.storage.sql import migrations, schema

V1_DB = Path(__file__).with_name("data") / "schema_v1.db"


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
    assert len(study.trials) == 8 and _version(url) == schema.SCHEMA_VERSION == 2
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("hd_trials")}
    engine.dispose()
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
        assert migrations.read_version(conn) == 2
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("hd_trials")}
    engine.dispose()
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
    with pytest.raises(StorageError, match="schema version 99, newer than this hyperdial's 2"):
        hd.load_study(study_name="f", storage=url)
