"""Optimizer presets: `adam()` and `sgd()` (PyTorch argument names where they exist).

>>> adam().defaults["lr"]
0.0001
"""

from __future__ import annotations

from hyperdial.presets.base import Preset
from hyperdial.space import Categorical, Float

__all__ = ["adam", "sgd"]

_BATCH = Categorical([8, 16, 32, 64, 128, 256])
_BATCH_SRC = "powers of two around 32 (Masters & Luschi 2018, 'Revisiting Small Batch Training')"


def adam() -> Preset:
    """Adam/AdamW: `lr`, `batch_size`, `weight_decay`, `warmup_ratio`, `dropout`, `beta1`, `beta2`.

    `weight_decay` is a linear Float in [0, 0.1] with default 0.0 (PyTorch Adam's default): a log
    scale cannot hold 0. Narrow it with `with_(weight_decay=hd.Float(1e-6, 1e-1, log=True),
    defaults={"weight_decay": 1e-2})` for AdamW-style decoupled decay.

    >>> p = adam()
    >>> p.priority[0], p.defaults["batch_size"], p.defaults["weight_decay"]
    ('lr', 32, 0.0)
    """
    return Preset(
        name="adam",
        version="1",
        space={
            "lr": Float(1e-6, 1e-2, log=True),
            "batch_size": _BATCH,
            "weight_decay": Float(0.0, 0.1),
            "warmup_ratio": Float(0.0, 0.2),
            "dropout": Float(0.0, 0.5),
            "beta1": Float(0.8, 0.99),
            "beta2": Float(0.9, 0.9999),
        },
        defaults={"lr": 1e-4, "batch_size": 32, "weight_decay": 0.0, "warmup_ratio": 0.0, "dropout": 0.1,
                  "beta1": 0.9, "beta2": 0.999},
        priority=("lr", "batch_size", "weight_decay", "warmup_ratio", "dropout", "beta1", "beta2"),
        sources={
            "lr": "Kingma & Ba 2015 (Adam) suggest 1e-3; 1e-4 is the common fine-tuning default",
            "batch_size": _BATCH_SRC,
            "weight_decay": "torch.optim.Adam default weight_decay=0; range up to AdamW's 0.01-0.1 "
                            "(Loshchilov & Hutter 2019)",
            "warmup_ratio": "Hugging Face TrainingArguments default warmup_ratio=0.0; Goyal et al. 2017 warmup",
            "dropout": "Srivastava et al. 2014 (dropout); 0.1 as in Vaswani et al. 2017",
            "beta1": "Kingma & Ba 2015 (Adam) default beta1=0.9",
            "beta2": "Kingma & Ba 2015 (Adam) default beta2=0.999",
        },
    )


def sgd() -> Preset:
    """SGD with momentum: `lr`, `momentum`, `nesterov`, `weight_decay`, `batch_size`.

    >>> sgd().defaults["momentum"], sgd().defaults["nesterov"]
    (0.9, False)
    """
    return Preset(
        name="sgd",
        version="1",
        space={
            "lr": Float(1e-4, 1.0, log=True),
            "momentum": Float(0.0, 0.99),
            "nesterov": Categorical([False, True]),
            "weight_decay": Float(1e-6, 1e-2, log=True),
            "batch_size": _BATCH,
        },
        defaults={"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 1e-4, "batch_size": 128},
        priority=("lr", "batch_size", "momentum", "weight_decay", "nesterov"),
        sources={
            "lr": "He et al. 2016 (ResNet) recipe: lr=0.1 for batch 256 (Goyal et al. 2017 linear scaling)",
            "momentum": "He et al. 2016 (ResNet) recipe: momentum=0.9",
            "nesterov": "torch.optim.SGD default nesterov=False; Sutskever et al. 2013",
            "weight_decay": "He et al. 2016 (ResNet) recipe: weight_decay=1e-4",
            "batch_size": _BATCH_SRC,
        },
    )
