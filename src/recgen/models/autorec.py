"""AutoRec: autoencoders for explicit rating prediction (Sedhain et al., WWW 2015)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import DataFormatError
from recgen.models.base import as_rows
from recgen.models.neural import NeuralRecommender
from recgen.models.registry import register
from recgen.nn.layers import SparseLinear, activation, init_reference_
from recgen.training import Batch, Callback, StepContext, Trainer, TrainingConfig
from recgen.training.config import require

log = logging.getLogger(__name__)

#: users per chunk of the batched ridge solves of I-AutoRec's fold-in (each holds a (d+1)² matrix)
FOLD_IN_CHUNK = 64


@dataclass(frozen=True)
class AutoRecConfig(TrainingConfig):
    """AutoRec hyperparameters (defaults: the paper's best ML-1M model, I-AutoRec with 500 sigmoid units);
    inherits the training fields (epochs, batch_size, lr, weight_decay, optimizer, lr_schedule, lr_gamma,
    patience, eval_every, eval_metric, restore_best, seed, device, show_progress, num_threads,
    checkpoint_dir) of :class:`recgen.training.TrainingConfig`, documented there."""

    #: "item": I-AutoRec (one item's ratings by all users in, out); "user": U-AutoRec (one user's ratings)
    mode: Literal["item", "user"] = "item"
    #: hidden units
    hidden_dim: int = 500
    #: hidden-layer activation g(·) (the decoder f is the identity, the paper's best pairing)
    encoder_activation: Literal["sigmoid", "tanh", "relu", "identity"] = "sigmoid"
    #: λ of the objective Σ_observed (r − r̂)² + λ/2 (‖W‖² + ‖V‖²)
    l2: float = 1.0
    #: weight of the unobserved entries (target 0) in the loss: 0 is the paper; > 0 for implicit 0/1 data
    unobserved_weight: float = 0.0
    #: epoch selection with validation: "rmse" (validation target ratings) or "ranking" (eval_metric)
    selection: Literal["rmse", "ranking"] = "rmse"
    #: passes over the rows (items for I-AutoRec, users for U-AutoRec)
    epochs: int = 200
    #: rows per update
    batch_size: int = 128
    #: Adam learning rate
    lr: float = 1e-3

    def validate(self) -> None:
        super().validate()
        require(self.hidden_dim >= 1, "hidden_dim", self.hidden_dim, "use a positive size, e.g. 500.")
        require(self.l2 >= 0, "l2", self.l2, "use 0 or a positive weight, e.g. 1.0.")
        require(self.unobserved_weight >= 0, "unobserved_weight", self.unobserved_weight,
                "use 0 (observed ratings only, as the paper) or a positive weight.")


class AutoRecModule(nn.Module):
    """``r̂ = W g(V r + μ) + b`` with a sparse-input encoder V (rows: input units) and a linear decoder W."""

    def __init__(self, n_in: int, n_out: int, hidden: int, act: str) -> None:
        super().__init__()
        self.encoder = SparseLinear(n_in, hidden)
        self.act = activation(act)
        self.decoder = nn.Linear(hidden, n_out)

    def encode(self, cols: torch.Tensor, offsets: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
        return self.act(self.encoder(cols, offsets, vals))


def masked_squared_error(pred: torch.Tensor, row_ids: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor,
                         unobserved_weight: float = 0.0) -> torch.Tensor:
    """``Σ_observed (r − r̂)² + c Σ_unobserved r̂²`` of a batch (a sum, not a mean).

    ``pred`` (B, n): reconstructions; the observed ratings come sparsely (``row_ids``, ``cols``, ``vals``).
    With ``c = 0`` (AutoRec) the unobserved entries of ``pred`` do not enter the loss at all.
    """
    picked = pred[row_ids, cols]
    observed = (vals - picked).pow(2).sum()
    if unobserved_weight <= 0:
        return observed
    return observed + unobserved_weight * (pred.pow(2).sum() - picked.pow(2).sum())


class _RMSESelection(Callback):
    """Validation RMSE after every ``eval_every`` epochs, early stopping and best-weights bookkeeping."""

    def __init__(self, model: AutoRec, validation: EvalSet) -> None:
        self.model, self.validation = model, validation
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad = 0

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        from recgen.evaluation.rating import evaluate_ratings

        c = self.model.config
        if trainer.epoch % c.eval_every and trainer.epoch != c.epochs:
            return
        value = evaluate_ratings(self.model, self.validation).rmse
        record["val_rmse"] = value
        if self.best is None or value < self.best:
            self.best, self.best_epoch, self.bad = value, trainer.epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.module_.state_dict().items()}
        else:
            self.bad += 1
            if c.patience is not None and self.bad >= c.patience:
                trainer.should_stop = True


@register
class AutoRec(NeuralRecommender):
    """AutoRec of Sedhain, Menon, Sanner & Xie, "AutoRec: Autoencoders Meet Collaborative Filtering",
    WWW 2015 — an explicit-rating model (``task = "explicit"``) that also ranks.

    I-AutoRec (``mode="item"``, default) reconstructs each item's vector of ratings by the training users,
    U-AutoRec (``mode="user"``) each user's vector of ratings: ``r̂ = W g(V r + μ) + b``, g = sigmoid,
    identity output. Objective: ``Σ_observed (r − r̂)² + λ/2 (‖W‖² + ‖V‖²)`` — unobserved entries are
    input zeros and never enter the loss. Rating predictions: :meth:`predict` (the
    :class:`recgen.evaluation.RatingPredictor` interface); ranking scores: the reconstructed ratings.

    **Users and I-AutoRec.** A user is a column of the item vectors: the prediction for user u and item
    i is ``r̂_ui = w_u · h_i + b_u`` with h_i = g(V r_i + μ) item i's code (from the *training* ratings)
    and (w_u, b_u) the decoder row of u. So a **known user** (``user_rows`` ≥ 0) is predicted from their
    training column; the ratings in ``rows`` are not read for them. A **new user** would be a new input
    and output column: the encoder has no weights for it, and the decoder row is what training would
    fit. recgen folds the user in by solving that decoder row in closed form with the item codes fixed:
    ``min Σ_i c_i (r_ui − w·h_i − b)² + λ/2 ‖(w, b) − (w̄, b̄)‖²`` over the user's ratings in ``rows``
    (c_i = 1 observed, ``unobserved_weight`` otherwise; (w̄, b̄) the mean training decoder row, so a user
    with no ratings gets the average user's predictions). The new column's effect on the item codes is
    ignored (its encoder weights are unknown). U-AutoRec needs nothing special: it encodes ``rows``.

    Deviations from the paper: Adam on minibatches of rows (the paper: L-BFGS / RProp on the full
    objective), with the objective estimated per batch as ``(1/B) Σ_batch rows Σ_observed (r − r̂)² +
    λ/(2N) (‖W‖² + ‖V‖²)`` (N rows in all: the full objective / N); the epoch is chosen on validation
    RMSE (``selection="rmse"``, the paper tunes on 10 % of training); the paper predicts 3 for users or
    items without training ratings, recgen uses the fold-in above and the item code of an all-zero input.
    ``unobserved_weight`` > 0 is an extension for implicit 0/1 data (AutoRec's masked loss would learn a
    constant there). Predictions are not clipped: pass ``clip=(1, 5)`` to ``evaluate_ratings``.
    """

    name = "autorec"
    task = "explicit"
    config_cls = AutoRecConfig
    config: AutoRecConfig

    # ------------------------------------------------------------------ module and training
    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        n = len(self.users_) if c.mode == "item" else n_items  # input = output size: one column per row entry
        return AutoRecModule(n, n, c.hidden_dim, c.encoder_activation)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_reference_(module, generator)

    def training_matrix(self, train: Interactions) -> sp.csr_matrix:
        return sp.csr_matrix(train.matrix.T) if self.config.mode == "item" else train.matrix

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        c, m = self.config, self.module_
        pred = m.decoder(m.encode(batch.cols, batch.offsets, batch.vals))
        sse = masked_squared_error(pred, batch.row_ids, batch.cols, batch.vals, c.unobserved_weight)
        n_rows = len(self.users_) if c.mode == "user" else len(self.items_)
        reg = m.encoder.weight.pow(2).sum() + m.decoder.weight.pow(2).sum()
        return {"loss": sse / batch.size + 0.5 * c.l2 * reg / n_rows, "sse": sse.detach() / batch.size}

    def _fit(self, train: Interactions, validation: EvalSet | None) -> None:
        self._codes = None
        if validation is None or self.config.selection == "ranking":
            super()._fit(train, validation)
            return
        selection = _RMSESelection(self, validation.nonempty())
        opts = getattr(self, "_fit_options", {"resume": False, "callbacks": ()})
        self._fit_options = {**opts, "callbacks": (selection, *opts["callbacks"])}
        super()._fit(train, None)
        if self.config.restore_best and selection.best_state is not None:
            self.module_.load_state_dict(selection.best_state)
        self.best_epoch_ = selection.best_epoch
        self.best_val_rmse_: float | None = selection.best
        self._codes = None

    def on_epoch_start(self, ctx: StepContext) -> None:
        self._codes = None  # the weights are about to change

    # ------------------------------------------------------------------ I-AutoRec user columns
    def _item_codes(self) -> torch.Tensor:
        """Φ = [h_i, 1] (n_items, d + 1): every item's code from its training ratings, and a 1 for b_u."""
        if getattr(self, "_codes", None) is None:
            items = sp.csr_matrix(self.train_.T)
            parts = []
            for start in range(0, items.shape[0], 4096):
                b = Batch.from_csr(items, slice(start, start + 4096), self.device_)
                parts.append(self.module_.encode(b.cols, b.offsets, b.vals))
            h = torch.cat(parts)
            self._codes = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype, device=h.device)], dim=1)
        return self._codes

    def _fold_in(self, rows: sp.csr_matrix, phi: torch.Tensor) -> torch.Tensor:
        """Decoder rows θ = (w, b) (n, d + 1) of new users from their ratings (ridge towards the mean row)."""
        c = self.config
        dec = self.module_.decoder
        theta_bar = torch.cat([dec.weight.mean(0), dec.bias.mean().reshape(1)])
        rho = max(0.5 * c.l2, 1e-3)
        eye = torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device)
        gram_all = phi.T @ phi if c.unobserved_weight > 0 else None
        out = []
        for start in range(0, rows.shape[0], FOLD_IN_CHUNK):
            b = Batch.from_csr(rows, slice(start, start + FOLD_IN_CHUNK), self.device_)
            p = phi[b.cols]                                               # (nnz, d + 1)
            outer = (p[:, :, None] * p[:, None, :]) * (1.0 - c.unobserved_weight)
            a = torch.zeros(b.size, phi.shape[1], phi.shape[1], dtype=phi.dtype, device=phi.device)
            a.index_add_(0, b.row_ids, outer)
            a = a + rho * eye
            if gram_all is not None:
                a = a + c.unobserved_weight * gram_all
            rhs = torch.zeros(b.size, phi.shape[1], dtype=phi.dtype, device=phi.device)
            rhs.index_add_(0, b.row_ids, p * b.vals[:, None])
            out.append(torch.linalg.solve(a, rhs + rho * theta_bar))
        return torch.cat(out) if out else theta_bar.new_zeros((0, phi.shape[1]))

    def _user_params(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> torch.Tensor:
        """θ_u = (w_u, b_u) (n, d + 1): trained decoder rows for known users, fold-in for the others."""
        n_users = len(self.users_)
        known = np.full(rows.shape[0], -1, dtype=np.int64) if user_rows is None else \
            np.asarray(user_rows, dtype=np.int64).ravel()
        if len(known) != rows.shape[0] or (known >= n_users).any() or (known < -1).any():
            raise DataFormatError(f"user_rows must give one training-row index in [-1, {n_users - 1}] per row "
                                  f"({rows.shape[0]} rows); got {len(known)} values. Pass -1 for new users.")
        dec = self.module_.decoder
        theta = torch.cat([dec.weight, dec.bias[:, None]], dim=1)
        out = torch.empty(rows.shape[0], theta.shape[1], dtype=theta.dtype, device=theta.device)
        is_known = known >= 0
        out[torch.as_tensor(is_known, device=theta.device)] = theta[torch.as_tensor(known[is_known],
                                                                                   device=theta.device)]
        new = np.flatnonzero(~is_known)
        if len(new):
            out[torch.as_tensor(new, device=theta.device)] = self._fold_in(rows[new], self._item_codes())
        return out

    # ------------------------------------------------------------------ inference
    def _reconstruct(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        """Predicted ratings (n, n_items) of every item for the users of ``rows`` (chunked by the caller)."""
        self.module_.eval()
        if self.config.mode == "user":
            out = np.empty(rows.shape, dtype=np.float32)
            for start in range(0, rows.shape[0], 2048):
                b = Batch.from_csr(rows, slice(start, start + 2048), self.device_)
                pred = self.module_.decoder(self.module_.encode(b.cols, b.offsets, b.vals))
                out[start:start + b.size] = pred.float().cpu().numpy()
            return out
        theta = self._user_params(rows, user_rows)
        return (theta @ self._item_codes().T).float().cpu().numpy()

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        return self._reconstruct(rows, user_rows)

    def forward_scores(self, batch: Batch) -> torch.Tensor:
        """U-AutoRec reconstruction of a batch of rating rows (I-AutoRec scores through :meth:`score`)."""
        if self.config.mode == "item":
            raise NotImplementedError("I-AutoRec scores users through score(rows, user_rows=...).")
        return self.module_.decoder(self.module_.encode(batch.cols, batch.offsets, batch.vals))

    def predict(self, rows: Any, targets: Any, *, user_rows: np.ndarray | None = None) -> np.ndarray:
        """Predicted ratings at the stored entries of ``targets`` (CSR order), from the ratings in ``rows``.

        Implements :class:`recgen.evaluation.RatingPredictor`; ``targets``' values are never read.
        """
        self._check_fitted()
        x = as_rows(rows, self.n_items)
        t = as_rows(targets, self.n_items, name="targets")
        if t.shape[0] != x.shape[0]:
            raise DataFormatError(f"targets has {t.shape[0]} rows but rows has {x.shape[0]}; pass one target row "
                                  "per input row.")
        t = t.copy()
        t.sort_indices()
        out = np.empty(t.nnz, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, x.shape[0], 1024):
                stop = min(start + 1024, x.shape[0])
                ur = None if user_rows is None else np.asarray(user_rows)[start:stop]
                pred = self._reconstruct(x[start:stop], ur)
                sub = t[start:stop]
                r = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
                out[t.indptr[start]:t.indptr[stop]] = pred[r, sub.indices]
        return out

    def item_embeddings(self) -> np.ndarray:
        """I-AutoRec: the items' codes h_i; U-AutoRec: the decoder's item rows."""
        self._check_fitted()
        with torch.inference_mode():
            self.module_.eval()
            emb = self._item_codes()[:, :-1] if self.config.mode == "item" else self.module_.decoder.weight
            return emb.detach().float().cpu().numpy().copy()

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._codes = None
        super()._load_state(arrays)

    def _extra_meta(self) -> dict[str, Any]:
        return {**super()._extra_meta(), "best_val_rmse": getattr(self, "best_val_rmse_", None)}

    def _load_extra_meta(self, meta: dict[str, Any]) -> None:
        super()._load_extra_meta(meta)
        self.best_val_rmse_ = meta.get("best_val_rmse")
