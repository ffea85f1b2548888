"""Pure loss terms and samplers of CFGAN (Chae et al., CIKM 2018), all in torch.

Every term here is differentiable end to end: the discriminator's and the generator's losses are
built from logits with ``softplus`` (``−log σ(x) = softplus(−x)``, ``−log(1 − σ(x)) = softplus(x)``),
so they are exact and never produce ``log 0``. Shapes: ``B`` rows (users in the item-based mode),
``n`` columns (items).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

#: generator objectives: the paper's minimax ``log(1 − D(fake))`` or the non-saturating ``−log D(fake)``
GeneratorObjective = Literal["minimax", "nonsaturating"]


def sample_unobserved(observed: torch.Tensor, share: float, generator: torch.Generator | None) -> torch.Tensor:
    """Bool mask (B, n): each unobserved column of each row chosen independently with probability ``share``.

    One ``torch.rand`` for the whole batch and a comparison (no per-row loops, no sort): the expected
    set size is ``share · n_unobserved_u`` (the paper draws exactly that many; on ML-100K the count
    differs by ~2 % (one standard deviation), the inclusion probability of every column is the same).
    ``observed`` is a bool (B, n) tensor; observed columns are never chosen.
    """
    if share <= 0.0:
        return torch.zeros_like(observed)
    keys = torch.rand(observed.shape, generator=generator, device=observed.device)
    return (keys < share) & ~observed


def partial_mask(fake: torch.Tensor, observed: torch.Tensor, pm_mask: torch.Tensor | None) -> torch.Tensor:
    """``r̂_u ⊙ (e_u + k_u)``: generated values kept on observed and PM-sampled columns, 0 elsewhere."""
    keep = observed if pm_mask is None else observed | pm_mask
    return fake * keep.to(fake.dtype)


def discriminator_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``mean_u [−log D(r_u|c_u) − log(1 − D(r̂_u|c_u))]`` from the discriminator's logits (B,)."""
    return (F.softplus(-real_logits) + F.softplus(fake_logits)).mean()


def generator_adversarial(fake_logits: torch.Tensor, objective: GeneratorObjective = "minimax") -> torch.Tensor:
    """The generator's adversarial term from the discriminator's logits on generated rows (B,).

    ``minimax`` (the paper): ``mean_u log(1 − D(r̂_u|c_u))`` (to minimise, ≤ 0);
    ``nonsaturating``: ``mean_u −log D(r̂_u|c_u)`` (stronger gradients while D wins).
    """
    if objective == "minimax":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


def zero_reconstruction(fake: torch.Tensor, zr_mask: torch.Tensor) -> torch.Tensor:
    """ZR penalty ``mean_u Σ_{j ∈ N_zr(u)} (r̂_uj − 0)²`` (the paper multiplies it by α)."""
    return (fake.square() * zr_mask.to(fake.dtype)).sum(dim=1).mean()
