"""The report end to end on planted data, and the `recgen synth` CLI round trip."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from synth_helpers import TINY_GAN

from recgen.synth import fidelity_report
from recgen.synth.report import GOALS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import assert_one_line_error, run  # noqa: E402

FAST_MODELS = {"ease": {"l2": 50.0}, "itemknn": {"k": 20}}


def test_report_of_a_copy_of_train_flags_privacy_and_has_ratio_one(planted_split, tmp_path):
    train = planted_split.train
    rep = fidelity_report(train, train, planted_split.test, name="copy", utility_models=FAST_MODELS)
    m = rep.metrics
    assert m["privacy"]["exact_copy_rate"] == 1.0 and m["privacy"]["mia_auc"] > 0.9
    assert m["marginals"]["popularity_jsd"] == 0.0 and m["marginals"]["activity_ks"] == 0.0
    assert m["structure"]["sv_rel_error"] == pytest.approx(0.0, abs=1e-6)
    assert m["utility"]["models"]["ease"]["ndcg_ratio"] == pytest.approx(1.0)
    assert m["utility"]["kendall_tau"] == 1.0
    goals = {g["metric"]: g for g in rep.goals}
    assert len(goals) == len(GOALS)
    assert goals["privacy.exact_copy_rate"]["met"] is False and goals["privacy.mia_auc"]["met"] is False
    assert goals["utility.models.mult-vae.ndcg_ratio"]["met"] is None      # not computed here: n/a
    out = rep.write(tmp_path / "rep")
    names = {p.name for p in out.iterdir()}
    assert {"report.json", "report.md", "report.html", "popularity.png", "activity.png", "dcr.png",
            "singular_values.png"} <= names
    assert (out / "popularity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert "**MISSED**" in md and "![popularity](popularity.png)" in md
    assert json.loads((out / "report.json").read_text())["metrics"]["privacy"]["exact_copy_rate"] == 1.0
    assert "<table>" in (out / "report.html").read_text()


def test_report_of_gan_samples_is_private_and_close_in_activity(fitted_gan, planted_split):
    fake = fitted_gan.sample(planted_split.train.n_users, seed=1)
    rep = fidelity_report(planted_split.train, fake, planted_split.test, with_utility=False)
    m = rep.metrics
    assert m["privacy"]["exact_copy_rate"] == 0.0
    assert m["marginals"]["activity_ks"] < 0.02
    assert m["privacy"]["mia_auc"] < 0.65
    assert "utility" not in m


def test_cli_fit_sample_report_augment_round_trip(planted, tmp_path):
    csv = tmp_path / "data.csv"
    planted.to_frame()[["user", "item"]].to_csv(csv, index=False)
    data = tmp_path / "prepared"
    run("data", "prepare", csv, "--split", "heldout-users", "--val-users", "0", "--test-users", "60",
        "--user", "user", "--item", "item", "--out", data)
    sets = [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in TINY_GAN.items()]
    args = [a for s in sets for a in ("--set", s)]
    run("synth", "fit", "--data", data, "--out", tmp_path / "gan", *args)
    assert (tmp_path / "gan" / "weights.safetensors").is_file()
    res = run("synth", "sample", tmp_path / "gan", "--n-users", "80", "--seed", "3", "--out", tmp_path / "fake.csv")
    assert "80 synthetic users" in res.output
    lines = (tmp_path / "fake.csv").read_text().splitlines()
    assert lines[0] == "user,item"
    run("synth", "sample", tmp_path / "gan", "--n-users", "80", "--seed", "3", "--out", tmp_path / "fake2.csv")
    assert (tmp_path / "fake2.csv").read_text() == (tmp_path / "fake.csv").read_text()
    run("synth", "report", "--real", data, "--synthetic", tmp_path / "fake.csv", "--out", tmp_path / "rep",
        "--no-utility")
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["metrics"]["sizes"]["synthetic_users"] == 80
    run("synth", "augment", "ease", "--data", data, "--synthetic", tmp_path / "fake.csv", "--out", tmp_path / "ease",
        "--set", "l2=50")
    metrics = json.loads((tmp_path / "ease" / "metrics.json").read_text())
    assert metrics["augment"]["synthetic_users"] == 80 and metrics["augment"]["real_users"] == 300
    res = run("evaluate", tmp_path / "ease", "--data", data)
    assert "ndcg" in res.output.lower()
    bad = run("synth", "sample", tmp_path / "nope", "--n-users", "5", "--out", tmp_path / "x.csv", ok=False)
    assert_one_line_error(bad, "nope")
