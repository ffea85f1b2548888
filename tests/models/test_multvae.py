"""Maths of Mult-VAE / Mult-DAE: pinned loss values, closed forms, sparse = dense, gradients, init."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from testkit import holdout, planted_blocks

from recgen.errors import ConfigError
from recgen.models.multdae import MultDAE
from recgen.models.multvae import MultVAE
from recgen.nn.layers import (
    SparseAutoencoder,
    SparseLinear,
    init_reference_,
    sparse_dropout,
    sparse_row_l2_normalize,
)
from recgen.nn.losses import anneal_beta, kl_standard_normal, multinomial_nll, multinomial_nll_dense
from recgen.training import Batch, StepContext

TINY = {"epochs": 2, "batch_size": 16, "hidden_dims": (12,), "latent_dim": 4, "show_progress": False, "num_threads": 1}


def test_multinomial_nll_pinned_by_hand():
    # row 0: softmax(log [1,2,3,4]) = [.1,.2,.3,.4], x = [1,0,1,0] → −(ln .1 + ln .3)
    # row 1: uniform logits → p = 1/4, x = [0,2,0,0] → −2 ln(1/4)
    logits = torch.tensor([[0.0, math.log(2), math.log(3), math.log(4)], [0.0, 0.0, 0.0, 0.0]])
    x = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 2, 0, 0]], dtype=np.float32))
    b = Batch.from_csr(x, np.arange(2))
    expected = (-(math.log(0.1) + math.log(0.3)) + 2 * math.log(4)) / 2
    assert multinomial_nll(logits, b.row_ids, b.cols, b.vals).item() == pytest.approx(expected, rel=1e-6)
    assert multinomial_nll_dense(logits, b.dense()).item() == pytest.approx(expected, rel=1e-6)


def test_kl_closed_form_pinned():
    # μ = [1, 0], σ² = [1, 4]: ½[(1 + 1 − 1 − 0) + (4 + 0 − 1 − ln 4)] = ½(4 − ln 4)
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)]])
    assert kl_standard_normal(mu, logvar).item() == pytest.approx(0.5 * (4 - math.log(4)), rel=1e-6)
    # KL of the prior against itself is 0, and it is the mean over users
    two = kl_standard_normal(torch.cat([mu, torch.zeros(1, 2)]), torch.cat([logvar, torch.zeros(1, 2)]))
    assert two.item() == pytest.approx(0.25 * (4 - math.log(4)), rel=1e-6)


def test_annealing_schedule_values():
    assert anneal_beta(0, 200_000, 0.2) == 0.0
    assert anneal_beta(1_000, 200_000, 0.2) == pytest.approx(0.005)
    assert anneal_beta(40_000, 200_000, 0.2) == pytest.approx(0.2)
    assert anneal_beta(300_000, 200_000, 0.2) == pytest.approx(0.2)
    assert anneal_beta(100_000, 200_000, 1.0) == pytest.approx(0.5)
    assert anneal_beta(5, 0, 0.3) == pytest.approx(0.3)


def test_sparse_first_layer_equals_dense_forward_and_gradient():
    rng = np.random.default_rng(0)
    x = sp.random(7, 30, density=0.1, format="lil", random_state=1, dtype=np.float32)
    x[3] = 0  # an empty row
    x = sp.csr_matrix(x)
    b = Batch.from_csr(x, np.arange(7))
    layer = SparseLinear(30, 5)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.normal(size=(30, 5)).astype(np.float32)))
        layer.bias.copy_(torch.arange(5.0))
    out_s = layer(b.cols, b.offsets, b.vals)
    (out_s ** 2).sum().backward()
    g_sparse = layer.weight.grad.clone()
    layer.weight.grad = None
    out_d = layer.forward_dense(b.dense())
    (out_d ** 2).sum().backward()
    torch.testing.assert_close(out_s, out_d, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_sparse, layer.weight.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_s[3], layer.bias.detach())


def test_sparse_normalise_and_dropout_follow_dense_semantics():
    x = sp.csr_matrix(np.array([[3, 0, 4, 0], [0, 0, 0, 0], [0, 2, 0, 0]], dtype=np.float32))
    b = Batch.from_csr(x, np.arange(3))
    vals = sparse_row_l2_normalize(b.vals, b.row_ids, b.size)
    dense = torch.zeros(3, 4)
    dense[b.row_ids, b.cols] = vals
    torch.testing.assert_close(dense, F.normalize(b.dense(), dim=1))
    # dropout: each nonzero kept with prob 1 − p and scaled by 1/(1 − p); same generator → same mask
    v = torch.ones(200_000)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    d1, d2 = sparse_dropout(v, 0.5, g1), sparse_dropout(v, 0.5, g2)
    assert torch.equal(d1, d2)
    assert set(d1.unique().tolist()) == {0.0, 2.0}
    assert (d1 > 0).float().mean().item() == pytest.approx(0.5, abs=0.005)
    assert d1.mean().item() == pytest.approx(1.0, abs=0.01)  # unbiased, as dense inverted dropout


def _step(model_cls, **extra):
    data, _, _ = planted_blocks(n_users=30, n_items=24, seed=0)
    m = model_cls(**{**TINY, **extra})
    m.fit(data)
    b = Batch.from_csr(data.matrix, np.arange(30))
    opt = torch.optim.SGD(m.module_.parameters(), lr=0.0)
    ctx = StepContext(0, 10, torch.Generator().manual_seed(0), {"main": opt}, m.config)
    m.module_.train()
    return m, b, ctx


@pytest.mark.parametrize("cls", [MultVAE, MultDAE])
def test_gradient_reaches_every_parameter(cls):
    m, b, ctx = _step(cls)
    out = m.train_step(b, ctx)
    out["loss"].backward()
    for name, p in m.module_.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_reparameterisation_uses_std_exp_half_logvar():
    """z = μ + ε·exp(½ log σ²): with μ = 0 and log σ² = ln 4 the sampled z has std 2 (not RecBole's 0.01)."""
    m, b, ctx = _step(MultVAE, latent_dim=200)
    code = torch.cat([torch.zeros(b.size, 200), torch.full((b.size, 200), math.log(4.0))], dim=1)
    m.module_.encode = lambda *a: code  # type: ignore[method-assign]
    seen = []
    decode = m.module_.decode
    m.module_.decode = lambda z: seen.append(z) or decode(z)  # type: ignore[method-assign]
    m.train_step(b, ctx)
    z = seen[0]
    assert z.std().item() == pytest.approx(2.0, rel=0.03) and abs(z.mean().item()) < 0.05
    # β at ctx.step = 10 with the configured anneal: min(0.2, 10 / 200000)
    assert m.train_step(b, ctx)["beta"] == pytest.approx(10 / 200_000)


def test_scoring_is_decoder_of_mean_and_encode_is_mean():
    m, b, _ = _step(MultVAE)
    rows = sp.csr_matrix(b.dense().numpy())
    s1, s2 = m.score(rows), m.score(rows)
    np.testing.assert_array_equal(s1, s2)  # no sampling, no dropout at inference
    mu = m.encode(rows)
    assert mu.shape == (30, 4)
    np.testing.assert_array_equal(mu, m.encode(rows))
    with torch.no_grad():
        manual = m.module_.decode(torch.from_numpy(mu)).numpy()
    np.testing.assert_allclose(s1, manual, rtol=1e-5, atol=1e-5)
    assert m.item_embeddings().shape == (24, 12)


def test_reference_initialisation():
    module = SparseAutoencoder(300, (60,), 20, variational=True)
    init_reference_(module, torch.Generator().manual_seed(0))
    for mod in (module.first, *[x for x in module.modules() if isinstance(x, torch.nn.Linear)]):
        fan_in, fan_out = (mod.weight.shape if isinstance(mod, SparseLinear) else mod.weight.shape[::-1])
        bound = math.sqrt(6 / (fan_in + fan_out))  # Glorot uniform
        assert mod.weight.abs().max() <= bound and mod.weight.abs().max() > 0.9 * bound
        assert mod.bias.abs().max() <= 0.002 and 0.0003 < mod.bias.std() < 0.0012


def test_dae_l2_penalty_is_lambda_over_batch_times_sum_of_squared_weights():
    m, b, ctx = _step(MultDAE, l2_reg=0.5)
    out = m.train_step(b, ctx)
    penalty = sum((w.detach() ** 2).sum() for w in m.module_.weights())
    assert (out["loss"] - out["nll"]).item() == pytest.approx(0.5 / 16 * penalty.item(), rel=1e-5)
    assert len(m.module_.weights()) == 4  # 24→12, 12→4, 4→12, 12→24: weights only, no biases


def test_anneal_auto_records_beta_of_best_epoch():
    data, ev = holdout(planted_blocks(n_users=30, n_items=24, seed=0)[0])
    m = MultVAE(**{**TINY, "epochs": 3, "anneal_cap": "auto", "total_anneal_steps": 4}).fit(data, validation=ev)
    best = m.history_[m.best_epoch_ - 1]
    assert m.selected_anneal_cap_ == pytest.approx(min(1.0, best["step"] / 4))
    with pytest.raises(ConfigError, match="anneal_cap"):
        MultVAE(anneal_cap="huge")
