"""LoRA fine-tuning, tuned like a practitioner: the preset's defaults first, then learning rate, epochs
and LoRA rank, with ASHA stopping bad runs early.

A small Llama-architecture model is built from a config (nothing is downloaded) and pretrained here, for a
few seconds, on a toy language whose sentences put the verb second ("the big cat sees some dogs ."). The
fine-tuning task is a dialect that puts the verb last ("the big cat some dogs sees ."): the verb must
still agree with the subject, now across the object. PEFT LoRA adapters on the attention projections
learn the dialect; hyperdial tunes `learning_rate`, `num_train_epochs` and `r` from
`hd.presets.lora_finetune()`, reporting the evaluation loss after every epoch through
`HyperdialCallback`.

    python examples/lora_finetune.py                  # --size tiny: a CPU, a few minutes
    python examples/lora_finetune.py --size gpu       # the GPU check: a 34M model, 16 trials, one per GPU

Prints the trials, the importance of each parameter (`study.importance()`), what tuning gained over the
defaults (`preset.gain(study)`) and the best trial. `--storage sqlite:///lora.db` keeps the study.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import hyperdial as hd

# -- the toy language: word-level, with agreement between subject and verb ------------------------------

DETS_SINGULAR, DETS_PLURAL = ["the", "a", "every"], ["the", "some", "two"]
ADJECTIVES = ["big", "small", "red", "old", "quick"]
NOUNS = [("cat", "cats"), ("dog", "dogs"), ("bird", "birds"), ("fox", "foxes"), ("horse", "horses")]
VERBS = [("sees", "see"), ("likes", "like"), ("chases", "chase"), ("follows", "follow")]
VOCAB = ["<bos>", "."] + sorted({w for pair in NOUNS + VERBS for w in pair} | set(DETS_SINGULAR + DETS_PLURAL)
                                | set(ADJECTIVES))
TOKEN = {w: i for i, w in enumerate(VOCAB)}


def noun_phrase(rng: random.Random) -> tuple[list[str], bool]:
    plural = rng.random() < 0.5
    words = [rng.choice(DETS_PLURAL if plural else DETS_SINGULAR)]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS)[plural])
    return words, plural


def sentence(rng: random.Random, verb_last: bool) -> list[str]:
    subject, plural = noun_phrase(rng)
    obj, _ = noun_phrase(rng)
    verb = rng.choice(VERBS)[plural]  # agrees with the subject
    return subject + (obj + [verb] if verb_last else [verb] + obj) + ["."]


def blocks(n: int, seq_len: int, verb_last: bool, seed: int) -> list[list[int]]:
    """`n` training blocks of `seq_len` token ids: sentences after <bos>, packed end to end."""
    rng = random.Random(seed)
    stream: list[int] = []
    while len(stream) < n * seq_len:
        stream += [TOKEN["<bos>"]] + [TOKEN[w] for w in sentence(rng, verb_last)]
    return [stream[i * seq_len:(i + 1) * seq_len] for i in range(n)]


class Blocks:
    """A map-style dataset of causal-LM examples (the model shifts the labels itself)."""

    def __init__(self, rows: list[list[int]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        import torch

        ids = torch.tensor(self.rows[i])
        return {"input_ids": ids, "labels": ids.clone()}


# -- sizes --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Size:
    hidden: int
    layers: int
    heads: int
    seq_len: int
    n_train: int          # fine-tuning blocks
    n_eval: int
    pretrain_steps: int
    batch: int
    n_trials: int
    gpu: bool             # train on CUDA in bf16
    gpus_per_trial: int   # > 0: each trial in its own process with its own GPU(s)


SIZES = {
    # 35k parameters; a trial is 1-5 s of CPU
    "tiny": Size(hidden=32, layers=2, heads=4, seq_len=32, n_train=128, n_eval=32, pretrain_steps=250, batch=8,
                 n_trials=20, gpu=False, gpus_per_trial=0),
    # 34M parameters (INFRA.md: ~40 ms a step at batch 32 x 256 tokens on an H100): <= 30 s a trial
    "gpu": Size(hidden=512, layers=8, heads=8, seq_len=256, n_train=2048, n_eval=128, pretrain_steps=300, batch=32,
                n_trials=16, gpu=True, gpus_per_trial=1),
}


@dataclass(frozen=True)
class Setup:
    """What every trial needs; picklable, so trials can run in other processes (one per GPU)."""

    size: Size
    base_dir: str
    out_dir: str
    seed: int


def model_config(size: Size) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(VOCAB), hidden_size=size.hidden, intermediate_size=4 * size.hidden,
                       num_hidden_layers=size.layers, num_attention_heads=size.heads,
                       num_key_value_heads=size.heads, max_position_embeddings=size.seq_len,
                       bos_token_id=TOKEN["<bos>"], eos_token_id=TOKEN["."], pad_token_id=TOKEN["."])


def pretrain_base(setup: Setup) -> float:
    """Train the base model on the verb-second language and save it; returns its last loss."""
    import torch
    import transformers
    from transformers import LlamaForCausalLM

    transformers.logging.disable_progress_bar()
    size = setup.size
    torch.manual_seed(setup.seed)
    device = "cuda" if size.gpu else "cpu"
    model = LlamaForCausalLM(model_config(size)).to(device)
    data = torch.tensor(blocks(size.pretrain_steps * 32 // 4, size.seq_len, verb_last=False, seed=setup.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=size.pretrain_steps)
    gen = torch.Generator().manual_seed(setup.seed)
    loss = torch.tensor(math.nan)
    for _ in range(size.pretrain_steps):
        batch = data[torch.randint(len(data), (32,), generator=gen)].to(device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=size.gpu):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    model.save_pretrained(setup.base_dir)
    return float(loss.detach())


def load_base(base_dir: str) -> Any:
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM.from_pretrained(base_dir)


# -- one trial ------------------------------------------------------------------------------------------

def train_trial(config: dict[str, Any], trial: hd.Trial, setup: Setup) -> float:
    """Fine-tune LoRA adapters with the trial's `learning_rate`, `num_train_epochs` and `r`; the eval loss."""
    import transformers

    from hyperdial.integrations.transformers import HyperdialCallback, lora_model_init

    size = setup.size
    transformers.set_seed(setup.seed)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    init = lora_model_init(functools.partial(load_base, setup.base_dir),
                           target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], lora_alpha=32, lora_dropout=0.05)
    args = transformers.TrainingArguments(
        output_dir=os.path.join(setup.out_dir, f"run-{trial.number}"), learning_rate=config["learning_rate"],
        num_train_epochs=config["num_train_epochs"], per_device_train_batch_size=size.batch,
        per_device_eval_batch_size=size.batch, eval_strategy="epoch", save_strategy="no", logging_strategy="no",
        report_to=[], disable_tqdm=True, seed=setup.seed, bf16=size.gpu, use_cpu=not size.gpu,
        dataloader_num_workers=0)
    trainer = transformers.Trainer(
        model=init(config), args=args,  # the trial's r goes into the LoraConfig
        train_dataset=Blocks(blocks(size.n_train, size.seq_len, verb_last=True, seed=setup.seed + 1)),
        eval_dataset=Blocks(blocks(size.n_eval, size.seq_len, verb_last=True, seed=setup.seed + 2)))
    trainer.remove_callback(transformers.PrinterCallback)  # the table at the end says it all
    trial.set_user_attr("eval_loss_before", trainer.evaluate()["eval_loss"])  # the base model, untuned
    callback = HyperdialCallback(trial, "eval_loss", step="epoch")  # ASHA's rungs are epochs
    trainer.add_callback(callback)
    trainer.train()
    callback.raise_if_pruned()
    return float(callback.objective)


