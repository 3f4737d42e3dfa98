"""aesvc sweep: start a grid sweep over code sizes and kinds, and with --follow watch its
leaderboard live until it ends on the recommended version (exit 0 only if it succeeded)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from service.cli_client import (
    DEFAULT_URL,
    ApiKey,
    Url,
    checked,
    comma_ints,
    console,
    err_console,
    http_client,
    run,
)

TERMINAL = ("succeeded", "failed", "cancelled")
STATUS_STYLE = {"succeeded": "green", "failed": "red", "running": "cyan", "cancelled": "yellow"}


def sweep_request(
    *,
    model: str,
    dataset: str,
    code_sizes: list[int],
    kinds: list[str],
    epochs: int | None,
    hidden_sizes: list[int] | None,
    max_parallel: int,
    promote: str | None,
) -> dict[str, Any]:
    architecture = {"hidden_sizes": hidden_sizes} if hidden_sizes else {}
    training = {"epochs": epochs} if epochs is not None else {}
    body: dict[str, Any] = {
        "model": model,
        "dataset": dataset,
        "base": {"architecture": architecture, "training": training},
        "grid": {"architecture.code_size": code_sizes, "architecture.kind": kinds},
        "max_parallel": max_parallel,
    }
    if promote:
        body["promote"] = promote
    return body


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4g}"


def leaderboard(sweep: dict[str, Any]) -> Table:
    """The trials, best first; the best and the recommended marked."""
    pca = {p["code_size"]: p["value"] for p in sweep.get("pca_baseline") or []}
    best = (sweep.get("best") or {}).get("number")
    chosen = (sweep.get("recommended") or {}).get("number")
    status = sweep["status"]
    title = f"sweep {sweep['id'][:8]} [{STATUS_STYLE.get(status, 'white')}]{status}[/]"
    table = Table(title=title, caption=f"metric: {sweep['metric']}")
    for column in ("#", "kind", "code", "status", sweep["metric"], "PCA", "version", "time s"):
        table.add_column(column, justify="right" if column not in ("kind", "status") else "left")
    sign = -1.0 if sweep.get("higher_is_better") else 1.0

    def order(trial: dict[str, Any]) -> tuple[int, float, int]:
        value = trial.get("value")
        return (value is None, sign * value if value is not None else 0.0, trial["number"])

    for trial in sorted(sweep["trials"], key=order):
        mark = " best" if trial["number"] == best else ""
        mark += " recommended" if trial["number"] == chosen else ""
        table.add_row(
            f"{trial['number']}{mark}",
            str(trial.get("kind") or "-"),
            str(trial.get("code_size") or "-"),
            str(trial["status"]),
            _fmt(trial.get("value")),
            _fmt(pca.get(trial.get("code_size"))),
            str(trial.get("model_version") or "-"),
            _fmt(trial.get("train_time_s")),
        )
    return table


def follow_sweep(client: httpx.Client, sweep_id: str, interval_s: float = 1.0) -> dict[str, Any]:
    """Redraw the leaderboard until the sweep ends; returns its last state."""
    sweep = checked(client.get(f"/v1/sweeps/{sweep_id}")).json()
    with Live(leaderboard(sweep), console=console, refresh_per_second=4) as live:
        while sweep["status"] not in TERMINAL:
            time.sleep(interval_s)
            sweep = checked(client.get(f"/v1/sweeps/{sweep_id}")).json()
            live.update(leaderboard(sweep))
    if not console.is_terminal:  # the last table, written once, ends without a newline
        console.print()
    return sweep


def sweep(
    dataset: Annotated[str, typer.Option(help="Dataset name or id (built-in: digits, ...)")],
    code_sizes: Annotated[str, typer.Option(help="Comma-separated code sizes, e.g. 2,4,8,16")],
    kinds: Annotated[str, typer.Option(help="Comma-separated kinds, e.g. dense,vae")] = "dense",
    model: Annotated[
        str | None, typer.Option("--model", help="Model name (default: DATASET-sweep)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs per trial (server default)")] = None,
    hidden_sizes: Annotated[
        str | None, typer.Option(help="Comma-separated dense layer sizes, e.g. 128,64")
    ] = None,
    max_parallel: Annotated[int, typer.Option(help="Trials queued or running at once")] = 4,
    promote: Annotated[
        str | None, typer.Option(help="Alias to point at the best version at the end")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="A live leaderboard until it ends")
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Start a sweep over code sizes and kinds; with --follow, exit 0 only if it succeeds."""
    body = sweep_request(
        model=model or f"{dataset}-sweep",
        dataset=dataset,
        code_sizes=comma_ints(code_sizes, "--code-sizes"),
        kinds=[k.strip() for k in kinds.split(",") if k.strip()],
        epochs=epochs,
        hidden_sizes=comma_ints(hidden_sizes, "--hidden-sizes") if hidden_sizes else None,
        max_parallel=max_parallel,
        promote=promote,
    )

    def go() -> None:
        with http_client(url, api_key) as client:
            started = checked(client.post("/v1/sweeps", json=body)).json()
            console.print(
                f"sweep {started['id']} started: {started['n_trials']} trials of model "
                f"{started['model']}"
            )
            if not follow:
                return
            try:
                ended = follow_sweep(client, started["id"])
            except KeyboardInterrupt:
                err_console.print(f"stopped following; sweep {started['id']} goes on")
                raise typer.Exit(130) from None
        if ended["status"] != "succeeded":
            err_console.print(
                f"sweep {ended['id']} [red]{ended['status']}[/red]: "
                f"{escape(ended.get('error') or '')}"
            )
            raise typer.Exit(1)
        chosen = ended["recommended"]
        console.print(
            f"recommended: model {ended['model']} version {chosen['model_version']} "
            f"({chosen['kind']}, code size {chosen['code_size']}, {ended['metric']} "
            f"{_fmt(chosen['value'])}; best {_fmt(ended['best']['value'])})"
        )

    run(go)
