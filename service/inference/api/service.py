"""Inference operations: validate against the version (before anything is queued, so a bad
request fails alone), queue on its batcher, shape the answer."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.database import is_database_unavailable
from service.errors import PayloadTooLarge, Unprocessable
from service.inference.api.schemas import (
    DecodeRequest,
    EncodeRequest,
    GenerateRequest,
    InterpolateRequest,
    ReconstructRequest,
    ScoreRequest,
)
from service.inference.backends.base import Outputs
from service.inference.runtime.cache import LoadedModel
from service.inference.runtime.pending import GoneWatch
from service.zoo.metrics import threshold_for

Gone = GoneWatch | None
NPY_ACCEPT = "Accept: application/x-npy"
Answer = dict[str, Any]  # an operation's answer: the model, the version, its arrays


def _resolve_and_load(ctx: AppContext, name: str, ref: str) -> LoadedModel:
    with ctx.session_factory() as session:
        return ctx.inference()[1].resolve(session, name, ref)


async def served_version(ctx: AppContext, *, name: str, ref: str) -> LoadedModel:
    """The loaded, warm version a {ref} names; a hot {ref} skips the database for
    AESVC_REF_CACHE_S seconds from when it was resolved, and concurrent misses share one
    lookup. While the database is unreachable, a {ref} resolved before to a version still
    loaded keeps serving it (no alias can move meanwhile); any other answers 503."""
    _, cache = ctx.inference()
    hit = cache.lookup_ref(name, ref, ctx.settings.ref_cache_s)
    if hit is not None:
        return hit
    lookup = ctx.ref_lookups.get((name, ref))
    if lookup is None:
        lookup = ctx.ref_lookups[name, ref] = asyncio.ensure_future(_look_up(ctx, name, ref))
    return await asyncio.shield(lookup)  # a caller that leaves does not cancel the others'


async def _look_up(ctx: AppContext, name: str, ref: str) -> LoadedModel:
    _, cache = ctx.inference()
    try:  # the cache remembers the answer for `ref`
        return await run_in_threadpool(_resolve_and_load, ctx, name, ref)
    except Exception as exc:
        stale = cache.lookup_ref(name, ref, math.inf) if is_database_unavailable(exc) else None
        if stale is None:
            raise
        return stale
    finally:  # the next miss looks up afresh
        del ctx.ref_lookups[name, ref]


def to_matrix(rows: Any, *, n_columns: int, field: str, max_rows: int) -> np.ndarray:
    """(n, n_columns) float32 with finite values, or a 422 that says what was expected."""
    expected = f"expected shape (n, {n_columns}) with 1 <= n <= {max_rows}"
    if isinstance(rows, np.ndarray):
        array = rows
    else:
        if not rows:
            raise Unprocessable(field, f"is empty; {expected}")
        widths = {len(row) for row in rows}
        if len(widths) != 1:
            raise Unprocessable(field, f"rows have different lengths {sorted(widths)}; {expected}")
        with np.errstate(over="ignore"):  # 1e39 becomes inf, reported below as non-finite
            array = np.asarray(rows, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != n_columns or array.shape[0] == 0:
        raise Unprocessable(field, f"got shape {tuple(array.shape)}; {expected}")
    if array.shape[0] > max_rows:
        raise PayloadTooLarge(
            f"{field}: {array.shape[0]} rows is over the limit of {max_rows} rows a request "
            "(AESVC_MAX_REQUEST_ROWS); split the request",
            limit_rows=max_rows,
        )
    array = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(array)  # vectorised: faster than a check of the sum
    if finite.all():
        return array
    row = int(np.flatnonzero(~finite.all(axis=1))[0])
    raise Unprocessable(
        field,
        f"{int(finite.size - np.count_nonzero(finite))} NaN or infinite values; the first in "
        f"row {row}; {expected} and finite values",
    )


def check_range(value: int, *, field: str, low: int, high: int) -> None:
    if not low <= value <= high:
        raise Unprocessable(field, f"got {value}; expected {low} <= {field} <= {high}")


# The most bytes a float32 value takes in a JSON answer (orjson: "-1.1754944e-38" and its
# comma); in an .npy answer, 4.
JSON_VALUE_BYTES, NPY_VALUE_BYTES = 16, 4


def check_answer(
    ctx: AppContext, rows: int, width: int, field: str, value_bytes: int = JSON_VALUE_BYTES
) -> None:
    """Refuse a request whose answer would pass the body limit (rows x width values of
    `value_bytes` each): a short request of codings or a small `n` can ask for gigabytes,
    and a JSON answer takes up to four times the bytes of its float32 values. For decode,
    generate and interpolate; the other operations answer about the rows they were sent."""
    limit = ctx.settings.max_body_bytes
    size = rows * width * value_bytes
    if size > limit:
        as_npy = "" if value_bytes == NPY_VALUE_BYTES else f", or ask for .npy ({NPY_ACCEPT})"
        raise Unprocessable(
            field,
            f"the answer would hold {rows} rows of {width} values (up to {size} bytes), past "
            f"the limit of {limit} bytes (AESVC_MAX_BODY_BYTES): ask for at most "
            f"{max(1, limit // (value_bytes * width))} rows at a time{as_npy}",
        )


def served(loaded: LoadedModel, **arrays: Any) -> Answer:
    return {"model": loaded.name, "version": loaded.version, **arrays}


def rows_of(ctx: AppContext, loaded: LoadedModel, rows: Any, field: str) -> np.ndarray:
    width = loaded.code_size if field == "codings" else loaded.n_features
    return to_matrix(rows, n_columns=width, field=field, max_rows=ctx.settings.max_request_rows)


async def run(
    ctx: AppContext, loaded: LoadedModel, operation: str, x: np.ndarray, gone: Gone, **kw: Any
) -> Outputs:
    return await ctx.inference()[0].batcher(loaded, operation)(x, gone=gone, **kw)


async def encode(
    ctx: AppContext, loaded: LoadedModel, body: EncodeRequest, gone: Gone, value_bytes: int
) -> Answer:
    x = rows_of(ctx, loaded, body.inputs, "inputs")
    if body.sample and not loaded.variational:
        raise Unprocessable(
            "sample", "only a variational model (kind 'vae') can sample codings; expected false"
        )
    outputs = await run(ctx, loaded, "encode", x, gone)
    if not loaded.variational:
        return served(loaded, codings=outputs[0])
    codings, log_var = outputs  # the mean and the log-variance, (n, code_size) each
    if body.sample:
        noise = np.random.default_rng(body.seed).standard_normal(codings.shape, dtype=np.float32)
        codings = codings + noise * np.exp(0.5 * log_var)
    return served(loaded, codings=codings, log_var=log_var)


async def decode(
    ctx: AppContext, loaded: LoadedModel, body: DecodeRequest, gone: Gone, value_bytes: int
) -> Answer:
    z = rows_of(ctx, loaded, body.codings, "codings")
    check_answer(ctx, len(z), loaded.n_features, "codings", value_bytes)
    (outputs,) = await run(ctx, loaded, "decode", z, gone)
    return served(loaded, outputs=outputs)


async def reconstruct(
    ctx: AppContext, loaded: LoadedModel, body: ReconstructRequest, gone: Gone, value_bytes: int
) -> Answer:
    x = rows_of(ctx, loaded, body.inputs, "inputs")
    recon, errors, _ = await run(ctx, loaded, "reconstruct", x, gone)
    return served(loaded, reconstructions=recon, errors=errors)


def threshold_of(loaded: LoadedModel, body: ScoreRequest) -> float:
    """The request's threshold, the one its contamination gives, or the version's own."""
    if body.threshold is not None and body.contamination is not None:
        raise Unprocessable("threshold", "give threshold or contamination, not both")
    if body.threshold is not None:
        return body.threshold
    if body.contamination is not None:
        quantiles = loaded.metrics.get("score_quantiles")
        if quantiles is None:
            raise Unprocessable(
                "contamination",
                "this version recorded no score quantiles (trained before they were, or "
                "imported without them in its metrics): give a threshold instead",
            )
        return threshold_for(quantiles, body.contamination)
    stored = loaded.metrics.get("threshold")
    if stored is None:
        raise Unprocessable(
            "version",
            "this version recorded no anomaly threshold (imported without metrics): give a "
            "threshold, or import it with its metrics (the version's own, as GET answers them)",
        )
    return float(stored)


async def score(
    ctx: AppContext, loaded: LoadedModel, body: ScoreRequest, gone: Gone, value_bytes: int
) -> Answer:
    x = rows_of(ctx, loaded, body.inputs, "inputs")
    threshold = threshold_of(loaded, body)
    (scores,) = await run(ctx, loaded, "score", x, gone)
    is_anomaly = ~(scores <= threshold)  # a NaN error (inf - inf) is anomalous too
    return served(loaded, scores=scores, threshold=threshold, is_anomaly=is_anomaly)


def sample_codings(loaded: LoadedModel, *, n: int, seed: int | None) -> tuple[np.ndarray, str]:
    """A VAE: its prior N(0, I). Any other model: the Gaussian fitted to its training codings."""
    rng = np.random.default_rng(seed)
    if loaded.variational:
        return rng.standard_normal((n, loaded.code_size), dtype=np.float32), "prior"
    mean, cov = loaded.metrics.get("coding_mean"), loaded.metrics.get("coding_cov")
    if mean is None or cov is None:
        raise Unprocessable(
            "n",
            "this version recorded no coding statistics to sample from; expected a VAE, "
            "a version trained by this service, or an import with its metrics "
            "(coding_mean, coding_cov)",
        )
    z = rng.multivariate_normal(
        np.asarray(mean, dtype=np.float64),
        np.asarray(cov, dtype=np.float64),
        size=n,
        method="eigh",  # a covariance of rank < code_size (collapsed codings) still works
        check_valid="ignore",
    )
    return np.ascontiguousarray(z, dtype=np.float32), "fitted_gaussian"


async def generate(
    ctx: AppContext, loaded: LoadedModel, body: GenerateRequest, gone: Gone, value_bytes: int
) -> Answer:
    check_range(body.n, field="n", low=1, high=ctx.settings.max_generate)
    check_answer(ctx, body.n, loaded.n_features, "n", value_bytes)
    z, method = sample_codings(loaded, n=body.n, seed=body.seed)
    (samples,) = await run(ctx, loaded, "decode", z, gone)
    return served(loaded, samples=samples, method=method)


async def interpolate(
    ctx: AppContext, loaded: LoadedModel, body: InterpolateRequest, gone: Gone, value_bytes: int
) -> Answer:
    check_range(body.steps, field="steps", low=2, high=ctx.settings.max_interpolate_steps)
    check_answer(ctx, body.steps, loaded.n_features, "steps", value_bytes)
    width = loaded.n_features
    start = to_matrix([body.start], n_columns=width, field="start", max_rows=1)
    ends = np.concatenate([start, to_matrix([body.end], n_columns=width, field="end", max_rows=1)])
    # one request: its decode counts in the statistics, not this
    codings = (await run(ctx, loaded, "encode", ends, gone, counted=False))[0]  # VAE: the means
    t = np.linspace(0.0, 1.0, body.steps, dtype=np.float32)[:, None]  # (steps, 1)
    z = np.ascontiguousarray((1 - t) * codings[0] + t * codings[1], dtype=np.float32)
    (outputs,) = await run(ctx, loaded, "decode", z, gone)
    return served(loaded, outputs=outputs)
