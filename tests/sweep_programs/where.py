"""Records where it ran (parent pid, CUDA_VISIBLE_DEVICES, working directory, when) and reports a loss."""
import json
import os
import time

start = time.time()
time.sleep(float(os.environ.get("WHERE_SLEEP", "0.5")))
record = {"trial": int(os.environ["HYPERDIAL_TRIAL"]), "ppid": os.getppid(), "cwd": os.getcwd(),
          "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "span": [start, time.time()]}
with open(os.environ["DUMP_TO"], "a") as f:
    f.write(json.dumps(record) + "\n")
print('hyperdial: {"loss": %s}' % (record["trial"] * 0.5))
