"""Baseline generators and reading / writing synthetic users."""

from __future__ import annotations

import numpy as np
import pytest

from recgen.errors import DataFormatError, UnknownIdError
from recgen.synth import PopularitySampler, VAEPriorSampler, read_synthetic, write_synthetic
from recgen.synth.report_marginals import marginals


def test_popularity_sampler_matches_both_marginals(planted):
    fake = PopularitySampler().fit(planted).sample(4000, seed=0)
    assert fake.items == planted.items
    m = marginals(planted.matrix, fake.matrix)
    assert m["popularity_jsd"] < 0.02 and m["activity_ks"] < 0.01
    assert (fake.matrix != PopularitySampler().fit(planted).sample(4000, seed=0).matrix).nnz == 0


def test_vae_prior_sampler_shares_the_gan_decoder(fitted_gan, planted_split):
    prior = VAEPriorSampler.from_autoencoder(fitted_gan.autoencoder_, fitted_gan.activity_)
    fake = prior.sample(300, seed=1)
    assert fake.items == planted_split.train.items and fake.n_users == 300
    assert np.array_equal(np.sort(fake.user_counts()), np.sort(prior.sample(300, seed=1).user_counts()))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".txt"])
def test_write_read_round_trip(fitted_gan, tmp_path, suffix):
    fake = fitted_gan.sample(40, seed=0)
    path = write_synthetic(fake, tmp_path / f"users{suffix}")
    if suffix == ".csv":
        assert path.read_text().splitlines()[0] == "user,item"
    back = read_synthetic(path, items=fake.items)
    assert back.items == fake.items and list(back.users.ids) == list(fake.users.ids)
    assert (back.matrix != fake.matrix).nnz == 0


def test_read_rejects_unknown_items_and_missing_files(tmp_path, planted):
    (tmp_path / "bad.csv").write_text("user,item\ns0,not-an-item\n")
    with pytest.raises(UnknownIdError, match="not-an-item"):
        read_synthetic(tmp_path / "bad.csv", items=planted.items)
    with pytest.raises(DataFormatError, match="does not exist"):
        read_synthetic(tmp_path / "missing.csv")
