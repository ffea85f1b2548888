"""Training-curve plots: the best epoch marked is the right one, valid PNGs, clear errors, `recgen train` writes them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from testkit import planted_blocks

from recgen.errors import ConfigError, DataFormatError
from recgen.training.plots import (
    best_epoch,
    best_point,
    curve,
    default_names,
    plot_history,
    plot_validation_curves,
)

#: a Mult-VAE-like history validated every 2nd epoch (and the last): ndcg@20 peaks twice at 0.31 (epochs 4 and 8)
SPARSE = [
    {"epoch": 1, "step": 3, "lr": 1e-3, "loss": 40.0, "nll": 39.5, "kl": 5.0, "beta": 0.1, "seconds": 0.5},
    {"epoch": 2, "step": 6, "lr": 1e-3, "loss": 35.0, "nll": 34.2, "kl": 8.0, "beta": 0.1, "seconds": 0.5,
     "ndcg@20": 0.20, "eval_seconds": 0.1},
    {"epoch": 3, "step": 9, "lr": 1e-3, "loss": 33.0, "nll": 32.1, "kl": 9.0, "beta": 0.1, "seconds": 0.5},
    {"epoch": 4, "step": 12, "lr": 1e-3, "loss": 32.0, "nll": 31.0, "kl": 10.0, "beta": 0.1, "seconds": 0.5,
     "ndcg@20": 0.31, "eval_seconds": 0.1},
    {"epoch": 5, "step": 15, "lr": 1e-3, "loss": 31.5, "nll": 30.4, "kl": 11.0, "beta": 0.1, "seconds": 0.5},
    {"epoch": 6, "step": 18, "lr": 1e-3, "loss": 31.2, "nll": 30.0, "kl": 12.0, "beta": 0.1, "seconds": 0.5,
     "ndcg@20": 0.29, "eval_seconds": 0.1},
    {"epoch": 7, "step": 21, "lr": 1e-3, "loss": 31.0, "nll": 29.7, "kl": 13.0, "beta": 0.1, "seconds": 0.5},
    {"epoch": 8, "step": 24, "lr": 1e-3, "loss": 30.9, "nll": 29.5, "kl": 14.0, "beta": 0.1, "seconds": 0.5,
     "ndcg@20": 0.31, "eval_seconds": 0.1},
    {"epoch": 9, "step": 27, "lr": 1e-3, "loss": 30.8, "nll": 29.3, "kl": 15.0, "beta": 0.1, "seconds": 0.5,
     "ndcg@20": 0.27, "eval_seconds": 0.1},
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature and that chunk's name."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC and head[12:16] == b"IHDR", head
    return struct.unpack(">II", head[16:24])


def test_best_epoch_is_the_first_argmax_of_the_sparse_validation_metric():
    # hand-computed: validated epochs 2, 4, 6, 8, 9 with 0.20, 0.31, 0.29, 0.31, 0.27 → first maximum at epoch 4
    assert best_epoch(SPARSE) == (4, 0.31)
    epochs, values = curve(SPARSE, "ndcg@20")
    assert epochs.tolist() == [2, 4, 6, 8, 9] and values.tolist() == [0.20, 0.31, 0.29, 0.31, 0.27]
    assert best_epoch(SPARSE) == (int(epochs[np.argmax(values)]), float(values.max()))
    # error metrics are minimised (AutoRec's val_rmse), NaN (not validated) skipped
    rmse = [{"epoch": e, "loss": 1.0, "val_rmse": v} for e, v in [(1, 0.95), (2, 0.91), (3, 0.93), (4, 0.91)]]
    assert best_epoch(rmse) == (2, 0.91)
    assert best_point([1, 2, 3], [0.1, float("nan"), 0.05], lower=True) == (3.0, 0.05)


def test_default_panels_are_the_loss_its_parts_then_the_validation_metric():
    assert default_names(SPARSE) == ["loss", "nll", "kl", "beta", "ndcg@20"]  # no lr / seconds / step


def test_plot_history_writes_a_png_atomically(tmp_path):
    out = plot_history(SPARSE, tmp_path / "curves.png", title="mult-vae")
    assert out == tmp_path / "curves.png"
    width, height = png_size(out)
    # 5 panels → 3 columns × 2 rows of 4.2 × 3.0 inches (+ title) at 100 dpi
    assert (width, height) == (1260, 640)
    assert out.stat().st_size > 20_000  # drawn lines and text, not a blank canvas
    from matplotlib.image import imread

    pixels = imread(out)
    assert pixels.shape[:2] == (640, 1260) and pixels[..., :3].std() > 0.05
    # a GAN-style history without validation (no best epoch), one chosen value: one panel
    gan = [{"epoch": e, "step": e, "loss": 1.0 / e, "d_loss": 0.7 + 0.01 * e, "seconds": 0.1} for e in range(1, 6)]
    assert png_size(plot_history(gan, tmp_path / "gan.png", metrics=["d_loss"])) == (420, 300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "gan.png"]  # no temporary file left


def test_plot_validation_curves_compares_runs_on_one_axis(tmp_path):
    runs = {"mult-vae": list(zip(*curve(SPARSE, "ndcg@20"), strict=True)),
            "ease-like": [(1, 0.25), (2, float("nan")), (3, 0.26)]}
    out = plot_validation_curves(runs, tmp_path / "cmp.png", metric="ndcg@20", title="valid",
                                 references={"EASE": 0.3}, groups={"mult-vae": "vae"})
    assert png_size(out) == (800, 500) and out.stat().st_size > 20_000


def test_errors_name_the_argument_and_the_valid_choices(tmp_path):
    with pytest.raises(DataFormatError, match=r"history=\[\] is empty"):
        plot_history([], tmp_path / "c.png")
    with pytest.raises(DataFormatError, match=r"history\[1\].*'epoch'"):
        plot_history([{"epoch": 1, "loss": 1.0}, {"loss": 2.0}], tmp_path / "c.png")
    with pytest.raises(ConfigError, match=r"metrics='ndcg@50'.*'loss'.*'ndcg@20'.*Did you mean 'ndcg@20'"):
        plot_history(SPARSE, tmp_path / "c.png", metrics=["ndcg@50"])
    with pytest.raises(ConfigError, match=r"metrics='loss' is a string"):
        plot_history(SPARSE, tmp_path / "c.png", metrics="loss")
    with pytest.raises(ConfigError, match=r"path=.*c\.jpg.*\.png"):
        plot_history(SPARSE, tmp_path / "c.jpg")
    with pytest.raises(ConfigError, match=r"no validation metric.*'loss'"):
        best_epoch([{"epoch": 1, "loss": 1.0}])
    with pytest.raises(DataFormatError, match=r"curves=\{\} is empty"):
        plot_validation_curves({}, tmp_path / "v.png", metric="ndcg@20")
    with pytest.raises(DataFormatError, match=r"curves\['x'\] has no finite"):
        plot_validation_curves({"x": [(1, float("nan"))]}, tmp_path / "v.png", metric="ndcg@20")
    assert not any(tmp_path.iterdir())  # nothing half-written


def recgen(*args: object) -> Result:
    """``recgen ARGS`` in-process; a non-zero exit fails the test with the command's output."""
    from recgen.cli.main import cli

    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def test_recgen_train_writes_curves_png_unless_no_plot(tmp_path):
    from recgen import load_model

    data = planted_blocks(n_users=60, n_items=30)[0].matrix.tocoo()
    (tmp_path / "pairs.csv").write_text("user,item\n" + "".join(f"{u},{i}\n" for u, i in zip(data.row, data.col,
                                                                                              strict=True)))
    recgen("data", "prepare", tmp_path / "pairs.csv", "--split", "random", "--seed", 0, "--out", tmp_path / "prep")
    fast = ["--set", "epochs=4", "--set", "hidden_dims=", "--set", "latent_dim=8", "--set", "batch_size=16",
            "--set", "show_progress=false", "--set", "num_threads=1"]
    r = recgen("train", "mult-vae", "--data", tmp_path / "prep", "--out", tmp_path / "vae", *fast)
    assert "training curves:" in r.stderr
    png = tmp_path / "vae" / "curves.png"
    assert png_size(png) == (1260, 640)  # loss, nll, kl, beta, ndcg@20 (validated every epoch)
    model = load_model(tmp_path / "vae")  # the artifact still loads with the extra file
    assert len(model.history_) == 4 and best_epoch(model.history_)[0] == model.best_epoch_

    recgen("train", "mult-vae", "--data", tmp_path / "prep", "--out", tmp_path / "quiet", *fast, "--no-plot")
    assert (tmp_path / "quiet" / "config.json").is_file() and not (tmp_path / "quiet" / "curves.png").exists()
    recgen("train", "most-popular", "--data", tmp_path / "prep", "--out", tmp_path / "pop")  # no epochs, no plot
    assert not (tmp_path / "pop" / "curves.png").exists()
