"""Small planted data and fitted generators shared by the synth tests (fitted once per module)."""

from __future__ import annotations

import pytest
import torch
from synth_helpers import TINY_GAN

from recgen.data import generate_interactions, heldout_users_split


@pytest.fixture(autouse=True, scope="package")
def _one_thread():
    """Tiny networks on a shared 2-core machine run ~10x faster on one intra-op thread (no spin-waiting)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def planted():
    data, truth = generate_interactions(n_users=360, n_items=120, n_clusters=4, mean_items_per_user=12.0, seed=3)
    return data.with_values(data.matrix.data * 0 + 1)


@pytest.fixture(scope="package")
def planted_split(planted):
    return heldout_users_split(planted, n_val_users=0, n_test_users=90, fold_in=0.8, seed=1)


@pytest.fixture(scope="package")
def fitted_gan(planted_split):
    from recgen.synth import BehaviourGAN

    return BehaviourGAN(**TINY_GAN).fit(planted_split.train)
