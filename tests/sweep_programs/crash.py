import sys

print('hyperdial: {"loss": 1.0}', flush=True)
print("Traceback (most recent call last):\nValueError: the data set is broken", file=sys.stderr)
sys.exit(3)
