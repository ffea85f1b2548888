"""The plain squared-error autoencoder: pinned loss, sparse = dense, gradients, scores and codes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from testkit import planted_blocks

from recgen.errors import ConfigError
from recgen.models.ae import AE
from recgen.nn.losses import squared_error_sparse
from recgen.training import Batch, StepContext

TINY = {"epochs": 3, "batch_size": 16, "latent_dim": 5, "show_progress": False, "num_threads": 1}


def test_squared_error_pinned_and_equal_to_dense():
    # x = [[1, 0, 2], [0, 0, 0]], x̂ = [[.5, .5, .5], [.1, .2, .3]]
    # row 0: .25 + .25 + 2.25 = 2.75; row 1: .01 + .04 + .09 = .14; mean = 1.445
    x = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 0]], dtype=np.float32))
    out = torch.tensor([[0.5, 0.5, 0.5], [0.1, 0.2, 0.3]])
    b = Batch.from_csr(x, np.arange(2))
    assert squared_error_sparse(out, b.row_ids, b.cols, b.vals).item() == pytest.approx(1.445, rel=1e-6)
    assert ((b.dense() - out) ** 2).sum(1).mean().item() == pytest.approx(1.445, rel=1e-6)


@pytest.fixture(scope="module")
def fitted():
    data, _, _ = planted_blocks(n_users=30, n_items=24, seed=0)
    return AE(**TINY).fit(data), data


def test_train_step_is_the_mse_of_the_sigmoid_output_and_reaches_every_parameter(fitted):
    model, data = fitted
    b = Batch.from_csr(data.matrix, np.arange(data.n_users))
    ctx = StepContext(0, 0, torch.Generator().manual_seed(0), {}, model.config)
    model.module_.train()
    loss = model.train_step(b, ctx)
    with torch.no_grad():
        x = b.dense()
        h = torch.sigmoid(x @ model.module_.first.weight + model.module_.first.bias)  # dropout 0: clean input
        expected = ((x - torch.sigmoid(model.module_.decode(h))) ** 2).sum(1).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    for name, p in model.module_.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_scores_are_logits_ranked_as_the_reconstruction_and_codes_are_deterministic(fitted):
    model, data = fitted
    rows = data.matrix[:6]
    s = model.score(rows)
    b = Batch.from_csr(rows, np.arange(6))
    with torch.no_grad():
        recon = torch.sigmoid(model.module_.decode(model.module_.encode(b.cols, b.offsets, b.vals))).numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-s)), recon, rtol=1e-5, atol=1e-6)
    codes = model.encode(rows)
    assert codes.shape == (6, 5) and np.all((codes > 0) & (codes < 1))  # sigmoid code
    np.testing.assert_array_equal(codes, model.encode(rows))
    assert model.item_embeddings().shape == (24, 5)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="activation"):
        AE(activation="softmax")
    with pytest.raises(ConfigError, match="dropout"):
        AE(dropout=1.0)
