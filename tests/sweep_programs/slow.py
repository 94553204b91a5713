"""Reports once, writes its pid to a flag file, then works for a long time (tests stop it)."""
import os
import time

print('hyperdial: {"loss": 1.0, "step": 1}', flush=True)
with open(os.environ["STARTED_FLAG"] + "." + os.environ["HYPERDIAL_TRIAL"], "w") as f:
    f.write(str(os.getpid()))
time.sleep(float(os.environ.get("SLOW_FOR", "60")))
print('hyperdial: {"loss": 0.5, "step": 2}', flush=True)
