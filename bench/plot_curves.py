"""Validation curves of the stored benchmark runs: one PNG per benchmark comparing its models, in docs/img/.

Reads the per-epoch validation values that the bench scripts already stored in bench/results/*.json (no
training here) and draws them with ``recgen.training.plots.plot_validation_curves``, each run's best
(validation) epoch starred and the tuned closed-form baseline's validation score as a dotted line:

    docs/img/curves-ml1m-given.png     autoencoders_ml1m.json + recvae_tune_ml1m.json (when present),
                                       given ml-1m split, valid NDCG@20; EASE line from baselines_ml1m.json
    docs/img/curves-ml1m-heldout.png   heldout_ml1m.json, held-out ML-1M users, valid NDCG@100; EASE line
    docs/img/curves-cfgan-ml100k.png   cfgan_ml100k*.json, ML-100K (CFGAN protocol), valid NDCG@20 per seed;
                                       EASE / ItemKNN lines = their valid NDCG@20, mean over the seeds

    .venv/bin/python bench/plot_curves.py                 # every figure whose results exist
    .venv/bin/python bench/plot_curves.py --only ml1m-given

A stored curve is either ``val_curve`` ([epoch, value] pairs) or ``valid_curve`` (one value per epoch run,
NaN where not validated, or one per validation; then the epochs follow from ``eval_every``). A run whose
curve is a prefix of another run of the same model and seed (e.g. the same seed run longer) is drawn once,
the longer one. Runs without a stored curve are listed, not drawn.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recgen.training.plots import best_point, lower_is_better, plot_validation_curves

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
IMG = ROOT / "docs" / "img"
log = logging.getLogger("plot_curves")

#: training fields that do not tell runs apart in a legend
_QUIET = {"epochs", "patience", "seed", "show_progress", "num_threads", "eval_metric", "eval_every", "hidden_dims",
          "latent_dim", "device", "checkpoint_dir", "total_anneal_steps"}
_SHORT = {"batch_size": "batch", "corruption": "q", "hidden_dim": "hidden"}


@dataclass
class Run:
    label: str
    model: str
    seed: int | None
    points: list[tuple[int, float]]
    source: str


@dataclass(frozen=True)
class Figure:
    out: str
    #: results files drawn together (glob patterns, in bench/results/)
    files: tuple[str, ...]
    metric: str
    title: str
    group_by_model: bool = False
    #: when any of these exists, it replaces ``files`` (a newer run of the same benchmark supersedes the old)
    prefer: tuple[str, ...] = ()

    def sources(self) -> list[Path]:
        return _files(self.prefer) or _files(self.files)


FIGURES: dict[str, Figure] = {
    "ml1m-given": Figure("curves-ml1m-given.png", ("autoencoders_ml1m.json", "recvae_tune_ml1m.json",
                                                   "multvae_ml1m.json"),
                         "ndcg@20", "ML-1M given split: validation NDCG@20 per epoch (input = train)"),
    "ml1m-heldout": Figure("curves-ml1m-heldout.png", ("heldout_ml1m.json",), "ndcg@100",
                           "ML-1M, 600 held-out validation users: NDCG@100 per epoch (fold-in 80 %)"),
    # the per-seed files (cfgan_ml100k_seed<N>.json, ..._refit_seed<N>.json) repeat runs of the merged files;
    # cfgan_ml100k_refsplit.json is another split (the reference code's), not comparable on one axis
    "cfgan-ml100k": Figure("curves-cfgan-ml100k.png", ("cfgan_ml100k.json", "cfgan_ml100k_long.json"), "ndcg@20",
                           "ML-100K, CFGAN protocol (70/10 split): validation NDCG@20 per epoch",
                           group_by_model=True, prefer=("cfgan_ml100k_refit.json",)),
}


def points_of(row: dict[str, Any]) -> list[tuple[int, float]] | None:
    """The row's (epoch, value) validation points, or None when it stores no per-epoch curve."""
    if row.get("val_curve"):
        return [(int(e), float(v)) for e, v in row["val_curve"] if math.isfinite(float(v))]
    raw = row.get("valid_curve")
    if not raw:
        return None
    values = [float(v) for v in raw]
    n_run = row.get("epochs_run")
    if n_run is None or len(values) == n_run:  # one value per epoch run (NaN: not validated)
        return [(i + 1, v) for i, v in enumerate(values) if math.isfinite(v)]
    cfg = row.get("config") or row.get("params") or {}
    every, cap = int(cfg.get("eval_every", 1)), int(cfg.get("epochs", n_run))
    epochs = [e for e in range(1, n_run + 1) if e % every == 0 or e == cap]  # the trainer's validation epochs
    if len(epochs) != len(values):
        log.warning("%s: %d curve values but %d validation epochs; skipped", row.get("model"), len(values),
                    len(epochs))
        return None
    return [(e, v) for e, v in zip(epochs, values, strict=True) if math.isfinite(v)]


