"""Reports loss = x; for x > 0.5 it then crashes (exit 1), as a run that diverges would."""
import os
import sys

x = float(os.environ["HYPERDIAL_PARAM_X"])
print('hyperdial: {"loss": %r}' % (x * 10), flush=True)
if x > 0.5:
    print("RuntimeError: diverged", file=sys.stderr)
    sys.exit(1)
print('hyperdial: {"loss": %r}' % x, flush=True)
