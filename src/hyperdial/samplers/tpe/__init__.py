"""Tree-structured Parzen Estimator: `TPE` (sampler.py), its kernel density estimators (parzen.py),
the good/bad split (split.py) and the observation cache (_store.py)."""

from hyperdial.samplers.tpe.sampler import TPE

__all__ = ["TPE"]
