"""Trials: `TrialState`, the immutable `FrozenTrial`, the live `Trial` and `FixedTrial`."""

from __future__ import annotations

import enum
import json
import logging
import math
import os
import pathlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hyperdial import _validation as rules
from hyperdial.exceptions import InvalidParameterError, TrialFinishedError, invalid
from hyperdial.space import Categorical, Distribution, Float, Int, ParamValue
from hyperdial.system_attrs import FIXED_PARAMS, PROPOSAL, RESUME_FROM

if TYPE_CHECKING:
    from hyperdial.checkpoints import Artifact, Checkpoint
    from hyperdial.history import History
    from hyperdial.study import Study

_logger = logging.getLogger("hyperdial")


CONSTRAINTS_KEY = "constraints"
PROPOSAL_KEY = PROPOSAL  # the joint sample made at `ask`, for samplers of other processes


class TrialState(enum.IntEnum):
    """Life cycle of a trial: WAITING (enqueued) -> RUNNING -> COMPLETE | PRUNED | FAIL."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)




@dataclass(frozen=True)
class FrozenTrial:
    """A snapshot of one trial, as samplers, pruners, callbacks and users see it.

    >>> import hyperdial as hd
    >>> t = hd.FrozenTrial(number=0, state=hd.TrialState.COMPLETE, values=(0.5,),
    ...                    params={"x": 1.0}, distributions={"x": hd.Float(0, 2)})
    >>> t.value
    0.5
    """

    number: int
    state: TrialState
    values: tuple[float, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Distribution] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    intermediate_values: dict[int, Any] = field(default_factory=dict)
    datetime_start: datetime | None = None
    datetime_complete: datetime | None = None
    trial_id: int = -1

    @property
    def value(self) -> float | None:
        """The single objective value (None unless COMPLETE or PRUNED with a value)."""
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise InvalidParameterError(
                f"trial {self.number} has {len(self.values)} objective values; use `values`"
            )
        return self.values[0]

    @property
    def duration(self) -> float | None:
        """Seconds from start to completion, or None while unfinished."""
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return (self.datetime_complete - self.datetime_start).total_seconds()

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate_values) if self.intermediate_values else None

    def with_proposal(self) -> FrozenTrial:
        """For a running trial: its params plus those its sampler proposed at `ask` and the
        objective has not asked for yet (what a constant liar should assume it will try)."""
        proposal = self.system_attrs.get(PROPOSAL_KEY)
        if not proposal or self.state.is_finished():
            return self
        from hyperdial.space import distribution_from_dict

        params, dists = dict(self.params), dict(self.distributions)
        for name, value in proposal.get("params", {}).items():
            spec = proposal.get("space", {}).get(name)
            if name not in params and spec is not None:
                params[name] = value
                dists[name] = distribution_from_dict(spec)
        return replace(self, params=params, distributions=dists)

    @property
    def constraints(self) -> tuple[float, ...] | None:
        """Values set with `trial.set_constraint` (<= 0 is feasible), or None."""
        c = self.system_attrs.get(CONSTRAINTS_KEY)
        return None if c is None else tuple(float(v) for v in c)

    @property
    def violation(self) -> float:
        """Total constraint violation: sum of the positive constraint values (0 when feasible)."""
        c = self.constraints
        return 0.0 if c is None else float(sum(max(v, 0.0) for v in c))

    @property
    def feasible(self) -> bool:
        return self.violation == 0.0

    def validate(self) -> None:
        """Check that the snapshot is consistent (used by `study.add_trial`)."""
        if set(self.params) != set(self.distributions):
            raise invalid("params", "must have the same keys as `distributions`", sorted(self.params))
        for name, value in self.params.items():
            if not self.distributions[name].contains(value):
                raise invalid(
                    "params", f"value is outside {self.distributions[name]!r}", value, name=name
                )
        if self.state == TrialState.COMPLETE:
            if not self.values or any(not math.isfinite(v) for v in self.values):
                raise invalid("values", "must be finite numbers for a COMPLETE trial", self.values)
        elif self.state == TrialState.FAIL and self.values is not None:
            raise invalid("values", "must be None for a FAIL trial", self.values)


def _numpy_to_python(value: Any) -> Any:
    """NumPy scalars and arrays (np.int64 is no int) as the Python numbers and lists they hold."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_attr(key: Any, value: Any) -> Any:
    """`value` as every storage gives it back (a JSON round trip: tuples become lists, dict keys
    strings), or an error naming `key` for what JSON cannot hold (sets, objects, bytes, cycles).

    NaN and infinities are kept, in every storage (Python's JSON extension in a text column): a
    diverged run's loss is worth recording, and refusing it would fail the objective for a note.
    """
    _check_name(key)
    try:
        return json.loads(json.dumps(value, allow_nan=True, default=_numpy_to_python))
    except (TypeError, ValueError):
        raise invalid("value", "must be JSON (numbers, strings, booleans, None, lists, dicts)", value,
                      name=key) from None


