"""``recgen quickstart``: the whole pipeline on a small dataset, offline, in under a minute."""

from __future__ import annotations

import click
from rich.console import Console

from recgen.quickstart import NEURAL_BUDGET_S, QUICKSTART_MODELS


@click.command("quickstart")
@click.option("--out", default="recgen-quickstart", show_default=True, metavar="DIR",
              help="Directory for the prepared data, models, results and plot.")
@click.option("--data", "data", type=click.Choice(["auto", "ml-100k", "movietweetings", "synthetic"]),
              default="auto", show_default=True,
              help="auto: MovieLens 100K if cached or quickly downloadable, else the bundled MovieTweetings "
                   "100K, else SYNTHETIC data.")
@click.option("--no-download", is_flag=True, help="Never touch the network.")
@click.option("--models", "models", default=None, metavar="NAME,NAME",
              help=f"Only these models (default: {', '.join(n for n, _ in QUICKSTART_MODELS)}).")
@click.option("--neural-budget", type=float, default=NEURAL_BUDGET_S, show_default=True, metavar="SECONDS",
              help="Stop models trained in epochs (Mult-VAE) after the epoch that passes this time.")
@click.option("--no-synthetic-users", is_flag=True,
              help="Skip the last step (a small BehaviourGAN's SYNTHETIC users and their report headline).")
def quickstart_cmd(out: str, data: str, no_download: bool, models: str | None, neural_budget: float,
                   no_synthetic_users: bool) -> None:
    """Prepare a dataset, train the baselines (and Mult-VAE), show results with CIs and recommendations.

    Everything is written to --out: data/ (the prepared split), models/<name>/, results.md,
    results.json, ndcg@20.png and synthetic_users.csv (SYNTHETIC users from a small BehaviourGAN,
    whose report headline is printed last and saved in results.json). Continue from there with `recgen train/evaluate/recommend`.
    """
    from recgen.evaluation import rich_table
    from recgen.quickstart import K, run_quickstart

    console = Console(width=max(Console().width, 100))
    err = Console(stderr=True, width=max(Console(stderr=True).width, 100))
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    res = run_quickstart(out, data=data, download=not no_download, models=names, neural_budget_s=neural_budget,
                         progress=lambda line: err.print(f"[dim]{line}[/]", highlight=False),
                         synthetic_users=not no_synthetic_users)
    info = res.data
    if info.synthetic:
        console.print("[bold red]SYNTHETIC DATA[/]: the numbers below say nothing about real users.")
    console.print(f"[bold]Data[/]: {info.description}", highlight=False)
    console.print(f"[bold]Source[/]: {info.citation}", highlight=False)
    console.print(f"[bold]Split[/]: {info.preparation}.", highlight=False)
    if res.skipped_models:
        console.print(f"(not available in this installation: {', '.join(res.skipped_models)})", highlight=False)
    title = f"Test users ({res.split.test.nonempty().n_users}), full ranking over {res.split.n_items} items"
    console.print(rich_table(res.test, [f"recall@{K}", f"ndcg@{K}"], title=title))
    fit = ", ".join(f"{m} {s:.1f}s{res.epochs.get(m, '')}" for m, s in res.fit_seconds.items())
    console.print(f"fit times: {fit}", highlight=False)
    console.print(f"\n[bold]Recommendations by {res.best_model}[/] (best validation NDCG@{K}):", highlight=False)
    for rec in res.recommendations:
        console.print(f"  {rec.who}:", highlight=False)
        console.print("    history: " + "; ".join(rec.history), highlight=False)
        for rank, title_ in enumerate(rec.items, start=1):
            console.print(f"    {rank}. {title_}", highlight=False)
    if res.coldstart is not None:
        from recgen.quickstart_coldstart import coldstart_lines

        console.print(f"\n[bold]Cold start[/] ({res.coldstart['model']} on item features, no interactions needed):",
                      highlight=False)
        for line in coldstart_lines(res.coldstart):
            console.print(line, highlight=False)
    if res.synthetic is not None:
        from recgen.quickstart_synth import synthetic_lines

        console.print(f"\n[bold red]{res.synthetic['label']}[/]: the headline of their fidelity / privacy / "
                      "utility report", highlight=False)
        for line in synthetic_lines(res.synthetic):
            console.print(line, highlight=False)
    console.print(f"\nplot: {res.plot}\nresults: {res.files['results_md']}, {res.files['results_json']}",
                  highlight=False)
    console.print(f"next: recgen evaluate {res.out / 'models' / res.best_model} --data {res.out / 'data'} "
                  f"--k 20 50 100", highlight=False)
    console.print(f"done in {res.seconds:.1f} s", highlight=False)
