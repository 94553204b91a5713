"""`Preset`: a named, versioned search space with established defaults and their sources.

>>> import hyperdial as hd
>>> p = Preset(name="toy", version="1", space={"x": hd.Float(-5.0, 5.0)}, defaults={"x": 0.0},
...            priority=("x",), sources={"x": "a made-up example"})
>>> dict(p.only(["x"]).defaults)
{'x': 0.0}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.space import Distribution

if TYPE_CHECKING:
    from hyperdial.samplers.prior import Prior
    from hyperdial.study import Study

__all__ = ["Preset"]

_log = logging.getLogger("hyperdial.presets")

OVERRIDE_SOURCE = "overridden with Preset.with_()"


def _rebuild(name: str, version: str, space: dict[str, Distribution], defaults: dict[str, Any],
             priority: tuple[str, ...], sources: dict[str, str]) -> Preset:
    return Preset(name=name, version=version, space=space, defaults=defaults, priority=priority, sources=sources)


def _same(dist: Distribution, a: Any, b: Any) -> bool:
    # compare as the storage does (1 and 1.0 are the same Float value; 1 and True different choices)
    return dist.contains(a) and dist.contains(b) and dist.to_internal(a) == dist.to_internal(b)


@dataclass(frozen=True)
class Preset:
    """A search space with a default for every parameter, a priority order and a source per parameter.

    `version` changes whenever a range or a default changes; `tune` records name and
    version on the study (user attr "preset"). Every default lies inside its
    distribution, `priority` names every parameter exactly once (most impactful first)
    and `sources` says where each range/default comes from.

    >>> import hyperdial as hd
    >>> p = Preset(name="toy", version="1", space={"x": hd.Float(-5.0, 5.0)}, defaults={"x": 0.0},
    ...            priority=("x",), sources={"x": "a made-up example"})
    >>> study = p.tune(lambda c: (c["x"] - 2) ** 2, n_trials=5, show_progress_bar=False)
    >>> study.trials[0].params
    {'x': 0.0}
    >>> study.user_attrs["preset"]
    {'name': 'toy', 'version': '1'}
    """

    name: str
    version: str
    space: Mapping[str, Distribution]
    defaults: Mapping[str, Any]
    priority: tuple[str, ...]
    sources: Mapping[str, str]

    def __init__(
        self,
        *,
        name: str,
        version: str,
        space: Mapping[str, Distribution],
        defaults: Mapping[str, Any],
        priority: Iterable[str],
        sources: Mapping[str, str],
    ) -> None:
        rules.check("name", name, rules.InstanceOf(str))
        rules.check("version", version, rules.InstanceOf(str))
        for label, m in (("space", space), ("defaults", defaults), ("sources", sources)):
            if not isinstance(m, Mapping) or not all(isinstance(k, str) for k in m):
                raise invalid(label, "must be a mapping with string keys", m, name=name)
        if not space:
            raise invalid("space", "must hold at least one parameter", dict(space), name=name)
        for key, dist in space.items():
            if not isinstance(dist, Distribution):
                raise invalid(f"space[{key!r}]", "must be hd.Float, hd.Int or hd.Categorical", dist, name=name)
        for key in space:
            if key not in defaults:
                raise invalid(f"defaults[{key!r}]", "is required for every parameter", "missing", name=name)
            if not space[key].contains(defaults[key]):
                raise invalid(
                    f"defaults[{key!r}]", f"must lie inside its distribution {space[key]!r}", defaults[key], name=name
                )
            src = sources.get(key)
            if not isinstance(src, str) or not src.strip():
                raise invalid(f"sources[{key!r}]", "must be a non-empty string for every parameter", src, name=name)
        for label, m in (("defaults", defaults), ("sources", sources)):
            extra = sorted(set(m) - set(space))
            if extra:
                raise invalid(label, "must only name parameters of the space", extra, name=name)
        if isinstance(priority, str):
            raise invalid("priority", "must be a sequence of parameter names, not a string", priority, name=name)
        prio = tuple(priority)
        if sorted(prio) != sorted(space) or len(set(prio)) != len(prio):
            raise invalid("priority", f"must name every parameter of the space exactly once {sorted(space)}",
                          prio, name=name)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
        # read-only views: a frozen preset cannot be edited around its validation
        object.__setattr__(self, "space", MappingProxyType(dict(space)))
        object.__setattr__(self, "defaults", MappingProxyType({k: defaults[k] for k in space}))
        object.__setattr__(self, "priority", prio)
        object.__setattr__(self, "sources", MappingProxyType({k: sources[k] for k in space}))

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.priority))

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType cannot be pickled or deep-copied: rebuild (and revalidate) from plain dicts,
        # so a preset can travel to a worker process and sklearn.base.clone can copy a SearchCV over it
        return (_rebuild, (self.name, self.version, dict(self.space), dict(self.defaults), self.priority,
                           dict(self.sources)))

    def with_(
        self,
        *,
        defaults: Mapping[str, Any] | None = None,
        priority: Iterable[str] | None = None,
        sources: Mapping[str, str] | None = None,
        **overrides: Distribution,
    ) -> Preset:
        """A copy with parameters replaced or added (`name=hd.Float(...)`); new ones go last in priority.

        A kept default outside a new range is an error unless `defaults=` gives a new one; an
        added parameter needs a default. Overridden parameters' sources become "overridden with
        Preset.with_()" unless `sources=` says better.

        >>> import hyperdial as hd
        >>> p = Preset(name="toy", version="1", space={"x": hd.Float(-5.0, 5.0)}, defaults={"x": 0.0},
        ...            priority=("x",), sources={"x": "a made-up example"})
        >>> q = p.with_(x=hd.Float(1.0, 2.0), y=hd.Int(1, 3), defaults={"x": 1.5, "y": 1})
        >>> q.priority, dict(q.defaults)
        (('x', 'y'), {'x': 1.5, 'y': 1})
        """
        new_defaults = dict(defaults or {})
        space = dict(self.space)
        dflt = dict(self.defaults)
        srcs = dict(self.sources)
        for key, dist in overrides.items():
            if not isinstance(dist, Distribution):
                raise invalid(key, "must be hd.Float, hd.Int or hd.Categorical", dist, name=self.name)
            space[key] = dist
            srcs[key] = OVERRIDE_SOURCE
            if key not in new_defaults:
                if key not in dflt:
                    raise invalid(f"defaults[{key!r}]", "is required for a new parameter", "missing", name=self.name)
                if not dist.contains(dflt[key]):
                    raise invalid(
                        f"defaults[{key!r}]",
                        f"(the preset's) lies outside the new range {dist!r}; pass defaults={{{key!r}: ...}}",
                        dflt[key],
                        name=self.name,
                    )
        unknown = sorted(set(new_defaults) - set(space))
        if unknown:
            raise invalid("defaults", "must only name parameters of the space", unknown, name=self.name)
        dflt.update(new_defaults)
        srcs.update(sources or {})
        if priority is None:
            prio = self.priority + tuple(k for k in overrides if k not in self.space)
        else:
            prio = tuple(priority)
        return Preset(name=self.name, version=self.version, space=space, defaults=dflt, priority=prio, sources=srcs)

    def only(self, names: Iterable[str]) -> Preset:
        """Narrow to `names`, keeping priority order, defaults and sources.

        >>> import hyperdial as hd
        >>> hd.presets.adam().only(["dropout", "lr"]).priority
        ('lr', 'dropout')
        """
        if isinstance(names, str):
            raise invalid("names", "must be a sequence of parameter names, not a string", names, name=self.name)
        keep = list(names)
        unknown = [k for k in keep if k not in self.space]
        if unknown:
            raise invalid("names", f"must be parameters of the preset {list(self.priority)}", unknown, name=self.name)
        if not keep:
            raise invalid("names", "must name at least one parameter", keep, name=self.name)
        chosen = set(keep)
        return Preset(
            name=self.name,
            version=self.version,
            space={k: v for k, v in self.space.items() if k in chosen},
            defaults={k: v for k, v in self.defaults.items() if k in chosen},
            priority=tuple(k for k in self.priority if k in chosen),
            sources={k: v for k, v in self.sources.items() if k in chosen},
        )

    def tune(
        self,
        objective: Callable[..., Any],
        *,
        n_trials: int,
        study: Study | None = None,
        defaults_first: bool = True,
        prior: bool = False,
        staged: Any = False,
        **optimize_kwargs: Any,
    ) -> Study:
        """Run `study.optimize(objective, space=self.space, n_trials=n_trials)`, the defaults first.

        Creates an in-memory study when `study` is None. The defaults are enqueued with
        `skip_if_exists=True`, so rerunning on the same study does not run them twice.
        The study records `{"name": ..., "version": ...}` as its "preset" user attr (a warning is
        logged when it replaces a different preset or version).
        With `prior=True` the defaults also act as a piBO prior (`self.prior()`) of the created
        study's sampler (`Auto`, which hands it to GP and TPE); a given `study` must then already
        use a sampler built with `prior=` (off by default: docs/benchmarks.md, "Priors from preset defaults").

        `staged=True` tunes the most impactful parameters first (`hd.samplers.Staged` around the
        study's sampler, the preset's priority and defaults, `default_stages(len(space), n_trials)`
        starting at this call's first trial); a `Staged` instance is used as given. The study's
        sampler is restored afterwards. Off by default: at equal budget it beat joint tuning at 25
        trials but fell behind at 50 on the benchmark's reporting split (docs/benchmarks.md, "Staged
        vs joint tuning").
        """
        rules.check("n_trials", n_trials, rules.Int(low=1))
        rules.check("defaults_first", defaults_first, rules.Bool())
        rules.check("prior", prior, rules.Bool())
        if study is None:
            from hyperdial._api import create_study
            from hyperdial.samplers import Auto

            study = create_study(sampler=Auto(prior=self.prior()) if prior else None)
        elif prior and getattr(study.sampler, "prior", None) is None:
            raise invalid("prior", "needs a study created by tune, or one whose sampler was built with "
                          "prior=preset.prior()", f"sampler {study.sampler!r}", name=self.name)
        record = {"name": self.name, "version": self.version}
        previous = study.user_attrs.get("preset")
        if previous is not None and previous != record:
            _log.warning("study %r was tuned with preset %s; now recording %s", study.study_name, previous, record)
        study.set_user_attr("preset", record)
        if defaults_first:
            study.enqueue_trial(dict(self.defaults), skip_if_exists=True)
        sampler = study.sampler
        if staged is not False:
            study.sampler = self._staged(staged, study, n_trials)
        try:
            study.optimize(objective, space=dict(self.space), n_trials=n_trials, **optimize_kwargs)
        finally:
            study.sampler = sampler
        _log.info("preset %s v%s: %d trials in study %r", self.name, self.version, len(study.trials),
                  study.study_name)
        return study

    def prior(self, *, width: float = 0.2, choice_mass: float = 2 / 3, beta: float = 10.0) -> Prior:
        """The defaults as a belief about the optimum, for `GP`/`TPE`/`Auto(prior=...)` (piBO, `samplers/prior.py`)."""
        from hyperdial.samplers.prior import Prior

        return Prior(center=dict(self.defaults), width=width, choice_mass=choice_mass, beta=beta)

    def _staged(self, staged: Any, study: Study, n_trials: int) -> Any:
        from hyperdial.samplers.staged import Staged, default_stages
        from hyperdial.trial import TrialState

        if isinstance(staged, Staged):
            return staged
        if staged is not True:
            raise invalid("staged", "must be True, False or a hd.samplers.Staged", staged, name=self.name)
        start = max((t.number for t in study.trials if t.state != TrialState.WAITING), default=-1) + 1
        return Staged(study.sampler, priority=self.priority, defaults=self.defaults, start=start,
                      stages=default_stages(len(self.priority), n_trials))

    def gain(self, study: Study) -> dict[str, Any]:
        """Best value against the defaults' trial: `{"default_value", "best_value", "absolute", "relative"}`.

        `absolute` is the improvement in the study's direction (>= 0 when the best beats the
        defaults); `relative` divides it by |default value| (None when that is 0).
        """
        from hyperdial.history import StudyDirection
        from hyperdial.trial import TrialState

        done = [t for t in study.trials if t.state == TrialState.COMPLETE and t.value is not None]
        base = next(
            (t for t in done if set(t.params) == set(self.defaults)
             and all(_same(self.space[k], t.params[k], v) for k, v in self.defaults.items())),
            None,
        )
        if base is None:
            raise invalid("study", "has no COMPLETE trial whose params equal the preset's defaults",
                          study.study_name, name=self.name)
        default_value = float(base.value)  # type: ignore[arg-type]
        best_value = float(study.best_value)
        sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0
        absolute = sign * (default_value - best_value)
        relative = absolute / abs(default_value) if default_value != 0 else None
        return {"default_value": default_value, "best_value": best_value, "absolute": absolute,
                "relative": relative, "default_trial": base.number, "best_trial": study.best_trial.number}