# -- the study ------------------------------------------------------------------------------------------

def build_sampler(args: argparse.Namespace, preset: Any, n_trials: int) -> Any:
    base = hd.samplers.TPE(seed=args.seed)
    if not args.staged:
        return base
    # the most impactful first: learning_rate and num_train_epochs, then r, the first trials at the defaults' r
    stages = hd.samplers.staged.default_stages(len(preset.priority), n_trials)
    return hd.samplers.Staged(base, priority=preset.priority, defaults=dict(preset.defaults), stages=stages)


def run(args: argparse.Namespace) -> hd.Study:
    size = SIZES[args.size]
    if size.gpu and not hd.executors.available_gpus():
        sys.exit("--size gpu needs an NVIDIA GPU (none visible: CUDA_VISIBLE_DEVICES / nvidia-smi)")
    workdir = args.workdir or tempfile.mkdtemp(prefix="hd-lora-")
    storage = args.storage
    if storage is None and size.gpus_per_trial:  # trials in other processes share the study through a file
        storage = f"sqlite:///{os.path.join(workdir, 'study.db')}"
    setup = Setup(size=size, base_dir=os.path.join(workdir, "base"), out_dir=os.path.join(workdir, "runs"),
                  seed=args.seed)

    start = time.perf_counter()
    hd.set_verbosity(logging.WARNING)  # the table at the end replaces the per-trial lines
    print(f"pretraining the base model on the verb-second language ({size.pretrain_steps} steps)...")
    print(f"base model: final training loss {pretrain_base(setup):.3f}")
    preset = hd.presets.lora_finetune().only(["learning_rate", "num_train_epochs", "r"])
    n_trials = args.n_trials or size.n_trials
    study = hd.create_study(storage=storage, sampler=build_sampler(args, preset, n_trials),
                            pruner=hd.pruners.ASHA(min_resource=1, reduction_factor=3), load_if_exists=True,
                            study_name=f"lora-{args.size}")
    run_on = {"executor": "process", "gpus_per_trial": size.gpus_per_trial} if size.gpus_per_trial else {}
    preset.tune(functools.partial(train_trial, setup=setup), n_trials=n_trials, study=study,
                show_progress_bar=False, **run_on)
    report(study, preset, time.perf_counter() - start)
    return study


