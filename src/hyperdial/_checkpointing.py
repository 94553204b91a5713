"""What `trial.save_checkpoint` / `load_checkpoint` / `upload_artifact` and `study.artifacts` do.

Layout of a study in its store (see `_artifacts.py` for the atomic writes):

    <store>/<study name>/trial-<number>/checkpoint-<step>-<random>/   the files of one checkpoint
    <store>/<study name>/trial-<number>/artifacts/<name>              an uploaded file

The storage is the index: a trial's system attributes `CHECKPOINTS` and `ARTIFACTS` list what it
stored, with sizes and checksums; a file that is not listed there is never read (a writer killed
after its files landed but before its record leaves an orphan, removed with the study).
"""

from __future__ import annotations

import builtins
import logging
import os
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperdial._artifacts import CorruptArtifact, Store, is_url, safe_name, temporary_root
from hyperdial._validation import Int, Real, check
from hyperdial.checkpoints import Artifact, Checkpoint, KeepCheckpoints
from hyperdial.exceptions import invalid
from hyperdial.system_attrs import ARTIFACTS, CHECKPOINTS, RESUME_FROM

if TYPE_CHECKING:
    from hyperdial.storage.base import Storage
    from hyperdial.study import Study
    from hyperdial.trial import FrozenTrial, Trial

_logger = logging.getLogger("hyperdial")

_stores: dict[str, Store] = {}  # one per location: a remote store's download cache is reused
_memory_roots: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def check_location(artifacts: Any) -> str | None:
    """A given `artifacts=`: a URL as is, a local path made absolute (other processes may run elsewhere)."""
    if artifacts is None:
        return None
    if isinstance(artifacts, os.PathLike):
        artifacts = os.fspath(artifacts)
    if not isinstance(artifacts, str) or not artifacts:
        raise invalid("artifacts", "must be a directory or an fsspec URL (a non-empty string or path)", artifacts)
    return artifacts if is_url(artifacts) else os.path.abspath(os.path.expanduser(artifacts))


def default_location(storage: Storage) -> str | None:
    """Beside an SQLite file (`X.db` -> `X.db.artifacts`), a temporary directory for a storage no
    other process can open (removed at exit), None for a server database (it must be chosen)."""
    from hyperdial.storage.memory import InMemoryStorage

    db = getattr(storage, "db", None)
    if not isinstance(storage, InMemoryStorage) and db is not None and db.is_sqlite:
        path = db.sqlite_path()
        if path is not None:
            return f"{path}.artifacts"
    elif not isinstance(storage, InMemoryStorage):
        return None
    root = _memory_roots.get(storage)
    if root is None:
        root = _memory_roots[storage] = temporary_root()
    return root


def delete_study_files(location: str | None, study_name: str) -> None:
    if location is not None:
        Store(location).delete(safe_name(study_name))


class StudyArtifacts:
    """A study's artifact store: `study.artifacts`. Lists and fetches what its trials stored.

    >>> import hyperdial as hd, pathlib, tempfile
    >>> study = hd.create_study(artifacts=tempfile.mkdtemp())
    >>> trial = study.ask()
    >>> note = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = note.write_text("hello")
    >>> _ = trial.upload_artifact(note)
    >>> [a.name for a in study.artifacts.list()]
    ['notes.txt']
    >>> study.artifacts.fetch(trial.number, "notes.txt").read_text()
    'hello'
    """

    def __init__(self, study: Study, location: str | None) -> None:
        self._study = study  # made afresh by each `study.artifacts`: no cycle keeps a study alive
        self._location = location

    @property
    def location(self) -> str | None:
        """The directory or URL of the store; None for a PostgreSQL study created without `artifacts=`."""
        return self._location if self._location is not None else default_location(self._study.storage)

    @property
    def store(self) -> Store:
        location = self.location
        if location is None:
            raise invalid("artifacts", "must be given to create_study (a shared directory or an fsspec URL) "
                          "to save checkpoints or artifacts with a server storage", None)
        store = _stores.get(location)
        if store is None:
            store = _stores[location] = Store(location)
        return store

    def prefix(self, number: int) -> str:
        return f"{safe_name(self._study.study_name)}/trial-{number}"

    def _trials(self, trial: int | None) -> list[FrozenTrial]:
        trials = self._study.trials
        if trial is None:
            return trials
        trial = check("trial", trial, Int(), rule="must be a trial number")
        found = [t for t in trials if t.number == trial]
        if not found:
            raise invalid("trial", "is not a trial number of this study", trial)
        return found

    def list(self, trial: int | None = None) -> list[Artifact]:
        """The artifacts uploaded by every trial (or one), in trial order."""
        return [Artifact.from_record(t.number, r) for t in self._trials(trial) for r in t.system_attrs.get(ARTIFACTS, [])]

    def checkpoints(self, trial: int | None = None) -> builtins.list[Checkpoint]:
        """The checkpoints every trial (or one) keeps, oldest first per trial."""
        return [Checkpoint.from_record(t.number, r) for t in self._trials(trial)
                for r in t.system_attrs.get(CHECKPOINTS, [])]

    def fetch(self, trial: int, name: str) -> Path:
        """A local path to the artifact `name` of trial number `trial`, its checksum verified."""
        for a in self.list(trial):
            if a.name == name:
                return self.store.get_file(a.path, a.sha256)
        raise invalid("name", f"is not an artifact of trial {trial}", name)

    def fetch_checkpoint(self, checkpoint: Checkpoint) -> Path:
        """The local directory holding a listed checkpoint's files, its checksum verified."""
        return self.store.get_tree(checkpoint.path, checkpoint.sha256)


