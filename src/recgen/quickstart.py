"""The quickstart: data → honest split → baselines (and Mult-VAE) → results with CIs → recommendations → plot.

:func:`run_quickstart` runs offline in well under a minute on 2 CPU cores. Data, in order of preference
for ``data="auto"``:

1. **MovieLens 100K** when it is in the cache (``$RECGEN_HOME``) or, unless ``download=False``, when
   GroupLens answers within a few seconds. Prepared exactly as the README's command: ratings ≥ 4 are
   positives; held-out users (100 validation, 100 test, 80 % of each held-out user's items as input;
   seed 98765).
2. **MovieTweetings 100K**, shipped inside recgen (MIT; Dooms et al. 2013). Its users are very sparse
   (median 2 ratings), so ratings ≥ 7 of 10 are positives and a 5-core filter keeps users and movies
   with ≥ 5 positives (about 44k interactions, 3.5k users, 1.7k movies); held-out users (300 validation,
   500 test, fold-in 80 %, seed 98765).
3. **SYNTHETIC** interactions with planted taste clusters (:func:`recgen.data.generate.generate_interactions`),
   clearly labelled as such.

ItemKNN's k, EASE's λ and PureSVD's rank are chosen on the validation users from small grids
(:data:`QUICKSTART_GRIDS`); other settings are the config defaults, and the neural model gets a short epoch
budget and no progress bar (its epoch is chosen on validation by early stopping). The recommendations are made by the model with the best *validation* NDCG@20, so the
test numbers stay an honest, once-only measurement.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recgen.data.dataset import Split
from recgen.errors import ArtifactError, ConfigError, DownloadError, suggest

log = logging.getLogger(__name__)

DATA_CHOICES = ("auto", "ml-100k", "movietweetings", "synthetic")
#: (model name, config overrides) in table order; models missing from the registry are skipped
QUICKSTART_MODELS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("most-popular", {}),
    ("itemknn", {}),
    ("ease", {}),
    ("puresvd", {}),
    ("mult-vae", {"epochs": 20, "batch_size": 100, "show_progress": False}),
)
#: one hyperparameter of each cheap baseline, chosen on the validation users (NDCG@20) before the test users are
#: scored; each grid costs seconds on the quickstart data. A model's other settings stay at their defaults.
QUICKSTART_GRIDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "itemknn": ("k", (20, 50, 100, 200)),
    "ease": ("l2", (50.0, 100.0, 250.0, 500.0, 1000.0)),
    "puresvd": ("factors", (8, 16, 32, 64)),
}
#: wall-clock budget of each model trained in epochs (the quickstart must finish in about a minute)
NEURAL_BUDGET_S = 25.0
K = 20
PROBE_TIMEOUT_S = 3.0

MOVIETWEETINGS_CITATION = ('S. Dooms, T. De Pessemier, L. Martens, "MovieTweetings: a Movie Rating Dataset '
                           'Collected From Twitter", CrowdRec workshop at RecSys 2013. MIT licence.')
MOVIELENS_CITATION = ('F. M. Harper, J. A. Konstan, "The MovieLens Datasets: History and Context", ACM TiiS 2015. '
                      'GroupLens research-use terms; recgen downloads it, never redistributes it.')

# a new user's history, by title, per dataset (titles missing from the split's items are skipped)
NEW_USER_TITLES: dict[str, tuple[str, ...]] = {
    "ml-100k": ("Toy Story (1995)", "Aladdin (1992)", "Lion King, The (1994)"),
    "movietweetings": ("Despicable Me 2 (2013)", "Monsters University (2013)", "Wreck-It Ralph (2012)"),
}


@dataclass(frozen=True)
class QuickstartData:
    """Which data the quickstart used and how it was turned into a split."""

    name: str
    description: str
    citation: str
    synthetic: bool
    preparation: str
    item_info: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class ShownRecommendations:
    """A user's history and top recommendations, as titles."""

    who: str
    history: list[str]
    items: list[str]


