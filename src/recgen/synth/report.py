"""The fidelity / privacy / utility report of synthetic users (JSON + Markdown + HTML with PNG plots).

``fidelity_report(real=train, synthetic=fake, holdout=split.test)``:

- ``real``: the real **training** users the generator was fitted on;
- ``holdout``: an :class:`~recgen.data.EvalSet` of real users the generator never saw (e.g. the test
  users of :func:`recgen.data.heldout_users_split`); their full rows (fold-in ∪ target) are the
  non-members of the privacy tests, and their fold-in → target split is the TSTR test.

Marginals and structure are computed against the training users (the distribution the generator
imitates) **and** against the held-out users, with the *real-vs-real floor* (held-out vs training
users) beside them: a synthetic set cannot be expected to match held-out users better than other real
users do. Goals (issue 4) are checked on the training reference and listed pass / miss in the report.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recgen._io import atomic_dir
from recgen.data.dataset import EvalSet
from recgen.data.interactions import Interactions
from recgen.errors import DataFormatError
from recgen.evaluation import EvalResult
from recgen.synth import plots
from recgen.synth.report_marginals import binary, diversity, marginals, structure
from recgen.synth.report_privacy import privacy
from recgen.synth.report_utility import real_baselines, utility

log = logging.getLogger(__name__)

#: the goals of issue 4: (metric path, comparison, threshold, label)
GOALS: tuple[tuple[str, str, float, str], ...] = (
    ("utility.models.ease.ndcg_ratio", ">=", 0.90, "TSTR NDCG@20 ≥ 0.90 × real (EASE)"),
    ("utility.models.mult-vae.ndcg_ratio", ">=", 0.90, "TSTR NDCG@20 ≥ 0.90 × real (Mult-VAE)"),
    ("marginals.popularity_jsd", "<=", 0.02, "popularity JSD ≤ 0.02"),
    ("marginals.activity_ks", "<=", 0.05, "activity KS ≤ 0.05"),
    ("utility.kendall_tau", ">=", 0.8, "model ranking Kendall τ ≥ 0.8 (issue's 3 models)"),
    ("utility.kendall_tau_all", ">=", 0.8, "model ranking Kendall τ ≥ 0.8 (all TSTR models)"),
    ("privacy.exact_copy_rate", "<=", 0.0, "no exact copies of training users"),
    ("privacy.mia_auc", "<=", 0.55, "membership-inference AUC ≤ 0.55"),
)


def holdout_rows(holdout: EvalSet | Interactions | sp.spmatrix) -> sp.csr_matrix:
    """Full rows of held-out users: fold-in ∪ target for an EvalSet."""
    if isinstance(holdout, EvalSet):
        return binary(holdout.input + holdout.target)
    if isinstance(holdout, Interactions):
        return binary(holdout.matrix)
    return binary(holdout)


def lookup(d: Mapping[str, Any], path: str) -> Any:
    cur: Any = d
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def check_goals(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its value and whether it is met (``None`` when the metric was not computed)."""
    out = []
    for path, op, thr, label in GOALS:
        v = lookup(metrics, path)
        met = None if v is None or not np.isfinite(v) else bool(v >= thr if op == ">=" else v <= thr)
        out.append({"goal": label, "metric": path, "threshold": thr, "op": op, "value": v, "met": met})
    return out


