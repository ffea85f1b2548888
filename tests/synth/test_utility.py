"""Model-ranking agreement of the TSTR table (Kendall τ over the issue's three models and over all)."""

from __future__ import annotations

import pytest

from recgen.errors import DataFormatError
from recgen.synth.report_utility import ranking_agreement


def test_ranking_agreement_hand_values():
    names = ["ease", "itemknn", "mult-vae", "puresvd"]
    # synthetic data swaps ItemKNN and Mult-VAE only: over the issue's 3 models 2 of 3 pairs agree,
    # τ = (2 − 1) / 3; over all 4 models 5 of 6 pairs agree, τ = (5 − 1) / 6
    r = ranking_agreement(names, [0.4, 0.3, 0.2, 0.1], [0.35, 0.2, 0.25, 0.05])
    assert r["kendall_tau"] == pytest.approx(1 / 3)
    assert r["kendall_tau_all"] == pytest.approx(2 / 3)
    assert r["kendall_tau_models"] == ["ease", "itemknn", "mult-vae"] and r["kendall_tau_all_models"] == names


def test_ranking_agreement_without_the_issue_models_uses_all_and_rejects_ragged_input():
    r = ranking_agreement(["ease", "puresvd", "most-popular"], [0.4, 0.3, 0.1], [0.1, 0.3, 0.4])
    assert r["kendall_tau"] == pytest.approx(-1.0) and r["kendall_tau_all"] == pytest.approx(-1.0)
    assert r["kendall_tau_models"] == ["ease", "puresvd", "most-popular"]
    with pytest.raises(DataFormatError, match="one score per model"):
        ranking_agreement(["ease"], [0.1, 0.2], [0.1, 0.2])