class _SuggestMixin:
    """`suggest_*` on top of one method, `suggest(name, distribution)`."""

    def suggest(self, name: str, distribution: Distribution) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggest a float in [low, high] (log scale or on a `step` grid if asked).

        >>> import hyperdial as hd
        >>> hd.FixedTrial({"lr": 0.01}).suggest_float("lr", 1e-5, 1e-1, log=True)
        0.01
        """
        _check_name(name)
        return float(self.suggest(name, _named(name, lambda: Float(low, high, log=log, step=step))))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """Suggest an integer in [low, high] on the grid low, low+step, ...

        >>> import hyperdial as hd
        >>> hd.FixedTrial({"layers": 3}).suggest_int("layers", 1, 4)
        3
        """
        _check_name(name)
        return int(self.suggest(name, _named(name, lambda: Int(low, high, log=log, step=step))))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """Suggest one of `choices` (None, bool, int, float or str).

        >>> import hyperdial as hd
        >>> hd.FixedTrial({"opt": "sgd"}).suggest_categorical("opt", ["adam", "sgd"])
        'sgd'
        """
        _check_name(name)
        return self.suggest(name, _named(name, lambda: Categorical(choices)))


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise invalid("name", "must be a non-empty string", name)


def _named(name: str, build: Any) -> Distribution:
    """Build a distribution, re-raising its validation error with the parameter name."""
    try:
        dist: Distribution = build()
    except InvalidParameterError as exc:
        msg = str(exc)
        raise InvalidParameterError(msg.replace(", got", f" for {name!r}, got", 1)) from None
    return dist


@dataclass(frozen=True)
class Proposal:
    """A trial's joint proposal: the values the sampler chose at `ask` for the joint space.

    Shipped with a trial that runs elsewhere (`study.start_trial(trial_id, proposal=...)`),
    so its `suggest_*` there return what the driver's sampler chose.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    space: Mapping[str, Distribution] = field(default_factory=dict)
    visible_through: int | None = None  # deterministic runs: the trials it may see (see Study.ask)


