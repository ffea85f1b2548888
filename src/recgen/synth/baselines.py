"""Baseline generators the report compares BehaviourGAN with.

- :class:`PopularitySampler`: each synthetic user gets an item count drawn from the real activity
  distribution and that many distinct items drawn without replacement with probability ∝ item
  popularity, independently of everything else (matches both marginals, no co-occurrence structure).
- :class:`VAEPriorSampler`: a Mult-VAE trained on the real rows; synthetic codes z ~ N(0, I) (the
  prior) are decoded and items drawn as in BehaviourGAN. The same decoder as BehaviourGAN's when
  built with :meth:`VAEPriorSampler.from_autoencoder`, so the comparison isolates the latent sampler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary
from recgen.errors import NotFittedError
from recgen.models.config import make_config, require
from recgen.models.multvae import MultVAE
from recgen.synth._sampling import (
    check_n_users,
    check_seed,
    draw_activity,
    rows_from_logits,
    synthetic_interactions,
)
from recgen.synth.behaviour_gan import _binary_rows


@dataclass(frozen=True)
class PopularitySamplerConfig:
    """Independent-popularity sampler options."""

    #: exponent on item counts (1 = proportional to popularity)
    power: float = 1.0

    def validate(self) -> None:
        require(self.power >= 0, "power", self.power, "use a non-negative exponent, e.g. 1.0.")


class PopularitySampler:
    """Users with real-distributed activity and items drawn ∝ popularity^power without replacement."""

    name = "popularity"

    def __init__(self, config: PopularitySamplerConfig | None = None, **overrides: Any) -> None:
        self.config = make_config(PopularitySamplerConfig, config, overrides)

    def fit(self, interactions: Interactions) -> PopularitySampler:
        x = _binary_rows(interactions, "interactions")
        counts = np.diff(x.indptr)
        self.items_: Vocabulary = interactions.items
        self.activity_: np.ndarray = counts[counts > 0].astype(np.int64)
        self.item_counts_: np.ndarray = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64)
        self.history_: list[dict[str, Any]] = []
        return self

    def sample(self, n_users: int, seed: int = 0) -> Interactions:
        if not hasattr(self, "items_"):
            raise NotFittedError("PopularitySampler is not fitted; call fit(interactions) first.")
        n = check_n_users(n_users)
        rng = np.random.default_rng(check_seed(seed))
        tgen = torch.Generator().manual_seed(check_seed(seed))
        counts = draw_activity(self.activity_, n, rng, len(self.items_))
        logp = torch.from_numpy(np.log(np.maximum(self.item_counts_, 1e-12) ** self.config.power)).float()
        rows = rows_from_logits(lambda a, b: logp.expand(b - a, -1), counts, len(self.items_), tgen, 1.0)
        return synthetic_interactions(rows, self.items_)


@dataclass(frozen=True)
class VAEPriorSamplerConfig:
    """Mult-VAE prior sampler options (the Mult-VAE is configured like BehaviourGAN's autoencoder)."""

    hidden_dims: tuple[int, ...] = (300,)
    latent_dim: int = 64
    epochs: int = 100
    batch_size: int = 500
    anneal_cap: float = 0.2
    temperature: float = 1.0
    seed: int = 0
    device: str = "auto"
    show_progress: bool = False

    def validate(self) -> None:
        require(self.temperature > 0, "temperature", self.temperature, "use a positive value, e.g. 1.0.")


class VAEPriorSampler:
    """Decode z ~ N(0, I) with a trained Mult-VAE; activity and item draw as in BehaviourGAN."""

    name = "vae-prior"

    def __init__(self, config: VAEPriorSamplerConfig | None = None, **overrides: Any) -> None:
        self.config = make_config(VAEPriorSamplerConfig, config, overrides)

    @classmethod
    def from_autoencoder(cls, autoencoder: MultVAE, activity: np.ndarray, temperature: float = 1.0
                         ) -> VAEPriorSampler:
        """A sampler over an already trained Mult-VAE (e.g. ``BehaviourGAN.autoencoder_``)."""
        c = autoencoder.config
        out = cls(hidden_dims=c.hidden_dims, latent_dim=c.latent_dim, epochs=c.epochs, batch_size=c.batch_size,
                  anneal_cap=float(c.anneal_cap), temperature=temperature, seed=c.seed, device=c.device)
        out.autoencoder_, out.items_ = autoencoder, autoencoder.items_
        out.activity_ = np.asarray(activity, dtype=np.int64)
        out.history_ = list(autoencoder.history_)
        return out

    def fit(self, interactions: Interactions) -> VAEPriorSampler:
        x = _binary_rows(interactions, "interactions")
        counts = np.diff(x.indptr)
        x = x[counts > 0]
        c = self.config
        steps = int(np.ceil(x.shape[0] / c.batch_size)) * c.epochs
        self.autoencoder_ = MultVAE(hidden_dims=c.hidden_dims, latent_dim=c.latent_dim, epochs=c.epochs,
                                    batch_size=c.batch_size, anneal_cap=c.anneal_cap, total_anneal_steps=steps,
                                    seed=c.seed, device=c.device, show_progress=c.show_progress)
        self.autoencoder_.fit(Interactions(x, items=interactions.items))
        self.items_: Vocabulary = interactions.items
        self.activity_: np.ndarray = counts[counts > 0].astype(np.int64)
        self.history_: list[dict[str, Any]] = list(self.autoencoder_.history_)
        return self

    def sample(self, n_users: int, seed: int = 0) -> Interactions:
        if not hasattr(self, "autoencoder_"):
            raise NotFittedError("VAEPriorSampler is not fitted; call fit(interactions) first.")
        n = check_n_users(n_users)
        seed = check_seed(seed)
        rng = np.random.default_rng(seed)
        ae = self.autoencoder_
        tgen = torch.Generator(device=ae.device_).manual_seed(seed)
        counts = draw_activity(self.activity_, n, rng, len(self.items_))
        d = ae.config.latent_dim
        ae.module_.eval()
        with torch.inference_mode():
            def logits(a: int, b: int) -> torch.Tensor:
                return ae.module_.decode(torch.randn(b - a, d, generator=tgen, device=ae.device_))

            rows = rows_from_logits(logits, counts, len(self.items_), tgen, self.config.temperature)
        return synthetic_interactions(rows, self.items_)
