"""CDAE: the per-user node is used for known users, V_u = 0 for unseen ones, loss values pinned."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from testkit import planted_blocks

from recgen.errors import DataFormatError
from recgen.models.cdae import CDAE
from recgen.training import Batch, StepContext

TINY = {"epochs": 15, "batch_size": 16, "hidden_dim": 8, "lr": 1e-2, "show_progress": False, "num_threads": 1}


@pytest.fixture(scope="module")
def fitted():
    data, ub, ib = planted_blocks(n_users=48, n_items=30, seed=0)
    return CDAE(**TINY).fit(data), data


def _manual(model, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    m = model.module_
    w, b = m.first.weight.detach().numpy(), m.first.bias.detach().numpy()
    h = 1 / (1 + np.exp(-(x @ w + b + v)))
    return h @ m.decoder.weight.detach().numpy().T + m.decoder.bias.detach().numpy()


def test_known_users_use_their_node_unknown_users_get_zero(fitted):
    model, data = fitted
    x = data.matrix[:4]
    v = model.module_.users.weight.detach().numpy()
    assert np.abs(v[:4]).max() > 1e-3                       # the user nodes were learned
    known = model.score(x, user_rows=np.arange(4))
    np.testing.assert_allclose(known, _manual(model, x.toarray(), v[:4]), rtol=1e-4, atol=1e-5)
    unknown = model.score(x, user_rows=np.full(4, -1))
    np.testing.assert_allclose(unknown, _manual(model, x.toarray(), 0.0), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(model.score(x), unknown)  # no user_rows: fold-in policy V_u = 0
    mixed = model.score(x, user_rows=np.array([0, -1, 2, -1]))
    np.testing.assert_array_equal(mixed[[0, 2]], known[[0, 2]])
    np.testing.assert_array_equal(mixed[[1, 3]], unknown[[1, 3]])
    assert not np.allclose(known, unknown)
    # recommend(users=...) goes through the training rows, so it uses V_u too
    _, sc = model.recommend(users=[data.users.ids[0]], k=3, exclude_seen=False)
    np.testing.assert_allclose(sc[0], np.sort(known[0])[::-1][:3], rtol=1e-5)


def test_user_rows_out_of_range_is_an_error(fitted):
    model, data = fitted
    with pytest.raises(DataFormatError, match="user_rows"):
        model.score(data.matrix[:2], user_rows=np.array([0, data.n_users]))


def test_bce_loss_pinned_and_gradients_reach_every_parameter(fitted):
    model, data = fitted
    x = sp.csr_matrix(np.array([[1, 0, 1] + [0] * 27, [0, 1, 0] + [0] * 27], dtype=np.float32))
    batch = dataclasses.replace(Batch.from_csr(x, np.arange(2)), index=torch.tensor([3, 5]))  # users 3 and 5
    ctx = StepContext(0, 0, torch.Generator().manual_seed(0), {}, model.config)
    model.module_.zero_grad(set_to_none=True)
    out = model.train_step(batch, ctx)
    # expected with the same dropout mask: draw it again from the same seed
    g = torch.Generator().manual_seed(0)
    keep = (torch.rand(batch.vals.shape, generator=g) >= model.config.corruption).float()
    vals = (batch.vals * keep / (1 - model.config.corruption)).numpy()
    xt = np.zeros((2, 30), dtype=np.float32)
    xt[batch.row_ids.numpy(), batch.cols.numpy()] = vals
    v = model.module_.users.weight.detach().numpy()[[3, 5]]
    logits = torch.tensor(_manual(model, xt, v))
    recon = F.binary_cross_entropy_with_logits(logits, torch.tensor(x.toarray()), reduction="sum").item() / 2
    m = model.module_
    reg = (m.first.weight.pow(2).sum() + m.decoder.weight.pow(2).sum()).item() + (v ** 2).sum() / 2
    assert out["loss"].item() == pytest.approx(recon + 0.5 * model.config.l2 * reg, rel=1e-4)
    out["loss"].backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    grad_v = m.users.weight.grad.abs().sum(dim=1)
    assert set(torch.nonzero(grad_v).ravel().tolist()) == {3, 5}  # only the batch's user nodes move
    m.zero_grad(set_to_none=True)


def test_squared_loss_variant_trains_and_ranks_own_block():
    data, ub, ib = planted_blocks(n_users=48, n_items=30, seed=1)
    model = CDAE(**{**TINY, "epochs": 40, "lr": 3e-2, "loss": "squared", "output_activation": "sigmoid"}).fit(data)
    s = model.score(data.matrix, user_rows=np.arange(data.n_users))
    s[data.matrix.nonzero()] = -np.inf
    top = np.argsort(-s, axis=1)[:, :3]
    assert (ib[top] == ub[:, None]).mean() >= 0.85  # random: 1/3
