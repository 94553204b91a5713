"""Benchmark problems for `samplers.py`: every one a define-by-run objective, minimised.

A problem is two halves so that the harness can time the sampler apart from the
objective: `suggest(trial) -> params` calls `trial.suggest_*` (the same code
drives a hyperdial and an Optuna trial) and `evaluate(params) -> float` computes
the value. Groups:

- `synthetic`: Branin, Hartmann-6, Ackley-10, Rosenbrock-10, Styblinski-Tang-8, with
  known optima (`f_opt`, `x_opt`). Ackley's box is shifted to [-15, 30]^10 so that its
  optimum (the origin) is not the centre of the box, where CMA-ES starts its mean.
- `bbob`: COCO's BBOB functions f1 (sphere), f8 (Rosenbrock), f15 (Rastrigin, rotated),
  f21 (Gallagher, 101 peaks) in 2, 5 and 10 dimensions, instance 1, box [-5, 5]^d
  (`pip install coco-experiment`). f_opt is the value at COCO's own optimum.
- `sklearn`: 4 model families (SVC/SVR with kernel-dependent parameters, a model
  choice among logistic regression, random forest and kNN, HistGradientBoosting with a
  conditional depth limit, an MLP with solver-dependent parameters) on the 5 data sets
  scikit-learn ships (iris, wine, breast cancer, 500 digits, diabetes), 1 - 3-fold CV
  accuracy (R^2 for diabetes), split into TUNING and REPORTING halves declared in
  `sklearn_problems.py`. Optimum unknown. (`svc_cancer` and `hgb_digits` are the two
  problems of the first version, unchanged.)
- `yahpo`: YAHPO Gym surrogates at full fidelity: rbv2_xgboost (conditional on the
  booster), rbv2_rpart and iaml_glmnet on OpenML tasks chosen by a rule and split into
  TUNING and REPORTING halves, both declared in `yahpo_problems.py`. Value 1 - accuracy
  (mmce for glmnet), clipped to [0, 1]. Runs in its own venv through `yahpo_server.py`.

Problems are built by name inside each worker process (`get_problem`); nothing
here is pickled.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sklearn_problems as sp
import yahpo_problems as yp

HERE = Path(__file__).resolve().parent
YAHPO_SERVER = HERE / "yahpo_server.py"
YAHPO_VENV = Path(os.environ.get("YAHPO_VENV", HERE / ".venv-yahpo"))
YAHPO_DATA = yp.DATA

Params = dict[str, Any]


@dataclass
class Problem:
    name: str
    group: str
    description: str
    suggest: Callable[[Any], Params]
    evaluate: Callable[[Params], float]
    max_budget: int = 200  # cheap problems run to 200 trials, the sklearn ones to 100
    n_ref: int = 1000  # random configurations whose median value is f_ref
    known_opt: Callable[[], tuple[float, Params]] | None = None  # (f_opt, x_opt), None if unknown
    unavailable: Callable[[], str | None] = field(default=lambda: None)  # why it cannot run here, or None


# -- synthetic functions -------------------------------------------------------------
def branin(x: np.ndarray) -> float:
    x1, x2 = float(x[0]), float(x[1])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(x: np.ndarray) -> float:
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (np.asarray(x) - _H6_P) ** 2, axis=1))))


def ackley(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(
        -20 * math.exp(-0.2 * math.sqrt(np.mean(x**2))) - math.exp(np.mean(np.cos(2 * math.pi * x))) + 20 + math.e
    )


def rosenbrock(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def styblinski_tang(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


_ST_X = -2.903534027771178  # argmin of 0.5 (x^4 - 16 x^2 + 5 x)
_ST_F = 0.5 * (_ST_X**4 - 16 * _ST_X**2 + 5 * _ST_X)

# name: (function, bounds per dimension, x_opt, f_opt)
SYNTHETIC: dict[str, tuple[Callable[[np.ndarray], float], list[tuple[float, float]], list[float], float]] = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], [math.pi, 2.275], 5 / (4 * math.pi)),
    "hartmann6": (
        hartmann6,
        [(0.0, 1.0)] * 6,
        [0.20168951265373836, 0.15001069271431358, 0.4768739727643224,
         0.2753324306183083, 0.31165161837139, 0.6573005286132314],
        -3.322368011415515,
    ),
    "ackley10": (ackley, [(-15.0, 30.0)] * 10, [0.0] * 10, 0.0),
    "rosenbrock10": (rosenbrock, [(-5.0, 10.0)] * 10, [1.0] * 10, 0.0),
    "styblinski_tang8": (styblinski_tang, [(-5.0, 5.0)] * 8, [_ST_X] * 8, 8 * _ST_F),
}


def _box_problem(
    name: str, group: str, description: str, fn: Callable[[np.ndarray], float], bounds: list[tuple[float, float]],
    known_opt: Callable[[], tuple[float, Params]], unavailable: Callable[[], str | None] = lambda: None,
) -> Problem:
    names = [f"x{i}" for i in range(len(bounds))]

    def suggest(trial: Any) -> Params:
        return {n: trial.suggest_float(n, lo, hi) for n, (lo, hi) in zip(names, bounds)}

    def evaluate(params: Params) -> float:
        return fn(np.array([params[n] for n in names], dtype=float))

    return Problem(name, group, description, suggest, evaluate, known_opt=known_opt, unavailable=unavailable)


def _synthetic(name: str) -> Problem:
    fn, bounds, x_opt, f_opt = SYNTHETIC[name]
    opt = (float(f_opt), {f"x{i}": float(v) for i, v in enumerate(x_opt)})
    d = len(bounds)
    box = (f"[{bounds[0][0]:g}, {bounds[0][1]:g}]^{d}" if len(set(bounds)) == 1
           else " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in bounds))
    desc = f"{name}: {d}-d, box {box}, f_opt {f_opt:.6g}"
    return _box_problem(name, "synthetic", desc, fn, bounds, lambda: opt)


# -- COCO BBOB -------------------------------------------------------------------------
BBOB_FUNCTIONS = {1: "sphere", 8: "Rosenbrock", 15: "Rastrigin (rotated)", 21: "Gallagher 101 peaks"}
BBOB_DIMS = (2, 5, 10)


def _cocoex_missing() -> str | None:
    try:
        import cocoex  # noqa: F401
    except ImportError:
        return "needs coco-experiment (pip install coco-experiment)"
    return None


@cache
def bbob_problem(fid: int, dim: int, instance: int = 1) -> Any:
    import cocoex

    cocoex.log_level("warning")
    suite = cocoex.Suite("bbob", "", f"dimensions:{dim} function_indices:{fid} instance_indices:{instance}")
    problem = suite.get_problem_by_function_dimension_instance(fid, dim, instance)
    _bbob_suites[(fid, dim, instance)] = suite  # keep the suite alive as long as the problem
    return problem


_bbob_suites: dict[tuple[int, int, int], Any] = {}


@cache
def bbob_optimum(fid: int, dim: int, instance: int = 1) -> tuple[float, list[float]]:
    """(f_opt, x_opt) of a BBOB problem.

    cocoex 2.8 exposes no f_opt (`final_target_fvalue1` is commented out of its
    interface), but `Problem._best_parameter("print")` writes x_opt to
    `._bbob_problem_best_parameter.txt` in the working directory; evaluate it there.
    A fresh temporary directory per call keeps parallel workers apart.
    """
    problem = bbob_problem(fid, dim, instance)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="hd-bbob-") as tmp:
        os.chdir(tmp)
        try:
            problem._best_parameter("print")
            x_opt = np.atleast_1d(np.loadtxt(os.path.join(tmp, "._bbob_problem_best_parameter.txt")))
        finally:
            os.chdir(cwd)
    return float(problem(x_opt)), [float(v) for v in x_opt]


def _bbob(fid: int, dim: int) -> Problem:
    def fn(x: np.ndarray) -> float:
        return float(bbob_problem(fid, dim)(x))

    def opt() -> tuple[float, Params]:
        f, x = bbob_optimum(fid, dim)
        return f, {f"x{i}": v for i, v in enumerate(x)}

    return _box_problem(
        f"bbob_f{fid:02d}_d{dim}", "bbob", f"BBOB f{fid} {BBOB_FUNCTIONS[fid]}, {dim}-d, instance 1, box [-5, 5]",
        fn, [(-5.0, 5.0)] * dim, opt, _cocoex_missing,
    )


# -- scikit-learn ----------------------------------------------------------------------
def _sklearn_missing() -> str | None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "needs scikit-learn"
    return None


# The first version's two problems, now part of the wider group (the same objectives, unchanged).
svc_suggest = sp.svc_suggest
svc_evaluate = sp.evaluate_for("svc_cancer")
hgb_suggest = sp.hgb_suggest
hgb_evaluate = sp.evaluate_for("hgb_digits")


def _sklearn(name: str) -> Problem:
    return Problem(name, "sklearn", sp.description(name), sp.suggest_for(name), sp.evaluate_for(name),
                   max_budget=100, n_ref=100, unavailable=_sklearn_missing)


# -- YAHPO Gym (separate venv, JSON lines over a pipe) ---------------------------------
# The scenarios, their spaces and the instance rule with its tuning/reporting split: yahpo_problems.py.


def yahpo_python() -> Path:
    return YAHPO_VENV / "bin" / "python"


def _yahpo_missing() -> str | None:
    if not yahpo_python().exists():
        return f"no YAHPO venv at {YAHPO_VENV} (run: bash benchmarks/setup_yahpo.sh)"
    absent = [sc.name for sc in yp.SCENARIOS.values() if not (YAHPO_DATA / sc.name).is_dir()]
    if absent:
        return f"no YAHPO surrogate data for {', '.join(absent)} at {YAHPO_DATA} (set YAHPO_DATA)"
    return None


class YahpoClient:
    """One `yahpo_server.py` subprocess, kept for the life of the worker process."""

    def __init__(self, python: Path | None = None, data: Path | None = None) -> None:
        python = python or yahpo_python()
        env = dict(os.environ)
        # A settings file of its own: yahpo_gym rewrites it at start-up, and two servers started side by
        # side on one shared file could read it half-written (the server then exits: seen with --jobs 2).
        self._config_dir = tempfile.mkdtemp(prefix="hd-yahpo-")
        env["YAHPO_LOCAL_CONFIG"] = os.path.join(self._config_dir, "yahpo_gym_config.yaml")
        env["OMP_NUM_THREADS"] = "1"
        self._proc = subprocess.Popen(  # an argument list: no shell, no string built from values
            [str(python), str(YAHPO_SERVER), "--data", str(data or YAHPO_DATA)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        if proc.stdin is None or proc.stdout is None or proc.poll() is not None:
            raise RuntimeError("the YAHPO server is not running")
        proc.stdin.write(json.dumps(req) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the YAHPO server exited (code {proc.poll()}); try: {yahpo_python()} {YAHPO_SERVER} --self-test"
            )
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(f"YAHPO server error: {reply.get('error')}")
        return reply

    def evaluate(self, scenario: str, instance: str, config: Params) -> dict[str, float]:
        result: dict[str, float] = self.request(
            {"op": "eval", "scenario": scenario, "instance": instance, "config": config}
        )["result"]
        return result

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.request({"op": "quit"})
            except (RuntimeError, OSError, ValueError):
                pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()
        shutil.rmtree(self._config_dir, ignore_errors=True)


_client: YahpoClient | None = None


def yahpo_client() -> YahpoClient:
    global _client
    if _client is None:
        _client = YahpoClient()
        atexit.register(_client.close)
    return _client


xgboost_suggest = yp.xgboost_suggest  # the first version's name for it


def _yahpo(name: str) -> Problem:
    scenario, instance = yp.parts(name)

    def evaluate(params: Params) -> float:
        result = yahpo_client().evaluate(scenario.name, instance, yp.config_for(scenario, instance, params))
        return yp.value_of(scenario, result, yp.target_range(scenario, instance))

    what = f"1 - {scenario.target}" if scenario.maximise else scenario.target
    return Problem(
        name, "yahpo", f"YAHPO {scenario.name} ({scenario.describe}), OpenML task {instance}, {what}, full fidelity",
        scenario.suggest, evaluate, n_ref=1000, unavailable=_yahpo_missing,
    )


# -- registry --------------------------------------------------------------------------
def _build() -> dict[str, Callable[[], Problem]]:
    from functools import partial

    reg: dict[str, Callable[[], Problem]] = {name: partial(_synthetic, name) for name in SYNTHETIC}
    for fid in BBOB_FUNCTIONS:
        for dim in BBOB_DIMS:
            reg[f"bbob_f{fid:02d}_d{dim}"] = partial(_bbob, fid, dim)
    for name in sp.problem_names():  # the real-ML group, with its tuning/reporting split (sklearn_problems.py)
        reg[name] = partial(_sklearn, name)
    for name in yp.SPLITS["yahpo-tuning"] + yp.SPLITS["yahpo-reporting"]:  # with their split (yahpo_problems.py)
        reg[name] = partial(_yahpo, name)
    return reg


PROBLEMS = _build()
GROUPS = ("synthetic", "bbob", "sklearn", "yahpo")
# split name -> problems: scikit-learn's (tuning, reporting) and YAHPO's (yahpo-tuning, yahpo-reporting)
SPLITS: dict[str, list[str]] = {**{k: list(v) for k, v in sp.SPLITS.items()}, **yp.SPLITS}


def split_labels() -> dict[str, str]:
    """problem -> 'tuning' or 'reporting' (the report shows "<group>, <label> split", never pooling the two)."""
    return {p: split.removeprefix("yahpo-") for split, names in SPLITS.items() for p in names}


@cache
def get_problem(name: str) -> Problem:
    if name not in PROBLEMS:
        raise KeyError(f"unknown problem {name!r}; known: {', '.join(PROBLEMS)}")
    return PROBLEMS[name]()


def select_problems(spec: str) -> list[str]:
    """Comma-separated problem names, group names, split names (tuning, reporting) or 'all' -> problem names."""
    wanted: list[str] = []
    for tok in [t.strip() for t in spec.split(",") if t.strip()]:
        if tok == "all":
            wanted.extend(PROBLEMS)
        elif tok in SPLITS:
            wanted.extend(SPLITS[tok])
        elif tok in GROUPS:
            wanted.extend(n for n in PROBLEMS if get_problem(n).group == tok)
        elif tok in PROBLEMS:
            wanted.append(tok)
        else:
            sys.exit(f"unknown problem or group {tok!r}; groups: {', '.join(GROUPS)}; splits: {', '.join(SPLITS)}; "
                     f"problems: {', '.join(PROBLEMS)}")
    return list(dict.fromkeys(wanted))
