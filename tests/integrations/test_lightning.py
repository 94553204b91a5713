"""hyperdial.integrations.lightning.PruningCallback against a real Lightning Trainer and a tiny model."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import hyperdial as hd
from hyperdial.integrations.lightning import PruningCallback, pl

# Lightning's advice about DataLoader workers on a 2-core machine, and its use of a torch 2.13 deprecation
# (LeafSpec), are not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:.*does not have many workers.*", "ignore:.*LeafSpec.*:FutureWarning")


class Regression(pl.LightningModule):  # type: ignore[misc,name-defined]
    """y = 3x - 1 plus noise, fitted by a linear layer; logs `val_loss` every validation."""

    def __init__(self, lr: float) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.lr = lr
        self.val_losses: list[float] = []

    def _loss(self, batch: Any) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._loss(batch)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss = self._loss(batch)
        self.log("val_loss", loss)
        if not self.trainer.sanity_checking:
            self.val_losses.append(float(loss))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def loaders() -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, generator=g)
    y = 3 * x - 1 + 0.01 * torch.randn(64, 1, generator=g)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:48], y[:48]), batch_size=16)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[48:], y[48:]), batch_size=16)
    return train, val


def fit(trial: Any, callback: PruningCallback, lr: float = 0.5, max_epochs: int = 5) -> tuple[Any, Regression]:
    torch.manual_seed(0)
    module = Regression(lr)
    trainer = pl.Trainer(max_epochs=max_epochs, callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
    train, val = loaders()
    trainer.fit(module, train, val)
    return trainer, module


def test_reports_every_validation() -> None:
    study = hd.create_study(pruner=hd.pruners.Nop())
    seen: list[list[float]] = []

    def objective(trial: hd.Trial) -> float:
        callback = PruningCallback(trial, monitor="val_loss")
        trainer, module = fit(trial, callback, lr=trial.suggest_float("lr", 0.1, 0.5))
        callback.raise_if_pruned()
        seen.append(module.val_losses)
        return float(trainer.callback_metrics["val_loss"])

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    t = study.trials[0]
    assert t.state == hd.TrialState.COMPLETE
    assert sorted(t.intermediate_values) == [1, 2, 3, 4, 5]  # one per epoch, the sanity check left out
    assert [t.intermediate_values[s] for s in range(1, 6)] == pytest.approx(seen[0])
    assert seen[0][-1] < seen[0][0]  # it learned


def test_global_step_and_a_pruned_run_stops() -> None:
    study = hd.create_study(pruner=hd.pruners.Threshold(upper=0.0, n_warmup_steps=4))  # prune from step 4 on
    trainers: list[Any] = []

    def objective(trial: hd.Trial) -> float:
        callback = PruningCallback(trial, monitor="val_loss", step="global_step")
        trainer, _ = fit(trial, callback, max_epochs=10)
        trainers.append(trainer)
        assert callback.pruned
        callback.raise_if_pruned()
        return 0.0

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    t = study.trials[0]
    assert t.state == hd.TrialState.PRUNED
    assert sorted(t.intermediate_values) == [3, 6]  # 48 examples / 16: 3 steps an epoch; pruned at step 6
    assert trainers[0].current_epoch == 2  # stopped after the second of ten epochs (max_epochs=10)


def test_bad_input() -> None:
    with pytest.raises(hd.InvalidParameterError, match=r"`trial` must be an object with a `report` method"):
        PruningCallback("trial")
    with pytest.raises(hd.InvalidParameterError, match=r"`step` must be 'epoch' or 'global_step', got step='batch'"):
        PruningCallback(hd.FixedTrial({}), step="batch")
    with pytest.raises(hd.InvalidParameterError, match=r"`monitor` must be a metric name, got monitor=3"):
        PruningCallback(hd.FixedTrial({}), monitor=3)  # type: ignore[arg-type]
    study = hd.create_study()

    def objective(trial: hd.Trial) -> float:
        fit(trial, PruningCallback(trial, monitor="val_acc"), max_epochs=1)
        return 0.0

    study.optimize(objective, n_trials=1, catch=hd.InvalidParameterError, show_progress_bar=False)
    reason = study.trials[0].system_attrs["fail_reason"]
    assert "`monitor` must be a metric logged in validation ['val_loss'], got monitor='val_acc'" in reason