@dataclass
class QuickstartResult:
    """Everything the quickstart measured and wrote (see :func:`run_quickstart`)."""

    out: Path
    data: QuickstartData
    split: Split
    test: dict[str, Any]
    validation: dict[str, Any]
    fit_seconds: dict[str, float]
    best_model: str
    recommendations: list[ShownRecommendations]
    plot: Path
    files: dict[str, Path]
    seconds: float = 0.0
    epochs: dict[str, str] = field(default_factory=dict)
    skipped_models: list[str] = field(default_factory=list)
    #: one cold-user and one new-item example (:func:`recgen.quickstart_coldstart.coldstart_demo`)
    coldstart: dict[str, Any] | None = None
    #: SYNTHETIC users' report headline (:func:`recgen.quickstart_synth.synthetic_users_demo`); None if skipped
    synthetic: dict[str, Any] | None = None


# ---------------------------------------------------------------------- data
def _movielens_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    from recgen.data.download import DEFAULT_BASE_URL

    base = os.environ.get("RECGEN_MOVIELENS_URL") or DEFAULT_BASE_URL
    url = base.rstrip("/") + "/ml-100k.zip.md5"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _movielens_100k(download: bool) -> Path | None:
    """The cached ML-100K directory, downloading it when allowed and GroupLens answers quickly."""
    from recgen.data.download import download_movielens, movielens_path

    try:
        return movielens_path("ml-100k", download=False)
    except DownloadError:
        pass
    if not download or not _movielens_reachable():
        return None
    try:
        return download_movielens("ml-100k", show_progress=False)
    except DownloadError as exc:
        log.warning("could not download MovieLens 100K (%s); using the next data source", exc)
        return None


def _bundled() -> Path | None:
    try:
        from recgen.data.bundled import movietweetings_path

        return movietweetings_path()
    except (ImportError, ArtifactError):
        return None


def resolve_data(data: str = "auto", download: bool = True) -> str:
    """The dataset ``data="auto"`` resolves to: ``"ml-100k"``, ``"movietweetings"`` or ``"synthetic"``."""
    if data not in DATA_CHOICES:
        raise ConfigError(f"data={data!r} is not a quickstart dataset; choose one of {DATA_CHOICES}."
                          f"{suggest(data, DATA_CHOICES)}")
    if data != "auto":
        return data
    if _movielens_100k(download) is not None:
        return "ml-100k"
    if _bundled() is not None:
        return "movietweetings"
    return "synthetic"


def prepare_quickstart_data(name: str, out: Path, *, seed: int = 98765, download: bool = True
                            ) -> tuple[Split, QuickstartData]:
    """Prepare the named dataset (see the module docstring) and save the split under ``out``."""
    from recgen.data.movielens import read_item_info
    from recgen.data.prepared import prepare_dataset, save_split

    if name == "ml-100k":
        src = _movielens_100k(download)
        if src is None:
            raise DownloadError("data='ml-100k': MovieLens 100K is not cached in $RECGEN_HOME and could not be "
                                "downloaded; run `recgen data download ml-100k` online, or use --data movietweetings.")
        split = prepare_dataset(src, format="movielens", split="heldout-users", min_rating=4, val_users=100,
                                test_users=100, fold_in=0.8, seed=seed, out=out)
        info = QuickstartData(
            "ml-100k", "MovieLens 100K (943 users, 1,682 movies, ratings 1-5)", MOVIELENS_CITATION, False,
            f"ratings >= 4 are positives; held-out users: 100 validation and 100 test users, 80% of each "
            f"held-out user's items are the input and 20% the target (seed {seed})", read_item_info(src))
        return split, info
    if name == "movietweetings":
        src = _bundled()
        if src is None:
            raise ArtifactError("data='movietweetings': the bundled MovieTweetings files are missing from this "
                                "installation; reinstall recgen or use --data synthetic.")
        split = prepare_dataset(src, format="movietweetings", split="heldout-users", min_rating=7, min_user=5,
                                min_item=5, val_users=300, test_users=500, fold_in=0.8, seed=seed, out=out)
        info = QuickstartData(
            "movietweetings", "MovieTweetings 100K, shipped with recgen (16,554 users, 10,506 movies, ratings 0-10 "
            "from tweets)", MOVIETWEETINGS_CITATION, False,
            f"very sparse (median 2 ratings per user), so ratings >= 7 of 10 are positives and a 5-core filter keeps "
            f"users and movies with >= 5 positives; held-out users: 300 validation and 500 test users, 80% of "
            f"each held-out user's items are the input (seed {seed})", read_item_info(src, "movietweetings"))
        return split, info
    if name == "synthetic":
        from recgen.data.generate import generate_interactions
        from recgen.data.splits import heldout_users_split

        data, truth = generate_interactions(n_users=2000, n_items=1000, seed=0)
        data = data.select_items(np.flatnonzero(data.item_counts() > 0))
        split = heldout_users_split(data, 200, 400, fold_in=0.8, seed=seed)
        split.meta["source"] = {"synthetic": True, "generator": "recgen.data.generate.generate_interactions",
                                "params": truth.params}
        save_split(split, out, manifest={"command": "recgen quickstart --data synthetic", "synthetic": True})
        info = QuickstartData(
            "synthetic", "SYNTHETIC interactions (2,000 users, 1,000 items, 8 planted taste clusters) - not real "
            "people", "generated by recgen.data.generate.generate_interactions(seed=0)", True,
            f"held-out users: 200 validation and 400 test users, fold-in 80% (seed {seed})", truth.item_info())
        return split, info
    raise ConfigError(f"data={name!r} is not a quickstart dataset; choose one of {DATA_CHOICES[1:]}.")


