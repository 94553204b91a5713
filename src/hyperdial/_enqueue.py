"""Checks of enqueued parameters: when `enqueue_trial` is called, and again when a trial claims them.

At enqueue time the study knows a parameter's distribution once some trial used it;
the latest such trial's distribution is the reference (the objective's code may have
widened a range since the first trials). At claim time the objective's own
distribution is the reference, so a name no trial knew yet is checked then.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from hyperdial._validation import Real, check
from hyperdial.exceptions import invalid
from hyperdial.space import Categorical, Distribution, Int
from hyperdial.trial import FrozenTrial

_logger = logging.getLogger("hyperdial")


def check_enqueued(name: str, dist: Distribution, value: Any) -> None:
    """Refuse an enqueued `value` that `dist` does not hold exactly; the message names the parameter.

    >>> check_enqueued("n", Int(0, 2**60), 2**59 + 1)
    Traceback (most recent call last):
    ...
    hyperdial.exceptions.InvalidParameterError: `params` (enqueued) value must be an integer a float holds exactly (|value| <= 2**53) for 'n', got params=576460752303423489
    """
    if not isinstance(dist, Categorical):
        check("params", value, Real(), rule=f"(enqueued) value must be a number in {dist!r}", name=name)
    # Storages keep parameters as floats: an Int beyond 2**53 would come back changed.
    if isinstance(dist, Int) and isinstance(value, numbers.Integral) and float(value) != value:
        raise invalid("params", "(enqueued) value must be an integer a float holds exactly (|value| <= 2**53)",
                      value, name=name)
    if not dist.contains(value):
        raise invalid("params", f"(enqueued) value is outside {dist!r}", value, name=name)


def check_against_history(params: Mapping[str, Any], trials: Iterable[FrozenTrial]) -> None:
    """Check `params` against the distributions earlier trials used; log a warning for unknown names.

    A name no trial used is a warning, not an error: a conditional parameter may not
    have come up yet, or the objective may have grown one. A typo shows in the log.
    """
    known: dict[str, Distribution] = {}
    for t in sorted(trials, key=lambda t: t.number):
        known.update(t.distributions)
    for name, value in params.items():
        if name in known:
            check_enqueued(name, known[name], value)
    unknown = sorted(set(params) - set(known))
    if known and unknown:
        _logger.warning(
            "enqueue_trial: no trial of this study used the parameter(s) %s (known: %s); "
            "they apply only if the objective asks for them", unknown, sorted(known),
        )
