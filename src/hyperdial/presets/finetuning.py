"""Fine-tuning presets with Hugging Face `TrainingArguments` / PEFT `LoraConfig` names.

>>> lora_finetune().priority[:3]
('learning_rate', 'num_train_epochs', 'r')
"""

from __future__ import annotations

from hyperdial.presets.base import Preset
from hyperdial.space import Categorical, Float, Int

__all__ = ["full_finetune", "lora_finetune"]


def lora_finetune() -> Preset:
    """LoRA fine-tuning: `learning_rate`, `num_train_epochs`, `r`, `lora_alpha`, `lora_dropout`,
    `per_device_train_batch_size`, `weight_decay`, `warmup_ratio`.

    >>> p = lora_finetune()
    >>> p.defaults["learning_rate"], p.defaults["r"], p.defaults["lora_alpha"]
    (0.0002, 16, 32)
    """
    return Preset(
        name="lora_finetune",
        version="1",
        space={
            "learning_rate": Float(1e-5, 1e-3, log=True),
            "num_train_epochs": Int(1, 10),
            "r": Categorical([4, 8, 16, 32, 64]),
            "lora_alpha": Categorical([8, 16, 32, 64]),
            "lora_dropout": Float(0.0, 0.2),
            "per_device_train_batch_size": Categorical([4, 8, 16, 32]),
            "weight_decay": Float(0.0, 0.1),
            "warmup_ratio": Float(0.0, 0.1),
        },
        defaults={"learning_rate": 2e-4, "num_train_epochs": 3, "r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
                  "per_device_train_batch_size": 8, "weight_decay": 0.0, "warmup_ratio": 0.03},
        priority=("learning_rate", "num_train_epochs", "r", "lora_alpha", "per_device_train_batch_size",
                  "lora_dropout", "warmup_ratio", "weight_decay"),
        sources={
            "learning_rate": "QLoRA (Dettmers et al. 2023) recipe: 2e-4 for 7B-13B models",
            "num_train_epochs": "Hugging Face TrainingArguments default num_train_epochs=3",
            "r": "Hu et al. 2022 (LoRA) rank ablation; 16 is a common PEFT example value (LoraConfig default 8)",
            "lora_alpha": "PEFT LoraConfig examples: lora_alpha = 2*r (32 for r=16)",
            "lora_dropout": "QLoRA (Dettmers et al. 2023): lora_dropout 0.05 for 7B-13B models",
            "per_device_train_batch_size": "Hugging Face TrainingArguments default per_device_train_batch_size=8",
            "weight_decay": "Hugging Face TrainingArguments default weight_decay=0.0",
            "warmup_ratio": "QLoRA (Dettmers et al. 2023) recipe: warmup_ratio=0.03",
        },
    )


def full_finetune() -> Preset:
    """Full fine-tuning of a pretrained transformer: `learning_rate`, `num_train_epochs`,
    `per_device_train_batch_size`, `weight_decay`, `warmup_ratio`.

    >>> full_finetune().defaults["learning_rate"]
    2e-05
    """
    return Preset(
        name="full_finetune",
        version="1",
        space={
            "learning_rate": Float(1e-6, 1e-4, log=True),
            "num_train_epochs": Int(1, 10),
            "per_device_train_batch_size": Categorical([8, 16, 32, 64]),
            "weight_decay": Float(0.0, 0.1),
            "warmup_ratio": Float(0.0, 0.2),
        },
        defaults={"learning_rate": 2e-5, "num_train_epochs": 3, "per_device_train_batch_size": 32,
                  "weight_decay": 0.01, "warmup_ratio": 0.1},
        priority=("learning_rate", "num_train_epochs", "per_device_train_batch_size", "warmup_ratio",
                  "weight_decay"),
        sources={
            "learning_rate": "Devlin et al. 2019 (BERT) fine-tuning grid {5e-5, 3e-5, 2e-5}",
            "num_train_epochs": "Devlin et al. 2019 (BERT) fine-tuning grid {2, 3, 4}; HF default 3",
            "per_device_train_batch_size": "Devlin et al. 2019 (BERT) fine-tuning grid {16, 32}",
            "weight_decay": "Devlin et al. 2019 (BERT) weight_decay=0.01",
            "warmup_ratio": "Devlin et al. 2019 (BERT): linear warmup over 10% of steps",
        },
    )
