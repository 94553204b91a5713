"""Records what it was given (argv, HYPERDIAL_* environment, the args JSON file) and reports a loss."""
import json
import os
import sys

record = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("HYPERDIAL_")}}
for arg in sys.argv[1:]:
    if arg.endswith(".args.json") and os.path.exists(arg):
        with open(arg) as f:
            record["json_file"] = json.load(f)
with open(os.environ["DUMP_TO"], "a") as f:
    f.write(json.dumps(record) + "\n")
print('hyperdial: {"loss": %s}' % (int(os.environ["HYPERDIAL_TRIAL"]) * 0.5))
