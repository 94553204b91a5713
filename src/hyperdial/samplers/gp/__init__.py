"""Gaussian-process Bayesian optimisation: `GP`.

Modules, in the order a proposal uses them: `encoding` (space -> unit-box
columns), `kernel` (Matern-5/2, warping), `model` (fit and posterior),
`acquisition` (LogEI, feasibility), `optim` (acquisition search), `sampler`.
"""

from hyperdial.samplers.gp.sampler import GP

__all__ = ["GP"]
