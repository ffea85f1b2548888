"""The shared Trainer: early stopping with best-state restore, resume after a kill, history, seeds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from testkit import holdout, planted_blocks
from torch import nn

from recgen.errors import ConfigError
from recgen.models import load_model
from recgen.models.multvae import MultVAE
from recgen.models.neural import NeuralRecommender
from recgen.training import Batch, LambdaCallback, StepContext, TrainingConfig, lr_factor

FAST = {"show_progress": False, "num_threads": 1}


@pytest.fixture(scope="module")
def split():
    return holdout(planted_blocks(n_users=60, n_items=30, seed=0)[0])


# ---------------------------------------------------------------------------- a toy model we steer
@dataclass(frozen=True)
class ToyConfig(TrainingConfig):
    """Training fields only."""


class ItemBias(nn.Module):
    def __init__(self, n_items: int) -> None:
        super().__init__()
        self.b = nn.Parameter(torch.zeros(n_items))


class Toy(NeuralRecommender):
    """Scores = one bias per item. Epoch 1 moves the bias towards the validation items (metric up),
    later epochs away from them (metric down): the best epoch is 1 by construction."""

    name = "toy"
    config_cls = ToyConfig
    direction: torch.Tensor

    def build_module(self, n_items: int) -> nn.Module:
        return ItemBias(n_items)

    def train_step(self, batch: Batch, ctx: StepContext) -> torch.Tensor:
        sign = 1.0 if ctx.epoch == 0 else -1.0
        return -sign * (self.direction * self.module_.b).sum()

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        return self.module_.b.expand(batch.size, -1)


def test_early_stopping_restores_the_best_epochs_weights(split):
    train, ev = split
    model = Toy(epochs=20, batch_size=1000, optimizer="sgd", lr=0.1, patience=2, **FAST)
    model.direction = torch.from_numpy(np.asarray(ev.target.sum(axis=0)).ravel())
    states: list[torch.Tensor] = []
    model.fit(train, ev, callbacks=[LambdaCallback(lambda t, r: states.append(t_b(model)))])
    metrics = [h["ndcg@20"] for h in model.history_]
    assert metrics[0] > metrics[1] > metrics[2]  # validation gets worse after epoch 1
    assert model.best_epoch_ == 1 and len(model.history_) == 3  # patience 2 stops after epoch 3
    assert torch.equal(t_b(model), states[0]) and not torch.equal(t_b(model), states[-1])


def t_b(model: Toy) -> torch.Tensor:
    return model.module_.b.detach().clone()


class ManualToy(Toy):
    """A step that optimises by itself (GAN-style) and returns floats: the trainer only logs them."""

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        opt = ctx.optimizers["main"]
        opt.zero_grad()
        (-self.module_.b.sum()).backward()
        opt.step()
        return {"loss": 1.5, "d_loss": float(ctx.step)}


def test_manual_optimisation_steps_once_per_batch_and_logs(split):
    train, _ = split
    model = ManualToy(epochs=2, batch_size=25, optimizer="sgd", lr=0.5, **FAST).fit(train)  # 60 rows: 3 batches
    assert torch.allclose(model.module_.b, torch.full((train.n_items,), 0.5 * 6))
    assert [h["loss"] for h in model.history_] == [1.5, 1.5]
    assert model.history_[1]["step"] == 6
    # batch-size-weighted epoch mean of the logged step counter: (0·25 + 1·25 + 2·10) / 60
    assert model.history_[0]["d_loss"] == pytest.approx(45 / 60)


# ---------------------------------------------------------------------------- the real model
VAE = {"epochs": 4, "batch_size": 16, "hidden_dims": (16,), "latent_dim": 4, "total_anneal_steps": 10,
       "lr": 3e-3, **FAST}


def weights(model: NeuralRecommender) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.module_.state_dict().items()}


def _strip(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in h.items() if not k.endswith("seconds")} for h in history]


def test_resume_after_kill_reaches_the_same_final_weights(split, tmp_path):
    train, ev = split
    full = MultVAE(**VAE).fit(train, ev)
    ckpt = str(tmp_path / "ckpt")

    def kill(trainer, record):
        if trainer.epoch == 2:
            raise KeyboardInterrupt("simulated kill")

    with pytest.raises(KeyboardInterrupt):
        MultVAE(**VAE, checkpoint_dir=ckpt).fit(train, ev, callbacks=[LambdaCallback(kill)])
    meta = json.loads((tmp_path / "ckpt" / "last" / "trainer.json").read_text())
    assert meta["epoch"] == 2 and len(meta["history"]) == 2
    assert {p.name for p in (tmp_path / "ckpt" / "last").iterdir()} == {"tensors.safetensors", "trainer.json"}
    resumed = MultVAE(**VAE, checkpoint_dir=ckpt).fit(train, ev, resume=True)
    assert _strip(resumed.history_) == _strip(full.history_)
    assert resumed.best_epoch_ == full.best_epoch_
    for k, v in weights(full).items():
        assert torch.equal(v, weights(resumed)[k]), k
    # resuming a finished run trains nothing more and gives the same model
    again = MultVAE(**VAE, checkpoint_dir=ckpt).fit(train, ev, resume=True)
    assert all(torch.equal(v, weights(again)[k]) for k, v in weights(full).items())
    with pytest.raises(ConfigError, match="checkpoint_dir"):
        MultVAE(**VAE).fit(train, resume=True)
    with pytest.raises(ConfigError, match="'lr'"):  # resuming with other hyperparameters is refused
        MultVAE(**{**VAE, "lr": 0.1}, checkpoint_dir=ckpt).fit(train, ev, resume=True)


def test_deterministic_by_seed_and_threads_restored(split):
    train, _ = split
    before = torch.get_num_threads()
    a = MultVAE(**{**VAE, "epochs": 2}).fit(train)
    assert torch.get_num_threads() == before
    b = MultVAE(**{**VAE, "epochs": 2}).fit(train)
    c = MultVAE(**{**VAE, "epochs": 2, "seed": 1}).fit(train)
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not torch.equal(wa["first.weight"], wc["first.weight"])


def test_history_is_saved_and_reloaded(split, tmp_path):
    train, ev = split
    m = MultVAE(**{**VAE, "epochs": 3, "eval_every": 2}).fit(train, ev)
    assert [h["epoch"] for h in m.history_] == [1, 2, 3]
    assert "ndcg@20" in m.history_[1] and "ndcg@20" not in m.history_[0] and "ndcg@20" in m.history_[2]
    for h in m.history_:
        assert {"loss", "nll", "kl", "beta", "seconds", "lr", "step"} <= set(h) and h["seconds"] > 0
    loaded = load_model(m.save(tmp_path / "m"))
    assert loaded.history_ == m.history_ and loaded.best_epoch_ == m.best_epoch_
    assert loaded.selected_anneal_cap_ == m.selected_anneal_cap_
    np.testing.assert_array_equal(loaded.encode(train.matrix[:5]), m.encode(train.matrix[:5]))


def test_lr_schedules():
    cfg = ToyConfig(epochs=10, lr_schedule="cosine")
    assert [lr_factor(cfg, e) for e in (0, 5)] == [1.0, pytest.approx(0.5)]
    cfg = ToyConfig(epochs=10, lr_schedule="exponential", lr_gamma=0.5)
    assert lr_factor(cfg, 3) == pytest.approx(0.125)
    with pytest.raises(ConfigError, match="eval_metric"):
        Toy(eval_metric="ndcg")


def test_time_budget_stops_after_the_epoch_that_spends_it(split):
    from recgen.training import TimeBudget

    train, _ = split
    spent, unlimited = TimeBudget(0.0), TimeBudget(None)
    stopped = MultVAE(**VAE).fit(train, callbacks=[spent])
    assert spent.hit and len(stopped.history_) == 1
    model = MultVAE(**VAE).fit(train, callbacks=[unlimited])
    assert not unlimited.hit and len(model.history_) == VAE["epochs"]
