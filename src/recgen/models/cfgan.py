"""CFGAN: vector-wise collaborative-filtering GAN (Chae, Kang, Kim & Lee, CIKM 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recgen.data.interactions import Interactions
from recgen.errors import DataFormatError
from recgen.models.neural import SCORE_CHUNK, NeuralRecommender
from recgen.models.registry import register
from recgen.nn.gan_losses import (
    discriminator_bce,
    generator_adversarial,
    partial_mask,
    sample_unobserved,
    zero_reconstruction,
)
from recgen.nn.layers import mlp
from recgen.training import Batch, StepContext, TrainingConfig, build_optimizer
from recgen.training.config import require


@dataclass(frozen=True)
class CFGANConfig(TrainingConfig):
    """CFGAN hyperparameters. Defaults: the paper's ML-100K setting as its authors' reference code runs it
    (ZR+PM = "zp", S_zr = S_pm = 0.7, α = 0.03, G 1×400, D 1×125, sigmoid hidden units, linear G output,
    Adam 1e-4 / 1e-4, L2 0.001 on G and 0 on D, batches G 32 / D 64, 4 G : 2 D passes), except ``mode``
    (see the class docstring); inherits the training fields (epochs, batch_size, lr, weight_decay,
    optimizer, lr_schedule, lr_gamma, patience, eval_every, eval_metric, restore_best, seed, device,
    show_progress, num_threads, checkpoint_dir) of :class:`recgen.training.TrainingConfig`. ``lr`` and
    ``weight_decay`` are the generator's, ``batch_size`` the discriminator's batch (rows per trainer batch)."""

    #: "user" (user-based CFGAN): G generates a user's vector over items, conditioned on the user's
    #: purchase vector; scores any history. "item" (item-based, the paper's choice on ML-100K): G generates
    #: an item's vector over the training users, conditioned on the item's vector; scores training users only
    mode: Literal["user", "item"] = "user"
    #: "zr" zero-reconstruction, "pm" partial masking, "zp" both (independent samples for each)
    scheme: Literal["zr", "pm", "zp"] = "zp"
    #: share S_zr of each row's unobserved entries pushed towards 0 by the ZR penalty (per update)
    s_zr: float = 0.7
    #: share S_pm of each row's unobserved entries whose generated values the discriminator sees
    s_pm: float = 0.7
    #: weight α of the ZR penalty α · Σ_{j ∈ N_zr} r̂_uj²
    zr_weight: float = 0.03
    #: generator hidden layer sizes (input: condition [+ noise], output: one value per column)
    g_hidden: tuple[int, ...] = (400,)
    #: discriminator hidden layer sizes (input: the vector and its condition, concatenated)
    d_hidden: tuple[int, ...] = (125,)
    #: activation of every hidden layer (both networks); D's output is a logit
    hidden_activation: Literal["sigmoid", "relu", "tanh"] = "sigmoid"
    #: G's output r̂: "linear" (the reference code: an unbounded affine output, which D sees and ZR penalises)
    #: or "sigmoid" (r̂ ∈ [0, 1])
    g_output: Literal["linear", "sigmoid"] = "linear"
    #: size of a N(0, I) noise vector appended to G's condition in training (0: none, as the paper's best
    #: setup); scoring uses the noise's mean, 0, so scores are deterministic
    noise_dim: int = 0
    #: the generator's adversarial term: "nonsaturating" −log D(fake) (the reference code) or the paper's
    #: equation, "minimax" log(1 − D(fake))
    g_objective: Literal["minimax", "nonsaturating"] = "nonsaturating"
    #: discriminator learning rate (the generator uses ``lr``)
    d_lr: float = 1e-4
    #: discriminator L2 weight decay (the generator uses ``weight_decay``)
    d_weight_decay: float = 0.0
    #: generator passes over each trainer batch (each pass in chunks of ``g_batch_size`` rows)
    g_steps: int = 4
    #: discriminator updates per trainer batch (each on the whole batch, fresh negative samples)
    d_steps: int = 2
    #: rows per generator update
    g_batch_size: int = 32
    #: rows per discriminator update (trainer batch)
    batch_size: int = 64
    #: generator learning rate
    lr: float = 1e-4
    #: generator L2 weight decay (Adam: ``weight_decay · w`` added to the gradient, i.e. the reference
    #: code's 0.001 · ½‖θ‖² term in G's loss, biases included)
    weight_decay: float = 1e-3
    #: passes over the rows (each batch: d_steps D updates, then g_steps G passes)
    epochs: int = 300
    #: stop after this many validations without improvement
    patience: int | None = 10
    #: validate every this many epochs
    eval_every: int = 5

    def validate(self) -> None:
        super().validate()
        require(self.mode in ("user", "item"), "mode", self.mode, "use user or item.")
        require(self.scheme in ("zr", "pm", "zp"), "scheme", self.scheme, "use zr, pm or zp.")
        for name in ("s_zr", "s_pm"):
            v = getattr(self, name)
            require(0.0 <= v <= 1.0, name, v, "use a share in [0, 1], e.g. 0.7.")
        require(self.zr_weight >= 0, "zr_weight", self.zr_weight, "use a non-negative weight, e.g. 0.03.")
        for name in ("g_hidden", "d_hidden"):
            v = getattr(self, name)
            require(all(d >= 1 for d in v), name, v, "use positive layer sizes, e.g. (400,).")
        require(self.hidden_activation in ("sigmoid", "relu", "tanh"), "hidden_activation",
                self.hidden_activation, "use sigmoid, relu or tanh.")
        require(self.g_output in ("linear", "sigmoid"), "g_output", self.g_output, "use linear or sigmoid.")
        require(self.d_weight_decay >= 0, "d_weight_decay", self.d_weight_decay, "use 0 or a positive value.")
        require(self.noise_dim >= 0, "noise_dim", self.noise_dim, "use 0 (no noise) or a positive size.")
        require(self.g_objective in ("minimax", "nonsaturating"), "g_objective", self.g_objective,
                "use minimax or nonsaturating.")
        require(self.d_lr > 0, "d_lr", self.d_lr, "use a positive learning rate, e.g. 1e-4.")
        for name in ("g_steps", "d_steps", "g_batch_size"):
            v = getattr(self, name)
            require(v >= 1, name, v, "use a positive integer.")


class CFGANModule(nn.Module):
    """Generator ``[c ; z] → g_hidden… → n`` and discriminator ``[x ; c] → d_hidden… → 1`` (logit).

    G's last layer is affine; ``g_output`` says whether r̂ is that value ("linear") or its sigmoid.
    """

    def __init__(self, n: int, g_hidden: tuple[int, ...], d_hidden: tuple[int, ...], act: str,
                 noise_dim: int = 0, g_output: str = "linear") -> None:
        super().__init__()
        self.n, self.noise_dim, self.g_output = n, noise_dim, g_output
        self.generator = mlp((n + noise_dim, *g_hidden, n), act, last_activation=False)
        self.discriminator = mlp((2 * n, *d_hidden, 1), act, last_activation=False)

    def generate_logits(self, condition: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """G's affine output (B, n); ``noise`` None means z = 0 (when ``noise_dim`` > 0)."""
        if self.noise_dim:
            if noise is None:
                noise = condition.new_zeros(condition.shape[0], self.noise_dim)
            condition = torch.cat([condition, noise], dim=1)
        return self.generator(condition)

    def generate(self, condition: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """r̂ (B, n): the affine output itself ("linear") or its sigmoid."""
        out = self.generate_logits(condition, noise)
        return torch.sigmoid(out) if self.g_output == "sigmoid" else out

    def discriminate(self, vector: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of D(vector | condition) = P(real)."""
        return self.discriminator(torch.cat([vector, condition], dim=1)).squeeze(1)


def init_cfgan_(module: nn.Module, generator: torch.Generator, bias_bound: float = 0.01) -> None:
    """The reference code's initialisation: Glorot-uniform weights, biases uniform in ±``bias_bound``."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=generator)
                nn.init.uniform_(m.bias, -bias_bound, bias_bound, generator=generator)


@register
class CFGAN(NeuralRecommender):
    """CFGAN of Chae, Kang, Kim & Lee, "CFGAN: A Generic Collaborative Filtering Framework based on
    Generative Adversarial Networks", CIKM 2018; defaults checked against the authors' reference code
    (TensorFlow, ML-100K parameters) and its re-run by Pérez Maurera, Ferrari Dacrema & Cremonesi (ECIR 2022).

    G maps a row's purchase vector c_u (binary) to r̂_u = G(c_u) (affine output, or σ of it); D scores
    (x, c_u). With e_u the purchase indicator, N_pm / N_zr random shares S_pm / S_zr of the row's
    unobserved columns (drawn afresh for every update, independently) and k_u the indicator of N_pm:

    - D minimises ``mean_u [−log D(r_u|c_u) − log(1 − D(r̂_u ⊙ (e_u + k_u) | c_u))]`` (r_u = e_u for
      implicit data; under "zr" alone k_u = 0, i.e. D sees r̂_u ⊙ e_u), plus ``d_weight_decay`` L2;
    - G minimises ``mean_u [−log D(r̂_u ⊙ (e_u + k_u) | c_u) + α Σ_{j ∈ N_zr} r̂_uj²]`` (no ZR term under
      "pm"; ``g_objective="minimax"``: ``log(1 − D(·))``, the paper's equation), plus ``weight_decay`` L2.

    A row is a user in ``mode="user"`` and an item in ``mode="item"`` (G then generates an item's
    purchase vector over the training users; scores are read off transposed). Each trainer batch of
    ``batch_size`` rows does ``d_steps`` discriminator updates on the whole batch (r̂ computed without
    gradient to G), then ``g_steps`` shuffled passes of the generator over the batch in chunks of
    ``g_batch_size`` rows; two Adam optimisers, stepped by this model. So an epoch is, as one outer
    iteration of the reference code, ``d_steps`` D passes and ``g_steps`` G passes over all rows, and the
    reference code's "epochs" (counted in G passes: 750–1000 on ML-100K) are ``g_steps`` × recgen epochs.
    Scores are r̂ before any sigmoid (monotone). The epoch is chosen on validation (``eval_metric``).

    Deviations from the paper / its reference code:

    - ``mode`` defaults to "user" (user-based), because it scores any history, including users unseen in
      training; the reference code runs ML-100K (and Ciao, ML-1M) item-based: pass ``mode="item"``.
    - D and G alternate per batch (D steps, then G passes over the same rows) instead of whole passes of
      D over all rows followed by whole passes of G; the number of updates per row is the same.
    - N_zr / N_pm are drawn afresh for every update (the reference code draws them once per outer
      iteration), each unobserved column independently with probability S (one ``torch.rand`` per
      batch) instead of exactly ⌊S·n_unobserved⌋ columns: same inclusion probability, a set size that
      varies by ~2 % on ML-100K.
    - Early stopping on validation: the reference code has no validation set; it trains for a fixed
      number of epochs (drawn from {750, …, 1000} G passes on ML-100K) and evaluates on the test set.
    - Losses are computed from logits with softplus (exact, no epsilon inside the logs); every term is torch.
    - ``noise_dim`` defaults to 0 (no noise, as the reference code); with noise, scoring uses z = 0.
    - The paper's text writes the minimax G loss and σ-bounded outputs; the defaults follow the reference
      code (non-saturating loss, linear output), ``g_objective`` / ``g_output`` select the paper's forms.
    - Ratings are binarised (every observed entry is a purchase).
    - mode="item" scores only users seen in training (``user_rows``).
    """

    name = "cfgan"
    config_cls = CFGANConfig
    config: CFGANConfig

    # ------------------------------------------------------------------ structure
    def _vector_len(self) -> int:
        return len(self.items_) if self.config.mode == "user" else len(self.users_)

    def build_module(self, n_items: int) -> nn.Module:
        c = self.config
        return CFGANModule(self._vector_len(), c.g_hidden, c.d_hidden, c.hidden_activation, c.noise_dim,
                           c.g_output)

    def init_module(self, module: nn.Module, generator: torch.Generator) -> None:
        init_cfgan_(module, generator)

    def training_matrix(self, train: Interactions) -> sp.csr_matrix:
        m = train.matrix if self.config.mode == "user" else train.matrix.T.tocsr()
        return _binary(m)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        m: CFGANModule = self.module_
        c = self.config
        return {"generator": build_optimizer(m.generator.parameters(), c),
                "discriminator": build_optimizer(m.discriminator.parameters(), c, lr=c.d_lr,
                                                 weight_decay=c.d_weight_decay)}

    # ------------------------------------------------------------------ losses
    def sample_masks(self, observed: torch.Tensor, generator: torch.Generator | None
                     ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(ZR mask, PM mask) for a bool (B, n) ``observed``; None for a scheme's unused part."""
        c = self.config
        zr = sample_unobserved(observed, c.s_zr, generator) if c.scheme in ("zr", "zp") else None
        pm = sample_unobserved(observed, c.s_pm, generator) if c.scheme in ("pm", "zp") else None
        return zr, pm

    def _noise(self, rows: int, generator: torch.Generator | None) -> torch.Tensor | None:
        if not self.config.noise_dim:
            return None
        return torch.randn((rows, self.config.noise_dim), generator=generator, device=self.device_)

    def discriminator_loss(self, real: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """D's loss on a dense binary batch ``real`` (B, n); G's output is computed without gradient."""
        m: CFGANModule = self.module_
        observed = real > 0
        _, pm = self.sample_masks(observed, generator)
        with torch.no_grad():
            fake = m.generate(real, self._noise(real.shape[0], generator))
        shown = partial_mask(fake, observed, pm)
        return discriminator_bce(m.discriminate(real, real), m.discriminate(shown, real))

    def generator_loss(self, real: torch.Tensor, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        """G's loss on a dense binary batch: {"loss", "adversarial", "zr"} (gradient reaches G only
        through ``loss``; D's parameters receive gradients too, but the G step never steps them)."""
        m: CFGANModule = self.module_
        observed = real > 0
        zr, pm = self.sample_masks(observed, generator)
        fake = m.generate(real, self._noise(real.shape[0], generator))
        adv = generator_adversarial(m.discriminate(partial_mask(fake, observed, pm), real), self.config.g_objective)
        penalty = zero_reconstruction(fake, zr) if zr is not None else fake.new_zeros(())
        return {"loss": adv + self.config.zr_weight * penalty, "adversarial": adv, "zr": penalty}

    # ------------------------------------------------------------------ training
    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        c = self.config
        real = batch.dense()
        opt_g, opt_d = ctx.optimizers["generator"], ctx.optimizers["discriminator"]
        d_total = 0.0
        for _ in range(c.d_steps):
            d_loss = self.discriminator_loss(real, ctx.generator)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            d_total += float(d_loss.detach())
        g_total = adv_total = zr_total = 0.0
        g_updates = 0
        for _ in range(c.g_steps):  # one shuffled pass over the batch's rows per G step
            order = torch.randperm(batch.size, generator=ctx.generator, device=real.device)
            for take in order.split(c.g_batch_size):
                g = self.generator_loss(real[take], ctx.generator)
                opt_g.zero_grad(set_to_none=True)
                opt_d.zero_grad(set_to_none=True)
                g["loss"].backward()
                opt_g.step()
                g_total += float(g["loss"].detach())
                adv_total += float(g["adversarial"].detach())
                zr_total += float(g["zr"].detach())
                g_updates += 1
        opt_d.zero_grad(set_to_none=True)
        return {"loss": g_total / g_updates, "d_loss": d_total / c.d_steps, "g_adversarial": adv_total / g_updates,
                "zr": zr_total / g_updates}

    # ------------------------------------------------------------------ scoring
    def forward_scores(self, batch: Batch) -> torch.Tensor:
        x = batch.dense()
        return self.module_.generate_logits((x > 0).to(x.dtype))

    def _score(self, rows: sp.csr_matrix, user_rows: np.ndarray | None) -> np.ndarray:
        if self.config.mode == "user":
            return super()._score(rows, user_rows)
        if user_rows is None or np.any(np.asarray(user_rows) < 0):
            raise DataFormatError(
                f"CFGAN with mode='item' generates items' vectors over the training users, so it scores only "
                f"users seen in training; got user_rows={user_rows if user_rows is None else 'with -1 entries'}. "
                "Pass users=[...] of the training set, or use mode='user' to score any history.")
        user_rows = np.asarray(user_rows, dtype=np.int64)
        self.module_.eval()
        cond = _binary(self.train_.T.tocsr())  # (n_items, n_users): each item's users
        out = np.empty((len(user_rows), cond.shape[0]), dtype=np.float32)
        cols = torch.from_numpy(user_rows).to(self.device_)
        for start in range(0, cond.shape[0], SCORE_CHUNK):
            batch = Batch.from_csr(cond, slice(start, start + SCORE_CHUNK), self.device_)
            part = self.forward_scores(batch)[:, cols]  # (items in chunk, users)
            out[:, start:start + batch.size] = part.T.float().cpu().numpy()
        return out


def _binary(m: sp.spmatrix) -> sp.csr_matrix:
    """A float32 CSR copy of ``m`` with every stored positive value set to 1."""
    out = sp.csr_matrix(m, dtype=np.float32, copy=True)
    out.data = (out.data > 0).astype(np.float32)
    out.eliminate_zeros()
    return out
