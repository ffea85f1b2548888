"""Maths of RecVAE: composite prior vs scipy, β_u, single-sample KL, alternating updates, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import logsumexp
from scipy.stats import norm
from testkit import planted_blocks

from recgen.errors import ConfigError
from recgen.models.recvae import RecVAE
from recgen.nn.priors import composite_prior_log_density, kl_single_sample, log_normal_pdf, swish
from recgen.training import Batch, StepContext

TINY = {"epochs": 1, "batch_size": 16, "hidden_dim": 12, "latent_dim": 4, "encoder_layers": 3,
        "n_enc_epochs": 2, "show_progress": False, "num_threads": 1, "lr": 1e-2}
W = (3 / 20, 3 / 4, 1 / 10)


def _scipy_components(z, mu, logvar):
    """log N of each component per dimension: (B, d, 3) with scipy."""
    sd_old = np.exp(0.5 * logvar)
    return np.stack([norm.logpdf(z, 0.0, 1.0), norm.logpdf(z, mu, sd_old),
                     norm.logpdf(z, 0.0, math.exp(5.0))], axis=-1)


@pytest.mark.parametrize("scale", [1.0, 40.0])  # 40: far in the tails, where a naive log(Σ pdf) underflows
def test_composite_prior_matches_scipy_mixture(scale):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4)) * scale
    mu, logvar = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)) * 0.5
    comps = _scipy_components(z, mu, logvar)
    per_dim = logsumexp(comps + np.log(W), axis=-1).sum(axis=-1)              # Π_k Σ_j w_j N(z_k)
    joint = logsumexp(comps.sum(axis=1) + np.log(W), axis=-1)                # Σ_j w_j Π_k N(z_k)
    t = [torch.tensor(a, dtype=torch.float64) for a in (z, mu, logvar)]
    got = composite_prior_log_density(*t, W, 10.0)
    np.testing.assert_allclose(got.numpy(), per_dim, rtol=1e-10)
    got_joint = composite_prior_log_density(*t, W, 10.0, per_dimension=False)
    np.testing.assert_allclose(got_joint.numpy(), joint, rtol=1e-10)
    assert np.isfinite(got.numpy()).all() and np.isfinite(got_joint.numpy()).all()


def test_composite_prior_pinned_by_hand():
    # z = 0 in one dimension, old posterior N(0, 1): every standard-normal term is 1/√(2π), the wide one
    # 1/√(2π e^10): p = (3/20 + 3/4) / √(2π) + (1/10) / √(2π e^10)
    zero = torch.zeros(1, 1, dtype=torch.float64)
    expected = math.log(0.9 / math.sqrt(2 * math.pi) + 0.1 / math.sqrt(2 * math.pi * math.exp(10)))
    assert composite_prior_log_density(zero, zero, zero).item() == pytest.approx(expected, rel=1e-12)


def test_single_sample_kl_is_log_q_minus_log_p():
    rng = np.random.default_rng(1)
    z, mu, logvar, old_mu = (torch.tensor(rng.normal(size=(2, 3))) for _ in range(4))
    log_p = composite_prior_log_density(z, old_mu, torch.zeros_like(z))
    log_q = norm.logpdf(z.numpy(), mu.numpy(), np.exp(0.5 * logvar.numpy())).sum(axis=1)
    np.testing.assert_allclose(kl_single_sample(z, mu, logvar, log_p).numpy(), log_q - log_p.numpy(), rtol=1e-10)
    np.testing.assert_allclose(log_normal_pdf(z, mu, logvar).sum(1).numpy(), log_q, rtol=1e-10)


@pytest.fixture(scope="module")
def fitted():
    data, _, _ = planted_blocks(n_users=48, n_items=30, seed=0)
    return RecVAE(**TINY).fit(data), data


def _ctx(model, seed=0):
    return StepContext(epoch=0, step=0, generator=torch.Generator().manual_seed(seed),
                       optimizers=model.configure_optimizers(), config=model.config)


def test_user_specific_beta_is_gamma_times_row_sum(fitted):
    model, _ = fitted
    x = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 1, 0, 0], [2, 1, 1, 1]], dtype=np.float32))
    b = Batch.from_csr(x, np.arange(3))
    np.testing.assert_allclose(model.kl_weights(b).numpy(), [0.015, 0.005, 0.025], rtol=1e-6)
    const = RecVAE(**{**TINY, "gamma": 0.0, "beta": 0.3})
    np.testing.assert_allclose(const.kl_weights(b).numpy(), [0.3, 0.3, 0.3], rtol=1e-6)


def _params(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_alternation_encoder_phase_then_decoder_phase(fitted):
    model, data = fitted
    ctx = _ctx(model)
    m = model.module_
    enc0, dec0 = _params(m.encoder), _params(m.decoder)
    model.on_epoch_start(ctx)                          # q_old frozen, then n_enc_epochs encoder passes
    prior = _params(model._prior_encoder)
    assert all(torch.equal(prior[k], enc0[k]) for k in enc0)          # q_old = encoder at epoch start
    assert not any(p.requires_grad for p in model._prior_encoder.parameters())
    assert all(torch.equal(v, dec0[k]) for k, v in _params(m.decoder).items())   # decoder untouched
    enc1 = _params(m.encoder)
    assert all(not torch.equal(enc1[k], enc0[k]) for k in enc0)
    assert ctx.optimizers["decoder"].state == {} and len(ctx.optimizers["encoder"].state) > 0
    batch = Batch.from_csr(data.matrix, np.arange(16))
    out = model.train_step(batch, ctx)                 # one decoder update
    assert isinstance(out["loss"], float) and {"enc_loss", "enc_kl"} <= set(out)
    assert all(torch.equal(v, enc1[k]) for k, v in _params(m.encoder).items())   # encoder untouched
    assert all(not torch.equal(v, dec0[k]) for k, v in _params(m.decoder).items())


def test_gradient_reaches_every_parameter_of_its_phase(fitted):
    model, data = fitted
    m = model.module_
    batch = Batch.from_csr(data.matrix, np.arange(24))
    model.snapshot_prior()
    m.zero_grad(set_to_none=True)
    model.encoder_loss(batch, torch.Generator().manual_seed(1))["loss"].backward()
    for name, p in m.encoder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in model._prior_encoder.parameters())
    m.zero_grad(set_to_none=True)
    model.decoder_loss(batch, torch.Generator().manual_seed(1)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.decoder.parameters())
    assert all(p.grad is None for p in m.encoder.parameters())       # encoder frozen in the decoder phase
    m.zero_grad(set_to_none=True)


def test_two_optimisers_split_the_parameters(fitted):
    model, _ = fitted
    opts = model.configure_optimizers()
    enc = {id(p) for g in opts["encoder"].param_groups for p in g["params"]}
    dec = {id(p) for g in opts["decoder"].param_groups for p in g["params"]}
    assert not enc & dec and enc | dec == {id(p) for p in model.module_.parameters()}
    assert opts["encoder"].param_groups[0]["lr"] == pytest.approx(TINY["lr"])


def test_scores_from_mu_are_deterministic_and_embeddings_are_decoder_rows(fitted):
    model, data = fitted
    s1, s2 = model.score(data.matrix[:5]), model.score(data.matrix[:5])
    np.testing.assert_array_equal(s1, s2)
    emb = model.item_embeddings()
    assert emb.shape == (data.n_items, TINY["latent_dim"])
    z = model.encode(data.matrix[:5])
    np.testing.assert_allclose(z @ emb.T + model.module_.decoder.bias.detach().numpy(), s1, rtol=1e-4, atol=1e-5)


def test_config_errors_name_the_fix():
    with pytest.raises(ConfigError, match="prior_weights"):
        RecVAE(prior_weights=(0.5, 0.5, 0.5))
    with pytest.raises(ConfigError, match="dropout"):
        RecVAE(dropout=1.0)


def test_encoder_matches_the_reference_dense_connections():
    # ilya-shenbin/RecVAE: h1 = LN(swish(W1 x)), h2 = LN(swish(W2 h1 + h1)), h3 = LN(swish(W3 h2 + h1 + h2)),
    # h4 = LN(swish(W4 h3 + h1 + h2 + h3)), h5 = LN(swish(W5 h4 + h1 + h2 + h3 + h4)); μ, log σ² from h5
    model = RecVAE(**{**TINY, "encoder_layers": 5})
    model.device_ = torch.device("cpu")
    model._build(30)
    enc = model.module_.encoder
    x = sp.random(6, 30, density=0.3, format="csr", random_state=0, dtype=np.float32)
    x.data[:] = 1.0
    b = Batch.from_csr(x, np.arange(6))
    with torch.no_grad():
        mu, logvar = model._encode(enc, b, 0.0, None)
        xd = torch.nn.functional.normalize(b.dense(), dim=-1)
        hs = [enc.norms[0](swish(enc.first.forward_dense(xd)))]
        for lin, ln in zip(enc.dense, enc.norms[1:], strict=True):
            hs.append(ln(swish(lin(hs[-1]) + sum(hs))))
        torch.testing.assert_close(mu, enc.mu(hs[-1]))
        torch.testing.assert_close(logvar, enc.logvar(hs[-1]))


def test_extra_decoder_passes_update_only_the_decoder():
    data, _, _ = planted_blocks(n_users=48, n_items=30, seed=0)
    model = RecVAE(**{**TINY, "n_enc_epochs": 1, "n_dec_epochs": 3})
    model.device_ = torch.device("cpu")
    model._build(data.n_items)
    model.train_ = data.matrix
    ctx = _ctx(model)
    dec0 = _params(model.module_.decoder)
    model.on_epoch_start(ctx)                          # 1 encoder pass, then 2 of the 3 decoder passes
    assert all(not torch.equal(v, dec0[k]) for k, v in _params(model.module_.decoder).items())
    steps = ctx.optimizers["decoder"].state[model.module_.decoder.weight]["step"]
    assert int(steps) == 2 * math.ceil(48 / TINY["batch_size"])
    with pytest.raises(ConfigError, match="n_dec_epochs"):
        RecVAE(n_dec_epochs=0)
