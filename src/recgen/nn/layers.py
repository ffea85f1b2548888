"""Reusable layers for autoencoder recommenders.

The input of an autoencoder recommender is a batch of users' item rows, ~97 % zeros. The first
layer here consumes it in CSR form (``cols``, ``offsets``, ``vals``) through ``embedding_bag``
(gather the weight rows of the nonzero items, scaled, and segment-sum per user), which costs
O(nnz · d) instead of O(B · n_items · d); its gradient is a scatter-add into the same rows.
Every random draw takes an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

#: activation names accepted by :func:`activation`
ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")


def activation(name: str) -> nn.Module:
    """The activation module called ``name`` (one of :data:`ACTIVATIONS`)."""
    return {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "identity": nn.Identity}[name]()


def row_ids_from_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """Batch row of every nonzero from CSR ``offsets`` (length B + 1)."""
    counts = offsets[1:] - offsets[:-1]
    return torch.repeat_interleave(torch.arange(len(counts), device=offsets.device), counts)


def sparse_row_l2_normalize(vals: torch.Tensor, row_ids: torch.Tensor, n_rows: int,
                            eps: float = 1e-12) -> torch.Tensor:
    """Values of ``x_u / max(‖x_u‖₂, eps)`` for a CSR batch (as ``F.normalize`` on the dense rows)."""
    sq = torch.zeros(n_rows, dtype=vals.dtype, device=vals.device).index_add_(0, row_ids, vals * vals)
    return vals / sq.sqrt().clamp_min(eps)[row_ids]


def sparse_dropout(vals: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout on the nonzeros of a sparse input.

    A dense dropout leaves zeros at zero and keeps each nonzero with probability ``1 − p``, scaled
    by ``1 / (1 − p)``; drawing the mask only for the nonzeros gives exactly that distribution.
    """
    if p <= 0.0:
        return vals
    if p >= 1.0:
        return torch.zeros_like(vals)
    keep = torch.rand(vals.shape, generator=generator, device=vals.device, dtype=vals.dtype) >= p
    return vals * keep / (1.0 - p)


class SparseLinear(nn.Module):
    """``x @ W + b`` for a CSR batch ``x`` without densifying it.

    ``weight`` has shape (in_features, out_features): row ``i`` is item ``i``'s input embedding.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1.0 / math.sqrt(in_features)  # placeholder; models call init_reference_
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.zero_()

    def forward(self, cols: torch.Tensor, offsets: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
        """``cols`` (nnz,) int64, ``offsets`` (B + 1,) int64, ``vals`` (nnz,) → (B, out_features)."""
        out = F.embedding_bag(cols, self.weight, offsets, mode="sum", per_sample_weights=vals,
                              include_last_offset=True)
        return out + self.bias

    def forward_dense(self, x: torch.Tensor) -> torch.Tensor:
        """The same map on a dense (B, in_features) input (reference for tests)."""
        return x @ self.weight + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features} (sparse input)"


def mlp(dims: Sequence[int], act: str, *, last_activation: bool) -> nn.Sequential:
    """Dense layers ``dims[0] → dims[1] → …`` with ``act`` between them (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2 or last_activation:
            layers.append(activation(act))
    return nn.Sequential(*layers)


def init_reference_(module: nn.Module, generator: torch.Generator, bias_std: float = 0.001) -> None:
    """Initialise as the Mult-VAE reference code (dawenl/vae_cf): Glorot-uniform weights, biases from a
    normal with std ``bias_std`` truncated at two standard deviations (TensorFlow's truncated normal)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear | SparseLinear):
                nn.init.xavier_uniform_(m.weight, generator=generator)
                nn.init.trunc_normal_(m.bias, std=bias_std, a=-2 * bias_std, b=2 * bias_std, generator=generator)


class SparseAutoencoder(nn.Module):
    """Encoder ``n_items → hidden_dims… → code_dim`` with a sparse first layer, decoder
    ``latent_dim → reversed(hidden_dims)… → n_items``.

    ``act`` follows every layer but the encoder's last (which gets ``code_activation``) and the
    decoder's last (the output logits). For a VAE ``code_dim = 2 · latent_dim`` (mean and log-variance
    from one layer, as the reference code); otherwise ``code_dim = latent_dim``.
    """

    def __init__(self, n_items: int, hidden_dims: Sequence[int], latent_dim: int, *, act: str = "tanh",
                 code_activation: str = "identity", variational: bool = False) -> None:
        super().__init__()
        self.n_items, self.latent_dim, self.variational = n_items, latent_dim, variational
        enc = [n_items, *hidden_dims, 2 * latent_dim if variational else latent_dim]
        self.first = SparseLinear(enc[0], enc[1])
        self.first_act = activation(act) if len(enc) > 2 else activation(code_activation)
        rest: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(enc[1:-1], enc[2:], strict=True)):
            rest.append(nn.Linear(a, b))
            rest.append(activation(act) if i < len(enc) - 3 else activation(code_activation))
        self.encoder = nn.Sequential(*rest)
        self.decoder = mlp([latent_dim, *reversed(hidden_dims), n_items], act, last_activation=False)

    def encode(self, cols: torch.Tensor, offsets: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
        """Code (B, code_dim) of a CSR batch (already normalised / corrupted by the caller)."""
        return self.encoder(self.first_act(self.first(cols, offsets, vals)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Output logits (B, n_items)."""
        return self.decoder(z)

    def output_layer(self) -> nn.Linear:
        """The last decoder layer; its weight rows are the items' output embeddings."""
        return cast(nn.Linear, self.decoder[-1])

    def weights(self) -> list[torch.Tensor]:
        """Weight matrices (no biases), e.g. for an L2 penalty."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear | SparseLinear)]
