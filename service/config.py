"""Settings: one object, read from the environment (prefix AESVC_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AESVC_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="SQLite file and artifacts.")
    database_url: str | None = Field(default=None, description="Overrides the SQLite file.")
    artifact_url: str | None = Field(default=None, description="Overrides <data_dir>/artifacts.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=0, le=64, description="Local worker processes on CPU.")
    executor: Literal["local", "ray"] = "local"
    auth: Literal["disabled", "required"] = "disabled"

    max_upload_bytes: int = Field(default=1 << 30, ge=1)
    max_body_bytes: int = Field(default=64 << 20, ge=1)
    max_request_rows: int = Field(default=65536, ge=1)

    heartbeat_interval_s: float = Field(default=2.0, gt=0)
    lease_timeout_s: float = Field(default=30.0, gt=0, description="Stale heartbeat → requeue.")
    poll_interval_s: float = Field(default=0.5, gt=0)
    worker_restart_delay_s: float = Field(default=1.0, ge=0)

    builtin_datasets: bool = True
    log_level: str = "INFO"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aesvc.db').resolve()}"

    @property
    def resolved_artifact_root(self) -> Path:
        if self.artifact_url:
            return Path(self.artifact_url.removeprefix("file://"))
        return (self.data_dir / "artifacts").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
