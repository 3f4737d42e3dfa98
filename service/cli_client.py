"""aesvc train | models | jobs | encode: a client of a running service, over HTTP (httpx).

The server is --url (AESVC_URL; unset, http://AESVC_HOST:AESVC_PORT as `aesvc serve` binds
it, default http://127.0.0.1:8000) and the key --api-key (AESVC_API_KEY), sent as
`Authorization: Bearer`.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from service.cli_transport import AnswerRefused, BoundedTransport
from service.datasets.columns import ColumnError, match_columns, numeric_column, read_csv
from service.training.schemas import TERMINAL_STATES, JobStatus

NPY = "application/x-npy"
ENCODE_CHUNK_ROWS = 8192
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error stays one line

Url = Annotated[
    str | None,
    typer.Option(
        envvar="AESVC_URL",
        help="The service (AESVC_URL; default http://AESVC_HOST:AESVC_PORT, as `aesvc serve`)",
        show_default=False,
    ),
]
ApiKey = Annotated[str | None, typer.Option(envvar="AESVC_API_KEY", help="API key (AESVC_API_KEY)")]
DEFAULT_URL = None
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class ClientError(Exception):
    """Shown to the user as one line; the command exits 1."""


def comma_ints(text: str, option: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: comma-separated integers", param_hint=option) from exc


def model_ref(model: str) -> tuple[str, str]:
    """--model NAME[@REF] -> (name, ref; "" for latest), or a usage error naming the flag
    (a model name is one path segment: no slash, not empty)."""
    name, _, ref = model.partition("@")
    if not name or "/" in name or "/" in ref:
        raise typer.BadParameter(
            f"{model!r}: expected NAME or NAME@REF (a version number or an alias)",
            param_hint="--model",
        )
    return name, ref


def service_url(url: str | None) -> str:
    """--url / AESVC_URL, else where `aesvc serve` listens with the same environment."""
    if url:
        return url.rstrip("/")
    host = os.environ.get("AESVC_HOST", "127.0.0.1").strip()
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('AESVC_PORT', '8000').strip()}"


def http_client(url: str | None, api_key: str | None, timeout_s: float = 60.0) -> httpx.Client:
    """A client of the service; the key as a bearer token (surrounding white space, a key
    read from a file with its newline, dropped)."""
    api_key = (api_key or "").strip()
    if api_key and not (api_key.isascii() and api_key.isprintable() and " " not in api_key):
        raise ClientError(
            "the API key (--api-key or AESVC_API_KEY) holds characters a key does not: "
            "expected the key as `aesvc keys create` printed it"
        )
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    headers["Accept-Encoding"] = "identity"  # an answer's size is then what is read
    return httpx.Client(
        base_url=service_url(url), headers=headers, timeout=timeout_s, transport=BoundedTransport()
    )


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or a ClientError carrying the problem+json detail."""
    if response.is_success:
        return response
    try:
        problem = response.json()
        detail = f"{problem.get('title', '')}: {problem.get('detail', '')}"
    except ValueError:
        detail = response.text[:200]
    if response.status_code == 401:
        detail += " (the CLI sends a key given as --api-key or AESVC_API_KEY)"
    raise ClientError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}"
    )


def run(command: Any) -> None:
    """Run a command body, turning client and connection errors into exit 1."""
    try:
        command()
    except (ClientError, AnswerRefused) as exc:
        err_console.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except httpx.InvalidURL as exc:  # not an HTTPError
        err_console.print(
            f"[red]error[/red] not a service URL: {escape(str(exc))} (--url, AESVC_URL, or "
            "AESVC_HOST/AESVC_PORT)"
        )
        raise typer.Exit(2) from exc
    except httpx.HTTPError as exc:
        try:
            where = f" at {exc.request.url}"
        except RuntimeError:  # no request attached
            where = ""
        err_console.print(
            f"[red]error[/red] cannot reach the service{where}: {escape(str(exc))} "
            "(--url, AESVC_URL, or AESVC_HOST/AESVC_PORT)",
            markup=True,
            highlight=False,
        )
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
        architecture["hidden_sizes"] = comma_ints(hidden_sizes, "--hidden-sizes")
    training = {k: v for k, v in (("epochs", epochs), ("seed", seed)) if v is not None}
    return {
        "model": model_name,
        "dataset": dataset,
        "spec": {"architecture": architecture, "training": training},
    }


