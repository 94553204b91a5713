"""Presets: established search spaces and defaults per model family, each with its sources.

Each function returns a `Preset` (name, version, space, defaults, priority, sources).
`preset.tune(objective, n_trials=...)` runs the defaults first, then the space (`staged=True`: the most
impactful parameters first, `hd.samplers.Staged`); `summary(study)` says what tuning gained over the
defaults and whether more trials may pay.

>>> import hyperdial as hd
>>> p = hd.presets.lora_finetune()
>>> p.name, p.version, p.defaults["learning_rate"]
('lora_finetune', '1', 0.0002)
"""

from hyperdial.presets.base import Preset
from hyperdial.presets.finetuning import full_finetune, lora_finetune
from hyperdial.presets.kernels import svm
from hyperdial.presets.optimizers import adam, sgd
from hyperdial.presets.summary import Summary, summary
from hyperdial.presets.trees import lightgbm, random_forest, xgboost

__all__ = [
    "Preset",
    "Summary",
    "adam",
    "full_finetune",
    "lightgbm",
    "lora_finetune",
    "random_forest",
    "sgd",
    "summary",
    "svm",
    "xgboost",
]
