"""Pure loss functions of the autoencoder recommenders (no state, no globals).

Sparse targets are passed as the CSR parts of a batch (``row_ids``, ``cols``, ``vals``): one entry
per nonzero, ``row_ids`` the batch row of each entry. Losses that only need the target's nonzeros
(the multinomial log-likelihood, the cross term of the squared error) never densify it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def multinomial_nll(logits: torch.Tensor, row_ids: torch.Tensor, cols: torch.Tensor,
                    vals: torch.Tensor) -> torch.Tensor:
    """Multinomial negative log-likelihood, mean over users (Liang et al. 2018, eq. 2).

    ``−(1/B) Σ_u Σ_i x_ui log softmax(logits_u)_i`` with x given sparsely; shape ``logits``: (B, n_items).
    """
    # log softmax_i = logit_i − logsumexp(logits): Σ_i x_i log p_i = Σ_nnz x·logit − (Σ_i x_i)·logsumexp.
    # Gathering the nonzeros' logits (index_select → index_add backward) avoids materialising the
    # (B, n_items) log-softmax and its scatter backward.
    n_rows, n_cols = logits.shape
    lse = torch.logsumexp(logits, dim=-1)                                                     # (B,)
    totals = torch.zeros(n_rows, dtype=vals.dtype, device=vals.device).index_add_(0, row_ids, vals)
    picked = logits.reshape(-1).index_select(0, row_ids * n_cols + cols)                      # (nnz,)
    return ((totals * lse).sum() - (vals * picked).sum()) / n_rows


def multinomial_nll_dense(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Dense reference of :func:`multinomial_nll` (for tests and dense callers)."""
    return -(F.log_softmax(logits, dim=-1) * x).sum(dim=-1).mean()


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) summed over latent dimensions, mean over users.

    Closed form ``½ Σ_k (σ_k² + μ_k² − 1 − log σ_k²)`` with ``logvar = log σ²``.
    """
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).sum(dim=-1).mean()


def anneal_beta(step: int, total_anneal_steps: int, cap: float) -> float:
    """KL weight after ``step`` updates: ``min(cap, step / total_anneal_steps)`` (β = cap if total is 0)."""
    if total_anneal_steps <= 0:
        return float(cap)
    return float(min(cap, step / total_anneal_steps))


def squared_error_sparse(output: torch.Tensor, row_ids: torch.Tensor, cols: torch.Tensor,
                         vals: torch.Tensor) -> torch.Tensor:
    """``(1/B) Σ_u ‖x_u − output_u‖²`` with x sparse: ``Σ o² − 2 Σ_nnz x·o + Σ x²`` (no dense x)."""
    cross = (output[row_ids, cols] * vals).sum()
    return (output.pow(2).sum() - 2.0 * cross + vals.pow(2).sum()) / output.shape[0]


def l2_penalty(weights: list[torch.Tensor]) -> torch.Tensor:
    """``Σ ‖W‖²`` over the given tensors (the reference code's ``2 · l2_regularizer(λ)`` is ``λ`` times this)."""
    return torch.stack([w.pow(2).sum() for w in weights]).sum()
