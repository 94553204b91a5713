"""What default liveness costs: time per trial with heartbeats on (the default for shared
storages) and off (`heartbeat_interval=0`), side by side in one process.

Each trial: `ask`, five `suggest_float`, `tell` (Random sampler, no pruner), so the
framework's own work is all that is timed. The two studies take turns, `--chunk` trials
each, so a burst of load on a shared machine hits both alike. Reported: the median per-trial
time of each chunk's mean, and the ratio on / off with the spread over chunks.

    python benchmarks/liveness_cost.py                    # SQLite, 3,000 trials per setting
    python benchmarks/liveness_cost.py --pg-url postgresql+psycopg://user@host/db
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time

import hyperdial as hd


def _chunk(study: hd.Study, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        value = sum(trial.suggest_float(f"x{i}", -5.0, 5.0) ** 2 for i in range(5))
        study.tell(trial, value)
    return (time.perf_counter() - t0) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=3000, help="trials per setting (default 3000)")
    p.add_argument("--chunk", type=int, default=100, help="trials per turn (default 100)")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL instead of a temporary SQLite file")
    args = p.parse_args()
    hd.set_verbosity(logging.WARNING)
    url = args.pg_url or f"sqlite:///{tempfile.mkdtemp()}/liveness.db"
    studies = {
        "on (default)": hd.create_study(storage=url, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop()),
        "off": hd.create_study(storage=url, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop(),
                               heartbeat_interval=0),
    }
    assert studies["on (default)"].heartbeat_interval is not None and studies["off"].heartbeat_interval is None
    per_chunk: dict[str, list[float]] = {k: [] for k in studies}
    for _ in range(args.trials // args.chunk):
        for name, study in studies.items():
            per_chunk[name].append(_chunk(study, args.chunk))
    ratios = [a / b for a, b in zip(per_chunk["on (default)"], per_chunk["off"])]
    print(f"storage: {url.split(':')[0]}, {args.trials} trials per setting, chunks of {args.chunk}")
    print("| liveness | median ms per trial |\n|---|---|")
    for name, times in per_chunk.items():
        print(f"| {name} | {1e3 * statistics.median(times):.3f} |")
    se = statistics.stdev(ratios) / len(ratios) ** 0.5
    print(f"ratio on / off: median {statistics.median(ratios):.3f}, mean {statistics.fmean(ratios):.3f} +- {se:.3f} "
          f"(standard error over {len(ratios)} chunk pairs)")


if __name__ == "__main__":
    main()
