"""Exports downloaded at once and conditionally: concurrent first downloads of an export not
cached yet get the one file the cache keeps (each waiting request built its own: it re-checked
the cache in a read transaction older than the first builder's commit, and TorchScript
archives differ from one trace to the next); If-None-Match takes the weak form of the tag
(what a compressing proxy hands back; RFC 9110's weak comparison) and `*`, as every JSON
resource under /v1 does."""

from __future__ import annotations

import concurrent.futures
import hashlib

from fastapi.testclient import TestClient

from tests.registry.builders import import_model

URL = "/v1/models/conv-m/versions/1/artifact"
PARAMS = {"format": "torchscript", "part": "full"}
V1 = "/v1/models/tagged/versions/1"


def test_concurrent_first_downloads_of_an_export_get_the_one_kept_file(
    client: TestClient,
) -> None:
    import_model(
        client, "conv-m", kind="conv", n_features=16, image_shape=(4, 4, 1), conv_channels=[2]
    )
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.get(URL, params=PARAMS), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    for answer in answers:  # each answer is self-consistent
        assert hashlib.sha256(answer.content).hexdigest() == answer.headers["x-checksum-sha256"]
    kept = client.get(URL, params=PARAMS).headers["x-checksum-sha256"]
    got = [a.headers["x-checksum-sha256"] for a in answers]
    assert got == [kept] * 4, f"kept {kept[:12]}, answered {[g[:12] for g in got]}"


def test_if_none_match_with_the_weak_tag_or_star_is_a_304(client: TestClient) -> None:
    import_model(client, "tagged")
    # what the JSON resources do with the same headers
    version = client.get(V1)
    assert (
        client.get(V1, headers={"If-None-Match": f"W/{version.headers['etag']}"}).status_code == 304
    )
    assert client.get(V1, headers={"If-None-Match": "*"}).status_code == 304
    for params in ({}, {"format": "onnx", "part": "encoder"}):
        first = client.get(f"{V1}/artifact", params=params)
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        same = client.get(f"{V1}/artifact", params=params, headers={"If-None-Match": etag})
        assert same.status_code == 304
        weak = client.get(f"{V1}/artifact", params=params, headers={"If-None-Match": f"W/{etag}"})
        assert weak.status_code == 304, (params, weak.status_code)
        star = client.get(f"{V1}/artifact", params=params, headers={"If-None-Match": "*"})
        assert star.status_code == 304, (params, star.status_code)
