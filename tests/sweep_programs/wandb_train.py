"""A training script written for W&B sweeps, unchanged: wandb.init, wandb.config, wandb.log, run.summary."""
import wandb


def train() -> None:
    run = wandb.init(project="demo", config={"lr": 0.5, "epochs": 4, "optimizer": {"name": "sgd"}})
    config = wandb.config
    for epoch in range(config.epochs):
        loss = (config.lr - 0.01) ** 2 + 1.0 / (epoch + 1) + (0.1 if config.optimizer["name"] == "sgd" else 0.0)
        wandb.log({"epoch": epoch, "val/loss": loss, "note": "text is not reported"})
    run.summary["final_lr"] = config.lr
    wandb.finish()


if __name__ == "__main__":
    train()
