"""RecVAE: a VAE with a composite prior and alternating encoder / decoder updates (Shenbin et al., WSDM 2020)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from recgen.models.neural import NeuralRecommender
from recgen.models.registry import register
from recgen.nn.layers import SparseLinear, sparse_dropout, sparse_row_l2_normalize
from recgen.nn.losses import multinomial_nll
from recgen.nn.priors import (
    RECVAE_PRIOR_WEIGHTS,
    RECVAE_WIDE_LOGVAR,
    composite_prior_log_density,
    kl_single_sample,
    swish,
    user_kl_weights,
)
from recgen.training import Batch, StepContext, TrainingConfig, build_optimizer
from recgen.training.config import require


@dataclass(frozen=True)
class RecVAEConfig(TrainingConfig):
    """RecVAE hyperparameters (defaults: the paper's / reference code's); an "epoch" is
    ``n_enc_epochs`` encoder passes followed by ``n_dec_epochs`` decoder passes. Inherits the training fields (epochs,
    batch_size, lr, weight_decay, optimizer, lr_schedule, lr_gamma, patience, eval_every, eval_metric,
    restore_best, seed, device, show_progress, num_threads, checkpoint_dir) of
    :class:`recgen.training.TrainingConfig`, documented there."""

    #: width of every dense encoder layer
    hidden_dim: int = 600
    #: size of the latent code z
    latent_dim: int = 200
    #: dense encoder layers (each sees the sum of all earlier layers' outputs; the reference code: 5)
    encoder_layers: int = 5
    #: epsilon of the encoder's layer norms (the reference code: 0.1)
    layer_norm_eps: float = 0.1
    #: dropout rate on the L2-normalised input during encoder passes (decoder passes use none)
    dropout: float = 0.5
    #: user-specific KL weight β_u = gamma · |x_u|; 0 switches to the constant ``beta``. 0.005 is the paper's
    #: (ML-20M); on the ML-1M given split 0.01 with batch_size 128 was best on valid (docs/benchmarks.md)
    gamma: float = 0.005
    #: constant KL weight, used only when gamma = 0
    beta: float = 0.2
    #: mixture weights of the composite prior [N(0, I), q_old(z|x), N(0, e^wide_logvar I)]
    prior_weights: tuple[float, ...] = RECVAE_PRIOR_WEIGHTS
    #: log-variance of the prior's wide component
    wide_logvar: float = RECVAE_WIDE_LOGVAR
    #: mixture per latent dimension (reference code) instead of over the joint density (the paper's formula)
    prior_per_dimension: bool = True
    #: encoder passes over the users per epoch (then the decoder passes)
    n_enc_epochs: int = 3
    #: decoder passes over the users per epoch, after the encoder passes
    n_dec_epochs: int = 1
    #: epochs (the paper: 50 on ML-20M)
    epochs: int = 50
    #: users per update
    batch_size: int = 500
    #: Adam learning rate of both the encoder's and the decoder's optimiser
    lr: float = 5e-4

    def validate(self) -> None:
        super().validate()
        for name in ("hidden_dim", "latent_dim", "encoder_layers", "n_enc_epochs", "n_dec_epochs"):
            v = getattr(self, name)
            require(v >= 1, name, v, "use a positive integer.")
        require(self.layer_norm_eps > 0, "layer_norm_eps", self.layer_norm_eps, "use a positive value, e.g. 0.1.")
        require(0.0 <= self.dropout < 1.0, "dropout", self.dropout, "use a rate in [0, 1), e.g. 0.5.")
        require(self.gamma >= 0, "gamma", self.gamma, "use 0 (constant beta) or a positive value, e.g. 0.005.")
        require(self.beta >= 0, "beta", self.beta, "use a non-negative KL weight, e.g. 0.2.")
        w = self.prior_weights
        require(len(w) == 3 and all(x > 0 for x in w) and math.isclose(sum(w), 1.0, abs_tol=1e-6),
                "prior_weights", w, "give three positive weights summing to 1, e.g. 0.15,0.75,0.1.")


class RecVAEEncoder(nn.Module):
    """x → (μ, log σ²): a sparse first layer, then dense layers with skip-sums, swish and layer norm.

    ``h_1 = LN(swish(W_1 x))``, ``h_l = LN(swish(W_l h_{l−1} + Σ_{j<l} h_j))`` (reference code's
    "dense connections"), then two linear heads for μ and log σ².
    """

    def __init__(self, n_items: int, hidden: int, latent: int, n_layers: int, eps: float) -> None:
        super().__init__()
        self.first = SparseLinear(n_items, hidden)
        self.dense = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(n_layers - 1))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden, eps=eps) for _ in range(n_layers))
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)

    def forward(self, cols: torch.Tensor, offsets: torch.Tensor, vals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norms[0](swish(self.first(cols, offsets, vals)))   # (B, hidden)
        skip = h
        for lin, norm in zip(self.dense, self.norms[1:], strict=True):
            h = norm(swish(lin(h) + skip))
            skip = skip + h
        return self.mu(h), self.logvar(h)


class RecVAEModule(nn.Module):
    """Encoder (:class:`RecVAEEncoder`) and a single linear decoder z → item logits."""

    def __init__(self, n_items: int, c: RecVAEConfig) -> None:
        super().__init__()
        self.encoder = RecVAEEncoder(n_items, c.hidden_dim, c.latent_dim, c.encoder_layers, c.layer_norm_eps)
        self.decoder = nn.Linear(c.latent_dim, n_items)


@register
class RecVAE(NeuralRecommender):
    """RecVAE of Shenbin, Alekseev, Tutubalina, Malykh & Nikolenko, "RecVAE: a New Variational
    Autoencoder for Top-N Recommendations with Implicit Feedback", WSDM 2020 (reference code:
    ilya-shenbin/RecVAE).

    Encoder: x / ‖x‖₂ → dropout → ``encoder_layers`` dense layers (swish, layer norm, each fed the sum
    of all earlier layers) → μ, log σ²; decoder: one linear layer to the item logits. Loss of a user:
    ``−Σ_i x_ui log softmax(f(z))_i + β_u · [log q(z|x) − log p(z)]`` at one sample z ~ q(z|x), with the
    composite prior p(z) = w₁ N(0, I) + w₂ q_old(z|x) + w₃ N(0, e^10 I) (q_old: the encoder frozen as it
    was at the start of the epoch) and β_u = γ·|x_u|. Every epoch makes ``n_enc_epochs`` shuffled
    passes updating only the encoder (its own Adam), then ``n_dec_epochs`` passes updating only the decoder
    (its own Adam) without input dropout. Scores are the decoder's logits at z = μ.

    Deviations from the paper / reference code:

    - The composite prior mixes the three Gaussians per latent dimension, as the reference code does
      (``prior_per_dimension=True``); the paper's formula mixes the joint densities
      (``prior_per_dimension=False``).
    - In the first epoch q_old is a copy of the initial encoder (the reference code uses a second,
      independently initialised encoder). Weights are initialised as torch's default (uniform ±1/√fan_in)
      but drawn from the run's seeded generator.
    - The decoder pass skips the KL term (it does not depend on the decoder; the reference code computes it
      and discards its gradient), so the logged ``loss`` of an epoch is the decoder pass's
      reconstruction loss and ``enc_loss`` / ``enc_kl`` are the encoder passes' means.
    - The first layer reads the sparse input directly; dropout masks are drawn for the nonzeros only.
    - The epoch is chosen by ``eval_metric`` (default NDCG@20; the paper: NDCG@100).
    """

    name = "recvae"
    config_cls = RecVAEConfig
    config: RecVAEConfig

    # ------------------------------------------------------------------ module
    def build_module(self, n_items: int) -> nn.Module:
        return RecVAEModule(n_items, self.config)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        with torch.no_grad():
            for m in module.modules():
                if isinstance(m, nn.Linear | SparseLinear):
                    fan_in = m.weight.shape[1] if isinstance(m, nn.Linear) else m.weight.shape[0]
                    bound = 1.0 / math.sqrt(fan_in)
                    m.weight.uniform_(-bound, bound, generator=generator)
                    m.bias.uniform_(-bound, bound, generator=generator)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"encoder": build_optimizer(self.module_.encoder.parameters(), self.config),
                "decoder": build_optimizer(self.module_.decoder.parameters(), self.config)}

    def _encode(self, encoder: nn.Module, batch: Batch, dropout: float,
                generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        vals = sparse_row_l2_normalize(batch.vals, batch.row_ids, batch.size)
        if dropout > 0 and generator is not None:
            vals = sparse_dropout(vals, dropout, generator)
        return encoder(batch.cols, batch.offsets, vals)

    @staticmethod
    def _sample(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    # ------------------------------------------------------------------ losses
    def kl_weights(self, batch: Batch) -> torch.Tensor:
        """β_u per user of the batch: γ·|x_u|, or the constant ``beta`` when γ = 0."""
        if self.config.gamma > 0:
            counts = torch.zeros(batch.size, dtype=batch.vals.dtype, device=batch.vals.device)
            counts.index_add_(0, batch.row_ids, batch.vals)
            return user_kl_weights(counts, self.config.gamma)
        return torch.full((batch.size,), self.config.beta, dtype=batch.vals.dtype, device=batch.vals.device)

    def encoder_loss(self, batch: Batch, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Negative ELBO of a batch for the encoder pass: ``{"loss", "nll", "kl"}`` (means over users)."""
        c = self.config
        if getattr(self, "_prior_encoder", None) is None:
            self.snapshot_prior()
        mu, logvar = self._encode(self.module_.encoder, batch, c.dropout, generator)
        z = self._sample(mu, logvar, generator)
        nll = multinomial_nll(self.module_.decoder(z), batch.row_ids, batch.cols, batch.vals)
        with torch.no_grad():
            old_mu, old_logvar = self._encode(self._prior_encoder, batch, 0.0, None)
        log_p = composite_prior_log_density(z, old_mu, old_logvar, c.prior_weights, c.wide_logvar,
                                            per_dimension=c.prior_per_dimension)
        kl = kl_single_sample(z, mu, logvar, log_p)                      # (B,)
        weighted = (self.kl_weights(batch) * kl).mean()
        return {"loss": nll + weighted, "nll": nll.detach(), "kl": kl.mean().detach()}

    def decoder_loss(self, batch: Batch, generator: torch.Generator) -> torch.Tensor:
        """Reconstruction loss of a batch for the decoder pass (encoder frozen, no input dropout)."""
        with torch.no_grad():
            mu, logvar = self._encode(self.module_.encoder, batch, 0.0, None)
            z = self._sample(mu, logvar, generator)
        return multinomial_nll(self.module_.decoder(z), batch.row_ids, batch.cols, batch.vals)

    # ------------------------------------------------------------------ alternation
    def snapshot_prior(self) -> None:
        """Freeze a copy of the current encoder as the prior's q_old(z|x)."""
        prior = copy.deepcopy(self.module_.encoder)
        prior.requires_grad_(False)
        prior.eval()
        self._prior_encoder = prior

    def on_epoch_start(self, ctx: StepContext) -> None:
        """Freeze q_old, then run the epoch's ``n_enc_epochs`` encoder passes and all but one of its
        ``n_dec_epochs`` decoder passes (the trainer's own pass over the rows is the last decoder pass, see
        :meth:`train_step`)."""
        self.snapshot_prior()
        c = self.config
        matrix = self.train_
        opt = ctx.optimizers["encoder"]
        decoder = self.module_.decoder
        decoder.requires_grad_(False)  # no decoder gradients are needed in this phase
        sums = {"loss": 0.0, "kl": 0.0}
        try:
            for _ in range(c.n_enc_epochs):
                perm = torch.randperm(matrix.shape[0], generator=ctx.generator, device=ctx.generator.device)
                perm = perm.cpu().numpy()
                for start in range(0, len(perm), c.batch_size):
                    batch = Batch.from_csr(matrix, np.sort(perm[start:start + c.batch_size]), self.device_)
                    out = self.encoder_loss(batch, ctx.generator)
                    opt.zero_grad(set_to_none=True)
                    out["loss"].backward()
                    opt.step()
                    sums["loss"] += float(out["loss"].detach()) * batch.size
                    sums["kl"] += float(out["kl"]) * batch.size
        finally:
            decoder.requires_grad_(True)
        n = max(1, c.n_enc_epochs * matrix.shape[0])
        self._enc_logs = {"enc_loss": sums["loss"] / n, "enc_kl": sums["kl"] / n}
        for _ in range(c.n_dec_epochs - 1):
            perm = torch.randperm(matrix.shape[0], generator=ctx.generator, device=ctx.generator.device)
            perm = perm.cpu().numpy()
            for start in range(0, len(perm), c.batch_size):
                batch = Batch.from_csr(matrix, np.sort(perm[start:start + c.batch_size]), self.device_)
                self.train_step(batch, ctx)

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        """One decoder update (optimised here with the decoder's Adam; the encoder is untouched)."""
        loss = self.decoder_loss(batch, ctx.generator)
        opt = ctx.optimizers["decoder"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach()), **getattr(self, "_enc_logs", {})}

    # ------------------------------------------------------------------ inference
    def forward_scores(self, batch: Batch) -> torch.Tensor:
        return self.module_.decoder(self.encode_batch(batch))

    def encode_batch(self, batch: Batch) -> torch.Tensor:
        return self._encode(self.module_.encoder, batch, 0.0, None)[0]

    def item_embeddings(self) -> np.ndarray:
        self._check_fitted()
        return self.module_.decoder.weight.detach().cpu().numpy().copy()