# ---------------------------------------------------------------------- models
def _models(names: Sequence[str] | None) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    from recgen.models.registry import available_models

    registry = available_models()
    chosen = [(n, o) for n, o in QUICKSTART_MODELS if names is None or n in names]
    if names is not None:
        for n in names:
            if n not in dict(QUICKSTART_MODELS) and n not in registry:
                raise ConfigError(f"models: unknown model {n!r}.{suggest(n, registry)} Available: {', '.join(registry)}.")
            if n not in dict(QUICKSTART_MODELS):
                chosen.append((n, {}))
    keep, skipped = [], []
    for n, overrides in chosen:
        if n not in registry:
            skipped.append(n)
            continue
        fields = {f for f in registry[n].config_cls.__dataclass_fields__}
        keep.append((n, {k: v for k, v in overrides.items() if k in fields}))
    return keep, skipped


def _titles(info: pd.DataFrame) -> dict[str, str]:
    return dict(zip(info["item"].astype(str), info["title"].astype(str), strict=False))


def _show(model: Any, who: str, history_ids: Sequence[str], titles: dict[str, str], *, users: Sequence[str] | None,
          n: int = 5) -> ShownRecommendations:
    if users is not None:
        lists, _ = model.recommend(users=list(users), k=n)
    else:
        lists, _ = model.recommend(items=list(history_ids), k=n)
    return ShownRecommendations(who, [titles.get(i, i) for i in history_ids], [titles.get(i, i) for i in lists[0]])


def _recommendations(model: Any, split: Split, data: QuickstartData) -> list[ShownRecommendations]:
    titles = _titles(data.item_info)
    tr = split.train
    counts = tr.user_counts()
    fits = np.flatnonzero((counts >= 8) & (counts <= 30))
    u = int(fits[0]) if len(fits) else int(np.argmax(counts))
    hist = tr.items.ids[tr.matrix[u].indices].tolist()
    known = _show(model, f"known user {tr.users.ids[u]} (in training, {len(hist)} positives; 5 shown)",
                  hist[:5], titles, users=[tr.users.ids[u]])
    by_title = {t: i for i, t in titles.items() if i in tr.items}
    wanted = [by_title[t] for t in NEW_USER_TITLES.get(data.name, ()) if t in by_title]
    if len(wanted) < 2:  # synthetic (or titles filtered out): three popular items of one taste cluster
        pop = tr.item_counts()
        genres = dict(zip(data.item_info["item"].astype(str), data.item_info["genres"].astype(str), strict=False))
        top = tr.items.ids[np.argsort(-pop, kind="stable")]
        first = genres.get(top[0], "")
        wanted = [i for i in top if genres.get(i, "") == first][:3]
    new = _show(model, "a new user (never seen in training), from this history", wanted, titles, users=None)
    return [known, new]


