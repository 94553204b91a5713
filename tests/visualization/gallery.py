"""The gallery of docs/visualization.md: one PNG per plot kind from real studies.

    PYTHONPATH=src python tests/visualization/gallery.py            # writes docs/img/plot-*.png

Linear classifiers (scikit-learn's SGDClassifier) tuned on the bundled digits data set, trained
epoch by epoch with the validation accuracy reported after each epoch, so the median pruner stops
poor trials early. The space is conditional (`eta0` only with the adaptive learning rate,
`l1_ratio` only with the elastic-net penalty), with log-scaled and categorical parameters. Two
trials run at a time (threads), which the timeline shows as two lanes. The Pareto study trades
the validation error against the share of non-zero weights; the comparison pits TPE against
random search. tests/test_visualization_gallery.py runs this with fewer trials.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import hyperdial as hd
from hyperdial.visualization import KINDS, plot

ROOT = Path(__file__).resolve().parents[2]


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    return x_train, x_val, y_train, y_val


def _classifier(trial: hd.Trial, *, penalty: str | None = None) -> Any:
    from sklearn.linear_model import SGDClassifier

    alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    loss = trial.suggest_categorical("loss", ["hinge", "log_loss", "modified_huber"])
    penalty = penalty or trial.suggest_categorical("penalty", ["l2", "l1", "elasticnet"])
    schedule = trial.suggest_categorical("learning_rate", ["optimal", "adaptive"])
    extra: dict[str, Any] = {}
    if penalty == "elasticnet":
        extra["l1_ratio"] = trial.suggest_float("l1_ratio", 0.0, 1.0)
    if schedule == "adaptive":
        extra["eta0"] = trial.suggest_float("eta0", 1e-4, 1.0, log=True)
    return SGDClassifier(alpha=alpha, loss=loss, penalty=penalty, learning_rate=schedule, random_state=0, **extra)


def _fit(trial: hd.Trial, clf: Any, data: tuple[np.ndarray, ...], epochs: int, prune: bool) -> float:
    x_train, x_val, y_train, y_val = data
    accuracy = 0.0
    for epoch in range(epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hinge loss with tiny alpha overflows on some trials: a poor trial
            clf.partial_fit(x_train, y_train, classes=np.arange(10))
        accuracy = float(clf.score(x_val, y_val))
        if prune:
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise hd.TrialPruned()
    return accuracy


def studies(n_trials: int = 60, epochs: int = 10) -> dict[str, hd.Study]:
    """The studies behind the gallery (in memory)."""
    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    data = _data()

    def accuracy(trial: hd.Trial) -> float:
        return _fit(trial, _classifier(trial), data, epochs, prune=True)

    def error_and_density(trial: hd.Trial) -> tuple[float, float]:
        clf = _classifier(trial, penalty="elasticnet")
        error = 1.0 - _fit(trial, clf, data, epochs, prune=False)
        return error, float(np.mean(np.abs(clf.coef_) > 1e-6))

    tpe = hd.create_study(study_name="sgd-digits", direction="maximize", sampler=hd.samplers.TPE(seed=0),
                          pruner=hd.pruners.Median(n_startup_trials=5, n_warmup_steps=2))
    tpe.optimize(accuracy, n_trials=n_trials, n_jobs=2, show_progress_bar=False)
    rnd = hd.create_study(study_name="sgd-digits-random", direction="maximize", sampler=hd.samplers.Random(seed=0),
                          pruner=hd.pruners.Median(n_startup_trials=5, n_warmup_steps=2))
    rnd.optimize(accuracy, n_trials=n_trials, show_progress_bar=False)
    mo = hd.create_study(study_name="sgd-digits-sparse", directions=["minimize", "minimize"],
                         sampler=hd.samplers.NSGA2(seed=0))
    mo.optimize(error_and_density, n_trials=n_trials, show_progress_bar=False)
    return {"tpe": tpe, "random": rnd, "pareto": mo}


def build(out_dir: Path, *, n_trials: int = 60, epochs: int = 10, dpi: int = 110) -> list[Path]:
    """Write plot-KIND.png for every kind into `out_dir`; returns the paths."""
    s = studies(n_trials, epochs)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in KINDS:
        study = s["pareto"] if kind == "pareto" else s["tpe"]
        options: dict[str, Any] = {"other": s["random"]} if kind == "compare" else {}
        if kind == "pareto":
            options["objective_names"] = ["validation error", "share of non-zero weights"]
        if kind in ("contour", "parallel_coordinate"):
            options["params"] = ["alpha", "loss", "penalty", "eta0"] if kind == "parallel_coordinate" \
                else ["alpha", "loss", "eta0"]
        fig = plot(kind, study, backend="matplotlib", **options)
        path = out_dir / f"plot-{kind.replace('_', '-')}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build(ROOT / "docs" / "img"):
        print(p.relative_to(ROOT), file=sys.stdout)
