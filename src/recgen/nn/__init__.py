"""Pure neural building blocks: losses (:mod:`recgen.nn.losses`) and layers (:mod:`recgen.nn.layers`)."""

from recgen.nn.layers import (
    SparseAutoencoder,
    SparseLinear,
    init_reference_,
    sparse_dropout,
    sparse_row_l2_normalize,
)
from recgen.nn.losses import (
    anneal_beta,
    kl_standard_normal,
    l2_penalty,
    multinomial_nll,
    multinomial_nll_dense,
    squared_error_sparse,
)

__all__ = ["SparseAutoencoder", "SparseLinear", "init_reference_", "sparse_dropout", "sparse_row_l2_normalize",
           "anneal_beta", "kl_standard_normal", "l2_penalty", "multinomial_nll", "multinomial_nll_dense",
           "squared_error_sparse"]
