"""aesvc train | models | jobs | encode: a client of a running service, over HTTP (httpx).

The server is --url (AESVC_URL, default http://127.0.0.1:8000) and the key --api-key
(AESVC_API_KEY), sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

NPY = "application/x-npy"
TERMINAL = ("succeeded", "failed", "cancelled")
ENCODE_CHUNK_ROWS = 8192
console = Console()
err_console = Console(stderr=True)

Url = Annotated[str, typer.Option(envvar="AESVC_URL", help="The service (AESVC_URL)")]
ApiKey = Annotated[str | None, typer.Option(envvar="AESVC_API_KEY", help="API key (AESVC_API_KEY)")]
DEFAULT_URL = "http://127.0.0.1:8000"


class ClientError(Exception):
    """Shown to the user as one line; the command exits 1."""


def http_client(url: str, api_key: str | None, timeout_s: float = 60.0) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or a ClientError carrying the problem+json detail."""
    if response.is_success:
        return response
    try:
        problem = response.json()
        detail = f"{problem.get('title', '')}: {problem.get('detail', '')}"
    except ValueError:
        detail = response.text[:200]
    raise ClientError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}"
    )


def run(command: Any) -> None:
    """Run a command body, turning client and connection errors into exit 1."""
    try:
        command()
    except ClientError as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from exc
    except httpx.HTTPError as exc:
        err_console.print(f"[red]error[/red] cannot reach the service: {exc}")
        raise typer.Exit(1) from exc


# -- train --


def job_request(
    *,
    model_name: str,
    dataset: str,
    kind: str,
    code_size: int,
    hidden_sizes: str | None,
    epochs: int | None,
    seed: int | None,
) -> dict[str, Any]:
    architecture: dict[str, Any] = {"kind": kind, "code_size": code_size}
    if hidden_sizes is not None:
        architecture["hidden_sizes"] = [int(s) for s in hidden_sizes.split(",") if s.strip()]
    training = {k: v for k, v in (("epochs", epochs), ("seed", seed)) if v is not None}
    return {
        "model_name": model_name,
        "dataset": dataset,
        "architecture": architecture,
        "training": training,
    }


def sse_events(client: httpx.Client, job_id: str, after: int) -> Iterator[tuple[int, str, Any]]:
    """(id, kind, data) of the job's events after `after`, until the stream ends."""
    with client.stream(
        "GET", f"/v1/jobs/{job_id}/events", params={"after": after}, timeout=None
    ) as response:
        if not response.is_success:
            response.read()
            checked(response)
        event_id, kind, data = after, "message", ""
        for line in response.iter_lines():
            if not line:
                if data:
                    yield event_id, kind, json.loads(data)
                kind, data = "message", ""
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "id":
                event_id = int(value)
            elif field == "event":
                kind = value
            elif field == "data":
                data += value


def follow_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Show a progress bar until the job ends; the job as it ended."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs  loss {task.fields[loss]}  val {task.fields[val]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    after = 0
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=None, loss="-", val="-")
        while True:
            for event_id, kind, data in sse_events(client, job_id, after):
                after = event_id
                if kind == "progress":
                    progress.update(
                        task,
                        description=f"training {data.get('stage') or ''}".strip(),
                        total=data["epochs"],
                        completed=data["epoch"],
                        loss=_fmt(data.get("train_loss")),
                        val=_fmt(data.get("val_loss")),
                    )
                elif kind == "state":
                    progress.update(task, description=data.get("status", ""))
            job: dict[str, Any] = checked(client.get(f"/v1/jobs/{job_id}")).json()
            if job["status"] in TERMINAL:  # else the stream broke off: resume after `after`
                return job


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4g}"