@dataclass
class SynthReport:
    """Computed report: ``metrics`` (JSON-able nested dict), ``goals``, and arrays for the plots."""

    name: str
    metrics: dict[str, Any]
    goals: list[dict[str, Any]]
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "metrics": self.metrics, "goals": self.goals}

    def to_markdown(self) -> str:
        m = self.metrics
        lines = [f"# Synthetic data report: {self.name}", ""]
        lines += ["## Goals", "", "| goal | value | met |", "|---|---|---|"]
        for g in self.goals:
            v = "n/a" if g["value"] is None else f"{g['value']:.4f}"
            lines.append(f"| {g['goal']} | {v} | {'n/a' if g['met'] is None else ('yes' if g['met'] else '**MISSED**')} |")
        lines += ["", "## Marginals (synthetic vs real train users; vs held-out users; real floor = held-out vs train)",
                  "", "| metric | vs train | vs held-out | real floor |", "|---|---|---|---|"]
        for key in ("popularity_jsd", "activity_ks", "activity_wasserstein", "activity_wasserstein_log",
                    "gini_synthetic", "density_synthetic", "item_coverage_synthetic"):
            lines.append(f"| {key} | {m['marginals'][key]:.4f} | {m['marginals_holdout'][key]:.4f} | "
                         f"{m['marginals_floor'][key]:.4f} |")
        lines.append(f"| gini / density of real train | {m['marginals']['gini_real']:.4f} | "
                     f"{m['marginals']['density_real']:.4f} | |")
        s = m["structure"]
        lines += ["", "## Structure", "",
                  f"- top-{len(s['singular_values_real'])} singular values, relative error: {s['sv_rel_error']:.4f} "
                  f"(real floor {m['structure_floor']['sv_rel_error']:.4f})",
                  f"- co-occurrence of the {s['cooc_pairs']} most frequent real pairs: rate correlation "
                  f"{s['cooc_rate_corr']:.4f}, lift correlation {s['cooc_lift_corr']:.4f} (real floor "
                  f"{m['structure_floor']['cooc_rate_corr']:.4f} / {m['structure_floor']['cooc_lift_corr']:.4f})",
                  f"- diversity: distinct rows {m['diversity']['distinct_rows']:.4f}, mean pairwise Jaccard "
                  f"{m['diversity']['mean_pair_jaccard']:.4f} (real {m['diversity_real']['mean_pair_jaccard']:.4f})"]
        p = m["privacy"]
        lines += ["", "## Privacy", "",
                  f"- exact copies of training users: {p['exact_copy_rate']:.4f} (of held-out users: "
                  f"{p['exact_copy_rate_holdout']:.4f})",
                  f"- DCR (Jaccard) median synthetic→train {p['dcr_train_median']:.4f}, synthetic→held-out "
                  f"{p['dcr_holdout_median']:.4f} (ratio {p['dcr_ratio']:.3f}; share closer to train "
                  f"{p['share_closer_to_train']:.3f}); {p['n_reference']} reference rows each, "
                  f"{p['n_synthetic_used']} synthetic rows",
                  f"- membership-inference AUC (distance attacker): {p['mia_auc']:.4f} (95 % bootstrap CI "
                  f"{p['mia_auc_ci'][0]:.3f}–{p['mia_auc_ci'][1]:.3f}); over all {p['n_members_full']} training vs "
                  f"{p['n_nonmembers_full']} held-out users: {p['mia_auc_full']:.4f} "
                  f"({p['mia_auc_full_ci'][0]:.3f}–{p['mia_auc_full_ci'][1]:.3f})"]
        if "utility" in m:
            u = m["utility"]
            lines += ["", f"## Utility (TSTR on real held-out users, k = {u['k']}; standard recall)", "",
                      "| model | NDCG real | NDCG synthetic | ratio | Recall real | Recall synthetic | ratio |",
                      "|---|---|---|---|---|---|---|"]
            for name, r in u["models"].items():
                lines.append(f"| {name} | {r['trtr_ndcg']:.4f} | {r['tstr_ndcg']:.4f} | {r['ndcg_ratio']:.3f} | "
                             f"{r['trtr_recall']:.4f} | {r['tstr_recall']:.4f} | {r['recall_ratio']:.3f} |")
            lines += ["", f"Kendall τ of the model ranking: {u['kendall_tau']:.3f} over "
                      f"{', '.join(u['kendall_tau_models'])}; {u['kendall_tau_all']:.3f} over all "
                      f"{len(u['kendall_tau_all_models'])} models"]
        if self.arrays.get("plots"):
            lines += ["", "## Plots", ""] + [f"![{k}]({v})" for k, v in self.arrays["plots"].items()]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        body = []
        for line in self.to_markdown().splitlines():
            if line.startswith("# "):
                body.append(f"<h1>{html.escape(line[2:])}</h1>")
            elif line.startswith("## "):
                body.append(f"<h2>{html.escape(line[3:])}</h2>")
            elif line.startswith("|---"):
                continue
            elif line.startswith("|"):
                cells = "".join(f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|"))
                body.append(f"<tr>{cells}</tr>")
            elif line.startswith("![") and "](" in line:
                src = line.split("](", 1)[1].rstrip(")")
                body.append(f'<p><img src="{html.escape(src)}" alt="{html.escape(src)}"></p>')
            elif line.strip():
                body.append(f"<p>{html.escape(line)}</p>")
        text = "\n".join(body).replace("</h2>\n<tr>", "</h2>\n<table><tr>")
        out, in_table = [], False
        for row in text.splitlines():
            if row.startswith("<table>") or row.startswith("<tr>"):
                if not in_table and row.startswith("<tr>"):
                    row = "<table>" + row
                in_table = True
            elif in_table:
                out.append("</table>")
                in_table = False
            out.append(row)
        if in_table:
            out.append("</table>")
        return ("<!doctype html><html><head><meta charset='utf-8'><title>recgen synthetic data report</title>"
                "<style>body{font-family:sans-serif;max-width:60em}td{border:1px solid #ccc;padding:2px 6px}"
                "table{border-collapse:collapse}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")

    def write(self, out: str | Path) -> Path:
        """Write report.json, report.md, report.html and the PNG plots into directory ``out``."""
        with atomic_dir(out) as tmp:
            sets = self.arrays.get("sets", {})
            plots_made: dict[str, str] = {}
            if sets:
                plots_made.update(plots.plot_distributions(sets, tmp))
            if "dcr_train" in self.arrays:
                plots_made["dcr"] = plots.plot_lines(
                    {"synthetic→train": self.arrays["dcr_train"], "synthetic→held-out": self.arrays["dcr_holdout"]},
                    tmp / "dcr.png", title="Distance to closest record (Jaccard)", xlabel="distance",
                    ylabel="synthetic users", hist=True)
            s = self.metrics["structure"]
            plots_made["singular_values"] = plots.plot_lines(
                {"real": np.array(s["singular_values_real"]), "synthetic": np.array(s["singular_values_synthetic"])},
                tmp / "singular_values.png", title="Top singular values of X/√n", xlabel="index", ylabel="σ",
                log_y=True)
            self.arrays["plots"] = plots_made
            (tmp / "report.json").write_text(json.dumps(self.to_dict(), indent=2, default=float) + "\n",
                                             encoding="utf-8")
            (tmp / "report.md").write_text(self.to_markdown(), encoding="utf-8")
            (tmp / "report.html").write_text(self.to_html(), encoding="utf-8")
        return Path(out)


def fidelity_report(real: Interactions, synthetic: Interactions, holdout: EvalSet, *, name: str = "synthetic",
                    utility_models: Mapping[str, Mapping[str, Any]] | None = None,
                    real_results: Mapping[str, EvalResult] | None = None, with_utility: bool = True,
                    k: int = 20, seed: int = 0) -> SynthReport:
    """Compute the whole report (see the module docstring); ``real_results`` reuses TRTR runs."""
    for arg, v in (("real", real), ("synthetic", synthetic)):
        if not isinstance(v, Interactions):
            raise DataFormatError(f"{arg} must be recgen.data.Interactions, got {type(v).__name__}.")
    if not isinstance(holdout, EvalSet):
        raise DataFormatError(f"holdout must be an EvalSet (e.g. split.test of a held-out-users split), "
                              f"got {type(holdout).__name__}.")
    if synthetic.items != real.items or holdout.n_items != real.n_items:
        raise DataFormatError(f"synthetic ({synthetic.n_items} items), real ({real.n_items}) and holdout "
                              f"({holdout.n_items}) must share one item vocabulary; sample from a generator "
                              "fitted on these training users.")
    tr, sy, ho = binary(real.matrix), binary(synthetic.matrix), holdout_rows(holdout)
    metrics: dict[str, Any] = {
        "sizes": {"train_users": tr.shape[0], "holdout_users": ho.shape[0], "synthetic_users": sy.shape[0],
                  "items": tr.shape[1], "synthetic_interactions": int(sy.nnz)},
        "marginals": marginals(tr, sy), "marginals_holdout": marginals(ho, sy), "marginals_floor": marginals(tr, ho),
        "structure": structure(tr, sy, seed=seed),
        "diversity": diversity(sy, seed=seed), "diversity_real": diversity(tr, seed=seed),
    }
    floor = structure(tr, ho, seed=seed)
    metrics["structure_floor"] = {k2: floor[k2] for k2 in ("sv_rel_error", "cooc_rate_corr", "cooc_lift_corr")}
    priv = privacy(sy, tr, ho, seed=seed)
    arrays = {"dcr_train": priv.pop("dcr_train"), "dcr_holdout": priv.pop("dcr_holdout"),
              "sets": {"real train": tr, "real held-out": ho, name: sy}}
    metrics["privacy"] = priv
    if with_utility:
        if real_results is None:
            real_results = real_baselines(real, holdout, utility_models, k)
        metrics["utility"] = utility(synthetic, holdout, real_results, utility_models, k)
    return SynthReport(name, metrics, check_goals(metrics), arrays)


def comparison_table(reports: Mapping[str, SynthReport]) -> str:
    """Markdown table of the goal metrics of several generators side by side."""
    names = list(reports)
    lines = ["| goal | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for i, (_, _, _, label) in enumerate(GOALS):
        cells = []
        for n in names:
            g = reports[n].goals[i]
            v = "n/a" if g["value"] is None else f"{g['value']:.4f}"
            cells.append(v + ("" if g["met"] in (None, True) else " ✗"))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