def report(study: hd.Study, preset: Any, seconds: float) -> None:
    print(f"\n{len(study.trials)} trials in {seconds:.0f} s")
    print(f"{'trial':>5}  {'state':<8} {'learning_rate':>13} {'epochs':>6} {'r':>3}  {'before':>6}  eval loss by epoch")
    for t in study.trials:
        curve = " ".join(f"{t.intermediate_values[s]:.3f}" for s in sorted(t.intermediate_values))
        p = t.params
        print(f"{t.number:>5}  {t.state.name:<8} {p['learning_rate']:>13.2e} {p['num_train_epochs']:>6} "
              f"{p['r']:>3}  {t.user_attrs.get('eval_loss_before', math.nan):>6.3f}  {curve}")
    print("\nparameter importance (study.importance(), PED-ANOVA):")
    try:
        for rank, (name, share) in enumerate(study.importance().items(), 1):
            print(f"  {rank}. {name:<18} {share:.3f}")
    except hd.importance.NotEnoughTrials as exc:  # fewer than 2 trials ran to the end
        print(f"  {exc}")
    gain = preset.gain(study)
    print(f"\npreset gain: defaults (trial {gain['default_trial']}) eval loss {gain['default_value']:.3f}, "
          f"best (trial {gain['best_trial']}) {gain['best_value']:.3f}: {gain['absolute']:.3f} lower"
          + (f" ({100 * gain['relative']:.0f}%)" if gain["relative"] is not None else ""))
    best = study.best_trial
    print(f"best trial {best.number}: eval loss {best.value:.3f} with {best.params}")


def main(argv: list[str] | None = None) -> hd.Study:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--n-trials", type=int, default=None, help="default: 20 (tiny), 16 (gpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--staged", action="store_true",
                        help="staged tuning: learning rate and epochs first, LoRA rank added later (hd.samplers.Staged)")
    parser.add_argument("--storage", default=None, help="a SQLAlchemy URL; default in memory (a file for gpu)")
    parser.add_argument("--workdir", default=None, help="where the base model and runs go; default a temp folder")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
