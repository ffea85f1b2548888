"""AutoRec: the masked loss ignores unobserved entries, the model learns planted low-rank ratings,
the rating-predictor interface, and I-AutoRec's fold-in of new users (a ridge solve)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recgen.data import EvalSet, Interactions
from recgen.evaluation.rating import evaluate_ratings, rmse
from recgen.models.autorec import AutoRec, masked_squared_error
from recgen.training import Batch, StepContext

FAST = {"hidden_dim": 16, "batch_size": 16, "epochs": 60, "lr": 1e-2, "l2": 0.01, "show_progress": False,
        "num_threads": 1}


def planted(n_users: int, n_items: int, rank: int = 2, density: float = 0.4, seed: int = 0):
    """Ratings 3 + (low-rank), clipped to [1, 5]; 40 % observed; a fifth of those held out."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
    r = np.clip(3 + (u @ v.T) / np.sqrt(rank) * 0.9, 1, 5).astype(np.float32)
    mask = rng.random(r.shape) < density
    test = mask & (rng.random(r.shape) < 0.2)
    train = Interactions(sp.csr_matrix(np.where(mask & ~test, r, 0)))
    target = sp.csr_matrix(np.where(test, r, 0))
    ev = EvalSet(train.users, train.matrix, target, train.matrix, np.arange(n_users))
    return train, ev, float(r[mask & ~test].mean())


def test_masked_loss_pinned_and_blind_to_unobserved_entries():
    x = sp.csr_matrix(np.array([[2, 0, 0], [0, 0, 5]], dtype=np.float32))
    b = Batch.from_csr(x, np.arange(2))
    pred = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    loss = masked_squared_error(pred, b.row_ids, b.cols, b.vals)
    assert loss.item() == pytest.approx((2 - 1) ** 2 + (5 - 6) ** 2)
    loss.backward()
    grad = pred.grad.numpy()
    assert np.count_nonzero(grad) == 2 and grad[0, 0] == pytest.approx(-2.0) and grad[1, 2] == pytest.approx(2.0)
    changed = pred.detach().clone()
    changed[0, 1], changed[1, 0] = 100.0, -7.0                     # unobserved entries
    assert masked_squared_error(changed, b.row_ids, b.cols, b.vals).item() == pytest.approx(2.0)
    # the implicit-data extension: c Σ_unobserved r̂² = c (2² + 3² + 4² + 5²)
    weighted = masked_squared_error(pred.detach(), b.row_ids, b.cols, b.vals, unobserved_weight=0.1)
    assert weighted.item() == pytest.approx(2.0 + 0.1 * 54)


def test_train_step_is_batch_mean_plus_scaled_l2():
    train, _, _ = planted(10, 8, seed=3)
    model = AutoRec(**{**FAST, "epochs": 1, "l2": 0.5, "mode": "user"}).fit(train)
    m = model.module_
    b = Batch.from_csr(train.matrix, np.arange(4))
    ctx = StepContext(0, 0, torch.Generator(), {}, model.config)
    got = model.train_step(b, ctx)["loss"].item()
    x = train.matrix[:4].toarray()
    with torch.no_grad():
        pred = m.decoder(torch.sigmoid(torch.tensor(x) @ m.encoder.weight + m.encoder.bias)).numpy()
    sse = ((x - pred) ** 2)[x != 0].sum()
    reg = (m.encoder.weight.pow(2).sum() + m.decoder.weight.pow(2).sum()).item()
    assert got == pytest.approx(sse / 4 + 0.5 * 0.5 * reg / 10, rel=1e-5)


@pytest.mark.parametrize("mode,shape", [("item", (80, 200)), ("user", (200, 80))])
def test_learns_planted_low_rank_ratings(mode, shape):
    train, ev, mean = planted(*shape)
    model = AutoRec(**{**FAST, "mode": mode}).fit(train)
    baseline = rmse(np.full(ev.target.nnz, mean), ev.target.data)
    known = evaluate_ratings(model, ev).rmse
    assert known < 0.7 * baseline, (known, baseline)
    # the same users as if never seen (user_rows = −1): U-AutoRec encodes them, I-AutoRec folds them in
    new = evaluate_ratings(model, EvalSet(ev.users, ev.input, ev.target, ev.exclude, np.full(shape[0], -1))).rmse
    assert new < 0.7 * baseline, (new, baseline)
    if mode == "user":
        assert new == pytest.approx(known)
    # ranking scores are the reconstructed ratings
    t = ev.target[:3]
    t.sort_indices()
    s = model.score(ev.input[:3], user_rows=np.arange(3))
    r = np.repeat(np.arange(3), np.diff(t.indptr))
    np.testing.assert_allclose(model.predict(ev.input[:3], t, user_rows=np.arange(3)), s[r, t.indices], rtol=1e-5)


def test_predict_never_reads_target_values_and_checks_shapes():
    train, ev, _ = planted(30, 40, seed=1)
    model = AutoRec(**{**FAST, "epochs": 2}).fit(train)
    t = ev.target.copy()
    p1 = model.predict(ev.input, t, user_rows=ev.rows)
    t.data = np.random.default_rng(0).random(t.nnz).astype(np.float32) * 100
    np.testing.assert_array_equal(model.predict(ev.input, t, user_rows=ev.rows), p1)
    assert p1.shape == (t.nnz,)


def test_item_autorec_fold_in_solves_the_ridge_towards_the_mean_user():
    train, ev, _ = planted(30, 40, seed=2)
    model = AutoRec(**{**FAST, "epochs": 3, "l2": 2.0}).fit(train)
    with torch.inference_mode():
        phi = model._item_codes().numpy().astype(np.float64)
        dec = model.module_.decoder
        theta_bar = np.r_[dec.weight.mean(0).numpy(), dec.bias.mean().item()]
        rows = sp.vstack([ev.input[:1], sp.csr_matrix((1, 40), dtype=np.float32)]).tocsr()  # 2nd: no ratings
        theta = model._fold_in(rows, model._item_codes()).numpy().astype(np.float64)
    rho = 0.5 * 2.0
    x = rows[0]
    obs = phi[x.indices]
    # ∇ of Σ_obs (r − φθ)² + ρ‖θ − θ̄‖² vanishes at the solution
    grad = -2 * obs.T @ (x.data - obs @ theta[0]) + 2 * rho * (theta[0] - theta_bar)
    assert np.abs(grad).max() < 1e-3 * (1 + np.abs(obs.T @ x.data).max())
    np.testing.assert_allclose(theta[1], theta_bar, rtol=1e-5, atol=1e-6)   # no ratings → the average user


def test_rmse_selection_restores_the_best_epoch():
    train, ev, _ = planted(60, 100, seed=4)
    model = AutoRec(**{**FAST, "epochs": 12, "lr": 3e-2, "patience": 3}).fit(train, validation=ev)
    curve = [h["val_rmse"] for h in model.history_]
    assert model.best_epoch_ == int(np.argmin(curve)) + 1
    assert model.best_val_rmse_ == pytest.approx(min(curve))
    assert evaluate_ratings(model, ev).rmse == pytest.approx(min(curve), rel=1e-5)