def _describe(row: dict[str, Any]) -> str:
    cfg = row.get("config") or row.get("params") or {}
    parts = []
    hidden = cfg.get("hidden_dims")
    if isinstance(hidden, list | tuple):  # the encoder's layers, as in docs/benchmarks.md: [600]→200
        parts.append(f"[{','.join(str(h) for h in hidden)}]→{cfg.get('latent_dim', 'default')}")
    elif "latent_dim" in cfg:
        parts.append(f"latent {cfg['latent_dim']}")
    parts += [f"{_SHORT.get(k, k)} {v}" for k, v in cfg.items() if k not in _QUIET]
    if "epochs" in cfg:
        parts.append(f"≤{cfg['epochs']} ep")
    return ", ".join(parts)


def rows_of(doc: dict[str, Any]) -> list[tuple[dict[str, Any], int | None]]:
    """(row, seed) of every model run a results file holds, whatever its layout."""
    out: list[tuple[dict[str, Any], int | None]] = []
    for row in doc.get("rows", []) + doc.get("grid", []):
        out.append((row, (row.get("params") or row.get("config") or {}).get("seed")))
    for run in doc.get("runs", []):
        if isinstance(run.get("models"), dict):  # cfgan_ml100k: one entry per seed, models inside
            out += [({"model": m, **r}, run.get("seed")) for m, r in run["models"].items()]
        else:  # recvae_tune: one entry per configuration
            out.append((run, (run.get("params") or {}).get("seed")))
    if isinstance(doc.get("models"), dict):  # cfgan_ml100k_seed<N>.json
        out += [({"model": m, **r}, doc.get("seed")) for m, r in doc["models"].items()]
    return out


def _files(patterns: tuple[str, ...]) -> list[Path]:
    found: dict[Path, None] = {}
    for pat in patterns:
        for p in sorted(RESULTS.glob(pat)):
            found.setdefault(p, None)
    return list(found)


