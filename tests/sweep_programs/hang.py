import signal
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends it
print('hyperdial: {"loss": 1.0, "step": 1}', flush=True)
time.sleep(3600)
