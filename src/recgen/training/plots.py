"""PNG plots of training histories: loss and validation curves per epoch, the best epoch marked.

A history is what :class:`recgen.training.Trainer` keeps in ``model.history_``: one dict per epoch with
``epoch`` (1-based), ``step``, ``lr``, ``loss`` and the other values the training step returned (``nll``,
``kl``, ``d_loss``, ...), ``seconds`` / ``cpu_seconds``, and on validated epochs only (every
``eval_every`` epochs) the validation metric (``ndcg@20``, or AutoRec's ``val_rmse``) with
``eval_seconds`` / ``eval_cpu_seconds``. Validation values may therefore be sparse; plots draw them at
the epochs that have them. A validation metric is a key written ``<metric>@<k>`` or ``val_<name>``;
higher is better except for error metrics (``rmse``, ``mae``, ``loss`` in the name), where lower is.

Figures are drawn on matplotlib's Agg canvas (no display, no pyplot state) and written atomically.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recgen._io import atomic_file
from recgen.errors import ConfigError, DataFormatError, suggest

#: keys of a history record that index it rather than describe training
_INDEX_KEYS = frozenset({"epoch", "step"})
#: values plotted only when asked for by name (bookkeeping, not training curves)
_BOOKKEEPING = frozenset({"lr", "seconds", "cpu_seconds", "eval_seconds", "eval_cpu_seconds"})
_VALIDATION = re.compile(r"^(val_[a-z0-9_@]+|[a-z_]+@\d+)$")
_LOWER_IS_BETTER = ("rmse", "mae", "loss", "error")

#: pixels per inch of the written PNGs
DPI = 100


def is_validation_metric(name: str) -> bool:
    """Whether a history key is a validation metric (``ndcg@20``, ``recall@50``, ``val_rmse``)."""
    return bool(_VALIDATION.match(name))


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better (error metrics such as ``val_rmse``)."""
    return any(part in metric for part in _LOWER_IS_BETTER)


