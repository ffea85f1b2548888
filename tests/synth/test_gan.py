"""BehaviourGAN: gradients, loss signs, sampling, determinism, save / load, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synth_helpers import TINY_GAN

from recgen.data import Interactions
from recgen.errors import ConfigError, DataFormatError, NotFittedError
from recgen.synth import BehaviourGAN, nets  # noqa: F401
from recgen.synth.report_marginals import ks_statistic


def _built(discriminator: str) -> BehaviourGAN:
    gan = BehaviourGAN(**{**TINY_GAN, "discriminator": discriminator})
    gan.device_ = torch.device("cpu")
    gan._build()
    return gan


@pytest.mark.parametrize("discriminator", ["critic", "energy"])
def test_gradient_reaches_every_generator_and_discriminator_parameter(discriminator):
    gan = _built(discriminator)
    g = torch.Generator().manual_seed(0)
    real = torch.randn(16, TINY_GAN["ae_latent_dim"], generator=g)
    cond = torch.randn(16, 1, generator=g)
    d_loss, _ = gan.discriminator_loss(real, cond, g)
    d_loss.backward()
    for name, p in gan.module_["discriminator"].named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"discriminator.{name}"
    for p in gan.module_["generator"].parameters():   # the fake rows are detached in the D loss
        assert p.grad is None
    gan.module_.zero_grad(set_to_none=True)
    gan.generator_loss(cond, g).backward()
    for name, p in gan.module_["generator"].named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"generator.{name}"


def test_energy_losses_have_the_ebgan_signs():
    e_real, e_fake = torch.tensor([0.2, 0.4]), torch.tensor([0.5, 3.0])
    # L_D = mean E(real) + mean max(0, m − E(fake)) with m = 1: 0.3 + (0.5 + 0) / 2
    assert float(nets.energy_discriminator_loss(e_real, e_fake, 1.0)) == pytest.approx(0.55)
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]])                 # orthogonal codes: pull-away term 0
    assert float(nets.energy_generator_loss(e_fake, h, 0.1)) == pytest.approx(1.75)
    assert float(nets.pull_away_term(torch.tensor([[1.0, 0.0], [2.0, 0.0]]))) == pytest.approx(1.0)


def test_energy_discriminator_training_lowers_real_energy_and_pushes_fake_above_the_margin():
    torch.manual_seed(0)  # only for the data below; the modules are seeded by _build
    gan = _built("energy")
    disc = gan.module_["discriminator"]
    g = torch.Generator().manual_seed(1)
    real = torch.randn(64, TINY_GAN["ae_latent_dim"], generator=g) * 0.3 + 1.0
    fake = torch.randn(64, TINY_GAN["ae_latent_dim"], generator=g) * 0.3 - 1.0
    cond = torch.zeros(64, 1)
    margin = gan.config.margin
    opt = torch.optim.Adam(disc.parameters(), lr=5e-3)
    e0_real = float(disc(real, cond)[0].mean().detach())
    for _ in range(150):
        e_real, _ = disc(real, cond)
        e_fake, _ = disc(fake, cond)
        loss = nets.energy_discriminator_loss(e_real, e_fake, margin)
        opt.zero_grad()
        loss.backward()
        opt.step()
    e_real, e_fake = (float(disc(x, cond)[0].mean().detach()) for x in (real, fake))
    assert e_real < 0.5 * e0_real
    assert e_fake >= 0.9 * margin > e_real


def test_wgan_losses_and_gradient_penalty_hand_values():
    assert float(nets.wgan_critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 1.0]))) == pytest.approx(-1.5)
    assert float(nets.wgan_generator_loss(torch.tensor([0.0, 1.0]))) == pytest.approx(-0.5)

    class Linear(torch.nn.Module):          # D(x) = 2·x₀ has gradient norm 2 everywhere: penalty (2 − 1)² = 1
        def forward(self, x, cond):
            return 2.0 * x[:, 0]

    gp = nets.gradient_penalty(Linear(), torch.randn(8, 3), torch.randn(8, 3), torch.zeros(8, 0),
                               torch.Generator().manual_seed(0))
    assert float(gp) == pytest.approx(1.0)


def test_sample_has_the_real_vocabulary_and_activity(fitted_gan, planted_split):
    train = planted_split.train
    fake = fitted_gan.sample(1000, seed=3)
    assert isinstance(fake, Interactions)
    assert fake.items == train.items and fake.n_users == 1000
    assert set(np.unique(fake.matrix.data)) == {1.0}
    real_act = train.user_counts()[train.user_counts() > 0]
    assert ks_statistic(fake.user_counts(), real_act) < 0.02
    assert len(fitted_gan.history_) == TINY_GAN["epochs"]
    assert {"loss", "wdist", "gp", "g_loss"} <= set(fitted_gan.history_[-1])
    # no row equals a training row (reject_copies)
    from recgen.synth.report_privacy import exact_copy_rate

    assert exact_copy_rate(fake.matrix, train.matrix) == 0.0


def test_sample_is_deterministic_by_seed(fitted_gan):
    a, b, c = fitted_gan.sample(200, seed=5), fitted_gan.sample(200, seed=5), fitted_gan.sample(200, seed=6)
    assert (a.matrix != b.matrix).nnz == 0
    assert (a.matrix != c.matrix).nnz > 0


def test_fit_is_deterministic_by_seed(planted_split):
    cfg = {**TINY_GAN, "ae_epochs": 2, "epochs": 2}
    a = BehaviourGAN(**cfg).fit(planted_split.train).sample(50, seed=0)
    b = BehaviourGAN(**cfg).fit(planted_split.train).sample(50, seed=0)
    assert (a.matrix != b.matrix).nnz == 0


def test_save_load_round_trip(fitted_gan, tmp_path):
    fitted_gan.save(tmp_path / "gan")
    assert sorted(p.name for p in (tmp_path / "gan").iterdir()) == ["config.json", "vocab.json", "weights.safetensors"]
    loaded = BehaviourGAN.load(tmp_path / "gan")
    assert loaded.config == fitted_gan.config and loaded.history_ == fitted_gan.history_
    assert (loaded.sample(100, seed=2).matrix != fitted_gan.sample(100, seed=2).matrix).nnz == 0
    from safetensors.numpy import load_file

    keys = load_file(str(tmp_path / "gan" / "weights.safetensors"))
    assert not any(k.startswith("train.") for k in keys)        # no training rows in the artifact (only hashes)


def test_complete_adds_only_new_items(fitted_gan, planted_split):
    rows = planted_split.train.matrix[:20]
    extra = np.full(20, 3)
    added = fitted_gan.complete(rows, extra, seed=0)
    assert np.array_equal(np.diff(added.indptr), extra)
    assert rows.multiply(added).nnz == 0


def test_errors_name_the_argument(fitted_gan):
    with pytest.raises(NotFittedError):
        BehaviourGAN().sample(3)
    with pytest.raises(ConfigError, match="n_users"):
        fitted_gan.sample(0)
    with pytest.raises(ConfigError, match="discriminator"):
        BehaviourGAN(discriminator="plain")
    with pytest.raises(ConfigError, match="temperature"):
        BehaviourGAN(temperature=0)
    with pytest.raises(DataFormatError, match="interactions"):
        BehaviourGAN().fit("not data")  # type: ignore[arg-type]


def test_popularity_calibration_lowers_the_jsd_and_survives_save_load(fitted_gan, tmp_path):
    cal = fitted_gan.calibration_
    assert len(cal) == fitted_gan.config.calibration_rounds + 1
    assert cal[-1] < 0.5 * cal[0]
    fitted_gan.save(tmp_path / "g")
    loaded = BehaviourGAN.load(tmp_path / "g")
    np.testing.assert_array_equal(loaded.item_bias_, fitted_gan.item_bias_)
    assert loaded.calibration_ == pytest.approx(cal)
