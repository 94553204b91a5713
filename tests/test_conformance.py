"""The conformance suites of hyperdial.testing, run over every built-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.testing import pruners, samplers, storages


@pytest.mark.parametrize("check", storages.CHECKS, ids=lambda c: c.__name__)
def test_storage_conformance(check: Callable[..., None], make_storage: Callable[[], Any]) -> None:
    check(make_storage)


SAMPLERS = {
    "Random": lambda seed: hd.samplers.Random(seed=seed),
    "QMC-sobol": lambda seed: hd.samplers.QMC(seed=seed),
    "QMC-halton": lambda seed: hd.samplers.QMC(seed=seed, qmc_type="halton"),
    # x is tuned, y held at 0.5 for the first three trials; parameters it does not name pass through
    "Staged": lambda seed: hd.samplers.Staged(hd.samplers.Random(seed=seed), priority=("x", "y"),
                                              defaults={"x": 0.0, "y": 0.5}, stages=[(3, 1)]),
}


@pytest.mark.parametrize("check", samplers.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampler_conformance(name: str, check: Callable[..., None]) -> None:
    check(SAMPLERS[name])


PRUNERS = {
    "Nop": lambda: hd.pruners.Nop(),
    "Median": lambda: hd.pruners.Median(),
    "Median-warmup": lambda: hd.pruners.Median(n_startup_trials=2, n_warmup_steps=2, interval_steps=2),
    "Percentile-25": lambda: hd.pruners.Percentile(25.0),
}


@pytest.mark.parametrize("check", pruners.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_pruner_conformance(name: str, check: Callable[..., None]) -> None:
    check(PRUNERS[name])


def test_suites_leave_the_users_logging_as_it_was() -> None:
    import logging

    logger = logging.getLogger("hyperdial")
    old = logger.level
    try:
        logger.setLevel(logging.DEBUG)
        samplers.CHECKS[0](lambda seed: hd.samplers.Random(seed=seed))
        pruners.CHECKS[3](lambda: hd.pruners.Median())
        assert logger.level == logging.DEBUG
    finally:
        logger.setLevel(old)
