"""Pure densities and KL estimates for RecVAE's composite prior (Shenbin et al., WSDM 2020).

Every function is stateless; shapes are given as (B, d) for a batch of B users and a latent size d.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

#: mixture weights of RecVAE's composite prior: [standard normal, old posterior, wide normal]
RECVAE_PRIOR_WEIGHTS: tuple[float, float, float] = (3 / 20, 3 / 4, 1 / 10)
#: log-variance of the wide ("uniform-like") component N(0, e^10 I) of the composite prior
RECVAE_WIDE_LOGVAR = 10.0

_LOG_2PI = math.log(2.0 * math.pi)


def log_normal_pdf(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Element-wise log N(z | μ, σ²) with ``logvar = log σ²`` (broadcasting; no sum over dimensions)."""
    return -0.5 * (logvar + _LOG_2PI + (z - mu).pow(2) / logvar.exp())


def composite_prior_log_density(z: torch.Tensor, old_mu: torch.Tensor, old_logvar: torch.Tensor,
                                weights: Sequence[float] = RECVAE_PRIOR_WEIGHTS,
                                wide_logvar: float = RECVAE_WIDE_LOGVAR, *,
                                per_dimension: bool = True) -> torch.Tensor:
    """log p(z) of RecVAE's composite prior, one value per user (B,).

    p(z) = w₁ N(z | 0, I) + w₂ N(z | μ_old, σ²_old) + w₃ N(z | 0, e^{wide_logvar} I), where μ_old, σ²_old
    come from the encoder frozen at the previous epoch.

    ``per_dimension=True`` (the reference code, ``CompositePrior.forward``): the mixture is taken in each
    latent dimension separately and the log-densities summed over dimensions, i.e. p(z) = Π_k Σ_j w_j
    N(z_k | ·). ``per_dimension=False``: the mixture of the three multivariate densities, as the paper's
    equation writes it. Both use logsumexp (no under/overflow for far-away z).
    """
    w = torch.as_tensor([float(x) for x in weights], dtype=z.dtype, device=z.device)
    zero = torch.zeros((), dtype=z.dtype, device=z.device)
    wide = torch.full((), float(wide_logvar), dtype=z.dtype, device=z.device)
    comps = torch.stack([log_normal_pdf(z, zero, zero), log_normal_pdf(z, old_mu, old_logvar),
                         log_normal_pdf(z, zero, wide)], dim=-1)            # (B, d, 3)
    if per_dimension:
        return torch.logsumexp(comps + w.log(), dim=-1).sum(dim=-1)
    return torch.logsumexp(comps.sum(dim=-2) + w.log(), dim=-1)


def kl_single_sample(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                     log_prior: torch.Tensor) -> torch.Tensor:
    """One-sample estimate of KL(q(z|x) ‖ p(z)) per user (B,): ``log q(z|x) − log p(z)`` at z ~ q.

    ``log_prior`` is log p(z) per user (e.g. :func:`composite_prior_log_density`).
    """
    return log_normal_pdf(z, mu, logvar).sum(dim=-1) - log_prior


def user_kl_weights(counts: torch.Tensor, gamma: float) -> torch.Tensor:
    """RecVAE's user-specific KL weight β_u = γ · |x_u| (``counts`` = sum of each user's row)."""
    return gamma * counts


def swish(x: torch.Tensor) -> torch.Tensor:
    """Swish activation x · sigmoid(x) (RecVAE's encoder)."""
    return x * torch.sigmoid(x)
