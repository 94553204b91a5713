"""The module-level API: create, load, delete and list studies; logging defaults."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyperdial._checkpointing import check_location, default_location, delete_study_files
from hyperdial._heartbeat import DEFAULT_GRACE_PERIOD, DEFAULT_HEARTBEAT_INTERVAL
from hyperdial._validation import Int, Real, check
from hyperdial.checkpoints import KeepCheckpoints
from hyperdial.exceptions import DuplicatedStudyError, invalid
from hyperdial.history import StudyDirection, parse_directions
from hyperdial.storage.base import Storage, StudySummary, get_storage
from hyperdial.study import Study, check_plugins
from hyperdial.system_attrs import ARTIFACT_STORE, KEEP_CHECKPOINTS, LIVENESS

if TYPE_CHECKING:
    from hyperdial.pruners.base import Pruner
    from hyperdial.samplers.base import Sampler


def _default_sampler(seed: int | None) -> Any:
    from hyperdial.samplers import Auto

    return Auto(seed=seed)


def _default_pruner(n_objectives: int) -> Any:
    # ASHA for any number of objectives (several: ranked by non-dominated sorting). With the
    # default sampler's multi-fidelity view (samplers/fidelity.py), which models the stopped
    # trials' curves, Auto + ASHA beat Auto + Median on YAHPO lcbench at every budget. The
    # first rung is skipped (min_early_stopping_rate=1: decisions at 3, 9, 27 ... steps, not
    # from step 1): one step says little about a curve, and on lcbench the default scored
    # higher from 10 full-run equivalents on (docs/benchmarks.md, "Pruners").
    from hyperdial.pruners import ASHA

    return ASHA(min_early_stopping_rate=1)


def _from_scheduler(scheduler: Any, sampler: Any, pruner: Any) -> tuple[Any, Any]:
    """The sampler and pruner a scheduler brings (its `sampler` / `pruner` attributes, when not None).

    Its pruner is what pauses trials at the points the scheduler acts on, so another one is refused;
    a sampler given here wins over the scheduler's.
    """
    if scheduler is None:
        return sampler, pruner
    own_pruner = getattr(scheduler, "pruner", None)
    if own_pruner is not None:
        if pruner is not None:
            raise invalid("pruner", f"cannot be given with a scheduler that brings its own ({own_pruner!r})", pruner)
        pruner = own_pruner
    own_sampler = getattr(scheduler, "sampler", None)
    if sampler is None and own_sampler is not None:
        sampler = own_sampler
    check_plugins(sampler, pruner)
    return sampler, pruner


_LIVENESS = LIVENESS  # study system attr: the heartbeat settings every worker should share


def _shared(store: Storage) -> bool:
    """Whether other processes can reach this storage (an SQLite file, PostgreSQL), so that a
    dead one can leave a trial RUNNING: liveness is on by default there."""
    from hyperdial.storage.memory import InMemoryStorage

    if isinstance(store, InMemoryStorage):
        return False
    db = getattr(store, "db", None)
    return not (getattr(db, "is_sqlite", False) and db.sqlite_path() is None)  # type: ignore[union-attr]


def _liveness(
    heartbeat_interval: Any, grace_period: Any, max_retries: Any, stored: dict[str, Any] | None, shared: bool
) -> dict[str, Any]:
    """Validate the heartbeat keywords; unset ones come from what the study stored, then the defaults
    (on for shared storages: a beat every 30 s, dead after 120 s; heartbeat_interval=0 turns it off)."""
    stored = stored or {}
    check("heartbeat_interval", heartbeat_interval, Real(low=0), None,
          rule="must be a number of seconds > 0, 0 to turn liveness off, or None for the default")
    check("grace_period", grace_period, Real(low=0, closed="neither", what="a number of seconds"), None)
    if heartbeat_interval is not None:
        interval = heartbeat_interval
    elif "heartbeat_interval" in stored:
        interval = stored["heartbeat_interval"]
    else:
        interval = DEFAULT_HEARTBEAT_INTERVAL if shared else None
    interval = interval or None  # 0: off
    grace = grace_period if grace_period is not None else (stored.get("grace_period") if interval else None)
    if grace is None and interval == DEFAULT_HEARTBEAT_INTERVAL and heartbeat_interval is None:
        grace = DEFAULT_GRACE_PERIOD
    retries = max_retries if max_retries is not None else stored.get("max_retries", 0)
    if grace is not None and interval is None:
        raise invalid("grace_period", "needs `heartbeat_interval`", grace)
    if grace is not None and interval is not None and grace <= interval:
        raise invalid("grace_period", "must be longer than `heartbeat_interval`",
                      f"grace_period={grace!r}, heartbeat_interval={interval!r}")
    retries = check("max_retries", retries, Int(low=0))
    if retries and interval is None:
        raise invalid("max_retries", "needs `heartbeat_interval` (retries rerun trials of dead workers)", retries)
    return {"heartbeat_interval": interval, "grace_period": grace, "max_retries": retries}


def create_study(
    *,
    study_name: str | None = None,
    storage: str | Storage | None = None,
    direction: str | StudyDirection | None = None,
    directions: Sequence[str | StudyDirection] | None = None,
    sampler: Sampler | None = None,
    pruner: Pruner | None = None,
    load_if_exists: bool = False,
    seed: int | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    max_retries: int | None = None,
    scheduler: Any = None,
    artifacts: str | os.PathLike[str] | None = None,
    keep_checkpoints: int | KeepCheckpoints | None = None,
) -> Study:
    """Create a study (or load it with `load_if_exists=True`).

    `storage` is a SQLAlchemy URL (`sqlite:///hyperdial.db`, `postgresql+psycopg://...`)
    or None for memory. `seed` seeds the default sampler.

    Liveness: running trials send a heartbeat every `heartbeat_interval` seconds; a
    trial silent for `grace_period` (default twice the interval) is marked FAIL by any
    live worker and rerun up to `max_retries` times. It is on by default for storages
    that several processes share (SQLite files, PostgreSQL: a beat every 30 s, dead after
    120 s, which costs one UPDATE per running trial per 30 s) and off in memory;
    `heartbeat_interval=0` turns it off. Settings given here are stored with the study,
    so `load_study` in other processes picks them up.

    `scheduler`: training-aware scheduling (`hd.schedulers`: successive halving and
    Hyperband that pause and promote trials, ASHA with promotion, PBT). It brings its
    own pruner (so `pruner=` must not be given too) and may bring a sampler; its
    `on_trial_finished(study, trial)` runs in the process that records each trial. It
    is not stored: pass it to `load_study` in every process that runs trials.
    Checkpoints and artifacts (docs/checkpoints.md) go to `artifacts`, a directory or an
    fsspec URL (stored with the study); by default `X.db.artifacts/` beside an SQLite file
    `X.db`, a temporary directory removed at exit in memory, and with PostgreSQL it must be
    given. `keep_checkpoints`: None keeps every checkpoint, k keeps each trial's last k,
    `hd.KeepCheckpoints(last=, best=)` also keeps the best by metric.

    >>> import hyperdial as hd
    >>> hd.create_study(directions=["minimize", "maximize"]).directions
    (<StudyDirection.MINIMIZE: 'minimize'>, <StudyDirection.MAXIMIZE: 'maximize'>)
    """
    dirs = parse_directions(direction, directions)
    if study_name is not None and (not isinstance(study_name, str) or not study_name):
        raise invalid("study_name", "must be a non-empty string", study_name)
    if sampler is not None and seed is not None:
        raise invalid("seed", "seeds the default sampler; pass seed= to your sampler instead", seed)
    check_plugins(sampler, pruner, scheduler)
    sampler, pruner = _from_scheduler(scheduler, sampler, pruner)
    location = check_location(artifacts)
    keep = KeepCheckpoints.parse(keep_checkpoints)
    store = get_storage(storage)
    live = _liveness(heartbeat_interval, grace_period, max_retries, None, _shared(store))
    name = study_name or f"study-{uuid.uuid4().hex[:12]}"
    try:
        study_id = store.create_study(name, [d.value for d in dirs])
        if (heartbeat_interval, grace_period, max_retries) != (None, None, None):  # stored when chosen
            store.set_study_attr(study_id, _LIVENESS, {**live, "heartbeat_interval": live["heartbeat_interval"] or 0},
                                 system=True)
        if location is not None:
            store.set_study_attr(study_id, ARTIFACT_STORE, location, system=True)
        if keep is not None:
            store.set_study_attr(study_id, KEEP_CHECKPOINTS, keep.to_dict(), system=True)
    except DuplicatedStudyError:
        if not load_if_exists:
            raise DuplicatedStudyError(
                f"a study named {name!r} already exists; pass load_if_exists=True to continue it"
            ) from None
        info = store.get_study(name)
        if tuple(info.directions) != tuple(d.value for d in dirs):
            raise invalid(
                "directions", f"differ from the stored study's {list(info.directions)}", [d.value for d in dirs]
            ) from None
        study_id = info.study_id
        live = _liveness(heartbeat_interval, grace_period, max_retries, info.system_attrs.get(_LIVENESS),
                         _shared(store))
        location = location or info.system_attrs.get(ARTIFACT_STORE)
        keep = keep or KeepCheckpoints.parse(info.system_attrs.get(KEEP_CHECKPOINTS))
    _install_default_log_handler()
    return Study(
        study_name=name,
        storage=store,
        study_id=study_id,
        directions=dirs,
        sampler=sampler if sampler is not None else _default_sampler(seed),
        pruner=pruner if pruner is not None else _default_pruner(len(dirs)),
        scheduler=scheduler,
        artifacts=location,
        keep_checkpoints=keep,
        **live,
    )


def load_study(
    *,
    study_name: str | None = None,
    storage: str | Storage,
    sampler: Sampler | None = None,
    pruner: Pruner | None = None,
    seed: int | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    max_retries: int | None = None,
    scheduler: Any = None,
    artifacts: str | os.PathLike[str] | None = None,
) -> Study:
    """Open an existing study; with one study in the storage, `study_name` may be omitted.

    Heartbeat settings not given here are those stored by `create_study`, and so is the artifact
    store (`artifacts=` here overrides it for this process, e.g. where a shared disk is mounted
    elsewhere). A `scheduler` is not stored: give it in every process (see `create_study`).
    """
    study = open_study(
        study_name=study_name, storage=storage, sampler=sampler, pruner=pruner, seed=seed,
        heartbeat_interval=heartbeat_interval, grace_period=grace_period, max_retries=max_retries,
        scheduler=scheduler,
        artifacts=artifacts,
    )
    _install_default_log_handler()
    return study


def open_study(
    *,
    study_name: str | None,
    storage: str | Storage,
    sampler: Sampler | None = None,
    pruner: Pruner | None = None,
    seed: int | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    max_retries: int | None = None,
    scheduler: Any = None,
    artifacts: str | os.PathLike[str] | None = None,
) -> Study:
    """`load_study` without touching this process's logging: what workers, agents and
    dashboards use to open a study by its storage URL (see `Study.start_trial`)."""
    store = get_storage(storage, create=False)
    if study_name is None:
        names = [s.name for s in store.list_studies()]
        if len(names) != 1:
            raise invalid("study_name", f"is needed: the storage holds {len(names)} studies", study_name)
        study_name = names[0]
    info = store.get_study(study_name)
    check_plugins(sampler, pruner, scheduler)
    sampler, pruner = _from_scheduler(scheduler, sampler, pruner)
    live = _liveness(heartbeat_interval, grace_period, max_retries, info.system_attrs.get(_LIVENESS), _shared(store))
    return Study(
        study_name=info.name,
        storage=store,
        study_id=info.study_id,
        directions=parse_directions(None, list(info.directions)),
        sampler=sampler if sampler is not None else _default_sampler(seed),
        pruner=pruner if pruner is not None else _default_pruner(len(info.directions)),
        scheduler=scheduler,
        artifacts=check_location(artifacts) or info.system_attrs.get(ARTIFACT_STORE),
        keep_checkpoints=info.system_attrs.get(KEEP_CHECKPOINTS),
        **live,
    )


def delete_study(*, study_name: str, storage: str | Storage) -> None:
    """Delete a study, all its trials, and their checkpoints and artifacts.

    The files go after the records (a failure in between leaves files no record points to,
    never a record without its files).
    """
    store = get_storage(storage, create=False)
    info = store.get_study(study_name)
    location = info.system_attrs.get(ARTIFACT_STORE) or default_location(store)
    store.delete_study(info.study_id)
    delete_study_files(location, info.name)


def get_all_studies(storage: str | Storage) -> list[StudySummary]:
    """Summaries (name, directions, counts per state) of every study in a storage."""
    return get_storage(storage, create=False).list_studies()




_handler_installed = False


def _install_default_log_handler() -> None:
    """Show INFO lines (one per finished trial) unless the application configured logging."""
    global _handler_installed
    if _handler_installed:
        return
    _handler_installed = True
    logger = logging.getLogger("hyperdial")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[hyperdial %(levelname)s %(asctime)s] %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def set_verbosity(level: int) -> None:
    """Set the level of the `hyperdial` logger (`logging.WARNING` hides the per-trial lines)."""
    _install_default_log_handler()
    logging.getLogger("hyperdial").setLevel(level)