# -- the trial's side ------------------------------------------------------------------

def _source(path: Any, param: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise invalid(param, "must be a file or directory path", path)
    src = Path(path)
    if not src.exists():
        raise invalid(param, "does not exist", str(path))
    return src


def save_checkpoint(trial: Trial, path: Any, step: Any, metric: Any, keep: Any) -> Checkpoint:
    src = _source(path)
    if step is None:
        step = trial.freeze().last_step
        if step is None:
            raise invalid("step", "is needed: the trial has reported no step yet", step)
    step = check("step", step, Int(low=0))
    if metric is None and len(trial.study.directions) == 1:
        value = trial.intermediate_values.get(step)
        metric = value if isinstance(value, (int, float)) else None
    elif metric is not None:
        metric = float(check("metric", metric, Real()))
    policy = KeepCheckpoints.parse(keep) if keep is not None else trial.study.keep_checkpoints
    artifacts = trial.study.artifacts
    rel = f"{artifacts.prefix(trial.number)}/checkpoint-{step}-{uuid.uuid4().hex[:8]}"
    size, checksum = artifacts.store.put_tree(src, rel)
    record = {"step": step, "path": rel, "size": size, "sha256": checksum, "time": time.time()}
    if metric is not None:
        record["metric"] = metric
    records = [*trial.system_attrs.get(CHECKPOINTS, []), record]
    maximize = trial.study.directions[0].value == "maximize"
    kept = records if policy is None else policy.select(records, maximize)
    try:
        trial.set_system_attr(CHECKPOINTS, kept)  # the checkpoint exists from here on
    except BaseException:
        artifacts.store.delete(rel)
        raise
    for old in records:  # dropped from the record first, then deleted: nothing recorded is ever missing
        if old not in kept:
            artifacts.store.delete(old["path"])
    return Checkpoint.from_record(trial.number, record)


def load_checkpoint(trial: Trial, continue_curve: bool) -> tuple[Path, int] | None:
    """The newest checkpoint that verifies: the trial's own, then along `RESUME_FROM`."""
    artifacts = trial.study.artifacts
    frozen: FrozenTrial | None = trial.freeze()
    seen: set[int] = set()
    by_number: dict[int, FrozenTrial] | None = None
    while frozen is not None and frozen.number not in seen:
        seen.add(frozen.number)
        for rec in reversed(frozen.system_attrs.get(CHECKPOINTS, [])):
            try:
                path = artifacts.store.get_tree(rec["path"], rec["sha256"])
            except (CorruptArtifact, OSError) as exc:
                _logger.warning("trial %d: skipping checkpoint at step %s: %s", trial.number, rec["step"], exc)
                continue
            step = int(rec["step"])
            if continue_curve and frozen.number != trial.number:
                _adopt_curve(trial, frozen, step)
            return path, step
        source = frozen.system_attrs.get(RESUME_FROM)
        if source is None:
            return None
        if by_number is None:
            by_number = {t.number: t for t in trial.study.trials}
        frozen = by_number.get(int(source))
    return None


def _adopt_curve(trial: Trial, source: FrozenTrial, step: int) -> None:
    """Copy the intermediate values `source` reported up to `step`, so the pruner sees one curve."""
    mine = trial.intermediate_values
    for s in sorted(source.intermediate_values):
        if s <= step and s not in mine:
            value = source.intermediate_values[s]
            trial.report(list(value) if isinstance(value, (list, tuple)) else value, s)


def upload_artifact(trial: Trial, path: Any, name: Any) -> Artifact:
    src = _source(path)
    if not src.is_file():
        raise invalid("path", "must be a file (save a directory with save_checkpoint)", str(path))
    name = src.name if name is None else name
    if not isinstance(name, str) or not name or name.startswith("/") or any(
            part in ("", ".", "..") for part in name.split("/")) or "\\" in name:
        raise invalid("name", "must be a relative file name ('plot.png', 'plots/loss.png')", name)
    artifacts = trial.study.artifacts
    rel = f"{artifacts.prefix(trial.number)}/artifacts/{name}"
    size, sha = artifacts.store.put_file(src, rel)
    record = {"name": name, "path": rel, "size": size, "sha256": sha, "time": time.time()}
    records = [r for r in trial.system_attrs.get(ARTIFACTS, []) if r["name"] != name]
    trial.set_system_attr(ARTIFACTS, [*records, record])
    return Artifact.from_record(trial.number, record)
