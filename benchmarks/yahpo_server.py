"""A long-lived YAHPO Gym evaluator speaking JSON lines over stdin/stdout.

Runs inside its own virtual environment (`benchmarks/setup_yahpo.sh` creates
`benchmarks/.venv-yahpo`): yahpo-gym 1.0.2 pins numpy<2 and ConfigSpace<=0.6.1,
which the project's main environment does not have. The benchmark harness
(`bench_problems.YahpoClient`) starts it once per worker process and sends one
request per line; nothing is ever passed through a shell.

Requests (one JSON object per line) and replies (one per request, same order):

    {"op": "ping"}                                            -> {"ok": true, "yahpo_gym": "1.0.2"}
    {"op": "eval", "scenario": "rbv2_xgboost", "instance": "16",
     "config": {...}}                                         -> {"ok": true, "result": {"acc": ..., ...}}
    {"op": "quit"}                                            -> {"ok": true}, then exit

A failed request answers {"ok": false, "error": "..."} and the server goes on.
`--data PATH` names the surrogate data folder (default: $YAHPO_DATA). The yahpo
settings file goes where $YAHPO_LOCAL_CONFIG says (the client gives each server a
temporary directory of its own), so nothing is written to the home directory and
servers started side by side never share the file.

    .venv-yahpo/bin/python benchmarks/yahpo_server.py --self-test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any


def _serve(data: str, proto_in: Any, proto_out: Any) -> int:
    from yahpo_gym import benchmark_set, local_config

    local_config.init_config()
    local_config.set_data_path(data)
    benches: dict[tuple[str, str], Any] = {}

    def bench(scenario: str, instance: str) -> Any:
        key = (scenario, instance)
        if key not in benches:
            # single-threaded ONNX session: the harness already runs two workers on two cores
            benches[key] = benchmark_set.BenchmarkSet(scenario, instance=instance, multithread=False)
        return benches[key]

    for line in proto_in:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "ping":
                import yahpo_gym

                reply: dict[str, Any] = {"ok": True, "yahpo_gym": getattr(yahpo_gym, "__version__", "?")}
            elif op == "eval":
                b = bench(str(req["scenario"]), str(req["instance"]))
                out = b.objective_function(dict(req["config"]))[0]
                reply = {"ok": True, "result": {k: float(v) for k, v in out.items()}}
            elif op == "quit":
                proto_out.write(json.dumps({"ok": True}) + "\n")
                proto_out.flush()
                return 0
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report to the client, keep serving
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        proto_out.write(json.dumps(reply) + "\n")
        proto_out.flush()
    return 0


def _self_test(data: str) -> int:
    import io

    req = {
        "op": "eval",
        "scenario": "rbv2_xgboost",
        "instance": "16",
        "config": {
            "booster": "gblinear", "nrounds": 144, "lambda": 1.0, "alpha": 1.0, "subsample": 0.55,
            "num.impute.selected.cpo": "impute.mean", "trainsize": 1.0, "repl": 10, "task_id": "16",
        },
    }
    out = io.StringIO()
    _serve(data, io.StringIO(json.dumps({"op": "ping"}) + "\n" + json.dumps(req) + "\n"), out)
    replies = [json.loads(x) for x in out.getvalue().splitlines()]
    ok = all(r.get("ok") for r in replies) and 0.0 <= replies[1]["result"]["acc"] <= 1.0
    print(json.dumps(replies), file=sys.stderr)
    print("yahpo server self-test:", "ok" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("YAHPO_DATA", ""), help="YAHPO surrogate data folder")
    ap.add_argument("--self-test", action="store_true", help="evaluate one configuration and exit")
    args = ap.parse_args()
    if not args.data or not os.path.isdir(args.data):
        print(f"yahpo_server: data folder not found: {args.data!r} (pass --data or set YAHPO_DATA)", file=sys.stderr)
        return 2
    # yahpo-gym prints a citation notice on stdout: keep stdout for the protocol only.
    proto_out = sys.stdout
    sys.stdout = sys.stderr
    if args.self_test:
        return _self_test(args.data)
    return _serve(args.data, sys.stdin, proto_out)


if __name__ == "__main__":
    sys.exit(main())
