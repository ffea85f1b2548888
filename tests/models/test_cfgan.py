"""CFGAN maths: pinned loss values, ZR / PM sampling and masking, gradient flow, training, modes, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from testkit import planted_blocks

from recgen.data import EvalSet, Interactions
from recgen.errors import ConfigError, DataFormatError
from recgen.models import load_model
from recgen.models.cfgan import CFGAN, CFGANModule
from recgen.nn.gan_losses import (
    discriminator_bce,
    generator_adversarial,
    partial_mask,
    sample_unobserved,
    zero_reconstruction,
)
from recgen.training import Batch, StepContext

#: small, fast settings that learn the planted blocks (as the contract suite's entry)
FAST = {"epochs": 40, "batch_size": 32, "g_batch_size": 16, "g_steps": 2, "lr": 1e-2, "d_lr": 1e-2,
        "g_hidden": (32,), "scheme": "zr", "d_hidden": (16,), "eval_every": 5, "patience": None,
        "show_progress": False, "num_threads": 1, "device": "cpu"}


@pytest.fixture(autouse=True)
def one_thread():
    """Direct calls of the losses / train_step run on one thread (fit does so via num_threads=1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sig_inv(p: float) -> float:
    return math.log(p / (1 - p))


# ---------------------------------------------------------------------------------------------- loss terms
def test_discriminator_bce_pinned_by_hand():
    # D(real) = [0.8, 0.5], D(fake) = [0.25, 0.1] → mean(−ln .8 − ln .75, −ln .5 − ln .9)
    real = torch.tensor([sig_inv(0.8), 0.0])
    fake = torch.tensor([sig_inv(0.25), sig_inv(0.1)])
    expected = (-math.log(0.8) - math.log(0.75) - math.log(0.5) - math.log(0.9)) / 2
    assert discriminator_bce(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # a perfect discriminator's loss tends to 0, a fooled one's grows; extreme logits stay finite
    assert discriminator_bce(torch.tensor([60.0]), torch.tensor([-60.0])).item() == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(discriminator_bce(torch.tensor([-200.0]), torch.tensor([200.0])).item())


def test_generator_objectives_pinned_by_hand():
    fake = torch.tensor([sig_inv(0.25), sig_inv(0.6)])
    # the paper's minimax term: mean log(1 − D(fake)) = mean(ln .75, ln .4)
    minimax = generator_adversarial(fake, "minimax").item()
    assert minimax == pytest.approx((math.log(0.75) + math.log(0.4)) / 2, rel=1e-6)
    # the non-saturating alternative: mean −log D(fake)
    ns = generator_adversarial(fake, "nonsaturating").item()
    assert ns == pytest.approx(-(math.log(0.25) + math.log(0.6)) / 2, rel=1e-6)


def test_zero_reconstruction_penalty_pinned_by_hand():
    fake = torch.tensor([[0.9, 0.5, 0.2, 0.1], [0.3, 0.4, 0.0, 0.7]])
    zr = torch.tensor([[False, True, True, False], [True, False, False, True]])
    # row 0: .5² + .2² = .29; row 1: .3² + .7² = .58 → mean .435
    assert zero_reconstruction(fake, zr).item() == pytest.approx(0.435, rel=1e-6)
    assert zero_reconstruction(fake, torch.zeros_like(zr)).item() == 0.0


def test_model_losses_equal_the_formulas():
    """generator_loss = adversarial + α·ZR on the very masks drawn; discriminator_loss = its BCE."""
    model, x = _tiny_model(scheme="zp", zr_weight=0.5)
    seen = _record_masks(model)
    g = model.generator_loss(x, torch.Generator().manual_seed(3))
    zr_mask = seen[-1][0]
    fake = model.module_.generate(x)
    assert g["zr"].item() == pytest.approx(zero_reconstruction(fake, zr_mask).item(), rel=1e-6)
    assert g["loss"].item() == pytest.approx(g["adversarial"].item() + 0.5 * g["zr"].item(), rel=1e-6)
    pm = seen[-1][1]
    shown = partial_mask(fake, x > 0, pm)
    d_fake = model.module_.discriminate(shown, x)
    assert g["adversarial"].item() == pytest.approx(generator_adversarial(d_fake, "nonsaturating").item(), rel=1e-6)
    d = model.discriminator_loss(x, torch.Generator().manual_seed(4))
    shown = partial_mask(fake, x > 0, seen[-1][1])
    expected = discriminator_bce(model.module_.discriminate(x, x), model.module_.discriminate(shown, x))
    assert d.item() == pytest.approx(expected.item(), rel=1e-6)


# ---------------------------------------------------------------------------------------------- sampling
def test_sample_unobserved_never_picks_observed_and_hits_the_share():
    gen = torch.Generator().manual_seed(0)
    observed = torch.rand((200, 500), generator=gen) < 0.1
    mask = sample_unobserved(observed, 0.7, gen)
    assert not (mask & observed).any()
    share = mask.sum().item() / (~observed).sum().item()
    assert share == pytest.approx(0.7, abs=0.01)  # 90k Bernoulli(0.7) draws: sd ≈ 0.0015
    assert not sample_unobserved(observed, 0.0, gen).any()
    assert torch.equal(sample_unobserved(observed, 1.0, gen), ~observed)
    # reproducible from the generator's seed
    a = sample_unobserved(observed, 0.3, torch.Generator().manual_seed(5))
    b = sample_unobserved(observed, 0.3, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("scheme", ["zr", "pm", "zp"])
def test_discriminator_never_sees_generated_values_of_unsampled_unobserved_items(scheme):
    model, x = _tiny_model(scheme=scheme)
    seen_masks = _record_masks(model)
    inputs: list[torch.Tensor] = []
    original = model.module_.discriminate

    def spy(vector: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        inputs.append(vector.detach().clone())
        return original(vector, condition)

    model.module_.discriminate = spy
    for loss in (model.discriminator_loss, model.generator_loss):
        inputs.clear()
        loss(x, torch.Generator().manual_seed(1))
        zr, pm = seen_masks[-1]
        assert (zr is None) == (scheme == "pm") and (pm is None) == (scheme == "zr")
        fake_input = inputs[-1]  # D(real) first, then D(fake)
        visible = (x > 0) | (pm if pm is not None else torch.zeros_like(x, dtype=torch.bool))
        assert torch.all(fake_input[~visible] == 0)  # unsampled unobserved: exactly zero
        generated = model.module_.generate(x).detach()  # no step in between: the values D was shown
        torch.testing.assert_close(fake_input[visible], generated[visible])
        assert torch.all(generated[visible] != 0)
        if pm is not None:
            assert pm.sum() > 0 and not (pm & (x > 0)).any()


# ---------------------------------------------------------------------------------------------- gradients
def test_gradients_reach_every_parameter_from_its_own_loss():
    model, x = _tiny_model(scheme="zp", noise_dim=3)
    m: CFGANModule = model.module_
    g_params = dict(m.generator.named_parameters())
    d_params = dict(m.discriminator.named_parameters())
    # D step: every discriminator parameter gets a nonzero gradient, no generator parameter gets any
    model.discriminator_loss(x, torch.Generator().manual_seed(0)).backward()
    for name, p in d_params.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"D.{name} gets no gradient"
    for name, p in g_params.items():
        assert p.grad is None, f"the D loss leaks a gradient into G.{name}"
    m.zero_grad(set_to_none=True)
    # G step: every generator parameter gets a gradient through D (the adversarial term alone) …
    g = model.generator_loss(x, torch.Generator().manual_seed(0))
    g["adversarial"].backward(retain_graph=True)
    for name, p in g_params.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"G.{name} gets no adversarial gradient"
    m.zero_grad(set_to_none=True)
    # … and through the ZR penalty alone
    g["zr"].backward()
    for name, p in g_params.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"G.{name} gets no ZR gradient"


def test_train_step_updates_both_networks_and_returns_logged_floats():
    model, _ = _tiny_model()
    m: CFGANModule = model.module_
    before_g = [p.detach().clone() for p in m.generator.parameters()]
    before_d = [p.detach().clone() for p in m.discriminator.parameters()]
    opts = model.configure_optimizers()
    assert set(opts) == {"generator", "discriminator"}
    assert {id(p) for g in opts["generator"].param_groups for p in g["params"]} == {id(p) for p in m.generator.parameters()}
    batch = Batch.from_csr(model.training_matrix(model._train_data), np.arange(12))
    ctx = StepContext(0, 0, torch.Generator().manual_seed(0), opts, model.config)
    out = model.train_step(batch, ctx)
    assert {"loss", "d_loss", "g_adversarial", "zr"} <= set(out)
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values())  # the trainer only logs them
    assert all(not torch.equal(a, b) for a, b in zip(before_g, m.generator.parameters(), strict=True))
    assert all(not torch.equal(a, b) for a, b in zip(before_d, m.discriminator.parameters(), strict=True))


# ---------------------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def blocks_split():
    data, ub, ib = planted_blocks(n_users=90, n_items=45, n_blocks=3, p_in=0.6, seed=2)
    rng = np.random.default_rng(0)
    m = data.matrix.tolil()
    target = sp.lil_matrix(m.shape, dtype=np.float32)
    for u, cols in enumerate(m.rows):
        for c in rng.choice(cols, size=min(2, len(cols) - 1), replace=False):
            m[u, c] = 0.0
            target[u, c] = 1.0
    train = Interactions(sp.csr_matrix(m), data.users, data.items)
    val = EvalSet(data.users, train.matrix, sp.csr_matrix(target), train.matrix, np.arange(data.n_users))
    return train, val, ub, ib


def _own_block_precision(scores: np.ndarray, seen: sp.csr_matrix, ub: np.ndarray, ib: np.ndarray, k: int = 5) -> float:
    s = scores.copy()
    s[seen.nonzero()] = -np.inf
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return float((ib[top] == ub[:, None]).mean())


def test_learns_planted_blocks_and_keeps_the_best_validated_epoch(blocks_split):
    train, val, ub, ib = blocks_split
    model = CFGAN(**FAST).fit(train, validation=val)
    assert [r["epoch"] for r in model.history_ if "ndcg@20" in r] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert model.best_epoch_ in (5, 10, 15, 20, 25, 30, 35, 40)
    assert _own_block_precision(model.score(train.matrix), train.matrix, ub, ib) >= 0.9
    assert all(math.isfinite(r["d_loss"]) and r["zr"] >= 0 for r in model.history_)


def test_item_mode_scores_training_users_and_refuses_unknown_ones(blocks_split, tmp_path):
    train, _, ub, ib = blocks_split
    model = CFGAN(**{**FAST, "mode": "item"}).fit(train)
    assert model.module_.n == train.n_users  # item-based: G generates items' vectors over users
    rows = np.arange(train.n_users)
    s = model.score(train.matrix, user_rows=rows)
    assert s.shape == (train.n_users, train.n_items)
    assert _own_block_precision(s, train.matrix, ub, ib) >= 0.9
    with pytest.raises(DataFormatError, match="mode='user'"):
        model.score(train.matrix[:2])
    loaded = load_model(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.score(train.matrix[:7], user_rows=rows[:7]), s[:7])


def test_generator_output_linear_or_sigmoid():
    for kind in ("linear", "sigmoid"):
        model, x = _tiny_model(g_output=kind)
        logits = model.module_.generate_logits(x)
        out = model.module_.generate(x)
        expected = torch.sigmoid(logits) if kind == "sigmoid" else logits
        torch.testing.assert_close(out, expected)
    # scores are the affine output either way (σ is monotone): same ranking, no saturation at 0 / 1
    torch.testing.assert_close(model.forward_scores(Batch.from_csr(sp.csr_matrix(x.numpy()), np.arange(3))), logits[:3])


def test_reference_initialisation_and_per_network_weight_decay():
    model, _ = _tiny_model(weight_decay=1e-3, d_weight_decay=5e-5)
    for lin in (m for m in model.module_.modules() if isinstance(m, torch.nn.Linear)):
        bound = math.sqrt(6 / (lin.in_features + lin.out_features))  # Glorot-uniform
        assert lin.weight.abs().max() <= bound and lin.weight.abs().max() > 0.5 * bound
        assert lin.bias.abs().max() <= 0.01 and lin.bias.abs().max() > 0
    opts = model.configure_optimizers()
    assert [g["weight_decay"] for g in opts["generator"].param_groups] == [1e-3]
    assert [g["weight_decay"] for g in opts["discriminator"].param_groups] == [5e-5]
    assert [g["lr"] for g in opts["discriminator"].param_groups] == [model.config.d_lr]


def test_one_batch_makes_d_steps_d_updates_and_g_steps_passes_of_g():
    """12 rows, g_batch_size 5, g_steps 2 → 2 × ⌈12 / 5⌉ = 6 G updates (every row twice); d_steps 3 → 3 D updates."""
    model, _ = _tiny_model(g_batch_size=5, g_steps=2, d_steps=3)
    opts = model.configure_optimizers()
    steps = {"generator": 0, "discriminator": 0}
    rows_seen: list[int] = []
    for name, opt in opts.items():
        original = opt.step

        def counted(*a, _name=name, _orig=original, **k):
            steps[_name] += 1
            return _orig(*a, **k)

        opt.step = counted
    original_loss = model.generator_loss

    def spy(real, gen):
        rows_seen.append(real.shape[0])
        return original_loss(real, gen)

    model.generator_loss = spy
    batch = Batch.from_csr(model.training_matrix(model._train_data), np.arange(12))
    model.train_step(batch, StepContext(0, 0, torch.Generator().manual_seed(0), opts, model.config))
    assert steps == {"generator": 6, "discriminator": 3}
    assert rows_seen == [5, 5, 2, 5, 5, 2]


def test_seed_determines_the_result(blocks_split):
    train = blocks_split[0]
    short = {**FAST, "epochs": 3}
    a = CFGAN(**short, seed=1).fit(train).score(train.matrix)
    b = CFGAN(**short, seed=1).fit(train).score(train.matrix)
    c = CFGAN(**short, seed=2).fit(train).score(train.matrix)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_ratings_are_binarised_before_training_and_scoring(blocks_split):
    train = blocks_split[0]
    rated = Interactions(train.matrix * 4.0, train.users, train.items)
    short = {**FAST, "epochs": 2}
    np.testing.assert_array_equal(CFGAN(**short).fit(rated).score(rated.matrix),
                                  CFGAN(**short).fit(train).score(train.matrix))


@pytest.mark.parametrize(("key", "value"), [("scheme", "xx"), ("s_zr", 1.5), ("s_pm", -0.1), ("zr_weight", -1.0),
                                            ("g_hidden", (0,)), ("noise_dim", -1), ("d_lr", 0.0),
                                            ("g_steps", 0), ("mode", "users"),
                                            ("g_output", "tanh"), ("d_weight_decay", -1.0)])
def test_invalid_config_names_the_field(key, value):
    with pytest.raises(ConfigError, match=key):
        CFGAN(**{key: value})


# ---------------------------------------------------------------------------------------------- helpers
def _tiny_model(**overrides) -> tuple[CFGAN, torch.Tensor]:
    """A built (unfitted) CFGAN over 12 users × 10 items, and its dense binary rows."""
    rng = np.random.default_rng(0)
    dense = (rng.random((12, 10)) < 0.3).astype(np.float32)
    dense[np.arange(12), np.arange(12) % 10] = 1.0
    data = Interactions(sp.csr_matrix(dense))
    model = CFGAN(**{**FAST, "g_hidden": (8,), "d_hidden": (6,), **overrides})
    model.items_, model.users_, model.train_ = data.items, data.users, data.matrix
    model.device_ = torch.device("cpu")
    model._build(data.n_items)
    model._train_data = data
    return model, torch.from_numpy(dense)


def _record_masks(model: CFGAN) -> list[tuple[torch.Tensor | None, torch.Tensor | None]]:
    seen: list[tuple[torch.Tensor | None, torch.Tensor | None]] = []
    original = model.sample_masks

    def spy(observed: torch.Tensor, generator: torch.Generator | None):
        out = original(observed, generator)
        seen.append(out)
        return out

    model.sample_masks = spy
    return seen
