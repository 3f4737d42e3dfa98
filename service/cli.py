"""aesvc: serve | worker | migrate | openapi | keys, and the HTTP client commands
(train | models | jobs | encode, in service.cli_client; batch, in service.cli_batch)."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from service import cli_sweep
from service.cli_batch import app as batch_app
from service.cli_client import register as register_client_commands
from service.config import Settings

app = typer.Typer(
    help="autoencoder-service: train, keep and serve autoencoders.", no_args_is_help=True
)
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _settings(**overrides: Any) -> Settings:
    """Settings that fail validation stop the command (exit 2) with one line each, naming
    the variable, instead of a traceback."""
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**values)
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if not message.startswith("AESVC_"):
                field = "_".join(str(part) for part in error["loc"]).upper()
                message = f"AESVC_{field}: {message}" if field else message
            typer.echo(f"aesvc: {message}", err=True)
        raise typer.Exit(2) from exc


def _check_store(settings: Settings) -> None:
    """A store that cannot be used (unknown bucket, refused credentials, no server) stops
    the start with the setting named, not the first request that needs it."""
    from service.artifacts import StoreMisconfigured
    from service.object_store import open_store

    try:
        open_store(settings).check()
    except StoreMisconfigured as exc:
        typer.echo(f"aesvc: {exc}", err=True)
        raise typer.Exit(2) from exc


def _check_cluster(settings: Settings) -> None:
    """AESVC_EXECUTOR=ray with no cluster to join stops the start with one line naming
    RAY_ADDRESS, not a traceback from the app's startup (exit 3), nor minutes of ray.init
    retrying an address where nothing listens (AESVC_RAY_CONNECT_TIMEOUT_S). It connects on
    a thread of its own, as the app's startup does: on the main thread ray.init puts in a
    SIGTERM handler of its own (sys.exit(15)), which uvicorn calls after its graceful
    shutdown."""
    if settings.executor != "ray":
        return
    address = os.environ.get("RAY_ADDRESS", "auto")
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            from service.executors.ray_executor import connect

            connect(settings)
            outcome.append(None)
        except BaseException as exc:  # handed to the main thread
            outcome.append(exc)

    thread = threading.Thread(target=attempt, name="ray-connect", daemon=True)
    thread.start()
    thread.join(settings.ray_connect_timeout_s)
    if not outcome:  # still in ray.init: a thread cannot be stopped, so the process ends
        typer.echo(
            f"aesvc: AESVC_EXECUTOR=ray: no Ray cluster answered at RAY_ADDRESS={address} "
            f"within {settings.ray_connect_timeout_s:g} s (AESVC_RAY_CONNECT_TIMEOUT_S); "
            "check the address, or start one (`ray start --head`)",
            err=True,
        )
        sys.stderr.flush()
        os._exit(2)
    error = outcome[0]
    if isinstance(error, ImportError):
        typer.echo(f"aesvc: AESVC_EXECUTOR=ray needs the ray package: {error}", err=True)
        raise typer.Exit(2) from error
    if isinstance(error, ConnectionError):
        typer.echo(
            f"aesvc: AESVC_EXECUTOR=ray found no running Ray cluster at RAY_ADDRESS={address}; "
            "start one (`ray start --head`) or set RAY_ADDRESS to its address",
            err=True,
        )
        raise typer.Exit(2) from error
    if error is not None:
        raise error


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (AESVC_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (AESVC_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local CPU worker processes (AESVC_WORKERS)")
    ] = None,
) -> None:
    """Run the API and its local worker pool."""
    import uvicorn

    from service.allocator import tune_malloc
    from service.logs import configure_logging
    from service.main import create_app
    from service.server import ConnectionLimits, protocol_for

    settings = _settings(host=host, port=port, workers=workers)
    configure_logging(settings.log_level)
    refusal = open_bind_refusal(settings)
    if refusal:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    _check_store(settings)
    _check_cluster(settings)
    tune_malloc(settings.malloc_top_pad_bytes)
    uvicorn.run(
        create_app(settings, freeze_gc=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # service.request_id writes one access line, with the request id
        timeout_graceful_shutdown=30,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local client could
        # pick its own address (and rate-limit bucket); only the proxies named here are
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        http=protocol_for(
            ConnectionLimits(
                max_connections=settings.max_connections,
                header_timeout_s=settings.header_timeout_s,
                max_header_bytes=settings.max_header_bytes,
                body_timeout_s=settings.body_timeout_s,
                body_min_bytes_per_s=settings.body_min_bytes_per_s,
                send_timeout_s=settings.send_timeout_s,
                send_buffer_bytes=settings.send_buffer_bytes,
            )
        ),
    )


def open_bind_refusal(settings: Settings) -> str | None:
    """AESVC_AUTH=disabled is only allowed on a loopback address."""
    from service.security import is_loopback

    if settings.auth == "disabled" and not is_loopback(settings.host):
        return (
            f"refusing to serve {settings.host}:{settings.port} with AESVC_AUTH=disabled: "
            "anyone who reaches that address could train, delete and read models. Set "
            "AESVC_AUTH=required (and create a key with `aesvc keys create`) or bind 127.0.0.1."
        )
    return None


register_client_commands(app)
app.add_typer(batch_app, name="batch")
app.command()(cli_sweep.sweep)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


class _KeyStore:
    """The database alone: keys need no artifact store (the first key is made before one
    may be reachable)."""

    def __init__(self, url: str) -> None:
        from service.database import create_db_engine, create_session_factory

        self.engine = create_db_engine(url)
        self.session_factory = create_session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def _session() -> _KeyStore:
    from service.database import migrate as run_migrations

    settings = _settings()
    run_migrations(settings.resolved_database_url)
    return _KeyStore(settings.resolved_database_url)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: read,infer,train,admin")] = "read",
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from service.security import create_key

    ctx = _session()
    try:
        with ctx.session_factory() as session:
            row, key = create_key(
                session=session, name=name, scopes=[s.strip() for s in scopes.split(",") if s]
            )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        ctx.close()
    typer.echo(key)
    typer.echo(f"key id {row.id} ({name}; scopes {','.join(row.scopes)}): store it now", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never the secrets)."""
    from service.security import list_keys

    ctx = _session()
    try:
        with ctx.session_factory() as session:
            for row in list_keys(session=session):
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                typer.echo(f"{row.id}\t{row.name}\t{','.join(row.scopes)}\t{state}")
    finally:
        ctx.close()


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id from `keys list`")]) -> None:
    """Revoke a key at once."""
    from service.security import revoke_key

    ctx = _session()
    try:
        with ctx.session_factory() as session:
            if not revoke_key(session=session, key_id=key_id):
                typer.echo(f"no active key {key_id!r}", err=True)
                raise typer.Exit(1)
    finally:
        ctx.close()
    typer.echo(f"revoked {key_id}")


