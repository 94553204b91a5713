"""Resume after pre-emption: a worker training on digits is sent SIGTERM in the middle of a trial, and the
retry continues from the last checkpoint instead of epoch 0 (docs/checkpoints.md shows a run).

    python examples/checkpoint_resume.py [--workdir DIR] [--epochs 10]

A worker process runs `study.optimize` with an SGDClassifier trained by `partial_fit`, one checkpoint
(`save_state`) per epoch. After its third checkpoint it gets SIGTERM, as a pre-empted cloud machine
does: the trial is recorded FAIL and its retry queued (max_retries=1). A second worker takes the retry
up; `load_state` gives it the weights and the step of the last checkpoint, and its learning curve
continues from there.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

import hyperdial as hd
from hyperdial.checkpoints import load_state, save_state


def objective(trial: hd.Trial, epochs: int) -> float:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier

    x, y = load_digits(return_X_y=True)
    x, classes = x / 16.0, np.unique(y)
    model = SGDClassifier(alpha=trial.suggest_float("alpha", 1e-5, 1e-3, log=True), random_state=0)
    start = 0
    loaded = load_state(trial)
    if loaded is not None:  # a retry: the weights and the step of the last checkpoint
        state, step = loaded
        model.partial_fit(x[:1], y[:1], classes=classes)
        model.coef_, model.intercept_, model.t_ = state["coef"], state["intercept"], state["t"]
        start = step + 1
        print(f"trial {trial.number}: resuming from trial {trial.resume_from}'s checkpoint at step {step}",
              flush=True)
    for epoch in range(start, epochs):
        model.partial_fit(x[:1200], y[:1200], classes=classes)
        trial.report(1 - model.score(x[1200:], y[1200:]), epoch)
        save_state(trial, {"coef": model.coef_, "intercept": model.intercept_, "t": model.t_})
        print(f"trial {trial.number}: trained epoch {epoch}", flush=True)
        time.sleep(0.3)  # a slower model
    return float(1 - model.score(x[1200:], y[1200:]))


def worker(url: str, epochs: int) -> None:
    study = hd.load_study(study_name="resume", storage=url, sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: objective(t, epochs), n_trials=1, show_progress_bar=False)


def main(argv: list[str] | None = None) -> hd.Study:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.epochs)
        return hd.load_study(study_name="resume", storage=args.worker)
    workdir = args.workdir or tempfile.mkdtemp()
    url = f"sqlite:///{workdir}/resume.db"
    study = hd.create_study(study_name="resume", storage=url, heartbeat_interval=1, max_retries=1,
                            keep_checkpoints=2, pruner=hd.pruners.Nop())
    cmd = [sys.executable, __file__, "--worker", url, "--epochs", str(args.epochs)]
    with subprocess.Popen(cmd) as first:
        while len(study.artifacts.checkpoints()) < 2 or study.artifacts.checkpoints()[-1].step < 2:
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)
        print(f"worker 1 pre-empted (SIGTERM), exit status {first.wait()}", flush=True)
    subprocess.run(cmd, check=True)
    lost, retry = study.trials
    print(f"\ntrial {lost.number}: {lost.state.name} ({lost.system_attrs['fail_reason']}), "
          f"checkpoints kept: {[c.step for c in study.artifacts.checkpoints(lost.number)]}")
    print(f"trial {retry.number}: {retry.state.name}, value {retry.value:.4f}, resume_from={retry.system_attrs['resume_from']}")
    print("\nstep  error   trained by")
    resumed_at = max(c.step for c in study.artifacts.checkpoints(lost.number))
    for step, value in sorted(retry.intermediate_values.items()):
        print(f"{step:>4}  {value:.4f}  trial {lost.number if step <= resumed_at else retry.number}")
    print(f"\nartifact store: {study.artifacts.location}")
    for c in study.artifacts.checkpoints():
        print(f"  trial {c.trial} step {c.step}: {c.path} ({c.size} bytes, sha256 {c.sha256[:12]}...)")
    return study


if __name__ == "__main__":
    main()
