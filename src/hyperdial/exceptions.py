"""One hierarchy for everything hyperdial raises on purpose.

`InvalidParameterError` subclasses both `ValueError` and `TypeError`, so callers
can catch whichever they expect; its message names the parameter, the rule and
the value.
"""

from __future__ import annotations

from typing import Any


class HyperdialError(Exception):
    """Base class of every hyperdial error."""


class InvalidParameterError(HyperdialError, ValueError, TypeError):
    """A user-supplied argument broke a rule; the message names it and the value."""


class MissingDependency(HyperdialError, ImportError):
    """An optional feature's package is not installed; the message names the extra."""


class TrialPruned(HyperdialError):
    """Raise from an objective to stop the trial early (its state becomes PRUNED).

    >>> import hyperdial as hd
    >>> def objective(trial):
    ...     raise hd.TrialPruned()
    """


class DuplicatedStudyError(HyperdialError, ValueError):
    """A study with that name already exists (pass `load_if_exists=True` to reuse it)."""


class StudyNotFound(HyperdialError, KeyError):
    """No study with that name in the storage."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TrialNotFound(HyperdialError, KeyError):
    """No trial with that id or number."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TrialFinishedError(HyperdialError, RuntimeError):
    """The trial is already finished; it cannot be changed any more."""


class StorageError(HyperdialError, RuntimeError):
    """The storage failed in a way that retrying did not fix."""


class Terminated(SystemExit):
    """Raised inside `optimize` when the process receives SIGTERM: the running trial is
    recorded (and retried if the study allows), then the process exits with 128 + 15."""


def invalid(param: str, rule: str, value: Any, *, name: str | None = None) -> InvalidParameterError:
    """Build the one error message format: "`low` must be < `high` for 'lr', got low=0.1, high=0.01"."""
    where = f" for {name!r}" if name is not None else ""
    shown = value if isinstance(value, str) and "=" in value else f"{param}={value!r}"
    return InvalidParameterError(f"`{param}` {rule}{where}, got {shown}")


def storage_error(storage: str, exc: BaseException, *, doing: str = "open", url: str | None = None) -> StorageError:
    """The one message for a database that cannot be used (API and CLI alike): the storage, with
    its password hidden by the caller, and the driver's first line (with any piece of `url`'s
    password hidden too); a damaged SQLite file says so."""
    text = str(getattr(exc, "orig", None) or exc)
    if url is not None:
        from hyperdial.storage._url import redact_text

        text = redact_text(text, url)
    lines = text.splitlines()
    detail = lines[0] if lines else type(exc).__name__
    if "file is not a database" in detail or "database disk image is malformed" in detail:
        detail += " (the file is damaged or is not a SQLite database: restore it from a backup, or use another path)"
    return StorageError(f"cannot {doing} storage {storage}: {detail}")