@app.command()
def worker() -> None:
    """Run one worker loop against the configured database, without the API."""
    from service.database import migrate as run_migrations
    from service.executors.local import install_stop_signals, worker_loop
    from service.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    _check_store(settings)
    run_migrations(settings.resolved_database_url)
    stopping = threading.Event()
    install_stop_signals(stopping)
    worker_loop(settings, stopping=stopping)


@app.command()
def migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the database to a revision (default: head)."""
    from alembic.util.exc import CommandError

    from service.database import migrate as run_migrations

    settings = _settings()
    try:
        run_migrations(settings.resolved_database_url, revision)
    except CommandError as exc:  # an unknown revision, say
        typer.echo(f"aesvc: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"database at {revision}")


def openapi_document() -> dict[str, Any]:
    from service.main import create_app

    schema: dict[str, Any] = create_app(Settings(data_dir=Path("/nonexistent-unused"))).openapi()
    return schema


def render_openapi() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the schema")] = OPENAPI_PATH,
    check: Annotated[bool, typer.Option("--check", help="Fail if the file is out of date")] = False,
) -> None:
    """Write the OpenAPI schema (or check the committed one)."""
    text = render_openapi()
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            typer.echo(f"{output} is out of date: run `aesvc openapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    typer.echo(f"wrote {output}")


@app.command("settings-doc")
def settings_doc(
    check: Annotated[bool, typer.Option("--check", help="Fail if the file is out of date")] = False,
) -> None:
    """Write docs/configuration.md from the Settings class (or check the committed one)."""
    from service.settings_doc import DOC_PATH, render

    text = render()
    if check:
        if not DOC_PATH.exists() or DOC_PATH.read_text() != text:
            typer.echo(f"{DOC_PATH} is out of date: run `aesvc settings-doc`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{DOC_PATH} is up to date")
        return
    DOC_PATH.write_text(text)
    typer.echo(f"wrote {DOC_PATH}")


def main() -> None:
    app(prog_name="aesvc")


if __name__ == "__main__":
    main()
