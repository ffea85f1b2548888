"""PNG plots of the synthetic-data report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def _pyplot():  # noqa: ANN202 - matplotlib module
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _ccdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = np.sort(np.asarray(values, dtype=np.float64))
    return v, 1.0 - np.arange(len(v)) / max(len(v), 1)


def plot_distributions(sets: Mapping[str, sp.csr_matrix], out_dir: Path) -> dict[str, str]:
    """Item popularity (rank–share, log–log) and user activity (CCDF, log–log) of each matrix."""
    plt = _pyplot()
    files = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in sets.items():
        pop = np.sort(np.bincount(m.indices, minlength=m.shape[1]))[::-1].astype(np.float64)
        share = pop / max(pop.sum(), 1)
        nz = share > 0
        ax.loglog(np.arange(1, nz.sum() + 1), share[nz], label=name, lw=1.2)
    ax.set_xlabel("item rank by popularity")
    ax.set_ylabel("share of interactions")
    ax.set_title("Item popularity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "popularity.png", dpi=110)
    plt.close(fig)
    files["popularity"] = "popularity.png"
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in sets.items():
        x, y = _ccdf(np.diff(m.indptr))
        ax.loglog(x, y, label=name, lw=1.2, drawstyle="steps-post")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a narrow log axis overlap
    ax.set_xlabel("items per user")
    ax.set_ylabel("share of users with at least x items")
    ax.set_title("User activity (CCDF)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "activity.png", dpi=110)
    plt.close(fig)
    files["activity"] = "activity.png"
    return files


def plot_lines(series: Mapping[str, np.ndarray], out: Path, *, title: str, xlabel: str, ylabel: str,
               log_y: bool = False, hist: bool = False) -> str:
    """One figure of several named series (lines, or overlaid histograms with ``hist``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, v in series.items():
        v = np.asarray(v, dtype=np.float64)
        if hist:
            ax.hist(v, bins=40, range=(0, 1), alpha=0.5, label=name)
        else:
            ax.plot(np.arange(1, len(v) + 1), v, label=name, lw=1.2)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out.name
