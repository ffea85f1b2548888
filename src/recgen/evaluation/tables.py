"""Result tables for several models: Markdown (docs, reports) and ``rich`` (CLI).

Column headers say which recall is shown: ``recall@20 (std)`` = hits / |target| and
``trecall@20 (trunc)`` = hits / min(k, |target|); a footnote under the Markdown table spells it out.
With ``ci=True`` every per-user metric shows ``mean [low, high]``: a 95 % percentile bootstrap
over users (list-level metrics such as coverage have no interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recgen.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from recgen.evaluation.evaluate import EvalResult

RECALL_NOTE = ("recall (std) = hits@k / |target| (standard; CFGAN, RecBole); "
               "trecall (trunc) = hits@k / min(k, |target|) (truncated; Liang et al. 2018).")


def header(metric: str) -> str:
    """Column header for a metric key, marking the recall definition."""
    base = metric.split("@", 1)[0]
    if base == "recall":
        return f"{metric} (std)"
    if base == "trecall":
        return f"{metric} (trunc)"
    return metric


def _metrics(results: dict[str, EvalResult], metrics: Sequence[str] | None) -> list[str]:
    if not results:
        raise ConfigError("results is empty; pass {'model name': EvalResult, ...}.")
    first = next(iter(results.values()))
    names = list(first.summary) if metrics is None else list(metrics)
    for model, r in results.items():
        missing = [m for m in names if m not in r.summary]
        if missing:
            raise ConfigError(
                f"metrics {missing} are not in the result of {model!r}; available: {', '.join(r.summary)}."
            )
    return names


def _cells(results: dict[str, EvalResult], names: list[str], ci: bool, n_boot: int, digits: int
           ) -> list[list[str]]:
    rows = []
    for model, r in results.items():
        row = [model, str(r.n_users)]
        for m in names:
            cell = f"{r.summary[m]:.{digits}f}"
            if ci and m in r.per_user:
                _, lo, hi = r.ci(m, n_boot=n_boot)
                cell += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
            row.append(cell)
        rows.append(row)
    return rows


def results_table(results: dict[str, EvalResult], metrics: Sequence[str] | None = None, ci: bool = True,
                  *, n_boot: int = 1000, digits: int = 4) -> str:
    """Markdown table, one row per model, one column per metric key (``"ndcg@20"``...)."""
    names = _metrics(results, metrics)
    heads = ["model", "users"] + [header(m) for m in names]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in _cells(results, names, ci, n_boot, digits)]
    notes = []
    if any(m.split("@")[0] in ("recall", "trecall") for m in names):
        notes.append(RECALL_NOTE)
    if ci:
        notes.append("Brackets: 95 % percentile-bootstrap interval over users.")
    return "\n".join(lines) + ("\n\n" + " ".join(notes) if notes else "") + "\n"


def rich_table(results: dict[str, EvalResult], metrics: Sequence[str] | None = None, ci: bool = True,
               *, n_boot: int = 1000, digits: int = 4, title: str | None = None) -> Table:
    """The same table as a :class:`rich.table.Table` for the CLI."""
    from rich.table import Table

    names = _metrics(results, metrics)
    caption = RECALL_NOTE if any(m.split("@")[0] in ("recall", "trecall") for m in names) else None
    table = Table(title=title, caption=caption)
    table.add_column("model")
    table.add_column("users", justify="right")
    for m in names:
        table.add_column(header(m), justify="right")
    for row in _cells(results, names, ci, n_boot, digits):
        table.add_row(*row)
    return table
