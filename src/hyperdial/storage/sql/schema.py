"""Tables of the SQL storage. Every change goes through `migrations.py`."""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 3

metadata = sa.MetaData()

schema_version = sa.Table(
    "hd_schema_version",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

studies = sa.Table(
    "hd_studies",
    metadata,
    sa.Column("study_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(512), nullable=False, unique=True),
    sa.Column("directions", sa.Text, nullable=False),  # JSON list of "minimize"/"maximize"
    # Change cursor: bumped under the study's write lock each time a trial finishes, so
    # readers can fetch only trials finished since their last look (see `poll`).
    sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
)

study_attrs = sa.Table(
    "hd_study_attrs",
    metadata,
    sa.Column("study_id", sa.Integer, sa.ForeignKey("hd_studies.study_id"), primary_key=True),
    sa.Column("system", sa.Boolean, primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)

trials = sa.Table(
    "hd_trials",
    metadata,
    sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("hd_studies.study_id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.Integer, nullable=False),
    sa.Column("values_json", sa.Text, nullable=True),
    sa.Column("datetime_start", sa.Float, nullable=True),  # UNIX seconds, UTC
    sa.Column("datetime_complete", sa.Float, nullable=True),
    sa.Column("heartbeat", sa.Float, nullable=True),
    sa.Column("finish_seq", sa.Integer, nullable=True),
    # The last line of defence against the numbering race (docs/design-notes.md): never two trial 7s.
    sa.UniqueConstraint("study_id", "number", name="uq_hd_trials_study_number"),
    # (study, state, number): "the oldest WAITING trial" and "the RUNNING ones" without a scan (v2).
    sa.Index("ix_hd_trials_study_state_number", "study_id", "state", "number"),
    sa.Index("ix_hd_trials_study_finish_seq", "study_id", "finish_seq"),
    # A page sorted by start time (v3); objective 0 and duration are indexed as expressions, per
    # dialect (`create_expression_indexes`).
    sa.Index("ix_hd_trials_study_start", "study_id", "datetime_start", "number"),
)

trial_params = sa.Table(
    "hd_trial_params",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hd_trials.trial_id"), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=False),  # internal value (index for categoricals)
    sa.Column("distribution", sa.Text, nullable=False),  # JSON of Distribution.to_dict()
    # The trial's study, copied (v3): sorting and filtering one study's trials by a parameter walks
    # this index instead of looking up every trial's row (hyperdial.storage.query; other studies
    # with the same parameter names stay out of the way).
    sa.Column("study_id", sa.Integer, nullable=True),
    sa.Index("ix_hd_trial_params_study_name_value", "study_id", "name", "value", "trial_id"),
    # The distinct distributions of a parameter in a study, read by skipping through this index (v3).
    sa.Index("ix_hd_trial_params_study_name_dist", "study_id", "name", "distribution", "trial_id"),
)

trial_intermediate = sa.Table(
    "hd_trial_intermediate",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hd_trials.trial_id"), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON: a number, or a list for several objectives
)

trial_attrs = sa.Table(
    "hd_trial_attrs",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hd_trials.trial_id"), primary_key=True),
    sa.Column("system", sa.Boolean, primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)


def objective_sql(dialect: str, index: int) -> str:
    """Objective `index` of `hd_trials.values_json` as a number, in SQL: NULL when missing or when
    the text is not plain JSON numbers (Python's JSON writes NaN and infinities as bare words,
    which neither database's JSON reader accepts). Literal SQL, not bound parameters, so that the
    database matches it against the expression index on objective 0."""
    if dialect == "sqlite":
        return f"(CASE WHEN json_valid(values_json) THEN json_extract(values_json, '$[{int(index)}]') END)"
    return (r"(CASE WHEN values_json ~ '^\[[-+0-9.eE, ]*\]$' "
            f"THEN CAST((CAST(values_json AS json) ->> {int(index)}) AS double precision) END)")


DURATION_SQL = "(datetime_complete - datetime_start)"


def create_expression_indexes(conn: sa.Connection) -> None:
    """Indexes on expressions, written per dialect (v3): the best value and pages sorted by
    objective 0 or by duration, without computing them for every trial."""
    for name, expr in (("value0", objective_sql(conn.dialect.name, 0)), ("duration", DURATION_SQL)):
        conn.execute(sa.text(
            f"CREATE INDEX IF NOT EXISTS ix_hd_trials_study_{name} ON hd_trials (study_id, {expr}, number)"
        ))