def _records(history: Any) -> list[Mapping[str, Any]]:
    """``history`` as a list of records, each with a positive integer ``epoch`` (else DataFormatError)."""
    if isinstance(history, Mapping | str | bytes) or not isinstance(history, Sequence):
        raise DataFormatError(f"history={type(history).__name__} is not a list of per-epoch dicts; pass "
                              "model.history_ (a list of {'epoch': 1, 'loss': ...} records).")
    if len(history) == 0:
        raise DataFormatError("history=[] is empty: the model has no epochs to plot; fit a neural model "
                              "(it fills model.history_) before plotting.")
    for i, rec in enumerate(history):
        epoch = rec.get("epoch") if isinstance(rec, Mapping) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 1:
            raise DataFormatError(f"history[{i}]={rec!r:.120} has no positive integer 'epoch'; pass the "
                                  "per-epoch records of model.history_ unchanged.")
    return list(history)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def plottable_names(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every numeric key of the records except ``epoch`` / ``step``, in first-seen order."""
    names: dict[str, None] = {}
    for rec in _records(history):
        for k, v in rec.items():
            if k not in _INDEX_KEYS and _is_number(v):
                names.setdefault(str(k), None)
    return list(names)


def validation_metrics(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The validation metrics recorded in ``history`` (usually one: the trainer's ``eval_metric``)."""
    return [n for n in plottable_names(history) if is_validation_metric(n)]


def default_names(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """What :func:`plot_history` draws by default: the loss and its parts, then the validation metrics."""
    names = [n for n in plottable_names(history) if n not in _BOOKKEEPING]
    losses = sorted((n for n in names if not is_validation_metric(n)), key=lambda n: n != "loss")
    return losses + [n for n in names if is_validation_metric(n)]


def _check_name(history: Sequence[Mapping[str, Any]], name: str, arg: str) -> None:
    valid = plottable_names(history)
    if name not in valid:
        raise ConfigError(f"{arg}={name!r} is not recorded in this history; choose from {valid}."
                          f"{suggest(name, valid)}")


def curve(history: Sequence[Mapping[str, Any]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(epochs, values)`` of ``name`` over the records that hold a finite value of it."""
    records = _records(history)
    _check_name(records, name, "metric")
    pts = [(int(r["epoch"]), float(r[name])) for r in records if _is_number(r.get(name))
           and math.isfinite(float(r[name]))]
    epochs = np.array([p[0] for p in pts], dtype=np.int64)
    return epochs, np.array([p[1] for p in pts], dtype=np.float64)


def best_point(epochs: Sequence[float], values: Sequence[float], *, lower: bool = False) -> tuple[float, float]:
    """``(epoch, value)`` of the best finite value: the first maximum (the first minimum with ``lower``).

    "First" matches the trainer, which keeps an epoch only when it strictly improves on the best so far.
    """
    e, v = np.asarray(epochs, dtype=np.float64), np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & np.isfinite(e)
    if not ok.any():
        raise DataFormatError("values has no finite number; there is no best epoch to mark.")
    e, v = e[ok], v[ok]
    i = int(np.argmin(v) if lower else np.argmax(v))  # argmax / argmin return the first occurrence
    return float(e[i]), float(v[i])


def best_epoch(history: Sequence[Mapping[str, Any]], metric: str | None = None) -> tuple[int, float]:
    """``(epoch, value)`` of the best validation ``metric`` (default: the first validation metric recorded).

    The best is the first maximum, or the first minimum for error metrics (:func:`lower_is_better`).
    """
    records = _records(history)
    if metric is None:
        found = validation_metrics(records)
        if not found:
            raise ConfigError(f"metric=None but this history records no validation metric (its values: "
                              f"{plottable_names(records)}); fit with validation=..., or pass metric=<name>.")
        metric = found[0]
    epochs, values = curve(records, metric)
    if len(values) == 0:
        raise DataFormatError(f"metric={metric!r} has no finite value in this history; there is no best epoch.")
    e, v = best_point(epochs, values, lower=lower_is_better(metric))
    return int(e), v


def _canvas(figsize: tuple[float, float]) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ConfigError(f"path={str(p)!r} does not end in .png; the plots are PNG images, name the file "
                          f"e.g. {p.with_suffix('.png').name!r}.")
    return p


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    with atomic_file(path, "wb") as fh:
        # no "Software" entry: the bytes depend on the figure only, not on the matplotlib version string
        fig.savefig(fh, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _integer_epochs(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_history(history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *,
                 metrics: Sequence[str] | None = None, title: str | None = None) -> Path:
    """Draw one panel per value of ``history`` against the epoch and write it as a PNG to ``path``.

    ``metrics``: the record keys to draw (default :func:`default_names`: ``loss``, its parts such as
    ``nll`` / ``kl`` / ``d_loss``, then the validation metric); any numeric key is allowed (e.g. ``lr``,
    ``seconds``). Validation values are drawn with markers at the epochs that have them. When the
    history has a validation metric, its best epoch (:func:`best_epoch`) is marked on every panel by a
    dashed line and on the metric's panel by a star. Returns ``path``.
    """
    records = _records(history)
    out = _png_path(path)
    if isinstance(metrics, str):
        raise ConfigError(f"metrics={metrics!r} is a string; pass a list of names, e.g. metrics=[{metrics!r}].")
    names = list(default_names(records) if metrics is None else metrics)
    if not names:
        raise ConfigError(f"metrics={list(names)} names nothing to draw; choose from {plottable_names(records)}.")
    for n in names:
        _check_name(records, n, "metrics")
    ranked = [n for n in names if is_validation_metric(n)] or validation_metrics(records)
    best = None
    if ranked and len(curve(records, ranked[0])[1]):
        best = (ranked[0], *best_epoch(records, ranked[0]))
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig = _canvas((4.2 * ncols, 3.0 * nrows + (0.4 if title else 0.0)))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    first, last = min(int(r["epoch"]) for r in records), max(int(r["epoch"]) for r in records)
    span = (first - 0.02 * max(last - first, 1), last + 0.02 * max(last - first, 1))  # one x range for all panels
    for ax, name in zip(axes, names, strict=False):
        epochs, values = curve(records, name)
        validated = is_validation_metric(name)
        sparse = validated and len(epochs) < len(records)
        ax.plot(epochs, values, color="C1" if validated else "C0", lw=1.3,
                marker="o" if sparse or len(epochs) == 1 else None, ms=3)
        if best is not None:
            ax.axvline(best[1], color="0.45", ls="--", lw=0.9)
            if name == best[0]:
                ax.plot([best[1]], [best[2]], marker="*", ms=12, color="C3", ls="none",
                        label=f"best epoch {best[1]}: {best[2]:.4g}")
                ax.legend(loc="best", fontsize=8)
        if validated:
            ax.set_title(f"{name} (validation, {'lower' if lower_is_better(name) else 'higher'} is better)",
                         fontsize=10)
        else:
            ax.set_title(name if name in _BOOKKEEPING else f"{name} (training, epoch mean)", fontsize=10)
        ax.set_xlim(*span)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        _integer_epochs(ax)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, out)


def plot_validation_curves(curves: Mapping[str, Sequence[Sequence[float]]], path: str | os.PathLike[str], *,
                           metric: str, title: str | None = None, references: Mapping[str, float] | None = None,
                           groups: Mapping[str, str] | None = None) -> Path:
    """Several runs' validation curves on one axis (to compare models), each run's best point starred.

    ``curves``: run label → ``[(epoch, value), ...]`` (non-finite values are skipped; :func:`curve` gives
    them from a history as two arrays: ``list(zip(*curve(h, m)))``). ``metric`` labels the y axis and sets
    the direction of "best" (:func:`lower_is_better`). ``references``: label → a constant drawn as a
    horizontal dotted line (e.g. a closed-form model's validation score). ``groups``: run label → group;
    runs of one group share a colour and differ by line style (e.g. seeds of one model). Returns ``path``.
    """
    out = _png_path(path)
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"metric={metric!r} must name the plotted value, e.g. metric='ndcg@20'.")
    if not curves:
        raise DataFormatError("curves={} is empty; pass at least one run as {label: [(epoch, value), ...]}.")
    lower = lower_is_better(metric)
    cleaned: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, pts in curves.items():
        arr = np.asarray(pts, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise DataFormatError(f"curves[{label!r}] is not a list of (epoch, value) pairs (shape "
                                  f"{arr.shape}); pass e.g. [(1, 0.21), (2, 0.24)].")
        arr = arr[np.isfinite(arr).all(axis=1)]
        if len(arr) == 0:
            raise DataFormatError(f"curves[{label!r}] has no finite (epoch, value) pair; drop the run or fix it.")
        cleaned[label] = (arr[:, 0], arr[:, 1])
    group_of = {label: (groups or {}).get(label, label) for label in cleaned}
    colours = {g: f"C{i % 10}" for i, g in enumerate(dict.fromkeys(group_of.values()))}
    styles = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))
    seen: dict[str, int] = {}
    fig = _canvas((8.0, 5.0))
    ax = fig.subplots()
    for label, (epochs, values) in cleaned.items():
        g = group_of[label]
        k = seen[g] = seen.get(g, -1) + 1
        e, v = best_point(epochs, values, lower=lower)
        line = ax.plot(epochs, values, color=colours[g], ls=styles[k % len(styles)], lw=1.4,
                       label=f"{label} (best {v:.4f} @ {e:g})")[0]
        ax.plot([e], [v], marker="*", ms=10, color=line.get_color(), ls="none")
    for i, (label, value) in enumerate((references or {}).items()):
        ax.axhline(float(value), color=f"{0.2 + 0.15 * (i % 4):.2f}", ls=":", lw=1.2, label=f"{label}: {value:.4f}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{metric} ({'lower' if lower else 'higher'} is better)")
    ax.grid(alpha=0.3)
    _integer_epochs(ax)
    ax.legend(fontsize=7.5, loc="lower right" if not lower else "upper right")
    if title:
        ax.set_title(title, fontsize=11)
    return _save(fig, out)
