"""BehaviourGAN: synthetic users from a GAN in the latent space of a trained Mult-VAE."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

import recgen
from recgen._io import atomic_dir, load_arrays, read_json, save_arrays, write_json
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ArtifactError, DataFormatError, NotFittedError
from recgen.models.config import config_to_dict, make_config, require
from recgen.models.multvae import MultVAE
from recgen.models.neural import resolve_device
from recgen.synth import nets
from recgen.synth._sampling import (
    check_n_users,
    check_seed,
    draw_activity,
    gumbel_top_n,
    row_hashes,
    rows_from_logits,
    synthetic_interactions,
)
from recgen.training import Batch, StepContext, Trainer, TrainingConfig
from recgen.training.config import SEED_INIT, derived_seed

log = logging.getLogger(__name__)

FORMAT = "recgen-synth-generator"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class BehaviourGANConfig(TrainingConfig):
    """BehaviourGAN hyperparameters; inherits the trainer fields of :class:`recgen.training.TrainingConfig`
    (``epochs``, ``batch_size``, ``lr`` … apply to the GAN stage; the ``ae_*`` fields to the autoencoder)."""

    #: "critic" (WGAN-GP) or "energy" (EBGAN: an autoencoder as the discriminator, margin loss)
    discriminator: Literal["critic", "energy"] = "critic"
    #: Mult-VAE hidden layers and latent size (the space the GAN works in)
    ae_hidden_dims: tuple[int, ...] = (300,)
    ae_latent_dim: int = 64
    #: Mult-VAE epochs and batch size; its KL weight rises linearly to ``ae_anneal_cap`` over the run.
    #: on validation users 150 beat 50 on ML-100K (EASE TSTR ≈ 0.88 vs 0.79), 100 beat 30 on ml1m (≈ 0.86 vs 0.77)
    ae_epochs: int = 100
    ae_batch_size: int = 500
    ae_anneal_cap: float = 0.2
    #: generator noise size and hidden layers (the discriminator uses the same hidden sizes)
    noise_dim: int = 32
    hidden_dims: tuple[int, ...] = (256, 256)
    #: discriminator updates per generator update (None: 5 for the critic, 1 for the energy model)
    n_critic: int | None = None
    #: WGAN-GP gradient-penalty weight λ
    gp_weight: float = 10.0
    #: EBGAN margin m (energies are mean squared errors of standardised codes, so 1 ≈ "predict the mean")
    margin: float = 1.0
    #: EBGAN pull-away-term weight in the generator loss (0 disables it)
    pt_weight: float = 0.1
    #: EBGAN bottleneck size
    energy_bottleneck: int = 16
    #: condition generator and discriminator on the user's log activity (item count)
    condition_on_activity: bool = True
    #: softmax temperature of the item draw (< 1 sharpens towards the decoder's top items). 0.3 had the best
    #: EASE TSTR ratio of {0.3, 0.5, 0.7} on **validation** users of ML-100K (with 150 autoencoder epochs) and
    #: of ml1m at 1× users (100 epochs); bench/synth_validation.py, docs/benchmarks.md, "Synthetic users"
    temperature: float = 0.3
    #: rounds of item-popularity calibration after training (0 disables): a per-item logit offset
    #: b_i += damping · log(p_real_i / p_synthetic_i), measured on ``calibration_users`` sampled users
    calibration_rounds: int = 5
    calibration_users: int = 5000
    #: re-draw any synthetic row identical to a training row (compared by 64-bit row hashes)
    reject_copies: bool = True
    #: Adam betas of both GAN optimisers (WGAN-GP paper: 0.5 / 0.9 for this kind of setup)
    beta1: float = 0.5
    beta2: float = 0.9
    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-4

    def validate(self) -> None:
        super().validate()
        require(self.discriminator in ("critic", "energy"), "discriminator", self.discriminator,
                "use 'critic' (WGAN-GP) or 'energy' (EBGAN).")
        for name in ("ae_latent_dim", "ae_epochs", "ae_batch_size", "noise_dim", "energy_bottleneck"):
            require(getattr(self, name) >= 1, name, getattr(self, name), "use a positive integer.")
        require(all(d >= 1 for d in self.ae_hidden_dims + self.hidden_dims), "hidden_dims",
                (self.ae_hidden_dims, self.hidden_dims), "use positive layer sizes, e.g. 256.")
        require(self.n_critic is None or self.n_critic >= 1, "n_critic", self.n_critic, "use None or >= 1.")
        require(self.temperature > 0, "temperature", self.temperature, "use a positive value, e.g. 1.0.")
        require(self.calibration_rounds >= 0 and self.calibration_users >= 1, "calibration_rounds",
                (self.calibration_rounds, self.calibration_users), "use calibration_rounds >= 0 and calibration_users >= 1.")
        require(self.margin > 0, "margin", self.margin, "use a positive margin, e.g. 1.0.")
        require(self.gp_weight >= 0 and self.pt_weight >= 0 and self.ae_anneal_cap >= 0, "weights",
                (self.gp_weight, self.pt_weight, self.ae_anneal_cap), "use non-negative weights.")

    @property
    def d_steps(self) -> int:
        return self.n_critic if self.n_critic is not None else (5 if self.discriminator == "critic" else 1)


class BehaviourGAN:
    """Synthetic users that look like real ones: a conditional GAN in a Mult-VAE's latent space.

    Design (defended by the fidelity / privacy / utility report, docs/benchmarks.md, section "Synthetic users"):

    1. A Mult-VAE (Liang et al., WWW 2018) is trained on the real rows; each user's posterior mean
       μ(x) is their latent code (standardised per dimension).
    2. A GAN learns the distribution of codes conditioned on log activity: generator
       ``G(ε, log n) → code``; discriminator either a WGAN-GP critic (Gulrajani et al., 2017) or an
       EBGAN energy autoencoder (Zhao et al., 2017), see :mod:`recgen.synth.nets`. A GAN on 64-d
       continuous codes avoids the binary/continuous mismatch of a GAN on raw rows (a critic tells a
       soft row from a 0/1 row trivially) and trains in seconds on a CPU.
    3. ``sample``: draw each synthetic user's item count ``n`` from the real empirical activity
       distribution, generate a code conditioned on ``log n``, decode it to item logits and draw ``n``
       distinct items without replacement from ``softmax(logits / temperature + b)`` (Gumbel top-n).
    4. Calibration (``calibration_rounds``): ``b`` is a per-item logit offset fitted after training so
       that the synthetic item-popularity distribution matches the real one (multiplicative updates
       ``b_i += ½ log(p_real_i / p_syn_i)`` on a fresh sample each round). It only uses the item
       marginals, which sampling without replacement from a smooth decoder otherwise flattens.

    Guards: WGAN-GP (or EBGAN's pull-away term) against mode collapse; the item draw is random given
    the code, so a decoded row is not a stored row; with ``reject_copies`` any row equal to a training
    row is re-drawn (only 64-bit row hashes are kept, never the rows). The artifact holds no training
    rows. Deviations: EBGAN's discriminator and the critic see codes, not item rows.

    After ``fit``: ``history_`` (per-epoch GAN losses), ``ae_history_`` (autoencoder epochs),
    ``items_`` (the real item vocabulary), ``activity_`` (the training users' item counts).
    """

    name = "behaviour-gan"
    config_cls = BehaviourGANConfig

    def __init__(self, config: BehaviourGANConfig | None = None, **overrides: Any) -> None:
        self.config: BehaviourGANConfig = make_config(BehaviourGANConfig, config, overrides)

    def __repr__(self) -> str:
        return f"BehaviourGAN({self.config})"

    # ------------------------------------------------------------------ networks
    @property
    def _cond_dim(self) -> int:
        return 1 if self.config.condition_on_activity else 0

    def _build(self) -> None:
        c = self.config
        d = c.ae_latent_dim
        gen = nets.LatentGenerator(c.noise_dim, self._cond_dim, c.hidden_dims, d)
        if c.discriminator == "critic":
            disc: nn.Module = nets.Critic(d, self._cond_dim, c.hidden_dims)
        else:
            disc = nets.EnergyDiscriminator(d, self._cond_dim, c.hidden_dims, c.energy_bottleneck)
        module = nn.ModuleDict({"generator": gen, "discriminator": disc})
        g = torch.Generator().manual_seed(derived_seed(c.seed, SEED_INIT) ^ 0x5EED)
        for p in module.parameters():  # seeded init (torch's default init draws from the global RNG)
            if p.ndim == 2:
                bound = 1.0 / math.sqrt(p.shape[1])
                with torch.no_grad():
                    p.uniform_(-bound, bound, generator=g)
            else:
                with torch.no_grad():
                    p.zero_()
        self.module_ = module.to(self.device_)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        return {"discriminator": torch.optim.Adam(self.module_["discriminator"].parameters(), lr=c.lr, betas=betas),
                "generator": torch.optim.Adam(self.module_["generator"].parameters(), lr=c.lr, betas=betas)}

    # ------------------------------------------------------------------ losses (also used by the tests)
    def _noise(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randn(n, self.config.noise_dim, generator=generator, device=self.device_)

    def discriminator_loss(self, real: torch.Tensor, cond: torch.Tensor,
                           generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """Discriminator loss on a batch of real standardised codes (the generator's output detached)."""
        c = self.config
        gen, disc = self.module_["generator"], self.module_["discriminator"]
        with torch.no_grad():
            fake = gen(self._noise(real.shape[0], generator), cond)
        if c.discriminator == "critic":
            d_real, d_fake = disc(real, cond), disc(fake, cond)
            gp = nets.gradient_penalty(disc, real, fake, cond, generator)
            loss = nets.wgan_critic_loss(d_real, d_fake) + c.gp_weight * gp
            return loss, {"wdist": float((d_real.mean() - d_fake.mean()).detach()), "gp": float(gp.detach()),
                          "g_loss": float(-d_fake.mean().detach())}
        e_real, _ = disc(real, cond)
        e_fake, _ = disc(fake, cond)
        loss = nets.energy_discriminator_loss(e_real, e_fake, c.margin)
        e_r, e_f = float(e_real.mean().detach()), float(e_fake.mean().detach())
        return loss, {"e_real": e_r, "e_fake": e_f, "g_loss": e_f}

    def generator_loss(self, cond: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Generator loss on fresh noise with conditions ``cond``."""
        c = self.config
        fake = self.module_["generator"](self._noise(cond.shape[0], generator), cond)
        disc = self.module_["discriminator"]
        if c.discriminator == "critic":
            return nets.wgan_generator_loss(disc(fake, cond))
        e_fake, h = disc(fake, cond)
        return nets.energy_generator_loss(e_fake, h, c.pt_weight)

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]:
        """One discriminator update, and a generator update every ``d_steps`` batches (GAN: steps itself)."""
        x = batch.dense()
        d = self.config.ae_latent_dim
        real, cond = x[:, :d], x[:, d:]
        opt_d, opt_g = ctx.optimizers["discriminator"], ctx.optimizers["generator"]
        d_loss, logs = self.discriminator_loss(real, cond, ctx.generator)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if ctx.step % self.config.d_steps == 0:
            g_loss = self.generator_loss(cond, ctx.generator)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
        value = float(d_loss.detach())
        return {"loss": value, "d_loss": value, **logs}

    def score(self, rows: Any, *, user_rows: np.ndarray | None = None) -> np.ndarray:  # Trainable protocol
        raise NotImplementedError("BehaviourGAN generates users; it does not score items.")

    # ------------------------------------------------------------------ fit
    def _autoencoder(self) -> MultVAE:
        c = self.config
        return MultVAE(hidden_dims=c.ae_hidden_dims, latent_dim=c.ae_latent_dim, epochs=c.ae_epochs,
                       batch_size=c.ae_batch_size, anneal_cap=c.ae_anneal_cap, total_anneal_steps=0, seed=c.seed,
                       device=c.device, show_progress=c.show_progress, num_threads=c.num_threads)

    def fit(self, interactions: Interactions, *, autoencoder: MultVAE | None = None) -> BehaviourGAN:
        """Train the autoencoder (or reuse ``autoencoder``, a Mult-VAE already fitted on the same
        interactions), then the GAN on the users' codes; returns ``self``."""
        x = _binary_rows(interactions, "interactions")
        c = self.config
        self.device_ = resolve_device(c.device)
        self.items_: Vocabulary = interactions.items
        counts = np.diff(x.indptr).astype(np.int64)
        x = x[counts > 0]
        self.activity_: np.ndarray = counts[counts > 0]
        if autoencoder is None:
            n_updates = math.ceil(x.shape[0] / c.ae_batch_size) * c.ae_epochs
            ae = dataclasses.replace(self._autoencoder().config, total_anneal_steps=n_updates)
            autoencoder = MultVAE(ae).fit(Interactions(x, items=interactions.items))
        elif not isinstance(autoencoder, MultVAE) or autoencoder.items_ != interactions.items:
            raise DataFormatError("autoencoder must be a MultVAE fitted on these interactions (same items); "
                                  "pass autoencoder=None to train one.")
        elif autoencoder.config.latent_dim != c.ae_latent_dim or autoencoder.config.hidden_dims != c.ae_hidden_dims:
            raise DataFormatError(f"autoencoder has hidden_dims={autoencoder.config.hidden_dims}, latent_dim="
                                  f"{autoencoder.config.latent_dim}; set ae_hidden_dims / ae_latent_dim to match.")
        self.autoencoder_ = autoencoder
        self.ae_history_: list[dict[str, Any]] = list(self.autoencoder_.history_)
        codes = self.autoencoder_.encode(x).astype(np.float64)
        self.code_mean_ = codes.mean(axis=0).astype(np.float32)
        self.code_std_ = (codes.std(axis=0) + 1e-6).astype(np.float32)
        logn = np.log(self.activity_.astype(np.float64))
        self.cond_mean_ = np.float32(logn.mean())
        self.cond_std_ = np.float32(logn.std() + 1e-6)
        z = (codes - self.code_mean_) / self.code_std_
        feats = np.hstack([z, self._cond(self.activity_)]).astype(np.float32)
        self.train_hashes_: np.ndarray = np.unique(row_hashes(x))
        self._build()
        trainer = Trainer(c)
        trainer.fit(self, sp.csr_matrix(feats))
        self.history_: list[dict[str, Any]] = trainer.history
        self.module_.eval()
        self._calibrate(np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64))
        return self

    def _calibrate(self, item_counts: np.ndarray) -> None:
        """Fit the per-item logit offset ``item_bias_`` to the real item shares (see the class docstring)."""
        c = self.config
        self.item_bias_: np.ndarray = np.zeros(len(item_counts), dtype=np.float32)
        self.calibration_: list[float] = []
        if c.calibration_rounds == 0:
            return
        from recgen.synth.report_marginals import jensen_shannon

        p_real = (item_counts + 0.5) / (item_counts + 0.5).sum()
        for r in range(c.calibration_rounds + 1):
            fake = self.sample(c.calibration_users, seed=derived_seed(c.seed, 1000 + r) % 2**31).matrix
            cnt = np.bincount(fake.indices, minlength=len(item_counts)).astype(np.float64)
            self.calibration_.append(jensen_shannon(item_counts, cnt))
            if r == c.calibration_rounds:
                break
            p_syn = (cnt + 0.5) / (cnt + 0.5).sum()
            self.item_bias_ = (self.item_bias_ + 0.5 * np.log(p_real / p_syn)).astype(np.float32)
        log.info("popularity calibration: JSD per round %s", [round(v, 4) for v in self.calibration_])

    def _cond(self, counts: np.ndarray) -> np.ndarray:
        if not self.config.condition_on_activity:
            return np.zeros((len(counts), 0), dtype=np.float32)
        logn = np.log(np.asarray(counts, dtype=np.float64))
        return ((logn - self.cond_mean_) / self.cond_std_).astype(np.float32)[:, None]

    # ------------------------------------------------------------------ sample
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "module_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("BehaviourGAN is not fitted; call fit(interactions) or BehaviourGAN.load(path).")

    def _decode_codes(self, z: torch.Tensor) -> torch.Tensor:
        mean = torch.from_numpy(self.code_mean_).to(self.device_)
        std = torch.from_numpy(self.code_std_).to(self.device_)
        return self.autoencoder_.module_.decode(z * std + mean)

    def sample(self, n_users: int, seed: int = 0) -> Interactions:
        """``n_users`` synthetic users (binary rows over the real item vocabulary), deterministic given ``seed``."""
        self._check_fitted()
        n = check_n_users(n_users)
        seed = check_seed(seed)
        rng = np.random.default_rng(seed)
        tgen = torch.Generator(device=self.device_).manual_seed(seed)
        n_items = len(self.items_)
        counts = draw_activity(self.activity_, n, rng, n_items)
        self.module_.eval()
        self.autoencoder_.module_.eval()
        with torch.inference_mode():
            rows = self._draw(counts, tgen)
            if self.config.reject_copies:
                for _ in range(10):
                    bad = np.flatnonzero(np.isin(row_hashes(rows), self.train_hashes_))
                    if not len(bad):
                        break
                    redo = self._draw(counts[bad], tgen)
                    rows = _replace_rows(rows, bad, redo)
        return synthetic_interactions(rows, self.items_)

    def _draw(self, counts: np.ndarray, tgen: torch.Generator) -> sp.csr_matrix:
        cond = torch.from_numpy(self._cond(counts)).to(self.device_)
        gen = self.module_["generator"]

        bias = torch.from_numpy(self._bias()).to(self.device_) * self.config.temperature

        def logits(start: int, stop: int) -> torch.Tensor:
            return self._decode_codes(gen(self._noise(stop - start, tgen), cond[start:stop])) + bias

        return rows_from_logits(logits, counts, len(self.items_), tgen, self.config.temperature)

    def _bias(self) -> np.ndarray:
        bias = getattr(self, "item_bias_", None)   # None while the calibration itself samples
        return bias if bias is not None else np.zeros(len(self.items_), dtype=np.float32)

    def complete(self, rows: sp.csr_matrix, n_extra: np.ndarray, seed: int = 0) -> sp.csr_matrix:
        """For each row (a real user's history), ``n_extra[r]`` new items drawn without replacement from
        the autoencoder's decoding of that user's code (never an item the row already has)."""
        self._check_fitted()
        rows = sp.csr_matrix(rows, dtype=np.float32)
        n_extra = np.asarray(n_extra, dtype=np.int64)
        if rows.shape[1] != len(self.items_) or len(n_extra) != rows.shape[0]:
            raise DataFormatError(f"rows has shape {rows.shape} and n_extra {len(n_extra)} entries; pass rows over "
                                  f"the generator's {len(self.items_)} items and one count per row.")
        tgen = torch.Generator(device=self.device_).manual_seed(check_seed(seed))
        parts = []
        with torch.inference_mode():
            mu = torch.from_numpy(self.autoencoder_.encode(rows)).to(self.device_)
            for start in range(0, rows.shape[0], 1024):
                sl = slice(start, start + 1024)
                logits = self.autoencoder_.module_.decode(mu[sl])
                room = len(self.items_) - np.diff(rows[sl].indptr)
                parts.append(gumbel_top_n(logits, np.minimum(n_extra[sl], room), tgen, self.config.temperature,
                                          exclude=rows[sl]))
        return sp.vstack(parts, format="csr") if parts else sp.csr_matrix(rows.shape, dtype=np.float32)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Directory with config.json, weights.safetensors and vocab.json (no training rows; never pickled)."""
        self._check_fitted()
        arrays = {f"gan.{k}": v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        arrays.update({f"ae.{k}": v for k, v in self.autoencoder_._state().items()})
        arrays.update({"activity": self.activity_.astype(np.int64), "train_hashes": self.train_hashes_,
                       "code_mean": self.code_mean_, "code_std": self.code_std_,
                       "cond": np.array([self.cond_mean_, self.cond_std_], dtype=np.float32),
                       "item_bias": self._bias()})
        with atomic_dir(path) as tmp:
            write_json(tmp / "config.json", {
                "format": FORMAT, "format_version": FORMAT_VERSION, "generator": self.name,
                "config": config_to_dict(self.config), "recgen_version": recgen.__version__,
                "meta": {"history": self.history_, "ae_history": self.ae_history_,
                         "calibration_jsd": getattr(self, "calibration_", [])},
            })
            write_json(tmp / "vocab.json", {"items": self.items_.to_list()})
            save_arrays(tmp / "weights.safetensors", arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BehaviourGAN:
        """Load a directory written by :meth:`save`."""
        p = Path(path)
        if not p.is_dir():
            raise ArtifactError(f"path={str(p)!r} is not a directory; pass the --out directory of `recgen synth fit`.")
        meta = read_json(p / "config.json")
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"{str(p)!r} is not a recgen generator of format {FORMAT} v{FORMAT_VERSION} "
                                f"(found {meta.get('format')!r} v{meta.get('format_version')!r}); re-run `recgen synth fit`.")
        gan = cls(**meta["config"])
        arrays = load_arrays(p / "weights.safetensors")
        gan.items_ = Vocabulary(read_json(p / "vocab.json")["items"])
        gan.device_ = resolve_device(gan.config.device)
        ae = gan._autoencoder()
        ae.items_, ae.users_ = gan.items_, Vocabulary([])
        ae.train_ = sp.csr_matrix((0, len(gan.items_)), dtype=np.float32)
        ae._load_state({k[3:]: v for k, v in arrays.items() if k.startswith("ae.")})
        gan.autoencoder_ = ae
        gan.activity_ = arrays["activity"]
        gan.train_hashes_ = arrays["train_hashes"]
        gan.code_mean_, gan.code_std_ = arrays["code_mean"], arrays["code_std"]
        gan.cond_mean_, gan.cond_std_ = np.float32(arrays["cond"][0]), np.float32(arrays["cond"][1])
        gan._build()
        gan.module_.load_state_dict({k[4:]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                                     if k.startswith("gan.")})
        gan.module_.eval()
        gan.item_bias_ = arrays["item_bias"]
        gan.calibration_ = list(meta["meta"].get("calibration_jsd", []))
        gan.history_ = list(meta["meta"].get("history", []))
        gan.ae_history_ = list(meta["meta"].get("ae_history", []))
        return gan


def _binary_rows(interactions: Interactions, name: str) -> sp.csr_matrix:
    """The 0/1 pattern of an :class:`Interactions` (values > 0 count as interactions)."""
    if not isinstance(interactions, Interactions):
        raise DataFormatError(f"{name} must be recgen.data.Interactions, got {type(interactions).__name__}; "
                              "load data with recgen.data.read_interactions.")
    m = interactions.matrix.copy()
    m.data = (m.data > 0).astype(np.float32)
    m.eliminate_zeros()
    if m.nnz == 0:
        raise DataFormatError(f"{name} has no positive interactions; check the data and its filters.")
    return m


def _replace_rows(rows: sp.csr_matrix, idx: np.ndarray, new: sp.csr_matrix) -> sp.csr_matrix:
    lil = rows.tolil()
    for j, r in enumerate(idx):
        lil.rows[r] = new.indices[new.indptr[j]:new.indptr[j + 1]].tolist()
        lil.data[r] = [1.0] * len(lil.rows[r])
    out = lil.tocsr().astype(np.float32)
    out.sort_indices()
    return out