class StreamRefused(ClientError):
    """The event stream refused for now (429: this key's streams are all open; 503)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def sse_events(client: httpx.Client, job_id: str, after: int) -> Iterator[tuple[int, str, Any]]:
    """(id, kind, data) of the job's events after `after`, until the stream ends."""
    with client.stream(
        "GET", f"/v1/jobs/{job_id}/events", params={"after": after}, timeout=None
    ) as response:
        if not response.is_success:
            response.read()
            if response.status_code in (429, 503):
                wait = response.headers.get("Retry-After", "")
                seconds = float(wait) if wait.isdigit() else 1.0
                raise StreamRefused(f"{response.status_code}", retry_after_s=seconds)
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
        TextColumn("epochs{task.fields[within]}"),
        TextColumn("loss {task.fields[loss]}  val {task.fields[val]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=None, loss="-", val="-", within="")

        def show(data: dict[str, Any]) -> None:
            within = within_epoch(data)  # the bar goes on within an epoch
            into = data["batch"] / max(data["batches"], 1) if within else 0.0
            progress.update(
                task,
                description=f"training {data.get('stage') or ''}".strip(),
                total=data["epochs"],
                completed=data["epoch"] + into,
                loss=_fmt(data.get("train_loss")),
                val=_fmt(data.get("val_loss")),
                within=f" + {within}" if within else "",
            )

        job = follow_events(client, job_id, f"/v1/jobs/{job_id}", progress, task, show)
        early = stopped_early(job)
        if early:
            progress.update(task, description=early, completed=progress.tasks[0].total)
        return job


def follow_events(
    client: httpx.Client,
    job_id: str,
    path: str,
    progress: Progress,
    task: TaskID,
    show: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The job's events shown (`show` for each progress report, an epoch's or one within
    an epoch; the status for each state change) until the job at `path` has ended; the job
    as it ended. The stream is resumed after the last event seen if it breaks off (a
    dropped connection: up to
    RECONNECTS times in a row, backing off) or is refused for now (429, 503: this key's
    streams all open; the job is looked at meanwhile, as long as it runs)."""
    after, failures = 0, 0
    while True:
        wait = 0.0
        try:
            for event_id, kind, data in sse_events(client, job_id, after):
                after, failures = event_id, 0
                if kind in ("progress", "epoch_progress"):
                    show(data)
                elif kind == "state":
                    progress.update(task, description=data.get("status", ""))
        except StreamRefused as exc:
            wait = min(exc.retry_after_s, MAX_WAIT_S)
        except httpx.TransportError:
            failures += 1
            if failures > RECONNECTS:
                raise
            wait = min(0.25 * 2**failures, MAX_WAIT_S)
        job: dict[str, Any] = checked(client.get(path)).json()
        if job["status"] in TERMINAL_STATES:
            return job
        time.sleep(wait)


RECONNECTS = 8  # a stream that breaks off this often in a row, the service unreachable
MAX_WAIT_S = 5.0


def within_epoch(progress: dict[str, Any]) -> str | None:
    """ "batch 120/500 of epoch 3" while an epoch runs (a job's progress between its epoch
    reports), else None."""
    batch, batches = progress.get("batch"), progress.get("batches")
    if batch is None or batches is None:
        return None
    return f"batch {batch}/{batches} of epoch {progress['epoch'] + 1}"


def epochs_done(progress: dict[str, Any]) -> str:
    """ "2/10", or "2/10 + batch 120/500 of epoch 3" while the third runs."""
    done = f"{progress['epoch']}/{progress['epochs']}"
    within = within_epoch(progress)
    return f"{done} + {within}" if within else done


def stopped_early(job: dict[str, Any]) -> str | None:
    """ "stopped early at 26/100" for a job that succeeded before its last epoch."""
    p = job.get("progress") or {}
    if job["status"] == JobStatus.SUCCEEDED and p and p.get("epoch", 0) < p.get("epochs", 0):
        return f"stopped early at {p['epoch']}/{p['epochs']}"
    return None


def quality_warnings(client: httpx.Client, model: str, version: int) -> list[str]:
    """What the new version is worse than (the version JSON's `worse_than`)."""
    found = checked(client.get(f"/v1/models/{model}/versions/{version}")).json()
    return [w["message"] for w in found.get("worse_than") or []]


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
            console.print(f"job {job['id']} queued for model {job['model']}")
            if not follow:
                return
            try:
                job = follow_job(client, job["id"])
            except KeyboardInterrupt:
                err_console.print(f"stopped following; job {job['id']} goes on")
                raise typer.Exit(130) from None
        if job["status"] == JobStatus.SUCCEEDED:
            early = stopped_early(job)
            console.print(
                f"job {job['id']} [green]succeeded[/green]"
                f"{f' ({early})' if early else ''}: "
                f"model {job['model']} version {job['model_version']}"
            )
            with http_client(url, api_key) as client:
                warnings = quality_warnings(client, job["model"], job["model_version"])
            for warning in warnings:
                console.print(
                    f"[yellow]warning[/yellow] version {job['model_version']}: {escape(warning)}",
                    soft_wrap=True,
                )
            if warnings:
                console.print(
                    "`latest` names it all the same; aliases stay where they are", soft_wrap=True
                )
            return
        why = f": {job['error']}" if job.get("error") else ""
        err_console.print(f"job {job['id']} [red]{job['status']}[/red]{why}")
        raise typer.Exit(1)

    run(submit)


# -- models, jobs --


def _every_model(client: httpx.Client) -> Iterator[dict[str, Any]]:
    """Every page of models (a page may end early where its models' tags are large)."""
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = checked(client.get("/v1/models", params=params)).json()
        yield from page["data"]
        if not page.get("next_page_token"):
            return
        params["page_token"] = page["next_page_token"]


def models(url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """List models, their latest version and its validation MSE beside PCA's (data units)."""

    def show() -> None:
        table = Table(
            "model", "latest", "aliases", "kind", "code", "val MSE (data units)", "PCA val MSE"
        )
        with http_client(url, api_key) as client:
            for model in _every_model(client):
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
        columns = ("job", "model", "status", "epoch", "val loss", "version", "created")
        table = Table(*columns)
        with http_client(url, api_key) as client:
            found = checked(client.get("/v1/jobs", params=params)).json()["data"]
        rows = []
        for job in found:
            p = job["progress"] or {}
            rows.append(
                (
                    job["id"],
                    job["model"],
                    job["status"],
                    stopped_early(job) or (epochs_done(p) if p else "-"),
                    _fmt(p.get("val_loss")),
                    str(job["model_version"] or "-"),
                    job["created_at"][:19],
                )
            )
        if not console.is_terminal:  # a pipe or a file: whole ids, one job a line
            for row in [columns, *rows]:
                typer.echo("\t".join(row))
            return
        for row in rows:
            table.add_row(*row)
        console.print(table)

    run(show)


# -- encode --


def read_rows(
    path: Path,
    *,
    header: bool | None = None,
    features: list[str] | None = None,
    has_labels: bool = False,
    label_column: str | None = None,
) -> np.ndarray:
    """A 2-D float32 matrix from .npy, or from .csv with its columns put in the order of
    `features` by name (the dataset's feature names). A CSV's header is decided as an upload
    decides it (service.datasets.columns): a first row of numbers needs --no-header."""
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ClientError(f"{path}: not a readable .npy array ({exc})") from exc
    elif path.suffix == ".csv":
        array = _read_csv_rows(
            path, header=header, features=features, has_labels=has_labels, label=label_column
        )
    else:
        raise ClientError(f"{path}: expected a .csv or .npy file")
    if array.dtype.kind not in "biuf":  # text, records, objects, dates
        raise ClientError(f"{path}: expected a matrix of numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore"):  # past float32's range: inf, refused below
        array = np.asarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ClientError(f"{path}: NaN or infinite values (or values past float32's range)")
    if array.ndim == 1:  # a 1-D .npy: N rows of one value
        array = array.reshape(-1, 1)
    if array.ndim != 2 or len(array) == 0:
        raise ClientError(f"{path}: expected a 2-D matrix of rows, got shape {array.shape}")
    return array


def _read_csv_rows(
    path: Path,
    *,
    header: bool | None,
    features: list[str] | None,
    has_labels: bool,
    label: str | None,
) -> np.ndarray:
    try:
        names, table = read_csv(path, header=header)
        if features is None or not _has_names(header, names):
            order = list(range(len(names)))
            if label is not None:
                order = [i for i, n in enumerate(names) if n != label]
        else:
            match = match_columns(names, features, label_column=label, has_labels=has_labels)
            order = match.order
            if match.dropped_label is not None:
                err_console.print(f"dropped the label column {match.dropped_label!r}")
        columns = [numeric_column(table, names[i]) for i in order]
    except ColumnError as exc:
        option = {"header": "--header/--no-header", "label_column": "--label-column"}
        where = option.get(exc.field, "")
        message = exc.message.replace("header=false", "--no-header").replace(
            "header=true", "--header"
        )
        raise ClientError(f"{path}: {message}{f' ({where})' if where else ''}") from exc
    if not columns:
        return np.zeros((table.num_rows, 0), np.float32)
    matrix = np.stack(columns, axis=1)
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ClientError(
            f"{path}: row {row + 1}, column {names[order[col]]!r} is empty or not finite"
        )
    return matrix


def _has_names(header: bool | None, names: list[str]) -> bool:
    """--no-header: the columns are in the dataset's order, by the user's word."""
    return header is not False


def check_writable(path: Path) -> None:
    """Before any request: the output's suffix, and a folder to write it in."""
    if path.suffix not in (".npy", ".csv"):
        raise ClientError(f"{path}: expected a .csv or .npy file")
    if path.is_dir() or not path.parent.is_dir():
        raise ClientError(f"{path}: not a file in an existing folder")


def write_rows(path: Path, array: np.ndarray, prefix: str) -> None:
    check_writable(path)
    try:
        if path.suffix == ".npy":
            np.save(path, array)
        else:
            header = ",".join(f"{prefix}_{i}" for i in range(array.shape[1]))
            np.savetxt(path, array, delimiter=",", header=header, comments="", fmt="%.8g")
    except OSError as exc:
        raise ClientError(f"{path}: cannot be written: {exc.strerror or exc}") from exc


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
    return buffer.getvalue()


def encode_path(name: str, ref: str, pinned: str | None) -> str:
    """The first chunk goes to the ref; its answer names the version (X-Model-Version), and
    the other chunks go to that version, so an alias moved meanwhile cannot mix two
    versions' codings in one file."""
    return f"/v1/models/{name}/versions/{pinned or ref or 'latest'}/encode"


def dataset_columns(
    client: httpx.Client, name: str, ref: str
) -> tuple[str, list[str] | None, bool]:
    """(version number, the dataset's feature names, whether it has labels); the names are
    None where the version has no stored dataset (an imported version)."""
    version = checked(client.get(f"/v1/models/{name}/versions/{ref or 'latest'}")).json()
    number = str(version["version"])
    if not version.get("dataset_id"):
        return number, None, False
    # The full view (the single read's default, named as the answer's names are needed)
    response = client.get(f"/v1/datasets/{version['dataset_id']}", params={"view": "full"})
    if response.status_code == 404:
        return number, None, False
    dataset = checked(response).json()
    return number, list(dataset["feature_names"]), bool(dataset["has_labels"])


def encode(
    model: Annotated[str, typer.Option(help="NAME or NAME@REF (a version or an alias)")],
    input: Annotated[Path, typer.Option("--input", help=".csv or .npy rows", exists=True)],
    output: Annotated[Path, typer.Option("--output", help=".csv or .npy codings")],
    header: Annotated[
        bool | None,
        typer.Option(
            "--header/--no-header",
            help="csv: the first row names the columns (default: yes, unless it is all "
            "numbers, which is refused); --no-header: the columns are in the dataset's order",
            show_default=False,
        ),
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="csv: a column to drop (the dataset's labels)")
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Encode rows (in the dataset's own units) into codings, as .npy over the wire. A
    CSV's columns are matched by name to the dataset the version was trained on."""
    name, ref = model_ref(model)

    def go() -> None:
        check_writable(output)  # before the service does any work
        parts = []
        with http_client(url, api_key) as client:
            features: list[str] | None = None
            has_labels = False
            version: str | None = None
            if input.suffix == ".csv":
                version, features, has_labels = dataset_columns(client, name, ref)
                if features is None and header is not False:
                    raise ClientError(
                        f"{input}: version {version} of {name} has no stored dataset to match "
                        "the columns by name: pass --no-header with the columns in the "
                        "training order, or an .npy file"
                    )
            rows = read_rows(
                input,
                header=header,
                features=features,
                has_labels=has_labels,
                label_column=label_column,
            )
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
