"""The folder the sweep agent puts first on a W&B program's PYTHONPATH: its `wandb` is hyperdial's
stand-in (see `wandb/__init__.py`), so programs written for W&B sweeps run unchanged, offline."""
