"""`summary(study, preset)`: what tuning from a preset gained over its defaults, and whether more trials may pay.

Two questions a practitioner asks when a preset study ends:

- how far is the best from the defaults? `Preset.gain` (the defaults are the study's first trial
  when `Preset.tune` ran with `defaults_first=True`);
- would more trials pay? the stopping rule's estimate (`hd.stopping.RegretBound`): the GP's bound
  on the regret left, against the noise of the objective (the fold scores of the best trial when
  the objective reported them with `hd.stopping.report_cv_scores`, else the GP's noise).

With `preset=None` the preset is looked up by the name and version the study recorded (user attr
"preset", written by `Preset.tune`) among the built-in ones, built with no arguments (so a preset
built with arguments, such as `svm(n_features=...)`, has to be passed).

>>> import hyperdial as hd
>>> p = hd.presets.Preset(name="toy", version="1", space={"x": hd.Float(-5.0, 5.0)}, defaults={"x": 0.0},
...                       priority=("x",), sources={"x": "a made-up example"})
>>> study = p.tune(lambda c: (c["x"] - 2) ** 2, n_trials=12, show_progress_bar=False)
>>> s = summary(study, p)
>>> s.as_dict()["default_value"], s.as_dict()["gain"]["absolute"] > 3
(4.0, True)
>>> print(s.text().splitlines()[0])
Preset toy v1: 12 COMPLETE trials (minimize)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperdial.exceptions import invalid
from hyperdial.presets.base import Preset

if TYPE_CHECKING:
    from hyperdial.stopping import Estimate
    from hyperdial.study import Study

__all__ = ["Summary", "summary"]

BUILT_IN = ("adam", "sgd", "lora_finetune", "full_finetune", "xgboost", "lightgbm", "random_forest", "svm")


@dataclass(frozen=True)
class Summary:
    """The answer of `summary`: `as_dict()` for programs, `text()` (or `str()`) for people."""

    preset: str
    version: str
    direction: str
    n_complete: int
    gain: dict[str, Any] | None  # Preset.gain, or None when no trial ran the defaults
    estimate: Estimate | None  # the stopping rule's, or None when it could not judge
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        gain = self.gain or {}
        return {
            "preset": self.preset, "version": self.version, "direction": self.direction,
            "n_complete": self.n_complete,
            "default_value": gain.get("default_value"), "best_value": gain.get("best_value"),
            "gain": None if self.gain is None else {"absolute": gain["absolute"], "relative": gain["relative"],
                                                    "default_trial": gain["default_trial"],
                                                    "best_trial": gain["best_trial"]},
            "more_trials_likely_to_pay": self.more_trials_likely_to_pay,
            "stopping": None if self.estimate is None else self.estimate.as_dict(),
            "notes": list(self.notes),
        }

    @property
    def more_trials_likely_to_pay(self) -> bool | None:
        """False once the regret bound is below the noise; True while it is not; None if not judged."""
        if self.estimate is None or self.estimate.bound is None:
            return None
        return not self.estimate.should_stop

    def text(self) -> str:
        lines = [f"Preset {self.preset} v{self.version}: {self.n_complete} COMPLETE trials ({self.direction})"]
        g = self.gain
        if g is not None:
            rel = "" if g["relative"] is None else f" ({100 * g['relative']:.1f}%)"
            lines.append(f"Defaults (trial {g['default_trial']}): {g['default_value']:.6g}")
            lines.append(f"Best (trial {g['best_trial']}): {g['best_value']:.6g}, "
                         f"{g['absolute']:.4g} better than the defaults{rel}")
        if self.estimate is not None:
            lines.append(f"More trials: {self.estimate}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def _recorded_preset(study: Study) -> Preset:
    record = study.user_attrs.get("preset")
    if not isinstance(record, dict) or "name" not in record:
        raise invalid("preset", "is needed: the study records no preset (user attr 'preset', written by "
                      "Preset.tune)", None)
    name = record["name"]
    if name not in BUILT_IN:
        raise invalid("preset", f"is needed: the study's preset {name!r} is not a built-in one {list(BUILT_IN)}", None)
    from hyperdial import presets

    preset: Preset = getattr(presets, name)()
    return preset


def summary(study: Study, preset: Preset | None = None, *, rule: Any = None) -> Summary:
    """Gain over the preset's defaults and the stopping rule's verdict for a one-objective study.

    `rule` is any object with `estimate(study)` (default `hd.stopping.RegretBound(seed=0)`).
    """
    from hyperdial.stopping import RegretBound
    from hyperdial.trial import TrialState

    if preset is None:
        preset = _recorded_preset(study)
    elif not isinstance(preset, Preset):
        raise invalid("preset", "must be an hd.presets.Preset or None", type(preset).__name__)
    if len(study.directions) != 1:
        raise invalid("study", "must have one objective for a preset summary", f"{len(study.directions)} objectives")
    notes = []
    record = study.user_attrs.get("preset")
    if isinstance(record, dict) and (record.get("name"), record.get("version")) != (preset.name, preset.version):
        notes.append(f"the study recorded preset {record.get('name')} v{record.get('version')}, "
                     f"summarised against {preset.name} v{preset.version}")
    n_complete = len(study.get_trials(states=[TrialState.COMPLETE]))
    gain = None
    if n_complete:
        try:
            gain = preset.gain(study)
        except ValueError:
            notes.append("no COMPLETE trial ran the preset's defaults, so the gain over them is unknown")
    else:
        notes.append("no COMPLETE trial yet")
    estimate = None
    rule = rule if rule is not None else RegretBound(seed=0)
    if n_complete:
        try:
            estimate = rule.estimate(study)
        except ValueError as exc:  # e.g. a space with nothing the GP can model
            notes.append(f"the stopping rule could not judge: {exc}")
    return Summary(preset.name, preset.version, study.direction.value, n_complete, gain, estimate, notes)