def _fit(model: Any, split: Split, budget_s: float | None) -> Any:
    if budget_s is not None and "callbacks" in inspect.signature(model.fit).parameters:
        from recgen.training import TimeBudget  # torch-heavy: imported only when a neural model trains

        return model.fit(split.train, validation=split.val, callbacks=[TimeBudget(budget_s)])
    return model.fit(split.train, validation=split.val)


def _select_on_validation(name: str, overrides: dict[str, Any], split: Split) -> tuple[Any, dict[str, Any]]:
    """Fit ``name`` for each value of its :data:`QUICKSTART_GRIDS` entry; keep the best on validation NDCG@K."""
    from recgen.models.selection import select_on_validation

    assert split.val is not None
    param, grid = QUICKSTART_GRIDS[name]
    n_train = min(split.train.n_users, split.train.n_items)
    # PureSVD needs rank < min(n_users, n_items)
    values = [v for v in grid if not (param == "factors" and v >= n_train)]
    model, best, tried = select_on_validation(name, overrides, [{param: v} for v in values], split.train, split.val,
                                              k=K)
    return model, {"param": param, "grid": list(grid), "chosen": best["settings"][param],
                   f"validation_ndcg@{K}": {str(t["settings"][param]): round(t["val_ndcg"], 4) for t in tried}}


def _epochs_note(model: Any) -> str:
    history = getattr(model, "history_", None)
    if not history:
        return ""
    best = getattr(model, "best_epoch_", None)
    return f" ({len(history)} of {model.config.epochs} epochs{f', best {best}' if best else ''})"


