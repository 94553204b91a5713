"""Staged vs joint tuning on the LoRA task of examples/lora_finetune.py (tiny form, CPU).

The same script, the same seeds, `--staged` or not (TPE underneath both, ASHA pruning, the preset's defaults
first), at equal trial budgets. Score: the best eval loss of a COMPLETE trial at the end. No setting was chosen
from these runs, so every seed is a reporting seed. Prints mean +- standard error and the paired difference.

    OMP_NUM_THREADS=1 python benchmarks/staged_lora.py --seeds 4 --n-trials 12
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lora_finetune.py"


def load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lora_finetune_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _se(xs: list[float]) -> float:
    return statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--n-trials", type=int, default=12)
    p.add_argument("--out", default=None, help="JSON results")
    args = p.parse_args()
    example = load_example()
    results: dict[str, list[float]] = {"joint": [], "staged": []}
    start = time.perf_counter()
    for seed in range(args.seeds):
        for method in ("joint", "staged"):
            with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(io.StringIO()):
                argv = ["--size", "tiny", "--seed", str(seed), "--n-trials", str(args.n_trials), "--workdir", work]
                study = example.main(argv + (["--staged"] if method == "staged" else []))
            results[method].append(float(study.best_value))
            print(f"seed {seed} {method:6s} best eval loss {study.best_value:.4f}", flush=True)
    diff = [s - j for s, j in zip(results["staged"], results["joint"])]
    print(f"\n{args.seeds} seeds x {args.n_trials} trials, {time.perf_counter() - start:.0f} s")
    for method, xs in results.items():
        print(f"{method:6s} {statistics.mean(xs):.4f} +- {_se(xs):.4f}")
    print(f"staged - joint (paired) {statistics.mean(diff):+.4f} +- {_se(diff):.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
