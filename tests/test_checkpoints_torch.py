"""A PyTorch state dict as a checkpoint: a tiny MLP on digits whose retried trial continues its training
exactly where the failed one stopped (the same curve as an uninterrupted run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import hyperdial as hd
from hyperdial.checkpoints import load_state, save_state

EPOCHS = 6


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)


def _model(lr: float) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def _epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    for i in range(0, 1200, 100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        opt.step()
    with torch.no_grad():
        return float((model(x[1200:]).argmax(1) != y[1200:]).float().mean())


def test_torch_state_dict_round_trip(tmp_path: Path) -> None:
    study = hd.create_study(artifacts=tmp_path / "store")
    trial = study.ask()
    model, opt = _model(0.01)
    save_state(trial, {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, step=3)
    assert [p.name for p in (tmp_path / "store").glob("*/trial-0/checkpoint-3-*/*")] == ["state.pt"]
    loaded = load_state(trial)
    assert loaded is not None
    state, step = loaded
    assert step == 3 and state["epoch"] == 3
    for name, tensor in model.state_dict().items():
        assert torch.equal(state["model"][name], tensor)


def test_a_retried_torch_trial_continues_its_curve(tmp_path: Path) -> None:
    x, y = _data()
    started: list[int] = []

    def objective(trial: hd.Trial) -> float:
        model, opt = _model(trial.suggest_float("lr", 1e-3, 1e-2, log=True))
        start = 0
        loaded = load_state(trial)
        if loaded is not None:
            state, step = loaded
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start = step + 1
        started.append(start)
        error = 1.0
        for epoch in range(start, EPOCHS):
            error = _epoch(model, opt, x, y)
            trial.report(error, epoch)
            save_state(trial, {"model": model.state_dict(), "optimizer": opt.state_dict()})
            if epoch == 2 and trial.resume_from is None:
                raise KeyboardInterrupt  # interrupted: recorded FAIL and queued again
        return error

    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db", heartbeat_interval=1, max_retries=1,
                            pruner=hd.pruners.Nop(), seed=0)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=1, show_progress_bar=False)
    study.optimize(objective, n_trials=1, show_progress_bar=False)
    lost, retry = study.trials
    assert lost.state == hd.TrialState.FAIL and started == [0, 3]
    model, opt = _model(retry.params["lr"])
    reference = [_epoch(model, opt, x, y) for _ in range(EPOCHS)]
    assert [retry.intermediate_values[s] for s in range(EPOCHS)] == pytest.approx(reference, abs=1e-6)
    assert retry.value is not None and retry.value < 0.2
