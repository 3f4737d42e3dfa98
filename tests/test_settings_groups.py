"""Every setting sits in one group (docs/configuration.md has a section per group), and
grouping them changed no environment variable's name."""

from __future__ import annotations

import re

import pytest
from pydantic import Field

from service import settings_doc
from service.config import SETTING_GROUPS, Settings, group_of

# the variables deployments set, as they were before the settings were grouped
VARIABLES_BEFORE_GROUPING = {
    "AESVC_DATA_DIR", "AESVC_DATABASE_URL", "AESVC_ARTIFACT_URL", "AESVC_ARTIFACT_CACHE_BYTES",
    "AESVC_HOST", "AESVC_PORT", "AESVC_WORKERS", "AESVC_EXECUTOR", "AESVC_RAY_JOB_RESOURCES",
    "AESVC_AUTH", "AESVC_ALLOWED_HOSTS", "AESVC_PUBLIC_DOCS", "AESVC_MAX_CONNECTIONS",
    "AESVC_HEADER_TIMEOUT_S", "AESVC_MAX_HEADER_BYTES", "AESVC_MAX_UPLOAD_BYTES",
    "AESVC_MAX_BODY_BYTES", "AESVC_JSON_OFF_LOOP_BYTES", "AESVC_JSON_PARSE_PROCESSES",
    "AESVC_MAX_REQUEST_ROWS", "AESVC_REQUEST_TIMEOUT_S", "AESVC_MAX_STREAMS",
    "AESVC_MAX_STREAMS_PER_KEY", "AESVC_STREAM_KEY_CHECK_S", "AESVC_HEARTBEAT_INTERVAL_S",
    "AESVC_LEASE_TIMEOUT_S", "AESVC_POLL_INTERVAL_S", "AESVC_WORKER_RESTART_DELAY_S",
    "AESVC_MAX_BATCH_ROWS", "AESVC_MAX_WAIT_MS", "AESVC_MAX_QUEUE_ROWS",
    "AESVC_MODEL_CACHE_BYTES", "AESVC_PRELOAD", "AESVC_INFERENCE_DEVICE",
    "AESVC_INFERENCE_BACKEND", "AESVC_INFERENCE_PARALLEL_ROWS", "AESVC_INFERENCE_INLINE_ROWS",
    "AESVC_INFERENCE_FAST_PATH", "AESVC_INFERENCE_CUDA_GRAPH_ROWS", "AESVC_OIP_SHARED_MEMORY",
    "AESVC_OIP_SHARED_MEMORY_PREFIX", "AESVC_OIP_SHARED_MEMORY_REGIONS_PER_KEY",
    "AESVC_WARMUP_BATCH_ROWS", "AESVC_REF_CACHE_S", "AESVC_MAX_MODEL_PARAMETERS",
    "AESVC_MAX_TRAINING_BYTES", "AESVC_MAX_GENERATE", "AESVC_MAX_INTERPOLATE_STEPS",
    "AESVC_MALLOC_TOP_PAD_BYTES", "AESVC_BUILTIN_DATASETS", "AESVC_LOG_LEVEL",
    "AESVC_OPENTELEMETRY",
}  # fmt: skip


def test_every_setting_has_a_group() -> None:
    missing = [name for name in Settings.model_fields if group_of(name) is None]
    assert missing == []
    used = {group_of(name) for name in Settings.model_fields}
    assert used == set(SETTING_GROUPS)  # and no group is empty


def test_no_variable_was_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {f"AESVC_{name.upper()}" for name in Settings.model_fields}
    assert names >= VARIABLES_BEFORE_GROUPING
    monkeypatch.setenv("AESVC_LEASE_TIMEOUT_S", "7.5")  # a flat name still reaches its field
    monkeypatch.setenv("AESVC_MAX_WAIT_MS", "3")
    settings = Settings()
    assert settings.lease_timeout_s == 7.5 and settings.max_wait_ms == 3.0


def test_the_page_has_a_section_per_group_with_each_setting_once() -> None:
    page = settings_doc.render()
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    assert headings == list(SETTING_GROUPS.values())
    for name in Settings.model_fields:
        assert page.count(f"| `AESVC_{name.upper()}` |") == 1, name
    assert settings_doc.DOC_PATH.read_text() == page  # docs/configuration.md is fresh


def test_a_setting_without_a_group_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Ungrouped(Settings):
        stray: int = Field(default=1, description="no group")

    monkeypatch.setattr(settings_doc, "Settings", Ungrouped)
    monkeypatch.setattr("service.config.Settings", Ungrouped)
    with pytest.raises(ValueError, match="stray"):
        settings_doc.render()