# ---------------------------------------------------------------------- plot
def plot_ndcg(results: dict[str, Any], path: Path, *, title: str, k: int = K) -> Path:
    """Bar chart of NDCG@k per model with 95 % bootstrap intervals (matplotlib Agg; no screen needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(results)
    key = f"ndcg@{k}"
    stats = [results[n].ci(key) for n in names]
    means = np.array([s[0] for s in stats])
    err = np.array([[s[0] - s[1] for s in stats], [s[2] - s[0] for s in stats]])
    fig = Figure(figsize=(7, 4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(names, means, yerr=err, capsize=4, color="#4C72B0")
    ax.set_ylabel(f"NDCG@{k} (test users)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


# ---------------------------------------------------------------------- main entry
def run_quickstart(out: str | os.PathLike[str] = "recgen-quickstart", *, data: str = "auto", download: bool = True,
                   models: Sequence[str] | None = None, seed: int = 98765,
                   neural_budget_s: float | None = NEURAL_BUDGET_S, progress: Callable[[str], None] | None = None,
                   synthetic_users: bool = True) -> QuickstartResult:
    """Run the quickstart end to end and write its files under ``out``.

    Writes ``out/data`` (the prepared split), ``out/models/<name>`` (saved models), ``out/results.md``,
    ``out/results.json`` (with ``"coldstart"``: one cold-user and one new-item example from a content-kNN
    fitted with item features) and ``out/ndcg@20.png``. ``progress`` receives one line per step (default: logging).
    ``neural_budget_s`` stops a model trained in epochs after the epoch that exceeds it (``None``: the
    configured epochs), so the quickstart's Mult-VAE numbers depend on the machine's speed; the epochs
    actually run are reported. With ``synthetic_users`` a small BehaviourGAN fitted on the training users
    writes ``out/synthetic_users.csv`` and the headline of its report goes to ``results.json["synthetic_users"]``
    (``"synthetic"`` already says whether the *data* is synthetic); see :mod:`recgen.quickstart_synth`
    (fixed epochs, so it depends on ``seed`` only).
    """
    from recgen.evaluation import evaluate, results_table

    say = progress or log.info
    t_start = time.perf_counter()
    out_p = Path(out)
    name = resolve_data(data, download)
    split, info = prepare_quickstart_data(name, out_p / "data", seed=seed, download=download)
    say(f"data: {info.description}" + (" [SYNTHETIC]" if info.synthetic else ""))
    say(f"split: {info.preparation} -> {split.train.n_users} training users, {split.n_items} items, "
        f"{split.test.nonempty().n_users} test users")
    chosen, skipped = _models(models)
    test: dict[str, Any] = {}
    val: dict[str, Any] = {}
    fit_s: dict[str, float] = {}
    epochs: dict[str, str] = {}
    trained: dict[str, Any] = {}
    from recgen.models.registry import create_model

    tuned: dict[str, dict[str, Any]] = {}
    for mname, overrides in chosen:
        t0 = time.perf_counter()
        if mname in QUICKSTART_GRIDS and split.val is not None:
            model, tuned[mname] = _select_on_validation(mname, overrides, split)
            say(f"{mname}: {tuned[mname]['param']} = {tuned[mname]['chosen']} chosen on validation NDCG@{K} "
                f"from {tuned[mname]['grid']}")
        else:
            model = _fit(create_model(mname, **overrides), split, neural_budget_s)
        fit_s[mname] = time.perf_counter() - t0
        epochs[mname] = _epochs_note(model)
        if split.val is not None:
            val[mname] = evaluate(model, split.val, ks=(K,), metrics=("recall", "trecall", "ndcg"))
        test[mname] = evaluate(model, split.test, ks=(K,), metrics=("recall", "trecall", "ndcg"))
        model.save(out_p / "models" / mname, data_fingerprint=split.train.fingerprint(),
                   metrics={"validation": val[mname].to_dict() if mname in val else None})
        trained[mname] = model
        say(f"trained {mname} in {fit_s[mname]:.1f} s{epochs[mname]}: test NDCG@{K} {test[mname][f'ndcg@{K}']:.4f}")
    if not trained:
        raise ConfigError(f"models={list(models or [])!r} left no model to train; pass registered model names.")
    ranking = val if val else test
    best = max(ranking, key=lambda m: ranking[m][f"ndcg@{K}"])
    recs = _recommendations(trained[best], split, info)
    from recgen.quickstart_coldstart import coldstart_demo

    source = {"ml-100k": lambda: _movielens_100k(False), "movietweetings": _bundled}.get(name, lambda: None)()
    cold = coldstart_demo(name, split, info.item_info, source)
    say(f"cold start: content-knn with item features fitted in {cold['fit_seconds']:.1f} s; the cold user is "
        f"answered by '{cold['cold_user']['source']}'")
    synth = None
    if synthetic_users:
        from recgen.quickstart_synth import synthetic_users_demo

        synth = synthetic_users_demo(split, out_p, seed=seed)
        say(f"synthetic users: BehaviourGAN fitted in {synth['fit_seconds']:.1f} s, report in "
            f"{synth['report_seconds']:.1f} s -> {synth['file']}")
    label = "SYNTHETIC data" if info.synthetic else info.name
    plot = plot_ndcg(test, out_p / f"ndcg@{K}.png", title=f"recgen quickstart: {label}, held-out test users, "
                     f"95% bootstrap CI")
    metrics = [f"recall@{K}", f"ndcg@{K}"]
    md = (f"# recgen quickstart results\n\nData: {info.description}{' (SYNTHETIC)' if info.synthetic else ''}.\n"
          f"Split: {info.preparation}.\n\nTest users, full ranking:\n\n" + results_table(test, metrics))
    files = {"results_md": out_p / "results.md", "results_json": out_p / "results.json", "plot": plot,
             "data": out_p / "data", "models": out_p / "models"}
    if synth is not None:
        files["synthetic_users"] = Path(synth["file"])
    files["results_md"].write_text(md, encoding="utf-8")
    doc = {"data": info.name, "synthetic": info.synthetic, "models": list(test), "description": info.description,
           "preparation": info.preparation, "citation": info.citation, "best_model_by_validation": best,
           "fit_seconds": {k: round(v, 3) for k, v in fit_s.items()},
           "epochs": {k: v.strip(" ()") for k, v in epochs.items() if v},
           "test": {m: {**r.to_dict(), "ci95": {key: list(r.ci(key)[1:]) for key in metrics}} for m, r in test.items()},
           "validation": {m: r.to_dict() for m, r in val.items()}, "coldstart": cold,
           "synthetic_users": synth, "chosen_on_validation": tuned}
    files["results_json"].write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return QuickstartResult(out_p, info, split, test, val, fit_s, best, recs, plot, files,
                            seconds=time.perf_counter() - t_start, epochs=epochs, skipped_models=skipped,
                            coldstart=cold, synthetic=synth)
