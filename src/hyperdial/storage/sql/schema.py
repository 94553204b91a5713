"""Tables of the SQL storage. Every change goes through `migrations.py`."""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 2

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
)

trial_params = sa.Table(
    "hd_trial_params",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hd_trials.trial_id"), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=False),  # internal value (index for categoricals)
    sa.Column("distribution", sa.Text, nullable=False),  # JSON of Distribution.to_dict()
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
