"""Every user error the CLI can meet ends in one ``error: ...`` line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run, write_given_split


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-errors")
    write_given_split(root / "raw", n_users=30, n_items=24)
    run("data", "prepare", root / "raw", "--format", "lines", "--out", root / "prep")
    run("train", "most-popular", "--data", root / "prep", "--out", root / "pop")
    return root


def test_unknown_model_suggests_the_nearest_name(trained):
    r = run("train", "eaze", "--data", trained / "prep", "--out", trained / "x", ok=False)
    assert_one_line_error(r, "'eaze'", "Did you mean 'ease'?", "recgen models")
    r = run("models", "mult_vea", ok=False)
    assert_one_line_error(r, "Did you mean 'mult-vae'?")


def test_unknown_config_key_lists_valid_names(trained):
    r = run("train", "ease", "--data", trained / "prep", "--out", trained / "x", "--set", "lambda=10", ok=False)
    line = assert_one_line_error(r, "'lambda'")
    for name in ("l2", "dtype", "max_memory_gb", "implicit"):
        assert name in line
    r = run("train", "ease", "--data", trained / "prep", "--out", trained / "x", "--set", "l2", ok=False)
    assert_one_line_error(r, "KEY=VALUE")
    r = run("train", "ease", "--data", trained / "prep", "--out", trained / "x", "--set", "l2=abc", ok=False)
    assert_one_line_error(r, "l2='abc'")
    bad = trained / "bad.json"
    bad.write_text("[1, 2]")
    r = run("train", "ease", "--data", trained / "prep", "--out", trained / "x", "--config", bad, ok=False)
    assert_one_line_error(r, "JSON object")
    assert not (trained / "x").exists()  # nothing half-written


@pytest.mark.parametrize("k", ["0", "-3", "25"])
def test_k_out_of_range(trained, k):
    for args in (("evaluate", trained / "pop", "--data", trained / "prep", "--k", "5", k),
                 ("recommend", trained / "pop", "--data", trained / "prep", "--k", k),
                 ("recommend", trained / "pop", "--items", "500", "--k", k)):
        r = run(*args, ok=False)
        line = assert_one_line_error(r, f"={k}")
        assert "between 1 and 24" in line


def test_missing_data_dir_and_model_dir(trained):
    r = run("train", "ease", "--data", trained / "nope", "--out", trained / "x", ok=False)
    assert_one_line_error(r, "--data", "nope", "recgen data prepare")
    r = run("evaluate", trained / "nomodel", "--data", trained / "prep", ok=False)
    assert_one_line_error(r, "nomodel", "recgen train")
    r = run("data", "prepare", trained / "missing.csv", "--out", trained / "y", ok=False)
    assert_one_line_error(r, "missing.csv")


def test_prepared_dir_from_another_version(trained, tmp_path):
    import shutil

    copy = tmp_path / "prep"
    shutil.copytree(trained / "prep", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 999
    (copy / "manifest.json").write_text(json.dumps(manifest))
    r = run("train", "ease", "--data", copy, "--out", tmp_path / "m", ok=False)
    assert_one_line_error(r, "999", "recgen data prepare")
    r = run("evaluate", trained / "pop", "--data", copy, ok=False)
    assert_one_line_error(r, "999")
    model = tmp_path / "pop"
    shutil.copytree(trained / "pop", model)
    cfg = json.loads((model / "config.json").read_text())
    cfg["format_version"] = 999
    (model / "config.json").write_text(json.dumps(cfg))
    r = run("evaluate", model, "--data", trained / "prep", ok=False)
    assert_one_line_error(r, "format 999", "Retrain")


def test_model_and_data_that_do_not_match(trained, tmp_path):
    write_given_split(tmp_path / "raw", n_users=20, n_items=30, seed=1)
    run("data", "prepare", tmp_path / "raw", "--format", "lines", "--out", tmp_path / "prep")
    r = run("evaluate", trained / "pop", "--data", tmp_path / "prep", ok=False)
    assert_one_line_error(r, "24 items", "30")


def test_recommend_argument_errors(trained):
    r = run("recommend", trained / "pop", "--items", "500,nope", ok=False)
    assert_one_line_error(r, "'nope'", "--ignore-unknown")
    ok = run("recommend", trained / "pop", "--items", "500,nope", "--ignore-unknown", "--k", "3")
    assert ok.stdout.count("│") == 5 * 3
    r = run("recommend", trained / "pop", "--users", "424242", ok=False)
    assert_one_line_error(r, "'424242'", "--items")
    r = run("recommend", trained / "pop", ok=False)
    assert_one_line_error(r, "exactly one of")
    r = run("recommend", trained / "pop", "--items", "500", "--data", trained / "prep", ok=False)
    assert_one_line_error(r, "exactly one of")
    r = run("evaluate", trained / "pop", "--data", trained / "prep", "--k", "x", ok=False)
    assert_one_line_error(r, "'x'")


def test_resume_for_a_closed_form_model(trained):
    r = run("train", "ease", "--data", trained / "prep", "--out", trained / "x", "--resume", ok=False)
    assert_one_line_error(r, "--resume", "ease")


def test_console_script_entry_point(trained):
    """The installed ``recgen`` entry point (``recgen.cli.main:main``) behaves the same as the group."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    code = "from recgen.cli.main import main; main()"
    p = subprocess.run([sys.executable, "-c", code, "train", "eaze", "--data", str(trained / "prep"), "--out", "x"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and p.stderr.startswith("error: unknown model 'eaze'")
    assert "Traceback" not in p.stderr
