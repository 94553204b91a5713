"""Tiny real models and data for the torch integration tests (seconds each on a CPU).

The data: sequences that count upward mod `VOCAB` from a random start, so the next token is
predictable and the loss of a model that learns falls well below log(VOCAB).
"""

from __future__ import annotations

import random
from typing import Any

import torch

VOCAB = 12
SEQ = 12


def counting_sequences(n: int, seed: int = 0) -> list[list[int]]:
    rng = random.Random(seed)
    return [[(start + i) % VOCAB for i in range(SEQ)] for start in (rng.randrange(VOCAB) for _ in range(n))]


class LMDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Causal LM examples: input_ids and labels (the Trainer's model shifts them)."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.rows = counting_sequences(n, seed)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ids = torch.tensor(self.rows[i])
        return {"input_ids": ids, "labels": ids.clone()}


def tiny_llama() -> Any:
    """A Llama-architecture causal LM built from a config (no download), ~10k parameters."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=SEQ,
                         pad_token_id=0, bos_token_id=0, eos_token_id=0)
    return LlamaForCausalLM(config)
