"""The sweep agent: ask the study for a trial, run the program, record what happened; repeat.

It uses only the study's public ask/tell interface (`study.ask`, `trial.suggest`,
`trial.report`, `trial.should_prune`, `study.tell`), so agents in other processes or on
other machines share the study through its storage. Each trial records, as user
attributes, the configuration the program got (`config`), its command line (`argv`) and
the path of its log (`log`).

How a trial ends:
- every metric's last reported value is a finite number and the program exited with 0: COMPLETE;
- the pruner said stop: SIGTERM, SIGKILL after a grace period, PRUNED;
- a non-zero exit (FAIL, with the tail of stderr), a timeout, a metric never reported or
  not a finite number (FAIL, with the value shown), the agent interrupted (FAIL).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hyperdial as hd
from hyperdial.exceptions import TrialFinishedError, invalid
from hyperdial.sweeps.child import REPORT_FILE
from hyperdial.sweeps.command import env_name, env_text, expand
from hyperdial.sweeps.runner import ChildResult, run_child
from hyperdial.sweeps.spec import SweepSpec

_logger = logging.getLogger("hyperdial")

SWEEP_ATTR = "sweep"  # study user attr: {"file": text, "source": path, "format": "wandb" | "native"}
LOG_ATTR = "log"  # trial user attr: the path of the trial's log file
DEFAULT_LOG_DIR = "hyperdial-logs"
WANDB_COMPAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wandb_compat")
WANDB_REAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wandb_real")
WANDB_MODES = ("stand-in", "real")  # $HYPERDIAL_WANDB: which `wandb` a W&B-format sweep's programs import
DEFAULT_GRACE = 10.0


@dataclass
class Budget:
    """What several agents of one process share: the count of trials they may still start."""

    count: int | None = None
    started: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> bool:
        with self.lock:
            if self.count is not None and self.started >= self.count:
                return False
            self.started += 1
            return True


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "study"


def _nest(values: dict[str, Any], parameters: list[Any]) -> dict[str, Any]:
    """The configuration as the program sees it: nested W&B parameters as nested dicts."""
    config: dict[str, Any] = {}
    for p in parameters:
        if p.name not in values:
            continue
        node = config
        for key in p.path[:-1]:
            node = node.setdefault(key, {})
        node[p.path[-1]] = values[p.name]
    return config


def sample_config(trial: Any, spec: SweepSpec) -> dict[str, Any]:
    """The parameters of one trial, by name: sampled (conditional ones only when active) or constant."""
    values: dict[str, Any] = {}
    for p in spec.parameters:
        if any(values.get(other, object()) not in allowed for other, allowed in p.when):
            continue
        values[p.name] = p.value if p.dist is None else p.program_value(trial.suggest(p.name, p.dist))
    return values


def wandb_mode(env: dict[str, str]) -> str:
    """`$HYPERDIAL_WANDB`: `stand-in` (the default: hyperdial's offline stand-in for `wandb`) or `real`."""
    mode = env.get("HYPERDIAL_WANDB") or "stand-in"
    if mode not in WANDB_MODES:
        raise invalid("HYPERDIAL_WANDB", "must be 'stand-in' (the default) or 'real' (the installed wandb "
                      "package, offline)", mode)
    return mode


def wandb_env(env: dict[str, str], config: dict[str, Any], params_path: str, log_dir: str) -> dict[str, str]:
    """What a W&B-format trial's environment gets so `import wandb` works offline and reports to the agent.

    stand-in: hyperdial's stand-in first on PYTHONPATH. real: a small hook first on PYTHONPATH
    (it imports the installed package and reports what runs log), the trial's parameters in the
    file W&B's own agent writes (`WANDB_SWEEP_PARAM_PATH`, `{name: {value: v}}`; JSON is YAML),
    `WANDB_MODE=offline` and `WANDB_DIR` the logs folder unless the environment sets them."""
    out: dict[str, str] = {}
    if wandb_mode(env) == "real":
        with open(params_path, "w", encoding="utf-8") as f:
            json.dump({"wandb_version": 1, **{k: {"value": v} for k, v in config.items()}}, f)
        out["WANDB_SWEEP_PARAM_PATH"] = params_path
        out["WANDB_MODE"] = env.get("WANDB_MODE") or "offline"
        out["WANDB_DIR"] = env.get("WANDB_DIR") or log_dir
        hook = WANDB_REAL
    else:
        hook = WANDB_COMPAT
    out["PYTHONPATH"] = os.pathsep.join(p for p in (hook, env.get("PYTHONPATH")) if p)
    return out


def imputed_value(result: ChildResult, spec: SweepSpec, study: hd.Study) -> float | None:
    """W&B's `metric.impute` for a failed run (single metric): `worst` the worst value of the study's
    complete trials, `latest` / `best` the last / best value the run reported; None: nothing to impute."""
    if len(spec.metrics) != 1 or spec.metrics[0].impute is None:
        return None
    m = spec.metrics[0]
    if m.impute == "worst":
        seen = [t.values[0] for t in study.trials if t.state == hd.TrialState.COMPLETE and t.values]
    else:
        seen = [float(r[m.name]) for r in result.reports if _is_finite_number(r.get(m.name))]
    if not seen:
        return None
    if m.impute == "latest":
        return seen[-1]
    worst = m.impute == "worst"
    return max(seen) if (m.goal == "minimize") == worst else min(seen)


def _is_finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def decide(result: ChildResult, spec: SweepSpec, timeout: float | None) -> tuple[hd.TrialState, list[float] | None,
                                                                                   str | None]:
    """The trial's state, values and fail reason from how its child ended."""
    if result.stopped == "pruned":
        return hd.TrialState.PRUNED, None, None
    if result.stopped == "timeout":
        return hd.TrialState.FAIL, None, f"timed out after {timeout:g} s (trial_timeout)"
    if result.stopped == "interrupted":
        return hd.TrialState.FAIL, None, "interrupted: the agent was stopped (Ctrl-C or SIGTERM)"
    if result.returncode != 0:
        how = (f"killed by signal {-result.returncode}" if result.returncode < 0
               else f"exited with code {result.returncode}")
        tail = "\n".join(result.stderr_tail[-10:])
        return hd.TrialState.FAIL, None, f"the program {how}" + (f"; stderr tail:\n{tail}" if tail else "")
    values = []
    for m in spec.metrics:
        seen = [r[m.name] for r in result.reports if m.name in r]
        if not seen:
            reported = sorted({k for r in result.reports for k in r if k != "step"})
            also = f" (it reported {', '.join(reported)})" if reported else " (it reported nothing)"
            return hd.TrialState.FAIL, None, (f"the program never reported the metric {m.name!r}{also}; print "
                                              f"'hyperdial: {{\"{m.name}\": ...}}' or call hyperdial.report()")
        last = seen[-1]
        if not _is_finite_number(last):
            return hd.TrialState.FAIL, None, f"the metric {m.name!r} is not a finite number: {last!r}"
        values.append(float(last))
    return hd.TrialState.COMPLETE, values, None


class Agent:
    """Runs trials of `study` as described by `spec` until a budget ends or `stop` is set.

    >>> # Agent(study, spec).run() -- see hyperdial.cli.sweep and docs/sweeps.md
    """

    def __init__(self, study: hd.Study, spec: SweepSpec, *, budget: Budget | None = None,
                 stop: threading.Event | None = None, log_dir: str = DEFAULT_LOG_DIR,
                 grace: float = DEFAULT_GRACE, started_at: float | None = None,
                 on_finish: Callable[[hd.FrozenTrial], None] | None = None, devices: str | None = None,
                 cwd: str | None = None) -> None:
        self.study = study
        self.spec = spec
        self.budget = budget or Budget()
        self.stop = stop or threading.Event()
        self.log_dir = os.path.abspath(os.path.join(log_dir, _safe(study.study_name)))
        self.grace = grace
        self.started_at = time.monotonic() if started_at is None else started_at
        self.on_finish = on_finish
        self.devices = devices  # CUDA_VISIBLE_DEVICES of every program this agent runs (gpus_per_trial)
        self.cwd = cwd  # where programs run (None: this process's working directory)
        if spec.format == "wandb":
            wandb_mode(dict(os.environ))  # a bad $HYPERDIAL_WANDB stops the agent before any trial

    def _done(self) -> str | None:
        """Why no new trial should start, or None."""
        spec, study = self.spec, self.study
        if self.stop.is_set():
            return "stopped"
        if spec.timeout is not None and time.monotonic() - self.started_at > spec.timeout:
            return "budget timeout reached"
        if spec.trials is not None or any(m.target is not None for m in spec.metrics):
            trials = study.trials
            if spec.trials is not None and sum(t.state != hd.TrialState.WAITING for t in trials) >= spec.trials:
                return f"budget of {spec.trials} trials reached"
            m = spec.metrics[0]
            if m.target is not None:
                for t in trials:
                    if t.state == hd.TrialState.COMPLETE and t.values is not None and (
                            t.values[0] <= m.target if m.goal == "minimize" else t.values[0] >= m.target):
                        self.stop.set()
                        return f"metric target {m.target:g} reached by trial {t.number}"
        exhausted = getattr(study.sampler, "is_exhausted", None)
        if exhausted is not None and exhausted(study.history()):
            return "grid exhausted"
        return None

    def run(self) -> str:
        """Run trials until a budget ends; returns why it stopped."""
        os.makedirs(self.log_dir, exist_ok=True)
        while True:
            why = self._done()
            if why is not None:
                return why
            if not self.budget.claim():
                return "--count reached"
            self.run_one()

    def run_one(self) -> hd.FrozenTrial:
        study, spec = self.study, self.spec
        trial = study.ask()
        if spec.trials is not None and self._past_cap(trial):
            return study.tell(trial, state=hd.TrialState.FAIL, fail_reason=(
                f"not run: other agents started the budget's {spec.trials} trials at the same time"))
        try:
            values = sample_config(trial, spec)
            config = _nest(values, spec.parameters)
            base = os.path.join(self.log_dir, f"trial-{trial.number}")
            log_path, report_path, json_path = base + ".log", base + ".reports.jsonl", base + ".args.json"
            for path in (log_path, report_path):
                if os.path.exists(path):  # a study deleted and made again under the same name
                    os.remove(path)
            argv = expand(spec.command, config, program=spec.program, json_file=json_path)
            if "${args_json_file}" in spec.command:
                with open(json_path, "w", encoding="utf-8") as f:
                    json.dump(config, f)
            env = dict(os.environ)
            env.update({env_name(name): env_text(v) for name, v in values.items()})
            env.update({"HYPERDIAL_TRIAL": str(trial.number), "HYPERDIAL_STUDY": study.study_name,
                        "HYPERDIAL_CONFIG": json.dumps(config), REPORT_FILE: report_path})
            if spec.format == "wandb":  # `import wandb`: the stand-in, or the real package offline
                env.update(wandb_env(env, config, base + ".wandb-params.yaml", self.log_dir))
            if self.devices is not None:
                env["CUDA_VISIBLE_DEVICES"] = self.devices
                trial.set_user_attr("gpus", self.devices)
            trial.set_user_attr(LOG_ATTR, log_path)
            trial.set_user_attr("config", config)
            trial.set_user_attr("argv", argv)
            with open(log_path, "w", encoding="utf-8") as log:
                log.write(f"[hyperdial] trial {trial.number} of {study.study_name!r}: {argv!r}\n")
            taken: list[bool] = []
            result = run_child(argv, env=env, log_path=log_path, report_path=report_path,
                               on_report=self._pruning(trial, taken), timeout=spec.trial_timeout, grace=self.grace,
                               stop=self.stop, cwd=self.cwd)
        except BaseException as exc:
            with contextlib.suppress(TrialFinishedError):
                study.tell(trial, state=hd.TrialState.FAIL,
                           fail_reason=f"the agent failed: {type(exc).__name__}: {exc}")
            raise
        state, vals, reason = decide(result, spec, spec.trial_timeout)
        if taken:  # the program was stopped: its trial was finished elsewhere (reaped, or told by hand)
            state, vals, reason = hd.TrialState.FAIL, None, "finished elsewhere while its program ran"
        elif state == hd.TrialState.FAIL and result.stopped != "interrupted":
            value = imputed_value(result, spec, study)
            if value is not None:  # W&B's metric.impute: the sampler learns from the failure
                trial.set_user_attr("imputed", spec.metrics[0].impute)
                trial.set_user_attr("failed", reason)
                state, vals, reason = hd.TrialState.COMPLETE, [value], f"imputed ({reason})"
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"[hyperdial] trial {trial.number}: {state.name}" + (f" ({reason})" if reason else "") + "\n")
        try:
            if state == hd.TrialState.COMPLETE:
                frozen = study.tell(trial, vals)
            else:
                frozen = study.tell(trial, state=state, fail_reason=reason if state == hd.TrialState.FAIL else None)
        except TrialFinishedError:  # reaped or told elsewhere meanwhile: the stored outcome stands
            frozen = next(t for t in study.trials if t.number == trial.number)
            _logger.warning("Trial %d was finished elsewhere (%s) while its program ran; its result %s is dropped",
                            trial.number, frozen.state.name, state.name)
        if self.on_finish is not None:
            self.on_finish(frozen)
        return frozen

    def _past_cap(self, trial: hd.Trial) -> bool:
        """Whether `trial` is past the trial budget: more trials than the budget were asked with numbers up
        to its own. Numbers are handed out atomically by the storage, so of agents that checked the budget
        at the same moment, exactly those past it give their trial up (never run)."""
        taken = sum(1 for t in self.study.trials if t.number <= trial.number and t.state != hd.TrialState.WAITING)
        return self.spec.trials is not None and taken > self.spec.trials

    def _pruning(self, trial: hd.Trial, taken: list[bool]) -> Callable[[dict[str, Any]], bool]:
        """Feed reports to the pruner: steps from the report, else the count of reports (1, 2, ...).
        A trial finished elsewhere meanwhile stops its program too (`taken` says so)."""
        names = [m.name for m in self.spec.metrics]
        state: dict[str, int | None] = {"last": None}

        def on_report(item: dict[str, Any]) -> bool:
            if not all(n in item for n in names):
                return False
            vals = [item[n] for n in names]
            if not all(_is_finite_number(v) for v in vals):
                return False
            step = item.get("step")
            last = state["last"]
            if not (isinstance(step, int) and not isinstance(step, bool) and step >= 0):
                step = 1 if last is None else last + 1
            if last is not None and step <= last:
                return False  # steps must grow; a repeated step is not fed to the pruner again
            state["last"] = step
            try:
                trial.report(vals[0] if len(vals) == 1 else vals, step=step)
            except TrialFinishedError:
                taken.append(True)
                return True
            return bool(len(vals) == 1 and trial.should_prune())

        return on_report
