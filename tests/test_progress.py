"""With the progress bar on, the terminal shows one bar, the Auto sampler's choice once, and a
summary; not one INFO line per trial torn into the bar. Real processes, default logging."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import random
    import hyperdial as hd

    random.seed(0)

    def objective(trial):  # the README's example, with a stand-in for training
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        if trial.suggest_categorical("optimizer", ["adam", "sgd"]) == "sgd":
            trial.suggest_float("momentum", 0.0, 0.99)
        for epoch in range(10):
            loss = (lr - 0.01) ** 2 + layers * 0.01 + random.random() * 0.01
            trial.report(loss, step=epoch)
            if trial.should_prune():
                raise hd.TrialPruned()
        return loss

    study = hd.create_study(seed=0)  # Auto and the default pruner: trials get pruned
    study.optimize(objective, n_trials=30, show_progress_bar=True)
    """
)
ROOT_LOGGING = "import logging; logging.basicConfig(level=logging.INFO, format='[hyperdial %(levelname)s] %(message)s')\n"


@pytest.mark.parametrize("setup", ["", ROOT_LOGGING], ids=["default-handler", "root-logging"])
def test_progress_bar_is_not_torn_by_log_lines(setup: str) -> None:
    res = subprocess.run([sys.executable, "-c", setup + SCRIPT], capture_output=True, text=False, timeout=240,
                         check=False)
    err = res.stderr.decode()
    assert res.returncode == 0, err[-3000:]
    records = [m.start() for m in re.finditer(r"\[hyperdial (?:INFO|WARNING|DEBUG)", err)]
    messages = [err[i:].split("\n", 1)[0] for i in records]
    assert not [m for m in messages if re.search(r"Trial \d+ (complete|pruned)", m)], messages  # the bar stands for them
    assert sum("Auto sampler:" in m for m in messages) == 1, messages
    assert sum(re.search(r"30 trials finished in [\d.]+ s \(\d+ COMPLETE", m) is not None for m in messages) == 1
    # Every record starts a line of its own (tqdm.write clears the bar first), none glued to the bar.
    assert all(i == 0 or err[i - 1] in "\r\n" for i in records), err
    assert err.count("\n") <= len(messages) + 2  # the records, the finished bar, nothing per trial


def test_models_are_imported_before_the_first_trial_not_inside_it() -> None:
    """The first GP trial used to pay 0.5-1 s for importing scipy.stats inside its duration;
    `optimize` now warms the default sampler up before trial 0 (fresh interpreter: nothing cached)."""
    code = textwrap.dedent("""
        import logging, sys
        import hyperdial as hd
        hd.set_verbosity(logging.WARNING)
        seen = []
        def objective(trial):
            seen.append("scipy.stats" in sys.modules)
            return trial.suggest_float("x", 0, 1)
        hd.create_study(seed=0).optimize(objective, n_trials=2, show_progress_bar=False)
        print(seen)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[True, True]"
