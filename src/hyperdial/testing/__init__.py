"""Conformance suites every sampler, pruner and storage must pass.

Each suite is a list of check functions; a check takes a factory and raises
AssertionError with a message on failure. Run them from pytest:

    @pytest.mark.parametrize("check", hyperdial.testing.samplers.CHECKS)
    def test_my_sampler(check):
        check(lambda seed: MySampler(seed=seed))
"""

from hyperdial.testing import pruners, samplers, storages

__all__ = ["pruners", "samplers", "storages"]
