"""What a checkpoint costs: `save_state` + its record (SQLite study, local store) against writing the same
arrays by hand (`np.savez` + fsync), interleaved in one process; and `load_state` against `np.load`.

    python benchmarks/checkpoint_overhead.py [--repeats 30]

Prints, per state size, the median milliseconds of each and the ratio (mean +- standard error over
repeats). Results: docs/checkpoints.md ("What a checkpoint costs").
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import hyperdial as hd
from hyperdial.checkpoints import load_state, save_state


def _by_hand(path: Path, state: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:
        np.savez(f, **state)
        f.flush()
        os.fsync(f.fileno())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    hd.set_verbosity(30)
    rng = np.random.default_rng(0)
    print("| state | save_state ms | np.savez+fsync ms | save ratio | load_state ms | np.load ms | load ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, n in (("6 KB (SGD on digits)", 740), ("1 MB", 131_072), ("16 MB", 2_097_152)):
        state = {"w": rng.normal(size=n), "b": rng.normal(size=10)}
        with tempfile.TemporaryDirectory() as tmp:
            study = hd.create_study(storage=f"sqlite:///{tmp}/s.db", keep_checkpoints=2)
            trial = study.ask()
            ours, mine, ours_load, mine_load = [], [], [], []
            for step in range(args.repeats):
                t0 = time.perf_counter()
                save_state(trial, state, step=step)
                t1 = time.perf_counter()
                _by_hand(Path(tmp) / "hand.npz", state)
                t2 = time.perf_counter()
                load_state(trial)
                t3 = time.perf_counter()
                with np.load(Path(tmp) / "hand.npz", allow_pickle=False) as z:
                    {k: z[k] for k in z.files}
                t4 = time.perf_counter()
                ours.append(t1 - t0)
                mine.append(t2 - t1)
                ours_load.append(t3 - t2)
                mine_load.append(t4 - t3)
        save = [a / b for a, b in zip(ours, mine)]
        load = [a / b for a, b in zip(ours_load, mine_load)]
        se = lambda xs: statistics.stdev(xs) / len(xs) ** 0.5
        print(f"| {label} | {1000 * statistics.median(ours):.2f} | {1000 * statistics.median(mine):.2f} | "
              f"{statistics.mean(save):.2f} +- {se(save):.2f} | {1000 * statistics.median(ours_load):.2f} | "
              f"{1000 * statistics.median(mine_load):.2f} | {statistics.mean(load):.2f} +- {se(load):.2f} |")


if __name__ == "__main__":
    main()
