"""Networks and pure loss functions of :class:`~recgen.synth.BehaviourGAN` (latent-space GAN).

Two discriminator options share one generator:

- ``"critic"`` — a WGAN-GP critic (Gulrajani et al., NeurIPS 2017): ``L_D = E[D(fake)] − E[D(real)]
  + λ·E[(‖∇D(x̂)‖ − 1)²]`` on random interpolates x̂; ``L_G = −E[D(fake)]``.
- ``"energy"`` — an autoencoder as the discriminator (EBGAN, Zhao, Mathieu & LeCun, ICLR 2017).
  The energy of an input is its reconstruction error ``E(x) = mean_j (x_j − AE(x)_j)²``.
  ``L_D = E(real) + max(0, m − E(fake))``: the discriminator **lowers** the energy of real rows and
  **pushes** the energy of generated rows up to the margin ``m`` (no further: the hinge stops there).
  ``L_G = E(fake)`` (+ ``pt_weight`` × the pull-away term on the AE bottleneck, EBGAN's guard against
  mode collapse). The textbook form ``||x − D(x)||²`` is this energy of *real* rows only; the signs
  are: + for real energy in ``L_D``, − (inside the hinge) for fake energy in ``L_D``, + in ``L_G``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(dims: Sequence[int], *, out_act: nn.Module | None = None, slope: float = 0.2,
        out_bias: bool = True) -> nn.Sequential:
    """Linear layers ``dims[0] → … → dims[-1]`` with LeakyReLU between them."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        last = i == len(dims) - 2
        layers.append(nn.Linear(dims[i], dims[i + 1], bias=out_bias or not last))
        if i < len(dims) - 2:
            layers.append(nn.LeakyReLU(slope))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class LatentGenerator(nn.Module):
    """``G(ε, c)``: noise (B, noise_dim) and condition (B, cond_dim) → a standardised latent code (B, code_dim)."""

    def __init__(self, noise_dim: int, cond_dim: int, hidden: Sequence[int], code_dim: int) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = mlp([noise_dim + cond_dim, *hidden, code_dim])

    def forward(self, noise: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([noise, cond], dim=1))


class Critic(nn.Module):
    """WGAN critic ``D(x, c)`` → (B,) unbounded scores (higher = more real)."""

    def __init__(self, code_dim: int, cond_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        # no output bias: it cancels in E[D(fake)] − E[D(real)] and in the penalty, so it could never learn
        self.net = mlp([code_dim + cond_dim, *hidden, 1], out_bias=False)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, cond], dim=1)).squeeze(1)


class EnergyDiscriminator(nn.Module):
    """EBGAN discriminator: an autoencoder over ``[x, c]``; :meth:`energy` is the reconstruction error."""

    def __init__(self, code_dim: int, cond_dim: int, hidden: Sequence[int], bottleneck: int) -> None:
        super().__init__()
        d = code_dim + cond_dim
        self.encoder = mlp([d, *hidden, bottleneck])
        self.decoder = mlp([bottleneck, *reversed(tuple(hidden)), d])

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(energy (B,), bottleneck (B, bottleneck))."""
        inp = torch.cat([x, cond], dim=1)
        h = self.encoder(inp)
        return (inp - self.decoder(h)).pow(2).mean(dim=1), h


# ---------------------------------------------------------------------- losses (pure)
def wgan_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """``E[D(fake)] − E[D(real)]`` (the critic minimises it; its negative estimates the W1 distance)."""
    return d_fake.mean() - d_real.mean()


def wgan_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
    """``E[(‖∇_x̂ D(x̂, c)‖₂ − 1)²]`` at ``x̂ = α·real + (1 − α)·fake``, α ~ U(0, 1) per row."""
    alpha = torch.rand(real.shape[0], 1, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(x_hat, cond).sum(), x_hat, create_graph=True)
    return (grad.norm(2, dim=1) - 1.0).pow(2).mean()


def energy_discriminator_loss(e_real: torch.Tensor, e_fake: torch.Tensor, margin: float) -> torch.Tensor:
    """EBGAN ``L_D = E[E(real)] + E[max(0, m − E(fake))]``."""
    return e_real.mean() + torch.relu(margin - e_fake).mean()


def pull_away_term(h: torch.Tensor) -> torch.Tensor:
    """EBGAN's pull-away term: mean squared cosine similarity between distinct rows of ``h`` (B ≥ 2)."""
    n = h.shape[0]
    if n < 2:
        return h.new_zeros(())
    u = h / h.norm(dim=1, keepdim=True).clamp_min(1e-8)
    sim = (u @ u.T).pow(2)
    return (sim.sum() - sim.diagonal().sum()) / (n * (n - 1))


def energy_generator_loss(e_fake: torch.Tensor, h_fake: torch.Tensor, pt_weight: float) -> torch.Tensor:
    """EBGAN ``L_G = E[E(fake)] + pt_weight · PT(h_fake)``."""
    loss = e_fake.mean()
    if pt_weight > 0:
        loss = loss + pt_weight * pull_away_term(h_fake)
    return loss