def _is_prefix(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> bool:
    """``a`` is the start of ``b`` (same epochs, values within the 4-decimal rounding of the stored curves)."""
    return len(a) <= len(b) and all(ea == eb and abs(va - vb) <= 1.5e-4 for (ea, va), (eb, vb) in zip(a, b,
                                                                                                        strict=False))


def collect(fig: Figure) -> tuple[list[Run], list[str]]:
    """The figure's runs with curves (duplicates dropped) and a note per run without one."""
    runs: list[Run] = []
    missing: list[str] = []
    sources = fig.sources()
    for path in sources:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for row, seed in rows_of(doc):
            model = str(row.get("model", "?"))
            pts = points_of(row)
            name = row.get("name")
            detail = f"{name}, ≤{row['params']['epochs']} ep" if name and "epochs" in row.get("params", {}) else (
                name or _describe(row))
            label = " ".join(x for x in (model, f"({detail})" if detail else "",
                                         f"seed {seed}" if fig.group_by_model and seed is not None else "",
                                         "[the tuning's choice]" if name and name == doc.get("chosen_on_valid") else "")
                             if x)
            if not pts:
                if model not in ("ease", "itemknn", "puresvd", "most-popular"):
                    missing.append(f"{path.name}: {label}")
                continue
            runs.append(Run(label, model, seed, pts, path.name))
    kept: list[Run] = []
    for r in runs:
        longer = [o for o in runs if o is not r and o.model == r.model and o.seed == r.seed
                  and _is_prefix(r.points, o.points) and (len(o.points) > len(r.points) or runs.index(o) < runs.index(r))]
        if longer:
            log.info("%s (%s) is a prefix of %s (%s); drawn once", r.label, r.source, longer[0].label, longer[0].source)
        else:
            kept.append(r)
    for r in kept:  # two runs that read alike (e.g. another version of the code): say which file each is from
        if sum(o.label == r.label for o in kept) > 1:
            r.label += f" · {Path(r.source).stem}"
    if fig.group_by_model:  # seeds of a model next to each other in the legend
        kept.sort(key=lambda r: (r.model, -1 if r.seed is None else r.seed))
    return kept, missing


def references(key: str) -> dict[str, float]:
    """Validation scores of the tuned non-iterative baselines on the same split (dotted lines)."""
    if key == "ml1m-given" and (RESULTS / "baselines_ml1m.json").exists():
        doc = json.loads((RESULTS / "baselines_ml1m.json").read_text(encoding="utf-8"))
        ease = [r for r in doc.get("tuning", []) if r["model"] == "ease" and r.get("on") == "valid"]
        if ease:
            best = max(ease, key=lambda r: r["ndcg@20"])
            return {f"EASE λ={best['params']['l2']:g} (best on valid, baselines_ml1m.json)": best["ndcg@20"]}
    if key == "ml1m-heldout" and (RESULTS / "heldout_ml1m.json").exists():
        doc = json.loads((RESULTS / "heldout_ml1m.json").read_text(encoding="utf-8"))
        for r in doc.get("rows", []):
            if r["model"] == "ease":
                return {f"EASE λ={r['config']['l2']:g} (best on valid)": r["valid_ndcg@100"]}
    if key == "cfgan-ml100k":
        per: dict[str, dict[Any, float]] = {}
        for path in FIGURES[key].sources():
            for row, seed in rows_of(json.loads(path.read_text(encoding="utf-8"))):
                if row.get("model") in ("ease", "itemknn") and row.get("val_ndcg@20") is not None:
                    per.setdefault(row["model"], {})[seed] = float(row["val_ndcg@20"])
        return {f"{'EASE' if m == 'ease' else 'ItemKNN'} (valid, mean of {len(v)} seeds)": sum(v.values()) / len(v)
                for m, v in per.items()}
    return {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(FIGURES), action="append", help="draw only this figure (repeatable)")
    ap.add_argument("--out-dir", default=str(IMG))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out_dir = Path(args.out_dir)
    status = 0
    for key in args.only or list(FIGURES):
        fig = FIGURES[key]
        runs, missing = collect(fig)
        if not runs:
            print(f"{key}: no stored curves in {', '.join(fig.prefer + fig.files)}; nothing drawn")
            status = 1
            continue
        refs = references(key)
        groups = {r.label: r.model for r in runs} if fig.group_by_model else None
        path = plot_validation_curves({r.label: r.points for r in runs}, out_dir / fig.out, metric=fig.metric,
                                      title=fig.title, references=refs, groups=groups)
        print(f"\n{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  ({fig.metric})")
        print(f"  {'run':<66}{'file':<30}{'points':>7}{'best ep':>9}{'best':>9}")
        for r in runs:
            e, v = best_point([p[0] for p in r.points], [p[1] for p in r.points], lower=lower_is_better(fig.metric))
            print(f"  {r.label:<66}{r.source:<30}{len(r.points):>7}{e:>9g}{v:>9.4f}")
        for label, value in refs.items():
            print(f"  {label:<103}{value:>9.4f}")
        for m in missing:
            print(f"  no per-epoch curve stored: {m}")
    return status


if __name__ == "__main__":
    sys.exit(main())
