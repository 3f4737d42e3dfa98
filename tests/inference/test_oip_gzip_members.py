"""A gzip body is a series of members (RFC 1952 2.2, what `gzip.decompress` and Triton
read): all of them are read, and bytes after the stream that are no member are a 400."""

from __future__ import annotations

import gzip

import pytest

from service.inference.oip.tensors import OipError, decoded


def test_a_multi_member_gzip_body_is_read_whole() -> None:
    head, rest = b'{"inputs": [{"name": "input", ', b'"shape": [1, 2]}]}'
    body = gzip.compress(head) + gzip.compress(rest)
    assert decoded(body, "gzip", 1 << 20) == head + rest


def test_bytes_after_the_gzip_stream_are_not_silently_dropped() -> None:
    body = gzip.compress(b'{"inputs": []}') + b"\x00trailing binary tensor bytes"
    with pytest.raises(OipError):
        decoded(body, "gzip", 1 << 20)
