"""PyTorch Lightning: a callback that reports a validation metric to a trial and stops pruned runs
(`pip install 'hyperdial[lightning]'`; Lightning 2.x, imported as `lightning.pytorch`, or as
`pytorch_lightning` where only that package is installed).

    def objective(trial):
        pruning = PruningCallback(trial, monitor="val_loss")
        trainer = lightning.pytorch.Trainer(max_epochs=20, callbacks=[pruning])
        trainer.fit(MyModule(lr=trial.suggest_float("lr", 1e-4, 1e-1, log=True)), datamodule)
        pruning.raise_if_pruned()                        # hd.TrialPruned if the pruner stopped it
        return trainer.callback_metrics["val_loss"].item()
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.exceptions import TrialPruned, invalid

__all__ = ["PruningCallback"]

_log = logging.getLogger("hyperdial.integrations.lightning")


def _lightning() -> ModuleType:
    try:
        import lightning.pytorch

        return lightning.pytorch
    except ImportError:
        # the standalone package of Lightning 2.x, where the unified `lightning` one is absent
        return optional_import("pytorch_lightning", extra="lightning", purpose="hyperdial.integrations.lightning")


pl = _lightning()

STEP_UNITS = ("epoch", "global_step")


class PruningCallback(pl.Callback):  # type: ignore[name-defined]
    """Report `monitor` at the end of every validation run; when the pruner says so, stop training.

    `step`: "epoch" (the default: epochs trained so far, `current_epoch + 1`, so the first report is at
    step 1 as ASHA's rungs expect; Optuna's callback reports `current_epoch`) or "global_step" (optimizer
    steps, for `val_check_interval` shorter than an epoch). The sanity check's validation is not
    reported. A pruned run sets `trainer.should_stop`, so Lightning ends `fit` cleanly (loggers and
    checkpoints close); call `raise_if_pruned()` after `fit` to record the trial PRUNED. A monitored
    metric that was not logged is an error naming the metrics there are.
    """

    def __init__(self, trial: Any, monitor: str = "val_loss", *, step: str = "epoch") -> None:
        super().__init__()
        rules.check("trial", trial, rules.HasMethod("report"))
        rules.check("trial", trial, rules.HasMethod("should_prune"))
        rules.check("monitor", monitor, rules.InstanceOf(str, what="a metric name"))
        rules.check("step", step, rules.OneOf(*STEP_UNITS))
        self.trial = trial
        self.monitor = monitor
        self.step = step
        self.pruned = False
        self.reports: list[tuple[int, float]] = []

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking or self.pruned:
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise invalid("monitor", f"must be a metric logged in validation {sorted(metrics)}", self.monitor)
        value = float(metrics[self.monitor])
        step = int(trainer.current_epoch) + 1 if self.step == "epoch" else int(trainer.global_step)
        self.trial.report(value, step)
        self.reports.append((step, value))
        if self.trial.should_prune():
            _log.info("trial %s pruned at %s %d", getattr(self.trial, "number", "?"), self.step, step)
            self.pruned = True
            trainer.should_stop = True

    def raise_if_pruned(self) -> None:
        """Raise `hd.TrialPruned` if the pruner stopped this run (call it after `trainer.fit`)."""
        if self.pruned:
            raise TrialPruned(f"pruned at {self.step} {self.reports[-1][0]}")
