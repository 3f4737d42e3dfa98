"""glibc malloc settings at serve start (service.allocator): freed blocks stay in the
process for the next request instead of going back to the kernel, `aesvc serve` applies
AESVC_MALLOC_TOP_PAD_BYTES, and 0 leaves glibc's defaults."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from service import allocator
from service.cli import app as cli

ROOT = Path(__file__).resolve().parent.parent
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="mallopt settings exist in glibc only")

# Allocates and frees 16 MiB (touched), and prints how much of it the process kept.
KEPT_AFTER_FREE = textwrap.dedent(
    """
    import os, sys
    from service.allocator import tune_malloc

    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    applied = tune_malloc(int(sys.argv[1]))
    before = rss()
    block = b"x" * (16 << 20)
    del block
    print(applied is not None, rss() - before)
    """
)


def kept_after_free(top_pad: int) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", KEPT_AFTER_FREE, str(top_pad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] == "True", int(out[1])


@needs_glibc
def test_tuned_malloc_keeps_a_freed_block_for_the_next_request() -> None:
    applied, kept = kept_after_free(64 << 20)
    assert applied
    assert kept >= 12 << 20  # the 16 MiB stay mapped, ready for reuse


@needs_glibc
def test_zero_leaves_glibc_defaults_which_give_the_block_back() -> None:
    applied, kept = kept_after_free(0)
    assert not applied
    assert kept < 4 << 20  # unmapped on free: the next request faults it in again


@needs_glibc
def test_values_follow_the_top_pad_and_respect_glibc_limits() -> None:
    script = (
        "from service.allocator import tune_malloc; "
        "print(tune_malloc(8 << 20), tune_malloc(256 << 20))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    small = {"top_pad": 8 << 20, "trim_threshold": 16 << 20, "mmap_threshold": 8 << 20}
    large = {"top_pad": 256 << 20, "trim_threshold": 512 << 20, "mmap_threshold": 32 << 20}
    assert out.strip() == f"{small} {large}"


def test_not_glibc_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert allocator.tune_malloc(64 << 20) is None


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize(("env", "expected"), [(None, 64 << 20), ("1048576", 1 << 20)])
def test_aesvc_serve_applies_the_setting(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    expected: int,
) -> None:
    calls: list[int] = []
    order: list[str] = []

    def tune(pad: int) -> None:
        calls.append(pad)
        order.append("malloc")

    monkeypatch.setattr(allocator, "tune_malloc", tune)
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: order.append("serve"))
    monkeypatch.setenv("AESVC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AESVC_DATABASE_URL", database_url)
    if env is None:
        monkeypatch.delenv("AESVC_MALLOC_TOP_PAD_BYTES", raising=False)
    else:
        monkeypatch.setenv("AESVC_MALLOC_TOP_PAD_BYTES", env)
    result = CliRunner().invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert calls == [expected]
    assert order == ["malloc", "serve"]
