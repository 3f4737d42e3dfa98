"""aesvc batch encode | reconstruct | score: submit a batch job and, with --follow, show its
chunks until it ends (exit 0 only if it succeeded). The job runs on the server's workers,
over the stored dataset; its output is a new dataset (`aesvc` only follows it)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.cli_client import (
    DEFAULT_URL,
    ApiKey,
    Url,
    checked,
    console,
    err_console,
    follow_events,
    http_client,
    model_ref,
    run,
)
from service.training.schemas import JobStatus

app = typer.Typer(
    help="Batch jobs: encode, reconstruct or score a stored dataset into a new dataset.",
    no_args_is_help=True,
)


def batch_request(operation: str, model: str, dataset: str, output: str | None) -> dict[str, Any]:
    """NAME@REF -> model and version (`latest` without a ref)."""
    name, ref = model_ref(model)
    body: dict[str, Any] = {
        "model": name,
        "version": ref or "latest",
        "dataset": dataset,
        "operation": operation,
    }
    if output:
        body["output"] = output
    return body


def follow_batch_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """A progress bar of chunks until the job ends (the job's event stream, resumed after
    the last event seen if it breaks off); the job as it ended."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks  {task.fields[rows]} rows  {task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=None, rows="-", rate="-")

        def show(data: dict[str, Any]) -> None:
            progress.update(
                task,
                description="running",
                total=data["chunks_total"],
                completed=data["chunks_done"],
                rows=f"{data['rows_done']}/{data['rows_total']}",
                rate=data.get("rows_per_s") or "-",
            )

        return follow_events(client, job_id, f"/v1/batch-jobs/{job_id}", progress, task, show)


def submit(body: dict[str, Any], *, follow: bool, url: str | None, api_key: str | None) -> None:
    def go() -> None:
        with http_client(url, api_key) as client:
            job = checked(client.post("/v1/batch-jobs", json=body)).json()
            console.print(
                f"batch job {job['id']} queued: {job['operation']} of dataset "
                f"{body['dataset']} with {job['model']} version {job['version']} into "
                f"dataset {job['output']}"
            )
            if not follow:
                return
            try:
                job = follow_batch_job(client, job["id"])
            except KeyboardInterrupt:
                err_console.print(f"stopped following; batch job {job['id']} goes on")
                raise typer.Exit(130) from None
        if job["status"] == JobStatus.SUCCEEDED:
            rows = (job.get("progress") or {}).get("rows_done")
            console.print(
                f"batch job {job['id']} [green]succeeded[/green]: {rows} rows written to "
                f"dataset {job['output']} ({job['output_dataset_id']})"
            )
            return
        error = escape(job.get("error") or "")
        err_console.print(f"batch job {job['id']} [red]{job['status']}[/red]: {error}")
        raise typer.Exit(1)

    run(go)


Model = Annotated[str, typer.Option(help="NAME or NAME@REF (a version number or an alias)")]
Dataset = Annotated[str, typer.Option(help="The stored dataset's name or id")]
Output = Annotated[
    str | None,
    typer.Option(help="Name of the dataset to create (default DATASET-OPERATION-<id>)"),
]
Follow = Annotated[
    bool, typer.Option("--follow/--no-follow", help="Show progress until the job ends")
]


@app.command()
def encode(
    model: Model,
    dataset: Dataset,
    output: Output = None,
    follow: Follow = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Each row's codings (a VAE: their means), as a new dataset."""
    submit(batch_request("encode", model, dataset, output), follow=follow, url=url, api_key=api_key)


@app.command()
def reconstruct(
    model: Model,
    dataset: Dataset,
    output: Output = None,
    follow: Follow = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Each row's reconstruction in the data's units, as a new dataset."""
    body = batch_request("reconstruct", model, dataset, output)
    submit(body, follow=follow, url=url, api_key=api_key)


@app.command()
def score(
    model: Model,
    dataset: Dataset,
    output: Output = None,
    follow: Follow = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Each row's anomaly score (one column, `score`), as a new dataset."""
    submit(batch_request("score", model, dataset, output), follow=follow, url=url, api_key=api_key)