def train(
    dataset: Annotated[str, typer.Option(help="Dataset name or id (built-in: digits, ...)")],
    code_size: Annotated[int, typer.Option(help="Size of the coding layer")],
    kind: Annotated[str, typer.Option(help="linear, dense, vae, conv or conv_vae")] = "dense",
    model_name: Annotated[
        str | None, typer.Option("--model", help="Model name (default: DATASET-KIND)")
    ] = None,
    hidden_sizes: Annotated[
        str | None, typer.Option(help="Comma-separated dense layer sizes, e.g. 128,64")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs (server default: 100)")] = None,
    seed: Annotated[int | None, typer.Option(help="Training seed")] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Show progress until the job ends")
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Submit a training job; with --follow, exit 0 only if it succeeds."""
    body = job_request(
        model_name=model_name or f"{dataset}-{kind}",
        dataset=dataset,
        kind=kind,
        code_size=code_size,
        hidden_sizes=hidden_sizes,
        epochs=epochs,
        seed=seed,
    )

    def submit() -> None:
        with http_client(url, api_key) as client:
            job = checked(client.post("/v1/jobs", json=body)).json()
            console.print(f"job {job['id']} queued for model {job['model_name']}")
            if not follow:
                return
            try:
                job = follow_job(client, job["id"])
            except KeyboardInterrupt:
                err_console.print(f"stopped following; job {job['id']} goes on")
                raise typer.Exit(130) from None
        if job["status"] == "succeeded":
            console.print(
                f"job {job['id']} [green]succeeded[/green]: "
                f"model {job['model_name']} version {job['model_version']}"
            )
            return
        err_console.print(f"job {job['id']} [red]{job['status']}[/red]: {job.get('error') or ''}")
        raise typer.Exit(1)

    run(submit)


# -- models, jobs --


def models(url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """List models, their latest version and its validation MSE beside PCA's (data units)."""

    def show() -> None:
        table = Table(
            "model", "latest", "aliases", "kind", "code", "val MSE (data units)", "PCA val MSE"
        )
        with http_client(url, api_key) as client:
            for model in checked(client.get("/v1/models", params={"limit": 1000})).json()["data"]:
                aliases = ", ".join(f"{a}→{v}" for a, v in sorted(model["aliases"].items()))
                row = [model["name"], str(model["latest_version"] or "-"), aliases]
                if model["latest_version"] is not None:
                    v = checked(client.get(f"/v1/models/{model['name']}/versions/latest")).json()
                    m = v["metrics"]
                    row += [
                        v["kind"],
                        str(v["code_size"]),
                        _fmt(m.get("val_mse")),
                        _fmt(m.get("pca_val_mse")),
                    ]
                table.add_row(*row)
        console.print(table)

    run(show)


def jobs(
    status: Annotated[str | None, typer.Option(help="Only jobs in this state")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List jobs, newest first."""

    def show() -> None:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        table = Table("job", "model", "status", "epoch", "val loss", "version", "created")
        with http_client(url, api_key) as client:
            for job in checked(client.get("/v1/jobs", params=params)).json()["data"]:
                p = job["progress"] or {}
                table.add_row(
                    job["id"],
                    job["model_name"],
                    job["status"],
                    f"{p['epoch']}/{p['epochs']}" if p else "-",
                    _fmt(p.get("val_loss")),
                    str(job["model_version"] or "-"),
                    job["created_at"][:19],
                )
        console.print(table)

    run(show)


# -- encode --


def read_rows(path: Path) -> np.ndarray:
    """A 2-D float32 matrix from .npy, or .csv (a header row, if any, is skipped)."""
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
        lines = path.read_text().splitlines()
        first = lines[0].split(",") if lines else []
        has_header = any(not _is_number(cell) for cell in first)
        array = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", skiprows=int(has_header))
    else:
        raise ClientError(f"{path}: expected a .csv or .npy file")
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 1:  # one column (loadtxt's shape for it), or a 1-D .npy: N rows
        array = array.reshape(-1, 1)
    if array.ndim != 2 or len(array) == 0:
        raise ClientError(f"{path}: expected a 2-D matrix of rows, got shape {array.shape}")
    return array


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def write_rows(path: Path, array: np.ndarray, prefix: str) -> None:
    if path.suffix == ".npy":
        np.save(path, array)
    elif path.suffix == ".csv":
        header = ",".join(f"{prefix}_{i}" for i in range(array.shape[1]))
        np.savetxt(path, array, delimiter=",", header=header, comments="", fmt="%.8g")
    else:
        raise ClientError(f"{path}: expected a .csv or .npy file")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
    return buffer.getvalue()


def encode_path(name: str, ref: str, pinned: str | None) -> str:
    """The first chunk goes to the ref; its answer names the version (X-Model-Version), and
    the other chunks go to that version, so an alias moved meanwhile cannot mix two
    versions' codings in one file."""
    return f"/v1/models/{name}/versions/{pinned or ref or 'latest'}/encode"


def encode(
    model: Annotated[str, typer.Option(help="NAME or NAME@REF (a version or an alias)")],
    input: Annotated[Path, typer.Option("--input", help=".csv or .npy rows", exists=True)],
    output: Annotated[Path, typer.Option("--output", help=".csv or .npy codings")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Encode rows (in the dataset's own units) into codings, as .npy over the wire."""
    name, _, ref = model.partition("@")

    def go() -> None:
        rows = read_rows(input)
        parts, version = [], None
        with http_client(url, api_key) as client:
            for start in range(0, len(rows), ENCODE_CHUNK_ROWS):
                response = checked(
                    client.post(
                        encode_path(name, ref, version),
                        content=npy_bytes(rows[start : start + ENCODE_CHUNK_ROWS]),
                        headers={"Content-Type": NPY, "Accept": NPY},
                    )
                )
                version = response.headers.get("X-Model-Version")
                parts.append(np.load(io.BytesIO(response.content), allow_pickle=False))
        codings = np.concatenate(parts)
        write_rows(output, codings, "code")
        console.print(
            f"encoded {len(rows)} rows with {name} version {version}: "
            f"{codings.shape[1]} codings each, written to {output}"
        )

    run(go)


def register(app: typer.Typer) -> None:
    for command in (train, models, jobs, encode):
        app.command()(command)
