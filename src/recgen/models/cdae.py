"""CDAE: a denoising autoencoder with a per-user input node (Wu et al., WSDM 2016)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from recgen.errors import DataFormatError
from recgen.models.neural import SCORE_CHUNK, NeuralRecommender
from recgen.models.registry import register
from recgen.nn.layers import SparseLinear, activation, init_reference_, sparse_dropout
from recgen.nn.losses import squared_error_sparse
from recgen.training import Batch, StepContext, TrainingConfig
from recgen.training.config import require


@dataclass(frozen=True)
class CDAEConfig(TrainingConfig):
    """CDAE hyperparameters; inherits the training fields (epochs, batch_size, lr, weight_decay, optimizer,
    lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device, show_progress,
    num_threads, checkpoint_dir) of :class:`recgen.training.TrainingConfig`, documented there."""

    #: hidden units K (the paper's default: 50)
    hidden_dim: int = 50
    #: corruption level q: each observed item is dropped with probability q, survivors scaled by 1/(1 − q)
    corruption: float = 0.2
    #: hidden-layer activation h(·)
    hidden_activation: Literal["sigmoid", "tanh", "relu", "identity"] = "sigmoid"
    #: reconstruction loss over all items: logistic (binary cross-entropy, sigmoid output) or squared error
    loss: Literal["bce", "squared"] = "bce"
    #: output activation f(·) of the squared loss (the BCE loss always uses sigmoid)
    output_activation: Literal["sigmoid", "identity"] = "sigmoid"
    #: L2 weight λ: loss + λ/2 (‖W‖² + ‖W'‖²) + λ/2 · mean over the batch's users of ‖V_u‖²
    l2: float = 1e-5
    #: passes over the training users
    epochs: int = 100
    #: users per update
    batch_size: int = 256
    #: Adam learning rate
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        require(self.hidden_dim >= 1, "hidden_dim", self.hidden_dim, "use a positive size, e.g. 50.")
        require(0.0 <= self.corruption < 1.0, "corruption", self.corruption, "use a level in [0, 1), e.g. 0.2.")
        require(self.l2 >= 0, "l2", self.l2, "use 0 or a positive weight, e.g. 1e-5.")


class CDAEModule(nn.Module):
    """``h = act(W x̃ + b + V_u)``, logits ``= W' h + b'`` with W a sparse-input layer and V one vector per
    training user."""

    def __init__(self, n_items: int, n_users: int, hidden: int, act: str) -> None:
        super().__init__()
        self.first = SparseLinear(n_items, hidden)
        self.users = nn.Embedding(n_users, hidden)
        self.act = activation(act)
        self.decoder = nn.Linear(hidden, n_items)

    def hidden(self, cols: torch.Tensor, offsets: torch.Tensor, vals: torch.Tensor,
               user_vec: torch.Tensor | None) -> torch.Tensor:
        pre = self.first(cols, offsets, vals)
        return self.act(pre if user_vec is None else pre + user_vec)


@register
class CDAE(NeuralRecommender):
    """Collaborative Denoising Auto-Encoder of Wu, DuBois, Zheng & Ester, "Collaborative Denoising
    Auto-Encoders for Top-N Recommender Systems", WSDM 2016.

    Input: the user's 0/1 row with drop-out corruption (each nonzero dropped with probability q, the
    others scaled by 1/(1 − q)); hidden ``h = act(Wᵀx̃ + b + V_u)`` with ``V_u`` the user's own input
    node; output ``f(W'ᵀh + b')``. Loss (mean over users) summed over **all** items — either logistic
    (binary cross-entropy on the sigmoid output, default) or squared error on ``f`` — plus the L2 term
    described at ``l2``. Adam updates; weights Glorot-uniform, V_u starts at 0.

    Scores are the output logits ``W'ᵀh + b'`` with the uncorrupted input (same ranking as f of them).

    **Users unseen in training** (``user_rows`` = −1 or not given, e.g. held-out users or
    ``recommend(items=...)``) are scored with ``V_u = 0``: the prior mean of the user node under the L2
    penalty, i.e. the model acts as the plain denoising autoencoder it shares with every user. Known users
    (``user_rows`` ≥ 0, as the evaluation sets of per-user splits pass, and ``recommend(users=...)``) use
    their learned ``V_u``.

    Deviations from the paper:

    - No negative sampling: the loss covers every item of the batch's users (exact, affordable because
      only a batch is densified); the paper samples negatives for speed.
    - Adam instead of plain SGD / AdaGrad; the L2 term on V is averaged over the batch's users (the
      paper's objective penalises all parameters once per objective evaluation).
    """

    name = "cdae"
    config_cls = CDAEConfig
    config: CDAEConfig

    def build_module(self, n_items: int) -> nn.Module:
        return CDAEModule(n_items, len(self.users_), self.config.hidden_dim, self.config.hidden_activation)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)
        with torch.no_grad():
            module.users.weight.zero_()

    # ------------------------------------------------------------------ forward
    def _logits(self, batch: Batch, users: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
        """Output logits (B, n_items); ``users``: training row per batch row (−1: unknown → V_u = 0)."""
        vals = batch.vals
        if generator is not None:
            vals = sparse_dropout(vals, self.config.corruption, generator)
        user_vec = None
        if users is not None:
            known = users >= 0
            user_vec = self.module_.users(users.clamp_min(0)) * known[:, None].to(batch.vals.dtype)
        return self.module_.decoder(self.module_.hidden(batch.cols, batch.offsets, vals, user_vec))

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        c = self.config
        logits = self._logits(batch, batch.index, ctx.generator)
        if c.loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, batch.dense(), reduction="sum") / batch.size
        else:
            out = torch.sigmoid(logits) if c.output_activation == "sigmoid" else logits
            recon = squared_error_sparse(out, batch.row_ids, batch.cols, batch.vals)
        m = self.module_
        reg = m.first.weight.pow(2).sum() + m.decoder.weight.pow(2).sum()
        reg = reg + m.users(batch.index).pow(2).sum() / batch.size
        return {"loss": recon + 0.5 * c.l2 * reg, "recon": recon.detach()}

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        """Scores of histories without a user node (V_u = 0, the unseen-user policy)."""
        return self._logits(batch, None, None)

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        self.module_.eval()
        n_users = self.module_.users.num_embeddings
        if user_rows is not None:
            user_rows = np.asarray(user_rows, dtype=np.int64).ravel()
            if len(user_rows) != rows.shape[0] or (user_rows >= n_users).any() or (user_rows < -1).any():
                raise DataFormatError(
                    f"user_rows must give one training-row index in [-1, {n_users - 1}] per row of rows "
                    f"({rows.shape[0]}); got {len(user_rows)} values in [{user_rows.min(initial=0)}, "
                    f"{user_rows.max(initial=0)}]. Pass -1 for users unseen in training."
                )
        out = np.empty(rows.shape, dtype=np.float32)
        for start in range(0, rows.shape[0], SCORE_CHUNK):
            batch = Batch.from_csr(rows, slice(start, start + SCORE_CHUNK), self.device_)
            users = None
            if user_rows is not None:
                users = torch.as_tensor(user_rows[start:start + batch.size], device=self.device_)
            out[start:start + batch.size] = self._logits(batch, users, None).float().cpu().numpy()
        return out

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        """Hidden representation of a history without the user node."""
        return self.module_.hidden(batch.cols, batch.offsets, batch.vals, None)

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.module_.decoder.weight.detach().cpu().numpy().copy()
