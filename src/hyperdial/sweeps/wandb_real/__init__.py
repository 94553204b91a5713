"""The folder the agent puts first on a program's PYTHONPATH when `HYPERDIAL_WANDB=real` (see `wandb/`)."""