class Trial(_SuggestMixin):
    """One evaluation of the objective, handed to it by `study.optimize` or `study.ask`.

    >>> import hyperdial as hd
    >>> study = hd.create_study(seed=0)
    >>> trial = study.ask()
    >>> x = trial.suggest_float("x", -1, 1)
    >>> trial.report(x * x, step=0)
    >>> study.tell(trial, x * x).state
    <TrialState.COMPLETE: 1>
    """

    def __init__(self, study: Study, frozen: FrozenTrial) -> None:
        self.study = study
        self._trial_id = frozen.trial_id
        self._number = frozen.number
        self._params: dict[str, Any] = dict(frozen.params)
        self._distributions: dict[str, Distribution] = dict(frozen.distributions)
        self._user_attrs: dict[str, Any] = dict(frozen.user_attrs)
        self._system_attrs: dict[str, Any] = dict(frozen.system_attrs)
        self._intermediate: dict[int, Any] = dict(frozen.intermediate_values)
        self._datetime_start = frozen.datetime_start
        self._state = TrialState.RUNNING
        self._relative: dict[str, Any] = {}
        self._relative_space: dict[str, Distribution] = {}
        self._fixed: dict[str, Any] = dict(frozen.system_attrs.get(FIXED_PARAMS) or {})
        self._history: History | None = None  # one lazy view per trial, shared by its suggestions
        # Deterministic runs (`optimize(deterministic=True)`): the trial sees only trials numbered
        # up to here, all finished, and its new parameters come from its own fork of the sampler.
        self._visible_through: int | None = None
        self._sampler: Any = None
        self._paused_at: int | None = None  # the step at which the pruner said PAUSE (cleared by CONTINUE/STOP)
        self._checkpoint_step: int | None = None

    # -- read-only attributes ------------------------------------------------
    @property
    def number(self) -> int:
        return self._number

    @property
    def proposal(self) -> Proposal:
        """The sampler's joint proposal for this trial (empty when it made none)."""
        return Proposal(dict(self._relative), dict(self._relative_space), self._visible_through)

    @property
    def trial_id(self) -> int:
        return self._trial_id

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def distributions(self) -> dict[str, Distribution]:
        return dict(self._distributions)

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._user_attrs)

    @property
    def system_attrs(self) -> dict[str, Any]:
        return dict(self._system_attrs)

    @property
    def intermediate_values(self) -> dict[int, Any]:
        return dict(self._intermediate)

    @property
    def state(self) -> TrialState:
        return self._state

    @property
    def datetime_start(self) -> datetime | None:
        return self._datetime_start

    @property
    def datetime_complete(self) -> None:
        return None

    @property
    def values(self) -> None:
        return None

    @property
    def value(self) -> None:
        return None

    def freeze(self) -> FrozenTrial:
        """The trial as it stands, as the sampler and pruner see it."""
        return FrozenTrial(
            number=self._number,
            state=self._state,
            params=dict(self._params),
            distributions=dict(self._distributions),
            user_attrs=dict(self._user_attrs),
            system_attrs=dict(self._system_attrs),
            intermediate_values=dict(self._intermediate),
            datetime_start=self._datetime_start,
            trial_id=self._trial_id,
        )

    # -- the objective's calls -----------------------------------------------
    def _check_running(self) -> None:
        if self._state != TrialState.RUNNING:
            raise TrialFinishedError(f"trial {self._number} is already {self._state.name}")

    def suggest(self, name: str, distribution: Distribution) -> Any:
        """Suggest a value for `name` from any space type (what `suggest_*` call)."""
        self._check_running()
        if name in self._params:
            old = self._distributions[name]
            if old != distribution:
                raise InvalidParameterError(
                    f"parameter {name!r} was already suggested in trial {self._number} with {old!r}; "
                    f"it cannot be asked again with {distribution!r}"
                )
            return self._params[name]
        value = self.study.propose(self, name, distribution)
        self.study.storage.set_params(self._trial_id, {name: (distribution.to_internal(value), distribution)})
        self._params[name] = value
        self._distributions[name] = distribution
        return value

    def report(self, value: float | Sequence[float], step: int) -> None:
        """Store an intermediate value at `step` (epochs, samples or seconds), for the pruner.

        A second report at the same step is ignored, with a log message.
        """
        self._check_running()
        step = rules.check("step", step, rules.Int(low=0))
        n_obj = len(self.study.directions)
        stored: Any
        if isinstance(value, (list, tuple)):
            if len(value) != n_obj:
                raise invalid("value", f"must have {n_obj} entries, one per objective", value)
            stored = tuple(rules.as_number("value", v) for v in value)
            if n_obj == 1:
                stored = stored[0]
        else:
            if n_obj != 1:
                raise invalid("value", f"must be a list of {n_obj} numbers in a multi-objective study", value)
            stored = rules.as_number("value", value)
        if step in self._intermediate:
            _logger.warning("trial %d already reported step %d; the new value is ignored", self._number, step)
            return
        self.study.storage.report(self._trial_id, step, stored)
        self._intermediate[step] = stored

    def should_prune(self) -> bool:
        """Ask the study's pruner whether to stop this trial now (a pure question)."""
        self._check_running()
        return bool(self.study.should_prune(self))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON value to the trial (checked the same way whatever the storage)."""
        value = json_attr(key, value)
        self.study.storage.set_trial_attr(self._trial_id, key, value, system=False)
        self._user_attrs[key] = value

    def set_constraint(self, values: Sequence[float]) -> None:
        """Record constraint values for this trial: each <= 0 means satisfied.

        Samplers that honour constraints steer towards feasible regions, and
        `study.best_trial` prefers feasible trials.

        >>> import hyperdial as hd
        >>> study = hd.create_study()
        >>> t = study.ask()
        >>> x = t.suggest_float("x", 0, 1)
        >>> t.set_constraint([x - 0.5])          # feasible when x <= 0.5
        >>> study.tell(t, x).feasible == (x <= 0.5)
        True
        """
        self._check_running()
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]  # type: ignore[list-item]
        out = []
        for v in values:
            f = rules.as_number("constraint", v)
            if math.isnan(f):
                raise invalid("constraint", "must not be NaN", v)
            out.append(f)
        if not out:
            raise invalid("constraint", "must hold at least one value", list(values))
        self.set_system_attr(CONSTRAINTS_KEY, out)

    # -- checkpoints and artifacts (docs/checkpoints.md; the work is in _checkpointing.py) ----------
    def save_checkpoint(self, path: str | os.PathLike[str] | Callable[[pathlib.Path], None], *,
                        step: int | None = None, metric: float | None = None,
                        keep_checkpoints: Any = None) -> Checkpoint:
        """Copy a file or a directory's files into the study's artifact store as a checkpoint at `step`.

        `path` may also be a function that writes the files into the directory it is given
        (`lambda d: model.save_pretrained(d)`): on a local store they are written in place, not copied.

        `step` defaults to the last step the trial reported. The write is atomic (a crash leaves no
        checkpoint that loads) and recorded with its size and SHA-256. `metric` ranks checkpoints for
        `KeepCheckpoints(best=...)` (default: the value reported at `step`); `keep_checkpoints`
        overrides the study's policy for this save.

        >>> import hyperdial as hd, pathlib, tempfile
        >>> study = hd.create_study()
        >>> trial = study.ask()
        >>> ckpt = pathlib.Path(tempfile.mkdtemp()) / "model.txt"
        >>> _ = ckpt.write_text("weights at epoch 4")
        >>> trial.report(0.3, step=4)
        >>> trial.save_checkpoint(ckpt).step
        4
        >>> (trial.load_checkpoint() / "model.txt").read_text(), trial.checkpoint_step
        ('weights at epoch 4', 4)
        """
        from hyperdial._checkpointing import save_checkpoint

        self._check_running()
        return save_checkpoint(self, path, step, metric, keep_checkpoints)

    def load_checkpoint(self, *, continue_curve: bool = True) -> pathlib.Path | None:
        """The local directory holding the files of this trial's latest checkpoint, else those of the
        trial it resumes from (`resume_from`: a retry's failed predecessor, followed transitively),
        else None. Sets `checkpoint_step`: continue training at `checkpoint_step + 1`.

        Each checkpoint's checksum is verified; a corrupt or missing one is skipped for the one
        before it, with a warning. Read the directory, do not write into it. With
        `continue_curve`, loading another trial's checkpoint copies that trial's intermediate
        values up to the checkpoint's step into this trial, so the pruner sees one learning curve.
        """
        from hyperdial._checkpointing import load_checkpoint

        self._check_running()
        found = load_checkpoint(self, continue_curve)
        if found is None:
            self._checkpoint_step = None
            return None
        self._checkpoint_step = found[1]
        return found[0]

    @property
    def checkpoint_step(self) -> int | None:
        """The step of the checkpoint the last `load_checkpoint` returned (None: start from scratch)."""
        return self._checkpoint_step

    @property
    def resume_from(self) -> int | None:
        """The number of the trial whose checkpoints this one starts from when it has none of its own."""
        source = self._system_attrs.get(RESUME_FROM)
        return None if source is None else int(source)

    def upload_artifact(self, path: str | os.PathLike[str], *, name: str | None = None) -> Artifact:
        """Store any file (a plot, predictions) with the trial, as `name` (default: its file name);
        a second upload with the same name replaces it. List and fetch with `study.artifacts`."""
        from hyperdial._checkpointing import upload_artifact

        self._check_running()
        return upload_artifact(self, path, name)

    def set_system_attr(self, key: str, value: Any) -> None:
        """For samplers, pruners and executors: attach internal bookkeeping (JSON)."""
        value = json_attr(key, value)
        self.study.storage.set_trial_attr(self._trial_id, key, value, system=True)
        self._system_attrs[key] = value

    def __repr__(self) -> str:
        return f"Trial(number={self._number}, params={self._params!r})"


class FixedTrial(_SuggestMixin):
    """Run an objective on given parameters, without a study.

    >>> import hyperdial as hd
    >>> def objective(trial):
    ...     return trial.suggest_float("x", -10, 10) ** 2
    >>> objective(hd.FixedTrial({"x": 3.0}))
    9.0
    """

    def __init__(self, params: Mapping[str, Any], number: int = 0) -> None:
        if not isinstance(params, Mapping):
            raise invalid("params", "must be a dict", params)
        self._given = dict(params)
        self.number = number
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, Distribution] = {}
        self.user_attrs: dict[str, Any] = {}
        self.intermediate_values: dict[int, Any] = {}
        self.state = TrialState.RUNNING

    def suggest(self, name: str, distribution: Distribution) -> ParamValue:
        if name not in self._given:
            raise InvalidParameterError(f"FixedTrial has no value for parameter {name!r}; given: {sorted(self._given)}")
        value = self._given[name]
        if not distribution.contains(value):
            raise invalid("params", f"value is outside {distribution!r}", value, name=name)
        if isinstance(distribution, Int):
            value = int(value)
        elif isinstance(distribution, Float):
            value = float(value)
        self.params[name] = value
        self.distributions[name] = distribution
        return value

    def report(self, value: float | Sequence[float], step: int) -> None:
        self.intermediate_values[int(step)] = value

    def should_prune(self) -> bool:
        return False

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = json_attr(key, value)

    # Without a study there is no store: the objective runs from scratch and saves nothing.
    checkpoint_step: int | None = None
    resume_from: int | None = None

    def save_checkpoint(self, path: Any, *, step: int | None = None, metric: float | None = None,
                        keep_checkpoints: Any = None) -> None:
        return None

    def load_checkpoint(self, *, continue_curve: bool = True) -> None:
        return None

    def upload_artifact(self, path: Any, *, name: str | None = None) -> None:
        return None


def with_state(trial: FrozenTrial, **changes: Any) -> FrozenTrial:
    """Copy of a frozen trial with some fields changed."""
    return replace(trial, **changes)
